package analyze

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/h2pcap/h2pcap/analyze/tcp"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/internal/oracle"
	"github.com/h2pcap/h2pcap/model"
)

// The oracle test runs tshark 4.0 over every capture under testdata/pcaps
// and requires h2pcap's per-stream, per-direction counters (and the
// per-frame analysis flags behind them) to equal tshark's.

// pcapRoot is where the captures are; H2PCAP_PCAPS points the test at
// another tree (exceptions are matched by the path under it).
func pcapRoot() string {
	if d := os.Getenv("H2PCAP_PCAPS"); d != "" {
		return d
	}
	return "../testdata/pcaps"
}

// oracleException is a frame where h2pcap is right to differ from tshark.
// The frame is left out of the comparison on both sides.
type oracleException struct {
	file  string // path under testdata/pcaps
	frame int
	why   string
	// tsharkOnlyStream: the frame is the only one of a tshark tcp.stream
	// that h2pcap cannot see; tshark's later stream numbers are compared
	// one lower.
	tsharkOnlyStream bool
}

// A TCP header whose data offset runs past the end of the IP payload:
// decode rejects the packet as malformed, while tshark opens a
// conversation for it (a stream number) and then stops ("Short segment",
// no sequence analysis). A lone bogus header is not a connection, and no
// later frame of these captures uses its 4-tuple.
const whyShortSegment = "TCP header longer than the IP payload: tshark numbers a stream for it but analyses nothing; decode drops the packet as malformed"

// capturesWithCopies are the captures that hold packets captured twice,
// with how many copies decode.InputDecoder drops. There h2pcap
// intentionally differs from tshark, which counts each copy as a
// retransmission (or a duplicate ACK): tshark's side is run on the capture
// without the copies (editcap), so the comparison checks that dropping
// them changes nothing else (-1: how many varies). Any other capture must
// have no copy dropped:
// a copy found elsewhere would be a retransmission taken for one.
var capturesWithCopies = map[string]int{
	// Every packet two to four times, with the same IP ID, 5 µs to a
	// few ms apart; a repeat more than 5 ms after its original is
	// analysed, as Wireshark analyses it.
	"public/arkime/wireshark-retrans.pcap": 75,
	// A router's tcpdump -i any (SLL2) and dumpcap of both its
	// interfaces (pcapng): every packet it forwarded, in on one
	// interface and out on the other, 10 to 100 µs apart. Analysed as
	// one capture here; h2pcap analyze reads them as a capture point
	// per interface (cmd/h2pcap TestPointsLab compares each with tshark
	// on that interface's packets alone).
	// dumpcap writes each interface's packets a ring block at a time:
	// in file order a copy comes up to tens of ms after its original,
	// with many packets between, so how many are found depends on the
	// copy finder's hash slots (seeded at random): -1, any number.
	"router-any/router.pcap":      531,
	"router-any/router.pcapng.gz": -1,
	// Made by decode's tests: every packet twice, 3 to 40 µs apart, of
	// an IPv4 and an IPv6 connection; the real retransmissions (200 ms
	// later) are not copies.
	"inputs/twice.pcap": 32,
}

var oracleExceptions = []oracleException{
	{"public/suricata-verify/bug-76.pcap", 46, whyShortSegment, true},
	{"public/suricata-verify/transform-base64-7296.pcap", 11, whyShortSegment, true},
	{"public/suricata-verify/transform-base64-7296.pcap", 59, whyShortSegment + " (the same bogus header again)", true},
}

// oracleFields are the tcp.analysis fields compared, with the counter each
// one feeds. tcp.analysis.retransmission is also shown for fast and
// spurious retransmissions, as DirStats.Retransmissions counts.
var oracleFields = []struct {
	field string
	flags tcp.Flags // our flags that raise it
	stat  func(*model.DirStats) *int
}{
	{"tcp.analysis.retransmission", tcp.RetransFamily, func(d *model.DirStats) *int { return &d.Retransmissions }},
	{"tcp.analysis.fast_retransmission", tcp.FlagFastRetransmission, func(d *model.DirStats) *int { return &d.FastRetransmissions }},
	{"tcp.analysis.spurious_retransmission", tcp.FlagSpuriousRetransmission, func(d *model.DirStats) *int { return &d.SpuriousRetransmissions }},
	{"tcp.analysis.out_of_order", tcp.FlagOutOfOrder, func(d *model.DirStats) *int { return &d.OutOfOrder }},
	{"tcp.analysis.lost_segment", tcp.FlagLostSegment, func(d *model.DirStats) *int { return &d.LostSegments }},
	{"tcp.analysis.ack_lost_segment", tcp.FlagAckedUnseen, func(d *model.DirStats) *int { return &d.AckedUnseen }},
	{"tcp.analysis.duplicate_ack", tcp.FlagDupAck, func(d *model.DirStats) *int { return &d.DupAcks }},
	{"tcp.analysis.zero_window", tcp.FlagZeroWindow, func(d *model.DirStats) *int { return &d.ZeroWindows }},
	{"tcp.analysis.zero_window_probe", tcp.FlagZeroWindowProbe, func(d *model.DirStats) *int { return &d.ZeroWindowProbes }},
	{"tcp.analysis.window_full", tcp.FlagWindowFull, func(d *model.DirStats) *int { return &d.WindowFull }},
	{"tcp.analysis.window_update", tcp.FlagWindowUpdate, func(d *model.DirStats) *int { return &d.WindowUpdates }},
	{"tcp.analysis.keep_alive", tcp.FlagKeepAlive, func(d *model.DirStats) *int { return &d.KeepAlives }},
	{"tcp.analysis.keep_alive_ack", tcp.FlagKeepAliveAck, func(d *model.DirStats) *int { return &d.KeepAliveAcks }},
	{"tcp.analysis.zero_window_probe_ack", tcp.FlagZeroWindowProbeAck, nil},
}

// tsharkFields are the fields the tests of this package read of tshark:
// runTshark's, then tsharkH2Counts'. One list, so that tshark runs once for
// a capture TestOracle and TestH2FramesTshark read with the same options.
var tsharkFields = slices.Concat([]string{"frame.number", "tcp.stream", "ip.src", "ipv6.src",
	"tcp.srcport", "tcp.len", "tcp.flags.reset", "tcp.flags.fin",
	"tcp.seq", "tcp.analysis.initial_rtt", "frame.protocols"}, oracleFieldNames(), h2Fields, deadFields)

func oracleFieldNames() []string {
	var names []string
	for _, f := range oracleFields {
		names = append(names, f.field)
	}
	return names
}

// tsharkOptions are the options of every tshark pass here, with more
// preferences (decode-as) for a capture.
func tsharkOptions(prefs ...string) oracle.Options {
	return oracle.Options{Prefs: append([]string{"-o", "tcp.reassemble_out_of_order:TRUE"}, prefs...), Filter: "tcp"}
}

// frameResult is one TCP segment as one side of the comparison saw it.
type frameResult struct {
	stream  int
	src     []string // candidate source addresses (tshark: every IP layer's)
	srcPort int
	len     int
	rst     bool
	fin     bool
	fields  uint32 // bit i: oracleFields[i] is shown
	seq     int64  // relative sequence number (tcp.seq); -1 unknown
	irtt    string // tshark: tcp.analysis.initial_rtt, when shown
	protos  string // tshark: frame.protocols
	layers  int    // tshark: TCP layers in the frame, when more than one
}

func TestOracle(t *testing.T) {
	oracle.Tshark(t)
	files := captureFiles(t)
	if len(files) == 0 {
		t.Fatalf("no captures under %s", pcapRoot())
	}
	for _, e := range oracleExceptions {
		if os.Getenv("H2PCAP_PCAPS") == "" && !slices.Contains(files, e.file) {
			t.Errorf("exception for %s frame %d names a capture that is gone", e.file, e.frame)
		}
	}
	for _, rel := range files {
		exc := map[int]oracleException{}
		for _, e := range oracleExceptions {
			if e.file == rel {
				exc[e.frame] = e
			}
		}
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			compareWithTshark(t, filepath.Join(pcapRoot(), rel), exc)
		})
	}
}

// captureFiles lists the captures under pcapRoot, relative to it.
func captureFiles(t *testing.T) []string {
	var files []string
	err := filepath.WalkDir(pcapRoot(), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() || !(strings.HasSuffix(name, ".pcap") || strings.HasSuffix(name, ".pcapng") ||
			strings.HasSuffix(name, ".gz")) {
			return nil
		}
		rel, err := filepath.Rel(pcapRoot(), p)
		if err != nil {
			return err
		}
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatalf("listing captures: %v", err)
	}
	return files
}

func compareWithTshark(t *testing.T, path string, exc map[int]oracleException) {
	ours, rep, copies, err := analyzeFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rel, _ := filepath.Rel(pcapRoot(), path)
	if want := capturesWithCopies[filepath.ToSlash(rel)]; want >= 0 && len(copies) != want {
		t.Errorf("%d copies dropped (frames %v), want %d", len(copies), copies[:min(len(copies), 20)], want)
	}
	theirs := runTsharkWithout(t, path, copies, rep.Inputs[0].Packets)
	for _, f := range slices.Sorted(maps.Keys(exc)) {
		if _, ok := theirs[f]; !ok {
			t.Errorf("exception for frame %d: tshark has no TCP segment there", f)
		}
	}
	dropTsharkOnlyStreams(t, theirs, exc)
	// A TCP header quoted inside an ICMP error (a router's time exceeded
	// for a traceroute probe): tshark numbers its stream but analyses
	// nothing; decode reads it as the ICMP error it is, not a segment.
	for f, th := range theirs {
		if strings.Contains(th.protos, ":icmp:") || strings.Contains(th.protos, ":icmpv6:") {
			if _, ok := ours[f]; !ok {
				delete(theirs, f)
			}
		}
	}
	// Probes (traceroute SYNs) are counted apart, not as connections:
	// their frames are compared above, their counters are not in the
	// Report.
	probes := map[int]bool{}
	if rep.Summary != nil {
		for _, p := range rep.Summary.Probes {
			for _, st := range p.Streams {
				probes[st] = true
			}
		}
	}

	// Per frame: the flags behind the counters, for a precise message.
	frames := make([]int, 0, len(theirs))
	for f := range theirs {
		frames = append(frames, f)
	}
	for f := range ours {
		if _, ok := theirs[f]; !ok {
			frames = append(frames, f)
		}
	}
	slices.Sort(frames)
	mismatches := 0
	for _, f := range frames {
		if _, ok := exc[f]; ok {
			continue
		}
		th, okT := theirs[f]
		us, okU := ours[f]
		var diff string
		switch {
		case !okT:
			diff = "only h2pcap has a TCP segment"
		case !okU:
			// Known causes: TCP quoted inside an ICMP error (tshark
			// numbers its stream but does not analyse it), or a header
			// decode rejects as malformed. Either is an exception to
			// name in oracleExceptions, with the reason.
			diff = fmt.Sprintf("only tshark has a TCP segment (%s, stream %d)", th.protos, th.stream)
		case th.layers > 1:
			diff = fmt.Sprintf("tshark sees %d TCP layers (%s); name the frame in oracleExceptions", th.layers, th.protos)
		case th.stream != us.stream:
			diff = fmt.Sprintf("stream: tshark %d, h2pcap %d", th.stream, us.stream)
		case th.fields != us.fields || th.rst != us.rst || th.fin != us.fin || th.len != us.len:
			diff = fmt.Sprintf("tshark %s, h2pcap %s", th.describe(), us.describe())
		case th.seq != us.seq:
			diff = fmt.Sprintf("relative seq: tshark %d, h2pcap %d", th.seq, us.seq)
		}
		if diff != "" {
			mismatches++
			if mismatches <= 20 {
				t.Errorf("frame %d: %s", f, diff)
			}
		}
	}
	if mismatches > 20 {
		t.Errorf("... %d frames differ in all", mismatches)
	}

	// Per stream and direction: the Report's counters against tshark's,
	// with excepted frames taken out of both.
	type dirKey struct{ stream, dir int }
	want := map[dirKey]*model.DirStats{}
	got := map[dirKey]*model.DirStats{}
	streams := map[int]bool{}
	for _, c := range rep.Connections {
		for d := model.ClientToServer; d <= model.ServerToClient; d++ {
			st := *c.TCP.Dir(d)
			got[dirKey{c.Stream, int(d)}] = &st
		}
	}
	for f, th := range theirs {
		streams[th.stream] = true
		c := connByStream(rep, th.stream)
		if c == nil {
			if _, ok := exc[f]; !ok && !probes[th.stream] {
				t.Errorf("frame %d: tshark stream %d, which h2pcap does not have", f, th.stream)
			}
			continue
		}
		d := th.dir(c)
		k := dirKey{th.stream, int(d)}
		if _, ok := exc[f]; ok {
			if us, ok := ours[f]; ok && us.stream == th.stream {
				subtract(got[k], us)
			}
			continue
		}
		if want[k] == nil {
			want[k] = &model.DirStats{}
		}
		add(want[k], th)
	}
	compareIRTT(t, theirs, rep)
	if len(rep.Connections)+len(probes) != len(streams) {
		t.Errorf("stream count: tshark %d, h2pcap %d and %d probes", len(streams), len(rep.Connections), len(probes))
	}
	for k, g := range got {
		w := want[k]
		if w == nil {
			w = &model.DirStats{}
		}
		if diff := compareStats(w, g); diff != "" {
			t.Errorf("stream %d %s: %s", k.stream, model.Direction(k.dir), diff)
		}
	}
	if !t.Failed() {
		flagged, irtts := 0, 0
		for _, th := range theirs {
			if th.fields != 0 || th.rst {
				flagged++
			}
		}
		for _, c := range rep.Connections {
			if c.IRTTms != nil {
				irtts++
			}
		}
		t.Logf("agrees with tshark: %d TCP frames (%d flagged or RST), %d streams (%d with iRTT), %d exceptions",
			len(theirs), flagged, len(streams), irtts, len(exc))
	}
}

// compareIRTT compares each stream's iRTT with the last
// tcp.analysis.initial_rtt tshark showed in it.
func compareIRTT(t *testing.T, theirs map[int]*frameResult, rep *model.Report) {
	last := map[int]struct {
		frame int
		irtt  string
	}{}
	for f, th := range theirs {
		if th.irtt != "" && f > last[th.stream].frame {
			last[th.stream] = struct {
				frame int
				irtt  string
			}{f, th.irtt}
		}
	}
	for _, c := range rep.Connections {
		want, ok := last[c.Stream]
		switch {
		case !ok && c.IRTTms != nil:
			t.Errorf("stream %d: iRTT %v ms, tshark none", c.Stream, *c.IRTTms)
		case ok && c.IRTTms == nil:
			t.Errorf("stream %d: no iRTT, tshark %s s", c.Stream, want.irtt)
		case ok:
			sec, err := strconv.ParseFloat(want.irtt, 64)
			if err != nil {
				t.Errorf("stream %d: tshark iRTT %q: %v", c.Stream, want.irtt, err)
			} else if d := sec*1e3 - *c.IRTTms; d > 1e-6 || d < -1e-6 {
				t.Errorf("stream %d: iRTT %v ms, tshark %s s", c.Stream, *c.IRTTms, want.irtt)
			}
		}
	}
}

// dropTsharkOnlyStreams removes the streams that consist only of frames
// excepted as tsharkOnlyStream, and renumbers tshark's later streams.
func dropTsharkOnlyStreams(t *testing.T, theirs map[int]*frameResult, exc map[int]oracleException) {
	var drop []int
	for f, e := range exc {
		if th := theirs[f]; e.tsharkOnlyStream && th != nil {
			drop = append(drop, th.stream)
		}
	}
	slices.Sort(drop)
	drop = slices.Compact(drop)
	for _, stream := range slices.Backward(drop) {
		for f, th := range theirs {
			if th.stream != stream {
				continue
			}
			if e, ok := exc[f]; !ok || !e.tsharkOnlyStream {
				t.Errorf("frame %d is in tshark stream %d, which an exception says is tshark's only", f, stream)
				continue
			}
			delete(theirs, f)
		}
		for _, th := range theirs {
			if th.stream > stream {
				th.stream--
			}
		}
	}
}

func connByStream(rep *model.Report, stream int) *model.Connection {
	if stream >= 0 && stream < len(rep.Connections) && rep.Connections[stream].Stream == stream {
		return rep.Connections[stream]
	}
	// Probes are not listed: the streams after one are further up.
	i, ok := slices.BinarySearchFunc(rep.Connections, stream, func(c *model.Connection, s int) int { return c.Stream - s })
	if !ok {
		return nil
	}
	return rep.Connections[i]
}

// dir tells which direction of c a tshark row is in.
func (r *frameResult) dir(c *model.Connection) model.Direction {
	_, cport := splitHostPort(c.Client)
	shost, sport := splitHostPort(c.Server)
	chost, _ := splitHostPort(c.Client)
	if cport != sport {
		if r.srcPort == cport {
			return model.ClientToServer
		}
		return model.ServerToClient
	}
	if slices.Contains(r.src, chost) && !slices.Contains(r.src, shost) {
		return model.ClientToServer
	}
	return model.ServerToClient
}

func splitHostPort(s string) (string, int) {
	i := strings.LastIndexByte(s, ':')
	p, _ := strconv.Atoi(s[i+1:])
	return strings.Trim(s[:i], "[]"), p
}

func add(st *model.DirStats, r *frameResult) {
	st.Packets++
	st.Bytes += int64(r.len)
	if r.rst {
		st.Resets++
	}
	if r.fin {
		st.Fins++
	}
	for i, f := range oracleFields {
		if f.stat != nil && r.fields&(1<<i) != 0 {
			*f.stat(st)++
		}
	}
}

func subtract(st *model.DirStats, r *frameResult) {
	var one model.DirStats
	add(&one, r)
	st.Packets -= one.Packets
	st.Bytes -= one.Bytes
	st.Resets -= one.Resets
	st.Fins -= one.Fins
	for _, f := range oracleFields {
		if f.stat != nil {
			*f.stat(st) -= *f.stat(&one)
		}
	}
}

// compareStats compares the counters tshark can tell.
func compareStats(want, got *model.DirStats) string {
	var b strings.Builder
	cmp := func(name string, w, g int64) {
		if w != g {
			fmt.Fprintf(&b, " %s: tshark %d, h2pcap %d;", name, w, g)
		}
	}
	cmp("packets", int64(want.Packets), int64(got.Packets))
	cmp("bytes", want.Bytes, got.Bytes)
	cmp("resets", int64(want.Resets), int64(got.Resets))
	cmp("fins", int64(want.Fins), int64(got.Fins))
	for _, f := range oracleFields {
		if f.stat != nil {
			cmp(f.field, int64(*f.stat(want)), int64(*f.stat(got)))
		}
	}
	return b.String()
}

func (r *frameResult) describe() string {
	var parts []string
	parts = append(parts, fmt.Sprintf("len=%d", r.len))
	for i, f := range oracleFields {
		if r.fields&(1<<i) != 0 {
			parts = append(parts, strings.TrimPrefix(f.field, "tcp.analysis."))
		}
	}
	if r.rst {
		parts = append(parts, "rst")
	}
	if r.fin {
		parts = append(parts, "fin")
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// runTsharkWithout is runTshark on path without the frames drop (of
// packets in all), its frames numbered as in path.
func runTsharkWithout(t *testing.T, path string, drop []int, packets int) map[int]*frameResult {
	if len(drop) == 0 {
		return runTshark(t, path)
	}
	// tshark rather than editcap, whose list of frames to delete stops
	// at 512 (a router's -i any has a copy of every packet it forwards).
	cut := filepath.Join(t.TempDir(), "without-copies.pcapng")
	nums := make([]string, len(drop))
	for i, f := range drop {
		nums[i] = strconv.Itoa(f)
	}
	if out, err := exec.Command("tshark", "-n", "-r", path, "-Y", "!(frame.number in {"+strings.Join(nums, ",")+"})", "-w", cut).CombinedOutput(); err != nil {
		t.Fatalf("tshark, to take the copies out: %v: %s", err, out)
	}
	res := runTshark(t, cut)
	out := map[int]*frameResult{}
	for f, n := 1, 1; f <= packets; f++ {
		if slices.Contains(drop, f) {
			continue
		}
		if r, ok := res[n]; ok {
			out[f] = r
		}
		n++
	}
	return out
}

// runTshark returns tshark's view of every TCP frame of path.
func runTshark(t testing.TB, path string) map[int]*frameResult {
	t.Helper()
	res := map[int]*frameResult{}
	for _, row := range oracle.Fields(t, path, tsharkOptions(), tsharkFields...).Rows {
		frame, err := strconv.Atoi(row.Get("frame.number"))
		if err != nil {
			t.Fatalf("tshark %s: frame number %q: %v", path, row.Get("frame.number"), err)
		}
		r := &frameResult{}
		streams := row.Values("tcp.stream")
		if len(streams) > 1 {
			// Several TCP layers in one frame (TCP in a tunnel over
			// TCP): decode reports the innermost, tshark's fields mix
			// all layers. The frame needs an exception.
			r.layers = len(streams)
		}
		stream := ""
		if len(streams) > 0 {
			stream = streams[len(streams)-1]
		}
		if r.stream, err = strconv.Atoi(stream); err != nil {
			t.Fatalf("tshark %s: frame %d: tcp.stream %q: %v", path, frame, stream, err)
		}
		r.src = append(row.Values("ip.src"), row.Values("ipv6.src")...)
		r.srcPort, _ = strconv.Atoi(row.Get("tcp.srcport"))
		r.len, _ = strconv.Atoi(row.Get("tcp.len"))
		r.rst = tsharkTrue(row.Get("tcp.flags.reset"))
		r.fin = tsharkTrue(row.Get("tcp.flags.fin"))
		if r.seq, err = strconv.ParseInt(row.Get("tcp.seq"), 10, 64); err != nil {
			r.seq = -1
		}
		r.irtt = row.Get("tcp.analysis.initial_rtt")
		r.protos = row.Get("frame.protocols")
		for i, f := range oracleFields {
			if row.Get(f.field) != "" {
				r.fields |= 1 << i
			}
		}
		res[frame] = r
	}
	return res
}

func tsharkTrue(s string) bool { return s == "1" || s == "True" }

// analyzeFile runs the Analyzer over path and returns each TCP frame's
// result, the Report, and the frames dropped as copies.
func analyzeFile(path string) (map[int]*frameResult, *model.Report, []int, error) {
	src, err := decode.Open(path, 0)
	if err != nil {
		return nil, nil, nil, err
	}
	defer src.Close()
	dec := decode.NewInputDecoder() // as ReadSource decodes
	a := New(Options{})
	res := map[int]*frameResult{}
	var copies []int
	var s decode.Segment
	for {
		p, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		dups := dec.Stats().Duplicates
		ok, err := dec.Decode(p, &s)
		if dec.Stats().Duplicates > dups {
			copies = append(copies, p.Frame)
		}
		if err != nil || !ok {
			continue
		}
		f := a.segment(&s)
		c := a.conns.get(new(tupleOf(s.Src, s.Dst)), a.gone)
		res[s.Frame] = &frameResult{
			seq:     relSeq(c, &s),
			stream:  c.stream,
			src:     []string{s.Src.Addr().String()},
			srcPort: int(s.Src.Port()),
			len:     s.PayloadLen,
			rst:     s.Flags.Has(decode.FlagRST),
			fin:     s.Flags.Has(decode.FlagFIN),
			fields:  shownFields(f),
		}
	}
	return res, a.Report([]*decode.InputInfo{src.Info()}), copies, nil
}

// shownFields says which oracle fields tshark would show for flags f.
func shownFields(f tcp.Flags) uint32 {
	var out uint32
	for i, of := range oracleFields {
		if f.Any(of.flags) {
			out |= 1 << i
		}
	}
	return out
}

// relSeq is s's relative sequence number (tshark's tcp.seq) on c. A
// connection without trackers has seen only its first SYN: 0.
func relSeq(c *conn, s *decode.Segment) int64 {
	if c.connState == nil {
		return 0
	}
	return int64(c.tcp.Flow(c.side(s)).Relative(s.Seq))
}
