package hops

import (
	"cmp"
	"slices"
	"time"

	"github.com/h2pcap/h2pcap/analyze/verdict"
)

// Capture gaps.
//
// A data segment one point's capture lacks is told from one the network
// lost by the receiver's acknowledgment (compare: capMissed). A pure ACK
// has no such witness: nothing acknowledges it, and the next ACK covers
// it. A capture that drops packets (tcpdump's buffer full, a live ring
// overrun) drops them in bursts, data and ACKs alike, so a pure ACK
// missing at a point while that point's capture provably missed data is
// put down to the capture, not to the hop: the report never concludes
// from what a capture lacks. A pure ACK's fate is therefore decided at
// Finish, when every point's gaps are known, not when it is compared.

// gap is a time span (ns, on its point's clock) in which a point's
// capture missed packets.
type gap struct{ lo, hi int64 }

// ackMiss is a pure ACK seen at point a and not at point b, its fate
// left to Finish: ns is when b would have seen it (b's clock), at when a
// did (for its frame).
type ackMiss struct {
	a, b         int32
	input, frame int32
	at, ns       int64
	// seen are the other points that saw every copy a saw of the ACK
	// (pastLoss: where one is further along the path, b's capture
	// missed it).
	seen uint64
	// lined: told in a running line already (lineAcks), or found too
	// near a gap of b's capture to be.
	lined bool
}

// noteGap records that point's capture missed a packet it would have
// seen at ns (its clock). Times come mostly in order: one within
// CaptureGapSpan of the last span extends it.
func (p *Placer) noteGap(point int, ns int64) {
	gs := p.gaps[point]
	span := int64(verdict.CaptureGapSpan)
	if n := len(gs); n > 0 && ns >= gs[n-1].lo-span && ns <= gs[n-1].hi+span {
		gs[n-1].lo, gs[n-1].hi = min(gs[n-1].lo, ns), max(gs[n-1].hi, ns)
		return
	}
	p.gaps[point] = append(gs, gap{ns, ns})
}

// mergeGaps sorts and merges each point's spans, for inGap.
func (p *Placer) mergeGaps() {
	span := int64(verdict.CaptureGapSpan)
	for pt, gs := range p.gaps {
		slices.SortFunc(gs, func(x, y gap) int { return cmp.Compare(x.lo, y.lo) })
		out := gs[:0]
		for _, g := range gs {
			if n := len(out); n > 0 && g.lo <= out[n-1].hi+span {
				out[n-1].hi = max(out[n-1].hi, g.hi)
				continue
			}
			out = append(out, g)
		}
		p.gaps[pt] = out
	}
}

// inGap reports whether ns (point's clock) is within CaptureGapSpan of
// a span in which point's capture missed packets (after mergeGaps).
func (p *Placer) inGap(point int, ns int64) bool {
	gs := p.gaps[point]
	span := int64(verdict.CaptureGapSpan)
	i, _ := slices.BinarySearchFunc(gs, ns, func(g gap, t int64) int {
		switch {
		case g.hi+span < t:
			return -1
		case g.lo-span > t:
			return 1
		}
		return 0
	})
	return i < len(gs) && gs[i].lo-span <= ns && ns <= gs[i].hi+span
}

// settleAcks decides the fate of each done flow's missing pure ACKs:
// missed by the capture at b when b's capture missed packets about then,
// else lost between a and b.
func (p *Placer) settleAcks() {
	p.mergeGaps()
	for _, f := range p.done {
		for d := range f.res {
			r := &f.res[d]
			if r.lossResult == nil {
				continue
			}
			for _, m := range r.ackMiss {
				a, b := int(m.a), int(m.b)
				if p.inGap(b, m.ns) {
					r.capMissed[a][b]++
					continue
				}
				lost := &rec{input: m.input, frame: m.frame, ns: m.at}
				r.lose(a, b, m.seen, 0, lost, p.raw(a, m.at))
				p.uncaptured(f, d, r.lossResult, a, b, m.seen, lost)
			}
			r.ackMiss = nil
		}
	}
}

// Running lines (Placer.OnLoss) tell a pure ACK lost between points once
// its fate is all but settled: ackLineDelay after b would have seen it,
// by when the data about then at every point has been compared and any
// gap of b's capture noted; and only when b's capture missed nothing
// within ackLineSpan of it, wider than CaptureGapSpan, so that the report
// at the end, which decides with every gap known (settleAcks), counts it
// lost too. The report's counts are never changed by the lines.
const (
	ackLineDelay = verdict.PlaceHold + 2*verdict.PlaceSweep + time.Second
	ackLineSpan  = 5 * verdict.CaptureGapSpan
)

// lineAcks tells, through onLoss, the pure ACKs each flow lost that are
// old enough (lineAcks' rules above), b's clock taken as the now of the
// points (one box's interfaces, as live has them).
func (p *Placer) lineAcks() {
	cutoff := p.now.Add(-ackLineDelay).UnixNano()
	keep := p.ackPending[:0]
	for _, f := range p.ackPending {
		pending, told := false, false
		for d := range f.res {
			r := f.res[d].lossResult
			if r == nil {
				continue
			}
			for i := range r.ackMiss {
				m := &r.ackMiss[i]
				if m.lined {
					continue
				}
				if m.ns > cutoff {
					pending = true
					continue
				}
				m.lined = true
				if m.seen != 0 || p.nearGap(int(m.b), m.ns, int64(ackLineSpan)) {
					// Seen further on, or near a gap: maybe b's
					// capture's, which the report decides.
					continue
				}
				if f.ackLost == nil {
					f.ackLost = map[[3]int]int{}
				}
				f.ackLost[[3]int{d, int(m.a), int(m.b)}]++
				told = true
			}
		}
		if told {
			p.tellLoss(f)
		}
		if pending {
			keep = append(keep, f)
		} else {
			f.ackPend = false
		}
	}
	clear(p.ackPending[len(keep):])
	p.ackPending = keep
}

// nearGap reports whether ns (point's clock) is within span of a span
// in which point's capture missed packets, those noted so far (not
// merged yet: a scan).
func (p *Placer) nearGap(point int, ns, span int64) bool {
	for _, g := range p.gaps[point] {
		if g.lo-span <= ns && ns <= g.hi+span {
			return true
		}
	}
	return false
}
