package main

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/h2pcap/h2pcap/analyze/hops"
	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/decode"
)

// Several capture points read side by side (analyze by default where Go
// may use two cores, or --workers 2 or more).
//
// On one goroutine analyzePoints reads the points' packets in capture
// time order (ties to the group first given), each analysed by its
// point's Analyzer and then given to the Placer. Here each group (a
// point's files, or one file's interfaces) is read and analysed on a
// goroutine of its own, which hands the Placer's part of every packet it
// read (its segment, its ICMP error, or nothing, in its place) to the
// reading goroutine in batches; that one takes the batches' records in
// the same order the packets were taken on one goroutine (each group's
// in its files' order, the earliest first across groups, ties to the
// group given first) and gives them to the Placer, which so sees the
// same segments in the same order. What the Placer tells a point's
// Analyzer (Placed) is queued for that point's goroutine, which takes it
// before its next packet, and the rest once every group is read: an
// Analyzer that is told later only forgets the connection later, the
// report is the same bytes (TestPointsWorkersSame).

// Record kinds.
const (
	recNone = iota // a packet without a TCP segment or an ICMP error quoting one
	recSeg
	recICMP
	recEnd // the group's files are all read
)

// pointRec is what the Placer takes of one packet a group read.
type pointRec struct {
	sec    int64
	nsec   int
	kind   uint8
	target int32 // the point (index into analyzePoints' points)
	stream int32 // the point's tcp.stream of seg, -1 none
	seg    decode.Segment
	icmp   *decode.ICMPError
}

// before says whether r comes before o, as groupReader.before.
func (r *pointRec) before(o *pointRec) bool { return timeBefore(r.sec, r.nsec, o.sec, o.nsec) }

// pointBatch is a run of a group's records. A segment's payload is the
// part of it the Placer reads (hops.ContentKeep), copied into arena.
type pointBatch struct {
	recs  []pointRec
	arena []byte
	err   error // the reading failed: the last batch
}

// Batch sizes: a batch is handed over when it holds batchRecs records or
// its arena batchArena bytes; queueBatches wait per group. A few MB per
// group at most, and a hand-over per few hundred packets.
const (
	batchRecs    = 512
	batchArena   = 256 << 10
	queueBatches = 8
)

// placedNote is one Placer.OnRetire call for a point's Analyzer.
type placedNote struct {
	stream int
	clean  bool
}

// placedQueue holds the notes for one point's Analyzer until its
// goroutine takes them.
type placedQueue struct {
	n     atomic.Int32 // len(notes), read without the lock
	mu    sync.Mutex
	notes []placedNote
}

func (q *placedQueue) add(stream int, clean bool) {
	q.mu.Lock()
	q.notes = append(q.notes, placedNote{stream, clean})
	q.n.Store(int32(len(q.notes)))
	q.mu.Unlock()
}

// apply tells pt's Analyzer the notes queued for it; on its goroutine.
func (q *placedQueue) apply(pt *point) {
	if q.n.Load() == 0 {
		return
	}
	q.mu.Lock()
	notes := q.notes
	q.notes = nil
	q.n.Store(0)
	q.mu.Unlock()
	for _, x := range notes {
		pt.a.Placed(x.stream, x.clean)
	}
}

// contentCount is, for one point's stream, the data segments its reader
// kept hops.ContentKeep bytes of since the stream's packets began, or
// resumed after hops.ContentIdle, and its last packet's time.
type contentCount struct {
	n    int
	last int64
}

// groupFeed is one group read on its own goroutine: the batches it
// hands over and the one being taken.
type groupFeed struct {
	g    *groupReader
	in   chan *pointBatch
	free chan *pointBatch
	b    *pointBatch
	i    int
}

// head returns the feed's next record, waiting for its next batch when
// the one taken is done; nil, err when the reading failed.
func (f *groupFeed) head() (*pointRec, error) {
	for f.b == nil || f.i == len(f.b.recs) {
		if f.b != nil {
			select {
			case f.free <- f.b:
			default:
			}
		}
		b, ok := <-f.in
		if !ok {
			// Closed after the end record or an error: not reached.
			return &pointRec{kind: recEnd}, nil
		}
		if b.err != nil {
			return nil, b.err
		}
		f.b, f.i = b, 0
	}
	return &f.b.recs[f.i], nil
}

// produce reads and analyses g's files on the calling goroutine, handing
// a record of every packet to f.in, then the end record; quit stops it.
// Before each packet of a point it tells that point's Analyzer what the
// Placer queued for it (queues, indexed like points).
func (g *groupReader) produce(stop context.Context, open opener, prog *progress, points []*point, queues []*placedQueue, f *groupFeed, quit <-chan struct{}) {
	defer close(f.in)
	newBatch := func() *pointBatch {
		select {
		case b := <-f.free:
			clear(b.recs)
			b.recs, b.arena = b.recs[:0], b.arena[:0]
			return b
		default:
			return &pointBatch{recs: make([]pointRec, 0, batchRecs), arena: make([]byte, 0, batchArena)}
		}
	}
	b := newBatch()
	send := func() bool {
		select {
		case f.in <- b:
			b = newBatch()
			return true
		case <-quit:
			return false
		}
	}
	counts := make([][]contentCount, len(points)) // by point, then stream: looked at for every segment
	keepOf := func(target int, stream int, s *decode.Segment) int {
		// How much of s's payload the Placer reads (hops.ContentKeep).
		if s.Flags&decode.FlagSYN != 0 || len(s.Payload) < verdict.PlaceContentBytes || stream < 0 {
			return 0
		}
		cs := counts[target]
		for stream >= len(cs) {
			cs = append(cs, contentCount{last: -1 << 62})
		}
		counts[target] = cs
		c := &cs[stream]
		ns := s.Time.UnixNano()
		if d := ns - c.last; d >= int64(hops.ContentIdle) || d <= -int64(hops.ContentIdle) {
			c.n = 0
		}
		c.last = ns
		c.n++
		if c.n <= hops.ContentSegments {
			return min(len(s.Payload), hops.ContentKeep)
		}
		return verdict.PlaceContentBytes
	}
	seen := func(target int, stream int, s *decode.Segment) {
		// Every packet of a stream moves its last time on, data or not.
		if stream < 0 {
			return
		}
		if cs := counts[target]; stream < len(cs) {
			cs[stream].last = s.Time.UnixNano()
		}
	}
	for {
		if err := g.advance(stop, open, prog, points); err != nil {
			b.err = err
			send()
			return
		}
		if g.done {
			// Taken as soon as the record before it: no time.
			b.recs = append(b.recs, pointRec{kind: recEnd})
			send()
			return
		}
		pt := points[g.target]
		queues[g.target].apply(pt)
		r := pointRec{sec: g.sec, nsec: g.nsec, target: int32(g.target), stream: -1}
		if s := pt.r.Take(g.pending); s != nil {
			r.kind, r.stream, r.seg = recSeg, int32(pt.a.LastStream()), *s
			r.seg.Options.SACK = nil // the Placer reads no SACK block
			if n := keepOf(g.target, int(r.stream), s); n > 0 {
				if len(b.arena)+n > cap(b.arena) {
					// A new arena: the records before keep theirs.
					b.arena = make([]byte, 0, max(batchArena, n))
				}
				start := len(b.arena)
				b.arena = append(b.arena, s.Payload[:n]...)
				r.seg.Payload = b.arena[start:len(b.arena):len(b.arena)]
			} else {
				r.seg.Payload = nil
				seen(g.target, int(r.stream), s)
			}
		} else if e := pt.r.ICMPError(); e != nil {
			c := *e
			r.kind, r.icmp = recICMP, &c
		}
		g.pending = nil
		b.recs = append(b.recs, r)
		if len(b.recs) == batchRecs || len(b.arena) >= batchArena-hops.ContentKeep {
			if !send() {
				return
			}
		}
	}
}

// mergePoints reads the groups on goroutines of their own (produce) and
// gives their records to pl in the order analyzePoints takes the
// packets on one goroutine. It returns once every group is read, or at
// the first error.
func mergePoints(stop context.Context, groups []*groupReader, open opener, prog *progress, points []*point, queues []*placedQueue, pl *hops.Placer, endGroup func(*groupReader)) (err error) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	defer func() {
		close(quit)
		if err == nil {
			// Each has handed over its end record: nothing of the
			// points' analyses is touched past it.
			wg.Wait()
		}
		// After an error the others stop at their next hand-over; a
		// group blocked reading a pipe is not waited for (the analysis
		// ends with the error).
	}()
	feeds := make([]*groupFeed, len(groups))
	for i, g := range groups {
		f := &groupFeed{g: g, in: make(chan *pointBatch, queueBatches), free: make(chan *pointBatch, queueBatches+2)}
		feeds[i] = f
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.produce(stop, open, prog, points, queues, f, quit)
		}()
	}
	// heads[i] is feed i's next record, nil once its group is read (and
	// endGroup called, as soon as the record before the end is taken).
	heads := make([]*pointRec, len(feeds))
	take := func(i int) error {
		h, err := feeds[i].head()
		if err != nil {
			return err
		}
		if h.kind == recEnd {
			endGroup(feeds[i].g)
			h = nil
		}
		heads[i] = h
		return nil
	}
	for i := range feeds {
		if err := take(i); err != nil {
			return err
		}
	}
	for {
		next := -1
		for i, h := range heads {
			if h != nil && (next < 0 || h.before(heads[next])) {
				next = i
			}
		}
		if next < 0 {
			return nil
		}
		r := heads[next]
		switch r.kind {
		case recSeg:
			pl.Segment(int(r.target), int(r.stream), &r.seg)
		case recICMP:
			pl.ICMP(int(r.target), r.icmp)
		}
		feeds[next].i++
		if err := take(next); err != nil {
			return err
		}
	}
}
