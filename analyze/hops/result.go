package hops

import (
	"cmp"
	"iter"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
)

// Result is what the Placer found once every point was read.
type Result struct {
	Names []string
	// Reference is the point nearest the clients: first along the
	// client->server path of most connections.
	Reference int
	// OffsetMs is each point's clock minus the reference point's, nil
	// where no packet links the two.
	OffsetMs []*float64
	// The connections across points, in order of retirement (All):
	// order says where each is, full holds those kept whole, clean packs
	// the others.
	order []retiredFlow
	full  []*FlowResult
	clean *cleanFlows
	// Forgotten is, per point (nil: none), what its analysis kept of the
	// connections it forgot: healthy ones on clean flows (Placer.OnRetire),
	// not in its Report's rows.
	Forgotten []Forgotten

	// Clocks gives, when set, each point's clock: points of one capture
	// file (its interfaces) share one, and their times need no moving
	// onto the reference point's clock (toReference), whatever offset
	// the packets' forwarding delay shows between them.
	Clocks []int

	awayFlows []awayFlow // the connections the reference never saw (away), once made
	awayDone  bool
}

// Forgotten is what a point's analysis kept of the connections it forgot
// (analyze.Analyzer.Forgotten): what Place reads of a row at a point
// other than the reference, and what Apply reads of one at the reference.
type Forgotten interface {
	// Row returns the forgotten connection of tcp.stream stream with its
	// Stream, Client, FirstInput, FirstFrame and TCP only; nil if that
	// stream was not forgotten.
	Row(stream int) *model.Connection
	// Len is how many were forgotten.
	Len() int
}

// Shared reports whether some connection was seen at two points or
// more: without one, the points had nothing to compare.
func (res *Result) Shared() bool {
	for _, f := range res.All() {
		n := 0
		for _, st := range f.Streams {
			if st >= 0 {
				n++
			}
		}
		if n > 1 {
			return true
		}
	}
	return false
}

// Len is how many connections across points there are.
func (res *Result) Len() int { return len(res.order) }

// Flow returns connection i across points. A clean one's is made at
// each call: keep it no longer than needed.
func (res *Result) Flow(i int) *FlowResult {
	e := res.order[i]
	if e.chunk < 0 {
		return res.full[e.off]
	}
	return res.clean.get(e.chunk, e.off).result()
}

// streamAt is connection i's tcp.stream at point pt, -1 where not seen:
// Flow(i).Streams[pt], without making a clean one's Flow.
func (res *Result) streamAt(i, pt int) int {
	e := res.order[i]
	if e.chunk < 0 {
		if st := res.full[e.off].Streams; pt < len(st) {
			return st[pt]
		}
		return -1
	}
	return res.clean.streamAt(e.chunk, e.off, pt)
}

// streamsInto is Flow(i).Streams, written over dst, without making a
// clean one's Flow: its record read once.
func (res *Result) streamsInto(dst []int, i int) []int {
	dst = dst[:0]
	if e := res.order[i]; e.chunk >= 0 {
		res.clean.streams(e.chunk, e.off, func(_, st int) bool {
			dst = append(dst, st)
			return true
		})
	} else {
		dst = append(dst, res.full[e.off].Streams...)
	}
	for len(dst) < len(res.Names) {
		dst = append(dst, -1) // a point added after it was packed
	}
	return dst
}

// flowScratch is the memory Apply makes each clean connection's
// FlowResult in, one after the other.
type flowScratch struct {
	cf   cleanFlow
	fr   FlowResult
	hops []HopResult
	buf  []byte
}

// flowIn is Flow(i) without Sender0 (sender0 only), a clean one's made
// in s: good until the next call. Apply reads every connection's once,
// and making each clean one's anew (its slices, its senders formatted)
// was a tenth of four points of 50k short connections past their
// single analyses.
func (res *Result) flowIn(i int, s *flowScratch) *FlowResult {
	e := res.order[i]
	if e.chunk < 0 {
		return res.full[e.off]
	}
	res.clean.getInto(&s.cf, e.chunk, e.off)
	s.hops = s.cf.resultInto(&s.fr, s.hops)
	return &s.fr
}

// appendSender0 appends f's Sender0 at point pt to b.
func (f *FlowResult) appendSender0(b []byte, pt int) []byte {
	if f.sender0 != nil {
		if f.Streams[pt] < 0 {
			return b
		}
		return f.sender0[pt].AppendTo(b)
	}
	return append(b, f.Sender0[pt]...)
}

// All gives each connection across points in turn (Flow).
func (res *Result) All() iter.Seq2[int, *FlowResult] {
	return func(yield func(int, *FlowResult) bool) {
		for i := range res.order {
			if !yield(i, res.Flow(i)) {
				return
			}
		}
	}
}

// FlowResult is one connection across points.
type FlowResult struct {
	// Streams is its tcp.stream at each point, -1 where not seen.
	Streams []int
	// Sender0 is, per point, the address that sends its direction 0.
	Sender0 []string
	// receiver0 is, per point, the address that receives it; sender0
	// Sender0's, unformatted (a clean flow's for Apply: made in turn,
	// not formatted).
	receiver0, sender0 []netip.AddrPort
	// Path is per direction the points on its path, in order: those that
	// saw it, and those it never reached that its siblings crossed.
	Path [2][]int
	// Hops is per direction each pair of adjacent points of Path.
	Hops [2][]HopResult
}

// Receiver0 is the address that receives its direction 0 at point pt;
// the zero AddrPort where unknown.
func (fr *FlowResult) Receiver0(pt int) netip.AddrPort {
	if pt < 0 || pt >= len(fr.receiver0) {
		return netip.AddrPort{}
	}
	return fr.receiver0[pt]
}

// HopResult is one direction of one connection between two adjacent
// points.
type HopResult struct {
	From, To int
	Packets  int // packets carrying sequence space at From
	Lost     int // of them, not (wholly) seen at To
	Bytes    int64
	Frames   []model.Moment
	// CaptureMissed counts packets at From whose bytes To's capture
	// lacks though the receiver acknowledged them: not lost.
	CaptureMissed int
	// MissedWhole: To's capture lacks the whole connection, whose data
	// the receiver acknowledged (CaptureMissed counts its packets).
	MissedWhole bool
	// Refused counts packets at From that never reached To and were
	// answered with an RST from between: refused, not lost.
	Refused int
	// ICMP counts packets at From that never reached To and that an ICMP
	// error quoted (ICMPFrom its senders): stopped by a box that said
	// so, not lost.
	ICMP     int
	ICMPFrom []netip.Addr
	// Unplaced counts packets at From lost while To was not capturing:
	// a point further along, capturing then, lacks them (and every
	// point between was not capturing either), so they were lost
	// between From and it, on this hop or past To; not in Lost.
	Unplaced int
}

// Finish compares everything still held and returns the result.
func (p *Placer) Finish() *Result {
	for _, f := range slices.Clone(p.open) {
		p.retire(f)
	}
	p.open = nil
	// The pure ACKs the lines have not told yet (lineAcks) are told as
	// the report decides them, every gap known: the lines end as the
	// report's hops.
	var acked []*flow
	if p.onLoss != nil {
		for _, f := range p.done {
			for d := range f.res {
				if r := f.res[d].lossResult; r != nil && len(r.ackMiss) > 0 {
					acked = append(acked, f)
					break
				}
			}
		}
	}
	p.settleAcks()
	for _, f := range acked {
		f.ackLost = nil // in the flow's own counts now
		p.tellLoss(f)
	}
	p.ackPending = nil
	np := len(p.names)
	off0 := p.offsetsFrom0()
	// The result keeps the clean records, not the Placer.
	clean := p.clean
	clean.server, clean.buf = nil, nil
	clean.np = np // points added (AddPoint) since the first records
	res := &Result{Names: p.names, OffsetMs: make([]*float64, np), order: p.retired, clean: &clean}
	// offset is b's clock minus a's, 0 (taken to agree) where either is
	// unknown: a point that saw one direction only (a one-way capture)
	// has no offset, and reckoning it from point 0's clock while the
	// other was reckoned from its own put the server's own capture after
	// the router beside it on the way back.
	offset := func(a, b int) int64 {
		if off0[a] == nil || off0[b] == nil {
			return 0
		}
		return *off0[b] - *off0[a]
	}
	p.coverOffsets = off0
	votes, guesses := slices.Clone(p.votes), slices.Clone(p.guesses)
	res.full = make([]*FlowResult, len(p.done))
	for i, f := range p.done {
		res.full[i] = f.result(np, offset)
	}
	for i, f := range p.done {
		// Which captures lack an answered connection whole, known
		// before any connection is placed, whatever their order.
		if f.delivered(0) > 1 || f.delivered(1) > 1 {
			p.noteBlind(f, p.absentOnPath(i, res.full))
		}
	}
	for i, f := range p.done {
		fr := res.full[i]
		p.hopsOf(f, fr, p.absentOnPath(i, res.full), votes, guesses)
		// Read no more: freed as the results are made, so that the
		// comparisons' and the results' memory do not add up.
		f.res = [2]dirResult{}
	}
	// Points tied on votes (etcd members' own captures: each the client
	// side of some connections and the server side of others) go to the
	// one that saw the most connections, whose rows the report lists,
	// and not to the one given first: given as m2.pcap m1.pcap, an etcd
	// pair listed m2's 30 connections and "2 new connections ...
	// failed", as m1.pcap m2.pcap m1's 35 and 5.
	if !slices.ContainsFunc(votes, func(v int) bool { return v > 0 }) {
		// No SYN seen across points (captures begun after every
		// handshake, multipoint-natproxy): the points first towards
		// the servers' lower ports, not the one given first (given
		// server first, its masqueraded rows were the report's).
		votes = guesses
	}
	seen := make([]int, np)
	var streams []int
	for i := range res.order {
		streams = res.streamsInto(streams, i)
		for pt, st := range streams[:np] {
			if st >= 0 {
				seen[pt]++
			}
		}
	}
	for pt, v := range votes {
		if r := res.Reference; v > votes[r] || v == votes[r] && seen[pt] > seen[r] {
			res.Reference = pt
		}
	}
	if ref := off0[res.Reference]; ref != nil {
		for i, o := range off0 {
			if o != nil {
				// On each point's own clock: what ShiftClock took off
				// counted back in.
				ms := float64(p.raw(i, *o)-p.raw(res.Reference, *ref)) / float64(time.Millisecond)
				res.OffsetMs[i] = &ms
			}
		}
	}
	return res
}

// result is flow f's FlowResult without its hops: its streams, senders
// and path, its points ordered with the clocks' offsets.
func (f *flow) result(np int, offset func(a, b int) int64) *FlowResult {
	fr := &FlowResult{Streams: make([]int, np), Sender0: make([]string, np), receiver0: make([]netip.AddrPort, np), sender0: make([]netip.AddrPort, np)}
	for pt, m := range f.at {
		fr.Streams[pt] = -1
		if m != nil {
			fr.Streams[pt], fr.Sender0[pt], fr.receiver0[pt], fr.sender0[pt] = m.stream, m.ep0.String(), m.ep1, m.ep0
		}
	}
	fr.Path = f.paths(offset)
	return fr
}

// hopsOf makes fr's hops of flow f, compared to its end: along each
// direction's path (absent, when set, the path its siblings show past
// the points it never reached), what each point saw and the next did
// not. votes, if not nil, counts f's vote for the reference, or
// guesses its guess (Placer.guesses) when it has no SYN.
func (p *Placer) hopsOf(f *flow, fr *FlowResult, absent [2][]int, votes, guesses []int) {
	np := len(p.names)
	if d := f.towardServer(); !f.syn && guesses != nil && d >= 0 && len(fr.Path[d]) > 1 {
		guesses[fr.Path[d][0]]++
	}
	for d := range f.dir {
		r := &f.res[d]
		pts := fr.Path[d]
		if d == 0 && f.syn && len(pts) > 1 && votes != nil {
			votes[pts[0]]++
		}
		if r.packets == nil {
			continue
		}
		r.loss(np) // read below whatever it lost
		if absent[d] != nil {
			pts = absent[d]
			fr.Path[d] = pts
		}
		// A point on the path its siblings show that never saw the
		// connection, though the receiver acknowledged this
		// direction's data past its SYN: the data crossed it, and its
		// capture lacks the whole connection (a filter there on ports
		// or hosts, or a rewrite the matching did not follow). Missed
		// by that capture, not lost: an etcd member's capture filtered
		// to one peer had every packet of its connections with the
		// other "lost" between the members, 91 and 88 of them. The
		// points either side of it are compared with each other (what
		// they lost was lost on one hop or the other), and the hop into
		// it says it lacks the connection (HopResult.MissedWhole).
		//
		// A point whose capture lacks such a connection to the same
		// server (blind) shows nothing by lacking this one too, though
		// unanswered: its packets are compared with the points past it
		// as well (a SYN that died is lost between the client and the
		// next point that saw it, or the server's, on one hop or
		// another), not lost before it.
		cmpPts, whole := pts, false
		if slices.ContainsFunc(pts, func(pt int) bool { return f.at[pt] == nil }) {
			whole = f.delivered(d) > 1
			cmpPts = nil
			for _, pt := range pts {
				if f.at[pt] != nil || !whole && !p.isBlind(f, pt) {
					cmpPts = append(cmpPts, pt)
				}
			}
		}
		path := pts
		missedPast := func(a int) {
			// The hop from a into the point past it on the path, if
			// that point is one whose capture lacks the connection.
			if i := slices.Index(path, a); whole && i+1 < len(path) && f.at[path[i+1]] == nil && r.packets[a] > 0 {
				h := HopResult{From: a, To: path[i+1], Packets: r.packets[a], CaptureMissed: r.packets[a] - r.quotedAt[a], ICMP: r.quotedAt[a], MissedWhole: true}
				if h.ICMP > 0 {
					h.ICMPFrom = r.icmpFrom
				}
				fr.Hops[d] = append(fr.Hops[d], h)
			}
		}
		pts = cmpPts
		for k := 0; k+1 < len(pts); k++ {
			a, b := pts[k], pts[k+1]
			if f.at[a] != nil {
				missedPast(a)
			}
			switch {
			case f.at[a] == nil:
				// Nothing reached a: nothing to lose after it.
			case f.at[b] == nil && f.at[a].rst[1-d] && !f.at[a].rst[d]:
				// Answered with an RST at a from the far end's
				// address, which b never saw: refused by a device
				// between them (a middlebox, a firewall's reject),
				// not lost.
				if r.packets[a] > 0 {
					fr.Hops[d] = append(fr.Hops[d], HopResult{From: a, To: b, Packets: r.packets[a], Refused: r.packets[a]})
				}
			case f.at[b] == nil:
				// b, on the path (its siblings crossed it), never
				// saw the connection, nor was this direction's data
				// acknowledged: all a saw was lost between.
				// Those an ICMP error quoted were stopped.
				if r.packets[a] > 0 {
					h := HopResult{From: a, To: b, Packets: r.packets[a], Lost: r.packets[a] - r.quotedAt[a], ICMP: r.quotedAt[a]}
					if h.Lost > 0 {
						h.Frames = r.first[a]
					}
					if h.ICMP > 0 {
						h.ICMPFrom = r.icmpFrom
					}
					fr.Hops[d] = append(fr.Hops[d], h)
				}
			case f.clean:
				fr.Hops[d] = append(fr.Hops[d], HopResult{From: a, To: b, Packets: r.packets[a]})
			default:
				h := HopResult{From: a, To: b, Packets: r.packets[a], Lost: r.missing[a][b], Bytes: r.missBytes[a][b], Frames: r.frames[a][b], CaptureMissed: r.capMissed[a][b], ICMP: r.stopped[a][b]}
				r.placePast(&h, pts[k+2:])
				r.placeUnplaced(&h, pts, k)
				if h.ICMP > 0 {
					h.ICMPFrom = r.icmpFrom
				}
				fr.Hops[d] = append(fr.Hops[d], h)
			}
		}
		if n := len(pts); n > 0 {
			missedPast(pts[n-1])
		}
	}
}

// blindKey is a point and a server endpoint (Placer.blind).
type blindKey struct {
	point  int
	server netip.AddrPort
}

// noteBlind notes in p.blind the points of absent (flow f's paths with
// the points it never reached, absentOnPath's) whose captures lack f
// though a direction of it was answered past them.
func (p *Placer) noteBlind(f *flow, absent [2][]int) {
	for d, pts := range absent {
		if f.delivered(d) <= 1 {
			continue
		}
		for _, pt := range pts {
			if f.at[pt] != nil {
				continue
			}
			for _, m := range f.at {
				if m != nil {
					if p.blind == nil {
						p.blind = map[blindKey]bool{}
					}
					p.blind[blindKey{pt, m.ep1}] = true
				}
			}
		}
	}
}

// isBlind says whether point pt's capture lacks an answered connection
// whole to a server f went to (p.blind).
func (p *Placer) isBlind(f *flow, pt int) bool {
	if p.blind == nil {
		return false
	}
	for _, m := range f.at {
		if m != nil && p.blind[blindKey{pt, m.ep1}] {
			return true
		}
	}
	return false
}

// placeUnplaced adds to hop h, from pts[k] to pts[k+1], the packets
// pts[k] saw that a point c further along the path lacks, every point
// between them (pts[k+1] first) not capturing then, and that no point
// past c saw: lost between pts[k] and c, on this hop or one past it
// (HopResult.Unplaced).
func (r *lossResult) placeUnplaced(h *HopResult, pts []int, k int) {
	for _, e := range r.unplaced {
		if int(e.a) != pts[k] {
			continue
		}
		j := slices.Index(pts[k+2:], int(e.b))
		if j < 0 {
			continue
		}
		j += k + 2
		blind := true
		for _, x := range pts[k+1 : j] {
			blind = blind && x < 64 && e.uncaptured&(1<<x) != 0 && e.seen&(1<<x) == 0
		}
		var beyond uint64
		for _, x := range pts[j+1:] {
			if x < 64 {
				beyond |= 1 << x
			}
		}
		if blind && e.seen&beyond == 0 {
			h.Unplaced += e.n
		}
	}
}

// placePast adds to hop h the packets its upstream point saw that its
// downstream one lacks and other points saw all of (pastLoss): missed by
// the downstream point's capture where one of those is further along the
// path (further), else lost.
func (r *lossResult) placePast(h *HopResult, further []int) {
	var beyond uint64
	for _, c := range further {
		if c < 64 {
			beyond |= 1 << c
		}
	}
	copied := false
	for _, e := range r.past {
		if int(e.a) != h.From || int(e.b) != h.To {
			continue
		}
		if e.seen&beyond != 0 {
			h.CaptureMissed += e.n
			continue
		}
		h.Lost += e.n
		h.Bytes += e.bytes
		if !copied {
			h.Frames, copied = slices.Clone(h.Frames), true
		}
		for _, m := range e.frames {
			h.Frames = addFrame(h.Frames, m.Input, m.Frame, m.Time.UnixNano())
		}
	}
}

// reversedFirst reorders pts (in place) to hold first those of other, in
// other's order reversed, then the rest as they were.
func reversedFirst(pts, other []int) []int {
	out := make([]int, 0, len(pts))
	for i := len(other) - 1; i >= 0; i-- {
		if slices.Contains(pts, other[i]) {
			out = append(out, other[i])
		}
	}
	for _, pt := range pts {
		if !slices.Contains(out, pt) {
			out = append(out, pt)
		}
	}
	return append(pts[:0], out...)
}

// paths orders flow f's points each way along its path (sortPoints):
// those that saw the direction, or saw the flow without a sign that the
// direction passed elsewhere. offset(a, b) is b's clock minus a's (ns).
func (f *flow) paths(offset func(a, b int) int64) [2][]int {
	deltaOf := func(r *dirResult) func(a, b int) (int64, bool) {
		return func(a, b int) (int64, bool) {
			if r.hasDelta == nil || !r.hasDelta[a][b] {
				return 0, false
			}
			return r.delta[a][b], true
		}
	}
	var path [2][]int
	var informed [2]bool
	for d := range f.dir {
		var pts []int
		informed[d] = true
		for pt, m := range f.at {
			switch {
			case m == nil:
			case !m.seen[d] && m.ackSeen[d] && m.acked[d] > 1 && m.ackMoved[d]:
				// The point never saw this direction, yet the other
				// way acknowledged more of its data while it
				// captured: a one-way capture there, not a point this
				// direction lost all its packets before. (A capture
				// begun late sees the ACK of data sent before it
				// began, which moves only if more of it arrives.)
			default:
				pts = append(pts, pt)
				informed[d] = informed[d] && m.ttl[d] != 0
			}
		}
		path[d] = pts
	}
	// Where neither TTL nor timing orders two points one way (no packet
	// of it they both saw), the way back's order, reversed, does: a path
	// is mostly the same both ways. The first direction is ordered again
	// with the second's order, for the pairs only the second tells.
	ttl := func(d int) func(int) int { return func(pt int) int { return f.at[pt].ttl[d] } }
	sortPoints(path[0], ttl(0), deltaOf(&f.res[0]), deltaOf(&f.res[1]), offset)
	for _, d := range []int{1, 0} {
		path[d] = reversedFirst(path[d], path[1-d])
		sortPoints(path[d], ttl(d), deltaOf(&f.res[d]), deltaOf(&f.res[1-d]), offset)
	}
	for d := range f.dir {
		// A direction some point never saw a packet of (all lost
		// before it) has no TTL or timing there: it crosses the
		// points the other way round.
		if !informed[d] && informed[1-d] && len(path[d]) == len(path[1-d]) {
			path[d] = slices.Clone(path[1-d])
			slices.Reverse(path[d])
		}
	}
	return path
}

// absentOnPath returns, per direction, flow i's path with the points it
// never reached that are on it: a point that did not see the flow,
// capturing when it began, that saw a sibling flow (the same server
// endpoint at a point both crossed, begun within PlaceMatchWindow) is on
// its path, in the sibling's order (a SYN that never reached the server:
// the server's point saw the others). Nil where there are none. A point
// whose capture began before the flow but ended during it counts all
// the flow's packets as lost before it: captures are taken to outlast
// the connections they are compared on.
func (p *Placer) absentOnPath(i int, frs []*FlowResult) [2][]int {
	return p.absentPath(p.done[i], i, func(off int32) [2][]int { return frs[off].Path })
}

// absentPath is absentOnPath for flow f, done flow self (-1: not yet
// done), the done flows' paths given by pathOf (their index in done).
func (p *Placer) absentPath(f *flow, self int, pathOf func(off int32) [2][]int) [2][]int {
	var out [2][]int
	if p.seenOnlyFor(f) {
		return out
	}
	var absent []int
	for pt, m := range f.at {
		if m == nil && p.covers(pt, f) {
			absent = append(absent, pt)
		}
	}
	if len(absent) == 0 {
		return out
	}
	for _, e := range p.retired {
		var path [2][]int
		var lentAbsent []int // the points of absent this sibling puts on f's path
		if e.chunk < 0 {
			g := p.done[e.off]
			if int(e.off) == self || g == f || absDur(g.start.Sub(f.start)) > verdict.PlaceMatchWindow {
				continue
			}
			ep := func(pt int) (netip.AddrPort, netip.AddrPort, int, bool) {
				if m := g.at[pt]; m != nil {
					return m.ep0, m.ep1, m.ttl[0], true
				}
				return netip.AddrPort{}, netip.AddrPort{}, 0, false
			}
			sib, same := sibling(f, g.syn, ep)
			if !sib {
				continue
			}
			lentAbsent = lent(absent, same, len(f.at), ep)
			if len(lentAbsent) == 0 {
				continue
			}
			// g must have crossed every point f did and some it did not.
			ok, extra := true, false
			for pt := range f.at {
				switch {
				case f.at[pt] != nil && g.at[pt] == nil:
					ok = false
				case f.at[pt] == nil && g.at[pt] != nil && slices.Contains(lentAbsent, pt):
					extra = true
				}
			}
			if !ok || !extra {
				continue
			}
			path = pathOf(e.off)
		} else {
			// A clean flow crossed every point.
			if absDur(time.Unix(0, e.start).Sub(f.start)) > verdict.PlaceMatchWindow {
				continue
			}
			cf := p.clean.get(e.chunk, e.off)
			ep := func(pt int) (netip.AddrPort, netip.AddrPort, int, bool) {
				if pt >= len(cf.streams) {
					return netip.AddrPort{}, netip.AddrPort{}, 0, false
				}
				return cf.ep0[pt], cf.ep1[pt], int(cf.ttl[pt]), cf.streams[pt] >= 0
			}
			sib, same := sibling(f, cf.syn, ep)
			if !sib {
				continue
			}
			lentAbsent = lent(absent, same, len(f.at), ep)
			if len(lentAbsent) == 0 {
				continue
			}
			path = cf.path
			// It crossed every point unless SeenOnly: one f missed
			// must be on its path.
			if !slices.ContainsFunc(lentAbsent, func(pt int) bool {
				return slices.Contains(path[0], pt) || slices.Contains(path[1], pt)
			}) {
				continue
			}
		}
		for d := range out {
			var pts []int
			for _, pt := range path[d] {
				if f.at[pt] != nil || slices.Contains(lentAbsent, pt) {
					pts = append(pts, pt)
				}
			}
			out[d] = pts
		}
		return out
	}
	return out
}

// sibling reports whether flow f and another went to the same server
// endpoint at some point both crossed, both begun with a handshake (syn:
// the other's; ep: its client and server endpoints and direction 0's
// TTL at a point, if it crossed it), and whether from the same client
// host (same).
func sibling(f *flow, syn bool, ep func(pt int) (client, server netip.AddrPort, ttl int, ok bool)) (sib, same bool) {
	if !f.syn || !syn {
		return false, false
	}
	for pt, m := range f.at {
		if m == nil {
			continue
		}
		if c, e, _, ok := ep(pt); ok && m.ep1 == e {
			return true, m.ep0.Addr() == c.Addr()
		}
	}
	return false, false
}

// lent returns the points of absent that a sibling flow (ep, of np
// points; same: from f's client host) puts on f's path: all, from the
// same client; from another client, none that the sibling crossed
// nearest its own client (its packets' highest TTL there, before any
// router lowered it: a capture at that client's host, an etcd member's
// own, which another client's connections never cross). Three etcd
// members' captures had m3's connections to m1 "refused between m1 and
// m2" because m2's own connections to m1 crossed both; a pod's SYNs a
// network policy dropped at the node are still placed between the veth
// and the uplink by another pod's connection, whose TTL the node lowered
// on the uplink (TestPlacerInferLocalReceivedSYN).
func lent(absent []int, same bool, np int, ep func(pt int) (client, server netip.AddrPort, ttl int, ok bool)) []int {
	if same {
		return absent
	}
	top := 0
	for pt := range np {
		if _, _, ttl, ok := ep(pt); ok {
			top = max(top, ttl)
		}
	}
	var out []int
	for _, pt := range absent {
		if _, _, ttl, ok := ep(pt); ok && (ttl == 0 || ttl < top) {
			out = append(out, pt)
		}
	}
	return out
}

// covers reports whether point pt was capturing when f began: then f's
// first packets would have reached it. f began on the clock of a point
// that saw it: with the clocks' offsets known (Finish: coverOffsets),
// pt's capture must have begun by then on pt's clock, whichever of those
// points it was; else within PlaceHold, past any offset between
// capturing hosts. Not within PlaceHold once the offsets are known: a
// capture begun by hand seconds after the others would have every short
// connection of the two seconds before it counted lost on the hops
// beside it (two points of 1,000 connections a second, the second begun
// 8 s late: 15,992 packets "lost" between them, where none was).
func (p *Placer) covers(pt int, f *flow) bool {
	if p.first[pt].IsZero() {
		return false
	}
	late := verdict.PlaceHold
	if off := p.coverOffsets; off != nil && off[pt] != nil {
		late = math.MaxInt64
		for q, m := range f.at {
			if m == nil {
				continue
			}
			if off[q] == nil {
				late = verdict.PlaceHold
				break
			}
			late = min(late, time.Duration(*off[pt]-*off[q]))
		}
		if late == math.MaxInt64 {
			late = verdict.PlaceHold
		}
	}
	return !p.first[pt].After(f.start.Add(late)) && !p.lastOf(pt).Before(f.start)
}

// offsetsFrom0 estimates each point's clock minus point 0's (ns): for two
// points the time from one's copy of a packet to the other's is their
// offset plus the path delay one way and minus it the other way, so the
// mean of the typical times both ways is the offset (paths are taken as
// symmetric; an asymmetric one moves it by half the difference). Points
// with no packet in common with point 0 are reached through others.
func (p *Placer) offsetsFrom0() []*int64 {
	np := len(p.names)
	pair := func(a, b int) (int64, bool) {
		s0, s1 := *p.sample(0, a, b), *p.sample(1, a, b)
		if len(s0) == 0 || len(s1) == 0 {
			return 0, false
		}
		return (median(s0) + median(s1)) / 2, true
	}
	return chainOffsets(np, pair)
}

// chainOffsets returns each of n clocks minus clock 0 (nil where none is
// reached), from pair's offsets between two (b's minus a's; false where
// those two share too little to tell), reached through others where two
// share none: breadth first from clock 0.
func chainOffsets(n int, pair func(a, b int) (int64, bool)) []*int64 {
	out := make([]*int64, n)
	if n == 0 {
		return out
	}
	zero := int64(0)
	out[0] = &zero
	queue := []int{0}
	for len(queue) > 0 {
		a := queue[0]
		queue = queue[1:]
		for b := range n {
			if out[b] != nil {
				continue
			}
			if o, ok := pair(a, b); ok {
				v := *out[a] + o
				out[b] = &v
				queue = append(queue, b)
			}
		}
	}
	return out
}

func median(xs []int64) int64 { return nth(slices.Clone(xs), len(xs)/2) }

// pointRows are one point's rows: those of its Report, by stream, and
// what its analysis kept of those it forgot.
type pointRows struct {
	listed    map[int]*model.Connection
	forgotten Forgotten
}

// forgottenClient is a Forgotten that tells whether a forgotten row
// names client without making the row (analyze.ForgottenRows).
type forgottenClient interface {
	ClientIs(stream int, client []byte) (found, same bool)
}

// clientIs says whether the point has a row of stream st and, if so,
// whether its Client is client: row(st) != nil and its Client, without
// making a forgotten row.
func (r pointRows) clientIs(st int, client []byte) (found, same bool) {
	if st < 0 {
		return false, false
	}
	if c := r.listed[st]; c != nil {
		return true, c.Client == string(client)
	}
	if fc, ok := r.forgotten.(forgottenClient); ok {
		return fc.ClientIs(st, client)
	}
	if c := r.row(st); c != nil {
		return true, c.Client == string(client)
	}
	return false, false
}

// row returns the point's row of stream st, nil if it has none.
func (r pointRows) row(st int) *model.Connection {
	if st < 0 {
		return nil
	}
	if c := r.listed[st]; c != nil {
		return c
	}
	if r.forgotten != nil {
		return r.forgotten.Row(st)
	}
	return nil
}

// forgottenAt returns point pt's Forgotten, nil if none.
func (res *Result) forgottenAt(pt int) Forgotten {
	if pt < len(res.Forgotten) {
		return res.Forgotten[pt]
	}
	return nil
}

// rowsOf indexes each point's rows by stream; the reference point's are
// refRows (being judged), the others' their reports'. The rows the
// reference lists of other points (Connection.Point, placeElsewhere)
// are those points' own, numbered as they numbered them.
func (res *Result) rowsOf(reports []*model.Report, refRows []*model.Connection) []pointRows {
	rows := make([]pointRows, len(res.Names))
	for pt := range rows {
		rows[pt] = pointRows{listed: map[int]*model.Connection{}, forgotten: res.forgottenAt(pt)}
		conns := refRows
		if pt != res.Reference {
			conns = reports[pt].Connections
		}
		for _, c := range conns {
			if pt != res.Reference || c.Point == "" {
				rows[pt].listed[c.Stream] = c
			}
		}
	}
	return rows
}

// dir0 returns the row that names flow f's client, the reference's if
// it has one, and the model direction of the flow's direction 0; nil if
// no point has a row for it (a probe: counted apart).
func (res *Result) dir0(f *FlowResult, rows []pointRows) (*model.Connection, int, model.Direction) {
	for _, pt := range append([]int{res.Reference}, seq(len(res.Names))...) {
		if row := rows[pt].row(f.Streams[pt]); row != nil {
			if f.Sender0[pt] == row.Client {
				return row, pt, model.ClientToServer
			}
			return row, pt, model.ServerToClient
		}
	}
	return nil, -1, 0
}

// dir0In is dir0 for Apply, which reads only which point has the row
// and the direction: no forgotten row made, the sender compared as bytes
// (in buf, returned for the next).
func (res *Result) dir0In(f *FlowResult, rows []pointRows, buf []byte) (int, model.Direction, []byte) {
	for k := -1; k < len(res.Names); k++ {
		pt := k
		if k < 0 {
			pt = res.Reference
		}
		buf = f.appendSender0(buf[:0], pt)
		if found, same := rows[pt].clientIs(f.Streams[pt], buf); found {
			if same {
				return pt, model.ClientToServer, buf
			}
			return pt, model.ServerToClient, buf
		}
	}
	return -1, 0, buf
}

// Place adds to the reference point's judged rows (conns) each one's
// points and placement, and to its verdict what they tell
// (verdict.Place): the reference Analyzer's ReportPlaced calls it before
// the summary is made (verdict.Placer). It returns the rows of the
// connections the reference point never saw, and what counts those of
// them forgotten (placeElsewhere). reports are the other points' Reports
// (the reference's entry is not read), facts the facts KeepFacts kept
// at each.
func (res *Result) Place(conns []*model.Connection, reports []*model.Report, facts []map[int]*verdict.Facts) ([]verdict.Extra, *verdict.Forgotten) {
	rows := res.rowsOf(reports, conns)
	ref := rows[res.Reference].listed
	for i := range res.order {
		if ref[res.streamAt(i, res.Reference)] == nil {
			// Not one of conns (a forgotten row's points are added as
			// it is written: PlaceSpilled): dir0 would unpack rows of
			// it only to find that, and a clean flow's Flow be made.
			continue
		}
		f := res.Flow(i)
		row, pt, dir0 := res.dir0(f, rows)
		if row == nil || pt != res.Reference {
			continue
		}
		res.placeRow(row, f, rows, dir0, res.Reference)
	}
	return res.placeElsewhere(rows, reports, facts)
}

// placeRow adds to row, flow f's as point home saw it (its direction 0
// dir0), its points, placement and stops, and to its verdict what they
// tell: lost before or after home's capture along each direction.
func (res *Result) placeRow(row *model.Connection, f *FlowResult, rows []pointRows, dir0 model.Direction, home int) {
	row.Points = res.points(f.Streams, rows)
	where := map[model.Direction]model.LossLocation{}
	for d := range f.Hops {
		dir := dir0
		if d == 1 {
			dir = dir0.Reverse()
		}
		refAt := slices.Index(f.Path[d], home)
		for _, h := range f.Hops[d] {
			if h.ICMP > 0 {
				st := model.Stopped{Direction: dir, From: res.Names[h.From], To: res.Names[h.To], Packets: h.ICMP}
				for _, a := range h.ICMPFrom {
					st.By = append(st.By, a.String())
				}
				row.Stopped = append(row.Stopped, st)
			}
			if h.Lost == 0 {
				continue
			}
			row.Placement = append(row.Placement, model.Placement{Direction: dir, From: res.Names[h.From], To: res.Names[h.To], Packets: h.Lost, Bytes: h.Bytes, Frames: h.Frames})
			// Lost before the home point along this direction if the
			// point that missed it is home or before.
			loc := model.AfterCapture
			if to := slices.Index(f.Path[d], h.To); to <= refAt {
				loc = model.BeforeCapture
			}
			if w, ok := where[dir]; ok && w != loc {
				loc = model.LocationUnknown // lost on both sides of it
			}
			where[dir] = loc
		}
	}
	verdict.Place(row.Verdict, row.Placement, where)
	verdict.Stopped(row.Verdict, row.Placement, row.Stopped)
	var missed []string
	for d := range f.Hops {
		for _, h := range f.Hops[d] {
			if h.MissedWhole && !slices.Contains(missed, res.Names[h.To]) {
				missed = append(missed, res.Names[h.To])
			}
		}
	}
	verdict.MissedBy(row.Verdict, missed)
	res.pingPath(row, f, rows, dir0, home)
}

// points is the Points of the row of the flow whose stream at each point
// is streams (FlowResult.Streams, -1 where not seen): each point's own
// stream, first frame and counters.
func (res *Result) points(streams []int, rows []pointRows) map[string]model.ConnPoint {
	out := map[string]model.ConnPoint{}
	for p, st := range streams {
		if c := rows[p].row(st); c != nil {
			out[res.Names[p]] = model.ConnPoint{Input: c.FirstInput, Stream: st, FirstFrame: c.FirstFrame, TCP: c.TCP}
		}
	}
	return out
}

// Apply makes the multi-point Report from the reference point's (its
// rows, placed by Place, verdicts and summary, Wireshark-exact on its
// files): every input, the points, and the hop table in the summary and
// its headline. reports[i] is point i's Report; pointInputs[i] its
// inputs' indexes into inputs.
func (res *Result) Apply(reports []*model.Report, inputs []*decode.InputInfo, pointInputs [][]int) *model.Report {
	np := len(res.Names)
	r := reports[res.Reference]
	if r.Summary != nil {
		// The headline's capture warning (drops, one direction) was of
		// the reference point's inputs: it is of every point's, whose
		// rows the report lists and whose packets the hops compare
		// (four captures given together, one of which missed 41 % of
		// its data, said nothing of it but in the inputs' table).
		own, all := verdict.CaptureWarning(r.Inputs), verdict.CaptureWarning(inputs)
		if own != all {
			h := r.Summary.Headline
			if own != "" {
				h = strings.TrimPrefix(h, own+" ")
			}
			if all != "" {
				h = all + " " + h
			}
			r.Summary.Headline = h
		}
	}
	if r.Summary != nil && r.Summary.Etcd != nil {
		// The etcd words said "this capture point" of the heartbeats
		// that stopped: they name the point now.
		pointOf := make(map[int]string)
		for pt, ins := range pointInputs {
			for _, in := range ins {
				pointOf[in] = res.Names[pt]
			}
		}
		one, named := verdict.EtcdWords(r.Summary.Etcd, nil), verdict.EtcdWords(r.Summary.Etcd, func(in int) string { return pointOf[in] })
		if one != "" && one != named {
			r.Summary.Headline = strings.Replace(r.Summary.Headline, one, named, 1)
		}
	}
	if more := res.probesElsewhere(reports, r); len(more) > 0 {
		// Probes the reference point did not see: its summary, like
		// its rows, lacked them (every other point's rows are listed,
		// its probes were in no count).
		old := r.Summary.Probes
		r.Summary.Probes = append(slices.Clone(old), more...)
		if len(old) > 0 {
			r.Summary.Headline = strings.Replace(r.Summary.Headline, verdict.ProbesWords(old), verdict.ProbesWords(r.Summary.Probes), 1)
		} else {
			r.Summary.Headline = strings.TrimSuffix(r.Summary.Headline, ".") + "; " + verdict.ProbesWords(r.Summary.Probes) + "."
		}
	}
	r.Inputs = inputs
	rows := res.rowsOf(reports, r.Connections)
	r.Points = make([]model.Point, np)
	for pt, name := range res.Names {
		n := len(reports[pt].Connections)
		if pt == res.Reference {
			n = len(rows[pt].listed) // not the other points' rows it lists
		}
		if fg := res.forgottenAt(pt); fg != nil {
			n += fg.Len()
		}
		r.Points[pt] = model.Point{Name: name, Inputs: pointInputs[pt], ClockOffsetMs: res.OffsetMs[pt], Reference: pt == res.Reference, Connections: n}
	}
	type hopKey struct {
		dir      model.Direction
		from, to int
	}
	var order []hopKey
	hops := map[hopKey]*model.Hop{}
	var s flowScratch
	for i := range res.order {
		f := res.flowIn(i, &s)
		var pt int
		var dir0 model.Direction
		if pt, dir0, s.buf = res.dir0In(f, rows, s.buf); pt < 0 {
			continue
		}
		if pt != res.Reference {
			for p := range np {
				if found, _ := rows[p].clientIs(f.Streams[p], nil); found {
					r.Points[p].NotAtReference++
				}
			}
		}
		for d := range f.Hops {
			dir := dir0
			if d == 1 {
				dir = dir0.Reverse()
			}
			for _, h := range f.Hops[d] {
				k := hopKey{dir, h.From, h.To}
				agg := hops[k]
				if agg == nil {
					agg = &model.Hop{From: res.Names[h.From], To: res.Names[h.To], Direction: dir}
					hops[k] = agg
					order = append(order, k)
				}
				if h.MissedWhole {
					// Nothing of it compared: not in the packets the
					// loss rate is of (91 of an etcd pair's 139
					// made 9 lost read as 6 %, of 48 compared).
					agg.CaptureMissedConns++
				} else {
					agg.PacketsUpstream += h.Packets
				}
				agg.PacketsLost += h.Lost
				agg.CaptureMissed += h.CaptureMissed
				agg.Refused += h.Refused
				agg.ICMP += h.ICMP
				agg.LostUncaptured += h.Unplaced
				for _, a := range h.ICMPFrom {
					if s := a.String(); !slices.Contains(agg.ICMPFrom, s) {
						agg.ICMPFrom = append(agg.ICMPFrom, s)
					}
				}
			}
		}
	}
	slices.SortStableFunc(order, func(a, b hopKey) int { return cmp.Compare(a.dir, b.dir) })
	if r.Summary != nil {
		for _, k := range order {
			h := hops[k]
			if h.PacketsUpstream > 0 {
				h.LossRate = float64(h.PacketsLost) / float64(h.PacketsUpstream)
			}
			r.Summary.Hops = append(r.Summary.Hops, *h)
		}
		r.Summary.Headline = verdict.WithHopsAlong(r.Summary.Headline, r.Summary.Hops, res.Names)
	}
	return r
}

// probesElsewhere is the traceroute probes of the other points' summaries
// whose prober and target ref's summary has none of: each from the point
// that counted the most of them (the first of those), marked with it,
// its times moved onto the reference's clock.
func (res *Result) probesElsewhere(reports []*model.Report, ref *model.Report) []model.ProbeTarget {
	if ref.Summary == nil {
		return nil
	}
	same := func(a, b model.ProbeTarget) bool { return a.Prober == b.Prober && a.Target == b.Target }
	var out []model.ProbeTarget
	for pt, r := range reports {
		if pt == res.Reference || r == nil || r.Summary == nil {
			continue
		}
		for _, t := range r.Summary.Probes {
			if slices.ContainsFunc(ref.Summary.Probes, func(u model.ProbeTarget) bool { return same(t, u) }) {
				continue
			}
			t.Point = res.Names[pt]
			if d := res.toReference(pt); d != 0 {
				t.Start, t.End = t.Start.Add(d), t.End.Add(d)
			}
			if i := slices.IndexFunc(out, func(u model.ProbeTarget) bool { return same(t, u) }); i < 0 {
				out = append(out, t)
			} else if t.Probes > out[i].Probes {
				out[i] = t
			}
		}
	}
	return out
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
