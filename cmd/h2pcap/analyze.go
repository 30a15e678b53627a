package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/h2pcap/h2pcap/analyze"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/decode/tls"
	"github.com/h2pcap/h2pcap/internal/outfile"
	"github.com/h2pcap/h2pcap/model"
	"github.com/h2pcap/h2pcap/report"
)

// fileList is a repeatable flag of file names.
type fileList []string

func (f *fileList) String() string     { return strings.Join(*f, ",") }
func (f *fileList) Set(s string) error { *f = append(*f, s); return nil }

// keyLogFile is one key log read, kept to say what it decrypted.
type keyLogFile struct {
	path string
	log  *tls.KeyLog
}

// readKeyLogs reads the --keylog files and the SSLKEYLOGFILE environment
// variable's file, if it is set and exists, into one key log; nil when there
// are none. A file that cannot be read, a malformed line or a file without
// a single key is an input error (exit 2) naming the file.
func readKeyLogs(paths []string) (*tls.KeyLog, []keyLogFile, error) {
	var keys *tls.KeyLog
	var files []keyLogFile
	for _, p := range keyLogPaths(paths) {
		k, err := tls.ReadKeyLogFile(p)
		if err != nil {
			return nil, nil, &exitError{code: exitUsage, err: fmt.Errorf("keylog: %w", err)}
		}
		if k.Len() == 0 {
			return nil, nil, usageError("keylog: %s: no key in it (an NSS key log has lines such as CLIENT_RANDOM <hex> <hex>)", p)
		}
		if keys == nil {
			keys = &tls.KeyLog{}
		}
		keys.Merge(k)
		files = append(files, keyLogFile{p, k})
	}
	return keys, files, nil
}

// keyLogPaths returns the --keylog files and the SSLKEYLOGFILE environment
// variable's file, if it is set, not among them, and exists.
func keyLogPaths(paths []string) []string {
	if env := os.Getenv("SSLKEYLOGFILE"); env != "" && !slices.Contains(paths, env) {
		if _, err := os.Stat(env); err == nil {
			return append(slices.Clip(paths), env)
		}
	}
	return paths
}

// portList is a repeatable flag of TCP port numbers.
type portList []uint16

func (p *portList) String() string {
	parts := make([]string, len(*p))
	for i, n := range *p {
		parts[i] = strconv.Itoa(int(n))
	}
	return strings.Join(parts, ",")
}

func (p *portList) Set(s string) error {
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.ParseUint(strings.TrimSpace(f), 10, 16)
		if err != nil || n == 0 {
			return fmt.Errorf("bad port %q", f)
		}
		*p = append(*p, uint16(n))
	}
	return nil
}

// analysisFlags are the analysis's own flags, which analyze and live share.
type analysisFlags struct {
	keylogs fileList
}

// register declares --h2-port (into opts) and --keylog; keylogHow ends
// --keylog's help with what the command does besides.
func (f *analysisFlags) register(fs *flag.FlagSet, opts *analyze.Options, keylogHow string) {
	fs.Var((*portList)(&opts.H2Ports), "h2-port", "treat TCP `PORT` as HTTP/2 from its first byte (repeatable, or comma-separated); HTTP/2 is found without it by the preface, an h2c upgrade or frame sync")
	fs.Var(&f.keylogs, "keylog", "decrypt TLS with the NSS key log `FILE` (SSLKEYLOGFILE format; repeatable); the SSLKEYLOGFILE environment variable's file is read too; "+keylogHow)
}

// outputFlags are the flags every command that writes a report shares.
type outputFlags struct {
	format string
	output string
	all    bool
	plot   bool
}

func (o *outputFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&o.format, "format", "table", "report format: "+strings.Join(report.Formats, ", "))
	fs.StringVar(&o.output, "o", "", "write the report to `FILE` instead of standard output")
	fs.BoolVar(&o.all, "all", false, fmt.Sprintf("list every connection in the table and Markdown reports (by default, past %d connections, the problem ones are listed and the rest counted per path; JSON always has all)", report.FoldAbove))
	fs.BoolVar(&o.plot, "plot-data", false, "give the connections with a problem the pictures' data (plot: packets over time, decimated) in the JSON report too; html, and markdown with -o, always record it")
}

func (o *outputFlags) check() error {
	if !slices.Contains(report.Formats, o.format) {
		return usageError("unknown format %q (want %s)", o.format, strings.Join(report.Formats, ", "))
	}
	return nil
}

// write renders r where the flags say. A regular file is written whole or
// not at all, so a failed run never leaves half a report behind; a device
// or a FIFO is written in place (outfile says why).
func (o *outputFlags) write(stdout io.Writer, r *model.Report) error {
	if o.output == "" || o.output == "-" {
		w := bufio.NewWriterSize(stdout, report.OutBuffer)
		if err := report.WriteOptions(w, r, o.format, report.Options{Width: terminalWidth(stdout), All: o.all}); err != nil {
			return err
		}
		return w.Flush()
	}
	ropts := report.Options{All: o.all}
	if o.format == "markdown" {
		dir, err := writePictures(o.output, r)
		if err != nil {
			return err
		}
		ropts.Pictures = dir
	}
	f, err := outfile.Create(o.output)
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	w := bufio.NewWriterSize(f, report.OutBuffer)
	err = report.WriteOptions(w, r, o.format, ropts)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		f.Abort()
		return fmt.Errorf("write report %s: %w", o.output, err)
	}
	if err := f.Commit(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func cmdAnalyze(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	var out outputFlags
	out.register(fs)
	var opts analyze.Options
	var af analysisFlags
	af.register(fs, &opts, "pcapng Decryption Secrets Blocks are used without it")
	var points pointList
	fs.Var(&points, "point", "read `NAME=FILE` as the capture point NAME (repeatable; the same NAME again adds a rotated file of that capture): the points are analysed each on its own and compared, placing each loss between two adjacent points")
	// One by default: a forgotten connection's trackers and row make the
	// next one's (Analyzer.reuse) only on one goroutine, and on the bench
	// captures that saves more than a second core gains (README, Using
	// the cores).
	// Several capture points are read each on a goroutine of its own
	// unless --workers 1 says otherwise (Options.Workers 0: not given):
	// about a third less wall time for four points (README, Using the
	// cores).
	fs.IntVar(&opts.Workers, "workers", 1, "analyse the connections on `N` goroutines (more than the cores Go may use do not help); 1 analyses in the reading goroutine; the report is the same either way. Several capture points are each read and analysed on a goroutine of their own when Go may use two cores or more, unless --workers 1")
	var split splitMode
	fs.Var(&split, "split-interfaces", "read a file of several interfaces (tcpdump -i any: LINUX_SLL2; pcapng) as one capture point per interface, named FILE:IFACE or NAME:IFACE; by default (auto) a file is split when its packets are forwarded between its interfaces (a router's or a node's -i any); =false reads it as one point, dropping the copies")
	paths, err := parseArgs(fs, args, stdout, "Usage: h2pcap analyze [flags] FILE...\n       h2pcap analyze [flags] --point NAME=FILE --point NAME=FILE...\n\nFILE is a pcap or pcapng capture, optionally gzipped; - reads standard input.\nSeveral files are one capture split by rotation (tcpdump -C, -G), read in the\ntime order of their first packets whatever the order given; files that\ncapture the same moments and connections are several capture points, each\nnamed by its file name (--point names them).\n")
	if err != nil {
		return err
	}
	if len(points) > 0 && len(paths) > 0 {
		return usageError("analyze: give every file with --point NAME=FILE when --point is used (%s is not)", paths[0])
	}
	if len(paths) == 0 && len(points) == 0 {
		return usageError("analyze: no capture file given (h2pcap analyze FILE...; -h for the flags)")
	}
	if err := out.check(); err != nil {
		return err
	}
	paths = onceEach(paths, warnf(stderr))
	if points, err = samePointCaptures(points, warnf(stderr)); err != nil {
		return err
	}
	if opts.Workers < 1 {
		return usageError("analyze: --workers %d: want 1 or more", opts.Workers)
	}
	if !flagGiven(fs, "workers") {
		opts.Workers = 0 // one capture: 1; several points: a goroutine each (analyzePoints)
	}
	opts.Plot = out.pictures()
	var keyFiles []keyLogFile
	if opts.Keys, keyFiles, err = readKeyLogs(af.keylogs); err != nil {
		return err
	}
	onTerminal := isTerminal(stderr)
	stderr = &lockedWriter{w: stderr} // the signal handler and the progress write to it too
	ir := catchInterrupts(stderr, os.Exit)
	defer ir.stop()
	open := func(path string, input int) (decode.Source, error) {
		if path == "-" {
			return decode.NewReaderContext(ir.context(stdin), stdin, "-", input)
		}
		return decode.OpenContext(ir.pathContext(path), path, input)
	}
	all := slices.Clone(paths) // every file read, the points' too
	for _, p := range points {
		all = append(all, p.paths...)
	}
	var prog *progress
	if onTerminal {
		prog = startProgress(stderr, inputsSize(all), progressAfter, time.Now)
	}
	switch {
	case out.format == "json":
		// Every connection is in the JSON report: the healthy ones are
		// judged soon after their close and their rows written to a
		// temporary file (unlinked at once, gone at exit) until the
		// report is, so memory follows the open connections.
		opts.ForgetHealthy, opts.ForgetAbove, opts.SpillRows = forgetQuiet, report.FoldAbove, true
	case !out.all:
		// The text reports list problem connections and count the healthy
		// ones: those can be judged and dropped soon after their close.
		opts.ForgetHealthy, opts.ForgetAbove = forgetQuiet, report.FoldAbove
		// The table, Markdown and HTML word the verdicts of the
		// connections they list only, and count the rest: a million
		// failed attempts need no million texts, nor rows (1M SYNs in
		// HTML or Markdown held 2.7 GB of them).
		opts.FoldTexts.Above, opts.FoldTexts.Listed = report.FoldAbove, report.Listed(out.format)
	default:
		// --all: every connection listed. A healthy one is still judged
		// soon after its close, and its row held instead of its
		// trackers (a third of their memory on short connections).
		opts.ForgetHealthy, opts.ForgetAbove, opts.KeepRows = forgetQuiet, report.FoldAbove, true
	}
	sp := newSplitter(split, ir.files, open)
	if len(points) == 1 {
		// One point is one capture: nothing to compare it with, unless
		// it is a capture point per interface.
		if fw, ferr := sp.forwarded(points[0].paths); ferr != nil {
			prog.stop()
			return ferr
		} else if !fw {
			paths, points = points[0].paths, nil
		}
	}
	// One Report, at the end: each connection's trackers go as its row
	// is made.
	opts.ReportOnce = true
	var r *model.Report
	// The reports that count healthy connections rather than list them
	// (every one but JSON: report.Listed; the HTML folds them into a row
	// per path on its timeline) forget, at the end too, those closed
	// within ForgetHealthy of it, as the earlier ones were: what each
	// lists does not hang on when the reading reached it (with several
	// points read side by side, when the comparison told each point a
	// connection was placed).
	unlisted := !out.all && report.Listed(out.format) > 0
	if len(points) > 0 {
		r, _, err = analyzePoints(ir.files, points, opts, open, prog, sp, unlisted)
	} else {
		r, err = analyzeInputs(ir.files, paths, opts, open, prog, sp, unlisted)
	}
	prog.stop() // its line is cleared before anything else is written
	if err != nil {
		return err
	}
	ir.settle(all)
	markLateInterrupt(ir.files, r)
	for _, f := range keyFiles {
		u := analyze.KeyLogUse(r, f.path, f.log)
		r.KeyLogs = append(r.KeyLogs, u)
		if u.Decrypted == 0 && u.TLSConnections > 0 {
			fmt.Fprintf(stderr, "h2pcap: warning: key log %s (%d keys) decrypted none of the %d TLS connections: keys of another capture? They are analysed as without keys\n", u.Path, u.Keys, u.TLSConnections)
		}
	}
	warnInputs(stderr, r)
	return out.write(stdout, r)
}

// forgetQuiet is how long (capture time) a closed healthy connection must
// have been quiet before a text report's analysis drops it: past a late
// ACK or a FIN sent again after its first retransmission timeout (200 ms
// at least, 1 s before a round trip is measured, doubling).
const forgetQuiet = 3 * time.Second

// opener opens input number input, path, of an analysis.
type opener func(path string, input int) (decode.Source, error)

// flagGiven reports whether the command line set flag name of fs.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// analyzeInputs runs the pipeline over the inputs, one capture split by
// rotation, in time order (see timeOrder). An input that cannot be opened,
// or is damaged before its first packet, is an input error (exit 2); one
// that ends early (cut off, damaged further on) has a warning in its info.
// When stop is done (the user's ^C) the reading ends there, and the report
// covers what was read, with a warning on the input it stopped in that
// says where. prog, if not nil, is told of every packet read.
//
// A file whose packets are forwarded between its interfaces (sp) is a
// capture point per interface: the inputs are then read as points
// (files only: standard input cannot be read again).
//
// With unlisted (a report that lists no healthy connection: the table
// and Markdown without --all), the healthy connections closed within
// opts.ForgetHealthy of the end are forgotten before the Report, as the
// earlier ones were (analyze.Analyzer.ForgetClosedUnlisted).
func analyzeInputs(stop context.Context, paths []string, opts analyze.Options, open opener, prog *progress, sp *splitter, unlisted bool) (*model.Report, error) {
	var along *surveyAlong
	if len(paths) == 1 && sp.along(paths[0]) {
		// One file whose packets may name their interface: surveyed
		// as it is read as one capture, the reading stopped if it
		// shows forwarded copies, rather than read once to survey it
		// and again to analyse it (a node's tcpdump -i any without
		// forwarding: read from the disk once, when the page cache
		// does not hold it; 2-4 % of the CPU).
		along = &surveyAlong{}
	} else if fw, err := sp.forwarded(paths); err != nil {
		return nil, err
	} else if fw && rereadable(paths) {
		return analyzeForwarded(stop, paths, opts, open, prog, sp, unlisted)
	}
	order, firsts, err := timeOrderFirsts(stop, paths, open)
	if err != nil {
		return nil, err
	}
	var watch []time.Time
	var pair func(a, b string) bool // whether two inputs hold the same packets
	reread := rereadable(paths)
	if reread && len(paths) > 1 {
		// Inputs that hold the same packets are capture points, even
		// where a clock set wrong by more than they last makes them
		// seem to follow each other: read as one capture, each packet
		// would count twice.
		var same bool
		same, pair, err = samePackets(stop, order, open)
		if err != nil {
			return nil, err
		}
		if same && stop.Err() == nil {
			r, shared, err := analyzePointsOf(stop, paths, pair, opts, open, prog, sp, unlisted)
			if err != nil || shared || stop.Err() != nil {
				return r, err
			}
			prog.restart()
		}
	}
	if reread {
		// Inputs that overlap in time are read as capture points: the
		// reading as one capture stops as soon as one is seen to
		// overlap a later one, rather than reading every input to its
		// end to be thrown away (four points of 50k connections read
		// by their names took twice as long as named with --point).
		watch = overlapWatch(firsts)
	}
	a, infos, early, err := readInputs(stop, order, opts, open, prog, watch, along)
	if err != nil {
		return nil, err
	}
	if along != nil && along.forwarded {
		// Forwarded copies: surveyed whole for its interfaces, and read
		// as a capture point per interface, as it would have been.
		a.Close() // its workers and spill file: not reported
		prog.restart()
		if fw, err := sp.forwarded(paths); err != nil {
			return nil, err
		} else if fw {
			return analyzeForwarded(stop, paths, opts, open, prog, sp, unlisted)
		}
		// The whole survey found the file damaged: one capture, as the
		// survey first would have had it.
		prog.restart()
		if a, infos, _, err = readInputs(stop, paths, opts, open, prog, nil, nil); err != nil {
			return nil, err
		}
	} else if along != nil && stop.Err() == nil {
		sp.surveys[paths[0]] = along.survey
	}
	if (early || overlap(infos) && stop.Err() == nil) && reread {
		// Captures of the same moments are not one capture split by
		// rotation: each is a capture point of its own, when they saw
		// the same connections.
		prog.restart()
		r, shared, err := analyzePointsOf(stop, paths, pair, opts, open, prog, sp, unlisted)
		if err != nil || shared || stop.Err() != nil {
			a.Close() // its workers and spill file: not reported
			return r, err
		}
		// No connection in common: captures of other places, read as
		// given as one capture, as they always were (again, when the
		// reading above stopped early).
		if early || !slices.Equal(order, paths) {
			a.Close() // its workers and spill file: read again
			prog.restart()
			if a, infos, _, err = readInputs(stop, paths, opts, open, prog, nil, nil); err != nil {
				return nil, err
			}
		}
	} else if !slices.Equal(order, paths) {
		infos[0].Warnings = append(infos[0].Warnings, "inputs read in time order: "+strings.Join(order, ", "))
	}
	warnOverlaps(infos)
	if half, all := a.HalfOpen(); half > all/2 && (opts.SpillRows || opts.FoldTexts.Listed > 0) {
		// The Report of a capture made of half-open connections (a
		// flood, a scan) frees each one's 200 bytes as it settles its
		// row (verdict.Later.Row) and keeps 100 of them: bounded by what
		// the reading held, its heap does not double on the way (1M
		// SYNs: 540 MB of RSS instead of 800). Rows of other
		// connections are held until the report is written: capped,
		// their heap would be collected over and over. So would the
		// rows of a report that settles none (HTML, Markdown: neither
		// spilled nor counted unlisted), whose rows the Report holds
		// (1M SYNs in HTML: 47 CPU s, most of it the collector's, with
		// the cap).
		restore := capHeapForReport(halfReportSlack)
		defer restore()
	}
	forgetAtEnd(a, opts, unlisted)
	return a.Report(infos), nil
}

// analyzePointsOf analyses inputs given by name as the capture points
// pointsOf makes of them (pair: samePackets'), each file a point of its
// own when files taken for one capture's rotated parts by their names
// prove to overlap in time.
func analyzePointsOf(stop context.Context, paths []string, pair func(a, b string) bool, opts analyze.Options, open opener, prog *progress, sp *splitter, unlisted bool) (*model.Report, bool, error) {
	if specs := pointsOf(paths, false, pair); len(specs) < len(paths) {
		r, shared, err := analyzePoints(stop, specs, opts, open, prog, sp, unlisted)
		var nr *notRotatedError
		if !errors.As(err, &nr) {
			return r, shared, err
		}
		prog.restart()
	}
	return analyzePoints(stop, pointsOf(paths, true, nil), opts, open, prog, sp, unlisted)
}

// analyzeForwarded analyses paths, of which some hold forwarded copies
// (sp.forwarded), as the capture points forwardedSpecs makes of them.
func analyzeForwarded(stop context.Context, paths []string, opts analyze.Options, open opener, prog *progress, sp *splitter, unlisted bool) (*model.Report, error) {
	specs, err := forwardedSpecs(paths, sp, false)
	if err != nil {
		return nil, err
	}
	r, _, err := analyzePoints(stop, specs, opts, open, prog, sp, unlisted)
	var nr *notRotatedError
	if !errors.As(err, &nr) {
		return r, err
	}
	prog.restart()
	if specs, err = forwardedSpecs(paths, sp, true); err != nil {
		return nil, err
	}
	r, _, err = analyzePoints(stop, specs, opts, open, prog, sp, unlisted)
	return r, err
}

// forgetAtEnd has a, at the end of its capture, judge the healthy
// connections closed within opts.ForgetHealthy of the end, as the
// earlier ones were, and spill their rows (opts.SpillRows) or, with
// unlisted, forget them (analyze.Analyzer.ForgetClosed,
// ForgetClosedUnlisted): the Report would otherwise make their rows and
// facts all at once beside their trackers (200k short connections in
// JSON: about 20,000 of them, the last 30 MB of the peak RSS). The same
// bytes (TestForgetClosedSameJSON).
func forgetAtEnd(a *analyze.Analyzer, opts analyze.Options, unlisted bool) {
	switch {
	case opts.SpillRows:
		a.ForgetClosed(report.FoldAbove)
	case unlisted && opts.ForgetHealthy > 0:
		a.ForgetClosedUnlisted(report.FoldAbove)
	}
}

// readInputs reads the inputs in the order given into a new analyzer,
// input i numbered i in the report. With watch (overlapWatch of the
// inputs' first packets, else nil), it stops at the first packet that
// shows an input overlapping a later one in time, and says so (early):
// the analyzer then holds a part of the inputs, not to be reported.
// With along (one input), it surveys the input's interfaces as it reads
// it, and stops where they show forwarded copies (along.forwarded: not
// to be reported either).
func readInputs(stop context.Context, paths []string, opts analyze.Options, open opener, prog *progress, watch []time.Time, along *surveyAlong) (a *analyze.Analyzer, infos []*decode.InputInfo, early bool, err error) {
	a = analyze.New(opts)
	prog.reading(a)
	infos = make([]*decode.InputInfo, 0, len(paths))
	var (
		cut    *decode.InputInfo // the input being read when stop came
		unread []string
	)
	for i, path := range paths {
		if stop.Err() != nil {
			unread = append(unread, path)
			continue
		}
		src, err := open(path, i)
		if err != nil {
			if isStop(stop, err) {
				// Stopped while waiting for the capture's header.
				cut = &decode.InputInfo{Path: path, LinkTypes: []string{}}
				infos = append(infos, cut)
				continue
			}
			a.Close() // its workers and spill file
			return nil, nil, false, &exitError{code: exitUsage, err: err}
		}
		in := newInputSource(src, stop, prog)
		if i < len(watch) {
			in.until = watch[i]
		}
		var info *decode.InputInfo
		if along != nil && i == 0 {
			info, err = along.read(a, in, src)
		} else {
			info, err = a.ReadSource(in)
		}
		if cerr := src.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close %s: %w", path, cerr)
		}
		if err != nil {
			a.Close()
			return nil, nil, false, &exitError{code: exitUsage, err: err}
		}
		infos = append(infos, info)
		if in.overlapped {
			return a, infos, true, nil
		}
		if along != nil && along.forwarded {
			return a, infos, false, nil
		}
		if stop.Err() != nil {
			cut = info
		}
	}
	if stop.Err() != nil {
		switch {
		case cut == nil && len(unread) == 0 && len(infos) > 0:
			// The stop came as the last input ended (a writer killed by
			// the same ^C closes the pipe): that one was cut.
			cut = infos[len(infos)-1]
		case cut == nil:
			// Stopped before the first input was opened.
			cut = &decode.InputInfo{Path: unread[0], LinkTypes: []string{}}
			infos = append(infos, cut)
			unread = unread[1:]
		}
		cut.Warnings = append(cut.Warnings, interruptWarning(context.Cause(stop), cut, unread))
	}
	return a, infos, false, nil
}

// markLateInterrupt adds the interruption's warning to r's last input when
// the stop came after the reading ended but before the report is written:
// a writer killed by the same ^C may close its pipe a moment before the
// signal reaches h2pcap, and the report must still say it was cut.
func markLateInterrupt(stop context.Context, r *model.Report) {
	if stop.Err() == nil || len(r.Inputs) == 0 {
		return
	}
	for _, in := range r.Inputs {
		for _, w := range in.Warnings {
			if strings.HasPrefix(w, context.Cause(stop).Error()) {
				return // already said where
			}
		}
	}
	last := r.Inputs[len(r.Inputs)-1]
	last.Warnings = append(last.Warnings, interruptWarning(context.Cause(stop), last, nil))
}

// isStop reports whether err is the end stop asked for.
func isStop(stop context.Context, err error) bool {
	return stop.Err() != nil && errors.Is(err, context.Cause(stop))
}

// interruptWarning says where the reading of in stopped, and which inputs
// were not read at all.
func interruptWarning(cause error, in *decode.InputInfo, unread []string) string {
	name := in.Path
	if name == "-" {
		name = "stdin"
	}
	var b strings.Builder
	b.WriteString(cause.Error())
	switch {
	case in.Format == "":
		fmt.Fprintf(&b, " before anything was read from %s", name)
	case in.Packets == 0:
		fmt.Fprintf(&b, " while reading %s, before its first packet", name)
	default:
		fmt.Fprintf(&b, " while reading %s, after frame %d (capture time %s): the report covers the capture until then", name, in.Packets, captureTime(in.Last))
	}
	if len(unread) > 0 {
		fmt.Fprintf(&b, "; not read: %s", strings.Join(unread, ", "))
	}
	return b.String()
}

// captureTime formats a packet's time as the report's tables do, with its
// zone.
func captureTime(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02 15:04:05.000000 UTC")
}

// inputSource ends the input, rather than the whole analysis, where the
// user's stop (see analyzeInputs) or damage in the capture ends its
// reading, so that what was read before is analysed and reported, as
// tshark does. Damage before the first packet stays an error: there is
// nothing to report, and the file is most likely not a capture at all.
type inputSource struct {
	decode.Source
	// secrets is Source's, if it holds any (a pcapng file's decryption
	// secrets): asserted once here, not for every packet, which the
	// reader asks (analyze.InputReader.Take); the assertion of an
	// interface to an interface looks its method table up each time,
	// a percent of a capture of short connections.
	secrets decode.SecretsSource
	stop    context.Context
	prog    *progress
	last    time.Time // of the last packet read
	ended   bool

	// until, when not zero, ends the input at its first packet after it
	// once an earlier one came before it: the input then overlaps
	// another not yet read (overlapWatch), the inputs are capture
	// points, and the rest of this reading as one capture would be
	// thrown away (analyzeInputs). earliest is the earliest packet time
	// read; overlapped says the input was ended so.
	until, earliest time.Time
	overlapped      bool
}

// newInputSource is src read as an input of the analysis.
func newInputSource(src decode.Source, stop context.Context, prog *progress) *inputSource {
	s := &inputSource{Source: src, stop: stop, prog: prog}
	s.secrets, _ = src.(decode.SecretsSource)
	return s
}

func (s *inputSource) Next() (*decode.Packet, error) {
	if s.ended {
		return nil, io.EOF
	}
	p, err := s.Source.Next()
	switch {
	case err == nil:
		s.last = p.Time
		if !s.until.IsZero() && s.overlaps(p.Time) {
			s.ended, s.overlapped = true, true
			return nil, io.EOF
		}
		s.prog.packet(p.CaptureLen)
		return p, nil
	case err == io.EOF:
		return nil, err
	case isStop(s.stop, err):
		s.ended = true
		return nil, io.EOF
	}
	var fe *decode.FormatError
	if info := s.Info(); info.Packets > 0 && errors.As(err, &fe) && fe.Offset >= 0 {
		info.Warnings = append(info.Warnings, fmt.Sprintf(
			"damaged at offset %d: %s; the report covers frames 1 to %d, the last good one (capture time %s); the rest of the file is not read",
			fe.Offset, fe.Msg, info.Packets, captureTime(s.last)))
		s.ended = true
		return nil, io.EOF
	}
	return nil, err
}

// overlaps notes t, a packet's time, and says whether the input now
// overlaps the one first seen at s.until.
func (s *inputSource) overlaps(t time.Time) bool {
	if t.IsZero() {
		return false
	}
	if s.earliest.IsZero() || t.Before(s.earliest) {
		s.earliest = t
	}
	return t.After(s.until) && s.earliest.Before(s.until)
}

// Secrets passes on the pcapng Decryption Secrets Blocks the wrapped
// source read, which the analysis asks for by type assertion.
func (s *inputSource) Secrets() []decode.DecryptionSecret {
	if s.secrets == nil {
		return nil
	}
	return s.secrets.Secrets()
}

// warnInputs says the report's input warnings on stderr too: with -o, or
// a JSON report read by a program, the user would not see them otherwise.
func warnInputs(stderr io.Writer, r *model.Report) {
	for i, in := range r.Inputs {
		name := in.Path
		if name == "-" {
			name = "stdin"
		}
		for _, w := range in.Warnings {
			fmt.Fprintf(stderr, "h2pcap: warning: input %d (%s): %s\n", i, name, w)
		}
	}
}
