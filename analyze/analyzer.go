package analyze

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"sync/atomic"
	"time"

	"github.com/h2pcap/h2pcap/analyze/app"
	"github.com/h2pcap/h2pcap/analyze/notice"
	"github.com/h2pcap/h2pcap/analyze/tcp"
	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/decode/h2"
	"github.com/h2pcap/h2pcap/decode/tls"
	"github.com/h2pcap/h2pcap/model"
)

// DefaultMaxEventsPerConn is the per-connection event cap when
// Options.MaxEventsPerConn is zero.
const DefaultMaxEventsPerConn = 10000

// Options configure an Analyzer.
type Options struct {
	// MaxEventsPerConn caps the events kept per connection; further
	// events are counted in Connection.EventsDropped. Zero means
	// DefaultMaxEventsPerConn; negative keeps none.
	MaxEventsPerConn int
	// H2Ports are TCP ports whose connections are HTTP/2 from their
	// first byte, found or not by the preface, an h2c upgrade or frame
	// sync (the CLI's --h2-port). A connection that starts with TLS
	// records is still not decoded.
	H2Ports []uint16
	// Keys decrypt TLS connections (the CLI's --keylog); ReadSource adds
	// the Decryption Secrets Blocks of a pcapng source to them. Decrypted
	// application data is analysed as h2c is. Nil: no keys (a source's
	// secrets still are used). The analyzer does not modify it.
	Keys *tls.KeyLog
	// OnNotice, when set, is called while segments are analysed for each
	// Notice a connection gives (package notice), and from
	// Tick and the first Report for what only time or the end shows. It
	// runs in the caller's goroutine and must not keep n.
	OnNotice func(n *model.Notice)
	// ForgetHealthy, when positive, drops a connection that closed this
	// long ago (capture time) with nothing since and is judged healthy:
	// the Report no longer lists it, and Summary counts it
	// (HealthyNotListed). It bounds the memory of a capture that runs
	// for days by its open and troubled connections (forget.go).
	ForgetHealthy time.Duration
	// ForgetAbove is how many connections must have been seen before
	// ForgetHealthy forgets any (h2pcap analyze: report.FoldAbove, so a
	// small capture's report still lists every connection).
	ForgetAbove int
	// ForgetPlaced makes ForgetHealthy wait, for each connection, until
	// a multi-point analysis's Placer has compared it to its end
	// (Analyzer.Placed) and found nothing to place: its verdict cannot
	// change then, and its row gains only its points, made from what
	// Forgotten keeps of the forgotten connections of every point. Probes
	// stay listed (their stops are placed).
	ForgetPlaced bool
	// SpillRows keeps the forgotten connections in the Report after all:
	// their rows are written as JSON to a temporary file when they are
	// forgotten and the Report's Spilled gives them back (h2pcap analyze
	// --format json: every connection is listed, memory follows the open
	// ones). Close removes the file.
	SpillRows bool
	// KeepRows keeps the forgotten connections in the Report too, their
	// rows in memory: each made whole and judged as it is forgotten, by
	// the rules the Report judges by, and listed by the Report in stream
	// order (h2pcap analyze --all as a table, Markdown or HTML: every
	// connection is listed, and a closed healthy one holds its row, not
	// its trackers besides the row the Report would make). Not with
	// SpillRows; with ForgetPlaced, nothing is forgotten.
	KeepRows bool
	// FoldTexts, when Listed is positive, says the Report is read only
	// by a text report that, past Above connections, lists the first
	// Listed problem ones and counts the others (h2pcap analyze's
	// table: report.FoldAbove and report.MaxListed): with ReportOnce, a
	// half-open connection past those keeps no verdict text, which is
	// then never made (verdict.Later.Texts).
	FoldTexts struct{ Above, Listed int }
	// ReportOnce says the Report is made once, when the capture has been
	// read (h2pcap analyze, h2pcap live at exit): each connection's
	// trackers are freed as soon as its row and facts are made, so that
	// the Report's memory takes their place instead of adding to it.
	// Segments given after it, or a second Report, find connections
	// without trackers: do neither. With OnNotice, what the notices tell
	// at the Report (Noticer.Reconcile) is kept of each (noticeSnap);
	// with Plot, its pictures' data (Analyzer.keepPlot).
	ReportOnce bool
	// Plot records each connection's packets for the report's pictures
	// (package plot, decimated): the Report gives the connections with a
	// problem a model.Plot. It costs a little time per packet and up to
	// about 140 KB per connection with many packets.
	Plot bool
	// OneInterfacePerConnection analyses each connection on the first
	// interface it was seen on only (decode's
	// InputDecoder.OneInterfacePerConnection): h2pcap live on several
	// interfaces or any, where a host that forwards (a node and its
	// pods' veths) sees each packet once per interface it crosses.
	OneInterfacePerConnection bool
	// Workers, above 1, runs the connections' stages on that many
	// goroutines, each connection on one (shard.go), while the caller's
	// goroutine decodes and keeps what is whole-capture: the Report is
	// the same bytes as with one. Without effect with OnNotice,
	// ForgetPlaced or OneInterfacePerConnection (live and multi-point
	// analyses: one goroutine). A Report, Close or Tick ends the workers.
	Workers int
}

// Analyzer tracks TCP connections over a sequence of segments. It is not
// safe for concurrent use.
type Analyzer struct {
	maxEvents int
	h2Ports   []uint16
	keys      *app.KeyRef // shared with the connections; log nil without keys
	// conns maps a 4-tuple to its current connection: the latest tshark
	// tcp.stream on it, as find_conversation picks the newest conversation.
	conns connIndex
	all   []*conn // every connection, by stream number

	// The last segment's connection: segments come in bursts per
	// connection, and this saves the map lookup.
	lastConn *conn

	// dec decoded the last input; the next one (a rotated file of the
	// same capture) continues its reassembly and copy detection (read.go).
	dec *decode.InputDecoder

	nt           *notice.Noticer             // nil without Options.OnNotice
	fg           *forgetter                  // nil without Options.ForgetHealthy (forget.go)
	gone         *conn                       // the tombstone of forgotten connections' 4-tuples
	settledRows  map[*conn]settledRow        // the settled connections' (Analyzer.settle)
	spill        *rowSpill                   // nil without Options.SpillRows
	kept         []*model.Connection         // Options.KeepRows: the forgotten connections' rows, in the order forgotten
	keepRows     bool                        // Options.KeepRows, without SpillRows
	plot         bool                        // Options.Plot
	pics         map[*conn]*model.Plot       // pictures' data of conns whose trackers went (keepPlot); a map, not a conn field: that would take each conn to the next size class
	perIface     bool                        // Options.OneInterfacePerConnection
	openConns    atomic.Int64                // connections without a close, for OpenConns
	reported     bool                        // a Report was made (half.go)
	once         bool                        // Options.ReportOnce
	scratch      *connState                  // the trackers a Report builds for a half-open conn (half.go)
	scratchFacts *verdict.Facts              // ... and its facts
	loneSYNs     [256]loneSYN                // by TTL (loneSYNBrief)
	loneRows     map[loneShape]*loneRow      // lone SYNs' rows and facts by their shape (lonerow.go)
	later        int                         // half-open conns whose facts the Report built again when judged (verdict.Later)
	fold         struct{ Above, Listed int } // Options.FoldTexts
	untold       int                         // half-open conns judged without a verdict text (FoldTexts)
	workers      int                         // Options.Workers, where it applies
	frame        *h2.Frame                   // the Frame the HTTP/2 decoders share; nil with workers
	strs         *h2.Strings                 // the header strings they decoded lately; nil with workers
	pool         *shardPool                  // the workers, once started (shard.go)
	forgetPlaced bool                        // Options.ForgetPlaced
	settled      int                         // half-open conns whose row was settled when judged (verdict.Later.Row)
	// halfConns counts the conns still half-open (HalfOpen): atomic, as
	// a sharded analysis's workers give them their trackers (grow).
	halfConns atomic.Int64
	// reuse: a forgotten connection's trackers go to free, and the next
	// connection's are made in their memory (Analyzer.build), saving the
	// allocation and the growing of a few KB a connection. Only where
	// nothing holds a connection past its forgetting: not with the live
	// notices or the pictures; nor with Options.Workers, whose
	// goroutines build and judge connections side by side (shard.go).
	// A multi-point analysis (ForgetPlaced) reuses them too: what it
	// keeps of a forgotten connection (ForgottenRows) is a copy.
	reuse bool
	free  []*connState
	// noDefer: tests, to compare with forgetting deferred (defers).
	noDefer bool
	// warmSum keeps what warm read, so that its loads are made.
	warmSum uintptr
	// streams: with reuse, the h2.Streams released at connections'
	// clean closes (app/release.go), which the next connections take.
	streams *app.StreamPool
	// keepDecoders: the connections keep their decoders until the
	// Report even after a clean close (app.State.KeepDecoders), for the
	// tests that compare.
	keepDecoders bool
}

// maxKeptEvents bounds the events array a forgotten connection's
// trackers leave to the next: a short connection's few, not a troubled
// one's thousands.
const maxKeptEvents = 64

// maxKeptPoints bounds each list of points a forgotten connection's
// pictures' recorder leaves to the next (plot.Recorder.Reset): a short
// connection's handful, not a transfer's thousand; the trackers on the
// free list (maxFree, about 16k) hold 4.5 KB each of them at most so.
const maxKeptPoints = 16

// maxFree bounds Analyzer.free: about a second's worth of forgotten
// connections at 15k a second, which a sweep (once a second) frees
// together and the next second's connections take again; more would be
// memory held for connections that may never come.
const maxFree = 16 << 10

// maxFreeStreams bounds Analyzer.streams. Connections open about as fast
// as others close, so the pool holds a few Streams at a time; the bound
// only matters when closes outrun opens (the end of a reconnect storm):
// two Streams a connection for half of maxFree's connections, each a few
// hundred bytes once Reset (h2.Stream keeps only its small buffers).
const maxFreeStreams = maxFree

// connKey is a 4-tuple without direction: lo is the smaller endpoint.
// Its endpoints are held as bytes, not netip.AddrPort, whose zone is a
// pointer: a million connections' map then has no pointer in its keys
// for the collector to scan, and hashes and moves 40 bytes, not 64
// (growing the map was a tenth of a 1M-SYN capture's analysis).
type connKey struct{ lo, hi endpointKey }

// endpointKey is an address and port; v4 tells 1.2.3.4 from
// ::ffff:1.2.3.4. Packets carry no zone.
type endpointKey struct {
	addr [16]byte
	port uint16
	v4   bool
}

func endpointOf(ap netip.AddrPort) endpointKey {
	a := ap.Addr()
	return endpointKey{addr: a.As16(), port: ap.Port(), v4: a.Is4()}
}

func keyOf(a, b netip.AddrPort) connKey {
	if a.Compare(b) > 0 {
		a, b = b, a
	}
	return connKey{endpointOf(a), endpointOf(b)}
}

// Close releases what the Analyzer holds outside memory (the spill file
// of Options.SpillRows). A Report made before stays valid until then.
func (a *Analyzer) Close() error {
	a.catchUp()
	if a.spill != nil {
		return a.spill.Close()
	}
	return nil
}

// New returns an Analyzer.
func New(opts Options) *Analyzer {
	max := opts.MaxEventsPerConn
	switch {
	case max == 0:
		max = DefaultMaxEventsPerConn
	case max < 0:
		max = 0
	}
	a := &Analyzer{maxEvents: max, conns: newConnIndex(), h2Ports: slices.Clone(opts.H2Ports), keys: &app.KeyRef{}}
	a.AddKeys(opts.Keys)
	a.plot = opts.Plot
	a.perIface = opts.OneInterfacePerConnection
	a.once = opts.ReportOnce
	a.fold = opts.FoldTexts
	if opts.Workers > 1 && opts.OnNotice == nil && !opts.ForgetPlaced && !opts.OneInterfacePerConnection {
		a.workers = opts.Workers
	}
	if a.workers <= 1 {
		// One goroutine feeds every connection: their HTTP/2 decoders
		// emit in one Frame, and look their header strings up in one
		// cache (app.State.ShareFrame).
		a.frame, a.strs = new(h2.Frame), new(h2.Strings)
	}
	a.forgetPlaced = opts.ForgetPlaced
	if opts.OnNotice != nil {
		a.nt = notice.New(opts.OnNotice)
	}
	if opts.KeepRows && opts.ForgetPlaced {
		// Every row listed, and a multi-point analysis forgets only
		// into its own records: it forgets none (KeepRows).
		opts.ForgetHealthy = 0
	}
	if opts.ForgetHealthy > 0 {
		a.fg = &forgetter{after: opts.ForgetHealthy, minConns: opts.ForgetAbove, index: map[pathKey]int{}, placed: opts.ForgetPlaced}
		a.fg.setNext(time.Time{}) // the first sweep at the first segment after a close
		a.gone = &conn{forgotten: true}
		a.reuse = a.nt == nil && a.workers <= 1
		if a.reuse {
			a.streams = app.NewStreamPool(maxFreeStreams)
		}
		a.keepRows = opts.KeepRows && !opts.SpillRows
		if opts.SpillRows {
			if sp, err := newRowSpill(); err == nil {
				a.spill = sp
			} else {
				// Without a temporary file, keep every connection.
				a.fg = nil
			}
		}
	}
	return a
}

// Segment takes one TCP segment; segments must come in capture order. s and
// its slices may be reused by the caller once Segment returns.
func (a *Analyzer) Segment(s *decode.Segment) {
	if a.workers > 1 {
		if a.pool == nil {
			a.pool = newShardPool(a, a.workers)
		}
		a.dispatch(s)
		return
	}
	a.segment(s)
}

// LastStream is the tcp.stream of the connection the last segment given
// to Segment went to, or -1 if it went to none (a late segment of a
// forgotten connection). Multi-point analysis files each point's
// segments under its own stream numbers with it.
func (a *Analyzer) LastStream() int {
	if a.lastConn == nil || a.lastConn == a.gone {
		return -1
	}
	return a.lastConn.stream
}

// segment is Segment returning the analysis flags, for tests.
func (a *Analyzer) segment(s *decode.Segment) tcp.Flags {
	c := a.lastConn
	var t *tuple // made when the index is asked
	if c == nil || !c.holdsEnds(s.Src, s.Dst) {
		t = new(tupleOf(s.Src, s.Dst))
		c = a.conns.get(t, a.gone)
	}
	if c != nil && c.pending {
		// Due at the last sweep: judged first, as it would have been
		// then (Deferred forgetting).
		a.forgetPending()
		if t == nil {
			t = new(tupleOf(s.Src, s.Dst))
		}
		c = a.conns.get(t, a.gone)
	}
	var pre tcp.Flags
	if c != nil && (c == a.gone || c.settled) {
		if t == nil {
			t = new(tupleOf(s.Src, s.Dst))
		}
		if a.lateTo(t, s) {
			if c == a.gone {
				a.late()
			} else {
				a.fg.lateKept++
			}
			a.lastConn = nil
			return 0
		}
		c = nil // a new connection on a forgotten or settled one's 4-tuple
	}
	if c == nil {
		c = a.newConn(t, s)
	} else {
		if c.connState == nil {
			a.grow(c) // a second segment: c needs its trackers now
		}
		if s.Flags&(decode.FlagSYN|decode.FlagACK) == decode.FlagSYN && c.tcp.SYN(c.side(s), s.Seq) {
			// A SYN with a new ISN: the old connection can no longer be
			// found; drop what only the analysis needed.
			c.tcp.Forget()
			c.app.Finish()
			a.connClosed(c, s)
			c = a.newConn(nil, s)
			pre = tcp.FlagReusedPorts
		}
	}
	a.lastConn = c
	if c.connState == nil {
		// A lone SYN, kept as it is until its connection needs trackers
		// (half.go): a first SYN has no analysis flags.
		if a.fg != nil && len(a.fg.closed) > 0 {
			a.sweep(s.Time)
		}
		return pre
	}
	f := c.segment(s)
	if c.nt != nil {
		c.nt.Segment(c, s, f)
	}
	if s.Flags&(decode.FlagFIN|decode.FlagRST) != 0 {
		a.closeCheck(c, s)
	}
	if a.fg != nil && len(a.fg.closed) > 0 {
		a.sweep(s.Time)
	}
	return f | pre
}

// ICMPError takes an ICMP error that quotes a TCP segment (a router's
// time exceeded for a traceroute probe's SYN): the connection of the
// quoted four-tuple keeps it if it quotes that side's SYN. Like segments,
// errors must come in capture order.
func (a *Analyzer) ICMPError(e *decode.ICMPError) {
	t := tupleOf(e.Src, e.Dst)
	c := a.conns.get(&t, a.gone)
	if c != nil && c.pending {
		// As for a segment (Deferred forgetting).
		a.forgetPending()
		c = a.conns.get(&t, a.gone)
	}
	if c == nil || c == a.gone || c.settled || c.sealed {
		// None, or one whose row is made (forgotten or settled) or
		// final (sealed): an error that quotes it now changes nothing
		// of it. The report says so, as it does of a late segment:
		// kept whole, the connection would have taken it (a router's
		// unreachable among its suspects).
		switch {
		case c == nil:
		case c.settled || c.sealed:
			a.fg.lateICMPKept++
		default:
			a.fg.lateICMP++
		}
		return
	}
	var ended bool
	if a.pool != nil && c.sh.judging {
		a.applyJudged()
		if c = a.conns.get(&t, a.gone); c == nil || c == a.gone || c.sealed {
			// Forgotten or sealed just now: as above.
			switch {
			case c == a.gone:
				a.fg.lateICMP++
			case c != nil:
				a.fg.lateICMPKept++
			}
			return
		}
	}
	if a.pool != nil {
		// Its worker holds its trackers: ask it, and wait (ICMP
		// errors are few).
		fns := make([]func(), len(a.pool.workers))
		fns[c.sh.worker] = func() { ended = a.icmpError(c, e) }
		a.pool.call(fns)
	} else {
		ended = a.icmpError(c, e)
	}
	if ended {
		// The probe's SYN died on the way (its TTL ran out): nothing
		// more will come of it.
		a.connClosed(c, nil)
	}
}

// newConn opens the connection s starts on its 4-tuple t (nil: made
// here): with its trackers, or without while s is a lone SYN (half.go).
func (a *Analyzer) newConn(t *tuple, s *decode.Segment) *conn {
	c := newConn(len(a.all), s)
	if a.halfOpen(s) {
		c.half.keep(s)
		a.halfConns.Add(1)
	} else {
		a.build(c)
	}
	a.all = append(a.all, c)
	if t == nil {
		t = new(tupleOf(s.Src, s.Dst))
	}
	a.conns.set(t, c, a.gone)
	a.connOpened(c, s)
	return c
}

// Report returns the result for every connection seen so far, in tcp.stream
// order. It may be called more than once; the first call ends the HTTP/2
// decoding (holes still waiting to be filled become gaps), and segments
// given after it are analysed as TCP only.
func (a *Analyzer) Report(inputs []*decode.InputInfo) *model.Report {
	return a.ReportPlaced(inputs, nil)
}

// ReportPlaced is Report with place, if not nil, called on the judged
// connections before the summary is made of them
// (verdict.JudgeReportPlaced): a multi-point analysis's reference point
// adds what the other points saw.
func (a *Analyzer) ReportPlaced(inputs []*decode.InputInfo, place verdict.Placer) *model.Report {
	a.catchUp()
	r := &model.Report{
		Version:     1,
		Inputs:      inputs,
		Connections: []*model.Connection{},
	}
	if r.Inputs == nil {
		r.Inputs = []*decode.InputInfo{}
	}
	// The trackers kept for connections to come go: the rows take
	// their place, and a segment after this allocates its own.
	clear(a.free)
	a.free = nil
	a.streams.Clear()
	listed := a.listed()
	facts := make([]*verdict.Facts, len(listed)) // a half-open one's now, the others' when judged
	free := a.once
	// With notices and free, what Reconcile reads of each connection,
	// kept as its trackers go (noticeSnap).
	var snaps map[*conn]*noticeSnap
	if free && a.nt != nil {
		snaps = make(map[*conn]*noticeSnap, len(listed))
	}
	if free {
		// No segment comes after the one Report (Options.ReportOnce):
		// the 4-tuples' index (about 35 bytes a connection) can go
		// before the rows are made.
		a.conns, a.lastConn = newConnIndex(), nil
	}
	r.Connections = make([]*model.Connection, 0, len(listed))
	var later *verdict.Later // the half-open connections' facts, built again when judged
	// Without place, a half-open connection's row is built as it is
	// judged, and dropped then if final (verdict.Later.Row): a million
	// attempts are never a million rows at once.
	// A multi-point analysis (Options.ForgetPlaced) places the rows of
	// every point's Report: each keeps them all.
	rowLater := free && place == nil && !a.forgetPlaced
	var clients []int8 // with rowLater: the side that is each one's client
	// Elsewhere, the rows are made on Options.Workers goroutines
	// (shard.go): with rowLater, a half-open one's is made as it is
	// judged, in this goroutine, and settled at once.
	var rows *rowMaker
	if a.workers > 1 && !rowLater && snaps == nil && len(listed) >= parallelRowsAbove {
		rows = a.newRowMaker(listed, free)
	}
	for i, c := range listed {
		var out *model.Connection
		switch {
		case c.settled:
			s := a.settledRows[c]
			delete(a.settledRows, c)
			out, facts[i] = s.out, s.f
		case rows != nil:
			m := rows.row(i)
			out = m.out
			a.keepPlot(c, m.pic)
			switch {
			case m.briefed:
				if later == nil {
					later = a.newLater(r, listed)
				}
				later.Briefs[i] = m.b
				a.later++
			case m.half, free:
				facts[i] = m.f
			}
		case c.connState == nil && rowLater:
			b, client, ok := a.loneSYNBrief(c)
			if !ok {
				var f *verdict.Facts
				out, f = a.reportHalf(c)
				facts[i] = f.Clone()
				break
			}
			if later == nil {
				later = a.newLater(r, listed)
				clients = make([]int8, len(listed))
				later.Row = func(i int, reuse *model.Connection) (*model.Connection, *verdict.Facts) {
					return a.reportHalfLater(listed[i], reuse)
				}
				later.Endpoints = func(i int) (netip.AddrPort, netip.AddrPort) {
					c, client := listed[i], clients[i]
					return c.ep[client], c.ep[1-client]
				}
				later.Settled = func(i int) {
					// Its row is settled: the conn (200-odd bytes) can go.
					delete(a.pics, listed[i])
					a.all[listed[i].stream] = nil
					listed[i] = nil
					a.settled++
				}
			}
			later.Briefs[i], clients[i] = b, int8(client)
			if end := c.endTime(); end.After(later.End) {
				later.End = end
			}
			a.later++
		case c.connState == nil:
			var f *verdict.Facts
			out, f = a.reportHalf(c)
			b, ok := verdict.BriefOf(f)
			if !free || !ok {
				facts[i] = f.Clone()
				break
			}
			if later == nil {
				later = a.newLater(r, listed)
			}
			later.Briefs[i] = b
			a.later++
		case free:
			out = c.report()
			client, rule := c.Roles()
			facts[i] = c.vt.Facts(client, &c.tcp)
			a.keepPlot(c, c.plotOf(client))
			if snaps != nil {
				snaps[c] = &noticeSnap{conn: c, notes: c.notes, client: client, rule: rule}
			}
			c.connState = nil // Options.ReportOnce
		default:
			out = c.report()
		}
		r.Connections = append(r.Connections, out)
	}
	a.reported = true
	if a.fg != nil && len(r.Inputs) > 0 {
		// On the last input, once however often the Report is made.
		in := r.Inputs[len(r.Inputs)-1]
		warn := func(n int, format string) {
			if w := fmt.Sprintf(format, n, a.fg.after); n > 0 && !slices.Contains(in.Warnings, w) {
				in.Warnings = append(in.Warnings, w)
			}
		}
		warn(a.fg.late, "%d segments came for connections already closed, quiet for %s and summarised as healthy; they are counted in no connection")
		warn(a.fg.lateKept, "%d segments came for connections already closed and quiet for %s, whose rows were made then; they are counted in no connection")
		warn(a.fg.lateICMP, "%d ICMP errors came for connections already closed, quiet for %s and summarised (as healthy, or as probes); they changed none of them")
		warn(a.fg.lateICMPKept, "%d ICMP errors came for connections already closed and quiet for %s, whose rows were made then; they changed none of them")
	}
	listed = a.judgeReport(r, listed, facts, later, place) // judge.go
	// A multi-point analysis's rows of connections this point never saw
	// (verdict.Placer) follow its own, which what comes next reads
	// index by index with listed: they leave the list until the end.
	elsewhere := slices.Clone(r.Connections[len(listed):])
	clear(r.Connections[len(listed):])
	r.Connections = r.Connections[:len(listed)]
	if a.spill != nil && a.spill.Len() > 0 {
		r.Spilled = a.spill
		// The rows spilled as they were judged (verdict.Later) leave
		// the list they were judged in.
		n := 0
		for i, c := range listed {
			if !c.rowSpilled {
				listed[n], r.Connections[n] = c, r.Connections[i]
				n++
			}
		}
		clear(listed[n:])
		clear(r.Connections[n:])
		listed, r.Connections = listed[:n], r.Connections[:n]
	}
	a.plots(r, listed) // plots.go
	if a.nt != nil {
		conns := noticeConns(listed)
		for i, c := range listed {
			if s := snaps[c]; s != nil {
				conns[i] = s
			}
		}
		a.nt.Reconcile(conns, r)
	}
	if len(a.kept) > 0 {
		// Options.KeepRows: the forgotten rows join the list, final
		// (judged as they were forgotten, by the same rules), after
		// everything above read it index by index with listed.
		r.Connections = mergeKept(r.Connections, a.kept)
		a.kept = nil
	}
	r.Connections = append(r.Connections, elsewhere...)
	return r
}

// mergeKept returns rows, in stream order, with kept (the rows
// Options.KeepRows held, in the order their connections were forgotten)
// merged in by stream.
func mergeKept(rows, kept []*model.Connection) []*model.Connection {
	slices.SortFunc(kept, func(x, y *model.Connection) int { return cmp.Compare(x.Stream, y.Stream) })
	out := make([]*model.Connection, 0, len(rows)+len(kept))
	i, k := 0, 0
	for i < len(rows) || k < len(kept) {
		if k == len(kept) || i < len(rows) && rows[i].Stream < kept[k].Stream {
			out = append(out, rows[i])
			i++
		} else {
			out = append(out, kept[k])
			k++
		}
	}
	return out
}

// madeRow is a listed connection's row as makeRow made it, and its facts
// or, for a half-open connection judged later, its Brief.
type madeRow struct {
	out     *model.Connection
	f       *verdict.Facts
	b       verdict.Brief
	half    bool        // half-open: made by reportHalfIn
	briefed bool        // b, not f: its facts are built again when judged
	pic     *model.Plot // its pictures' data, its trackers gone (Analyzer.keepPlot)
}

// makeRow makes listed connection c's row for the Report, and its facts
// when the Report takes them now: a half-open one's (in the scratch
// state st and sf) unless its Brief will do, and with free (ReportOnce)
// every one's, its trackers freed. It reads and changes c alone.
func (a *Analyzer) makeRow(c *conn, free bool, st *connState, sf *verdict.Facts) madeRow {
	switch {
	case c.connState == nil:
		out, f, pic := a.reportHalfIn(c, nil, st, sf)
		b, ok := verdict.BriefOf(f)
		if !free || !ok {
			return madeRow{out: out, f: f.Clone(), half: true, pic: pic}
		}
		return madeRow{out: out, b: b, half: true, briefed: true, pic: pic}
	case free:
		out := c.report()
		client, _ := c.Roles()
		f := c.vt.Facts(client, &c.tcp)
		pic := c.plotOf(client)
		c.connState = nil // Options.ReportOnce
		return madeRow{out: out, f: f, pic: pic}
	default:
		return madeRow{out: c.report()}
	}
}

// newLater is the verdict.Later of Report r of the connections listed:
// their facts built again as each is judged (half.go), their verdict
// texts made only for the rows a table lists (Options.FoldTexts), a row
// final once judged spilled at once (Options.SpillRows).
func (a *Analyzer) newLater(r *model.Report, listed []*conn) *verdict.Later {
	later := &verdict.Later{Briefs: make([]verdict.Brief, len(listed)), Build: func(i int) *verdict.Facts {
		return a.halfFacts(listed[i])
	}}
	if a.fold.Listed > 0 && a.spill == nil && !a.forgetPlaced {
		// Not in a multi-point analysis (ForgetPlaced): what the other
		// points saw may make a connection judged healthy here a
		// problem (a packet lost between them), whose verdict is then
		// worded with its evidence.
		problems := 0 // judged from a Brief, in stream order
		later.Texts = func(i int, out *model.Connection) bool {
			if len(r.Connections) <= a.fold.Above {
				return true // every connection listed
			}
			if v := out.Verdict; v == nil || v.Kind == "" || v.Kind == model.KindHealthy {
				a.untold++
				return false // counted, not listed
			}
			// The connections listed are the first problem
			// ones: none before this one is listed unless
			// it is a problem too, so past the first Listed
			// of those judged from a Brief this one is not.
			problems++
			if problems <= a.fold.Listed {
				return true
			}
			a.untold++
			return false
		}
	}
	if a.spill != nil && !a.forgetPlaced {
		// JSON: a row final once judged goes to the spill
		// file at once, its text out of memory. Not in a multi-point
		// analysis (ForgetPlaced): the other points may place what it
		// sent (a SYN the next point never saw), so it stays listed
		// until placed.
		later.Done = func(i int, out *model.Connection) bool {
			if pic, ok := a.pics[listed[i]]; ok {
				// Its pictures' data (Options.Plot), as plots would
				// give it to the row listed.
				if problemRow(out) {
					out.Plot = pic
				}
				delete(a.pics, listed[i])
			}
			a.spill.add(out)
			listed[i].rowSpilled = true
			return true
		}
	}
	return later
}

// report maps sides to client and server and builds the Connection.
func (c *conn) report() *model.Connection {
	return c.reportInto(nil, nil)
}

// reportInto is report made in row and h2, if not nil, reusing their
// maps and slices (app.State.HTTP2Into): for a caller that keeps nothing
// of the row once the next one is made in them.
func (c *conn) reportInto(row *model.Connection, h2 *model.HTTP2) *model.Connection {
	return c.reportIntoView(row, h2, true)
}

// reportJudgeInto is reportInto for a row made only to judge c alone and
// then dropped: its HTTP/2 without what that judging never reads
// (app.State.HTTP2JudgeInto), but for a TLS connection's (a dial race's
// spare is told by its frame counts).
func (c *conn) reportJudgeInto(row *model.Connection, h2 *model.HTTP2) *model.Connection {
	return c.reportIntoView(row, h2, c.app.TLS() != nil)
}

// reportIntoView is reportInto, its HTTP/2 HTTP2JudgeInto's unless full.
func (c *conn) reportIntoView(row *model.Connection, h2 *model.HTTP2, full bool) *model.Connection {
	client, rule := c.Roles()
	out := c.reportTCPInto(row, client, rule)
	if full {
		out.HTTP2 = c.app.HTTP2Into(h2, client)
	} else {
		out.HTTP2 = c.app.HTTP2JudgeInto(h2, client)
	}
	out.TLS = c.app.TLS()
	switch {
	case out.TLS != nil && (out.HTTP2 != nil || out.TLS.Decrypted && out.TLS.ALPN == "h2"):
		out.App = "h2"
	case out.HTTP2 != nil:
		out.App = "h2c"
	}
	if out.Etcd = c.app.Etcd(client); out.Etcd != nil {
		out.App = model.AppEtcdPeer
	}
	return out
}

// reportTCP is the Connection without what the HTTP/2 and TLS layers
// found: building those ends their decoding, which a connection still
// being captured cannot afford (the notices judge one at its close).
func (c *conn) reportTCP(client int, rule string) *model.Connection {
	return c.reportTCPInto(nil, client, rule)
}

// reportTCPInto is reportTCP made in into, if not nil, its events' array
// reused.
func (c *conn) reportTCPInto(into *model.Connection, client int, rule string) *model.Connection {
	server := 1 - client
	dirOf := func(side int) model.Direction {
		if side == client {
			return model.ClientToServer
		}
		return model.ServerToClient
	}
	who := func(side int) string {
		if side == client {
			return model.SideClient
		}
		return model.SideServer
	}

	cl, sv := c.tcp.Flow(client), c.tcp.Flow(server)
	out := into
	var events []model.Event
	if out == nil {
		out = &model.Connection{}
	} else if cap(out.Events) >= len(c.events) {
		events = out.Events[:len(c.events)]
	}
	if events == nil {
		events = make([]model.Event, len(c.events))
	}
	*out = model.Connection{
		Stream:     c.stream,
		Client:     c.ep[client].String(),
		Server:     c.ep[server].String(),
		FirstFrame: c.firstFrame,
		LastFrame:  c.lastFrame,
		FirstInput: int(c.firstInput),
		LastInput:  int(c.lastInput),
		Start:      c.start,
		End:        c.endTime(),
		App:        app.AppName(c.dir[client].sniff, c.dir[server].sniff),
		Roles:      rule,
		TCP: model.TCPStats{
			ClientToServer: cl.Stats(),
			ServerToClient: sv.Stats(),
		},
		Handshake: model.Handshake{
			Seen:          c.tcp.SYNSide() >= 0 || c.tcp.SYNAckSide() >= 0,
			ClientMSS:     cl.MSS(),
			ServerMSS:     sv.MSS(),
			ClientWScale:  cl.WScaleOption(),
			ServerWScale:  sv.WScaleOption(),
			SACKPermitted: tcp.SACKPermitted(cl, sv),
		},
		Close:         model.Close{Kind: model.CloseNone},
		Events:        events,
		EventsDropped: c.eventsDropped,
	}
	if rtt := c.tcp.IRTT(); rtt != 0 {
		ms := float64(rtt) / float64(time.Millisecond)
		out.IRTTms = &ms
	}
	switch m := c.rst; {
	case m.seen:
		out.Close = model.Close{Kind: model.CloseRST, By: who(m.side), Frame: m.frame, Input: m.input}
	case c.fin.seen:
		m = c.fin
		out.Close = model.Close{Kind: model.CloseFIN, By: who(m.side), Frame: m.frame, Input: m.input}
	}
	for i, e := range c.events {
		e.Dir = dirOf(int(e.Dir))
		out.Events[i] = e
	}
	return out
}

// noticeConns is conns as the notices read them.
func noticeConns(conns []*conn) []notice.Conn {
	out := make([]notice.Conn, len(conns))
	for i, c := range conns {
		out[i] = c
	}
	return out
}
