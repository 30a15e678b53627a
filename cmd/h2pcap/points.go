package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/h2pcap/h2pcap/analyze"
	"github.com/h2pcap/h2pcap/analyze/hops"
	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
)

// pointSpec is one capture point: its name and its files (one capture,
// possibly split by rotation). When ifaces is set the files are a
// capture of several interfaces of one box whose packets are forwarded
// copies (a router's or a node's tcpdump -i any): one capture point per
// interface, named NAME:INTERFACE (see splitter).
type pointSpec struct {
	name   string
	paths  []string
	ifaces []string // interface labels (decode.Iface.Label), in order of their first TCP segment
	copies int      // the copies across interfaces the files showed
	// rotated: paths are taken for the rotated parts of one capture by
	// their names alone (rotationStem), to be proved by their times as
	// they are read (notRotatedError).
	rotated bool
}

// pointNames are the names of the capture points of specs, in order.
func pointNames(specs []pointSpec) []string {
	var out []string
	for _, sp := range specs {
		if len(sp.ifaces) == 0 {
			out = append(out, sp.name)
			continue
		}
		for _, f := range sp.ifaces {
			out = append(out, sp.name+":"+f)
		}
	}
	return out
}

// pointList is the --point flag: NAME=FILE, repeatable; the same NAME
// again adds a file of that point's capture (rotated files).
type pointList []pointSpec

func (p *pointList) String() string {
	var parts []string
	for _, s := range *p {
		for _, f := range s.paths {
			parts = append(parts, s.name+"="+f)
		}
	}
	return strings.Join(parts, ",")
}

func (p *pointList) Set(v string) error {
	name, path, ok := strings.Cut(v, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" || path == "" {
		return fmt.Errorf("want NAME=FILE, as in client=client.pcap")
	}
	if path == "-" {
		return fmt.Errorf("a capture point is read alongside the others: a file, not standard input")
	}
	for i := range *p {
		if (*p)[i].name == name {
			(*p)[i].paths = append((*p)[i].paths, path)
			return nil
		}
	}
	*p = append(*p, pointSpec{name: name, paths: []string{path}})
	return nil
}

// pointsOf makes the inputs capture points, named by their files' base
// names without extension (client.pcap: client), made unique. Files
// whose names differ only in digits and separators (tcpdump -C's
// client.pcap, client.pcap1; -G's client-20261206-0047.pcap; editcap's
// client_00000_...) are taken for the rotated parts of one capture, one
// point named by what their names share, unless alone is set or they
// hold the same packets (shared, if not nil: samePackets'): read in
// time order, a part that begins before the one before it ended proves
// them captures of their own (notRotatedError), and they are each a point
// then (m1.pcap and m2.pcap, two etcd members' captures of the same
// seconds).
func pointsOf(paths []string, alone bool, shared func(a, b string) bool) []pointSpec {
	// Where some files are tcpdump -C's parts of one (m3.pcap, m3.pcap1)
	// among others named alike (m1.pcap, m2.pcap: each member's own),
	// the parts are told by their whole names' counter alone: m1, m2 and
	// m3 made one "m" of m2.pcap and m3.pcap, which the times then proved
	// not rotated, and m3's parts each a point.
	fine := map[string]map[string]int{} // rotationStem -> countedStem -> files
	for _, path := range paths {
		c := rotationStem(path)
		if fine[c] == nil {
			fine[c] = map[string]int{}
		}
		fine[c][countedStem(path)]++
	}
	byCounter := map[string]bool{} // rotationStems whose files group by countedStem
	for c, fs := range fine {
		for _, n := range fs {
			if n > 1 && len(fs) > 1 {
				byCounter[c] = true
			}
		}
	}
	var out []pointSpec
	at := map[string]int{} // stem -> index into out
	for _, path := range paths {
		stem := rotationStem(path)
		if byCounter[stem] {
			stem = countedStem(path)
		}
		if i, ok := at[stem]; ok && !alone && stem != "" && !slices.ContainsFunc(out[i].paths, func(q string) bool { return shared != nil && shared(q, path) }) {
			// (Two that hold the same packets are captures at two
			// points: parts of one capture never do.)
			out[i].paths = append(out[i].paths, path)
			out[i].rotated = true
			continue
		}
		at[stem] = len(out)
		out = append(out, pointSpec{paths: []string{path}})
	}
	seen := map[string]int{}
	for i := range out {
		base := partsName(out[i].paths)
		name := base
		if seen[base]++; seen[base] > 1 {
			name = fmt.Sprintf("%s#%d", base, seen[base])
		}
		out[i].name = name
	}
	return out
}

// partsName names the capture whose parts are paths: their base names'
// common beginning, which is the first part's whole name when tcpdump -C
// wrote them (m1.pcap, m1.pcap1: m1), else without the digits and
// separators of a counter or time it ends in (client_00000_..., client_00001_...: client).
func partsName(paths []string) string {
	name := fileBase(paths[0])
	whole := true
	for _, p := range paths[1:] {
		b := fileBase(p)
		n := 0
		for n < len(name) && n < len(b) && name[n] == b[n] {
			n++
		}
		whole = whole && n == len(name)
		name = name[:n]
	}
	if whole || len(paths) == 1 {
		return name
	}
	return rotationStem(name)
}

// fileBase is path's base name without its capture extensions.
func fileBase(path string) string {
	base := filepath.Base(path)
	for _, ext := range []string{".gz", ".pcapng", ".pcap", ".cap"} {
		base = strings.TrimSuffix(base, ext)
	}
	return base
}

// rotationStem is path's base name without extensions, digits and
// separators at its end: what the rotated parts of one capture share.
func rotationStem(path string) string {
	s := filepath.Base(path)
	for {
		t := strings.TrimRight(s, "0123456789")
		for _, ext := range []string{".gz", ".pcapng", ".pcap", ".cap"} {
			t = strings.TrimSuffix(t, ext)
		}
		t = strings.TrimRight(t, "_-.")
		if t == s {
			return s
		}
		s = t
	}
}

// countedStem is path's base name without the digits it ends in: what
// tcpdump -C's parts of one capture share (m3.pcap, m3.pcap1, m3.pcap2:
// m3.pcap), and no two captures named alike (m2.pcap, m3.pcap).
func countedStem(path string) string {
	return strings.TrimRight(filepath.Base(path), "0123456789")
}

// notRotatedError says that files taken for the rotated parts of one
// capture by their names overlap in time: captures of their own.
type notRotatedError struct{ path, before string }

func (e *notRotatedError) Error() string {
	return fmt.Sprintf("%s begins before %s ended: not the next part of one capture", e.path, e.before)
}

// rotationBack is how far a rotated part's first packet may come
// before the last of the part before it: a capture of several
// interfaces is written a little out of time order (rotationSlack: up
// to 200 ms in the lab router's pcapng); two hosts' captures of the same
// moments overlap by the length of their captures.
const rotationBack = 500 * time.Millisecond

// point is one capture point being read: its Analyzer, and per file of
// its group its global input number and info.
type point struct {
	name   string
	iface  string // the interface label when the point is one interface of its files
	a      *analyze.Analyzer
	inputs []int               // global input numbers, by its group's paths (time order)
	infos  []*decode.InputInfo // by path, once read
	r      *analyze.InputReader
	own    *ifaceSource // the current file's, when the point is one interface
}

// groupReader reads one pointSpec's files, in time order, and hands each
// packet to its point: the only one, or the one of the packet's
// interface. Its pending packet waits for its turn among the groups'.
type groupReader struct {
	points  []int // indexes into analyzePoints' points: one, or one per spec.ifaces
	split   bool
	labels  map[string]int // interface label -> index into points
	paths   []string       // in time order
	next    int            // the next of paths to open
	src     decode.Source  // the current file, through inputSource
	byID    map[int32]int  // the current file's interface IDs -> index into points; -1 not a point
	lastID  int32
	lastPt  int
	skipped map[string]int // packets of interfaces not a point (no TCP), by label
	pending *decode.Packet
	target  int // the point of pending
	// sec and nsec are pending's time, as before compares it: the
	// earliest of the groups' packets is chosen for every packet, and
	// time.Time.Before was the most of choosing it.
	sec  int64
	nsec int
	done bool
	// shift is taken off its packets' times for their turn among the
	// groups' (clockShifts): its clock is that far ahead of the one most
	// groups' clocks agree on.
	shift time.Duration
	// rotated: paths were taken for one capture's rotated parts by their
	// names (pointSpec.rotated); last is the time of the last packet
	// read (of the part before the current one while fresh: none of the
	// current part read yet).
	rotated   bool
	last      time.Time
	partFirst time.Time // the first packet's of the current part
	fresh     bool
}

// hold makes p, of point target, g's pending packet.
func (g *groupReader) hold(p *decode.Packet, target int) {
	g.pending, g.target = p, target
	t := p.Time
	if g.shift != 0 {
		t = t.Add(-g.shift)
	}
	g.sec, g.nsec = t.Unix(), t.Nanosecond()
}

// before says whether g's pending packet came before o's.
func (g *groupReader) before(o *groupReader) bool { return timeBefore(g.sec, g.nsec, o.sec, o.nsec) }

// timeBefore is time.Time.Before of two capture times as Unix seconds
// and nanoseconds: the earliest of the groups' next packets is chosen
// for every packet, and Before was the most of choosing it.
func timeBefore(sec int64, nsec int, osec int64, onsec int) bool {
	return sec < osec || sec == osec && nsec < onsec
}

// analyzePoints analyses each capture point on its own Analyzer (each
// keeps Wireshark-exact counters of its own files) while a hops.Placer
// compares the points, reading all points at once in time order so that
// the comparison's memory follows the open connections. Input numbers are
// global: point 0's files first; a file split into a point per interface
// is an input per interface. unlisted is analyzeInputs's: the report
// lists no healthy connection, so those closed at the end are forgotten
// too. It returns the multi-point Report and whether any connection was
// seen at two points at all.
func analyzePoints(stop context.Context, specs []pointSpec, opts analyze.Options, open opener, prog *progress, sp *splitter, unlisted bool) (*model.Report, bool, error) {
	// Rows are matched across points at the end: a point's analysis
	// forgets a healthy connection (as opts say for the format) only once
	// the Placer has compared it to its end and found nothing to place,
	// keeping what the report still reads of its row (ForgetPlaced).
	opts.ForgetPlaced = true
	// Each point reports once (the reference with its rows placed before
	// they are summarised): trackers go as rows are made, as in one capture.
	specs, err := sp.plan(specs)
	if err != nil {
		return nil, false, err
	}
	names := pointNames(specs)
	var (
		points      []*point
		groups      []*groupReader
		allPaths    []string
		ifaceOf     []string // by global input
		pointInputs [][]int
	)
	for _, spec := range specs {
		order, err := timeOrder(stop, spec.paths, open)
		if err != nil {
			return nil, false, err
		}
		g := &groupReader{paths: order, split: len(spec.ifaces) > 0, rotated: spec.rotated}
		labels := spec.ifaces
		if !g.split {
			labels = []string{""}
		} else {
			g.labels = map[string]int{}
		}
		for k, label := range labels {
			pt := &point{name: names[len(points)], iface: label, a: analyze.New(opts)}
			if g.split {
				g.labels[label] = k
			}
			g.points = append(g.points, len(points))
			points = append(points, pt)
		}
		// Inputs: file by file, each file's interfaces in turn.
		for _, path := range order {
			for _, k := range g.points {
				points[k].inputs = append(points[k].inputs, len(allPaths))
				allPaths = append(allPaths, path)
				ifaceOf = append(ifaceOf, points[k].iface)
			}
		}
		groups = append(groups, g)
	}
	for _, pt := range points {
		pointInputs = append(pointInputs, pt.inputs)
	}
	prog.reading(points[0].a)
	pl := hops.New(names)
	if len(specs) == 1 && len(specs[0].ifaces) > 0 {
		// The interfaces of one box alone (a node's tcpdump -i any, live
		// -w): its own connections cross one of them, whatever its
		// forwarded ones to the same server cross; as live reads them.
		pl.SeenOnly()
		// Without the box's addresses: those of flows it forwarded
		// are other hosts'.
		pl.InferLocal()
		// One capture of its interfaces: one that went quiet was
		// still watched.
		pl.CapturedTogether()
	}
	clocks, err := clockShifts(stop, groups, points, open)
	if err != nil {
		return nil, false, err
	}
	for i, g := range groups {
		g.shift = clocks.shifts[i]
		for _, k := range g.points {
			pl.ShiftClock(k, g.shift)
		}
	}
	// Each group is read and analysed on a goroutine of its own
	// (pointsrun.go) with --workers 2 or more, or without --workers
	// (0) where Go may use two cores: what the Placer tells a point's
	// Analyzer then waits for that goroutine. --workers 1 reads them in
	// turn.
	parallel := len(groups) > 1 && (opts.Workers > 1 || opts.Workers == 0 && runtime.GOMAXPROCS(0) > 1)
	queues := make([]*placedQueue, len(points))
	for i := range queues {
		queues[i] = &placedQueue{}
	}
	pl.OnRetire(func(point, stream int, clean bool) {
		if parallel {
			queues[point].add(stream, clean)
			return
		}
		points[point].a.Placed(stream, clean)
	})
	endGroup := func(g *groupReader) {
		for _, k := range g.points {
			pl.EndPoint(k)
		}
	}
	if parallel {
		if err := mergePoints(stop, groups, open, prog, points, queues, pl, endGroup); err != nil {
			return nil, false, err
		}
		parallel = false
		for i, pt := range points {
			queues[i].apply(pt)
		}
	} else if err := readPointsInTurn(stop, groups, open, prog, points, pl, endGroup); err != nil {
		return nil, false, err
	}
	if stop.Err() != nil {
		// Each point's reading stopped in the input it was reading: it
		// says so, with that point's inputs not read.
		for _, pt := range points {
			cut, n := -1, 0
			for k, in := range pt.infos {
				if in.Format != "" {
					cut, n = k, k+1
				}
			}
			if cut < 0 {
				if len(pt.infos) == 0 {
					continue
				}
				cut, n = 0, 1
			}
			var unread []string
			for _, in := range pt.infos[n:] {
				unread = append(unread, in.Path)
			}
			pt.infos[cut].Warnings = append(pt.infos[cut].Warnings, interruptWarning(context.Cause(stop), pt.infos[cut], unread))
		}
	}
	res := pl.Finish()
	// The interfaces of one capture file share its clock.
	res.Clocks = make([]int, len(points))
	for i, g := range groups {
		for _, k := range g.points {
			res.Clocks[k] = i
		}
	}
	// Every flow is compared now: each point forgets the healthy
	// connections with nothing to place that closed within
	// opts.ForgetHealthy of the end, as one capture's analysis does
	// (analyzeInputs), rather than making their rows in its Report.
	for _, pt := range points {
		forgetAtEnd(pt.a, opts, unlisted)
	}
	res.Forgotten = make([]hops.Forgotten, len(points))
	for i, pt := range points {
		if fg := pt.a.Forgotten(); fg != nil {
			res.Forgotten[i] = fg
		}
	}
	infos := make([]*decode.InputInfo, len(allPaths))
	for _, pt := range points {
		for k, in := range pt.inputs {
			if k < len(pt.infos) {
				infos[in] = pt.infos[k]
			}
		}
	}
	for in, info := range infos {
		if info == nil { // never reached (the reading stopped before)
			infos[in] = &decode.InputInfo{Path: allPaths[in], Interface: ifaceOf[in], LinkTypes: []string{}}
		}
	}
	skewWarnings(specs, groups, points, infos, res.OffsetMs, pl.Span)
	clockWarnings(specs, groups, points, infos, res.OffsetMs, res.Reference, clocks)
	for _, spec := range specs {
		if len(spec.ifaces) > 0 {
			first := slices.Index(names, spec.name+":"+spec.ifaces[0])
			in := infos[points[first].inputs[0]]
			in.Warnings = append([]string{splitNotice(spec, names[first:first+len(spec.ifaces)])}, in.Warnings...)
		}
	}
	reports := make([]*model.Report, len(points))
	own := func(pt *point) []*decode.InputInfo {
		// The point's own report sees its inputs at their global
		// numbers, and the other points' as empty: its capture end,
		// quality and warnings are its own.
		out := make([]*decode.InputInfo, len(infos))
		for k, in := range infos {
			out[k] = &decode.InputInfo{Path: in.Path, Interface: in.Interface, LinkTypes: []string{}}
		}
		for _, in := range pt.inputs {
			out[in] = infos[in]
		}
		return out
	}
	// The other points' Reports keep the facts of the connections the
	// reference point never saw, which its report lists from them.
	elsewhere := res.Elsewhere()
	facts := make([]map[int]*verdict.Facts, len(points))
	for i, pt := range points {
		if i == res.Reference {
			continue
		}
		var keep verdict.Placer
		if len(elsewhere[i]) > 0 {
			keep = hops.KeepFacts(elsewhere[i], &facts[i])
		}
		reports[i] = pt.a.ReportPlaced(own(pt), keep)
	}
	// The reference point's rows are the report's: judged, then placed
	// by what the others saw, then summarised with the other points'
	// rows of the connections it never saw.
	ref := points[res.Reference]
	reports[res.Reference] = ref.a.ReportPlaced(own(ref), func(conns []*model.Connection, _ []*verdict.Facts) ([]verdict.Extra, *verdict.Forgotten) {
		return res.Place(conns, reports, facts)
	})
	// Its forgotten rows (JSON: spilled) gain their points as they are
	// written; so do the other points' spilled rows of connections the
	// reference never saw, and no other of theirs is read.
	reports[res.Reference].Spilled = res.PlaceSpilled(reports[res.Reference].Spilled, reports)
	reports[res.Reference].SpilledElsewhere = res.SpilledElsewhere(reports)
	for i, pt := range points {
		if i != res.Reference && !slices.ContainsFunc(reports[res.Reference].SpilledElsewhere, func(pr model.PointRows) bool { return pr.Point == names[i] }) {
			if err := pt.a.Close(); err != nil {
				return nil, false, err
			}
		}
	}
	shared := res.Shared()
	r := res.Apply(reports, infos, pointInputs)
	for i, pt := range points {
		r.Points[i].Interface = pt.iface
	}
	return r, shared, nil
}

// clockWarnings adds to the first input of a group (spec) a warning
// where the loss placement next to its points may count as lost packets
// its capture saw out of step with the others':
//   - its clock's offset from an earlier group's moved by
//     verdict.PlaceShiftMin or more within the first packets both saw
//     (clocks.steps): a clock was stepped while capturing, and no one
//     shift fits;
//   - else, its point's clock offset from the reference point's, as the
//     Placer estimated it at the end (offsetMs), is
//     verdict.ClockWarnOffset or more past what clockShifts took off
//     before the reading: their first packets shared none (a capture
//     begun long after the others), or a clock was stepped after them.
func clockWarnings(specs []pointSpec, groups []*groupReader, points []*point, infos []*decode.InputInfo, offsetMs []*float64, ref int, clocks clockPlan) {
	warned := make([]bool, len(groups))
	for _, st := range clocks.steps {
		info := infos[points[groups[st.B].points[0]].inputs[0]]
		info.Warnings = append(info.Warnings, fmt.Sprintf(
			"the offset between %s's and %s's clocks moved by %s within the first packets both saw: a clock was stepped while capturing (NTP, a VM resumed), so no one offset fits, and losses placed between them may be packets compared out of step",
			specs[st.A].name, specs[st.B].name, st.Moved.Round(time.Millisecond)))
		warned[st.A], warned[st.B] = true, true
	}
	if ref >= len(offsetMs) || offsetMs[ref] == nil {
		return
	}
	shiftOf := make([]time.Duration, len(points))
	groupOf := make([]int, len(points))
	for i, g := range groups {
		for _, k := range g.points {
			shiftOf[k], groupOf[k] = g.shift, i
		}
	}
	for i, g := range groups {
		if warned[i] || warned[groupOf[ref]] {
			continue
		}
		var worst, off time.Duration
		for _, k := range g.points {
			if k >= len(offsetMs) || offsetMs[k] == nil {
				continue
			}
			o := time.Duration((*offsetMs[k] - *offsetMs[ref]) * float64(time.Millisecond))
			if left := o - (shiftOf[k] - shiftOf[ref]); left.Abs() > worst.Abs() {
				worst, off = left, o
			}
		}
		if worst.Abs() < verdict.ClockWarnOffset {
			continue
		}
		info := infos[points[g.points[0]].inputs[0]]
		if clocks.known[i] && clocks.known[groupOf[ref]] {
			info.Warnings = append(info.Warnings, fmt.Sprintf(
				"%s's clock is %s off %s's over all the packets both saw, but was %s off in their first ones, the offset taken off before the points were compared: a clock was stepped while capturing (NTP, a VM resumed), and losses placed next to %s may be packets compared out of step",
				specs[i].name, off.Round(time.Millisecond), points[ref].name, (off-worst).Round(time.Millisecond), specs[i].name))
			continue
		}
		info.Warnings = append(info.Warnings, fmt.Sprintf(
			"%s's clock is %s off %s's (estimated from the packets both saw), which was not taken off before the points were compared: losses placed next to %s may be packets its capture saw late; move its times with `editcap -t %.3f` and analyse again",
			specs[i].name, worst.Round(time.Millisecond), points[ref].name, specs[i].name, -worst.Seconds()))
	}
}

// skewWarnings adds to the first input of each group (spec) whose
// capture began verdict.CaptureSkew or more after the earliest one's, or
// ended that much before the latest one's, each point's estimated clock
// offset taken off (offsetMs, nil where unknown), a warning that says so:
// the hops beside its points compare nothing while it was not capturing,
// so what was lost on them then is in no hop, at best between its
// neighbours (hops: lost_uncaptured; a capture begun by hand on a host
// seconds after the others). A capture's span is its points' TCP
// segments' (span), not its other packets'; the interfaces of one file
// are one capture.
func skewWarnings(specs []pointSpec, groups []*groupReader, points []*point, infos []*decode.InputInfo, offsetMs []*float64, span func(point int) (first, last time.Time)) {
	if len(groups) < 2 {
		return
	}
	type window struct{ first, last time.Time }
	spans := make([]window, len(groups))
	var first, last time.Time
	firstOf, lastOf := -1, -1
	for i, g := range groups {
		sp := &spans[i]
		for _, k := range g.points {
			f, l := span(k)
			if f.IsZero() {
				continue
			}
			if k < len(offsetMs) && offsetMs[k] != nil {
				off := time.Duration(*offsetMs[k] * float64(time.Millisecond))
				f, l = f.Add(-off), l.Add(-off)
			}
			if sp.first.IsZero() || f.Before(sp.first) {
				sp.first = f
			}
			if l.After(sp.last) {
				sp.last = l
			}
		}
		if sp.first.IsZero() {
			continue
		}
		if firstOf < 0 || sp.first.Before(first) {
			first, firstOf = sp.first, i
		}
		if lastOf < 0 || sp.last.After(last) {
			last, lastOf = sp.last, i
		}
	}
	for i, g := range groups {
		sp := spans[i]
		if sp.first.IsZero() {
			continue
		}
		// Only where its capture and the other's overlap: captures of
		// other days are not one begun late.
		info := infos[points[g.points[0]].inputs[0]]
		if late := sp.first.Sub(first); late >= verdict.CaptureSkew && sp.first.Before(spans[firstOf].last) {
			info.Warnings = append(info.Warnings, fmt.Sprintf(
				"%s's capture began %s after %s's (clock offset taken off): the hops to and from %s compare nothing before; what they lost then is at best counted as lost_uncaptured",
				specs[i].name, late.Round(time.Millisecond), specs[firstOf].name, specs[i].name))
		}
		if early := last.Sub(sp.last); early >= verdict.CaptureSkew && sp.last.After(spans[lastOf].first) {
			info.Warnings = append(info.Warnings, fmt.Sprintf(
				"%s's capture ended %s before %s's (clock offset taken off): the hops to and from %s compare nothing after; what they lost then is at best counted as lost_uncaptured",
				specs[i].name, early.Round(time.Millisecond), specs[lastOf].name, specs[i].name))
		}
	}
}

// clockPlan is what clockShifts found of the groups' clocks.
type clockPlan struct {
	shifts []time.Duration // per group: taken off its packets' times
	known  []bool          // per group: its offset was found
	steps  []hops.Step     // groups whose clocks' offset moved within their first packets
}

// clockShifts returns per group how much to take off its packets' times
// so that the groups are read together on one clock
// (hops.ClockProbe.Shifts, from the first packets of each group's first
// file): a capturing host whose clock is seconds off (no NTP) would
// otherwise have its copies of each packet come seconds after the
// others', past what the Placer waits for them, and called lost. Groups
// that cannot be read twice (standard input) are not probed: their
// shift is 0, as for clocks that agree.
func clockShifts(stop context.Context, groups []*groupReader, points []*point, open opener) (clockPlan, error) {
	plan := clockPlan{shifts: make([]time.Duration, len(groups)), known: make([]bool, len(groups))}
	if len(groups) < 2 {
		return plan, nil
	}
	probe, err := probeClocks(stop, groups, points, open, time.Time{})
	if err != nil || probe == nil {
		return plan, err
	}
	offs := probe.Offsets()
	if known(offs) < len(groups) {
		// A group shares none of its first packets with the others:
		// captures begun seconds apart on a busy link. Again from the
		// moment all were running.
		from, err := firstPacketsMeet(stop, groups, points, open)
		if err != nil {
			return plan, err
		}
		if !from.IsZero() {
			again, err := probeClocks(stop, groups, points, open, from)
			if err != nil {
				return plan, err
			}
			if again == nil {
				return plan, nil
			}
			if o := again.Offsets(); known(o) > known(offs) {
				probe, offs = again, o
			}
		}
	}
	plan.shifts, plan.steps = hops.Shifts(offs), probe.Steps()
	for i, o := range offs {
		plan.known[i] = o != nil
	}
	return plan, nil
}

// known counts the offsets found.
func known(offs []*time.Duration) int {
	n := 0
	for _, o := range offs {
		if o != nil {
			n++
		}
	}
	return n
}

// probeClocks keys the packets of each group's first file from its
// start, or from time from when that is set, in a hops.ClockProbe, each
// group on a goroutine of its own (the probe keeps a table a group). It
// returns nil when stop ended the reading.
func probeClocks(stop context.Context, groups []*groupReader, points []*point, open opener, from time.Time) (*hops.ClockProbe, error) {
	probe := hops.NewClockProbe(len(groups))
	errs := make([]error, len(groups))
	var wg sync.WaitGroup
	for i, g := range groups {
		if len(g.paths) == 0 || !rereadable(g.paths[:1]) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = keyPackets(stop, open, g.paths[0], points[g.points[0]].inputs[0], from, verdict.ClockProbeKeys, func(s *decode.Segment) bool { return probe.Add(i, s) })
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err // the first group's, as one goroutine would
		}
	}
	if stop.Err() != nil {
		return nil, nil
	}
	return probe, nil
}

// keyPackets gives add the TCP segments of file path (input number
// input) from time from on, until add reports false (the probe has
// enough) or it read 4 x limit packets, non-TCP included, so that a file
// of little TCP is not read whole for it (and 64 x limit before from,
// not decoded: half a minute at 100,000 packets/s). An error opening it
// is the input's (a stop: none); damage further on ends the keying, and
// the reading proper reports it.
func keyPackets(stop context.Context, open opener, path string, input int, from time.Time, limit int, add func(*decode.Segment) bool) error {
	src, err := open(path, input)
	if err != nil {
		if isStop(stop, err) {
			return nil
		}
		return &exitError{code: exitUsage, err: err}
	}
	defer src.Close()
	dec := decode.NewDecoder()
	var seg decode.Segment
	for read, skipped := 0, 0; read < 4*limit && skipped < 64*limit; {
		p, err := src.Next()
		if err != nil {
			return nil
		}
		if p.Time.Before(from) {
			skipped++
			continue
		}
		read++
		if ok, _ := dec.Decode(p, &seg); ok && !add(&seg) {
			return nil
		}
	}
	return nil
}

// firstPacketsMeet is when clockShifts keys each group's packets from
// the second time: the latest of the groups' first packets (their first
// files'), when those all fall within verdict.ClockProbeAlign of one
// another; zero else. Captures begun by hand on each host seconds apart
// then key packets of the same moments, where on a busy link their
// first ClockProbeKeys keys would be of different seconds and
// share none. Starts further apart than that are not the same moments
// on clocks that agree.
func firstPacketsMeet(stop context.Context, groups []*groupReader, points []*point, open opener) (time.Time, error) {
	var first, last time.Time
	for _, g := range groups {
		if len(g.paths) == 0 || !rereadable(g.paths[:1]) {
			continue
		}
		t, err := firstPacketTime(stop, g.paths[0], points[g.points[0]].inputs[0], open)
		if err != nil || t.IsZero() {
			return time.Time{}, err
		}
		if first.IsZero() || t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
	}
	if last.Sub(first) > verdict.ClockProbeAlign {
		return time.Time{}, nil
	}
	return last, nil
}

// samePackets reports whether two of the files paths (in time order)
// hold the same packets among their first ones (hops.NewSameProbe), and
// gives pair, which says it of two of them (pointsOf: parts of one
// capture never do).
func samePackets(stop context.Context, paths []string, open opener) (same bool, pair func(a, b string) bool, err error) {
	probe := hops.NewSameProbe(len(paths))
	for i, path := range paths {
		if err := keyPackets(stop, open, path, i, time.Time{}, verdict.SameProbePackets, func(s *decode.Segment) bool { return probe.Add(i, s) }); err != nil {
			return false, nil, err
		}
		if stop.Err() != nil {
			return false, nil, nil
		}
	}
	pair = func(a, b string) bool {
		i, j := slices.Index(paths, a), slices.Index(paths, b)
		return i >= 0 && j >= 0 && probe.SharedPair(i, j)
	}
	return probe.Shared(), pair, nil
}

// readPointsInTurn reads the groups on the calling goroutine, each
// packet in capture time order across them (ties to the group given
// first), analysed by its point's Analyzer and then given to pl.
func readPointsInTurn(stop context.Context, groups []*groupReader, open opener, prog *progress, points []*point, pl *hops.Placer, endGroup func(*groupReader)) error {
	for _, g := range groups {
		if err := g.advance(stop, open, prog, points); err != nil {
			return err
		}
		if g.done {
			endGroup(g)
		}
	}
	for {
		var next *groupReader
		for _, g := range groups {
			if !g.done && (next == nil || g.before(next)) {
				next = g
			}
		}
		if next == nil {
			break
		}
		pt := points[next.target]
		if s := pt.r.Take(next.pending); s != nil {
			pl.Segment(next.target, pt.a.LastStream(), s)
		} else if e := pt.r.ICMPError(); e != nil {
			pl.ICMP(next.target, e)
		}
		next.pending = nil
		if err := next.advance(stop, open, prog, points); err != nil {
			return err
		}
		if next.done {
			endGroup(next)
		}
	}
	return nil
}

// advance reads the group's next packet, opening its next file when one
// ends; done when the last ended.
func (g *groupReader) advance(stop context.Context, open opener, prog *progress, points []*point) error {
	for {
		if g.src == nil {
			if g.next == len(g.paths) {
				g.done = true
				return nil
			}
			path, k := g.paths[g.next], g.next
			first := points[g.points[0]].inputs[k]
			g.next++
			src, err := open(path, first)
			if err != nil {
				if isStop(stop, err) {
					for _, i := range g.points {
						points[i].infos = append(points[i].infos, &decode.InputInfo{Path: path, Interface: points[i].iface, LinkTypes: []string{}})
					}
					continue
				}
				return &exitError{code: exitUsage, err: err}
			}
			in := newInputSource(src, stop, prog)
			g.src, g.fresh = in, k > 0
			if !g.split {
				pt := points[g.points[0]]
				pt.r = pt.a.NewInputReader(in)
			} else {
				g.byID, g.lastPt, g.skipped = map[int32]int{}, -1, nil
				for _, i := range g.points {
					pt := points[i]
					pt.own = &ifaceSource{src: in, info: decode.InputInfo{Path: path, Interface: pt.iface, LinkTypes: []string{}}, input: pt.inputs[k]}
					pt.r = pt.a.NewInputReader(pt.own)
				}
			}
		}
		var (
			p   *decode.Packet
			err error
		)
		if !g.split {
			p, err = points[g.points[0]].r.Next()
		} else {
			p, err = g.src.Next()
		}
		if err == nil {
			if g.rotated {
				if g.fresh {
					// The part before may be overlapped by a tenth of
					// its time at most, as a box's rotated parts
					// (followEachOther), and by rotationBack.
					back := min(rotationBack, time.Duration(rotationSlack*float64(g.last.Sub(g.partFirst))))
					if p.Time.Before(g.last.Add(-back)) {
						return &notRotatedError{path: g.paths[g.next-1], before: g.paths[g.next-2]}
					}
					g.partFirst = p.Time
				}
				if g.partFirst.IsZero() {
					g.partFirst = p.Time
				}
				g.last, g.fresh = p.Time, false
			}
			if !g.split {
				g.hold(p, g.points[0])
				return nil
			}
			if k := g.pointOf(p); k >= 0 {
				pt := points[g.points[k]]
				p.Input = pt.own.input
				pt.own.count(p)
				g.hold(p, g.points[k])
				return nil
			}
			continue
		}
		if err != io.EOF {
			return &exitError{code: exitUsage, err: err}
		}
		if err := g.endFile(points); err != nil {
			return err
		}
	}
}

// pointOf returns the index into g.points of packet p's interface, -1
// for an interface that is not a point (it carried no TCP).
func (g *groupReader) pointOf(p *decode.Packet) int {
	if !p.Iface.Known {
		g.skip("unknown")
		return -1
	}
	if p.Iface.ID == g.lastID && g.lastPt >= 0 {
		return g.lastPt
	}
	k, ok := g.byID[p.Iface.ID]
	if !ok {
		k = -1
		if i, ok := g.labels[p.Iface.Label()]; ok {
			k = i
		}
		g.byID[p.Iface.ID] = k
	}
	if k < 0 {
		g.skip(p.Iface.Label())
		return -1
	}
	g.lastID, g.lastPt = p.Iface.ID, k
	return k
}

func (g *groupReader) skip(label string) {
	if g.skipped == nil {
		g.skipped = map[string]int{}
	}
	g.skipped[label]++
}

// endFile closes the group's current file and keeps each point's info
// of it.
func (g *groupReader) endFile(points []*point) error {
	var info *decode.InputInfo
	if !g.split {
		info = points[g.points[0]].r.Info()
	} else {
		info = g.src.Info()
	}
	if cerr := g.src.Close(); cerr != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("close %s: %w", info.Path, cerr)}
	}
	g.src = nil
	if !g.split {
		pt := points[g.points[0]]
		pt.infos = append(pt.infos, info)
		pt.r = nil
		return nil
	}
	for k, i := range g.points {
		pt := points[i]
		own := &pt.own.info
		own.Format, own.LinkTypes = info.Format, info.LinkTypes
		if k == 0 {
			// What the file says of itself (cut short, damaged,
			// unsupported interfaces) once, on its first interface.
			own.Warnings = append(own.Warnings, info.Warnings...)
			if len(g.skipped) > 0 {
				var parts []string
				for _, label := range slices.Sorted(maps.Keys(g.skipped)) {
					parts = append(parts, fmt.Sprintf("%d packets on %s", g.skipped[label], label))
				}
				own.Warnings = append(own.Warnings, "not analysed, their interfaces carried no TCP: "+strings.Join(parts, ", "))
			}
		}
		pt.infos = append(pt.infos, pt.r.Info())
		pt.r, pt.own = nil, nil
	}
	return nil
}

// ifaceSource is one interface of a file read as a point per interface:
// the point's InputReader takes its packets (read from the file by the
// groupReader) and its Info, counted here.
type ifaceSource struct {
	src   *inputSource
	info  decode.InputInfo
	input int // the global input number of this file's interface
}

func (s *ifaceSource) Next() (*decode.Packet, error) {
	return nil, errors.New("an interface of a file is read by its group")
}

func (s *ifaceSource) Info() *decode.InputInfo { return &s.info }
func (s *ifaceSource) Close() error            { return nil }

// Secrets passes on the file's pcapng Decryption Secrets Blocks.
func (s *ifaceSource) Secrets() []decode.DecryptionSecret { return s.src.Secrets() }

// count records one packet of the interface, as a Source counts its own.
func (s *ifaceSource) count(p *decode.Packet) {
	s.info.Count(p.Time, p.CaptureLen, p.WireLen)
}
