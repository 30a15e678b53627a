package hops

import (
	"math"

	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/decode"
)

// A busy direction's copies are compared as soon as every point is known
// to hold all of them, not PlaceHold after they were acknowledged
// everywhere: four points of a fast transfer held three seconds of its
// packets each (1.4 million records for make bench's capture, 44 MB),
// and comparing them from memory no cache held cost more than the rest
// of the comparing.
//
// What PlaceHold waits for is a copy still on its way when the range is
// acknowledged: a retransmission whose timer fired before the ACK reached
// the sender (a tail loss probe racing a delayed ACK), which passes each
// point after the ACK did. Such a copy left the sender before the sender
// took in the ACK; every packet the sender sends after that goes the same
// way behind it. TCP timestamps say when the sender has taken in an ACK:
// once a point sees the sender echo a timestamp later than the one of the
// receiver's ACK of a range (TSecr > that TSval: the receiver sent it
// after the ACK, and acknowledgments only grow), every copy of the range
// the sender sent has passed that point, or was lost before it. Where
// every point that saw the flow says so, the range can be compared at
// once. Without timestamps, or at a point that sees one way only, it
// waits PlaceHold as before.

// raceGuard is, at one point, one direction's proof of how far its
// copies are all in.
type raceGuard struct {
	ack     int64  // an acknowledgment of the direction's data seen here (relative)
	ts      uint32 // the TSval it carried
	pending bool   // ack waits for the sender to echo a later TSval
	safe    int64  // every copy below it has passed here (relative)
	safeSet bool
}

// onAck takes, at the guard's point, the receiver's acknowledgment of
// rel carrying timestamp tsval. One is watched at a time: a later one
// waits for it, which delays the proof by a round trip at most.
func (g *raceGuard) onAck(rel int64, tsval uint32) {
	if g.pending || g.safeSet && rel <= g.safe {
		return
	}
	g.ack, g.ts, g.pending = rel, tsval, true
}

// onEcho takes, at the guard's point, a packet of the sender echoing
// tsecr.
func (g *raceGuard) onEcho(tsecr uint32) {
	if g.pending && int32(tsecr-g.ts) > 0 {
		g.safe, g.safeSet, g.pending = g.ack, true, false
	}
}

// guardSegment feeds segment s, of direction d at point, to the race
// guards of flow f: as the sender of d, an echo; as the receiver of the
// other direction, an acknowledgment of rel of it (ok: rel is one).
func (f *flow) guardSegment(point, d int, s *decode.Segment, rel int64, ok bool) {
	if !s.Options.Timestamp || s.Flags&decode.FlagACK == 0 {
		return
	}
	if g := f.dir[d].guard; g != nil {
		g[point].onEcho(s.Options.TSEcr)
	}
	if g := f.dir[1-d].guard; g != nil && ok {
		g[point].onAck(rel, s.Options.TSVal)
	}
}

// earlyBatch is PlaceBatch, or the tests' smaller one.
func (p *Placer) earlyBatch() int {
	if p.batch > 0 {
		return p.batch
	}
	return verdict.PlaceBatch
}

// earlyDue reports whether a watched direction of flow f, holding n
// copies of which kept were left at its last comparison, is due one
// before PlaceHold: a batch gathered since, and every point has seen the
// flow. A point yet to see it may be one whose clock is ahead (its
// packets read later): its copies of what would be compared now could
// still come. PlaceHold covers clock offsets; nothing else here can.
func (p *Placer) earlyDue(f *flow, n, kept int) bool {
	return n >= kept+p.earlyBatch() && f.seenEverywhere()
}

// safeLimit returns how far every point that saw flow f holds all copies
// of direction d, when each can tell.
func (l *dirLog) safeLimit(f *flow) (int64, bool) {
	lim, ok := int64(0), false
	for pt, m := range f.at {
		if m == nil {
			continue
		}
		g := &l.guard[pt]
		if !g.safeSet {
			return 0, false
		}
		if !ok || g.safe < lim {
			lim, ok = g.safe, true
		}
	}
	return lim, ok
}

// compareEarly compares direction d of flow f, of which some point has
// just added a copy, when it has gathered PlaceBatch copies since it was
// last compared and its race guards prove more of them complete.
func (p *Placer) compareEarly(f *flow, d int) {
	l := f.dir[d]
	n := l.recs.len()
	if l.guard == nil {
		if n >= p.earlyBatch()/4 {
			// Busy: watched from now on (a short connection never is).
			l.guard = make([]raceGuard, len(p.names))
			l.kept = n
		}
		return
	}
	if !p.earlyDue(f, n, l.kept) {
		return
	}
	lim, ok := l.safeLimit(f)
	if !ok || lim <= l.provenTo {
		return
	}
	l.provenTo = lim
	p.early++
	p.compare(f, d, lim)
	l.kept = l.recs.len()
}

// A pure ACK's copies are compared once every point is known to hold
// them all, the same way: its sender numbers nothing else it could be
// told by, but a point that saw a later TSval of the sender (a packet it
// sent after the ACK) holds the ACK's copy, or it was lost before it.

// newestTS is, at one point, the newest TSval of a direction's sender.
type newestTS struct {
	ts uint32
	ok bool
}

func (n *newestTS) see(ts uint32) {
	if !n.ok || int32(ts-n.ts) > 0 {
		n.ts, n.ok = ts, true
	}
}

// tsProof is the oldest of the points' newest TSvals (ok: every point
// that saw the flow has one): a packet with an older one has passed them
// all.
type tsProof struct {
	ts uint32
	ok bool
}

func (t tsProof) passed(r *arec) bool {
	return t.ok && r.hasTS && int32(t.ts-r.ts) > 0
}

// tsApart reports whether copies of one pure ACK among acks (sorted by
// key) carried other TSvals at two points, and remembers it: the proof
// takes the points' numbers for one, so a box that rewrites timestamps
// between them (a SYN proxy shifts them with the sequence numbers) leaves
// the direction's ACKs to PlaceHold. Where no box does, every ACK two
// points saw tells them alike.
func (l *dirLog) tsApart(acks []arec) bool {
	for i := 1; i < len(acks) && !l.apart; i++ {
		if a, b := &acks[i-1], &acks[i]; a.key == b.key && (a.ts != b.ts || a.hasTS != b.hasTS) {
			l.apart = true
		}
	}
	return l.apart
}

// proofOf returns direction d's proof over the points that saw flow f.
func (l *dirLog) proofOf(f *flow) tsProof {
	if l.apart {
		return tsProof{}
	}
	var t tsProof
	for pt, m := range f.at {
		if m == nil {
			continue
		}
		n := l.newest[pt]
		if !n.ok {
			return tsProof{}
		}
		if !t.ok || int32(n.ts-t.ts) < 0 {
			t = tsProof{n.ts, true}
		}
	}
	return t
}

// compareAcksEarly is compareEarly for direction d's pure ACKs.
func (p *Placer) compareAcksEarly(f *flow, d int) {
	l := f.dir[d]
	n := l.acks.len()
	if l.newest == nil {
		if n >= p.earlyBatch()/4 {
			l.newest = make([]newestTS, len(p.names))
			l.keptAcks = n
		}
		return
	}
	if !p.earlyDue(f, n, l.keptAcks) {
		return
	}
	if t := l.proofOf(f); t.ok {
		p.compareAcks(f, d, math.MinInt64, t)
	}
	l.keptAcks = l.acks.len()
}
