package analyze

import (
	"bytes"
	"cmp"
	"net/netip"
	"slices"
	"time"

	"github.com/h2pcap/h2pcap/internal/jsonrow"
	"github.com/h2pcap/h2pcap/internal/warm"

	"github.com/h2pcap/h2pcap/analyze/tcp"
	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
)

// Forgetting healthy connections.
//
// Each connection keeps about 2 KB of tracker state until the Report, so a
// capture that runs for days (h2pcap live on a node) grows with every
// connection it ever saw. With Options.ForgetHealthy, a connection that
// closed (both FINs or an RST) and has been quiet since for that long is
// judged at once, by the rules the Report uses, and a healthy one is
// dropped: what the summary counts of it (its path's connections,
// retransmissions and data segments) is kept, the rest freed. Memory then
// grows with the open connections and the troubled ones, not with all.

// forgetter holds the closed connections waiting to be judged, and what
// the forgotten ones add to the summary.
type forgetter struct {
	after time.Duration
	// minConns is how many connections must have been seen before any is
	// forgotten: below it the report lists every one (report.FoldAbove).
	minConns int
	late     int // segments of forgotten connections (Analyzer.late)
	lateKept int // segments of settled connections (Analyzer.settle)
	// lateICMP and lateICMPKept count the ICMP errors that quoted a
	// forgotten connection and a settled one (Analyzer.ICMPError).
	lateICMP, lateICMPKept int
	settled                int // connections settled
	// nextSec and nextNsec are the next sweep's time, as Unix seconds
	// and nanoseconds (sweepDue, asked at every segment).
	nextSec  int64
	nextNsec int
	// closed is the queue of closed connections, in the order they
	// closed, each with its end's time then (Unix ns; its end only moves
	// later). inOrder says those times have never gone back along the
	// queue: then the ones a sweep can judge are a prefix of it.
	closed  []closedConn
	inOrder bool
	// pending are the connections the last sweep found due, in its
	// order, from head on, when forgetting is deferred (Analyzer.defers).
	pending   []*conn
	head      int
	forgotten verdict.Forgotten
	index     map[pathKey]int // forgotten.Paths by client net and server
	// bases are the base sequence numbers of the forgotten and settled
	// connections, by their tuple's hash (keepBases).
	bases   map[uint64]tcp.Bases
	dropped int // connections forgotten: healthy ones and probes
	// placed: Options.ForgetPlaced; rows what is kept of the forgotten
	// connections then (Forgotten).
	placed bool
	rows   ForgottenRows
	facts  *verdict.Facts // forget's, made again for each connection (FactsInto)
	// verdict is a table report's forget's verdict, made again for each
	// connection (JudgeUntoldInto).
	verdict *model.Verdict
	row     *model.Connection
	h2      *model.HTTP2 // forget's row and its HTTP/2, made again for each connection with Analyzer.reuse
}

// closedConn is a connection in the forgetter's queue, and its end's
// time when it closed.
type closedConn struct {
	c  *conn
	at int64
}

// due is how many of the queue's first connections a sweep at now looks
// at: those that closed fg.after ago or more, when the queue is in
// order; else all.
func (fg *forgetter) due(now time.Time) int {
	if !fg.inOrder || !inNanos(now) {
		return len(fg.closed)
	}
	limit := now.Add(-fg.after).UnixNano()
	n, _ := slices.BinarySearchFunc(fg.closed, limit, func(e closedConn, t int64) int { return cmp.Compare(e.at, t+1) })
	return n
}

// inNanos says whether t is within 280 years of 1970, where Unix
// nanoseconds hold it and a few seconds either side.
func inNanos(t time.Time) bool {
	u := t.Unix()
	return u > -280*365*86400 && u < 280*365*86400
}

// closedConn queues c, which has just closed at its end at, for
// judgement.
func (fg *forgetter) closedConn(c *conn, at time.Time) {
	ns := at.UnixNano()
	switch {
	case !inNanos(at):
		fg.inOrder = false // its time is not one a sweep can compare
	case len(fg.closed) == 0:
		fg.inOrder = true
	case ns < fg.closed[len(fg.closed)-1].at:
		fg.inOrder = false
	}
	fg.closed = append(fg.closed, closedConn{c, ns})
}

// sweepDue says whether now is not before the next sweep (!now.Before
// of its time), compared as the seconds and nanoseconds setNext kept:
// asked at every segment once a connection has closed, and
// time.Time.Before is not inlined.
// Capture times carry no monotonic reading: their wall clocks are all
// Before compares.
func (fg *forgetter) sweepDue(now time.Time) bool {
	s := now.Unix()
	return s > fg.nextSec || s == fg.nextSec && now.Nanosecond() >= fg.nextNsec
}

// setNext sets when the next sweep is.
func (fg *forgetter) setNext(t time.Time) {
	fg.nextSec, fg.nextNsec = t.Unix(), t.Nanosecond()
}

// sweep judges the connections closed and quiet for long enough by now,
// and drops the healthy ones. It looks once a second of capture time, at
// every queued connection: one that still carried segments after its
// close (a last ACK, a retransmitted FIN) waits until it is quiet.
func (a *Analyzer) sweep(now time.Time) {
	fg := a.fg
	if !fg.sweepDue(now) || len(a.all) <= fg.minConns {
		return
	}
	fg.setNext(now.Add(time.Second))
	a.forgetPending() // the last sweep's first, in their order
	deferred := a.defers()
	// A connection whose end was later than fg.after ago when it closed
	// is not quiet long enough now (its end only moves later): with the
	// queue in order, none after it is either, and the sweep reads no
	// more of it (reading each queued connection's end was a cache miss
	// a connection every second: 20,000 of them for 5,000 a second).
	scan := fg.closed[:fg.due(now)]
	rest := fg.closed[len(scan):]
	kept := fg.closed[:0]
	for _, e := range scan {
		c := e.c
		switch {
		case c.forgotten || a.all[c.stream] != c:
		case now.Sub(c.endTime()) < fg.after:
			kept = append(kept, e)
		case c.synAckAgain() && now.Sub(c.endTime()) < verdict.SYNAckAgainWithin:
			// Its server may send its SYN-ACK again: kept until that
			// would have come (in the queue's order still: its close
			// time is unchanged).
			kept = append(kept, e)
		case fg.placed && c.placed == 0:
			// Its flow is still being compared across points.
			kept = append(kept, e)
		case fg.placed && c.placed == placedDirty:
			// Something of it is placed: its row stays whole.
		case deferred:
			c.pending = true
			fg.pending = append(fg.pending, c)
		default:
			a.forget(c)
		}
	}
	n := len(kept) + copy(fg.closed[len(kept):], rest)
	clear(fg.closed[n:])
	fg.closed = fg.closed[:n]
	if cap(fg.closed) > 64 && len(fg.closed) < cap(fg.closed)/4 {
		fg.closed = append([]closedConn(nil), fg.closed...)
	}
}

// Deferred forgetting.
//
// A sweep judges the connections closed a few seconds before, whose
// trackers have long left the processor's caches; the next connections
// are then built in those trackers (Analyzer.build), each of them a
// second cache miss, a connection apart. With one goroutine and nothing
// that reads a connection after its close but the Report, a sweep only
// lists the connections due, and each is judged and forgotten as the
// next connection is built: in the trackers just read. Nothing can tell
// the difference: a due connection does not change (a segment of it, an
// ICMP error quoting it, a key log or a Report first judges those left,
// in the sweep's order), and the ones left are judged at the next sweep,
// before it looks at any other.

// defers says whether forgetting is deferred: one goroutine, one Report,
// and no reader of a connection after its close. A multi-point
// comparison (Options.ForgetPlaced) reads none: the Placer sets a
// connection's placed (Analyzer.Placed), which a sweep reads to list it
// and its forgetting does not, and the forgotten rows it reads at the
// end are the ones the Report's catchUp has all written, in the sweeps'
// order as without deferring.
func (a *Analyzer) defers() bool { return a.pool == nil && a.reuse && a.once && !a.noDefer }

// forgetPending forgets every connection the last sweep found due that
// is not forgotten yet.
func (a *Analyzer) forgetPending() {
	if a.fg == nil {
		return
	}
	for a.fg.head < len(a.fg.pending) {
		a.forgetNext()
	}
}

// forgetNext forgets the next connection the last sweep found due.
func (a *Analyzer) forgetNext() {
	fg := a.fg
	c := fg.pending[fg.head]
	fg.pending[fg.head] = nil
	if fg.head++; fg.head == len(fg.pending) {
		fg.pending, fg.head = fg.pending[:0], 0
	}
	c.pending = false
	if fg.head < len(fg.pending) {
		a.warm(fg.pending[fg.head])
	}
	a.forget(c)
}

// warm brings what judging c reads into the cache (package warm): its
// trackers and its HTTP/2 state, last read 3 s ago. Called for the next
// connection due as the one before is judged, its misses overlap one
// another and that judging, rather than each stalling c's in turn.
func (a *Analyzer) warm(c *conn) {
	if st := c.connState; st != nil {
		a.warmSum += warm.Of(c) + warm.Of(st) + st.app.Warm()
	}
}

// ForgetClosed judges at once every closed connection still waiting to
// be quiet for Options.ForgetHealthy, and forgets the healthy ones: the
// capture is over, so none of them will carry another segment. Their rows
// are not dropped but written to a temporary file, as
// Options.SpillRows's are, and the Report lists them from it
// (model.Report.Spilled). A Report of the connections closed within
// ForgetHealthy (h2pcap live's at exit, after a reconnect storm) then
// holds their rows on disk rather than in memory beside their trackers.
//
// Only past above connections seen, as h2pcap analyze forgets only past
// Options.ForgetAbove: a connection judged alone misses what the others
// tell of it (a dial race's spare, a redial's PINGs in the headline),
// which a small report keeps. It does nothing without ForgetHealthy, or
// when the file cannot be made.
func (a *Analyzer) ForgetClosed(above int) {
	a.forgetClosed(above, true)
}

// ForgetClosedUnlisted is ForgetClosed for a report that lists no
// healthy connection (the table's and Markdown's without --all; the HTML
// lists rows): the healthy ones go as the sweeps dropped the earlier
// ones, counted in the summary, with no row kept. Judging one that way costs a third of
// making its row in the Report (200k short connections: the last 20,000,
// 0.2 CPU s of the table's 3.7) and frees its trackers at once.
func (a *Analyzer) ForgetClosedUnlisted(above int) {
	a.forgetClosed(above, false)
}

// forgetClosed is ForgetClosed, keeping the rows in a spill file if keep.
func (a *Analyzer) forgetClosed(above int, keep bool) {
	a.catchUp()
	if a.fg == nil || len(a.fg.closed) == 0 || len(a.all) <= max(above, a.fg.minConns) {
		return
	}
	if keep && a.spill == nil {
		sp, err := newRowSpill()
		if err != nil {
			return // the Report lists them from memory, as before
		}
		a.spill = sp
	}
	for i, e := range a.fg.closed {
		c := e.c
		a.fg.closed[i].c = nil // a forgotten one's memory is free at once
		if a.fg.placed && c.placed != placedClean {
			// Several capture points: one with something placed, or
			// that the Placer never retired, stays whole (sweep).
			continue
		}
		if !c.forgotten && a.all[c.stream] == c {
			a.forget(c)
		}
	}
	clear(a.fg.closed)
	a.fg.closed = nil
}

// forget judges c, closed and quiet, and drops it if it was healthy, or
// a probe that tells itself alone (an ICMP error quoting its SYN, or its
// prober's reset): counted in the summary's probes as it was, so that a
// traceroute loop left running does not grow the memory either. A
// connection whose own capture point is unknown waits for the Report:
// its verdict there rests on the other connections' majority.
func (a *Analyzer) forget(c *conn) {
	j := a.judgeForget(c, nil)
	if !j.drop && a.settles() {
		a.settle(c, j)
		return
	}
	a.forgetJudged(c, j)
}

// Settling a closed connection that stays listed.
//
// A connection that closed and was quiet for Options.ForgetHealthy but
// is not healthy (a lost PING, a reset, a loss that did not heal) stays
// in the Report. Its trackers (about 3.5 KB with its HTTP/2 state) are
// needed only to make its row and facts; with one Report at the end
// (Options.ReportOnce) those are made at once and the trackers freed,
// rather than held until the Report makes them beside every other
// row: 100k connections each with an unanswered PING peaked at 1.26 GB.
// A segment that comes for it later is counted (lateKept), not analysed,
// as one of a forgotten connection's is.

// settledRow is a settled connection's row and facts.
type settledRow struct {
	out *model.Connection
	f   *verdict.Facts
}

// settles says whether the connections kept by forget are settled: with
// one Report, and nothing that reads their trackers after their close
// (the live notices, a multi-point comparison, workers). The pictures'
// data is taken from them as they go (Analyzer.keepPlot).
func (a *Analyzer) settles() bool {
	return a.once && a.nt == nil && !a.fg.placed && a.workers <= 1
}

// settle keeps c's row and facts for the Report, and frees c's
// trackers. They are the ones j, judgeForget's finding, made of it
// (taken from the forgetting's scratch, which the next connection's are
// made anew in); its facts are made now where judgeForget kept c before
// making them: the Report would make them the same.
func (a *Analyzer) settle(c *conn, j forgetting) {
	if a.judgeView() && j.out == a.fg.row {
		// Made to judge it (judgeForget): its row whole, as the
		// Report lists it.
		j.out = c.reportInto(a.fg.row, a.fg.h2)
	}
	row := settledRow{out: j.out, f: j.f}
	if row.out == a.fg.row {
		a.fg.row = nil
		if row.out.HTTP2 == a.fg.h2 {
			a.fg.h2 = nil
		}
	}
	switch {
	case row.f == nil:
		client, _ := c.Roles()
		row.f = c.vt.Facts(client, &c.tcp)
	case row.f == a.fg.facts:
		a.fg.facts = nil
	}
	if a.settledRows == nil {
		a.settledRows = map[*conn]settledRow{}
	}
	a.settledRows[c] = row
	if c.plot != nil {
		client, _ := c.Roles()
		a.keepPlot(c, c.plotOf(client))
	}
	t := tupleOf(c.ep[sideA], c.ep[sideB])
	a.keepBases(c, &t)
	c.settled = true
	a.fg.settled++
	if a.reuse && len(a.free) < maxFree {
		a.free = append(a.free, c.connState)
	}
	c.connState = nil
}

// seals says whether the connections kept by forget are sealed: where
// they would be settled (settles) but for the workers, which keep each
// connection's trackers on the goroutine that owns it.
func (a *Analyzer) seals() bool {
	return a.once && a.nt == nil && !a.fg.placed && a.workers > 1
}

// seal makes c, which forget keeps, final as settle does, on workers:
// a segment or an ICMP error that comes for it later is counted late,
// not analysed, so that the report is the one of one goroutine, byte for
// byte (FuzzWorkersSame found a retransmission counted in a connection
// on workers and late on one goroutine).
func (a *Analyzer) seal(c *conn) {
	t := tupleOf(c.ep[sideA], c.ep[sideB])
	a.keepBases(c, &t)
	c.sealed = true
}

// forgetting is what judgeForget found of a closed connection: whether
// it goes, and what the summary keeps of it.
type forgetting struct {
	drop    bool
	probe   bool                // a probe: targets go to the summary's probes
	targets []model.ProbeTarget // the probe's
	out     *model.Connection   // its row: a healthy one's, its verdict set with a spill; or one kept's (settle)
	f       *verdict.Facts      // ... and its facts, if made
	point   model.CapturePoint  // ... and its capture point
	client  netip.AddrPort      // ... and its client (out.Client's address)
	row     []byte              // out as the spill file holds it, when enc made it
}

// judgeForget is the per-connection half of forget: it judges c alone
// (reading only c and the Analyzer's settings), so that a sharded
// analysis runs it in the goroutine that owns c. With enc (a shard's),
// a spilled row is encoded here too. forgetJudged applies the result,
// in the order the connections closed.
func (a *Analyzer) judgeForget(c *conn, enc *jsonrow.Encoder) forgetting {
	var out *model.Connection
	if a.reuse {
		// Nothing keeps the row past forget (the spill file takes its
		// JSON): the next connection's is made in it. Not with workers
		// (Analyzer.reuse): each judges its own connections at once.
		if a.fg.row == nil {
			a.fg.row, a.fg.h2 = &model.Connection{}, &model.HTTP2{}
		}
		if a.judgeView() {
			out = c.reportJudgeInto(a.fg.row, a.fg.h2)
		} else {
			out = c.reportInto(a.fg.row, a.fg.h2)
		}
	} else {
		out = c.report()
	}
	keep := forgetting{out: out} // c stays listed: its row (and facts) as made here, for settle
	if out.TLS != nil && a.keys.Any() {
		// KeyLogUse counts, per key log, the TLS connections each
		// decrypted from the Report's list: keep them listed.
		return keep
	}
	if verdict.SummaryNeedsListed(out) {
		// summary.etcd and summary.grpc are built from the listed
		// connections: an etcd peer's or a gRPC client's stays.
		return keep
	}
	client, _ := c.Roles()
	var f *verdict.Facts
	if a.workers <= 1 {
		// Nothing keeps f past forget: the forgotten counts copy what
		// they read of it, and a connection kept is judged from facts
		// made again. With workers, each judges its own connections
		// side by side: each its own.
		if a.fg.facts == nil {
			a.fg.facts = &verdict.Facts{}
		}
		f = a.fg.facts
		c.vt.FactsInto(f, client, &c.tcp)
	} else {
		f = c.vt.Facts(client, &c.tcp)
	}
	keep.f = f
	if probe, targets := verdict.FindProbes([]*model.Connection{out}, []*verdict.Facts{f}); probe[0] {
		if a.fg.placed {
			return keep
		}
		return forgetting{drop: true, probe: true, targets: targets}
	}
	if !c.rst.seen && !(c.vt.FINSent(sideA) && c.vt.FINSent(sideB)) {
		// Not closed by FINs or an RST but by a SYN with a new ISN on
		// its 4-tuple (a connect given up and made again). Its verdict
		// reads the capture's end, which only the Report knows: a SYN
		// unanswered for longer than TCP waits to send it again, traffic
		// that stopped with no close. Judged at its own end it read
		// "still connecting" and was forgotten healthy, where the Report
		// finds a failed connect (FuzzSpillSameJSON found it).
		return keep
	}
	point := f.CapturePoint()
	if point == model.PointUnknown || verdict.MaybeSpare(out, f) || tellsCapture(&f.Quality) {
		return keep
	}
	var v *model.Verdict
	if a.rowsKept() {
		v = verdict.Judge(out, f, point, c.endTime())
	} else if a.workers <= 1 {
		// Only the kind decides: the row is not kept, nor its verdict,
		// made in the same memory for each (with workers, each judges
		// its own connections side by side).
		if a.fg.verdict == nil {
			a.fg.verdict = &model.Verdict{}
		}
		v = verdict.JudgeUntoldInto(a.fg.verdict, out, f, point, c.endTime())
	} else {
		v = verdict.JudgeUntold(out, f, point, c.endTime())
	}
	if v == nil || v.Kind != model.KindHealthy {
		return keep
	}
	j := forgetting{drop: true, out: out, f: f, point: point, client: c.ep[client]}
	if a.rowsKept() {
		out.Verdict, out.CapturePoint = v, point
		if enc != nil {
			b, err := enc.Encode(out)
			if err == nil {
				j.row = bytes.Clone(b)
			}
		}
	}
	return j
}

// judgeView says whether judgeForget makes a connection's row only to
// judge it (conn.reportJudgeInto): the healthy ones are dropped without
// a row kept (no spill file: a text report; with several capture points
// ForgottenRows keeps only its TCP counters and ends, which the view
// has whole), and the one goroutine judges them one after the other
// (Analyzer.reuse); a connection it keeps has its row made whole
// (settle).
func (a *Analyzer) judgeView() bool {
	return a.reuse && !a.rowsKept()
}

// rowsKept says whether a forgotten connection's row is kept whole,
// its verdict worded: written to the spill file (Options.SpillRows) or
// held (Options.KeepRows).
func (a *Analyzer) rowsKept() bool {
	return a.spill != nil || a.keepRows
}

// forgetJudged drops c as judgeForget found, and counts it in the summary.
func (a *Analyzer) forgetJudged(c *conn, j forgetting) {
	if !j.drop {
		if a.seals() {
			a.seal(c)
		}
		return
	}
	fg := &a.fg.forgotten
	if j.probe {
		fg.Probes = verdict.MergeProbes(fg.Probes, j.targets)
		a.drop(c)
		return
	}
	out, f, point := j.out, j.f, j.point
	switch {
	case a.spill != nil:
		if j.row != nil {
			a.spill.addRow(out.Stream, j.row)
		} else {
			a.spill.add(out)
		}
		fg.Listed++
	case a.keepRows:
		a.kept = append(a.kept, out)
		if out == a.fg.row {
			// Made in forget's scratch (Analyzer.reuse): the next
			// connection's is made anew.
			a.fg.row = nil
			if out.HTTP2 == a.fg.h2 {
				a.fg.h2 = nil
			}
		}
		fg.Listed++
	}
	if a.fg.placed {
		a.fg.rows.add(out, f)
	}
	k := pathKey{net: clientNet(j.client.Addr()), server: out.Server}
	i, ok := a.fg.index[k]
	if !ok {
		i = len(fg.Paths)
		fg.Paths = append(fg.Paths, verdict.ForgottenPath{ClientNet: model.ClientNet(out.Client), Server: out.Server, FirstStream: out.Stream})
		a.fg.index[k] = i
	}
	fg.Paths[i].Add(out.Stream, out.TCP.ClientToServer.Retransmissions+out.TCP.ServerToClient.Retransmissions,
		f.Dir[model.ClientToServer].DataSegs+f.Dir[model.ServerToClient].DataSegs, f.Dir[model.ServerToClient].TTL)
	fg.N++
	fg.Quality = verdict.AddQuality(fg.Quality, f)
	if fg.Points == nil {
		fg.Points = map[model.CapturePoint]int{}
	}
	fg.Points[point]++
	server := c.ep[sideA]
	if server == j.client {
		server = c.ep[sideB]
	}
	fg.Near.Add(point, j.client, server)
	fg.Clean.Add(verdict.NewCleanSpan(i, out, j.client))
	a.drop(c)
}

// pathKey names a forgotten connection's path without making its
// strings (model.ClientNet's, once per path, not per connection): the
// client's network as model.ClientNet cuts it, and the server.
type pathKey struct {
	net    netip.Prefix
	server string
}

// clientNet is the network model.ClientNet names for a client at a.
func clientNet(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	bits := 64
	if a.Is4() {
		bits = 24
	}
	p, _ := a.Prefix(bits)
	return p
}

// drop frees forgotten connection c. Its 4-tuple keeps a tombstone, not
// the connection: a late segment of it (a FIN sent again) must not open
// a new tcp.stream, which would shift every later stream number off
// tshark's. A SYN opens one, as a new connection's would have anyway,
// unless it is c's own SYN sent again (keepBases, lateTo).
func (a *Analyzer) drop(c *conn) {
	a.fg.dropped++
	c.forgotten = true
	a.all[c.stream] = nil
	t := tupleOf(c.ep[sideA], c.ep[sideB])
	a.keepBases(c, &t)
	if a.reuse && c.connState != nil && len(a.free) < maxFree {
		// Nothing reads its trackers again: the next connection's are
		// made in their memory (Analyzer.build).
		a.free = append(a.free, c.connState)
		c.connState = nil
	}
	if a.conns.get(&t, a.gone) == c {
		a.conns.set(&t, a.gone, a.gone)
	}
	if a.lastConn == c {
		a.lastConn = nil
	}
}

// A SYN sent again on a forgotten or settled connection's 4-tuple.
//
// A pure SYN on a tracked connection's 4-tuple starts a new tcp.stream
// only if its ISN differs from the base sequence number its side already
// has (tcp.Conn.SYN): the same ISN is the old connection's SYN sent
// again. A scanner with stateless SYN cookies sends just that when it
// retries a port (the cookie is a hash of the 4-tuple), seconds after the
// first probe was answered and reset and its connection forgotten. The
// tracker is gone by then, so each forgotten or settled connection's
// bases are kept by its tuple's hash (about 40 bytes, against the
// tracker's 2 KB): without them the retry opened a new tcp.stream and
// every later stream number was off tshark's by one (FuzzPlotFreed and
// FuzzForgetStreams found it). A sealed connection's are kept too.

// keepBases keeps the base sequence numbers of c, forgotten, settled or
// sealed on tuple t, by t's hash: its lower endpoint's (netip.AddrPort.Compare)
// first, as a tombstone knows no endpoints.
func (a *Analyzer) keepBases(c *conn, t *tuple) {
	var b tcp.Bases
	switch {
	case c.sh != nil:
		b = c.sh.bases
	case c.connState != nil:
		b = c.tcp.Bases()
	case c.half.set:
		b.Segment(sideA, &decode.Segment{Seq: c.half.seq, Flags: decode.FlagSYN})
	}
	if c.ep[sideA].Compare(c.ep[sideB]) > 0 {
		b = b.Swapped()
	}
	if a.fg.bases == nil {
		a.fg.bases = map[uint64]tcp.Bases{}
	}
	a.fg.bases[t.h] = b
}

// lateTo says whether s, on the 4-tuple t of a forgotten, settled or
// sealed connection, is a late segment of it: anything but a pure SYN, or a pure
// SYN with its side's old ISN (or an ISN its side never had), as
// tcp.Conn.SYN has it. A late segment moves the bases kept as it would
// have moved the tracker's (tcp.Bases.Segment: an ACK sets the other
// side's), so that a SYN after it is judged as the tracker would judge
// it. Otherwise s opens a new connection, and the old bases go.
func (a *Analyzer) lateTo(t *tuple, s *decode.Segment) bool {
	pure := s.Flags&(decode.FlagSYN|decode.FlagACK) == decode.FlagSYN
	b, ok := a.fg.bases[t.h]
	if !ok {
		return !pure
	}
	side := sideA
	if s.Src.Compare(s.Dst) > 0 {
		side = sideB
	}
	if pure && b.NewConversation(side, s.Seq) {
		delete(a.fg.bases, t.h)
		return false
	}
	b.Segment(side, s)
	a.fg.bases[t.h] = b
	return true
}

// late takes a segment of a forgotten connection that is not a new SYN:
// counted, and named in the report's warnings, since its connection's
// counters were final when it was forgotten.
func (a *Analyzer) late() {
	a.fg.late++
}

// listed returns the connections the Report lists: all but the forgotten.
func (a *Analyzer) listed() []*conn {
	if a.fg == nil || a.fg.dropped == 0 {
		return a.all
	}
	out := make([]*conn, 0, len(a.all)-a.fg.dropped)
	for _, c := range a.all {
		if c != nil {
			out = append(out, c)
		}
	}
	return out
}

// tellsCapture says whether a connection's quality facts add to its
// input's capture_quality (verdict.FillCaptureQuality): bytes the capture
// missed, or one direction only. Such a connection stays listed, so the
// report's warning about the capture still counts it.
func tellsCapture(q *verdict.Quality) bool {
	return q.OneDirection || q.MissedBytes[0] > 0 || q.MissedBytes[1] > 0
}

// synAckAgain says whether c's server sent a SYN-ACK that was never
// acknowledged after its client had sent its SYN again (a SYN-ACK that
// came late: the client gave up, or answered it with an RST that may
// have been lost): the server may send that SYN-ACK again
// (verdict.SYNAckAgainWithin).
func (c *conn) synAckAgain() bool { return c.connState != nil && c.hs.synAckAgain() }

// handshakeWatch follows a connection's handshake as far as
// synAckAgain needs, from each segment's flags alone: the reader of a
// sharded analysis keeps one (shardConn) as the trackers' owner does
// (connState), so that both keep the same connections.
type handshakeWatch struct {
	synSide, synAckSide int8  // side+1 of the first pure SYN, of the first SYN-ACK; 0: none
	syns                uint8 // pure SYNs from synSide, counted to 2
	// acked: a segment with ACK and without SYN came after a pure SYN,
	// the one that ends Wireshark's iRTT (tcp.Conn.IRTT).
	acked bool
}

// note takes a segment side sent, with flags.
func (h *handshakeWatch) note(side int, flags decode.TCPFlags) {
	syn, ack := flags.Has(decode.FlagSYN), flags.Has(decode.FlagACK)
	switch {
	case syn && ack:
		if h.synAckSide == 0 {
			h.synAckSide = int8(side + 1)
		}
	case syn:
		if h.synSide == 0 {
			h.synSide = int8(side + 1)
		}
		if int(h.synSide) == side+1 && h.syns < 2 {
			h.syns++
		}
	case ack:
		h.acked = h.acked || h.synSide != 0
	}
}

// synAckAgain is conn.synAckAgain's test. A port scan's SYN-ACK, which
// answered the one SYN, is not one.
func (h *handshakeWatch) synAckAgain() bool {
	return h.synSide != 0 && h.synAckSide != 0 && h.synSide != h.synAckSide && !h.acked && h.syns >= 2
}
