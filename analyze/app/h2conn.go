package app

import (
	"slices"
	"time"

	"github.com/h2pcap/h2pcap/analyze/tcp"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/decode/h2"
	"github.com/h2pcap/h2pcap/decode/tls"
	"github.com/h2pcap/h2pcap/internal/warm"
	"golang.org/x/net/http2"
)

// h2Mode is what a connection is known to carry.
type h2Mode uint8

const (
	// h2Maybe: not decided. Frames are decoded tentatively (a capture
	// that began mid-connection is only found by frame sync), and thrown
	// away if the connection turns out to be something else.
	h2Maybe h2Mode = iota
	// h2Yes: the preface, an h2c upgrade, enough frames in step, or
	// Options.H2Ports said so.
	h2Yes
	// h2HTTP1: HTTP/1 without an h2c upgrade in its first segment. Only
	// the starts of segments are looked at, for a client preface: an
	// upgrade whose 101 the capture missed, HTTP/2 inside a CONNECT tunnel.
	h2HTTP1
	// h2No: TLS, another protocol from a
	// known start, or nothing found after maxHuntBytes. The connection's
	// bytes are no longer looked at.
	h2No
)

const (
	// maxHuntBytes: a direction searched this far without a frame, on a
	// connection not known to carry HTTP/2, is taken for another protocol.
	// It bounds the CPU spent on non-HTTP/2 traffic and the chance of a
	// false sync in it.
	maxHuntBytes = 256 << 10
	// confirmFrames complete frames in one direction make a tentative
	// connection HTTP/2: the search already confirmed the boundaries, and
	// this many frames in step do not happen by chance.
	confirmFrames = 8
)

// h2conn is the HTTP/2 state of one connection: a reassembler and frame
// decoder per side, and what the frames say. Everything is kept by side
// (0 and 1, as the TCP tracker numbers them) until the report maps sides
// to client and server.
//
// Memory is bounded per connection: under 1 KB until HTTP/2 is found (and
// nothing once it is found not to be), then per side the out-of-order
// buffer (maxHeldBytes, used only while a hole is open) and the h2.Stream's
// own bounds, and per connection at most maxPings PINGs, maxGoaways,
// maxRSTs, maxOpenStreams followed streams plus 2*keepStreams finished ones
// and maxClosedIDs ids, and maxStalls stalls.
type Conn struct {
	host     Host
	keys     *KeyRef
	mode     h2Mode
	forced   bool // Options.H2Ports named one of the connection's ports
	finished bool // flushed and ended: later segments are not decoded
	dir      [2]h2dir

	pings   pingTracker
	goaways []GoawayRec
	rsts    []rstRec
	// GOAWAYs and RST_STREAMs past their caps, counted: two int32 in
	// the word one int took.
	rstsDropped, goawaysDropped int32
	streams                     streamTable
	flow                        flowControl

	tls *tlsState // the connection started with TLS records (tls.go)

	// pool takes the Streams released at a clean close and gives the
	// next ones (release.go); nil: new ones, and the released to the
	// collector.
	pool *StreamPool
	// scratch is the Frame the analyzer's Streams share, strs their
	// decoded header strings (State.ShareFrame).
	scratch *h2.Frame
	strs    *h2.Strings

	// etcd follows an HTTP/1 connection whose first request is
	// rafthttp's (etcd.go); nil before HTTP/1 is seen.
	etcd *etcdConn
}

// h2dir is one side's direction of an HTTP/2 connection.
type h2dir struct {
	h      *Conn
	side   int
	reasm  reassembler
	stream *h2.Stream
	spare  *h2.Stream      // a forgotten connection's, Reset for this one when it needs a Stream (State.Reuse)
	emit   func(*h2.Frame) // h2dir.frame, bound once: no allocation per call
	chunks int             // data calls so far

	counts    [http2.FrameContinuation + 1]int
	unknown   map[http2.FrameType]int
	frames    int // complete frames
	truncated int
	gapBytes  int64
	last      h2.Meta
	settings  []http2.Setting // last value of each setting announced, in first-seen order
	closeAt   h2.Meta

	// What the report reads of the Stream once it is released at a
	// clean close (release.go).
	endedSkipped               int64
	endedPreface, endedUpgrade bool

	// The small fields together, packed, so that a Conn stays within
	// the heap's 1,280-byte size class.
	atStart  bool   // the stream began at the SYN: its first byte is the connection's
	peerMax  uint32 // the peer's SETTINGS_MAX_FRAME_SIZE, for a Stream made later
	lastType http2.FrameType
	hasLast  bool
	closed   bool // first FIN or RST of this side
	closeRST bool
	// The first close's FIN: the sequence number it takes, and the
	// direction's first byte's when the SYN told (release.go).
	finSeq, start tcp.Seq
	startKnown    bool
}

// newConn returns the Conn of a connection whose HTTP/2 or TLS analysis
// begins: spare's memory, and its Streams, if not nil (State.Reuse).
func newConn(spare *Conn, host Host, forced bool, keys *KeyRef, pool *StreamPool) *Conn {
	h := spare
	if h == nil {
		h = &Conn{host: host, forced: forced, keys: keys, pool: pool}
	} else {
		var streams [2]*h2.Stream
		for side := range h.dir {
			if streams[side] = h.dir[side].stream; streams[side] == nil {
				streams[side] = h.dir[side].spare
			}
		}
		st := h.streams.recycled()
		// The GOAWAYs' array, not their Cut lists: a row made before may
		// hold those (model.Goaway.CutStreams).
		goaways := h.goaways
		if cap(goaways) > maxGoaways {
			goaways = nil
		}
		clear(goaways[:cap(goaways)])
		// Each side's emit is its h2dir.frame bound to the same h2dir,
		// which stays where it is: kept, not bound again (an allocation
		// each).
		emits := [2]func(*h2.Frame){h.dir[0].emit, h.dir[1].emit}
		// And each side's settings' array (at most 32, copied into the
		// report's map, never kept by a row).
		settings := [2][]http2.Setting{h.dir[0].settings[:0], h.dir[1].settings[:0]}
		*h = Conn{} // a zero composite is cleared in place, not copied from a temporary
		h.host, h.forced, h.keys, h.streams, h.goaways, h.pool = host, forced, keys, st, goaways[:0], pool
		for side := range h.dir {
			h.dir[side].spare, h.dir[side].emit, h.dir[side].settings = streams[side], emits[side], settings[side]
		}
	}
	h.streams.host = host
	if forced {
		h.mode = h2Yes
	}
	for side := range h.dir {
		d := &h.dir[side]
		d.h, d.side = h, side
		if d.emit == nil {
			d.emit = d.frame
		}
	}
	h.flow.init()
	return h
}

// State is one connection's application analysis: nothing until its
// first payload, then a Conn, or only the fact that the connection carries
// something else (its state freed).
type State struct {
	h      *Conn
	spare  *Conn // a forgotten connection's, for h (Reuse)
	off    bool  // found not to be HTTP/2 (nor TLS)
	forced bool  // a port is in Options.H2Ports
	keys   *KeyRef
	pool   *StreamPool
	host   Host
	keep   bool        // KeepDecoders
	frame  *h2.Frame   // ShareFrame
	strs   *h2.Strings // ShareFrame
}

// Host is what the application analysis asks of the connection it runs
// in, whose other stages it never sees.
type Host interface {
	// ClientSide is the side taken for the client now; the report
	// decides again with all the evidence.
	ClientSide() int
	// IRTT is the handshake's round trip, 0 when unknown.
	IRTT() time.Duration
	// PingAck and Goaway tell of each PING ACK and GOAWAY frame as it
	// is decoded (the live notices).
	PingAck(side int, f *h2.Frame)
	Goaway(side int, f *h2.Frame)
	// RaftLeader tells of a member sending, from side, the first
	// leader-only raft message (heartbeat, append) of a run in a term:
	// member leads term (the live notices find leader changes).
	RaftLeader(side int, member, term uint64, at h2.Meta)
	// GRPCCall tells of a gRPC call finished: its method, and its
	// grpc-status by name or, reset without one, "RST_STREAM " and the
	// error code.
	GRPCCall(method, code string, at h2.Meta)
}

// Init readies st for a connection: forced when a port is in
// Options.H2Ports, keys the analyzer's key log, pool (nil for none) the
// analyzer's free Streams (release.go).
func (st *State) Init(host Host, forced bool, keys *KeyRef, pool *StreamPool) {
	*st = State{host: host, forced: forced, keys: keys, pool: pool}
}

// Reuse is Init for a State whose connection is gone for good (package
// analyze forgot it: nothing reads its Conn or what its report returned
// any more): the Conn's memory and its decoders' buffers serve this
// connection's HTTP/2 if it has any, instead of new ones. A short
// connection then costs no allocation for them.
func (st *State) Reuse(host Host, forced bool, keys *KeyRef, pool *StreamPool) {
	spare := st.h
	if spare == nil {
		spare = st.spare
	}
	*st = State{host: host, forced: forced, keys: keys, pool: pool, spare: spare}
}

// ShareFrame gives the connection's HTTP/2 decoders f to emit their frames
// in (h2.Options.Scratch), which every connection of the analyzer shares:
// 224 bytes less per decoder; and strs to look the header strings they
// decode up in (h2.Options.Strings). Only for connections one goroutine
// feeds; after Init or Reuse.
func (st *State) ShareFrame(f *h2.Frame, strs *h2.Strings) { st.frame, st.strs = f, strs }

// Conn is the connection's application state; nil before its first
// payload or when it carries neither HTTP/2 nor TLS.
func (st *State) Conn() *Conn { return st.h }

// Segment takes every segment of the connection, after the TCP
// analysis: its payload feeds the side's reassembler, its ACK tells the
// other side's which holes will never be filled, and its FIN or RST is
// when the side closed.
func (st *State) Segment(side int, fl *tcp.Flow, s *decode.Segment) {
	h := st.h
	if h == nil {
		if s.PayloadLen == 0 || st.off {
			return
		}
		h = newConn(st.spare, st.host, st.forced, st.keys, st.pool)
		h.scratch, h.strs = st.frame, st.strs
		st.h, st.spare = h, nil
	}
	if h.mode == h2No && h.tls == nil || h.finished {
		return
	}
	hd, peer := &h.dir[side], &h.dir[1-side]
	// A reset's ACK is not trusted: a middlebox forges resets.
	if s.Flags&(decode.FlagACK|decode.FlagRST) == decode.FlagACK {
		peer.reasm.acked(tcp.Seq(s.Ack), peer)
	}
	if s.PayloadLen > 0 {
		if start, known := fl.Start(); !hd.reasm.started && known {
			hd.reasm.start(start)
			hd.atStart = true
		}
		seq := tcp.Seq(s.Seq)
		if s.Flags.Has(decode.FlagSYN) {
			seq++ // TCP Fast Open: the SYN takes a sequence number
		}
		hd.reasm.segment(seq, s.Payload, s.PayloadLen, h2.Meta{Input: s.Input, Frame: s.Frame, Time: s.Time}, hd)
	}
	if s.Flags&(decode.FlagFIN|decode.FlagRST) != 0 && !hd.closed {
		hd.closed, hd.closeRST = true, s.Flags.Has(decode.FlagRST)
		hd.closeAt = h2.Meta{Input: s.Input, Frame: s.Frame, Time: s.Time}
		if !hd.closeRST {
			hd.finAt(fl, s)
		}
		if t := h.tls; t != nil && t.infer.hasPend && t.infer.pend.side == side {
			// The side awaiting an ACK closed: the PING's fate is known
			// now, not only at the end of the capture.
			t.infer.end(true, hd.closeAt, &h.pings)
		}
	}
	if h.mode == h2No && h.tls == nil {
		// Not HTTP/2: free the state, remember only that.
		st.h, st.off = nil, true
		return
	}
	if hd.closed && peer.closed && !st.keep {
		h.endIfClean()
	}
}

// Finish ends the HTTP/2 decoding: holes still open become gaps and the
// decoders settle on what they have. It runs once, at the first Report or
// when the 4-tuple is reused by a new connection, or as soon as the
// connection closed cleanly, its decoders then released (release.go);
// segments after it are analysed as TCP only.
func (st *State) Finish() {
	h := st.h
	if h == nil || h.finished {
		return
	}
	h.finished = true
	if h.mode == h2No && h.tls == nil {
		return
	}
	for side := range h.dir {
		d := &h.dir[side]
		d.reasm.flush(d)
		d.tlsEnd()
		if d.stream != nil && h.mode != h2No {
			d.stream.End(d.emit)
		}
	}
	if t := h.tls; t != nil && t.infer.hasPend {
		d := &h.dir[t.infer.pend.side]
		t.infer.end(d.closed, d.closeAt, &h.pings)
	}
}

// data is the reassembler's output: the direction's next in-order bytes.
// A connection that starts with TLS records has them go through its TLS
// layer, whose decrypted application data comes back to plain.
func (d *h2dir) data(b []byte, meta h2.Meta) {
	h := d.h
	if h.tls == nil && (h.mode == h2Maybe || h.mode == h2Yes) && d.frames == 0 && h.dir[1-d.side].frames == 0 {
		switch {
		case d.chunks == 0 && isTLSStart(b, d.atStart):
			h.startTLS(d.side, b)
		case h.mode == h2Maybe && !d.atStart && d.chunks < maxTLSHunt:
			// Begun inside a record: TLS from the first header found.
			// The records layer searches for it again.
			if off := tls.FindRecord(b); off >= 0 {
				h.startTLS(d.side, b[off:])
			}
		}
	}
	if h.tls != nil {
		d.tlsData(b, meta)
		return
	}
	d.plain(b, meta)
}

// plain takes the direction's next bytes of what may be HTTP/2: the TCP
// stream of h2c, or the plaintext of TLS.
func (d *h2dir) plain(b []byte, meta h2.Meta) {
	h := d.h
	switch h.mode {
	case h2No:
		return
	case h2HTTP1:
		d.chunks++
		h.etcdData(d.side, b, meta)
		if !hasPrefaceStart(b) {
			return
		}
		// The HTTP/2 connection starts here; the other direction's
		// Stream starts at its next bytes, and searches.
		h.mode = h2Maybe
	default:
		if h.mode == h2Maybe || d.chunks == 0 {
			switch d.vet(b) {
			case vetNo:
				h.drop(h2No)
				return
			case vetHTTP1:
				h.drop(h2HTTP1)
				d.chunks++
				h.etcdData(d.side, b, meta)
				return
			}
		}
		d.chunks++
	}
	if d.stream == nil {
		d.stream = d.newStream(h2.Options{Client: d.side == d.h.clientSide(), MaxFrameSize: d.peerMax})
	}
	d.stream.Data(b, meta, d.emit)
	if h.mode == h2Maybe {
		switch {
		case d.stream.Preface():
			h.mode = h2Yes
		case d.frames == 0 && h.dir[1-d.side].frames == 0 && d.stream.Skipped() > maxHuntBytes:
			h.drop(h2No)
		}
	}
}

// newStream is a new Stream for d: its spare, or one of the pool's,
// Reset, if there is one.
func (d *h2dir) newStream(opts h2.Options) *h2.Stream {
	opts.Scratch, opts.Strings = d.h.scratch, d.h.strs
	s := d.spare
	if s == nil {
		if s = d.h.pool.get(); s == nil {
			return h2.NewStream(opts)
		}
		s.Reopen(opts) // Reset when it was put in the pool
		return s
	}
	d.spare = nil
	s.Reset(opts)
	return s
}

// gap is the reassembler saying n bytes were never captured.
func (d *h2dir) gap(n int) {
	if d.h.tls != nil {
		d.tlsGap(n)
		return
	}
	d.plainGap(n)
}

// plainGap says n bytes of what plain would have been given are missing.
func (d *h2dir) plainGap(n int) {
	if d.h.mode == h2HTTP1 {
		d.h.etcdGap(d.side, n)
	}
	if d.h.mode == h2No || d.h.mode == h2HTTP1 {
		return
	}
	d.gapBytes += int64(n)
	d.h.flow.known = false // a lost DATA or WINDOW_UPDATE makes windows unknown
	if d.stream == nil {
		// Nothing seen yet: the Stream starts after the gap (and
		// searches, as it must without the start).
		d.stream = d.newStream(h2.Options{Client: d.side == d.h.clientSide(), MaxFrameSize: d.peerMax})
	}
	d.stream.Gap(n, d.emit)
}

// Outcomes of vet.
const (
	vetOK    = iota // maybe HTTP/2
	vetNo           // not HTTP/2
	vetHTTP1        // HTTP/1 without an h2c upgrade
)

// vet looks at the start of a chunk of a direction not known to be
// HTTP/2, and at the first chunk of every direction: is it still possibly
// HTTP/2?
func (d *h2dir) vet(b []byte) int {
	// A TLS record header: content type 20-23, version 3.0-3.4. It
	// cannot be an HTTP/2 frame header (its length field would be over a
	// megabyte), and decoding ciphertext can only produce garbage frames.
	if len(b) >= 3 && b[0] >= 0x14 && b[0] <= 0x17 && b[1] == 0x03 && b[2] <= 0x04 {
		return vetNo
	}
	if d.chunks > 0 || d.h.forced || d.h.mode != h2Maybe {
		return vetOK
	}
	switch SniffPayload(b) {
	case sniffHTTP1Request, sniffHTTP1Response:
		// HTTP/1 is HTTP/2 after an h2c upgrade, whose request or 101
		// response is in the first segment.
		if k := h2.Detect(b); k == h2.KindUpgrade || k == h2.KindSwitching {
			return vetOK
		}
		return vetHTTP1
	}
	if d.atStart {
		// The connection's first bytes of this side: a client starts with
		// the preface, a server with SETTINGS.
		switch h2.Detect(b) {
		case h2.KindNone, h2.KindHTTP1:
			return vetNo
		}
	}
	return vetOK
}

// hasPrefaceStart reports whether b starts with the client preface (as
// much of it as sniffing needs).
func hasPrefaceStart(b []byte) bool {
	n := min(len(b), len(h2.ClientPreface))
	return n >= minPrefaceMatch && string(b[:n]) == h2.ClientPreface[:n]
}

// drop throws away what was decoded: the connection is not HTTP/2 (mode
// h2No; h2segment then frees the whole state), or HTTP/1 that may yet turn
// into it (h2HTTP1, which keeps the reassemblers running). It runs inside a
// reassembler's delivery, so the reassemblers are left alone.
func (h *Conn) drop(mode h2Mode) {
	h.mode = mode
	for side := range h.dir {
		d := &h.dir[side]
		d.stream = nil
		keep := h2dir{h: d.h, side: d.side, reasm: d.reasm, emit: d.emit, chunks: d.chunks, atStart: d.atStart,
			peerMax: d.peerMax, closed: d.closed, closeAt: d.closeAt, closeRST: d.closeRST,
			finSeq: d.finSeq, start: d.start, startKnown: d.startKnown}
		*d = keep
	}
	h.pings = pingTracker{}
	h.goaways, h.rsts, h.rstsDropped, h.goawaysDropped = nil, nil, 0, 0
	h.streams = streamTable{}
	h.flow = flowControl{}
	h.flow.init()
}

// clientSide is the side taken for the client now; the report decides
// again with all the evidence.
func (h *Conn) clientSide() int {
	return h.host.ClientSide()
}

// frame takes one frame a side's decoder emitted.
func (d *h2dir) frame(f *h2.Frame) {
	h := d.h
	if h.mode == h2No {
		return
	}
	d.last, d.lastType, d.hasLast = f.Meta, f.Type, true
	if f.Truncated {
		d.truncated++
		return
	}
	if int(f.Type) < len(d.counts) {
		d.counts[f.Type]++
	} else {
		if d.unknown == nil {
			d.unknown = map[http2.FrameType]int{}
		}
		d.unknown[f.Type]++
	}
	d.frames++
	if h.mode == h2Maybe && d.frames >= confirmFrames {
		h.mode = h2Yes
	}
	peer := &h.dir[1-d.side]
	switch f.Type {
	case http2.FramePing:
		if f.IsAck() {
			h.pings.ack(d.side, f)
			h.host.PingAck(d.side, f)
		} else {
			h.pings.ping(d.side, f, peer, LatePingAfter(h.host.IRTT()))
		}
	case http2.FrameGoAway:
		h.goaway(d.side, f)
		h.host.Goaway(d.side, f)
	case http2.FrameRSTStream:
		h.rstStream(d.side, f)
	case http2.FrameSettings:
		if !f.IsAck() {
			d.announce(f.Settings)
			for _, st := range f.Settings {
				if st.ID == http2.SettingMaxFrameSize {
					peer.peerMax = max(peer.peerMax, st.Val)
				}
			}
			if peer.stream != nil {
				peer.stream.PeerSettings(f.Settings)
			}
			h.flow.settings(d.side, f, &h.streams)
		}
	case http2.FrameHeaders, http2.FrameContinuation, http2.FramePushPromise:
		h.streams.headers(d.side, f, &h.flow)
	case http2.FrameData:
		h.streams.data(d.side, f, &h.flow)
	case http2.FrameWindowUpdate:
		h.flow.windowUpdate(d.side, f, &h.streams)
	}
}

// announce records a side's SETTINGS values, the last of each kept.
func (d *h2dir) announce(settings []http2.Setting) {
next:
	for _, st := range settings {
		for i := range d.settings {
			if d.settings[i].ID == st.ID {
				d.settings[i].Val = st.Val
				continue next
			}
		}
		if len(d.settings) < 32 {
			d.settings = append(d.settings, st)
		}
	}
}

// goawayRec is one GOAWAY, by side.
type GoawayRec struct {
	Side  int
	Meta  h2.Meta
	Last  uint32
	Code  http2.ErrCode
	Debug string
	Cut   []uint32
	// CutDropped counts the streams cut off beyond the maxCutListed
	// lowest, listed.
	CutDropped int
}

const (
	maxGoaways   = 64
	maxRSTs      = 1024
	maxCutListed = 64
)

func (h *Conn) goaway(side int, f *h2.Frame) {
	if len(h.goaways) >= maxGoaways {
		h.goawaysDropped++
		return
	}
	g := GoawayRec{Side: side, Meta: f.Meta, Last: f.LastStreamID, Code: f.ErrCode, Debug: string(f.DebugData)}
	// Streams the receiver opened above the last stream id are cut off:
	// the sender will not process them. Client streams are odd. The
	// lowest are listed, the first the receiver opened: whichever of
	// more a map's order gave would differ from run to run.
	receiverIsClient := 1-side == h.clientSide()
	for id := range h.streams.open {
		if id > f.LastStreamID && (id%2 == 1) == receiverIsClient {
			g.Cut = append(g.Cut, id)
		}
	}
	slices.Sort(g.Cut)
	if len(g.Cut) > maxCutListed {
		g.CutDropped = len(g.Cut) - maxCutListed
		g.Cut = slices.Clip(g.Cut[:maxCutListed])
	}
	h.goaways = append(h.goaways, g)
}

// rstRec is one RST_STREAM, by side.
type rstRec struct {
	side   int
	meta   h2.Meta
	stream uint32
	code   http2.ErrCode
}

func (h *Conn) rstStream(side int, f *h2.Frame) {
	h.streams.reset(side, f)
	if len(h.rsts) >= maxRSTs {
		h.rstsDropped++
		return
	}
	h.rsts = append(h.rsts, rstRec{side: side, meta: f.Meta, stream: f.StreamID, code: f.ErrCode})
}

// Warm reads a word of each cache line of the connection's HTTP/2 state
// and of its finished streams' records, what its report reads first
// (package warm), and returns their sum for the caller to keep.
func (st *State) Warm() uintptr {
	h := st.h
	if h == nil {
		return 0
	}
	return warm.Of(h) + warm.Slice(h.streams.first)
}
