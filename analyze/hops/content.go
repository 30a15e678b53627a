package hops

import (
	"slices"

	"github.com/cespare/xxhash/v2"

	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/decode"
)

// Matching by content.
//
// A connection a point began capturing mid-way (no handshake there)
// whose 4-tuple and sequence numbers both differ from what the other
// points saw (a NAT and a SYN proxy between them) matches by nothing the
// Placer knows at join: it becomes an orphan, a flow of that point alone.
// Its bytes are the same everywhere, though: each data segment's first
// PlaceContentBytes are hashed into a table of recent segments, and an
// orphan whose bytes another flow carried within PlaceContentWindow (and
// whose TCP timestamps agree, when both have them) is merged into that
// flow, the point's sequence offset derived from where the bytes sit in
// each numbering and the other direction's from the two copies'
// acknowledgment numbers. Either copy may come first: an orphan looks its
// first segments up at every offset (the other point's segments may
// start inside its own: GRO there, TSO here), and a flow's segment that
// finds an orphan's in the table adopts it.

// contentSlots is the size of the table of recent segments, indexed by
// hash: 65536 segments are 80 ms of 800,000 packets/s, past the clocks'
// usual offsets; a collision forgets the older segment (an orphan then
// tries its next ones).
const contentSlots = 1 << 16

// contentTries is how many of an orphan's first data segments are looked
// up at every offset, up to contentScan bytes in: another point's
// segment begins within one of its own (GRO here) if within a full-size
// packet's payload; where its own begin inside another point's larger
// ones (TSO there), a later one of its own begins where one of those
// does.
const (
	contentTries = 8
	contentScan  = 2048
)

// What a reader must keep of a data segment's payload for the content
// matching, when it hands the Placer copies rather than the packets (the
// points read on goroutines of their own): ContentKeep bytes of each of
// a point's first ContentSegments data segments of a connection, counted
// again from a segment ContentIdle after the point's one before (a flow
// retired and joined again: its first segments are looked up anew), and
// PlaceContentBytes of every other; less changes what the matching finds.
// Only a point's first contentTries data segments of a flow (member.data)
// are looked up at every offset; the reader keeps twice as many.
const (
	ContentKeep     = contentScan + verdict.PlaceContentBytes
	ContentSegments = 2 * contentTries
	// ContentIdle is under PlaceHold, the quiet before a flow retires,
	// so that a flow joined again is counted anew by the reader too.
	ContentIdle = verdict.PlaceHold / 2
)

// contentEntry is one recent data segment: its flow (by id: a retired
// flow is not kept alive by the table), direction and point, where it
// starts in the flow's numbering, its acknowledgment number (the flow's
// numbering) and TCP timestamps.
type contentEntry struct {
	sum    uint64
	ns     int64
	rel    int64
	id     uint32
	ack    uint32
	ts     uint32
	tsEcr  uint32
	d      int8
	point  int8
	hasAck bool
	hasTS  bool
}

// sighting is a data segment as the content matching reads it.
type sighting struct {
	f      *flow
	point  int
	d      int
	seq    uint32 // where its first byte (or the bytes matched) sits, in f's numbering
	ack    uint32
	hasAck bool
	ts     uint32
	tsEcr  uint32
	hasTS  bool
	ns     int64
}

// byContent files data segment s of point (whose flow is f) in the table
// of recent segments, merging f into the flow whose copy of its bytes was
// seen, or another's orphan into f, and returns the flow s now belongs
// to.
func (p *Placer) byContent(point int, f *flow, s *decode.Segment) *flow {
	const k = verdict.PlaceContentBytes
	if p.content == nil {
		p.content = make([]contentEntry, contentSlots)
	}
	m := f.at[point]
	d := 0
	if s.Src != m.ep0 {
		d = 1
	}
	here := sighting{f: f, point: point, d: d, seq: s.Seq + m.off[d], ack: s.Ack + m.off[1-d], hasAck: s.Flags&decode.FlagACK != 0,
		ts: s.Options.TSVal, tsEcr: s.Options.TSEcr, hasTS: s.Options.Timestamp, ns: s.Time.UnixNano()}
	if f.tries > 0 && f.orphan() && m.data <= contentTries {
		f.tries--
		for i := 0; i+k <= len(s.Payload) && i <= contentScan; i++ {
			sum := xxhash.Sum64(s.Payload[i : i+k])
			e := &p.content[sum%contentSlots]
			g := p.live[e.id]
			// The bytes at offset i here are those e saw first.
			at := here
			at.seq += uint32(i)
			if e.sum != sum || !p.mergeable(f, g, e, &at) {
				continue
			}
			p.merge(f, g, &at, p.sightingOf(g, e))
			return g
		}
	}
	sum := xxhash.Sum64(s.Payload[:k])
	e := &p.content[sum%contentSlots]
	if o := p.live[e.id]; e.sum == sum && o != nil && o != f && o.orphan() && p.mergeable(o, f, e, &here) {
		p.merge(o, f, p.sightingOf(o, e), &here)
	}
	l := f.dir[d]
	if !l.based {
		l.based, l.ref, l.refRel = true, here.seq, 0
	}
	*e = contentEntry{sum: sum, id: f.id, ns: here.ns, rel: l.rel(here.seq), ack: here.ack, hasAck: here.hasAck, ts: here.ts, tsEcr: here.tsEcr, hasTS: here.hasTS, d: int8(d), point: int8(point)}
	return f
}

// sightingOf is table entry e, of flow f, as a sighting.
func (p *Placer) sightingOf(f *flow, e *contentEntry) *sighting {
	l := f.dir[e.d]
	return &sighting{f: f, point: int(e.point), d: int(e.d), seq: l.ref + uint32(e.rel-l.refRel), ack: e.ack, hasAck: e.hasAck, ts: e.ts, tsEcr: e.tsEcr, hasTS: e.hasTS, ns: e.ns}
}

// mergeable reports whether orphan o (one point's alone) may be merged
// into flow g on the strength of entry e and sighting at carrying the
// same bytes: g is open, has not been seen at o's point, the copies came
// within PlaceContentWindow, and their timestamps agree: the sender's
// (TSval), or else, with the acknowledgment numbers equal, the echoed
// peer's (TSecr). A SYN proxy that sends the client its own timestamps
// (nft synproxy ... timestamp) shifts the server's TSval by a constant
// per connection, as it shifts its sequence numbers, and leaves the
// client's numbers alone: a server's segment then agrees with its copy
// by what it acknowledges and echoes of the client. HTTP/2 connections
// carry the same bytes (a response to the same request) within a second
// of each other: the timestamps, random per connection on Linux, are
// what tells them apart.
func (p *Placer) mergeable(o, g *flow, e *contentEntry, at *sighting) bool {
	if o == g || g == nil || o == nil || !o.orphan() {
		return false
	}
	if d := e.ns - at.ns; d > int64(verdict.PlaceContentWindow) || d < -int64(verdict.PlaceContentWindow) {
		return false
	}
	for pt, m := range o.at {
		if m != nil && g.at[pt] != nil {
			return false
		}
	}
	if e.hasTS && at.hasTS {
		if d := int64(int32(e.ts - at.ts)); d < -verdict.PlaceTSWindow || d > verdict.PlaceTSWindow {
			return e.hasAck && at.hasAck && e.ack == at.ack && e.tsEcr == at.tsEcr && e.tsEcr != 0
		}
		return true
	}
	// Without timestamps (Windows' TCP sends none) the same bytes on
	// two connections (a health check's response, repeated) would be
	// told apart by nothing: one direction's numbers must be the same
	// in both copies, as a NAT keeps both and a SYN proxy shifts one.
	gs := p.sightingOf(g, e)
	return gs.seq == at.seq || e.hasAck && at.hasAck && e.ack == at.ack
}

// orphan reports whether f is a connection seen mid-way, at one point or
// at several that share its 4-tuple (a router's interface and the host
// beyond it), that nothing matched to the other points' by a handshake,
// a 4-tuple or its sequence numbers.
func (f *flow) orphan() bool {
	return !f.syn && f.alone
}

// merge moves orphan o into flow g: os and gs are the same bytes as o
// and g saw them (os in o's numbering, gs in g's). Each of the orphan's
// points gains sequence offsets that map its numbers onto g's, each way:
// its own onto o's, then o's onto g's, the bytes' direction by where
// they sit, the other by the copies' acknowledgment numbers (0 when one
// has none). Its packets, still to compare, move over renumbered; o is
// dropped.
func (p *Placer) merge(o, g *flow, os, gs *sighting) {
	flip := os.d != gs.d
	// shift maps o's numbering onto g's, by g's direction.
	var shift [2]uint32
	shift[gs.d] = gs.seq - os.seq
	if os.hasAck && gs.hasAck {
		shift[1-gs.d] = gs.ack - os.ack
	}
	type moved struct {
		pt int
		m  *member
		nm member
	}
	var ms []moved
	for pt, m := range o.at {
		if m == nil {
			continue
		}
		nm := *m
		if flip {
			nm.ep0, nm.ep1 = m.ep1, m.ep0
			nm.ttl = [2]int{m.ttl[1], m.ttl[0]}
			nm.ttlData = [2]bool{m.ttlData[1], m.ttlData[0]}
			nm.seen = [2]bool{m.seen[1], m.seen[0]}
			nm.rst = [2]bool{m.rst[1], m.rst[0]}
			nm.acked = [2]int64{m.acked[1], m.acked[0]}
			nm.ackSeen = [2]bool{m.ackSeen[1], m.ackSeen[0]}
			nm.ackMoved = [2]bool{m.ackMoved[1], m.ackMoved[0]}
			nm.synSeen = [2]bool{m.synSeen[1], m.synSeen[0]}
			nm.off = [2]uint32{m.off[1], m.off[0]}
		}
		for x := range nm.off {
			nm.off[x] += shift[x]
		}
		ms = append(ms, moved{pt: pt, m: m, nm: nm})
	}
	for x := range g.dir {
		ol, gl := o.dir[x], g.dir[x]
		if flip {
			ol = o.dir[1-x]
		}
		raw := func(rel int64) uint32 { return ol.ref + uint32(rel-ol.refRel) }
		// toG renumbers a sequence number of direction x in o's
		// numbering.
		toG := func(seq uint32) int64 {
			seq += shift[x]
			if !gl.based {
				gl.based, gl.ref, gl.refRel = true, seq, 0
			}
			return gl.rel(seq)
		}
		for i := range ms {
			nm := &ms[i].nm
			if nm.ackSeen[x] {
				if ol.based {
					nm.acked[x] = toG(raw(nm.acked[x]))
				} else {
					nm.ackSeen[x] = false
				}
			}
		}
		first := recsStart * len(p.names)
		ol.recs.all(func(r *rec) {
			c := *r
			c.lo = toG(raw(c.lo))
			gl.recs.push(c, &p.recPool, first)
		})
		ol.recs.reset(&p.recPool)
		ol.acks.all(func(r *arec) {
			// The key's acknowledgment number is of the other direction.
			c := *r
			c.key = c.key&^0xffffffff | uint64(uint32(c.key)+shift[1-x])
			gl.acks.push(c, &p.ackPool, first)
		})
		ol.acks.reset(&p.ackPool)
		for _, q := range ol.quoted {
			if ol.based {
				q.rel = toG(raw(q.rel))
				gl.quoted = append(gl.quoted, q)
			}
		}
	}
	for i := range ms {
		mv := &ms[i]
		nm := mv.nm
		g.at[mv.pt] = &nm
		p.byStream[mv.pt].set(mv.m.stream, g)
		k := tupleOf(mv.m.ep0, mv.m.ep1)
		if fs := p.byTuple[k]; fs != nil {
			// g once under it: retire takes it off once.
			fs = slices.DeleteFunc(fs, func(x *flow) bool { return x == o })
			p.byTuple[k] = appendFlow(fs, g)
		}
		o.at[mv.pt], o.everywhere = nil, false
	}
	if o.lastNS > g.lastNS {
		g.last, g.lastNS = o.last, o.lastNS
	}
	g.closed = g.closed || o.closed
	for i, x := range p.open {
		if x == o {
			p.open = append(p.open[:i], p.open[i+1:]...)
			break
		}
	}
	o.dir = [2]*dirLog{}
	delete(p.live, o.id)
}
