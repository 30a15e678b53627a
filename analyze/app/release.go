package app

import (
	"github.com/h2pcap/h2pcap/analyze/tcp"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/decode/h2"
	"github.com/h2pcap/h2pcap/decode/tls"
)

// Releasing the decoders at a clean close.
//
// A connection of a busy capture spends most of its life closed: it is
// listed, judged or forgotten seconds after its last segment, and until
// then its decoders (an h2.Stream per direction with its HPACK table and
// buffers, the TLS layer's records and keys) took about a third of its
// memory for nothing. Once both sides sent a FIN and each direction's
// reassembler has delivered every byte up to that FIN, no byte the
// decoders have not seen can come any more; if then Finish would add
// nothing either (no frame or record half read, no inferred PING awaiting
// its answer), Finish is run at once and the decoders are dropped. What
// the report reads of them is copied out first (h2dir's ended fields,
// tlsState's ended Info). The output is the same as with Finish at the Report: the
// decoders would have been given nothing more. After an RST the peer's
// data in flight may still come, and a connection with a hole at its FIN
// may still have it filled: those keep decoding until the Report.

// preface, upgrade and skipped are the direction's Stream's Preface,
// Upgrade and Skipped, false and 0 without a Stream.
func (d *h2dir) preface() bool {
	if d.stream != nil {
		return d.stream.Preface()
	}
	return d.endedPreface
}

func (d *h2dir) upgrade() bool {
	if d.stream != nil {
		return d.stream.Upgrade()
	}
	return d.endedUpgrade
}

func (d *h2dir) skipped() int64 {
	if d.stream != nil {
		return d.stream.Skipped()
	}
	return d.endedSkipped
}

// finAt notes side's first close when it is a FIN: the sequence number
// the FIN takes, and where the direction's bytes began if the SYN told,
// for delivered.
func (d *h2dir) finAt(fl *tcp.Flow, s *decode.Segment) {
	seq := tcp.Seq(s.Seq)
	if s.Flags.Has(decode.FlagSYN) {
		seq++
	}
	d.finSeq = seq.Add(uint32(s.PayloadLen))
	d.start, d.startKnown = fl.Start()
}

// delivered says whether the direction closed with a FIN (its first close)
// and its reassembler gave the sink every byte before it, holding nothing:
// no byte of it can come that was not decoded.
func (d *h2dir) delivered() bool {
	switch {
	case !d.closed || d.closeRST || len(d.reasm.held) > 0:
		return false
	case d.reasm.started:
		return d.reasm.next == d.finSeq
	default:
		// Nothing sent: known only when the SYN said where its bytes
		// would have begun.
		return d.startKnown && d.start == d.finSeq
	}
}

// idle says whether Finish would change nothing but the finished flag:
// nothing held, no frame or record half read, no inferred PING awaiting
// its answer.
func (h *Conn) idle() bool {
	for side := range h.dir {
		d := &h.dir[side]
		if len(d.reasm.held) > 0 || d.stream != nil && h.mode != h2No && !d.stream.Idle() {
			return false
		}
	}
	if t := h.tls; t != nil && (t.infer.hasPend || t.conn != nil && !t.conn.Idle()) {
		return false
	}
	return true
}

// endIfClean ends the decoding and releases the decoders if the
// connection closed cleanly (see the top of this file).
func (h *Conn) endIfClean() {
	if !h.dir[0].delivered() || !h.dir[1].delivered() || !h.idle() {
		return
	}
	h.finished = true
	for side := range h.dir {
		d := &h.dir[side]
		if s := d.stream; s != nil {
			d.endedPreface, d.endedUpgrade, d.endedSkipped = s.Preface(), s.Upgrade(), s.Skipped()
			d.stream = nil
			h.pool.put(s)
		}
		if s := d.spare; s != nil {
			d.spare = nil
			h.pool.put(s)
		}
		d.reasm.held = nil
	}
	if t := h.tls; t != nil && t.conn != nil {
		info := *t.conn.Info()
		t.ended, t.conn = &info, nil
	}
	if h.pool == nil {
		// Nothing recycles this Conn (State.Reuse keeps them for the
		// next connection's streams): what only the next frames would
		// read goes too.
		t := &h.streams
		t.spare, t.closed = nil, nil
		if len(t.open) == 0 {
			t.open = nil
		}
		h.flow.resume = nil
	}
	if e := h.etcd; e != nil {
		for i := range e.dir {
			// The report reads each direction's state, not its
			// parser's buffers.
			e.dir[i].head, e.dir[i].body = nil, nil
		}
	}
}

// KeepDecoders makes st keep its decoders until Finish even after a clean
// close, as before they were released: for the tests that compare the two
// (package analyze's FuzzRelease). Init and Reuse clear it.
func (st *State) KeepDecoders() { st.keep = true }

// StreamPool is a free list of the h2.Streams released at connections'
// clean closes, which the next connections' HTTP/2 take instead of new
// ones (State.Reuse): an analysis that forgets its connections (h2pcap
// analyze past report.FoldAbove, h2pcap live) keeps the saving of reusing
// a forgotten connection's Streams. Bounded by its max; a nil *StreamPool
// keeps nothing, and what is released goes to the collector. Not safe
// for concurrent use.
type StreamPool struct {
	free []*h2.Stream
	max  int
}

// NewStreamPool returns a StreamPool that keeps at most max Streams.
func NewStreamPool(max int) *StreamPool { return &StreamPool{max: max} }

// get returns a Stream of the pool, nil if it has none.
func (p *StreamPool) get() *h2.Stream {
	if p == nil || len(p.free) == 0 {
		return nil
	}
	n := len(p.free) - 1
	s := p.free[n]
	p.free[n] = nil
	p.free = p.free[:n]
	return s
}

// put keeps s for another connection, Reset at once so that a pooled
// Stream holds neither its connection's header strings nor a large buffer
// (h2.Stream.Reset keeps only small ones).
func (p *StreamPool) put(s *h2.Stream) {
	if p == nil || len(p.free) >= p.max {
		return
	}
	s.Reset(h2.Options{})
	p.free = append(p.free, s)
}

// Clear drops every Stream kept: no connection is to come that would
// take them (the Report).
func (p *StreamPool) Clear() {
	if p == nil {
		return
	}
	clear(p.free)
	p.free = nil
}

// Len is how many Streams the pool keeps.
func (p *StreamPool) Len() int {
	if p == nil {
		return 0
	}
	return len(p.free)
}

// info is the connection's TLS facts: the layer's, or what was copied of
// them when it was released.
func (t *tlsState) info() *tls.Info {
	if t.conn == nil {
		return t.ended
	}
	return t.conn.Info()
}

// Decoders says how many decoders the connection holds: its directions'
// h2.Streams (spares included) and its TLS layer. A connection closed
// cleanly holds none (release.go).
func (st *State) Decoders() int {
	h := st.h
	if h == nil {
		return 0
	}
	n := 0
	for side := range h.dir {
		if h.dir[side].stream != nil {
			n++
		}
		if h.dir[side].spare != nil {
			n++
		}
	}
	if h.tls != nil && h.tls.conn != nil {
		n++
	}
	return n
}
