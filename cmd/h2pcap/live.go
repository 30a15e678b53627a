package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/h2pcap/h2pcap/analyze"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/decode/live"
	"github.com/h2pcap/h2pcap/decode/tls"
	"github.com/h2pcap/h2pcap/internal/evidence"
	"github.com/h2pcap/h2pcap/model"
	"github.com/h2pcap/h2pcap/report"
)

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(s string) error {
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			*l = append(*l, f)
		}
	}
	return nil
}

// hostList is a repeatable flag of IP addresses.
type hostList []netip.Addr

func (l *hostList) String() string {
	parts := make([]string, len(*l))
	for i, a := range *l {
		parts[i] = a.String()
	}
	return strings.Join(parts, ",")
}

func (l *hostList) Set(s string) error {
	for _, f := range strings.Split(s, ",") {
		a, err := netip.ParseAddr(strings.TrimSpace(f))
		if err != nil {
			return fmt.Errorf("bad address %q", f)
		}
		*l = append(*l, a)
	}
	return nil
}

func cmdLive(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("live", flag.ContinueOnError)
	var out outputFlags
	out.register(fs)
	var (
		ifaces   stringList
		filter   live.Filter
		snaplen  int
		duration time.Duration
		pcapPath string
		ringSize string
		saveDir  string
		opts     analyze.Options

		metricsAddr string
		af          analysisFlags
	)
	fs.Var(&ifaces, "i", "capture on `IFACE` (repeatable; any: every interface)")
	fs.Var((*portList)(&filter.Ports), "port", "capture TCP `PORT` only (repeatable, or comma-separated)")
	fs.Var((*hostList)(&filter.Hosts), "host", "capture TCP from or to `ADDR` only (repeatable, or comma-separated; IPv4 or IPv6)")
	fs.IntVar(&snaplen, "snaplen", 0, "keep at most `N` bytes of each packet (0: whole packets)")
	var smallRing bool
	fs.BoolVar(&smallRing, "small-ring", true, "start each socket's packet ring at 12 MiB and grow it to 64 MiB once the link carries 5 MB/s (about 27 MB of memory before the first packet); false: the 64 MiB ring from the start (79 MB), for a link whose bursts from silence pass 190 MB/s, where the small ring may overflow while the big one opens (counted as capture drops)")
	fs.DurationVar(&duration, "duration", 0, "stop after `D` (0: at SIGINT or SIGTERM)")
	fs.StringVar(&pcapPath, "w", "", "also write every captured packet to pcapng `FILE`")
	fs.StringVar(&metricsAddr, "metrics-addr", "", "serve Prometheus metrics at http://`ADDR`/metrics while capturing (e.g. :9464)")
	fs.StringVar(&ringSize, "ring", "", "keep the last `SIZE` bytes of packets in memory (e.g. 64MB; K, M, G suffixes) for --save (default 64MB with --save)")
	fs.StringVar(&saveDir, "save", "", "write each problem connection's packets from the ring (from its last answered PING to the problem) to a pcapng in `DIR`")
	fs.DurationVar(&opts.ForgetHealthy, "forget", 2*time.Minute, "drop a healthy connection from the report's list `D` after it closed (still counted), so memory follows the open connections; 0 lists every one")
	var split splitMode
	fs.Var(&split, "split-interfaces", "on several interfaces (or any), read each interface as a capture point with counters of its own, and place each packet seen on one and never on the next (a pod's veth, then the node's uplink) as lost inside this host, in a hop table; false: one point, each connection analysed on the interface it was first seen on (auto, the default: points, reported when a connection crossed two interfaces)")
	af.register(fs, &opts, "followed as clients append to it")
	rest, err := parseArgs(fs, args, stdout, "Usage: h2pcap live -i IFACE [flags]\n\nCaptures on the interfaces (needs CAP_NET_RAW) until SIGINT, SIGTERM or --duration,\nthen writes the same report as analyze.\n\nWhile it runs, each finding (lost PING, PING late, GOAWAY, RST, retransmission burst,\nsilent connection, failed connect, dead flow, etcd leader change, a connection its\nclient abandoned) is printed as it happens, one timestamped line: on standard error,\nor on standard output when the report goes to a file (-o). On a terminal a status\nline on standard error shows packets/s, open connections and capture drops.\n")
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError("live: unexpected argument %q (interfaces are given with -i IFACE; a capture file is read by h2pcap analyze FILE)", rest[0])
	}
	if len(ifaces) == 0 {
		return usageError("live: no interface given (-i IFACE; any for every interface; -h for the flags)")
	}
	if snaplen < 0 {
		return usageError("live: bad --snaplen %d", snaplen)
	}
	if duration < 0 {
		return usageError("live: bad --duration %s", duration)
	}
	if opts.ForgetHealthy < 0 {
		return usageError("live: bad --forget %s", opts.ForgetHealthy)
	}
	if err := out.check(); err != nil {
		return err
	}
	if _, err := filter.Program(live.LinkEthernet, snaplen); err != nil {
		return usageError("live: %v", err)
	}
	ring := 0
	if ringSize != "" {
		if saveDir == "" {
			return usageError("live: --ring keeps packets for --save DIR, which is missing")
		}
		if ring, err = parseSize(ringSize); err != nil {
			return usageError("live: --ring: %v", err)
		}
		if ring < evidence.MinSize {
			return usageError("live: --ring %s is under the least, %d KB", ringSize, evidence.MinSize>>10)
		}
	}
	if saveDir != "" {
		if ring == 0 {
			ring = defaultRing
		}
		if err := os.MkdirAll(saveDir, 0o755); err != nil {
			return usageError("live: --save: %v", err)
		}
	}

	// Read before capturing: a bad key log is an input error (exit 2).
	keys, err := newKeylogTail(nil, af.keylogs)
	if err != nil {
		return err
	}
	opts.Keys = keys.initial

	ms, err := listenMetrics(metricsAddr, stderr)
	if err != nil {
		return err
	}
	defer ms.close()

	// Idle: a quiet link still moves the analyzer's clock once a second,
	// for the time-driven findings (a PING given up on, silence).
	lc := live.Config{Interfaces: ifaces, Filter: filter, Snaplen: snaplen, Idle: time.Second}
	var procs readerProcs
	lc.OnBusy = procs.add
	defer procs.undo()
	if smallRing {
		lc.StartBlocks = smallRingBlocks
	}
	src, err := live.Open(lc)
	if err != nil {
		var pe *live.PermissionError
		var ue *live.UnknownInterfaceError
		if errors.As(err, &pe) || errors.As(err, &ue) {
			return &exitError{code: exitUsage, err: err}
		}
		return err
	}
	defer src.Close()

	con := &console{stderr: stderr, findings: stderr, status: isTerminal(stderr)}
	if out.output != "" && out.output != "-" {
		con.findings = stdout
	}
	con.clearFindings = con.status && (con.findings == stderr || isTerminal(con.findings))
	if ms != nil {
		ms.stderr = con // its messages clear the status line too
	}

	links := make([]layers.LinkType, len(ifaces))
	for i := range ifaces {
		links[i] = src.LinkType(i)
	}
	var in teeSource = src
	if pcapPath != "" {
		w, err := newPcapTee(src, pcapPath, ifaces, links, filter.String(), snaplen, con)
		if err != nil {
			return err
		}
		defer w.close()
		in = w
	}
	// Like tcpdump's "listening on": every socket is bound and filtered,
	// so what the link carries from now on is in the report; scripts
	// wait for this line before they start the traffic.
	fmt.Fprintf(con, "h2pcap: listening on %s, %s\n", strings.Join(ifaces, ", "), filter.String())
	handlers := []func(*model.Notice){con.notice}
	if saveDir != "" {
		r := &ringTee{src: in, ring: evidence.NewRing(ring), anyIface: slices.Index(ifaces, live.Any)}
		in = r
		sv := &saver{ring: r.ring, dir: saveDir, ifaces: ifaces, links: links, filter: filter.String(), snaplen: snaplen, con: con, stderr: con}
		handlers = append(handlers, sv.notice)
	}
	opts.OnNotice = func(n *model.Notice) {
		for _, h := range handlers {
			h(n)
		}
	}
	opts.Plot = out.pictures()
	// One Report, at exit: each open connection's trackers go as its row
	// is made, rather than all of them staying until the report is
	// written (20,000 open connections: their trackers and rows at once).
	opts.ReportOnce = true
	// On several interfaces (any: a node's pods' veths, its bridge and
	// uplink) a forwarded packet is captured once per interface it
	// crosses: each connection is analysed on the first it was seen on,
	// so nothing is counted twice.
	opts.OneInterfacePerConnection = len(ifaces) > 1 || slices.Contains(ifaces, live.Any)
	ms.serve(src, &opts) // the metrics count the notices too
	a := analyze.New(opts)
	defer a.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, duration)
		defer cancel()
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-ctx.Done()
		src.Stop()
	}()
	statusDone := make(chan struct{})
	if con.status {
		wg.Add(1)
		go func() {
			defer wg.Done()
			con.runStatus(src, a.OpenConns, statusDone)
		}()
	}

	wg.Add(1)
	go func() {
		defer wg.Done()
		(&memReturner{done: statusDone}).run()
	}()

	keys.Source = in
	var lp *livePoints
	if opts.OneInterfacePerConnection && (!split.set || split.on) {
		lp = newLivePoints(opts, in, ifaces, keys)
	}
	info, err := readLive(a, keys, lp)
	stop() // the capture is over: a second ^C kills the process as usual
	close(statusDone)
	wg.Wait()
	if err != nil {
		return err
	}
	// The report may tell findings the capture's end settled (a lost PING
	// whose sender's close was never seen): they print before it.
	if out.format == "json" {
		// The connections closed within --forget are judged now, their
		// rows written to a temporary file the report is streamed from:
		// after a reconnect storm they would otherwise be held twice,
		// trackers and rows, while the report is written.
		// Bounded while they are: their rows are garbage once written.
		// The rows left to make (the open connections') are not, and
		// need the room.
		restore := capHeapForReport(reportSlack)
		a.ForgetClosed(report.FoldAbove)
		restore()
		debug.FreeOSMemory() // their trackers' pages, before the rows left are made
	}
	r, err := reportLive(a, info, lp)
	if err != nil {
		return err
	}
	for _, f := range keys.files {
		// What each followed key log holds now, against what the capture
		// decrypted; a file gone since is left out.
		if k, err := tls.ReadKeyLogFile(f.path); err == nil {
			r.KeyLogs = append(r.KeyLogs, analyze.KeyLogUse(r, f.path, k))
		}
	}
	return out.write(stdout, r)
}

// smallRingBlocks is the first ring (--small-ring, the default), in 1
// MiB blocks: with the binary and the heap, live stays under 30 MB until
// its link is busy (27 MB). It must hold a burst from silence while the
// kernel opens the big ring beside it: at the lab's 160 MB/s, 75 ms of
// it (the opening took 12-60 ms there), where 8 MiB overflowed in 2 runs
// of 8 and 16 MiB would start at 30 MB.
const smallRingBlocks = 12

// readerProcs lets Go run one goroutine more at once than it would
// (GOMAXPROCS, unless the environment sets it) once a link is busy
// (live.Config.OnBusy: 5 MB/s, when a small ring grows). The sockets'
// readers must then empty their rings as fast as the link fills them;
// with a P for each core, the analysis and the collector can hold them
// all while a reader waits for one, up to a scheduling quantum (10 ms)
// at a time, and the kernel schedules the extra thread among the others
// at once. Measured on the lab's bulk traffic at 160 MB/s (lab/run.sh
// bulk-live), runs that lost packets while the 64 MiB ring was opened:
// with an 8 MiB first ring, 5 of 8 with the cores' Ps alone, 2 of 8 with
// one more; with 12 MiB, 1 of 10 alone, 0 of 22 with one more (at 190
// MB/s, 0 of 13). Unpaced, the 64 MiB ring from the start lost packets
// in 3 runs of 4 alone, none of 4 with one more. Not before a link is
// busy: an idle P's thread spins looking for work, and 20,000 idle
// connections pinging every 5 s took 18 % more CPU with the extra P
// from the start (16.1 s in 120 s against 13.6).
type readerProcs struct {
	mu    sync.Mutex
	added bool
	prev  int
}

// add gives Go its extra P, once.
func (r *readerProcs) add() {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.added {
		r.prev = runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + 1)
		r.added = true
	}
}

// undo takes the extra P back.
func (r *readerProcs) undo() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.added {
		runtime.GOMAXPROCS(r.prev)
		r.added = false
	}
}

// isTerminal says whether w is a terminal (TCGETS succeeds on it).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	var t syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	return errno == 0
}

// pcapTee is a Source that writes every packet it passes on to a pcapng
// file. A write error (a full disk) is reported once on stderr and the
// capture goes on without the file: losing the evidence file must not
// lose the analysis.
type pcapTee struct {
	src    teeSource
	path   string
	f      *os.File
	w      *pcapgo.NgWriter
	ids    []int // pcapng interface id of each capture interface
	stderr io.Writer
	failed bool
	// On the any socket every packet names the interface it crossed:
	// each gets an interface block of its own, added as it first
	// appears, so that the file keeps what a forwarding node's capture
	// needs to be read as a point per interface (analyze
	// --split-interfaces). anyLink is the any socket's link type; byIndex
	// the pcapng id of each kernel interface index.
	anyIface int // index into ids of the any socket; -1 none
	anyLink  layers.LinkType
	filter   string
	snaplen  int
	byIndex  map[int32]int
	dirs     epbFlags
}

// teeSource is a Source that says which interface each packet came from
// (a *live.Source).
type teeSource interface {
	decode.Source
	Interface() int
}

func newPcapTee(src teeSource, path string, ifaces []string, links []layers.LinkType, filter string, snaplen int, stderr io.Writer) (*pcapTee, error) {
	// Written in place, as tcpdump -w writes, not through outfile's
	// rename: a capture that is killed must keep what it had written, and
	// os.Create truncates a regular file but leaves a device or a FIFO
	// what it is.
	f, err := os.Create(path)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("-w: %w", err)}
	}
	t := &pcapTee{src: src, path: path, f: f, stderr: stderr, anyIface: slices.Index(ifaces, live.Any), filter: filter, snaplen: snaplen, byIndex: map[int32]int{}, dirs: newEPBFlags()}
	if t.anyIface >= 0 {
		t.anyLink = links[t.anyIface]
	}
	t.w, t.ids, err = newNgWriter(f, ifaces, links, filter, snaplen)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("-w %s: %w", path, err)
	}
	return t, nil
}

func (t *pcapTee) Next() (*decode.Packet, error) {
	p, err := t.src.Next()
	if err != nil || t.failed {
		return p, err
	}
	ci := gopacket.CaptureInfo{
		Timestamp:      p.Time,
		CaptureLength:  p.CaptureLen,
		Length:         p.WireLen,
		InterfaceIndex: t.ids[t.src.Interface()],
	}
	if t.src.Interface() == t.anyIface && p.Iface.Known {
		id, ok := t.byIndex[p.Iface.ID]
		if !ok {
			id, err = t.w.AddInterface(pcapgo.NgInterface{Name: p.Iface.Label(), Description: "seen through the any socket", Filter: t.filter, OS: "Linux",
				LinkType: t.anyLink, TimestampResolution: 9, SnapLength: uint32(t.snaplen)})
			if err != nil {
				t.fail(err)
				return p, nil
			}
			t.byIndex[p.Iface.ID] = id
		}
		ci.InterfaceIndex = id
	}
	if err := t.w.WritePacketWithOptions(ci, p.Data, t.dirs.options(p.Iface.In, p.Iface.Out)); err != nil {
		t.fail(err)
	}
	return p, nil
}

func (t *pcapTee) fail(err error) {
	t.failed = true
	fmt.Fprintf(t.stderr, "h2pcap: -w %s: %s; the capture goes on without writing it\n", t.path, oneLine(err.Error()))
}

func (t *pcapTee) Info() *decode.InputInfo { return t.src.Info() }
func (t *pcapTee) Close() error            { return t.src.Close() }
func (t *pcapTee) Interface() int          { return t.src.Interface() }

// close flushes and closes the file.
func (t *pcapTee) close() {
	if !t.failed {
		if err := t.w.Flush(); err != nil {
			t.fail(err)
		}
	}
	if err := t.f.Close(); err != nil && !t.failed {
		t.fail(err)
	}
}
