package analyze

import (
	"math"
	"net/netip"
	"time"

	"github.com/h2pcap/h2pcap/decode"
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

// Wireshark's window scale sentinels (tcp_flow_t.win_scale).
const (
	wscaleUnknown  = -1 // no SYN seen: the window-full check is skipped
	wscaleDisabled = -2 // scaling not negotiated: windows are taken as is
)

// dupAckUnseen is the dup-ACK count after an ACKed-unseen report. The C
// code stores -1 in a guint32, so it also passes the "at least 2 dup ACKs"
// test of a fast retransmission; tshark shows that, and so must we.
const dupAckUnseen = math.MaxUint32

const (
	// fastRetransWindow is how soon after the last duplicate ACK a
	// retransmission counts as fast (20 ms in tcp_analyze_sequence_number).
	fastRetransWindow = 20 * time.Millisecond
	// defaultOOOThreshold is the out-of-order threshold while the iRTT is
	// unknown (3 ms in tcp_analyze_sequence_number).
	defaultOOOThreshold = 3 * time.Millisecond
)

// dirState is one direction of a connection: the segments one side sends.
// The first block mirrors Wireshark's tcp_flow_t and
// tcp_analyze_seq_flow_info_t, with their conventions kept on purpose (a
// nextSeq or lastAck of 0 means "not known yet", as the C code tests them for
// truth), because agreeing with tshark on odd captures depends on them.
type dirState struct {
	baseSeq         uint32 // tcp.seq is Seq-baseSeq
	baseSet         bool   // TCP_S_BASE_SEQ_SET
	nextSeq         uint32 // highest seq+len seen (+1 for SYN/FIN); 0: unknown
	nextSeqNS       int64  // when nextSeq last moved
	lastAck         uint32
	lastAckNS       int64 // time of this side's last segment
	window          uint32
	maxSeqToBeAcked uint32
	dupAckNum       uint32 // dupAckUnseen: an ACKed-unseen was reported, no dup ACK since
	lastFlags       SegmentFlags
	winScale        int
	isFirstAck      bool // a SYN was sent and no ACK since: the window is unscaled
	unacked         unackedSet

	// Handshake options from this side's SYN or SYN-ACK.
	sentSYN    bool // pure SYN
	sentSYNAck bool
	mss        int
	wscaleOpt  int
	sackPerm   bool

	start      uint32 // first byte of the stream (ISN+1), once a SYN was seen
	startKnown bool
	sniffed    bool  // the stream's first captured payload was looked at
	sniff      sniff // what it looked like

	stats model.DirStats

	vt dirTrack // what the verdict needs beyond the counters (verdict_track.go)
}

func (d *dirState) init() {
	// init_tcp_conversation_data: the window starts at G_MAXUINT32 so the
	// first segment is never a duplicate ACK; the scale is unknown until a
	// SYN says otherwise (packet.c sets src/dst_win_scale to -1).
	d.window = math.MaxUint32
	d.winScale = wscaleUnknown
	d.wscaleOpt = -1
}

// conn is one TCP connection: one tshark tcp.stream.
type conn struct {
	stream int
	ep     [2]netip.AddrPort // ep[sideA] sent the first segment seen
	dir    [2]dirState

	// Conversation-wide Wireshark state (struct tcp_analysis).
	mruSYNNS   int64 // ts_mru_syn: time of the latest pure SYN; 0: none
	firstRTTNS int64 // ts_first_rtt, the iRTT; 0: not known

	synSide    int // side that sent the first pure SYN, or -1
	synAckSide int // side that sent the first SYN-ACK, or -1

	firstFrame, lastFrame int
	firstInput, lastInput int
	start, end            time.Time

	rst, fin closeMark
	vt       connTrack // verdict state (verdict_track.go)

	events        []model.Event // Dir holds the side until the Report maps it
	eventsDropped int
	maxEvents     int

	h2       *h2conn // HTTP/2 analysis; nil until the first payload, or when not HTTP/2
	h2off    bool    // found not to be HTTP/2
	h2forced bool    // a port is in Options.H2Ports
	keys     *keyRef // the analyzer's key log (tls.go)

	nt          *noticer    // the analyzer's, nil without OnNotice (notice_track.go)
	notes       connNotices // notice state
	closedNoted bool        // counted closed (Analyzer.OpenConns)
	forgotten   bool        // judged healthy after its close and dropped
}

// closeMark remembers the first segment with RST or FIN.
type closeMark struct {
	seen  bool
	side  int
	frame int
	input int
}

func newConn(stream int, s *decode.Segment, maxEvents int) *conn {
	c := &conn{
		stream:     stream,
		ep:         [2]netip.AddrPort{s.Src, s.Dst},
		synSide:    -1,
		synAckSide: -1,
		firstFrame: s.Frame,
		firstInput: s.Input,
		start:      s.Time,
		maxEvents:  maxEvents,
	}
	c.notes.openIdx = -1
	c.dir[sideA].init()
	c.dir[sideB].init()
	return c
}

// side returns which side sent s.
func (c *conn) side(s *decode.Segment) int {
	if s.Src == c.ep[sideA] {
		return sideA
	}
	return sideB
}

// segment takes one segment of this connection, in capture order. It
// follows dissect_tcp's order of work: base sequence numbers, then
// tcp_analyze_sequence_number, then the SYN/ACK bookkeeping (iRTT,
// is_first_ack), then the options (window scale), so that each rule sees the
// state Wireshark's would.
func (c *conn) segment(s *decode.Segment) SegmentFlags {
	side := c.side(s)
	fwd, rev := &c.dir[side], &c.dir[1-side]
	now := s.Time.UnixNano()

	c.lastFrame, c.lastInput, c.end = s.Frame, s.Input, s.Time

	syn := s.Flags.Has(decode.FlagSYN)
	ack := s.Flags.Has(decode.FlagACK)

	// A SYN-ACK with a new ISN on a known conversation moves the base
	// (issue 16944 in dissect_tcp); it does not start a new stream.
	if syn && ack && fwd.baseSet && s.Seq != fwd.baseSeq {
		fwd.baseSeq = s.Seq
	}
	// Base sequence numbers: the ISN from a SYN, else seq-1 so the first
	// byte seen is relative 1; the other side's from the first ACK.
	if !fwd.baseSet {
		if syn {
			fwd.baseSeq = s.Seq
		} else {
			fwd.baseSeq = s.Seq - 1
		}
		fwd.baseSet = true
	}
	if !rev.baseSet && ack {
		rev.baseSeq = s.Ack - 1
		rev.baseSet = true
	}

	f := c.analyze(fwd, rev, s, now)

	// After the analysis, as in dissect_tcp: a pure SYN restarts the iRTT
	// clock; the first segment with ACK and without SYN ends it.
	if syn {
		if ack {
			if c.synAckSide < 0 {
				c.synAckSide = side
			}
			if !fwd.sentSYNAck {
				fwd.sentSYNAck = true
				fwd.handshakeOptions(s)
			}
		} else {
			if c.synSide < 0 {
				c.synSide = side
			}
			if !fwd.sentSYN {
				fwd.sentSYN = true
				fwd.handshakeOptions(s)
			}
			c.mruSYNNS = now
		}
		fwd.isFirstAck = true
	}
	if ack && !syn {
		if c.mruSYNNS != 0 && c.firstRTTNS == 0 {
			c.firstRTTNS = now - c.mruSYNNS
		}
		fwd.isFirstAck = false
	}

	// Options are dissected after the analysis. Wireshark stores a window
	// scale option from any segment, clamped to 14 (RFC 1323), and then on
	// a SYN checks that both sides offered it (verify_tcp_window_scaling).
	if ws := int(s.Options.WindowScale); ws >= 0 {
		fwd.winScale = min(ws, 14)
	}
	if syn {
		if fwd.winScale == wscaleUnknown {
			fwd.winScale, rev.winScale = wscaleDisabled, wscaleDisabled
		} else if ack && rev.winScale == wscaleDisabled {
			fwd.winScale = wscaleDisabled
		}
	}

	c.observe(side, fwd, rev, s, f, now)
	c.count(side, fwd, s, f)
	fwd.sniffStart(s, syn)
	c.deliver(side, fwd, s)
	return f
}

// sniffStart looks at the first bytes of this direction's byte stream to
// tell the application: the segment right after the SYN, whenever it
// arrives (it may be overtaken), or without a SYN the first payload seen.
// A SYN's own data (TCP Fast Open) is the start too.
func (d *dirState) sniffStart(s *decode.Segment, syn bool) {
	if syn && !d.startKnown {
		d.start, d.startKnown = s.Seq+1, true
	}
	if d.sniffed || len(s.Payload) == 0 {
		return
	}
	if syn || !d.startKnown || s.Seq == d.start {
		d.sniffed = true
		d.sniff = sniffPayload(s.Payload)
	}
}

// handshakeOptions records what a SYN or SYN-ACK offered.
func (d *dirState) handshakeOptions(s *decode.Segment) {
	d.mss = int(s.Options.MSS)
	d.wscaleOpt = int(s.Options.WindowScale)
	d.sackPerm = s.Options.SACKPermitted
}

// deliver hands every segment, after the TCP analysis, to the HTTP/2
// analysis (h2conn.go). Every one: its own reassembler turns retransmitted,
// overlapping and out-of-order payload into the in-order byte stream, and
// ACKs and FINs matter to it too. It never changes the TCP state.
func (c *conn) deliver(side int, d *dirState, s *decode.Segment) {
	c.h2segment(side, d, s)
}

// analyze is Wireshark 4.0.17's tcp_analyze_sequence_number: it classifies
// one segment against the state of both directions and moves the state of
// its own. seq and ack are absolute, and every comparison wraps as the C
// code's does. The order of the checks matters and is the C code's; each
// phase is a method below.
func (c *conn) analyze(fwd, rev *dirState, s *decode.Segment, now int64) SegmentFlags {
	seg := segInfo{
		seq:       s.Seq,
		ack:       s.Ack,
		len:       uint32(s.PayloadLen),
		window:    uint32(s.Window),
		synFin:    s.Flags&(decode.FlagSYN|decode.FlagFIN) != 0,
		synFinRst: s.Flags&(decode.FlagSYN|decode.FlagFIN|decode.FlagRST) != 0,
		rst:       s.Flags.Has(decode.FlagRST),
		ackFlag:   s.Flags.Has(decode.FlagACK),
	}
	f := seg.windowAndAckFlags(fwd, rev)
	f |= seg.ackedUnseen(fwd, rev)
	f |= c.retransmission(&seg, fwd, rev, now, f)
	seg.advance(fwd, rev, now, f)
	return f
}

// segInfo is what the analysis reads from a segment.
type segInfo struct {
	seq, ack, len, window  uint32
	synFin, synFinRst, rst bool
	ackFlag                bool
}

// windowAndAckFlags runs the checks up to the duplicate ACK. A zero window
// probe, a keep-alive ACK and a zero-window-probe ACK end them early (the
// C code's goto finished_fwd).
func (g *segInfo) windowAndAckFlags(fwd, rev *dirState) SegmentFlags {
	var f SegmentFlags
	// Zero window probe: one byte at the next expected sequence number
	// while the peer advertises a zero window.
	if g.len == 1 && g.seq == fwd.nextSeq && rev.window == 0 {
		return FlagZeroWindowProbe
	}
	if g.window == 0 && !g.synFinRst {
		f |= FlagZeroWindow
	}
	// Previous segment not captured: this one starts beyond the highest
	// sequence number seen. RSTs are exempt (RFC 793 lets them carry any
	// acceptable seq).
	if fwd.nextSeq != 0 && seqGT(g.seq, fwd.nextSeq) && !g.rst {
		f |= FlagLostSegment
	}
	// Keep-alive: 0 or 1 byte one before the next expected byte. nextSeq-1
	// is computed even when nextSeq is unknown (0), as Wireshark does.
	if g.len <= 1 && g.seq == fwd.nextSeq-1 && !g.synFinRst {
		f |= FlagKeepAlive
	}
	if g.len == 0 && g.window != 0 && g.window != fwd.window &&
		g.seq == fwd.nextSeq && g.ack == fwd.lastAck && !g.synFinRst {
		f |= FlagWindowUpdate
	}
	// Window full: the data reaches the right edge of the peer's window.
	// The peer's window is unscaled while it has sent a SYN and no ACK yet
	// (is_first_ack, issue 14690) or when scaling is off.
	if g.len > 0 && rev.winScale != wscaleUnknown && !g.synFinRst {
		shift := uint(0)
		if !rev.isFirstAck && rev.winScale != wscaleDisabled {
			shift = uint(rev.winScale)
		}
		if g.seq+g.len == rev.lastAck+(rev.window<<shift) {
			f |= FlagWindowFull
		}
	}
	// The rest look at a pure ACK that repeats this side's last one.
	repeat := g.len == 0 && g.window == fwd.window && g.seq == fwd.nextSeq &&
		g.ack == fwd.lastAck && !g.synFinRst
	if !repeat {
		return f
	}
	// Keep-alive ACK and zero-window-probe ACK answer the peer's
	// keep-alive or probe; they win over duplicate ACK.
	if g.window != 0 && rev.lastFlags.Any(FlagKeepAlive) {
		return f | FlagKeepAliveAck
	}
	if g.window == 0 && rev.lastFlags.Any(FlagZeroWindowProbe) {
		return f | FlagZeroWindowProbeAck
	}
	if g.window != 0 {
		if fwd.dupAckNum == dupAckUnseen {
			// An ACKed-unseen report is neutralised by the first dup ACK.
			fwd.dupAckNum = 1
		} else {
			fwd.dupAckNum++
		}
		f |= FlagDupAck
	}
	return f
}

// ackedUnseen resets the dup-ACK count when the ACK moves and reports an
// ACK that covers bytes of the other direction beyond what was seen
// contiguously. maxSeqToBeAcked then jumps ahead so the same gap is
// reported once.
func (g *segInfo) ackedUnseen(fwd, rev *dirState) SegmentFlags {
	// The ack field is compared even without the ACK flag, as in the C code.
	if g.ack != fwd.lastAck {
		fwd.dupAckNum = 0
	}
	if rev.maxSeqToBeAcked == 0 || !seqGT(g.ack, rev.maxSeqToBeAcked) || !g.ackFlag {
		return 0
	}
	if seqLT(rev.maxSeqToBeAcked, rev.nextSeq) {
		rev.maxSeqToBeAcked = rev.nextSeq
		return FlagAckedUnseen
	}
	// The other direction is stalled with pure ACKs: report once per
	// dup-ACK episode (dupAckUnseen marks "already said").
	var f SegmentFlags
	if rev.dupAckNum == 0 {
		f = FlagAckedUnseen
	}
	rev.dupAckNum = dupAckUnseen
	return f
}

// retransmission tells retransmission, fast retransmission, spurious
// retransmission and out-of-order apart: a segment with data (or SYN/FIN)
// that does not advance nextSeq. A keep-alive never is one. f holds the
// flags so far.
func (c *conn) retransmission(g *segInfo, fwd, rev *dirState, now int64, f SegmentFlags) SegmentFlags {
	if !(g.len > 0 || g.synFin) || f.Any(FlagKeepAlive) {
		return 0
	}
	notAdvanced := fwd.nextSeq != 0 && seqLT(g.seq, fwd.nextSeq)
	// More than one byte starting one before nextSeq follows a zero window
	// probe: it brings new data.
	if g.len > 1 && fwd.nextSeq-1 == g.seq {
		notAdvanced = false
	}
	switch {
	case g.len > 0 && rev.lastAck != 0 && seqLE(g.seq+g.len, rev.lastAck):
		// Everything in it was already acknowledged.
		return FlagSpuriousRetransmission
	case notAdvanced && rev.dupAckNum >= 2 && rev.lastAck == g.seq &&
		sinceNS(now, rev.lastAckNS) < uint64(fastRetransWindow):
		return FlagFastRetransmission
	case notAdvanced && sinceNS(now, fwd.nextSeqNS) < c.oooThreshold() &&
		fwd.nextSeq != g.seq+g.len+b2u(g.synFin):
		return FlagOutOfOrder
	case notAdvanced:
		return FlagRetransmission
	}
	return 0
}

// advance moves nextSeq and maxSeqToBeAcked, records the segment as
// unacknowledged, and remembers its ACK, window and flags. A zero window
// probe does not advance: its byte is expected to be refused.
func (g *segInfo) advance(fwd, rev *dirState, now int64, f SegmentFlags) {
	nextSeq := g.seq + g.len
	if (g.len > 0 || g.synFin) && fwd.unacked.len() < maxUnacked {
		nextSeq += b2u(g.synFin)
		fwd.unacked.add(nextSeq)
	}
	probe := f.Any(FlagZeroWindowProbe)
	if (seqGT(nextSeq, fwd.nextSeq) || fwd.nextSeq == 0) && !probe {
		fwd.nextSeq = nextSeq
		fwd.nextSeqNS = now
	}
	if (g.seq == fwd.maxSeqToBeAcked || fwd.maxSeqToBeAcked == 0) && !probe {
		fwd.maxSeqToBeAcked = fwd.nextSeq
	}
	fwd.window = g.window
	fwd.lastAck = g.ack
	fwd.lastAckNS = now
	fwd.lastFlags = f
	// The ack field, ACK flag or not, releases the other direction's
	// unacknowledged segments.
	rev.unacked.ack(g.ack)
}

// oooThreshold is the out-of-order threshold: the iRTT once known, else
// 3 ms. A negative iRTT (capture time going backwards) is taken as a huge
// unsigned value, as Wireshark's guint64 arithmetic does.
func (c *conn) oooThreshold() uint64 {
	if c.firstRTTNS == 0 {
		return uint64(defaultOOOThreshold)
	}
	return uint64(c.firstRTTNS)
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// count updates the counters and events of side for a classified segment.
func (c *conn) count(side int, d *dirState, s *decode.Segment, f SegmentFlags) {
	st := &d.stats
	st.Packets++
	st.Bytes += int64(s.PayloadLen)
	if m := s.Missing(); m > 0 {
		st.MissingBytes += m
	}
	st.SACKBlocks += len(s.Options.SACK)
	if ttl := int(s.TTL); !containsInt(st.TTL, ttl) {
		st.TTL = append(st.TTL, ttl)
	}
	f.count(st)

	if f != 0 {
		if k := retransKind(f); k != "" {
			c.event(side, s, d, k)
		}
		for _, e := range eventKinds {
			if f.Any(e.flag) {
				c.event(side, s, d, e.kind)
			}
		}
	}
	if s.Flags.Has(decode.FlagRST) {
		st.Resets++
		c.event(side, s, d, model.EvRST)
		if !c.rst.seen {
			c.rst = closeMark{true, side, s.Frame, s.Input}
		}
	}
	if s.Flags.Has(decode.FlagFIN) {
		st.Fins++
		c.event(side, s, d, model.EvFIN)
		if !c.fin.seen {
			c.fin = closeMark{true, side, s.Frame, s.Input}
		}
	}
}

// event stores one event, up to the per-connection cap.
func (c *conn) event(side int, s *decode.Segment, d *dirState, k model.EventKind) {
	if len(c.events) >= c.maxEvents {
		c.eventsDropped++
		return
	}
	c.events = append(c.events, model.Event{
		Input: s.Input,
		Frame: s.Frame,
		Time:  s.Time,
		Dir:   model.Direction(side),
		Kind:  k,
		Seq:   s.Seq - d.baseSeq, // tshark's relative tcp.seq
		Len:   s.PayloadLen,
		TTL:   int(s.TTL),
		IPID:  int(s.IPID),

		Unseen:      d.vt.markUnseen,
		PeerMissing: d.vt.markPeerMissing,
		Answered:    d.vt.markAnswered,
	})
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
