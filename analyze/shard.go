package analyze

import (
	"slices"
	"sync"
	"time"

	"github.com/h2pcap/h2pcap/analyze/tcp"
	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/internal/jsonrow"
)

// Sharded analysis (Options.Workers).
//
// A capture of many connections spends its time in each connection's
// stages (the TCP, verdict and application trackers) and in judging each
// closed connection (forget.go), not in decoding: both can run on other
// cores, a connection per goroutine. The goroutine that calls Segment
// (the reader) keeps all that is whole-capture, in capture order, as the
// single-goroutine analysis does:
//
//   - decoding, the copy filter and the tcp.stream numbers (tshark numbers
//     streams in capture order). Whether a SYN on a known 4-tuple starts a
//     new stream depends on the base sequence numbers only, which the
//     reader keeps beside each connection (tcp.Bases), so it never waits
//     for a worker to know;
//   - the close of each connection (an RST, or a FIN each way: what
//     closeCheck reads of the trackers is whether those were sent) and so
//     the list of closed connections, and the sweep's clock;
//   - what a sweep forgets: the workers judge their closed connections
//     (judgeForget), the reader waits for them and applies the results in
//     the order the connections closed (forgetJudged), as forget does;
//   - tombstones and late segments, ICMP errors (a call to the owner,
//     which the reader waits for: they are rare), the key log (the
//     workers are drained before keys are added, so that a connection
//     sees the keys at the same segment as without workers).
//
// Each connection belongs to one worker: by its stream number, in turn,
// so that even two connections (a bulk transfer's) go to two workers,
// except that a new connection on a reused 4-tuple has its
// predecessor's, which finishes the old one first. Segments go to workers in
// batches, their payloads copied into the batch, so that a channel send
// costs a batch rather than a segment. A Report, Close or Tick drains and
// ends the workers first; the analysis goes on in one goroutine after.
// The output is the same bytes as with one worker (TestWorkersSameReport).

// shardBatchLen is how many segments a batch carries: enough that the
// channel's cost (a few hundred ns a send) is small beside the batch's
// work, few enough that a sweep, which waits for the workers to catch
// up, waits little.
const shardBatchLen = 256

// shardBatchBytes caps the payload bytes a batch copies before it is
// sent: bulk segments fill a batch by bytes long before it is full.
const shardBatchBytes = 128 << 10

// shardQueue is how many batches may wait for each worker: the reader
// runs ahead of a worker that far, and no further. On a shared machine a
// goroutine's thread waits tens of milliseconds for a core now and then:
// 32 batches (8k segments, at most 4 MB of payload) let the reader go on
// meanwhile, where 4 had it wait for the worker most of the time.
const shardQueue = 32

// shardConn is what the reader keeps of a connection in a sharded
// analysis: what it decides with, which the trackers (written by the
// worker) also hold.
type shardConn struct {
	worker int
	bases  tcp.Bases // Conn.SYN's answer (tcp.Bases)
	fin    [2]bool   // verdict.Tracker.FINSent
	rst    bool      // conn.rst.seen
	end    time.Time // conn.end: the last segment's time
	hs     handshakeWatch
	// judging: a sweep asked its worker to judge it, and the result is
	// not applied yet (shardPool.pending).
	judging bool
}

// note takes a segment side sent, as the trackers will.
func (sc *shardConn) note(side int, s *decode.Segment) {
	sc.bases.Segment(side, s)
	sc.hs.note(side, s.Flags)
	if s.Flags.Has(decode.FlagFIN) {
		sc.fin[side] = true
	}
	if s.Flags.Has(decode.FlagRST) {
		sc.rst = true
	}
	sc.end = s.Time
}

// closed is closeCheck's test.
func (sc *shardConn) closed() bool { return sc.rst || sc.fin[sideA] && sc.fin[sideB] }

type shardOp uint8

const (
	opSegment shardOp = iota // a segment of a connection seen before
	opOpen                   // a new connection's first segment
	opReuse                  // ... a SYN that takes the 4-tuple of old, which it ends
	opCall                   // run fn
)

type shardItem struct {
	op  shardOp
	seg decode.Segment // its slices in the batch's arena
	c   *conn
	old *conn // opReuse
	fn  func()
}

type shardBatch struct {
	items []shardItem
	arena []byte
	sacks []decode.SACKBlock
}

type shardWorker struct {
	in  chan *shardBatch
	cur *shardBatch
	enc *jsonrow.Encoder // the spilled rows judgeForget encodes
}

// shardPool is the workers of a sharded analysis.
type shardPool struct {
	workers []*shardWorker
	free    chan *shardBatch
	done    chan struct{} // a call's end
	wg      sync.WaitGroup
	// pending is the last sweep's judging, not applied yet: the reader
	// goes on reading meanwhile, and applies it (applyJudged) before
	// anything that reads its result: the next sweep, a segment or an
	// ICMP error of a connection in it, the end of the workers.
	pending *judging
}

// judging is a sweep's connections, in the order they closed, and their
// judgements once the workers have sent done once each.
type judging struct {
	conns  []*conn
	judged []forgetting
	done   chan struct{}
	n      int // workers judging
}

func newShardPool(a *Analyzer, n int) *shardPool {
	p := &shardPool{
		free: make(chan *shardBatch, n*(shardQueue+2)),
		done: make(chan struct{}, n),
	}
	for range n {
		w := &shardWorker{in: make(chan *shardBatch, shardQueue), enc: jsonrow.New()}
		w.cur = p.batch()
		p.workers = append(p.workers, w)
		p.wg.Add(1)
		go p.run(a, w)
	}
	return p
}

// run is a worker: it takes its batches in order, and each item in order.
func (p *shardPool) run(a *Analyzer, w *shardWorker) {
	defer p.wg.Done()
	for b := range w.in {
		for i := range b.items {
			it := &b.items[i]
			if it.op == opCall {
				it.fn()
				continue
			}
			a.shardSegment(it)
		}
		clear(b.items) // no connection kept alive by a spare batch
		b.items, b.arena, b.sacks = b.items[:0], b.arena[:0], b.sacks[:0]
		select {
		case p.free <- b:
		default:
		}
	}
}

func (p *shardPool) batch() *shardBatch {
	select {
	case b := <-p.free:
		return b
	default:
		return &shardBatch{items: make([]shardItem, 0, shardBatchLen)}
	}
}

// send queues s for c's worker, its slices copied.
func (p *shardPool) send(op shardOp, c, old *conn, s *decode.Segment) {
	w := p.workers[c.sh.worker]
	b := w.cur
	b.items = append(b.items, shardItem{op: op, seg: *s, c: c, old: old})
	it := &b.items[len(b.items)-1]
	if n := len(s.Payload); n > 0 {
		off := len(b.arena)
		b.arena = append(b.arena, s.Payload...)
		it.seg.Payload = b.arena[off : off+n : off+n]
	} else {
		it.seg.Payload = s.Payload[:0:0]
	}
	if n := len(s.Options.SACK); n > 0 {
		off := len(b.sacks)
		b.sacks = append(b.sacks, s.Options.SACK...)
		it.seg.Options.SACK = b.sacks[off : off+n : off+n]
	} else {
		it.seg.Options.SACK = s.Options.SACK[:0:0]
	}
	if len(b.items) == shardBatchLen || len(b.arena) >= shardBatchBytes {
		p.flush(w)
	}
}

func (p *shardPool) flush(w *shardWorker) {
	if len(w.cur.items) == 0 {
		return
	}
	w.in <- w.cur
	w.cur = p.batch()
}

// call runs fns[i], if not nil, on worker i after what was queued for it,
// and returns when all have run.
func (p *shardPool) call(fns []func()) {
	n := 0
	for i, fn := range fns {
		if fn == nil {
			continue
		}
		w := p.workers[i]
		w.cur.items = append(w.cur.items, shardItem{op: opCall, fn: func() {
			fn()
			p.done <- struct{}{}
		}})
		p.flush(w)
		n++
	}
	for range n {
		<-p.done
	}
}

// sync returns once every worker has done all that was queued.
func (p *shardPool) sync() {
	fns := make([]func(), len(p.workers))
	for i := range fns {
		fns[i] = func() {}
	}
	p.call(fns)
}

// stop ends the workers once they have done all that was queued.
func (p *shardPool) stop() {
	for _, w := range p.workers {
		p.flush(w)
		close(w.in)
	}
	p.wg.Wait()
}

// stopShards ends a sharded analysis's workers: what comes after runs in
// the caller's goroutine, on the state they left.
func (a *Analyzer) stopShards() {
	if a.pool != nil {
		a.pool.stop()
		a.applyJudged()
		a.pool = nil
	}
}

// catchUp ends a sharded analysis's workers (stopShards) and judges the
// connections the last sweep left due (Deferred forgetting): what comes
// after (a Report, the forgetting at the end, a live tick) reads the
// state every judging so far left, in the caller's goroutine.
func (a *Analyzer) catchUp() {
	a.stopShards()
	a.forgetPending()
}

// applyJudged waits for the last sweep's judgements and applies them in
// the order its connections closed, as sweep does.
func (a *Analyzer) applyJudged() {
	j := a.pool.pending
	if j == nil {
		return
	}
	a.pool.pending = nil
	for range j.n {
		<-j.done
	}
	for i, c := range j.conns {
		c.sh.judging = false
		a.forgetJudged(c, j.judged[i])
	}
}

// dispatch is segment for a sharded analysis: the whole-capture part here,
// the connection's stages on its worker (shardSegment).
func (a *Analyzer) dispatch(s *decode.Segment) {
	if j := a.pool.pending; j != nil && len(j.done) == j.n {
		// Judged: forgotten connections free their memory now rather
		// than at the next sweep.
		a.applyJudged()
	}
	var t *tuple // made when the index is asked, or a connection opened
	tup := func() *tuple {
		if t == nil {
			t = new(tupleOf(s.Src, s.Dst))
		}
		return t
	}
	c := a.lastConn
	if c == nil || !c.holdsEnds(s.Src, s.Dst) {
		c = a.conns.get(tup(), a.gone)
	}
	if c != nil && c.sh != nil && c.sh.judging {
		// Forgotten or not decides where this segment goes.
		a.applyJudged()
		c = a.conns.get(tup(), a.gone)
	}
	pureSYN := s.Flags&(decode.FlagSYN|decode.FlagACK) == decode.FlagSYN
	if c != nil && c == a.gone {
		if a.lateTo(tup(), s) {
			a.late()
			a.lastConn = nil
			return
		}
		c = nil // a new connection on a forgotten one's 4-tuple
	}
	if c != nil && c.sealed {
		if a.lateTo(tup(), s) {
			a.fg.lateKept++
			a.lastConn = nil
			return
		}
		c = nil // a new connection on a sealed one's 4-tuple
	}
	op, old := opSegment, (*conn)(nil)
	switch {
	case c == nil:
		c, op = a.openShard(tup(), s, len(a.all)%len(a.pool.workers)), opOpen
	case pureSYN && c.sh.bases.NewConversation(c.side(s), s.Seq):
		// A SYN with a new ISN: its worker ends the old connection.
		a.connClosed(c, s)
		old = c
		c, op = a.openShard(tup(), s, old.sh.worker), opReuse
	}
	a.lastConn = c
	c.sh.note(c.side(s), s)
	a.pool.send(op, c, old, s)
	if s.Flags&(decode.FlagFIN|decode.FlagRST) != 0 && c.sh.closed() {
		a.connClosed(c, s)
	}
	if a.fg != nil && len(a.fg.closed) > 0 {
		a.sweepShards(s.Time)
	}
}

// openShard is newConn without the trackers, which c's worker builds.
func (a *Analyzer) openShard(t *tuple, s *decode.Segment, worker int) *conn {
	c := newConn(len(a.all), s)
	c.sh = &shardConn{worker: worker}
	a.all = append(a.all, c)
	a.conns.set(t, c, a.gone)
	a.connOpened(c, s)
	return c
}

// shardSegment is, on c's worker, what segment does to c's trackers.
func (a *Analyzer) shardSegment(it *shardItem) {
	s, c := &it.seg, it.c
	switch it.op {
	case opReuse:
		old := it.old
		if old.connState == nil {
			a.grow(old)
		}
		old.tcp.SYN(old.side(s), s.Seq) // true: a new ISN
		old.tcp.Forget()
		old.app.Finish()
		fallthrough
	case opOpen:
		if a.halfOpen(s) {
			c.half.keep(s)
			a.halfConns.Add(1)
			return
		}
		a.build(c)
	default:
		if c.connState == nil {
			a.grow(c)
		}
		if s.Flags&(decode.FlagSYN|decode.FlagACK) == decode.FlagSYN {
			c.tcp.SYN(c.side(s), s.Seq) // false, as the reader found: the same ISN
		}
	}
	c.segment(s)
}

// sweepShards is sweep for a sharded analysis: the same connections
// judged, by their workers, and forgotten in the same order, when the
// reader next needs to know (applyJudged).
func (a *Analyzer) sweepShards(now time.Time) {
	fg := a.fg
	if !fg.sweepDue(now) || len(a.all) <= fg.minConns {
		return
	}
	a.applyJudged()
	fg.setNext(now.Add(time.Second))
	var judge []*conn
	kept := fg.closed[:0]
	for _, e := range fg.closed {
		c := e.c
		switch {
		case c.forgotten || a.all[c.stream] != c:
		case now.Sub(c.sh.end) < fg.after:
			kept = append(kept, e)
		case c.sh.hs.synAckAgain() && now.Sub(c.sh.end) < verdict.SYNAckAgainWithin:
			kept = append(kept, e) // as sweep keeps it
		default:
			judge = append(judge, c)
		}
	}
	clear(fg.closed[len(kept):])
	fg.closed = kept
	if cap(fg.closed) > 64 && len(fg.closed) < cap(fg.closed)/4 {
		fg.closed = append([]closedConn(nil), fg.closed...)
	}
	if len(judge) == 0 {
		return
	}
	p := a.pool
	j := &judging{conns: judge, judged: make([]forgetting, len(judge)), done: make(chan struct{}, len(p.workers))}
	for i, w := range p.workers {
		var mine []int
		for k, c := range judge {
			if c.sh.worker == i {
				mine = append(mine, k)
				c.sh.judging = true
			}
		}
		if len(mine) == 0 {
			continue
		}
		j.n++
		w.cur.items = append(w.cur.items, shardItem{op: opCall, fn: func() {
			for _, k := range mine {
				j.judged[k] = a.judgeForget(judge[k], w.enc)
			}
			j.done <- struct{}{}
		}})
		p.flush(w)
	}
	p.pending = j
}

// icmpError is ICMPError's part on c's trackers: whether the error ended
// c, a probe's SYN.
func (a *Analyzer) icmpError(c *conn, e *decode.ICMPError) bool {
	if c.connState == nil {
		a.grow(c)
	}
	side := 0
	if c.ep[1] == e.Src {
		side = 1
	}
	if c.ep[side] != e.Src {
		return false
	}
	return c.vt.ICMPError(side, e) && c.probeSYN
}

// parallelRowsAbove is how many listed connections make it worth making
// the Report's rows on Options.Workers goroutines: below, the
// goroutines' start costs more than they save.
const parallelRowsAbove = 4096

// rowChunk is how many rows the goroutines make at a time, before the
// Report takes them in stream order: the rows waiting cost little memory
// (a million SYNs' would cost 50 MB at once).
const rowChunk = 16 << 10

// rowMaker makes the Report's rows (makeRow) on several goroutines, a
// chunk at a time, each goroutine with its own scratch trackers for the
// half-open connections; the Report takes them in stream order (row).
type rowMaker struct {
	a       *Analyzer
	listed  []*conn
	free    bool
	from    int // listed index of made[0]
	made    []madeRow
	scratch []rowScratch
}

type rowScratch struct {
	st connState
	f  verdict.Facts
}

func (a *Analyzer) newRowMaker(listed []*conn, free bool) *rowMaker {
	if a.scratch == nil {
		// halfFacts (verdict.Later) builds in it when judging.
		a.scratch, a.scratchFacts = &connState{}, &verdict.Facts{}
	}
	return &rowMaker{a: a, listed: listed, free: free, from: -rowChunk, scratch: make([]rowScratch, a.workers)}
}

// row returns listed connection i's row; i goes up from 0 by one.
func (m *rowMaker) row(i int) madeRow {
	if i >= m.from+len(m.made) {
		m.from = i
		m.made = slices.Grow(m.made[:0], rowChunk)[:min(rowChunk, len(m.listed)-i)]
		var wg sync.WaitGroup
		for w := range m.scratch {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sc := &m.scratch[w]
				for j := w; j < len(m.made); j += len(m.scratch) {
					m.made[j] = m.a.makeRow(m.listed[m.from+j], m.free, &sc.st, &sc.f)
				}
			}()
		}
		wg.Wait()
	}
	r := m.made[i-m.from]
	m.made[i-m.from] = madeRow{}
	return r
}
