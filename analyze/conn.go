package analyze

import (
	"net/netip"
	"time"

	"github.com/h2pcap/h2pcap/analyze/app"
	"github.com/h2pcap/h2pcap/analyze/notice"
	"github.com/h2pcap/h2pcap/analyze/plot"
	"github.com/h2pcap/h2pcap/analyze/tcp"
	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/decode/h2"
	"github.com/h2pcap/h2pcap/model"
)

// Sides. A connection's endpoints are tracked as side 0 (the sender of the
// first segment seen) and side 1 until the Report maps them to client and
// server: roles may only be known after several segments (a SYN-ACK, the
// first payload), and this way no segment needs to be buffered.
const (
	sideA = 0
	sideB = 1
)

// sideState is what the later stages keep per side of a connection,
// beside the TCP tracker's Flow.
type sideState struct {
	sniffed bool      // the stream's first captured payload was looked at
	sniff   app.Sniff // what it looked like
}

// conn is one TCP connection: one tshark tcp.stream. Its trackers are in
// connState, built at its first segment, or for a connection that is only
// a SYN so far when a second segment comes (half.go).
type conn struct {
	// The fields holding pointers come first: the collector scans an
	// object up to its last pointer, and a SYN scan holds a million of
	// these (the scalars after them are never scanned).
	*connState                   // nil while the connection is a lone SYN (half.go)
	nt         *notice.Noticer   // the analyzer's, nil without OnNotice
	sh         *shardConn        // what the reader keeps of it in a sharded analysis; nil without
	ep         [2]netip.AddrPort // ep[sideA] sent the first segment seen
	start      time.Time
	// endOff is the last segment's time past start (endTime): 8 bytes,
	// not a Time's 24.
	endOff time.Duration

	stream                int
	firstFrame, lastFrame int
	firstInput, lastInput int32 // a capture is not 2^31 files

	closedNoted bool // counted closed (Analyzer.OpenConns)
	// probeSYN: opened by a SYN with a probe's TTL (verdict.ProbeSYN):
	// the notices tell nothing of it, and an ICMP error quoting that SYN
	// ends it.
	probeSYN  bool
	forgotten bool // judged healthy after its close and dropped
	pending   bool // due at the last sweep, in forgetter.pending
	// settled: judged not healthy after its close, its row and facts
	// made then (Analyzer.settle) and its trackers freed.
	settled bool
	// sealed: judged not healthy after its close as settled would be,
	// on workers (which settle nothing): its trackers stay, but what
	// comes for it later is counted late as for a settled one
	// (Analyzer.seal).
	sealed     bool
	rowSpilled bool // its JSON row went to the spill file when it was judged (verdict.Later)
	// placed is what a multi-point Placer found of it at its retirement
	// (Analyzer.Placed): 0 not yet, placedClean, placedDirty.
	placed int8

	half halfSYN // that SYN
}

// connState is what a connection's stages keep: about 3 KB, which a SYN
// nothing answers never needs (half.go).
type connState struct {
	tcp tcp.Conn // the TCP tracker: Wireshark's analysis, per side
	hs  handshakeWatch
	dir [2]sideState

	rst, fin closeMark
	vt       verdict.Tracker // what the verdict needs beyond the counters
	plot     *plot.Recorder  // the pictures' points; nil unless Options.Plot

	events        []model.Event // Dir holds the side until the Report maps it
	eventsDropped int
	maxEvents     int

	app app.State // the application analysis: TLS, HTTP/2, PINGs

	notes *notice.State // notice state; nil without OnNotice (it is live's alone)
}

// closeMark remembers the first segment with RST or FIN.
type closeMark struct {
	seen  bool
	side  int
	frame int
	input int
}

// newConn is the connection s opens, without its trackers (Analyzer.build).
func newConn(stream int, s *decode.Segment) *conn {
	return &conn{
		stream:     stream,
		ep:         [2]netip.AddrPort{s.Src, s.Dst},
		firstFrame: s.Frame,
		firstInput: int32(s.Input),
		lastFrame:  s.Frame,
		lastInput:  int32(s.Input),
		start:      s.Time,
		probeSYN:   verdict.ProbeSYN(s),
	}
}

// endTime is the time of c's last segment.
func (c *conn) endTime() time.Time { return c.start.Add(c.endOff) }

// side returns which side sent s.
func (c *conn) side(s *decode.Segment) int {
	if s.Src == c.ep[sideA] {
		return sideA
	}
	return sideB
}

// since is t.Sub(start), without Sub's check for a result past its range
// (an Add and an Equal, a tenth of a short segment's TCP stage) where
// the two are within 2^33 s of each other and the difference cannot
// overflow.
func since(t, start time.Time) time.Duration {
	if d := t.Unix() - start.Unix(); d > -1<<33 && d < 1<<33 {
		return time.Duration(d)*time.Second + time.Duration(t.Nanosecond()-start.Nanosecond())
	}
	return t.Sub(start)
}

// segment takes one segment of this connection, in capture order, through
// the stages in order: the TCP tracker classifies it, the verdict tracker
// notes what the judgement will need, its events are kept, and its
// payload goes on to the application analysis.
func (c *conn) segment(s *decode.Segment) tcp.Flags {
	side := c.side(s)
	c.lastFrame, c.lastInput, c.endOff = s.Frame, int32(s.Input), since(s.Time, c.start)

	f := c.tcp.Segment(side, s)
	c.hs.note(side, s.Flags)
	c.vt.Segment(side, s, f, c.tcp.Flow(side), c.tcp.Flow(1-side))
	c.plot.Segment(side, s, f, c.tcp.Flow(side), c.tcp.Flow(1-side))
	c.record(side, s, f)
	if len(s.Options.SACK) > 0 && s.Flags.Has(decode.FlagACK) {
		c.dsack(side, s)
	}
	c.dir[side].sniffStart(c.tcp.Flow(side), s)
	c.app.Segment(side, c.tcp.Flow(side), s)
	return f
}

// sniffStart looks at the first bytes of this direction's byte stream to
// tell the application: the segment right after the SYN, whenever it
// arrives (it may be overtaken), or without a SYN the first payload seen.
// A SYN's own data (TCP Fast Open) is the start too.
func (d *sideState) sniffStart(fl *tcp.Flow, s *decode.Segment) {
	if d.sniffed || len(s.Payload) == 0 {
		return
	}
	start, known := fl.Start()
	if s.Flags.Has(decode.FlagSYN) || !known || tcp.Seq(s.Seq) == start {
		d.sniffed = true
		d.sniff = app.SniffPayload(s.Payload)
	}
}

// record keeps the events of a classified segment and its close marks.
func (c *conn) record(side int, s *decode.Segment, f tcp.Flags) {
	for k := range f.EventKinds() {
		c.event(side, s, k)
	}
	if s.Flags.Has(decode.FlagRST) {
		c.event(side, s, model.EvRST)
		if !c.rst.seen {
			c.rst = closeMark{true, side, s.Frame, s.Input}
		}
	}
	if s.Flags.Has(decode.FlagFIN) {
		c.event(side, s, model.EvFIN)
		if !c.fin.seen {
			c.fin = closeMark{true, side, s.Frame, s.Input}
		}
	}
}

// event stores one event, up to the per-connection cap.
func (c *conn) event(side int, s *decode.Segment, k model.EventKind) {
	if len(c.events) >= c.maxEvents {
		c.eventsDropped++
		return
	}
	unseen, peerMissing, answered, late := c.vt.Marks(side)
	c.events = append(c.events, model.Event{
		Input: s.Input,
		Frame: s.Frame,
		Time:  s.Time,
		Dir:   model.Direction(side),
		Kind:  k,
		Seq:   c.tcp.Flow(side).Relative(s.Seq), // tshark's relative tcp.seq
		Len:   s.PayloadLen,
		TTL:   int(s.TTL),
		IPID:  int(s.IPID),

		Unseen:      unseen,
		PeerMissing: peerMissing,
		Answered:    answered,
		Late:        late,
	})
}

// dsack marks the copy an ACK's D-SACK reports (RFC 2883: a first SACK
// block below the cumulative ACK, or inside the second block) as a
// duplicate: the latest event of the other direction's copies within
// the block, for each of its bytes.
func (c *conn) dsack(side int, s *decode.Segment) {
	b := s.Options.SACK
	if !isDSACK(b, tcp.Seq(s.Ack)) {
		return
	}
	lo, hi := tcp.Seq(b[0].Left), tcp.Seq(b[0].Right)
	peer := c.tcp.Flow(1 - side)
	rlo := peer.Relative(b[0].Left)
	size := lo.Size(hi)
	// Ranges already given to a later copy, in the order found.
	taken := make([][2]uint32, 0, 32)
	for i, looked := len(c.events)-1, 0; i >= 0 && looked < verdict.MaxDSACKScan; i, looked = i-1, looked+1 {
		e := &c.events[i]
		if s.Time.Sub(e.Time) > verdict.DSACKWithin {
			break
		}
		if e.Dir != model.Direction(1-side) || e.Len == 0 {
			continue
		}
		switch e.Kind {
		case model.EvRetransmission, model.EvFastRetransmission, model.EvSpuriousRetrans, model.EvOutOfOrder:
		default:
			continue
		}
		off := e.Seq - rlo // wraps above size when e starts before the block
		if off >= size || uint32(e.Len) > size-off {
			continue
		}
		end := e.Seq + uint32(e.Len)
		later := false
		for _, r := range taken {
			if int32(e.Seq-r[1]) < 0 && int32(r[0]-end) < 0 {
				later = true
				break
			}
		}
		if later {
			continue
		}
		e.DSACKed = true
		taken = append(taken, [2]uint32{e.Seq, end})
	}
}

// isDSACK says whether an ACK's SACK blocks (at least one) open with a
// D-SACK (RFC 2883): a first block, not empty, below the cumulative ACK
// or inside the second block.
func isDSACK(b []decode.SACKBlock, ack tcp.Seq) bool {
	lo, hi := tcp.Seq(b[0].Left), tcp.Seq(b[0].Right)
	switch {
	case !hi.GreaterThan(lo):
		return false
	case lo.LessThan(ack):
		return true
	}
	return len(b) > 1 && !tcp.Seq(b[1].Left).GreaterThan(lo) && !tcp.Seq(b[1].Right).LessThan(hi)
}

// The conn is the Host of its application analysis.

// ClientSide is the side taken for the client now.
func (c *conn) ClientSide() int {
	client, _ := c.Roles()
	return client
}

// IRTT is the handshake's round trip, 0 when unknown.
func (c *conn) IRTT() time.Duration { return c.tcp.IRTT() }

// PingAck and Goaway pass the frames on to the live notices, once the
// connection's HTTP/2 was told.
func (c *conn) PingAck(side int, f *h2.Frame) {
	if c.nt != nil && c.notes.HTTP2Told() {
		c.noticePingAck(side, f)
	}
}

func (c *conn) Goaway(side int, f *h2.Frame) {
	c.plot.Goaway(side, f.Meta)
	if c.nt != nil && c.notes.HTTP2Told() {
		c.noticeGoaway(side, f)
	}
}

// RaftLeader and GRPCCall pass an etcd member's leadership and a gRPC
// call's end on to the live notices.
func (c *conn) RaftLeader(side int, member, term uint64, at h2.Meta) {
	if c.nt != nil {
		c.nt.TellRaftLeader(c, side, member, term, at)
	}
}

func (c *conn) GRPCCall(method, code string, at h2.Meta) {
	if c.nt != nil {
		c.nt.TellGRPCCall(c, method, code, at)
	}
}

// Roles decides which side is the client, and by which rule (app.Roles).
func (c *conn) Roles() (client int, rule string) {
	return app.Roles(&c.tcp, [2]app.Sniff{c.dir[sideA].sniff, c.dir[sideB].sniff}, c.ep)
}
