package app

import (
	"github.com/h2pcap/h2pcap/analyze/tcp"
	"github.com/h2pcap/h2pcap/decode/h2"
)

// Bounds of the out-of-order buffer of one direction. What waits behind a
// hole is what the sender sent in the round trip before the retransmission
// filled it: up to the receive window, which Linux autotunes to a few
// megabytes on a fast path (the lab's bulk capture holds 4.4 MB behind one hole). A
// hole the buffer outgrows is given up on (reported as a gap) rather than
// waited for, so memory per connection stays bounded.
const (
	maxHeldBytes = 8 << 20
	maxHeldSegs  = 8192
)

// byteSink receives a direction's in-order byte stream.
type byteSink interface {
	// data takes the next in-order bytes, all attributed to meta.
	data(b []byte, meta h2.Meta)
	// gap says n bytes were never captured.
	gap(n int)
}

// reassembler turns one direction's segments, in capture order, into the
// direction's byte stream, each byte once and in order, as Wireshark's TCP
// reassembly with reassemble_out_of_order does: new bytes go straight
// through; retransmitted bytes are dropped; a segment beyond a hole waits
// (copied: segment slices are reused) until the hole fills, and is then
// delivered with the segment that filled it, where tshark shows the frames
// it completes. A hole that is never filled becomes a gap: when the peer
// ACKs past it (the receiver got bytes the capture did not), when the
// waiting segments outgrow the buffer, or at the end (flush). So are bytes a
// snaplen cut.
type reassembler struct {
	started bool
	next    tcp.Seq // sequence number of the next byte owed to the sink

	held      []heldSeg // waiting for a hole to fill, by sequence number
	heldBytes int
	// arena holds the bytes of the held segments, appended, so that
	// holding a segment allocates nothing most of the time (the bytes
	// behind one hole are up to a receive window of segments: a
	// thousand allocations each, and as many for the collector, with
	// the bulk capture's 4.4 MB). It is dropped when nothing is held:
	// memory stays with the open holes, not with each connection that
	// once had one.
	arena []byte
}

// Arena chunks: the first is small (one segment or two, the usual hole
// of a lossy connection among thousands), each next one twice the last
// up to arenaMax. A full chunk is not copied (the segments in it keep
// it) but followed by the next.
const (
	arenaFirst = 4 << 10
	arenaMax   = 1 << 20
)

// keep copies p into the arena and returns the copy, whose capacity ends
// with it.
func (r *reassembler) keep(p []byte) []byte {
	if len(r.arena)+len(p) > cap(r.arena) {
		size := min(max(2*cap(r.arena), arenaFirst), arenaMax)
		r.arena = make([]byte, 0, max(size, len(p)))
	}
	start := len(r.arena)
	r.arena = append(r.arena, p...)
	return r.arena[start:len(r.arena):len(r.arena)]
}

// heldSeg is a segment that arrived beyond a hole.
type heldSeg struct {
	seq     tcp.Seq // of its first payload byte
	data    []byte  // the captured bytes (a copy)
	missing int     // bytes after data a snaplen cut
	meta    h2.Meta
}

func (h *heldSeg) end() tcp.Seq { return h.seq.Add(uint32(len(h.data) + h.missing)) }

// start sets where the byte stream begins, when the SYN told.
func (r *reassembler) start(seq tcp.Seq) {
	if !r.started {
		r.started, r.next = true, seq
	}
}

// segment takes one segment's payload: seq is the sequence number of its
// first payload byte, payload the captured bytes, wireLen the payload length
// on the wire (more than len(payload) when a snaplen cut it).
func (r *reassembler) segment(seq tcp.Seq, payload []byte, wireLen int, meta h2.Meta, sink byteSink) {
	if wireLen <= 0 {
		return
	}
	r.start(seq)
	end := seq.Add(uint32(wireLen))
	if end.LessThanEq(r.next) {
		return // nothing new: a retransmission
	}
	if seq.GreaterThan(r.next) {
		r.hold(seq, payload, wireLen, meta, sink)
		return
	}
	r.push(seq, payload, wireLen, meta, sink)
	r.drain(&meta, sink)
}

// push delivers the part of a segment at or after next; the segment must
// start at or before next and end after it.
func (r *reassembler) push(seq tcp.Seq, payload []byte, wireLen int, meta h2.Meta, sink byteSink) {
	skip := int(seq.Size(r.next))
	if skip < len(payload) {
		sink.data(payload[skip:], meta)
		skip = len(payload)
	}
	if cut := wireLen - skip; cut > 0 {
		sink.gap(cut)
	}
	r.next = seq.Add(uint32(wireLen))
}

// drain delivers the held segments the stream has reached. Their bytes are
// attributed to *fill, the segment that filled the hole, or with fill nil
// to each held segment itself (a hole given up on).
func (r *reassembler) drain(fill *h2.Meta, sink byteSink) {
	n := 0
	for ; n < len(r.held); n++ {
		h := &r.held[n]
		if h.seq.GreaterThan(r.next) {
			break
		}
		r.heldBytes -= len(h.data)
		if h.end().GreaterThan(r.next) {
			meta := h.meta
			if fill != nil {
				meta = *fill
			}
			r.push(h.seq, h.data, len(h.data)+h.missing, meta, sink)
		}
	}
	if n > 0 {
		clear(r.held[:n])
		r.held = r.held[:copy(r.held, r.held[n:])]
		if len(r.held) == 0 {
			r.arena = nil
		}
	}
}

// hold keeps a segment that starts beyond a hole, then enforces the bounds.
func (r *reassembler) hold(seq tcp.Seq, payload []byte, wireLen int, meta h2.Meta, sink byteSink) {
	// Sorted by distance from next, which survives a wrap of the sequence
	// space. A segment with the same start as one held keeps the longer.
	dist := r.next.Size(seq)
	i := len(r.held)
	for i > 0 && r.next.Size(r.held[i-1].seq) > dist {
		i--
	}
	if i > 0 && r.held[i-1].seq == seq {
		if seq.Add(uint32(wireLen)).LessThanEq(r.held[i-1].end()) {
			return
		}
		r.heldBytes -= len(r.held[i-1].data)
		r.held[i-1] = heldSeg{seq: seq, data: r.keep(payload), missing: wireLen - len(payload), meta: meta}
		r.heldBytes += len(payload)
	} else {
		r.held = append(r.held, heldSeg{})
		copy(r.held[i+1:], r.held[i:])
		r.held[i] = heldSeg{seq: seq, data: r.keep(payload), missing: wireLen - len(payload), meta: meta}
		r.heldBytes += len(payload)
	}
	for len(r.held) > 0 && (r.heldBytes > maxHeldBytes || len(r.held) > maxHeldSegs) {
		r.skipHole(r.held[0].seq, sink)
	}
}

// acked says the peer acknowledged bytes up to ack: a hole below it was
// received by the peer but not by the capture, and will not be
// retransmitted. With nothing held there is nothing to wait for yet.
func (r *reassembler) acked(ack tcp.Seq, sink byteSink) {
	if len(r.held) == 0 || !ack.GreaterThan(r.next) {
		return
	}
	to := ack
	if r.held[0].seq.LessThan(to) {
		to = r.held[0].seq
	}
	r.skipHole(to, sink)
}

// skipHole gives up on the bytes before seq: a gap, then what was held
// behind them, each with its own segment.
func (r *reassembler) skipHole(seq tcp.Seq, sink byteSink) {
	if seq.GreaterThan(r.next) {
		sink.gap(int(r.next.Size(seq)))
		r.next = seq
	}
	r.drain(nil, sink)
}

// flush gives up on every hole: the capture is over.
func (r *reassembler) flush(sink byteSink) {
	for len(r.held) > 0 {
		r.skipHole(r.held[0].seq, sink)
	}
	r.held, r.arena = nil, nil
}
