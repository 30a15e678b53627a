package hops

import (
	"cmp"
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
)

// Placer compares what several capture points saw of the same TCP
// connections. It is given every segment of every point, each with the
// tcp.stream the point's own analysis filed it under, merged in capture
// time order (roughly: points' clocks may be offset by tens of ms). It
// matches each point's connections to flows across points, keeps per
// flow and direction a log of the sequence ranges each point saw, and
// once a range is acknowledged everywhere and any copy of it still on its
// way has had time to come (PlaceHold; on a busy connection, as soon as
// TCP timestamps prove none can: guard.go), or the flow is quiet,
// compares its copies point by point and keeps only counts: memory
// follows the open connections times the points. Not safe for concurrent
// use.
type Placer struct {
	names    []string
	byStream []streamFlows // per point: its tcp.stream -> flow
	byISN    map[uint32][]*flow
	byTuple  map[tuple][]*flow
	open     []*flow // flows with something still to compare
	// retired are the flows compared to their end, in order of
	// retirement: a clean one packed in clean, the others kept whole in
	// done.
	retired []retiredFlow
	done    []*flow
	clean   cleanFlows
	// guesses are votes of flows seen without their SYN, by their
	// ports (flow.towardServer): what picks the reference only when no
	// flow votes (every capture begun after the handshakes).
	guesses []int
	// votes are per point the retired clean flows' votes for the
	// reference (first on a handshake's client->server path).
	votes []int
	// blind are the points whose captures lack some connection whole
	// to a server (the key's), though answered past them: a capture
	// filtered on ports or hosts. That such a point lacks another
	// connection to that server is then no sign that its packets died
	// before it (noteBlind, hopsOf).
	blind map[blindKey]bool
	now   time.Time
	// nowNS is now in Unix ns (math.MinInt64 before the first time),
	// sweepAt when the next sweep is due, PlaceSweep after the last's:
	// compared for every packet as integers (time.Time's After and
	// Before were a twentieth of placing a packet).
	nowNS   int64
	sweepAt int64
	first   []time.Time // per point: its first and last segment's time
	last    []time.Time
	ended   []bool
	buf     buffers
	// The blocks directions' packets are kept in (blocks.go).
	recPool blockPool[rec]
	ackPool blockPool[arec]
	// freeDirs are retired flows' dirLogs, emptied, for the next flows
	// (newDir): a short connection's two are most of what joining it
	// allocates.
	freeDirs []*dirLog
	// freeFlows and freeMembers are clean flows packed at their
	// retirement (compact.go), emptied, and their members, for the next
	// flows: nothing refers to them once packed.
	freeFlows   []*flow
	freeMembers []*member
	// samples are per flow direction and ordered pair of points the
	// typical time from one's copy to the other's (chunk medians, ns),
	// for the clock offsets.
	samples [2][][]int64 // by direction, then a*np+b (sample)
	// content is the table of recent data segments (content.go), made
	// at the first; live the open flows by id, which it names.
	content []contentEntry
	live    map[uint32]*flow
	lastID  uint32
	// onRetire, when set, is told of each point's stream of a flow being
	// retired (OnRetire).
	onRetire func(point, stream int, clean bool)
	// onLoss, when set, is told of each flow retired with packets lost
	// between points (OnLoss).
	onLoss func(*FlowResult)
	// ackPending are, with onLoss, the flows with pure ACKs missing at a
	// point not yet told or passed over in a running line (lineAcks).
	ackPending []*flow
	// seenOnly: a point that did not see a flow is not on its path
	// (SeenOnly).
	seenOnly bool
	// isLocal, with seenOnly, names the capturing box's own addresses
	// (LocalAddrs).
	isLocal func(netip.Addr) bool
	// together: CapturedTogether.
	together bool
	// inferLocal: InferLocal; forwarded the addresses of flows seen at
	// two points or more.
	inferLocal bool
	forwarded  map[netip.Addr]bool
	// gaps are per point the spans in which its capture missed packets
	// the receiver acknowledged (gaps.go).
	gaps [][]gap
	// noAligned: tests, every chunk compared interval by interval
	// (compareAligned's result is compare's); aligned counts the chunks
	// compareAligned took.
	noAligned bool
	aligned   int
	// batch: tests, PlaceBatch (0: it); early counts the comparisons
	// compareEarly made, earlyAcks those of pure ACKs on a TSval proof.
	batch     int
	early     int
	earlyAcks int
	// noReuse: tests, every flow, member, dirLog and block made new
	// (their reuse changes nothing); reused counts the flows reused.
	noReuse bool
	reused  int
	// shiftNS are per point the ns taken off its packets' times
	// (ShiftClock), nil when none is; shifted holds the segment so
	// retimed.
	shiftNS []int64
	shifted decode.Segment
	// coverOffsets are the points' clock offsets from point 0's (ns,
	// nil unknown) once Finish has them, for covers.
	coverOffsets []*int64
}

// OnRetire sets fn to be called, as each flow is retired (compared to
// its end, closed and quiet for verdict.PlaceQuiet), once per point
// that saw it with that point's tcp.stream, and clean when nothing of
// it will be placed: every point saw it and every packet reached every
// point. A clean flow's rows gain only their points at Result.Place, so
// each point's analysis may forget a healthy one (its verdict cannot
// change) keeping no more than what Result.Place reads of it
// (Result.Forgotten).
func (p *Placer) OnRetire(fn func(point, stream int, clean bool)) { p.onRetire = fn }

// tuple is a 4-tuple without direction.
type tuple struct{ lo, hi netip.AddrPort }

func tupleOf(a, b netip.AddrPort) tuple {
	if a.Compare(b) > 0 {
		a, b = b, a
	}
	return tuple{a, b}
}

// flow is one connection across points.
type flow struct {
	at    []*member // per point; nil where the point did not see it
	isn   uint32    // the client's ISN when a SYN was seen
	syn   bool
	start time.Time
	last  time.Time
	// lastNS is last in Unix ns, math.MinInt64 before any: compared for
	// every packet.
	lastNS int64
	// dir is per direction what is still to compare, dropped at retire;
	// res what the comparisons found, kept until Finish.
	dir [2]*dirLog
	res [2]dirResult
	// closed: a FIN or RST was seen at some point.
	closed bool
	// clean: retired with nothing to place (isClean); its results keep
	// only the packets and timings.
	clean bool
	// id names it in the content table; alone: begun by a point's
	// packet that matched no other point's connection and was no SYN,
	// tries how many more of its data segments are looked up there at
	// every offset (content.go).
	id    uint32
	alone bool
	tries int8
	// everywhere: seenEverywhere found every point's member.
	everywhere bool
	// told is, with OnLoss, the packets already told lost per direction
	// and hop ({d, from, to}), and lost the total compared lost so far.
	told map[[3]int]int
	lost int
	// ackLost are, with OnLoss, the pure ACKs lineAcks found lost per
	// direction and pair of points ({d, a, b}), for the lines only (the
	// report decides them at Finish); ackPend: in Placer.ackPending.
	ackLost map[[3]int]int
	ackPend bool
}

// member is a flow as one point saw it.
type member struct {
	stream       int
	input, frame int
	ep0          netip.AddrPort // sender of the flow's direction 0 at this point
	ep1          netip.AddrPort // its receiver (the server when a SYN was seen)
	// ttl is each direction's TTL (0 unseen): its first data packet's,
	// else its first packet's. Not simply the first packet's: a box
	// sends some of a connection's packets itself, with a TTL of its
	// own (a SYN proxy's SYN to the server, a forged RST), and a capture
	// begun late sees only the forwarded ones, whose TTL a point on the
	// other side of that box took from the box's.
	ttl     [2]int
	ttlData [2]bool  // ttl is a data packet's
	seen    [2]bool  // a packet seen each direction
	rst     [2]bool  // an RST seen each direction
	acked   [2]int64 // highest cumulative ACK of each direction's data (relative)
	ackSeen [2]bool
	// ackMoved: acked rose past the first ACK seen here (paths).
	ackMoved [2]bool
	// off is, per direction, what to add to this point's sequence
	// numbers (and to acknowledgment numbers of the other direction) to
	// get the flow's: 0 unless a box between the points shifts them (a
	// SYN proxy answers the client with its own cookie as the server's
	// ISN, then conntrack shifts every server sequence number; a
	// firewall that randomizes ISNs). Known from the direction's SYN at
	// this point against the one first seen (synSeen).
	off     [2]uint32
	synSeen [2]bool
	// synIn: the capture says this point's box received the client's
	// SYN here (decode.Segment.Received), not sent it (InferLocal).
	synIn bool
	// data counts its data segments of PlaceContentBytes or more (up to
	// 255): only its first few are looked up at every offset (content.go).
	data uint8
}

// dirLog is one direction of a flow.
type dirLog struct {
	based  bool
	ref    uint32 // last sequence number unwrapped, and its relative offset
	refRel int64
	recs   blockLog[rec]
	acks   blockLog[arec]
	// ts is the direction's last TCP timestamp (TSval) seen anywhere.
	ts     uint32
	tsSeen bool
	// isn is the direction's SYN's sequence number as first seen (the
	// flow's numbering), when a SYN was seen.
	isn    uint32
	isnSet bool
	// ackRef is the last acknowledgment number of this direction's
	// data seen (the flow's numbering; ackSet): where its numbers are
	// before any of its data is seen.
	ackRef uint32
	ackSet bool
	// finEnd is the relative sequence number past the direction's FIN,
	// once one was seen (finSet).
	finEnd int64
	finSet bool
	// marks are the ranges acknowledged everywhere at each sweep; the
	// oldest past PlaceHold is the limit below which ranges are compared.
	marks []mark
	// guard is, once the direction is busy, each point's proof of how
	// far its copies are all in (guard.go); provenTo how far they were
	// compared on it, kept how many copies were left then.
	guard    []raceGuard
	provenTo int64
	kept     int
	// newest is, once the direction's pure ACKs are many, each point's
	// newest TSval of the direction's sender (guard.go); keptAcks how
	// many of them were left at the last comparison.
	newest   []newestTS
	keptAcks int
	// apart: copies of one pure ACK carried other TSvals at two points
	// (tsApart).
	apart bool
	// quoted are the sequence numbers (relative) of this direction's
	// packets that an ICMP error quoted, with its sender: those packets
	// were stopped by a box that said so, not lost (see Placer.ICMP).
	quoted []quote
}

// quote is one packet an ICMP error quoted: its relative sequence number,
// IPv4 identification (0: none) and the error's sender. ack: the quoted
// packet was a pure ACK (its IP ID is one the point saw on a packet
// without sequence space), whose sequence number is the next data's.
type quote struct {
	rel  int64
	ipid uint16
	ack  bool
	from netip.Addr
}

// quoteOf returns the ICMP error's sender that quoted a packet with
// sequence space starting at rel, if one did.
func (l *dirLog) quoteOf(rel int64) (netip.Addr, bool) {
	for _, q := range l.quoted {
		if q.rel == rel && !q.ack {
			return q.from, true
		}
	}
	return netip.Addr{}, false
}

// ackQuoteOf returns the ICMP error's sender that quoted the pure ACK
// with IPv4 identification ipid, if one did.
func (l *dirLog) ackQuoteOf(ipid uint16) (netip.Addr, bool) {
	for _, q := range l.quoted {
		if q.ack && q.ipid == ipid {
			return q.from, true
		}
	}
	return netip.Addr{}, false
}

type mark struct {
	at  time.Time
	rel int64
}

// rec is one packet's sequence range at one point, [lo, lo+n): 32
// bytes, as many as a point's packets in flight.
type rec struct {
	lo    int64 // relative sequence number
	ns    int64 // capture time
	n     int32
	point int32
	input int32
	frame int32
}

func (r *rec) hi() int64 { return r.lo + int64(r.n) }

// recsStart is how many packets per point a direction's first ranges
// have room for: a short connection's few, in one allocation.
const recsStart = 4

// arec is one packet without sequence space (a pure ACK, an RST) at
// one point. It is matched across points by its IPv4 identification and
// acknowledgment number: a sender's kernel numbers its packets one by
// one (Linux: per connection), routers keep the number, and an ACK is
// never sent again, so each key is one packet.
type arec struct {
	key   uint64
	ns    int64
	ts    uint32 // its TSval, if it carried one (hasTS)
	point int16
	hasTS bool
	input int32
	frame int32
}

// dirResult is what the comparisons found in one direction of a flow.
type dirResult struct {
	packets  []int     // per point: packets carrying sequence space
	delta    [][]int64 // [a][b]: typical time from a's copy to b's (ns), first chunk's
	hasDelta [][]bool
	// What was missing where: nil once a clean flow is retired (it has
	// none), so that its result keeps only its packets and timings.
	*lossResult
}

// lossResult is what a direction's comparisons found missing.
type lossResult struct {
	missing   [][]int          // [a][b]: packets at a not seen (wholly) at b
	missBytes [][]int64        // [a][b]: sequence space at a not seen at b
	capMissed [][]int          // [a][b]: packets at a whose bytes b's capture lacks though the receiver acknowledged them
	stopped   [][]int          // [a][b]: packets at a not seen at b that an ICMP error quoted
	quotedAt  []int            // per point: its packets that an ICMP error quoted
	icmpFrom  []netip.Addr     // the senders of those ICMP errors
	first     [][]model.Moment // per point: its first packets' frames
	frames    [][][]model.Moment
	// ackMiss are the pure ACKs seen at one point and not at another,
	// decided at Finish (gaps.go).
	ackMiss []ackMiss
	// past are the packets at a not seen at b that other points saw all
	// of, kept apart from missing until the path is known (hopsOf).
	past []pastLoss
	// unplaced are the packets at a not seen at b while other points
	// were not capturing (their capture begun later, or ended): if those
	// are all the points between a and b on the path, the packet was
	// lost between a and b past a point that could not see it, in no
	// hop of the table's (hopsOf: placeUnplaced).
	unplaced []unplacedLoss
}

// unplacedLoss is how many packets at point a point b lacks, whose
// every copy at a the points of seen saw too, while the points of
// uncaptured were not capturing (bitmasks of points below 64).
type unplacedLoss struct {
	a, b             int32
	seen, uncaptured uint64
	n                int
}

// uncaptured notes in lr packet r, direction d of flow f, at a and not
// seen at b (seen: the other points that saw all of it), when some other
// point was not compared with a for r: it had not seen the flow when r's
// fate was decided (compared, or for a pure ACK at Finish: its capture
// begun later), or was not capturing when r would have passed it
// (inWindow, by the typical delay from a to it), as the pair's own
// comparison would decide; never one that saw it.
func (p *Placer) uncaptured(f *flow, d int, lr *lossResult, a, b int, seen uint64, r *rec) {
	res := &f.res[d]
	var un uint64
	for c := range min(len(p.names), 64) {
		if c == a || c == b {
			continue
		}
		var delta int64
		if res.hasDelta != nil && res.hasDelta[a][c] {
			delta = res.delta[a][c]
		}
		if f.at[c] == nil || !p.inWindow(c, r.ns+delta) {
			un |= 1 << c
		}
	}
	un &^= seen // one that saw it was capturing, whatever its window says
	if un == 0 {
		return
	}
	for i := range lr.unplaced {
		if e := &lr.unplaced[i]; int(e.a) == a && int(e.b) == b && e.seen == seen && e.uncaptured == un {
			e.n++
			return
		}
	}
	lr.unplaced = append(lr.unplaced, unplacedLoss{a: int32(a), b: int32(b), seen: seen, uncaptured: un, n: 1})
}

// pastLoss is what packets at point a that point b lacks, whose every
// copy at a other points saw too (seen, a bitmask of points below 64),
// come to: lost between a and b if none of those points is past b on
// the path; else they went through b and b's capture missed them (a
// capture drop at a middle point, where a copy sent again reached b's
// capture and the next point's: b then lacks one copy of bytes it has,
// which looks like loss). Kept sorted by a, b and seen, so that the
// order packets are compared in changes nothing.
type pastLoss struct {
	a, b   int32
	seen   uint64
	n      int
	bytes  int64
	frames []model.Moment
}

// seenBy is the bitmask of the points other than a and b, below 64 of
// the np, for which has holds (pastLoss's seen).
func seenBy(np, a, b int, has func(c int) bool) uint64 {
	var seen uint64
	for c := range min(np, 64) {
		if c != a && c != b && has(c) {
			seen |= 1 << c
		}
	}
	return seen
}

// lose counts packet r, at a, as not (wholly) seen at b: bytes of it
// missing there, seen at the points of seen. raw is r's time on a's own
// clock (Placer.raw).
func (lr *lossResult) lose(a, b int, seen uint64, bytes int64, r *rec, raw int64) {
	if seen == 0 {
		lr.missing[a][b]++
		lr.missBytes[a][b] += bytes
		lr.frames[a][b] = addFrame(lr.frames[a][b], int(r.input), int(r.frame), raw)
		return
	}
	k := pastLoss{a: int32(a), b: int32(b), seen: seen}
	i, found := slices.BinarySearchFunc(lr.past, k, func(x, y pastLoss) int {
		return cmp.Or(cmp.Compare(x.a, y.a), cmp.Compare(x.b, y.b), cmp.Compare(x.seen, y.seen))
	})
	if !found {
		lr.past = slices.Insert(lr.past, i, k)
	}
	e := &lr.past[i]
	e.n++
	e.bytes += bytes
	e.frames = addFrame(e.frames, int(r.input), int(r.frame), raw)
}

// New returns a Placer for the points named.
func New(names []string) *Placer {
	n := len(names)
	p := &Placer{
		names:    slices.Clone(names),
		byStream: make([]streamFlows, n),
		byISN:    map[uint32][]*flow{},
		byTuple:  map[tuple][]*flow{},
		first:    make([]time.Time, n),
		last:     make([]time.Time, n),
		ended:    make([]bool, n),
		votes:    make([]int, n),
		guesses:  make([]int, n),
		gaps:     make([][]gap, n),
		live:     map[uint32]*flow{},
		clean:    cleanFlows{np: n},
		nowNS:    math.MinInt64,
		sweepAt:  math.MinInt64 + int64(verdict.PlaceSweep),
	}
	for d := range p.samples {
		p.samples[d] = make([][]int64, n*n)
	}
	return p
}

// Segment takes segment s of point, which that point's analysis filed
// under tcp.stream stream (analyze.Analyzer.LastStream; -1: none).
func (p *Placer) Segment(point, stream int, s *decode.Segment) {
	if p.shiftNS != nil && p.shiftNS[point] != 0 && !s.Time.IsZero() {
		// On the clock the others share from here on: what comes
		// out with a time (a lost packet's frame, Span, the offsets)
		// gets its own back (raw).
		p.shifted = *s
		p.shifted.Time = s.Time.Add(-time.Duration(p.shiftNS[point]))
		s = &p.shifted
	}
	ns := s.Time.UnixNano()
	if !s.Time.IsZero() {
		if p.first[point].IsZero() {
			p.first[point] = s.Time
		}
		p.last[point] = s.Time
		if ns > p.nowNS {
			p.now, p.nowNS = s.Time, ns
		}
	}
	if stream < 0 {
		return
	}
	f := p.byStream[point].get(stream)
	if f == nil {
		f = p.join(point, stream, s)
	}
	if s.Flags&decode.FlagSYN == 0 && len(s.Payload) >= verdict.PlaceContentBytes {
		if m := f.at[point]; m.data < math.MaxUint8 {
			m.data++
		}
		if len(p.names) > 1 && !f.seenEverywhere() {
			// A flow every point saw is merged with nothing more:
			// its bytes need not be filed.
			f = p.byContent(point, f, s)
		}
	}
	m := f.at[point]
	if ns > f.lastNS {
		f.last, f.lastNS = s.Time, ns
	}
	d := 0
	if s.Src != m.ep0 {
		d = 1
	}
	if !m.seen[d] {
		m.seen[d], m.ttl[d] = true, int(s.TTL)
	}
	if !m.ttlData[d] && s.PayloadLen > 0 && s.TTL != 0 {
		m.ttlData[d], m.ttl[d] = true, int(s.TTL)
	}
	if s.Flags&(decode.FlagSYN|decode.FlagACK) == decode.FlagSYN && s.Received {
		m.synIn = true
	}
	if s.Flags&decode.FlagSYN != 0 && !m.synSeen[d] {
		// A SYN's (or SYN-ACK's) sequence number is the ISN everywhere
		// the connection is the same one: an ISN other than the first
		// seen is a box's shift between the points.
		m.synSeen[d] = true
		if l := f.dir[d]; !l.isnSet {
			l.isn, l.isnSet = s.Seq, true
		} else {
			m.off[d] = l.isn - s.Seq
		}
	}
	seq, ack := s.Seq+m.off[d], s.Ack+m.off[1-d]
	if s.Flags&decode.FlagACK != 0 {
		f.dir[1-d].ackRef, f.dir[1-d].ackSet = ack, true
	}
	var a int64
	if s.Flags&decode.FlagACK != 0 && f.dir[1-d].based {
		a = f.dir[1-d].rel(ack)
		if !m.ackSeen[1-d] || a > m.acked[1-d] {
			m.ackMoved[1-d] = m.ackSeen[1-d]
			m.acked[1-d], m.ackSeen[1-d] = a, true
		}
	}
	if f.dir[0].guard != nil || f.dir[1].guard != nil {
		f.guardSegment(point, d, s, a, s.Flags&decode.FlagACK != 0 && f.dir[1-d].based)
	}
	if l := f.dir[d]; l.newest != nil && s.Options.Timestamp {
		l.newest[point].see(s.Options.TSVal)
	}
	if s.Flags&(decode.FlagFIN|decode.FlagRST) != 0 {
		f.closed = true
	}
	if s.Flags&decode.FlagRST != 0 {
		m.rst[d] = true
	}
	if s.Options.Timestamp {
		f.dir[d].ts, f.dir[d].tsSeen = s.Options.TSVal, true
	}
	n := s.PayloadLen
	if s.Flags&decode.FlagSYN != 0 {
		n++
	}
	if s.Flags&decode.FlagFIN != 0 {
		n++
	}
	if n == 0 && s.IPVersion == 4 && s.IPID != 0 {
		// Without an IP ID (IPv6, a SYN-ACK's 0) a packet without
		// sequence space cannot be told from its neighbours: not
		// compared.
		f.dir[d].acks.push(arec{point: int16(point), key: uint64(s.IPID)<<32 | uint64(ack), ns: ns, ts: s.Options.TSVal, hasTS: s.Options.Timestamp, input: int32(s.Input), frame: int32(s.Frame)}, &p.ackPool, recsStart*len(p.names))
		if len(p.names) > 1 {
			p.compareAcksEarly(f, d)
		}
	}
	if n > 0 {
		l := f.dir[d]
		if !l.based {
			l.based, l.ref, l.refRel = true, seq, 0
		}
		lo := l.rel(seq)
		if s.Flags&decode.FlagFIN != 0 && (!l.finSet || lo+int64(n) > l.finEnd) {
			l.finEnd, l.finSet = lo+int64(n), true
		}
		// Each packet comes once per point: the first block has room
		// for a few each.
		l.recs.push(rec{point: int32(point), lo: lo, n: int32(n), ns: ns, input: int32(s.Input), frame: int32(s.Frame)}, &p.recPool, recsStart*len(p.names))
		if len(p.names) > 1 {
			p.compareEarly(f, d)
		}
	}
	if p.nowNS >= p.sweepAt {
		p.sweep()
	}
}

// maxFreeDirs bounds Placer.freeDirs and freeFlows (freeMembers: as
// many a point): the flows retired at one sweep of a storm of short
// connections, about.
const maxFreeDirs = 4096

// newDir returns an empty dirLog: a retired flow's, or a new one.
func (p *Placer) newDir() *dirLog {
	if l := reuse(p, &p.freeDirs); l != nil {
		return l
	}
	return &dirLog{}
}

// reuse takes the last of free, nil if none (or with noReuse).
func reuse[T any](p *Placer, free *[]*T) *T {
	n := len(*free)
	if n == 0 || p.noReuse {
		return nil
	}
	x := (*free)[n-1]
	(*free)[n-1] = nil
	*free = (*free)[:n-1]
	return x
}

// freeDir keeps l, of a flow being retired, for newDir: its blocks go
// back to their pools and it is emptied, but for the room of its lists
// of blocks and of marks.
func (p *Placer) freeDir(l *dirLog) {
	if l == nil {
		return
	}
	l.recs.reset(&p.recPool)
	l.acks.reset(&p.ackPool)
	if len(p.freeDirs) >= maxFreeDirs {
		return
	}
	recs, acks, marks := l.recs.blocks[:0], l.acks.blocks[:0], l.marks[:0]
	*l = dirLog{}
	l.recs.blocks, l.acks.blocks, l.marks = recs, acks, marks
	p.freeDirs = append(p.freeDirs, l)
}

// rel unwraps sequence number seq to the direction's relative offset,
// from the last one unwrapped: a connection may send more than 4 GB.
func (l *dirLog) rel(seq uint32) int64 {
	r := l.refRel + int64(int32(seq-l.ref))
	if r > l.refRel {
		l.ref, l.refRel = seq, r
	}
	return r
}

// join files point's new stream under a flow: the one another point saw
// with the same client ISN (sequence numbers survive NAT), else the same
// 4-tuple, not yet seen at this point and begun within
// PlaceMatchWindow; else a new flow.
func (p *Placer) join(point, stream int, s *decode.Segment) *flow {
	syn := s.Flags&decode.FlagSYN != 0
	var isn uint32
	ep0 := s.Src // the flow's direction 0 is the client's when a SYN shows it
	if syn {
		isn = s.Seq
		if s.Flags&decode.FlagACK != 0 {
			isn, ep0 = s.Ack-1, s.Dst
		}
	}
	free := func(f *flow) bool {
		return f.at[point] == nil && absDur(s.Time.Sub(f.start)) <= verdict.PlaceMatchWindow
	}
	var f *flow
	if syn {
		for _, g := range p.byISN[isn] {
			if g.syn && free(g) {
				f = g
				break
			}
		}
	}
	k := tupleOf(s.Src, s.Dst)
	if f == nil {
		for _, g := range p.byTuple[k] {
			if free(g) && (!syn || !g.syn || g.isn == isn) {
				if !syn {
					// Matched by the tuple alone (this point's capture
					// began after the SYN, if another saw it): the
					// direction is the one the other points number,
					// whichever way this point's first packet went
					// (the server's data, on a capture begun late), and
					// the numbers must be the flow's there, or near:
					// past a SYN proxy that keeps the 4-tuple, the
					// server's are shifted (content matching finds by
					// how much).
					e0 := p.ep0Of(g, k)
					if !p.numbersNear(g, k, e0, s) {
						continue
					}
					ep0 = e0
				}
				f = g
				break
			}
		}
	}
	if f == nil && !syn {
		f, ep0 = p.bySeq(point, s, ep0)
	}
	if f == nil {
		p.lastID++
		f = p.newFlow()
		f.start, f.lastNS, f.syn, f.isn, f.dir, f.id = s.Time, math.MinInt64, syn, isn, [2]*dirLog{p.newDir(), p.newDir()}, p.lastID
		if !syn {
			f.alone, f.tries = true, contentTries
		}
		p.open = append(p.open, f)
		p.live[f.id] = f
	} else if syn && !f.syn {
		f.syn, f.isn = true, isn
	}
	if syn {
		p.byISN[isn] = appendFlow(p.byISN[isn], f)
	}
	p.byTuple[k] = appendFlow(p.byTuple[k], f)
	ep1 := s.Dst
	if ep0 == s.Dst {
		ep1 = s.Src
	}
	m := p.newMember()
	m.stream, m.input, m.frame, m.ep0, m.ep1 = stream, s.Input, s.Frame, ep0, ep1
	if !syn {
		// Joined by its 4-tuple (or its numbers): a point that shares
		// the 4-tuple numbers it as that point does, whose offsets
		// onto the flow's numbering (a SYN proxy's shift, found by a
		// content match before this point saw a packet) are its own.
		m.off = f.offsetsOf(k)
	}
	f.at[point] = m
	p.byStream[point].set(stream, f)
	if p.inferLocal && !f.seenOnce() {
		p.markForwarded(f)
	}
	return f
}

// seenOnce reports whether one point alone saw flow f so far.
func (f *flow) seenOnce() bool {
	n := 0
	for _, m := range f.at {
		if m != nil {
			n++
		}
	}
	return n == 1
}

// offsetsOf returns the offsets onto f's numbering of its point that has
// 4-tuple k, none if no point has.
func (f *flow) offsetsOf(k tuple) [2]uint32 {
	for _, o := range f.at {
		if o != nil && tupleOf(o.ep0, o.ep1) == k {
			return o.off
		}
	}
	return [2]uint32{}
}

// numbersNear reports whether segment s, of 4-tuple k whose direction 0
// is sent by ep0, carries sequence and acknowledgment numbers within
// PlaceSeqWindow of where flow g's other points with that 4-tuple number
// the connection (a direction not yet numbered is near).
func (p *Placer) numbersNear(g *flow, k tuple, ep0 netip.AddrPort, s *decode.Segment) bool {
	off := g.offsetsOf(k)
	d := 0
	if s.Src != ep0 {
		d = 1
	}
	near := func(l *dirLog, seq uint32) bool {
		ref := l.ref
		switch {
		case l.based:
		case l.ackSet:
			ref = l.ackRef // its data not seen yet: where it is acknowledged
		default:
			return true
		}
		x := int64(int32(seq - ref))
		return x > -verdict.PlaceSeqWindow && x < verdict.PlaceSeqWindow
	}
	if !near(g.dir[d], s.Seq+off[d]) {
		return false
	}
	return s.Flags&decode.FlagACK == 0 || near(g.dir[1-d], s.Ack+off[1-d])
}

// bySeq finds the open flow, recently active and not yet at point, whose
// two directions' sequence numbers s's sequence and acknowledgment
// numbers continue (and its TCP timestamp, when both have one): a
// connection whose capture at point began after its SYN, under another
// 4-tuple (NAT). It returns the flow and the sender of its direction 0
// at point, or nil and ep0.
func (p *Placer) bySeq(point int, s *decode.Segment, ep0 netip.AddrPort) (*flow, netip.AddrPort) {
	if s.Flags&decode.FlagACK == 0 {
		return nil, ep0
	}
	near := func(l *dirLog, seq uint32) bool {
		d := int64(int32(seq - l.ref))
		return l.based && d > -verdict.PlaceSeqWindow && d < verdict.PlaceSeqWindow
	}
	for _, f := range p.open {
		if f.at[point] != nil || s.Time.Sub(f.last) > verdict.PlaceHold {
			continue
		}
		for o := range f.dir {
			l, back := f.dir[o], f.dir[1-o]
			if !near(l, s.Seq) || !near(back, s.Ack) {
				continue
			}
			if s.Options.Timestamp && l.tsSeen {
				if d := int64(int32(s.Options.TSVal - l.ts)); d < -verdict.PlaceTSWindow || d > verdict.PlaceTSWindow {
					continue
				}
			}
			if o == 0 {
				return f, s.Src
			}
			return f, s.Dst
		}
	}
	return nil, ep0
}

// ep0Of is the sender of flow g's direction 0 at a point where its
// tuple is k.
func (p *Placer) ep0Of(g *flow, k tuple) netip.AddrPort {
	for _, m := range g.at {
		if m != nil && (m.ep0 == k.lo || m.ep0 == k.hi) {
			return m.ep0
		}
	}
	return k.lo
}

func appendFlow(fs []*flow, f *flow) []*flow {
	if slices.Contains(fs, f) {
		return fs
	}
	return append(fs, f)
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// EndPoint says point's inputs are all read: ranges sent after its last
// packet are not counted as lost before it.
func (p *Placer) EndPoint(point int) { p.ended[point] = true }

// Span returns the capture times of point's first and last TCP segments
// (zero before any): what it captured of the connections compared.
func (p *Placer) Span(point int) (first, last time.Time) {
	first, last = p.first[point], p.last[point]
	if p.shiftNS != nil && !first.IsZero() {
		d := time.Duration(p.shiftNS[point])
		first, last = first.Add(d), last.Add(d)
	}
	return first, last
}

// ShiftClock takes d off the times of point's packets before they are
// compared (ClockProbe.Shifts: that capture's clock is d ahead of the
// one most captures agree on), so that copies of a packet meet within
// verdict.PlaceHold however far the captures' clocks are apart. Every
// time the Placer gives out (a lost packet's frame, Span) is on the
// point's own clock, and Result.OffsetMs counts d in. Call it before
// the first segment.
func (p *Placer) ShiftClock(point int, d time.Duration) {
	if d == 0 {
		return
	}
	if p.shiftNS == nil {
		p.shiftNS = make([]int64, len(p.names))
	}
	p.shiftNS[point] = int64(d)
}

// raw is ns, a time of point's packet as the Placer compares it, on
// that point's own clock (ShiftClock).
func (p *Placer) raw(point int, ns int64) int64 {
	if p.shiftNS == nil {
		return ns
	}
	return ns + p.shiftNS[point]
}

// ICMP takes an ICMP error point captured (in capture order with its
// segments) that quotes a segment of one of that point's connections: a
// box stopped that segment and said so (a firewall's reject, a route
// missing, fragmentation needed, a TTL that ran out), so a packet of that
// sequence number missing past point was not lost on the way: it is
// counted apart (HopResult.ICMP). Errors quoting no connection the point
// saw are ignored.
func (p *Placer) ICMP(point int, e *decode.ICMPError) {
	var f *flow
	for _, g := range p.byTuple[tupleOf(e.Src, e.Dst)] {
		if g.at[point] != nil && (f == nil || g.start.After(f.start)) {
			f = g
		}
	}
	if f == nil {
		return
	}
	m := f.at[point]
	d := 0
	switch e.Src {
	case m.ep0:
	case m.ep1:
		d = 1
	default:
		return
	}
	l := f.dir[d]
	if !l.based {
		return
	}
	q := quote{rel: l.refRel + int64(int32(e.Seq+m.off[d]-l.ref)), ipid: e.IPID, from: e.From}
	if q.ipid != 0 {
		q.ack = l.acks.any(func(r *arec) bool { return int(r.point) == point && uint16(r.key>>32) == q.ipid })
	}
	if slices.ContainsFunc(l.quoted, func(o quote) bool { return o.rel == q.rel && o.ack == q.ack && o.ipid == q.ipid }) || len(l.quoted) >= maxQuoted {
		return
	}
	l.quoted = append(l.quoted, q)
}

// maxQuoted bounds the ICMP-quoted packets kept per connection and
// direction: a firewall that rejects a whole connection quotes its every
// retransmission of the same few sequence numbers; past this many distinct
// ones, further stopped packets count as lost.
const maxQuoted = 256

// sweep compares what is due in every open flow and retires the done
// ones.
func (p *Placer) sweep() {
	p.sweepAt = p.nowNS + int64(verdict.PlaceSweep)
	keep := p.open[:0]
	for _, f := range p.open {
		quiet := p.now.Sub(f.last)
		for d := range f.dir {
			l := f.dir[d]
			p.compareAcks(f, d, p.now.Add(-verdict.PlaceHold).UnixNano(), tsProof{})
			if quiet >= verdict.PlaceHold {
				p.compareRest(f, d)
				continue
			}
			if lim, ok := l.due(f, d, p.now); ok {
				p.compare(f, d, lim)
			}
		}
		if f.closed && (quiet >= verdict.PlaceQuiet || quiet >= verdict.PlaceHold && f.shutDown(len(p.names))) {
			p.retire(f)
			continue
		}
		if p.onLoss != nil && f.lostNow() > f.lost {
			// A long-lived connection is told as it loses, not only
			// once it is done.
			p.tellLoss(f)
		}
		keep = append(keep, f)
	}
	clear(p.open[len(keep):])
	p.open = keep
	if len(p.ackPending) > 0 {
		p.lineAcks()
	}
}

// shutDown reports whether flow f was seen at every one of the np points
// and each saw both directions' FINs acknowledged: nothing of it is to
// come (no FIN is sent again), so that once quiet for PlaceHold it is
// retired without waiting PlaceQuiet for FINs sent again, and each
// point's analysis forgets its connection the sooner. A point that did
// not see the flow may be one whose clock is behind: it waits.
func (f *flow) shutDown(np int) bool {
	if len(f.at) < np {
		return false
	}
	for d := range f.dir {
		if l := f.dir[d]; l == nil || !l.finSet {
			return false
		}
	}
	for _, m := range f.at {
		if m == nil || m.rst[0] || m.rst[1] {
			return false
		}
		for d := range f.dir {
			if !m.ackSeen[d] || m.acked[d] < f.dir[d].finEnd {
				return false
			}
		}
	}
	return true
}

// due records the range of direction d acknowledged at every point that
// saw the flow now, and returns the latest one recorded PlaceHold ago.
func (l *dirLog) due(f *flow, d int, now time.Time) (int64, bool) {
	min, ok := int64(0), false
	for _, m := range f.at {
		if m == nil {
			continue
		}
		if !m.ackSeen[d] {
			ok = false
			break
		}
		if !ok || m.acked[d] < min {
			min, ok = m.acked[d], true
		}
	}
	if ok {
		l.marks = append(l.marks, mark{at: now, rel: min})
	}
	lim, found := int64(0), false
	for len(l.marks) > 0 && now.Sub(l.marks[0].at) >= verdict.PlaceHold {
		lim, found = l.marks[0].rel, true
		l.marks = l.marks[1:]
	}
	return lim, found
}

// compareRest compares everything left of direction d of flow f. Past
// restPiece packets, up to each range acknowledged everywhere at a sweep
// in turn, as the sweeps to come would have, then the rest: one
// comparison of all would take as much memory again as the packets held
// (its index of them), at the end of a capture of a fast connection
// PlaceHold+PlaceSweep of its packets at every point.
func (p *Placer) compareRest(f *flow, d int) {
	l := f.dir[d]
	if l.recs.len() > restPiece {
		for _, m := range l.marks {
			p.compare(f, d, m.rel)
		}
		l.marks = l.marks[:0]
	}
	p.compare(f, d, 1<<62)
}

// restPiece is how many packets (all points') compareRest compares at
// once when it can cut them: a few hundred KB of index. Fewer are
// compared whole, as they always were: a cut changes which copies the
// clock offsets are sampled from, by microseconds.
const restPiece = 8192

// retire compares everything left of flow f and forgets its segments.
func (p *Placer) retire(f *flow) {
	for d := range f.dir {
		p.compareRest(f, d)
		p.compareAcks(f, d, 1<<62, tsProof{})
	}
	// Only the counts stay until Finish: a few hundred bytes per
	// connection and pair of points, not its packets.
	for _, l := range f.dir {
		p.freeDir(l)
	}
	f.dir = [2]*dirLog{}
	for point, m := range f.at {
		if m == nil {
			continue
		}
		p.byStream[point].del(m.stream)
		// f is filed under each point's 4-tuple of it (join, merge).
		k := tupleOf(m.ep0, m.ep1)
		if fs := p.byTuple[k]; fs != nil {
			if i := slices.Index(fs, f); i >= 0 {
				if len(fs) == 1 {
					delete(p.byTuple, k)
				} else {
					p.byTuple[k] = slices.Delete(fs, i, i+1)
				}
			}
		}
	}
	if f.syn {
		fs := p.byISN[f.isn]
		if i := slices.Index(fs, f); i >= 0 {
			if len(fs) == 1 {
				delete(p.byISN, f.isn)
			} else {
				p.byISN[f.isn] = slices.Delete(fs, i, i+1)
			}
		}
	}
	delete(p.live, f.id)
	f.clean = f.isClean(p.seenOnlyFor(f))
	e := retiredFlow{start: f.start.UnixNano(), chunk: -1}
	if f.clean {
		// Nothing of it to place: Finish reads only its packets and
		// path (the hop table's counts), packed unless ordering its
		// points needs the clocks' offsets.
		for d := range f.dir {
			f.res[d].lossResult = nil
		}
		usedOffsets := false
		path := f.paths(func(a, b int) int64 { usedOffsets = true; return 0 })
		if !usedOffsets && !f.start.IsZero() {
			e.chunk, e.off = p.clean.add(f, path)
			if f.syn && len(path[0]) > 1 {
				p.votes[path[0][0]]++
			} else if d := f.towardServer(); !f.syn && d >= 0 && len(path[d]) > 1 {
				p.guesses[path[d][0]]++
			}
		}
	}
	if !f.clean && p.onLoss != nil {
		p.tellLoss(f) // what it lost since the last sweep, or since it was seen
	}
	if e.chunk < 0 {
		e.off = int32(len(p.done))
		p.done = append(p.done, f)
	}
	p.retired = append(p.retired, e)
	if p.onRetire != nil {
		clean := f.clean
		for point, m := range f.at {
			if m != nil {
				p.onRetire(point, m.stream, clean)
			}
		}
	}
	if e.chunk >= 0 && !f.ackPend {
		p.freeFlow(f)
	}
}

// newFlow returns an empty flow with room for every point: a packed
// clean one's, or a new one.
func (p *Placer) newFlow() *flow {
	if f := reuse(p, &p.freeFlows); f != nil && len(f.at) == len(p.names) { // else a point was added since (AddPoint)
		p.reused++
		return f
	}
	return &flow{at: make([]*member, len(p.names))}
}

// newMember returns an empty member: a packed clean flow's, or a new one.
func (p *Placer) newMember() *member {
	if m := reuse(p, &p.freeMembers); m != nil {
		return m
	}
	return &member{}
}

// freeFlow keeps flow f, retired and packed (Finish reads only the
// packed copy), and its members for newFlow and newMember, emptied.
func (p *Placer) freeFlow(f *flow) {
	if len(p.freeFlows) >= maxFreeDirs {
		return
	}
	for i, m := range f.at {
		if m != nil && len(p.freeMembers) < maxFreeDirs*len(p.names) {
			*m = member{}
			p.freeMembers = append(p.freeMembers, m)
		}
		f.at[i] = nil
	}
	*f = flow{at: f.at}
	p.freeFlows = append(p.freeFlows, f)
}

// isClean reports whether flow f, compared to its end, has nothing to
// place: every point saw it (with seenOnly, those that did are all its
// path), and in each direction each packet was seen wholly at every
// point that saw it, none quoted by an ICMP error. Finish then makes no
// hop of it with a loss, a refusal or a stop, whatever the order of its
// points (absentOnPath needs a point that did not see it).
func (f *flow) isClean(seenOnly bool) bool {
	for _, m := range f.at {
		if m == nil && !seenOnly {
			return false
		}
	}
	for d := range f.dir {
		r := &f.res[d]
		if r.packets == nil || r.lossResult == nil {
			continue
		}
		if len(r.ackMiss) > 0 || len(r.past) > 0 {
			return false
		}
		for a := range r.missing {
			if r.quotedAt[a] != 0 {
				return false
			}
			for b := range r.missing[a] {
				if r.missing[a][b] != 0 || r.stopped[a][b] != 0 || r.capMissed[a][b] != 0 {
					return false
				}
			}
		}
	}
	return true
}

// compare compares, in direction d of flow f, the ranges that end at or
// below lim, and drops them. Each byte range (cut where any point's
// packets begin or end: TSO, GSO and GRO cut the same bytes differently
// at each point) has its copies at each point; for two points a and b,
// each copy at b is paired with the copy at a nearest the typical time
// from a to b, and a packet at a with a byte whose copy found no pair at
// b did not (wholly) reach b.
func (p *Placer) compare(f *flow, d int, lim int64) {
	l := f.dir[d]
	chunk := takeUpTo(&l.recs, lim, p.buf.chunk[:0], &p.recPool)
	p.buf.chunk = chunk
	if len(chunk) == 0 {
		return
	}
	np := len(p.names)
	res := &f.res[d]
	res.init(np)
	if !p.noAligned && p.compareAligned(f, d, chunk) {
		return
	}
	bounds := p.buf.bounds[:0]
	// A range's copies at the points come side by side: its bounds are
	// left out where they repeat one of the last few added, which makes
	// the sort a quarter as long with four points (the set is the same).
	// Newest first: a bound repeats one added a step or two before (the
	// last copy's, or the same point's last packet's end); past the
	// highest yet (the next range's end, the first copy of it) it is
	// new.
	top := int64(math.MinInt64)
	seen := func(x int64) bool {
		if x > top {
			top = x
			return false
		}
		for j := len(bounds) - 1; j >= max(len(bounds)-8, 0); j-- {
			if bounds[j] == x {
				return true
			}
		}
		return false
	}
	for _, r := range chunk {
		if lo := r.lo; !seen(lo) {
			bounds = append(bounds, lo)
		}
		if hi := r.hi(); !seen(hi) {
			bounds = append(bounds, hi)
		}
	}
	slices.Sort(bounds)
	bounds = slices.Compact(bounds)
	p.buf.bounds = bounds
	n := len(bounds) - 1
	// idx is x's index in bounds, where it is. The chunk's packets come
	// in capture order, a range's copies at the points side by side and
	// the next range after them: x is nearly always within a step or two
	// of the index found before, looked at first (a binary search for
	// each took a tenth of four bulk points' comparing).
	near := 0
	idx := func(x int64) int {
		// A packet's start is nearly always the index found last (the
		// last copy's end), or one before (another point's copy of the
		// same range); its end the next.
		if bounds[near] == x {
			return near
		}
		if near < n && bounds[near+1] == x {
			near++
			return near
		}
		for j := max(near-2, 0); j <= min(near+2, n); j++ {
			if bounds[j] == x {
				near = j
				return j
			}
		}
		near, _ = slices.BinarySearch(bounds, x)
		return near
	}
	// The copies of each interval at each point, in capture order, as
	// one flat list: point pt's copies of interval i are
	// cs.recs[cs.start[pt*(n+1)+i] : cs.start[pt*(n+1)+i+1]].
	span := slices.Grow(p.buf.span[:0], len(chunk))[:len(chunk)]
	start := slices.Grow(p.buf.start[:0], np*(n+1)+1)[:np*(n+1)+1]
	clear(start)
	allSeen := f.seenEverywhere()
	for ri, r := range chunk {
		lo, hi := idx(r.lo), idx(r.hi())
		span[ri] = [2]int32{int32(lo), int32(hi)}
		for i := lo; i < hi; i++ {
			start[int(r.point)*(n+1)+i+1]++
		}
		res.counted(l, &r, allSeen, np, p.raw(int(r.point), r.ns))
	}
	for k := 1; k < len(start); k++ {
		start[k] += start[k-1]
	}
	recs := slices.Grow(p.buf.recs[:0], int(start[len(start)-1]))[:start[len(start)-1]]
	fill := slices.Grow(p.buf.fill[:0], len(start))[:len(start)]
	copy(fill, start)
	for ri, r := range chunk {
		for i := span[ri][0]; i < span[ri][1]; i++ {
			k := int(r.point)*(n+1) + int(i)
			recs[fill[k]] = int32(ri)
			fill[k]++
		}
	}
	p.buf.span, p.buf.start, p.buf.recs, p.buf.fill = span, start, recs, fill
	copiesOf := func(pt, i int) []int32 {
		k := pt*(n+1) + i
		return recs[start[k]:start[k+1]]
	}
	// The fewest and most copies of an interval at each point: a pair
	// where a's most is no more than b's fewest has nothing of a's
	// that b lacks, and is not looked at interval by interval (every
	// pair of a clean chunk: each interval once at every point).
	// odd are, per point, the intervals it has other than one copy of:
	// odd[oddAt[pt]:oddAt[pt+1]], ascending. Where both a and b have one
	// copy b lacks nothing of a's, so a pair is looked at only in the
	// intervals odd at either (a packet lost before b, one sent again).
	fewest := slices.Grow(p.buf.fewest[:0], np)[:np]
	most := slices.Grow(p.buf.most[:0], np)[:np]
	odd, oddAt := p.buf.odd[:0], slices.Grow(p.buf.oddAt[:0], np+1)[:np+1]
	for pt := range np {
		lo, hi := int32(math.MaxInt32), int32(0)
		oddAt[pt] = int32(len(odd))
		for i := range n {
			c := start[pt*(n+1)+i+1] - start[pt*(n+1)+i]
			lo, hi = min(lo, c), max(hi, c)
			if c != 1 {
				odd = append(odd, int32(i))
			}
		}
		fewest[pt], most[pt] = lo, hi
	}
	oddAt[np] = int32(len(odd))
	p.buf.fewest, p.buf.most, p.buf.odd, p.buf.oddAt = fewest, most, odd, oddAt
	missed, capMissed := p.buf.missed, slices.Grow(p.buf.capMissed[:0], len(chunk))[:len(chunk)]
	clear(capMissed)
	p.buf.capMissed = capMissed
	stopped := slices.Grow(p.buf.stopped[:0], len(chunk))[:len(chunk)]
	clear(stopped)
	p.buf.stopped = stopped
	// past and mbytes are, for a packet marked missed, the points that
	// saw all of it (pastLoss) and its bytes b lacks.
	past := slices.Grow(p.buf.past[:0], len(chunk))[:len(chunk)]
	clear(past)
	mbytes := slices.Grow(p.buf.mbytes[:0], len(chunk))[:len(chunk)]
	clear(mbytes)
	p.buf.past, p.buf.mbytes = past, mbytes
	delivered := f.delivered(d)
	// missed, capMissed and stopped are all false at each pair's start:
	// the pair's loop over the chunk clears what it marked.
	missed = slices.Grow(missed[:0], len(chunk))[:len(chunk)]
	clear(missed)
	typical := func(a, b int) (int64, int64, bool) {
		return p.typicalDelta(chunk, n, recs, start[a*(n+1):], start[b*(n+1):])
	}
	p.eachPair(f, res, typical, func(a, b int, delta int64, ok bool) {
		delta = p.pairDelta(res, d, a, b, delta, ok)
		if most[a] <= fewest[b] {
			return
		}
		// The packets at a marked (missed, capMissed or stopped),
		// each once per interval of it marked.
		marked := p.buf.marked[:0]
		oa, ob := odd[oddAt[a]:oddAt[a+1]], odd[oddAt[b]:oddAt[b+1]]
		for len(oa) > 0 || len(ob) > 0 {
			// The next interval odd at a or b, in order.
			var i int
			switch {
			case len(ob) == 0 || len(oa) > 0 && oa[0] < ob[0]:
				i, oa = int(oa[0]), oa[1:]
			case len(oa) == 0 || ob[0] < oa[0]:
				i, ob = int(ob[0]), ob[1:]
			default:
				i, oa, ob = int(oa[0]), oa[1:], ob[1:]
			}
			as, bs := copiesOf(a, i), copiesOf(b, i)
			if len(as) <= len(bs) {
				continue
			}
			// Bytes b never saw a copy of that the receiver
			// acknowledged got through: b's capture missed them
			// (tcpdump's buffer overflowed), the network did not
			// lose them.
			captured := len(bs) > 0 || bounds[i+1] > delivered
			for _, ri := range p.unpaired(chunk, as, bs, delta) {
				// When b would have seen it, on b's clock.
				if !p.inWindow(b, chunk[ri].ns+delta) {
					continue
				}
				marked = append(marked, ri)
				if _, ok := l.quoteOf(chunk[ri].lo); ok {
					// A box between said it stopped it.
					stopped[ri] = true
					continue
				}
				if captured {
					// Which other points saw every copy a
					// saw of these bytes (pastLoss).
					seen := seenBy(np, a, b, func(c int) bool { return f.at[c] != nil && len(copiesOf(c, i)) >= len(as) })
					if !missed[ri] {
						past[ri] = seen
					}
					past[ri] &= seen
					mbytes[ri] += bounds[i+1] - bounds[i]
					missed[ri] = true
				} else {
					capMissed[ri] = true
					p.noteGap(b, chunk[ri].ns+delta)
				}
			}
		}
		p.buf.marked = marked
		if len(marked) == 0 {
			// Every copy at a has one at b (the common case): nothing
			// of the chunk to count for the pair.
			return
		}
		// In chunk order, as the frames are kept (addFrame); a packet
		// marked in several intervals counts once, its marks cleared
		// the first time.
		slices.Sort(marked)
		for _, ri := range marked {
			r := &chunk[ri]
			switch {
			case missed[ri]:
				res.loss(np).lose(a, b, past[ri], mbytes[ri], r, p.raw(a, r.ns))
				p.uncaptured(f, d, res.loss(np), a, b, past[ri], r)
			case stopped[ri]:
				res.loss(np).stopped[a][b]++
			case capMissed[ri]:
				res.loss(np).capMissed[a][b]++
			}
			missed[ri], capMissed[ri], stopped[ri] = false, false, false
			past[ri], mbytes[ri] = 0, 0
		}
	})
	p.buf.missed = missed
}

// buffers are compare's scratch space, kept between calls: a busy
// connection's ranges are compared every PlaceSweep.
type buffers struct {
	chunk     []rec
	bounds    []int64
	span      [][2]int32
	start     []int32
	fill      []int32
	recs      []int32
	missed    []bool
	capMissed []bool
	stopped   []bool
	past      []uint64
	mbytes    []int64
	deltas    []int64
	taken     []bool
	fewest    []int32 // per point, compare's
	most      []int32
	odd       []int32 // compare's intervals not once at a point, and where each point's begin
	oddAt     []int32
	marked    []int32 // compare's packets marked for a pair of points
	// mirror is, by b*np+a, the typical delta from b to a that
	// typicalDelta gave with a to b's (set), for b's turn.
	mirror []mirrorDelta
	// compareAligned's: the reference point's ranges, each point's
	// count so far, the copies' times, the ranges typicalDelta reads.
	refs    []int32
	perm    []int32
	sorted  []int32
	pos     []int32
	ord     []int32
	at      []int32
	sampled []int32
	out     []int32
	// compareAcks': all the direction's packets, the due ones, their
	// copies' spans in it, and copies per point.
	aall    []arec
	achunk  []arec
	agroups [][2]int32
	acount  []int
}

// compareAcks compares, in direction d of flow f, the packets without
// sequence space of which some copy was seen by the time before, and
// drops them. The other copies of such a packet were read too: points are
// read in time order, and a copy at another point comes within the path
// delay plus the clocks' offset, far less than PlaceHold. A packet at a
// with more copies than at b lost the extra ones between them.
func (p *Placer) compareAcks(f *flow, d int, before int64, proof tsProof) {
	l := f.dir[d]
	if !l.acks.any(func(r *arec) bool { return r.ns <= before || proof.passed(r) }) {
		return
	}
	np := len(p.names)
	// Each packet's copies side by side (in the order they were read:
	// the sort is stable), without a map per flow and sweep; a packet is
	// due when one copy is.
	acks := l.acks.appendTo(p.buf.aall[:0])
	p.buf.aall = acks
	l.acks.reset(&p.ackPool)
	slices.SortStableFunc(acks, func(a, b arec) int { return cmp.Compare(a.key, b.key) })
	if proof.ok && l.tsApart(acks) {
		// The points number the sender's timestamps apart (a box
		// between rewrites them): one point's newest says nothing of
		// another's. The ACKs wait PlaceHold.
		proof = tsProof{}
	}
	if proof.ok {
		p.earlyAcks++
	}
	chunk, groups := p.buf.achunk[:0], p.buf.agroups[:0]
	for i := 0; i < len(acks); {
		j, due := i, false
		for ; j < len(acks) && acks[j].key == acks[i].key; j++ {
			due = due || acks[j].ns <= before || proof.passed(&acks[j])
		}
		if due {
			groups = append(groups, [2]int32{int32(len(chunk)), int32(len(chunk) + j - i)})
			chunk = append(chunk, acks[i:j]...)
		} else {
			for _, r := range acks[i:j] {
				l.acks.push(r, &p.ackPool, recsStart*np)
			}
		}
		i = j
	}
	p.buf.achunk, p.buf.agroups = chunk, groups
	res := &f.res[d]
	res.init(np)
	allSeen := f.seenEverywhere()
	for _, r := range chunk {
		res.packets[r.point]++
		if !allSeen {
			lr := res.loss(np)
			lr.first[r.point] = addFrame(lr.first[r.point], int(r.input), int(r.frame), p.raw(int(r.point), r.ns))
		}
	}
	count := slices.Grow(p.buf.acount[:0], np)[:np]
	p.buf.acount = count
	for _, g := range groups {
		cs := chunk[g[0]:g[1]]
		clear(count)
		for _, r := range cs {
			count[r.point]++
		}
		for a := range np {
			for b := range np {
				if a == b || f.at[a] == nil || f.at[b] == nil || count[a] <= count[b] {
					continue
				}
				var delta int64 // from a to b, as this direction's data showed
				if res.hasDelta[a][b] {
					delta = res.delta[a][b]
				}
				// Where a and b saw other handshakes (the server's ISN
				// shifted between them), a box between completed the
				// handshake with each side itself, a SYN proxy: it
				// consumes the client's handshake ACK.
				proxied := f.at[a].off[1-d] != f.at[b].off[1-d] && f.dir[1-d].isnSet
				seen := 0
				for _, r := range cs {
					if int(r.point) != a {
						continue
					}
					if seen++; seen <= count[b] {
						continue // paired with one of b's copies
					}
					if !p.inWindow(b, r.ns+delta) {
						continue
					}
					if proxied && uint32(r.key) == f.dir[1-d].isn+1 {
						continue
					}
					if from, ok := l.ackQuoteOf(uint16(r.key >> 32)); ok {
						// A box between said it stopped it.
						lr := res.loss(np)
						lr.stopped[a][b]++
						if !slices.Contains(lr.icmpFrom, from) {
							lr.icmpFrom = append(lr.icmpFrom, from)
						}
						continue
					}
					lr := res.loss(np)
					seen := seenBy(np, a, b, func(c int) bool { return f.at[c] != nil && count[c] >= count[a] })
					lr.ackMiss = append(lr.ackMiss, ackMiss{a: int32(a), b: int32(b), input: r.input, frame: r.frame, at: r.ns, ns: r.ns + delta, seen: seen})
					if p.onLoss != nil && !f.ackPend {
						// Told in a running line once settled (lineAcks).
						f.ackPend = true
						p.ackPending = append(p.ackPending, f)
					}
				}
			}
		}
	}
}

// addFrame adds a lost packet's frame to fs, keeping the first
// MaxPlacementFrames by input and frame number.
func addFrame(fs []model.Moment, input, frame int, ns int64) []model.Moment {
	if n := len(fs); n >= verdict.MaxPlacementFrames {
		// Full, and most packets come after the last kept: nothing to
		// insert (every packet's frame goes through here).
		if l := fs[n-1]; input > l.Input || input == l.Input && frame > l.Frame {
			return fs
		}
	}
	m := model.Moment{Frame: frame, Input: input, Time: time.Unix(0, ns).UTC()}
	i, _ := slices.BinarySearchFunc(fs, m, func(a, b model.Moment) int {
		if a.Input != b.Input {
			return a.Input - b.Input
		}
		return a.Frame - b.Frame
	})
	if i >= verdict.MaxPlacementFrames {
		return fs
	}
	fs = slices.Insert(fs, i, m)
	if len(fs) > verdict.MaxPlacementFrames {
		fs = fs[:verdict.MaxPlacementFrames]
	}
	return fs
}

// maxSamples bounds the time samples kept per direction and pair of
// points for the clock offsets: chunk medians, a few per connection.
const maxSamples = 4096

// inWindow reports whether point b was capturing at time ns of its
// clock (its own first to last packet, once its inputs ended): a packet
// that would have reached b outside b's capture is not lost before b.
func (p *Placer) inWindow(b int, ns int64) bool {
	if !p.first[b].IsZero() && ns < p.first[b].UnixNano() {
		return false
	}
	return !p.ended[b] || ns <= p.lastOf(b).UnixNano()
}

// sample is the time samples of direction d from point a to point b.
func (p *Placer) sample(d, a, b int) *[]int64 {
	return &p.samples[d][a*len(p.names)+b]
}

// typicalDelta is the median, over the byte ranges both points saw
// once, of the time from a's copy to b's: the path delay between them
// plus their clocks' offset. Interval i's copies at a are
// recs[as[i]:as[i+1]], at b recs[bs[i]:bs[i+1]] (compare's flat list).
//
// It returns the other way's too, from b's copy to a's: the same
// intervals' times negated, whose median is the mirror of this one's.
func (p *Placer) typicalDelta(chunk []rec, n int, recs, as, bs []int32) (ab, ba int64, ok bool) {
	ds := p.buf.deltas[:0]
	// Past deltaSamples intervals (a fast connection's second of
	// packets), every step-th: the median of thousands moves by
	// nanoseconds, and each pair of points sorted its every interval.
	step := max(1, (n+deltaSamples-1)/deltaSamples)
	for i := 0; i < n; i += step {
		// Only bytes sent once: a retransmitted range's copies at the two
		// points need not be the same packet (the first lost, a later
		// one through: seconds apart).
		if as[i+1]-as[i] == 1 && bs[i+1]-bs[i] == 1 {
			ds = append(ds, chunk[recs[bs[i]]].ns-chunk[recs[as[i]]].ns)
		}
	}
	p.buf.deltas = ds
	return medians(ds)
}

// medians returns the median of the times ds (sorted in place) and of
// the same negated, the way back's: its mirror.
func medians(ds []int64) (ab, ba int64, ok bool) {
	if len(ds) == 0 {
		return 0, 0, false
	}
	// What sorting ds would put at len/2 and len-1-len/2, without
	// sorting it: each pair of points' chunk of a fast transfer sorted
	// thousands of times for two of them.
	m := len(ds) / 2
	ab = nth(ds, m)
	if len(ds)%2 == 1 {
		return ab, -ab, true
	}
	return ab, -slices.Max(ds[:m]), true // nth left the m smallest first
}

// nth reorders ds and returns the value sorting it would put at k (a
// quickselect, three-way for the many equal times: ds[:k] then hold the
// k smallest).
func nth(ds []int64, k int) int64 {
	lo, hi := 0, len(ds)
	for hi-lo > 1 {
		a, b, c := ds[lo], ds[lo+(hi-lo)/2], ds[hi-1]
		pivot := max(min(a, b), min(max(a, b), c)) // the median of three
		lt, i, gt := lo, lo, hi
		for i < gt {
			switch x := ds[i]; {
			case x < pivot:
				ds[lt], ds[i] = x, ds[lt]
				lt++
				i++
			case x > pivot:
				gt--
				ds[i], ds[gt] = ds[gt], x
			default:
				i++
			}
		}
		switch {
		case k < lt:
			hi = lt
		case k >= gt:
			lo = gt
		default:
			return pivot
		}
	}
	return ds[k]
}

// pairDelta records the typical delta from a to b in direction d of a
// flow whose result is res, when a chunk gave one (ok), and returns the
// delta to pair a's copies with b's by: the chunk's, else the flow's
// earlier one, else the other connections' median.
func (p *Placer) pairDelta(res *dirResult, d, a, b int, delta int64, ok bool) int64 {
	switch {
	case ok:
		if !res.hasDelta[a][b] {
			res.delta[a][b], res.hasDelta[a][b] = delta, true
		}
		if s := p.sample(d, a, b); len(*s) < maxSamples {
			*s = append(*s, delta)
		}
	case res.hasDelta[a][b]:
		// Nothing here reached b once (a black hole, or only
		// retransmissions): the flow's earlier delta.
		delta = res.delta[a][b]
	default:
		// Nor before: the other connections' between a and b.
		if s := *p.sample(d, a, b); len(s) > 0 {
			delta = median(s)
		}
	}
	return delta
}

// compareAligned is compare for a chunk that every point which saw flow
// f saw alike, but for copies missing: the same ranges in the same order,
// each once, none overlapping another, a point lacking some (a chunk of
// a flow that nothing was sent again of, the most common; a chunk of one
// that a point's capture or the path between two points dropped a few
// packets of, while their copies sent again fall in a later chunk). Each
// range is then one interval with one copy or none at each point, and
// compare's result is the points' packets, the pairs' typical deltas and
// the copies that did not reach a point, made here without the index of
// every interval's copies (for a short connection's few packets, most of
// comparing them; for a fast transfer's, half). The reference is the
// point with the most packets in the chunk, which must have every range; its
// ranges may come out of sequence order (a loss before every point, the
// hole filled by a copy sent again), the others' in its order. It
// reports false, having changed nothing, when the chunk is not so.
func (p *Placer) compareAligned(f *flow, d int, chunk []rec) bool {
	np := len(p.names)
	// The reference is the point with the most copies: the one that
	// lacks none, if one does (for packets that the capture nearest their
	// sender missed, the point whose packets come first would not do).
	ord := slices.Grow(p.buf.ord[:0], np)[:np]
	clear(ord)
	p.buf.ord = ord
	for i := range chunk {
		ord[chunk[i].point]++
	}
	ref := chunk[0].point
	for pt, c := range ord {
		if c > ord[ref] {
			ref = int32(pt)
		}
	}
	refs := p.buf.refs[:0] // the reference point's ranges, as indices into chunk
	inOrder := true
	for i := range chunk {
		if chunk[i].point == ref {
			if len(refs) > 0 && chunk[i].lo < chunk[refs[len(refs)-1]].hi() {
				inOrder = false
			}
			refs = append(refs, int32(i))
		}
	}
	p.buf.refs = refs
	k := len(refs)
	// sorted are the ranges in sequence order, compare's intervals':
	// refs, unless a hole at the reference was filled later (its copy
	// sent again after a loss before it), when pos[j] is the j-th
	// range's place in sorted. Ranges that overlap (a copy of a range
	// the reference had) are not for here.
	sorted, pos := refs, []int32(nil)
	if !inOrder {
		perm := slices.Grow(p.buf.perm[:0], k)[:k]
		for j := range perm {
			perm[j] = int32(j)
		}
		slices.SortFunc(perm, func(x, y int32) int { return cmp.Compare(chunk[refs[x]].lo, chunk[refs[y]].lo) })
		sorted = slices.Grow(p.buf.sorted[:0], k)[:k]
		pos = slices.Grow(p.buf.pos[:0], k)[:k]
		p.buf.perm, p.buf.sorted, p.buf.pos = perm, sorted, pos
		for s, j := range perm {
			sorted[s], pos[j] = refs[j], int32(s)
			if s > 0 && chunk[refs[j]].lo < chunk[sorted[s-1]].hi() {
				return false
			}
		}
	}
	clear(ord)
	// at[pt*k+s] is point pt's copy of the s-th range in sequence order
	// (an index into chunk), or -1: it has none.
	at := slices.Grow(p.buf.at[:0], np*k)[:np*k]
	p.buf.at = at
	for i := range at {
		at[i] = -1
	}
	holes := false
	for i := range chunk {
		// Each point has the reference's ranges in its order, but for
		// some it lacks.
		r := &chunk[i]
		j := int(ord[r.point])
		for j < k && (chunk[refs[j]].lo != r.lo || chunk[refs[j]].n != r.n) {
			if inOrder && chunk[refs[j]].lo >= r.lo {
				return false // not one of the reference's ranges
			}
			j++ // a range this point lacks
			holes = true
		}
		if j >= k {
			return false
		}
		s := j
		if pos != nil {
			s = int(pos[j])
		}
		at[int(r.point)*k+s] = int32(i)
		ord[r.point] = int32(j + 1)
	}
	for pt, m := range f.at {
		if m != nil && int(ord[pt]) != k {
			holes = true // it lacks the last ranges
		}
	}
	res, l := &f.res[d], f.dir[d]
	allSeen := f.seenEverywhere()
	for _, r := range chunk {
		res.counted(l, &r, allSeen, np, p.raw(int(r.point), r.ns))
	}
	// compare's intervals are the ranges and the gaps between them
	// (copies at no point); typicalDelta reads every step-th of them,
	// the ranges among those.
	sampled := slices.Grow(p.buf.sampled[:0], k)[:0]
	n := k
	for j := 1; j < k; j++ {
		if chunk[sorted[j]].lo > chunk[sorted[j-1]].hi() {
			n++
		}
	}
	step := max(1, (n+deltaSamples-1)/deltaSamples)
	for j, i := 0, 0; j < k; j, i = j+1, i+1 {
		if j > 0 && chunk[sorted[j]].lo > chunk[sorted[j-1]].hi() {
			i++ // the gap before it
		}
		if i%step == 0 {
			sampled = append(sampled, int32(j))
		}
	}
	p.buf.sampled = sampled
	p.aligned++
	typical := func(a, b int) (int64, int64, bool) {
		ds := p.buf.deltas[:0]
		for _, j := range sampled {
			// Only ranges both saw (each once).
			if ca, cb := at[a*k+int(j)], at[b*k+int(j)]; ca >= 0 && cb >= 0 {
				ds = append(ds, chunk[cb].ns-chunk[ca].ns)
			}
		}
		p.buf.deltas = ds
		return medians(ds)
	}
	delivered := int64(-1)
	if holes {
		delivered = f.delivered(d)
	}
	p.eachPair(f, res, typical, func(a, b int, delta int64, ok bool) {
		delta = p.pairDelta(res, d, a, b, delta, ok)
		if !holes {
			return
		}
		// What compare does with a range one copy of which is at a and
		// none at b, in the same order.
		for j := range k {
			ca := at[a*k+j]
			if ca < 0 || at[b*k+j] >= 0 {
				continue
			}
			r := &chunk[ca]
			if !p.inWindow(b, r.ns+delta) {
				continue
			}
			lr := res.loss(np)
			switch _, quoted := l.quoteOf(r.lo); {
			case quoted:
				lr.stopped[a][b]++
			case r.hi() > delivered:
				seen := seenBy(np, a, b, func(c int) bool { return at[c*k+j] >= 0 })
				lr.lose(a, b, seen, int64(r.n), r, p.raw(a, r.ns))
				p.uncaptured(f, d, lr, a, b, seen, r)
			default:
				// Acknowledged by the receiver: b's capture missed it.
				lr.capMissed[a][b]++
				p.noteGap(b, r.ns+delta)
			}
		}
	})
	return true
}

// eachPair calls fn for each ordered pair of points a, b that saw flow f,
// a with packets in the direction whose result is res, with the typical
// delta from a to b: typical's for the pair, or for b to a the way back
// it gave with a to b (read when b's turn comes).
func (p *Placer) eachPair(f *flow, res *dirResult, typical func(a, b int) (ab, ba int64, ok bool), fn func(a, b int, delta int64, ok bool)) {
	np := len(p.names)
	mirror := slices.Grow(p.buf.mirror[:0], np*np)[:np*np]
	clear(mirror)
	p.buf.mirror = mirror
	for a := range np {
		if f.at[a] == nil || res.packets[a] == 0 {
			continue
		}
		for b := range np {
			if b == a || f.at[b] == nil {
				continue
			}
			m := mirror[b*np+a]
			delta, ok := m.delta, m.ok
			if !m.set {
				var back int64
				delta, back, ok = typical(a, b)
				mirror[a*np+b] = mirrorDelta{delta: back, ok: ok, set: true}
			}
			fn(a, b, delta, ok)
		}
	}
}

// mirrorDelta is a typical delta typicalDelta gave for the way back.
type mirrorDelta struct {
	delta   int64
	ok, set bool
}

// deltaSamples bounds the intervals typicalDelta takes the median of.
const deltaSamples = 4096

// unpaired returns a's copies of one byte range left over when each of
// b's copies, in order, takes the one of a's nearest to it in time by
// the typical delta. The slice is valid until the next call.
func (p *Placer) unpaired(chunk []rec, as, bs []int32, delta int64) []int32 {
	taken := slices.Grow(p.buf.taken[:0], len(as))[:len(as)]
	clear(taken)
	p.buf.taken = taken
	for _, bi := range bs {
		best, bestD := -1, int64(0)
		for k, ai := range as {
			if taken[k] {
				continue
			}
			dd := chunk[bi].ns - chunk[ai].ns - delta
			if dd < 0 {
				dd = -dd
			}
			if best < 0 || dd < bestD {
				best, bestD = k, dd
			}
		}
		if best >= 0 {
			taken[best] = true
		}
	}
	out := p.buf.out[:0]
	for k, ai := range as {
		if !taken[k] {
			out = append(out, ai)
		}
	}
	p.buf.out = out
	return out
}

// counted counts packet c, of direction log l, at its point: its frame
// kept when a point did not see the flow (not allSeen), its quote by an
// ICMP error told. raw is c's time on its point's own clock.
func (r *dirResult) counted(l *dirLog, c *rec, allSeen bool, np int, raw int64) {
	r.packets[c.point]++
	if !allSeen {
		lr := r.loss(np)
		lr.first[c.point] = addFrame(lr.first[c.point], int(c.input), int(c.frame), raw)
	}
	if from, ok := l.quoteOf(c.lo); ok {
		lr := r.loss(np)
		lr.quotedAt[c.point]++
		if !slices.Contains(lr.icmpFrom, from) {
			lr.icmpFrom = append(lr.icmpFrom, from)
		}
	}
}

func (r *dirResult) init(np int) {
	if r.packets != nil {
		return
	}
	r.packets = make([]int, np)
	r.delta = square[int64](np)
	r.hasDelta = square[bool](np)
}

// loss returns r's lossResult, made for np points at the first thing
// missing, stopped or to remember: most flows lose nothing, and making
// its matrices for each was a tenth of a four-point analysis's placing.
func (r *dirResult) loss(np int) *lossResult {
	if r.lossResult == nil {
		r.lossResult = newLossResult(np)
	}
	return r.lossResult
}

func newLossResult(np int) *lossResult {
	return &lossResult{
		missing:   square[int](np),
		missBytes: square[int64](np),
		capMissed: square[int](np),
		stopped:   square[int](np),
		quotedAt:  make([]int, np),
		first:     make([][]model.Moment, np),
		frames:    square[[]model.Moment](np),
	}
}

// delivered is the highest ACK of direction d's data (relative) seen at
// any point, -1 if none: the receiver had everything below it.
func (f *flow) delivered(d int) int64 {
	out := int64(-1)
	for _, m := range f.at {
		if m != nil && m.ackSeen[d] && m.acked[d] > out {
			out = m.acked[d]
		}
	}
	return out
}

// seenEverywhere reports whether every point saw flow f: its first
// frames at each point (lossResult.first) are then never read, as no
// point on its path missed it whole.
func (f *flow) seenEverywhere() bool {
	if f.everywhere {
		return true
	}
	for _, m := range f.at {
		if m == nil {
			return false
		}
	}
	f.everywhere = true // asked for every packet; a point once seen stays (but in merge)
	return true
}

// square returns an n x n matrix in one block (two allocations, not
// n+1: a retired flow keeps some until Finish).
func square[T any](n int) [][]T {
	out := make([][]T, n)
	flat := make([]T, n*n)
	for i := range out {
		out[i] = flat[i*n : (i+1)*n : (i+1)*n]
	}
	return out
}

// sortPoints orders the points of one direction of a flow along the
// path: a router lowers the TTL by one, so a higher TTL is nearer the
// sender; between equal TTLs (both sides of one link, or a router's
// ingress and the host before it) the point that sees the packets first.
// With delta(a, b) the typical time from a's copy to b's this way and
// back(a, b) the other way, both carry the clocks' offset, which the
// difference cancels: a is upstream of b when delta exceeds back (by
// the delays of the link each way). Without the way back, the offset
// estimated across flows (offset(a, b): b's clock minus a's, ns) is
// taken off instead.
func sortPoints(pts []int, ttl func(int) int, delta, back func(a, b int) (int64, bool), offset func(a, b int) int64) {
	before := func(a, b int) bool {
		if ta, tb := ttl(a), ttl(b); ta != tb && ta != 0 && tb != 0 {
			return ta > tb
		}
		dl, ok := delta(a, b)
		if !ok {
			return false
		}
		if bk, ok := back(a, b); ok {
			return dl > bk
		}
		return dl-offset(a, b) > 0
	}
	// slices' stable sort, not sort.SliceStable's (its swapper made by
	// reflection for each flow's two directions was half of ordering
	// them); both insert and merge by "a before b" alone, in the same
	// steps, so the order is the same.
	slices.SortStableFunc(pts, func(a, b int) int {
		switch {
		case before(a, b):
			return -1
		case before(b, a):
			return 1
		}
		return 0
	})
}

// towardServer is, for a flow seen without its SYN, the direction whose
// receiver has the lower port where it was first seen (a server's
// well-known port against a client's ephemeral one), -1 if the ports
// are equal or it was seen nowhere.
func (f *flow) towardServer() int {
	for _, m := range f.at {
		if m == nil {
			continue
		}
		switch a, b := m.ep0.Port(), m.ep1.Port(); {
		case b < a:
			return 0
		case a < b:
			return 1
		}
		return -1
	}
	return -1
}
