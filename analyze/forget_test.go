package analyze

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/internal/oracle"
	"github.com/h2pcap/h2pcap/model"
	"github.com/h2pcap/h2pcap/report"
)

// shortConns feeds n short connections to a, one a second from t0: a
// handshake, a request and its answer, FINs. With reset, the i-th of every
// 10 ends with an RST from the server instead (a problem: reset). It
// returns the time after the last one.
func shortConns(a *Analyzer, n int, reset bool) time.Time {
	segs, end := shortConnSegs(n, reset)
	for _, s := range segs {
		a.Segment(s)
	}
	return end
}

// shortConnSegs are shortConns' segments, numbered from frame 1, and the
// time after the last one.
func shortConnSegs(n int, reset bool) ([]*decode.Segment, time.Time) {
	sv := netip.MustParseAddrPort("198.18.2.2:443")
	payload := make([]byte, 300)
	var segs []*decode.Segment
	now := t0
	seg := func(s *decode.Segment) {
		s.Frame, s.Time, s.Window = len(segs)+1, now, 1000
		now = now.Add(time.Millisecond)
		segs = append(segs, s)
	}
	for i := 0; i < n; i++ {
		now = t0.Add(time.Duration(i) * time.Second)
		cl := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, 1, byte(1 + i%200)}), uint16(1024+i))
		seg(&decode.Segment{Src: cl, Dst: sv, Flags: decode.FlagSYN, Seq: 100})
		seg(&decode.Segment{Src: sv, Dst: cl, Flags: decode.FlagSYN | decode.FlagACK, Seq: 500, Ack: 101})
		seg(&decode.Segment{Src: cl, Dst: sv, Flags: decode.FlagACK, Seq: 101, Ack: 501})
		seg(&decode.Segment{Src: cl, Dst: sv, Flags: decode.FlagACK | decode.FlagPSH, Seq: 101, Ack: 501, Payload: payload, PayloadLen: 300})
		seg(&decode.Segment{Src: sv, Dst: cl, Flags: decode.FlagACK | decode.FlagPSH, Seq: 501, Ack: 401, Payload: payload, PayloadLen: 300})
		if reset && i%10 == 3 {
			seg(&decode.Segment{Src: sv, Dst: cl, Flags: decode.FlagRST | decode.FlagACK, Seq: 801, Ack: 401})
			continue
		}
		seg(&decode.Segment{Src: cl, Dst: sv, Flags: decode.FlagACK | decode.FlagFIN, Seq: 401, Ack: 801})
		seg(&decode.Segment{Src: sv, Dst: cl, Flags: decode.FlagACK | decode.FlagFIN, Seq: 801, Ack: 402})
		seg(&decode.Segment{Src: cl, Dst: sv, Flags: decode.FlagACK, Seq: 402, Ack: 802})
	}
	return segs, now
}

// With ForgetHealthy, closed healthy connections leave the list once
// quiet for that long, and only then; problem ones stay; the summary
// still counts every connection, per path too; stream numbers stay
// tshark's.
func TestForgetHealthy(t *testing.T) {
	const n = 100
	full := New(Options{})
	shortConns(full, n, true)
	want := full.Report(nil)

	a := New(Options{ForgetHealthy: 10 * time.Second})
	end := shortConns(a, n, true)
	r := a.Report(nil)
	// Connections 0..89 closed over 10 s before the last one's close:
	// the healthy ones among them are forgotten, the last ten kept.
	listed := map[int]model.Kind{}
	for _, c := range r.Connections {
		listed[c.Stream] = c.Verdict.Kind
	}
	for _, c := range want.Connections {
		kind, ok := listed[c.Stream]
		switch {
		case c.Verdict.Kind != model.KindHealthy && !ok:
			t.Errorf("stream %d (%s) forgotten", c.Stream, c.Verdict.Kind)
		case ok && kind != c.Verdict.Kind:
			t.Errorf("stream %d: %s, without forgetting %s", c.Stream, kind, c.Verdict.Kind)
		case c.Verdict.Kind == model.KindHealthy && c.Stream < n-11 && ok:
			t.Errorf("stream %d: healthy, closed long ago, still listed", c.Stream)
		case c.Stream >= n-9 && !ok:
			t.Errorf("stream %d: forgotten before it was quiet for 10 s", c.Stream)
		}
	}
	s, ws := r.Summary, want.Summary
	if s.Connections != ws.Connections || s.ProblemConnections != ws.ProblemConnections || s.HealthyNotListed != n-len(r.Connections) {
		t.Errorf("summary %d connections, %d problems, %d not listed; want %d, %d, %d",
			s.Connections, s.ProblemConnections, s.HealthyNotListed, ws.Connections, ws.ProblemConnections, n-len(r.Connections))
	}
	if fmt.Sprint(s.Paths) != fmt.Sprint(ws.Paths) {
		t.Errorf("paths %+v, want %+v", s.Paths, ws.Paths)
	}
	if s.HealthyNotListed < n/2 {
		t.Errorf("only %d forgotten", s.HealthyNotListed)
	}

	// Tick moves the clock without packets: the rest go too.
	a.Tick(end.Add(time.Minute))
	if r := a.Report(nil); len(r.Connections) != n/10 {
		t.Errorf("after a quiet minute %d listed, want the %d reset ones", len(r.Connections), n/10)
	}
}

// What ForgetHealthy is for: memory that does not grow with the closed
// healthy connections.
func TestForgetHealthyMemory(t *testing.T) {
	perConn := func(opts Options) float64 {
		const n = 5000
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		a := New(opts)
		shortConns(a, n, false)
		runtime.GC()
		runtime.ReadMemStats(&m1)
		runtime.KeepAlive(a)
		return float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc)) / n
	}
	kept, forgot := perConn(Options{}), perConn(Options{ForgetHealthy: time.Second})
	t.Logf("per closed healthy connection: %.0f bytes kept, %.0f with ForgetHealthy", kept, forgot)
	if forgot > kept/10 {
		t.Errorf("ForgetHealthy keeps %.0f bytes per connection, without it %.0f", forgot, kept)
	}
}

// A forgotten connection's 4-tuple keeps a tombstone: a late segment of
// it opens no new tcp.stream (stream numbers stay tshark's) and is named
// in a warning; a new SYN opens the next stream as it always would.
func TestForgetTombstone(t *testing.T) {
	const n = 30
	a := New(Options{ForgetHealthy: time.Second, ForgetAbove: 5})
	end := shortConns(a, n, false)
	a.Tick(end.Add(time.Minute))
	cl := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, 1, 1}), 1024)
	sv := netip.MustParseAddrPort("198.18.2.2:443")
	late := end.Add(time.Minute)
	a.Segment(&decode.Segment{Src: cl, Dst: sv, Flags: decode.FlagACK | decode.FlagFIN, Seq: 401, Ack: 801, Frame: 10000, Time: late, Window: 1000})
	in := &decode.InputInfo{}
	r := a.Report([]*decode.InputInfo{in})
	if r.Summary.Connections != n || len(r.Connections) != 0 {
		t.Fatalf("%d connections (%d listed) after a late FIN, want %d (0)", r.Summary.Connections, len(r.Connections), n)
	}
	if len(in.Warnings) != 1 || !strings.Contains(in.Warnings[0], "1 segments came for connections already closed") {
		t.Errorf("warnings %q", in.Warnings)
	}
	a.Segment(&decode.Segment{Src: cl, Dst: sv, Flags: decode.FlagSYN, Seq: 9000, Frame: 10001, Time: late.Add(time.Second), Window: 1000})
	r = a.Report([]*decode.InputInfo{in})
	if len(r.Connections) != 1 || r.Connections[0].Stream != n {
		t.Fatalf("a new SYN on the 4-tuple: %d listed, want stream %d", len(r.Connections), n)
	}
	if len(in.Warnings) != 1 {
		t.Errorf("the warning repeated: %q", in.Warnings)
	}
}

// Below ForgetAbove connections nothing is forgotten: a small capture's
// report lists every connection.
func TestForgetAbove(t *testing.T) {
	a := New(Options{ForgetHealthy: time.Second, ForgetAbove: 20})
	end := shortConns(a, 20, false)
	a.Tick(end.Add(time.Minute))
	if r := a.Report(nil); len(r.Connections) != 20 {
		t.Errorf("%d of 20 listed", len(r.Connections))
	}
}

// TestForgetProbes: h2pcap live forgets the probes of a traceroute loop
// once closed and quiet, as it forgets healthy connections, and the
// summary counts them as it would have counted them listed: the same
// targets, TTLs, answers and streams; the unanswered ones, never closed,
// are still told apart by the TTLs of those forgotten.
func TestForgetProbes(t *testing.T) {
	path := filepath.Join(pcapRoot(), "traceroute-probes", "client.pcap")
	want, _ := runPath(t, path, Options{})
	got, a := runPath(t, path, Options{ForgetHealthy: time.Second})
	if len(want.Summary.Probes) == 0 {
		t.Fatal("no probes in the capture")
	}
	if !reflect.DeepEqual(got.Summary.Probes, want.Summary.Probes) {
		t.Errorf("probes forgetting %+v\nwithout %+v", got.Summary.Probes, want.Summary.Probes)
	}
	if a.fg.dropped <= len(want.Connections) || got.Summary.Connections != want.Summary.Connections {
		t.Errorf("%d dropped, %d connections counted (want %d): the probes were not forgotten", a.fg.dropped, got.Summary.Connections, want.Summary.Connections)
	}
}

// With one Report (Options.ReportOnce), a closed connection the
// forgetting keeps (not healthy) is settled: its row and facts made then,
// its trackers freed. The report is the one made without settling; a
// segment that comes for it later is named in a warning, not analysed.
func TestSettleKept(t *testing.T) {
	const n = 30
	cl := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, 1, 4}), 1027) // the 4th: reset
	sv := netip.MustParseAddrPort("198.18.2.2:443")
	run := func(once, late, icmp bool, workers int) (string, *decode.InputInfo, *Analyzer) {
		a := New(Options{ForgetHealthy: time.Second, ForgetAbove: 5, ReportOnce: once, Workers: workers})
		defer a.Close()
		end := shortConns(a, n, true)
		a.Tick(end.Add(time.Minute))
		if icmp {
			a.ICMPError(&decode.ICMPError{Frame: 9999, Time: end.Add(time.Minute), From: netip.MustParseAddr("198.18.9.9"),
				Kind: decode.ICMPUnreachable, Type: 3, Code: 13, IPVersion: 4, Src: cl, Dst: sv, Seq: 101, TTL: 60})
		}
		if late {
			a.Segment(&decode.Segment{Src: sv, Dst: cl, Flags: decode.FlagRST | decode.FlagACK, Seq: 801, Ack: 401,
				Frame: 10000, Time: end.Add(time.Minute), Window: 1000})
		}
		in := &decode.InputInfo{}
		var b bytes.Buffer
		if err := report.Write(&b, a.Report([]*decode.InputInfo{in}), "json"); err != nil {
			t.Fatal(err)
		}
		return b.String(), in, a
	}
	want, _, kept := run(false, false, false, 0)
	got, in, a := run(true, false, false, 0)
	if kept.fg.settled != 0 || a.fg.settled != n/10 {
		t.Errorf("%d settled without ReportOnce, %d with it; want 0 and %d", kept.fg.settled, a.fg.settled, n/10)
	}
	if got != want {
		t.Errorf("the report differs with settled connections:\n%s\nwant\n%s", got, want)
	}
	if len(in.Warnings) != 0 || len(a.settledRows) != 0 {
		t.Errorf("warnings %q, %d settled rows left after the Report", in.Warnings, len(a.settledRows))
	}
	// An ICMP error quoting a settled connection is let go, as one
	// quoting a forgotten one is: its row is made (and no trackers are
	// built again for it, which counted it a half-open one less). The
	// report says so, as of a late segment.
	icmp, in, a := run(true, false, true, 0)
	if len(in.Warnings) != 1 || !strings.Contains(in.Warnings[0], "1 ICMP errors came for connections already closed and quiet for 1s, whose rows were made then") {
		t.Errorf("an ICMP error for a settled connection: warnings %q", in.Warnings)
	}
	var withICMP, without model.Report
	if err := json.Unmarshal([]byte(icmp), &withICMP); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(got), &without); err != nil {
		t.Fatal(err)
	}
	withICMP.Inputs[0].Warnings = nil
	if !reflect.DeepEqual(withICMP, without) || a.halfConns.Load() != 0 {
		t.Errorf("an ICMP error for a settled connection changed the report but for its warning, or the half-open count (%d)", a.halfConns.Load())
	}
	got, in, _ = run(true, true, false, 0)
	if got == want || len(in.Warnings) != 1 || !strings.Contains(in.Warnings[0], "1 segments came for connections already closed and quiet for 1s, whose rows were made then") {
		t.Errorf("a late segment of a settled connection: warnings %q", in.Warnings)
	}
	if strings.Count(got, `"stream": `) != strings.Count(want, `"stream": `) {
		t.Errorf("a late segment of a settled connection changed the listed connections")
	}
	// On workers, which settle nothing, the connections kept are sealed:
	// what comes for them later is counted late too, and the reports are
	// the same bytes.
	for _, late := range []bool{false, true} {
		for _, icmp := range []bool{false, true} {
			one, _, _ := run(true, late, icmp, 0)
			if on, _, _ := run(true, late, icmp, 2); on != one {
				t.Errorf("late %v, ICMP %v: on workers the report differs:\n%s\nwant\n%s", late, icmp, on, one)
			}
		}
	}
}

// Deferred forgetting (forget.go) gives the report forgetting at each
// sweep gives, whatever comes for a connection the sweep found due before
// it is judged: a late FIN (a healthy one's), a late RST (a reset one's,
// settled), a new SYN on its 4-tuple, an ICMP error quoting it, or
// nothing. The last sweep finds the last two due, 32 and 33 (reset).
func TestDeferredForget(t *testing.T) {
	const n = 34
	sv := netip.MustParseAddrPort("198.18.2.2:443")
	client := func(i int) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, 1, byte(1 + i)}), uint16(1024+i))
	}
	tests := []struct {
		name  string
		after func(a *Analyzer, at time.Time)
	}{
		{"nothing", func(*Analyzer, time.Time) {}},
		{"late FIN", func(a *Analyzer, at time.Time) {
			a.Segment(&decode.Segment{Src: client(32), Dst: sv, Flags: decode.FlagACK | decode.FlagFIN, Seq: 401, Ack: 801, Frame: 10000, Time: at, Window: 1000})
		}},
		{"late RST", func(a *Analyzer, at time.Time) {
			a.Segment(&decode.Segment{Src: sv, Dst: client(33), Flags: decode.FlagRST | decode.FlagACK, Seq: 801, Ack: 401, Frame: 10000, Time: at, Window: 1000})
		}},
		{"new SYN", func(a *Analyzer, at time.Time) {
			a.Segment(&decode.Segment{Src: client(32), Dst: sv, Flags: decode.FlagSYN, Seq: 9000, Frame: 10000, Time: at, Window: 1000})
			a.Segment(&decode.Segment{Src: sv, Dst: client(32), Flags: decode.FlagSYN | decode.FlagACK, Seq: 7000, Ack: 9001, Frame: 10001, Time: at, Window: 1000})
		}},
		{"ICMP", func(a *Analyzer, at time.Time) {
			a.ICMPError(&decode.ICMPError{Frame: 10000, Time: at, From: netip.MustParseAddr("198.18.9.9"),
				Kind: decode.ICMPUnreachable, Type: 3, Code: 13, IPVersion: 4, Src: client(33), Dst: sv, Seq: 101, TTL: 60})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := func(noDefer bool) (string, int) {
				a := New(Options{ForgetHealthy: time.Second, ForgetAbove: 5, ReportOnce: true})
				a.noDefer = noDefer
				defer a.Close()
				end := shortConns(a, n, true)
				// Each sweep so far found one connection due, judged as
				// the next was built; this one finds the last two.
				a.Tick(end.Add(time.Minute))
				pending := len(a.fg.pending) - a.fg.head
				tt.after(a, end.Add(time.Minute))
				in := &decode.InputInfo{}
				var b bytes.Buffer
				if err := report.Write(&b, a.Report([]*decode.InputInfo{in}), "json"); err != nil {
					t.Fatal(err)
				}
				return b.String() + fmt.Sprint(in.Warnings), pending
			}
			want, _ := run(true)
			got, pending := run(false)
			if pending != 2 {
				t.Fatalf("%d deferred, want 2", pending)
			}
			if got != want {
				t.Errorf("deferred, the report differs:\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// With several capture points (Options.ForgetPlaced) forgetting is
// deferred too: a sweep lists the connections the Placer retired clean,
// and what the report and the multi-point comparison read (the Report,
// the forgotten rows) is what forgetting at each sweep gives, also when
// the Placer retires a listed connection again as dirty before it is
// judged (a flow it joined anew), or a late FIN or a new SYN comes.
func TestDeferredForgetPlaced(t *testing.T) {
	const n = 40
	sv := netip.MustParseAddrPort("198.18.2.2:443")
	client := func(i int) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, 1, byte(1 + i%200)}), uint16(1024+i))
	}
	tests := []struct {
		name  string
		after func(a *Analyzer, at time.Time)
	}{
		{"nothing", func(*Analyzer, time.Time) {}},
		{"placed again, dirty", func(a *Analyzer, _ time.Time) { a.Placed(12, false) }},
		{"late FIN", func(a *Analyzer, at time.Time) {
			a.Segment(&decode.Segment{Src: client(12), Dst: sv, Flags: decode.FlagACK | decode.FlagFIN, Seq: 401, Ack: 801, Frame: 10000, Time: at, Window: 1000})
		}},
		{"new SYN", func(a *Analyzer, at time.Time) {
			a.Segment(&decode.Segment{Src: client(12), Dst: sv, Flags: decode.FlagSYN, Seq: 9000, Frame: 10000, Time: at, Window: 1000})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := func(noDefer bool) (string, int) {
				a := New(Options{ForgetHealthy: time.Second, ForgetAbove: 5, ReportOnce: true, ForgetPlaced: true})
				a.noDefer = noDefer
				defer a.Close()
				end := shortConns(a, n, true)
				// The Placer retires every flow at the end: a seventh
				// with something placed.
				for st := range n {
					a.Placed(st, st%7 != 0)
				}
				a.Tick(end.Add(time.Minute))
				pending := len(a.fg.pending) - a.fg.head
				tt.after(a, end.Add(time.Minute))
				var b strings.Builder
				rows := a.Forgotten()
				fmt.Fprintf(&b, "%d forgotten\n", rows.Len())
				for st := range n + 1 {
					if c := rows.Row(st); c != nil {
						fmt.Fprintf(&b, "%d %s %d %+v\n", c.Stream, c.Client, c.FirstFrame, c.TCP)
					}
				}
				in := &decode.InputInfo{}
				if err := report.Write(&b, a.Report([]*decode.InputInfo{in}), "json"); err != nil {
					t.Fatal(err)
				}
				return b.String() + fmt.Sprint(in.Warnings), pending
			}
			want, _ := run(true)
			got, pending := run(false)
			if pending == 0 {
				t.Fatal("nothing deferred")
			}
			if got != want {
				t.Errorf("deferred, the report or the forgotten rows differ:\n%s\nwant\n%s", got, want)
			}
			if !strings.Contains(want, " forgotten\n") || strings.HasPrefix(want, "0 forgotten") {
				t.Errorf("no connection forgotten:\n%s", want)
			}
		})
	}
}

// TestResentSYN's endpoints: of shortConnSegs(30, true)'s connections.
var (
	resentSV      = netip.MustParseAddrPort("198.18.2.2:443")
	resentHealthy = netip.MustParseAddrPort("198.18.1.1:1024") // the first
	resentReset   = netip.MustParseAddrPort("198.18.1.4:1027") // the 4th: reset, settled with ReportOnce
)

// resentSYNTests are TestResentSYN's SYNs, each after
// shortConnSegs(30, true) and, with synAck, a late SYN-ACK of the server
// with that ISN (which moves its base, as tshark's issue 16944 has it):
// whether the SYN is late (the old connection's).
var resentSYNTests = []struct {
	name     string
	src, dst netip.AddrPort
	seq      uint32
	synAck   uint32
	late     bool
}{
	{"client's old ISN", resentHealthy, resentSV, 100, 0, true},
	{"server's old ISN", resentSV, resentHealthy, 500, 0, true},
	{"a new ISN", resentHealthy, resentSV, 9000, 0, false},
	{"the server's side, a new ISN", resentSV, resentHealthy, 9000, 0, false},
	{"reset, client's old ISN", resentReset, resentSV, 100, 0, true},
	{"reset, a new ISN", resentReset, resentSV, 7, 0, false},
	{"server's ISN of its late SYN-ACK", resentSV, resentHealthy, 700, 700, true},
	{"server's old ISN after its late SYN-ACK with another", resentSV, resentHealthy, 500, 700, false},
}

// resentSegs are the segments of a resentSYNTests case, from frame on at
// at: the late SYN-ACK, if any, and the SYN.
func resentSegs(src, dst netip.AddrPort, seq, synAck uint32, frame int, at time.Time) []*decode.Segment {
	var segs []*decode.Segment
	if synAck != 0 {
		segs = append(segs, &decode.Segment{Src: resentSV, Dst: resentHealthy, Flags: decode.FlagSYN | decode.FlagACK, Seq: synAck, Ack: 101, Frame: frame, Time: at, Window: 1000})
	}
	return append(segs, &decode.Segment{Src: src, Dst: dst, Flags: decode.FlagSYN, Seq: seq, Frame: frame + len(segs), Time: at.Add(time.Second), Window: 1000})
}

// A pure SYN on a forgotten or settled connection's 4-tuple opens a new
// tcp.stream only if tshark's would: its ISN differs from the one its
// side had (a scanner's retry with a SYN cookie, the same ISN, is the old
// connection's SYN sent again, late). The streams counted are those of an
// analysis that forgets nothing, forgetting alone, settling (ReportOnce:
// the reset ones) and with workers.
func TestResentSYN(t *testing.T) {
	const n = 30
	tests, reset := resentSYNTests, resentReset
	opts := map[string]Options{
		"forgotten": {ForgetHealthy: time.Second, ForgetAbove: 5},
		"settled":   {ForgetHealthy: time.Second, ForgetAbove: 5, ReportOnce: true},
		"workers":   {ForgetHealthy: time.Second, ForgetAbove: 5, Workers: 2},
	}
	for _, tt := range tests {
		run := func(o Options) (*model.Report, *decode.InputInfo) {
			a := New(o)
			defer a.Close()
			end := shortConns(a, n, true)
			a.Tick(end.Add(time.Minute))
			for _, s := range resentSegs(tt.src, tt.dst, tt.seq, tt.synAck, 10000, end.Add(time.Minute)) {
				a.Segment(s)
			}
			in := &decode.InputInfo{}
			return a.Report([]*decode.InputInfo{in}), in
		}
		want, _ := run(Options{})
		streams := n
		if !tt.late {
			streams++
		}
		if want.Summary.Connections != streams {
			t.Fatalf("%s: kept whole, %d connections, want %d", tt.name, want.Summary.Connections, streams)
		}
		for name, o := range opts {
			r, in := run(o)
			if r.Summary.Connections != want.Summary.Connections {
				t.Errorf("%s, %s: %d connections, want %d as kept whole", tt.name, name, r.Summary.Connections, want.Summary.Connections)
			}
			// A reset connection stays whole but settled: its tracker
			// takes the SYN, as kept whole.
			lates := 0
			if tt.src != reset || name == "settled" {
				if tt.synAck != 0 {
					lates++
				}
				if tt.late {
					lates++
				}
			}
			warned := 0
			if len(in.Warnings) == 1 {
				fmt.Sscanf(in.Warnings[0], "%d segments came for connections already closed", &warned)
			}
			if len(in.Warnings) > 1 || warned != lates {
				t.Errorf("%s, %s: warnings %q, want %d late segments", tt.name, name, in.Warnings, lates)
			}
			if !tt.late && r.Connections[len(r.Connections)-1].Stream != n {
				t.Errorf("%s, %s: the new SYN's connection is not listed as stream %d", tt.name, name, n)
			}
		}
	}
}

// TestResentSYNTshark: the streams TestResentSYN counts kept whole are
// tshark's: a SYN with its side's old ISN is in the old stream, one with
// a new ISN opens the next.
func TestResentSYNTshark(t *testing.T) {
	oracle.Tshark(t)
	const n = 30
	for _, tt := range resentSYNTests {
		segs, end := shortConnSegs(n, true)
		segs = append(segs, resentSegs(tt.src, tt.dst, tt.seq, tt.synAck, len(segs)+1, end.Add(time.Minute))...)
		path := filepath.Join(t.TempDir(), "resent.pcap")
		if err := writeRawPcap(path, segs); err != nil {
			t.Fatal(err)
		}
		th := runTshark(t, path)[len(segs)]
		if th == nil || (th.stream < n) != tt.late {
			t.Errorf("%s: tshark puts the SYN in %+v, want the old stream: %v", tt.name, th, tt.late)
		}
	}
}

// A connection ended by a SYN with a new ISN on its 4-tuple, not by FINs
// or an RST (a connect given up and made again 2 s later), is judged at
// the Report, by the capture's end: a failed connect, as kept whole. Its
// own end read "still connecting" (healthy) and it was forgotten.
func TestForgetRedialed(t *testing.T) {
	cl := netip.MustParseAddrPort("198.18.1.1:40000")
	sv := netip.MustParseAddrPort("198.18.2.2:443")
	var segs []*decode.Segment
	add := func(src, dst netip.AddrPort, seq uint32, at time.Duration) {
		segs = append(segs, &decode.Segment{Src: src, Dst: dst, Flags: decode.FlagSYN, Seq: seq, Frame: len(segs) + 1, Time: t0.Add(at), Window: 1000, TTL: 64})
	}
	add(cl, sv, 100, 0)
	for i := range 8 {
		// Lone SYNs of another client, past the sweeps.
		add(netip.MustParseAddrPort("198.18.1.2:40000"), sv, 7, time.Duration(i+1)*250*time.Millisecond)
	}
	add(cl, sv, 900, 2100*time.Millisecond)
	run := func(opts Options) *model.Report {
		a := New(opts)
		defer a.Close()
		for _, s := range segs {
			a.Segment(s)
		}
		return a.Report([]*decode.InputInfo{{}})
	}
	want := run(Options{})
	if v := want.Connections[0].Verdict; v.Kind != model.KindConnectFailed {
		t.Fatalf("kept whole, the first connect is %s: %s", v.Kind, v.Summary)
	}
	for name, opts := range map[string]Options{
		"forgetting":   {ForgetHealthy: 100 * time.Millisecond},
		"settling":     {ForgetHealthy: 100 * time.Millisecond, ReportOnce: true},
		"spilling":     {ForgetHealthy: 100 * time.Millisecond, SpillRows: true},
		"with workers": {ForgetHealthy: 100 * time.Millisecond, Workers: 2},
	} {
		got := run(opts)
		if len(got.Connections) != len(want.Connections) {
			t.Errorf("%s: %d listed, want %d", name, len(got.Connections), len(want.Connections))
			continue
		}
		if v := got.Connections[0].Verdict; got.Connections[0].Stream != 0 || v.Kind != model.KindConnectFailed {
			t.Errorf("%s: stream %d is %s: %s", name, got.Connections[0].Stream, v.Kind, v.Summary)
		}
	}
}

// synAckAgain holds a closed connection longer only where its server may
// send its SYN-ACK again: it answered a SYN sent again (late), and no ACK
// completed the handshake. A port scan's SYN-ACK, reset at once, answered
// the one SYN; a completed handshake, or a SYN never answered, has no
// SYN-ACK to come.
func TestSYNAckAgain(t *testing.T) {
	cl, sv := netip.MustParseAddrPort("198.18.1.2:40000"), netip.MustParseAddrPort("198.18.2.2:2380")
	syn := &decode.Segment{Src: cl, Dst: sv, Flags: decode.FlagSYN, Seq: 100}
	synAck := &decode.Segment{Src: sv, Dst: cl, Flags: decode.FlagSYN | decode.FlagACK, Seq: 500, Ack: 101}
	rst := &decode.Segment{Src: cl, Dst: sv, Flags: decode.FlagRST, Seq: 101}
	ack := &decode.Segment{Src: cl, Dst: sv, Flags: decode.FlagACK, Seq: 101, Ack: 501}
	for _, tt := range []struct {
		name string
		segs []*decode.Segment
		want bool
	}{
		{"late SYN-ACK, reset", []*decode.Segment{syn, syn, synAck, rst}, true},
		{"late SYN-ACK, unanswered", []*decode.Segment{syn, syn, syn, synAck}, true},
		{"scan: SYN-ACK to the one SYN, reset", []*decode.Segment{syn, synAck, rst}, false},
		{"handshake completed", []*decode.Segment{syn, syn, synAck, ack}, false},
		{"SYNs unanswered", []*decode.Segment{syn, syn}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := New(Options{})
			for i, s := range tt.segs {
				c := *s
				c.Frame, c.Time, c.Window = i+1, t0.Add(time.Duration(i)*time.Second), 1000
				a.Segment(&c)
			}
			if len(a.all) != 1 || a.all[0] == nil {
				t.Fatalf("%d connections", len(a.all))
			}
			if got := a.all[0].synAckAgain(); got != tt.want {
				t.Errorf("synAckAgain %v, want %v", got, tt.want)
			}
		})
	}
}
