package hops

import (
	"math"
	"slices"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/internal/flowhash"
)

// ClockProbe estimates, before the points are read together, how far
// each capture's clock is from the others', from the first packets of
// each: a capture (a group of points that share a clock: one host's
// files, or one file's interfaces) whose clock is seconds off would
// otherwise be read seconds out of step with the others, and its copies
// of a packet would come after the Placer had compared the others' and
// called it lost (PlaceHold waits for a few hundred ms of offset, not
// seconds). The Placer estimates the offsets again, better, from the
// copies it pairs (Result.OffsetMs); this one only has to be close
// enough for them to meet within PlaceHold.
//
// A packet is known at each capture by what a NAT, a router or an
// overlay leaves as it was: its sequence and acknowledgement numbers,
// flags, payload length, IPv4 ID and TCP timestamps (not its addresses
// or ports); and a data segment also by its first bytes, which a SYN
// proxy or a proxy that ends the connection passes on unchanged though
// its numbers differ past it. A packet's headers seen again by one
// capture within clockSameCopy are the same packet (in and out of a
// router); later, another (a retransmission), and the key tells
// nothing; so do bytes seen again at all (the same request on each new
// connection).
type ClockProbe struct {
	seen    []map[uint64]int64 // per capture: packet key -> its first time (Unix ns), or clockAmbiguous
	limit   int                // keys kept per capture
	headers bool               // no key of a segment's first bytes (NewSameProbe)
}

// clockSameCopy is how soon after its first sighting one capture may see
// a packet's key again for both to be the same packet: a router's -i any
// capture sees a forwarded packet in and out within microseconds.
const clockSameCopy = 10 * time.Millisecond

// clockAmbiguous marks a key seen at two moments by one capture.
const clockAmbiguous = math.MinInt64

// NewClockProbe returns a ClockProbe for n captures.
func NewClockProbe(n int) *ClockProbe {
	c := &ClockProbe{seen: make([]map[uint64]int64, n), limit: verdict.ClockProbeKeys}
	for i := range c.seen {
		c.seen[i] = map[uint64]int64{}
	}
	return c
}

// NewSameProbe returns a ClockProbe for n inputs, to tell whether two
// hold the same packets (Shared): it keys the first
// verdict.SameProbePackets packets of each by their headers only. Parts
// of one capture that tcpdump -C rotated never hold the same packet,
// but one may hold a segment and the next its retransmission, whose
// first bytes are the same.
func NewSameProbe(n int) *ClockProbe {
	c := NewClockProbe(n)
	c.limit, c.headers = verdict.SameProbePackets, true
	return c
}

// Shared reports whether two of the inputs hold the same packets:
// verdict.ClockProbeMatches or more keys in common, and a quarter of the
// fewer keys of the two (a retransmission without IPv4 ID or timestamps
// has its original's headers). Captures of the same traffic at two
// points do, whatever their clocks say; parts of one capture do not.
func (c *ClockProbe) Shared() bool {
	for a := range c.seen {
		for b := a + 1; b < len(c.seen); b++ {
			if c.SharedPair(a, b) {
				return true
			}
		}
	}
	return false
}

// SharedPair is Shared for inputs a and b.
func (c *ClockProbe) SharedPair(a, b int) bool {
	small, big := c.seen[a], c.seen[b]
	if len(big) < len(small) {
		small, big = big, small
	}
	n := 0
	for k, t := range small {
		if u, ok := big[k]; ok && t != clockAmbiguous && u != clockAmbiguous {
			n++
		}
	}
	return n >= verdict.ClockProbeMatches && 4*n >= len(small)
}

// Add takes segment s of capture i. It reports false once that capture
// has given verdict.ClockProbeKeys keys (SameProbePackets): enough.
func (c *ClockProbe) Add(i int, s *decode.Segment) bool {
	m := c.seen[i]
	if len(m) >= c.limit {
		return false
	}
	if s.Time.IsZero() {
		return true
	}
	ns := s.Time.UnixNano()
	if s.IPID != 0 || s.PayloadLen > 0 || s.Options.Timestamp {
		// (Else nothing tells such a packet from its neighbours: an
		// ACK without ID or timestamp repeats its numbers.)
		h := flowhash.Mix(uint64(s.Seq)<<32 | uint64(s.Ack))
		h = flowhash.Mix(h ^ (uint64(s.Flags)<<48 | uint64(s.PayloadLen)<<16 | uint64(s.IPID)))
		if s.Options.Timestamp {
			h = flowhash.Mix(h ^ (uint64(s.Options.TSVal)<<32 | uint64(s.Options.TSEcr)))
		}
		see(m, h, ns, clockSameCopy)
	}
	if k := verdict.PlaceContentBytes; !c.headers && len(s.Payload) >= k && s.PayloadLen >= k {
		// Bytes seen again are another packet's at once: the same
		// request on each new connection, milliseconds apart.
		see(m, xxhash.Sum64(s.Payload[:k])^uint64(s.PayloadLen), ns, 0)
	}
	return true
}

// see files key k, seen at ns, in m: a key seen again more than same
// after its first sighting tells nothing.
func see(m map[uint64]int64, k uint64, ns int64, same time.Duration) {
	t, ok := m[k]
	switch {
	case !ok:
		m[k] = ns
	case t != clockAmbiguous && (same == 0 || ns-t > int64(same)):
		m[k] = clockAmbiguous
	}
}

// Offsets returns each capture's clock minus capture 0's, from the
// median time between the copies of the packets two captures share
// (the path delay between them one way or the other, a few ms, is in
// it), reached through other captures where two share none; nil where
// no chain of captures with verdict.ClockProbeMatches packets in common
// reaches capture 0.
func (c *ClockProbe) Offsets() []*time.Duration {
	ns := chainOffsets(len(c.seen), func(a, b int) (int64, bool) {
		ds := c.deltas(a, b)
		if len(ds) < verdict.ClockProbeMatches {
			return 0, false
		}
		if _, step := steps(ds); step {
			return 0, false
		}
		return ds[len(ds)/2], true
	})
	out := make([]*time.Duration, len(ns))
	for i, o := range ns {
		if o != nil {
			d := time.Duration(*o)
			out[i] = &d
		}
	}
	return out
}

// deltas returns the times from capture a's copy to capture b's of the
// packets both saw (b's clock minus a's, and the path delay), sorted.
func (c *ClockProbe) deltas(a, b int) []int64 {
	small, big, sign := c.seen[a], c.seen[b], int64(1)
	if len(big) < len(small) {
		small, big, sign = big, small, -1
	}
	var ds []int64
	for k, t := range small {
		if u, ok := big[k]; ok && t != clockAmbiguous && u != clockAmbiguous {
			ds = append(ds, sign*(u-t))
		}
	}
	slices.Sort(ds)
	return ds
}

// steps returns by how much the sorted deltas ds of two captures moved,
// when a fifth of them or more lie verdict.PlaceShiftMin or more from
// their median: their clocks' offset was not one (a clock stepped by NTP
// while capturing, a VM resumed), and no shift fits the whole capture.
// Fewer are a few odd keys (an IPv6 retransmission without timestamps
// has its lost original's headers, and comes an RTO later), not a step:
// the median stands. moved is from the median to the median of those.
func steps(ds []int64) (moved time.Duration, ok bool) {
	m := ds[len(ds)/2]
	var far []int64
	for _, d := range ds {
		if d-m >= int64(verdict.PlaceShiftMin) || m-d >= int64(verdict.PlaceShiftMin) {
			far = append(far, d) // sorted, as ds
		}
	}
	if 5*len(far) < len(ds) {
		return 0, false
	}
	return time.Duration(far[len(far)/2] - m).Abs(), true
}

// Step is two captures whose clocks' offset moved within the packets
// they share (Steps): by about Moved.
type Step struct {
	A, B  int
	Moved time.Duration
}

// Steps returns the pairs of captures that share
// verdict.ClockProbeMatches packets or more whose clocks' offset moved
// by verdict.PlaceShiftMin or more among them: Offsets took no offset
// from them.
func (c *ClockProbe) Steps() []Step {
	var out []Step
	for a := range c.seen {
		for b := a + 1; b < len(c.seen); b++ {
			if ds := c.deltas(a, b); len(ds) >= verdict.ClockProbeMatches {
				if moved, ok := steps(ds); ok {
					out = append(out, Step{A: a, B: b, Moved: moved})
				}
			}
		}
	}
	return out
}

// Shifts returns, per capture, how much to take off its packets' times
// so that all are read on one clock, that of the most captures (one
// host's clock off, the rest agreeing: the one off is shifted), from the
// captures' offsets offs (ClockProbe.Offsets): the offset from that
// clock where it is verdict.PlaceShiftMin or more, else 0. An offset
// under it is left to PlaceHold, and the captures are read in their own
// times, as ever; so is a capture no other shares packets with (nil),
// taken to agree.
func Shifts(offs []*time.Duration) []time.Duration {
	near := func(a, b time.Duration) bool { return a-b < verdict.PlaceShiftMin && b-a < verdict.PlaceShiftMin }
	var ref time.Duration
	best := -1
	for _, o := range offs {
		if o == nil {
			continue
		}
		n := 0
		for _, p := range offs {
			if p != nil && near(*o, *p) {
				n++
			}
		}
		if n > best {
			ref, best = *o, n
		}
	}
	out := make([]time.Duration, len(offs))
	for i, o := range offs {
		if o != nil && !near(*o, ref) {
			out[i] = *o - ref
		}
	}
	return out
}
