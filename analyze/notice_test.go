package analyze

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/analyze/notice"
	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/decode/tls"
	"github.com/h2pcap/h2pcap/model"
)

// noticeRun analyses a lab capture with OnNotice set and returns the
// notices, the report and the analyzer.
func noticeRun(t *testing.T, rel, keys string) ([]model.Notice, *model.Report, *Analyzer) {
	t.Helper()
	var got []model.Notice
	opts := Options{OnNotice: func(n *model.Notice) { got = append(got, *n) }}
	if keys != "" {
		k, err := tls.ReadKeyLogFile(filepath.Join(pcapRoot(), keys))
		if err != nil {
			t.Fatal(err)
		}
		opts.Keys = k
	}
	rep, a := runCapture(t, rel, opts)
	return got, rep, a
}

func findingsOf(ns []model.Notice, kind model.NoticeKind) []model.Notice {
	var out []model.Notice
	for _, n := range ns {
		if n.Kind == kind {
			out = append(out, n)
		}
	}
	return out
}

// TestNoticeFindings: the findings each lab capture gives, told while the
// capture is read (not at its end) where the capture shows them.
func TestNoticeFindings(t *testing.T) {
	type want struct {
		kind   model.NoticeKind
		stream int
		from   string
		frame  int    // 0: any
		code   string // goaway
		debug  string
		text   string // a part of Text
	}
	tests := []struct {
		capture, keys string
		kinds         []model.NoticeKind // counted exactly (against want)
		want          []want
	}{
		{
			capture: "blackhole-s2c-h2c/client.pcap",
			kinds:   []model.NoticeKind{model.NoticePingLost, model.NoticeReset, model.NoticeRetransBurst, model.NoticeSilent},
			want:    []want{{kind: model.NoticePingLost, stream: 0, from: "client", frame: 42, text: "client PING unanswered for 2."}},
		},
		{
			// Near the server: the PING was answered, the answer lost.
			capture: "blackhole-s2c-h2c/server.pcap",
			kinds:   []model.NoticeKind{model.NoticePingLost},
			want:    []want{{kind: model.NoticePingLost, stream: 0, from: "client", frame: 42, text: "answered by the server (frame 43) but the answer never reached the client"}},
		},
		{
			// TLS without keys: the PING inferred from its record's size,
			// its answer still awaited.
			capture: "blackhole-s2c-tls/client.pcap",
			kinds:   []model.NoticeKind{model.NoticePingLost},
			want:    []want{{kind: model.NoticePingLost, stream: 0, from: "client", frame: 47, text: "client PING unanswered for 2.2 s, its TCP sending it again, nothing new from the client since: the client gave up or is about to (a PING inferred from TLS record sizes); frame 47"}},
		},
		{
			// The PING never left the client: the verdict's TCP-only rule,
			// at the client's close.
			capture: "blackhole-c2s-h2c/client.pcap",
			kinds:   []model.NoticeKind{model.NoticePingLost},
			want:    []want{{kind: model.NoticePingLost, stream: 0, from: "client", text: "Inferred from TCP"}},
		},
		{
			// TLS 1.2 without keys: the PING inferred from its record's size.
			capture: "blackhole-s2c-tls12-gcm/client.pcap",
			kinds:   []model.NoticeKind{model.NoticePingLost},
			want:    []want{{kind: model.NoticePingLost, stream: 0, from: "client", frame: 56, text: "unanswered for 2.2 s"}},
		},
		{
			// Mid-connection TLS 1.3, decrypted: HTTP/2 found by frame sync.
			capture: "midconn-tls/server.pcap", keys: "midconn-tls/keylog.txt",
			kinds: []model.NoticeKind{model.NoticePingLost},
			want:  []want{{kind: model.NoticePingLost, stream: 0, from: "client", frame: 22, text: "answered by the server (frame 23)"}},
		},
		{
			capture: "graceful-shutdown/client.pcap", keys: "graceful-shutdown/keylog.txt",
			kinds: []model.NoticeKind{model.NoticePingLost},
			want: []want{
				{kind: model.NoticeGoaway, stream: 0, from: "server", code: "NO_ERROR", text: "graceful drain"},
				{kind: model.NoticeGoaway, stream: 1, from: "server", code: "NO_ERROR"},
			},
		},
		{
			capture: "middlebox-reset/client.pcap",
			kinds:   []model.NoticeKind{model.NoticeReset, model.NoticePingLost},
			want:    []want{{kind: model.NoticeReset, stream: 1, from: "server", frame: 120, text: "middlebox"}},
		},
		{
			capture: "too-many-pings/client.pcap",
			kinds:   []model.NoticeKind{model.NoticePingLost},
			want: []want{
				{kind: model.NoticeGoaway, stream: 0, from: "server", frame: 43, code: "ENHANCE_YOUR_CALM", debug: "too_many_pings"},
			},
		},
		{
			capture: "mtu-blackhole/server.pcap",
			want:    []want{{kind: model.NoticeRetransBurst, stream: 0, from: "server", frame: 111}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.capture, func(t *testing.T) {
			ns, _, _ := noticeRun(t, tt.capture, tt.keys)
			for _, k := range tt.kinds {
				n := 0
				for _, w := range tt.want {
					if w.kind == k {
						n++
					}
				}
				if got := findingsOf(ns, k); len(got) != n {
					t.Errorf("%d %s notices, want %d: %+v", len(got), k, n, got)
				}
			}
		next:
			for _, w := range tt.want {
				for _, n := range findingsOf(ns, w.kind) {
					if n.Stream == w.stream && n.From == w.from && (w.frame == 0 || n.Frame == w.frame) &&
						n.Code == w.code && n.Debug == w.debug && strings.Contains(n.Text, w.text) &&
						!strings.HasPrefix(n.Text, "at the end") && n.Finding() {
						continue next
					}
				}
				t.Errorf("no %+v in %+v", w, findingsOf(ns, w.kind))
			}
		})
	}
}

// TestNoticesAgreeWithReport: on every lab capture, the notices tell the
// same facts as the report: a conn_open per connection, a conn_close per
// closed one, a retransmission per counted one, a ping_ack or ping_late
// per answered PING, and a finding for every lost_ping, reset and goaway
// verdict (at the end of the capture when nothing showed it before).
func TestNoticesAgreeWithReport(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(pcapRoot(), "*", "*.pcap"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no lab captures: %v", err)
	}
	type run struct{ rel, keys string }
	var runs []run
	for _, path := range files {
		rel, _ := filepath.Rel(pcapRoot(), path)
		runs = append(runs, run{rel, ""}) // TLS without keys: PINGs inferred
		if k := filepath.Join(filepath.Dir(rel), "keylog.txt"); fileExists(filepath.Join(pcapRoot(), k)) {
			runs = append(runs, run{rel, k})
		}
	}
	for _, r := range runs {
		rel, keys := r.rel, r.keys
		name := rel
		if keys != "" {
			name += "+keys"
		}
		t.Run(name, func(t *testing.T) {
			ns, rep, a := noticeRun(t, rel, keys)
			type counts struct{ open, close, retrans, acked, late, lost, reset, goaway, dead, abandoned int }
			got := make([]counts, len(rep.Connections))
			// Probes are not listed, so a stream is not always its index.
			index := map[int]int{}
			for i, c := range rep.Connections {
				index[c.Stream] = i
			}
			for _, n := range ns {
				i, ok := index[n.Stream]
				if !ok {
					t.Fatalf("notice for stream %d, which the report does not list: %+v", n.Stream, n)
				}
				c := rep.Connections[i]
				if n.Client.String() != c.Client || n.Server.String() != c.Server {
					t.Errorf("%s notice for %s -> %s, report %s -> %s", n.Kind, n.Client, n.Server, c.Client, c.Server)
				}
				g := &got[i]
				switch n.Kind {
				case model.NoticeConnOpen:
					g.open++
				case model.NoticeConnClose:
					g.close++
				case model.NoticeRetrans:
					g.retrans++
				case model.NoticePingAck:
					g.acked++
				case model.NoticePingLate:
					g.acked++
					g.late++
				case model.NoticePingLost:
					g.lost++
				case model.NoticeReset:
					g.reset++
				case model.NoticeGoaway:
					g.goaway++
				case model.NoticeBlackholed:
					g.dead++
				case model.NoticeAbandoned:
					g.abandoned++
					// What the report says: the same mechanism.
					if n.EndedBy != c.Verdict.EndedBy || c.Verdict.Abandoned == nil {
						t.Errorf("stream %d: abandoned notice (%s), verdict ended_by %q abandoned %v", n.Stream, n.EndedBy, c.Verdict.EndedBy, c.Verdict.Abandoned)
					}
				}
			}
			open := 0
			for i, c := range rep.Connections {
				g := got[i]
				closed := c.TCP.ClientToServer.Resets+c.TCP.ServerToClient.Resets > 0 ||
					c.TCP.ClientToServer.Fins > 0 && c.TCP.ServerToClient.Fins > 0
				if !closed {
					open++
				}
				var want counts
				want.open = 1
				if closed {
					want.close = 1
				}
				want.retrans = c.TCP.ClientToServer.Retransmissions + c.TCP.ServerToClient.Retransmissions
				if h := c.HTTP2; h != nil {
					for _, p := range h.Pings {
						if p.Acked && p.Frame != 0 {
							want.acked++
							if p.Late {
								want.late++
							}
						}
					}
				}
				if g.open != want.open || g.close != want.close || g.retrans != want.retrans || g.acked != want.acked || g.late != want.late {
					t.Errorf("stream %d: notices %+v, report says %+v", i, g, want)
				}
				switch c.Verdict.Kind {
				case model.KindLostPing:
					if g.lost != 1 {
						t.Errorf("stream %d: lost_ping verdict, %d ping_lost notices", i, g.lost)
					}
				case model.KindHealthy:
					// A PING its sender closed right after (ping-close)
					// was not lost: no notice says it was.
					if g.lost != 0 {
						t.Errorf("stream %d: healthy verdict, %d ping_lost notices", i, g.lost)
					}
					// A dial race's spare its client reset: no reset
					// finding (dial-race).
					if c.Verdict.DialRaceSpare && g.reset != 0 {
						t.Errorf("stream %d: a dial race's spare, %d reset notices", i, g.reset)
					}
				case model.KindReset:
					if g.reset != 1 {
						t.Errorf("stream %d: reset verdict, %d reset notices", i, g.reset)
					}
				case model.KindGoaway:
					if g.goaway == 0 {
						t.Errorf("stream %d: goaway verdict, no goaway notice", i)
					}
				case model.KindBlackholed:
					if g.dead != 1 {
						t.Errorf("stream %d: blackholed verdict, %d blackholed notices", i, g.dead)
					}
				}
				if c.Verdict.Kind != model.KindBlackholed && g.dead != 0 {
					t.Errorf("stream %d: %s verdict, %d blackholed notices", i, c.Verdict.Kind, g.dead)
				}
				// A one-way capture lacks the PINGs or their ACKs: as
				// the verdict, the notices tell none lost.
				if q := rep.Inputs[0].CaptureQuality; q != nil && q.OneDirection != "" && g.lost > 0 {
					t.Errorf("stream %d: %d ping_lost notices on a one-way capture", i, g.lost)
				}
				// Every abandonment the report finds was told as its
				// redial opened, once.
				if a := c.Verdict.Abandoned != nil; a && g.abandoned != 1 || !a && g.abandoned != 0 {
					t.Errorf("stream %d: abandoned %v, %d abandoned notices", i, c.Verdict.Abandoned, g.abandoned)
				}
				if g.lost > 1 || g.reset > 1 {
					t.Errorf("stream %d: %d ping_lost, %d reset notices; at most one each", i, g.lost, g.reset)
				}
			}
			// A probe nothing answered is as open as any SYN nothing
			// answered; one answered by ICMP or a SYN-ACK is over.
			for _, p := range rep.Summary.Probes {
				for _, r := range p.TTLs {
					open += r.Unanswered
				}
			}
			if got := a.OpenConns(); got != int64(open) {
				t.Errorf("OpenConns %d, want %d", got, open)
			}
		})
	}
}

// TestNoticeTick: with no packet for a minute each open connection is
// told silent once, by Tick; a tick in the past does nothing.
func TestNoticeTick(t *testing.T) {
	var got []model.Notice
	a := New(Options{OnNotice: func(n *model.Notice) { got = append(got, *n) }})
	src, err := decode.Open(filepath.Join(pcapRoot(), "blackhole-s2c-h2c/client.pcap"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	info, err := a.ReadSource(src)
	if err != nil {
		t.Fatal(err)
	}
	end := info.Last
	a.Tick(end.Add(-time.Hour))
	a.Tick(end.Add(30 * time.Second))
	if s := findingsOf(got, model.NoticeSilent); len(s) != 0 {
		t.Fatalf("silent after 30 s: %+v", s)
	}
	a.Tick(end.Add(notice.LiveSilentAfter))
	a.Tick(end.Add(2 * notice.LiveSilentAfter))
	s := findingsOf(got, model.NoticeSilent)
	if open := a.OpenConns(); open == 0 || len(s) != int(open) {
		t.Fatalf("%d open connections, silent notices: %+v", open, s)
	}
	for _, n := range s {
		if n.Frame != 0 || !n.Finding() || !strings.Contains(n.Text, "no packet for ") {
			t.Errorf("silent notice %+v", n)
		}
	}
	// The report's silent verdicts were told already: not again.
	before := len(got)
	a.Report([]*decode.InputInfo{info})
	if s := findingsOf(got[before:], model.NoticeSilent); len(s) != 0 {
		t.Errorf("silent told again at the end: %+v", s)
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// dropSource drops packets of a capture at random.
type dropSource struct {
	decode.Source
	rng  *rand.Rand
	rate float64
}

func (d *dropSource) Next() (*decode.Packet, error) {
	for {
		p, err := d.Source.Next()
		if err != nil || d.rng.Float64() >= d.rate {
			return p, err
		}
	}
}

// TestNoticesWithDrops: lab captures with packets dropped at random (TLS
// without keys and with them): nothing panics, a connection is opened
// once and told lost at most once, and every lost_ping verdict was told.
func TestNoticesWithDrops(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(pcapRoot(), "*", "*.pcap"))
	for _, path := range files {
		rel, _ := filepath.Rel(pcapRoot(), path)
		for seed := range 3 {
			var opts Options
			if k := filepath.Join(filepath.Dir(path), "keylog.txt"); seed == 2 && fileExists(k) {
				keys, err := tls.ReadKeyLogFile(k)
				if err != nil {
					t.Fatal(err)
				}
				opts.Keys = keys
			}
			src, err := decode.Open(path, 0)
			if err != nil {
				t.Fatal(err)
			}
			type count struct{ open, lost int }
			got := map[int]*count{}
			opts.OnNotice = func(n *model.Notice) {
				if got[n.Stream] == nil {
					got[n.Stream] = &count{}
				}
				switch n.Kind {
				case model.NoticeConnOpen:
					got[n.Stream].open++
				case model.NoticePingLost:
					got[n.Stream].lost++
				}
			}
			a := New(opts)
			info, err := a.ReadSource(&dropSource{src, rand.New(rand.NewPCG(uint64(seed), 11)), 0.1})
			src.Close()
			if err != nil {
				t.Fatal(err)
			}
			a.Tick(info.Last.Add(2 * notice.LiveSilentAfter))
			rep := a.Report([]*decode.InputInfo{info})
			for _, c := range rep.Connections {
				g := got[c.Stream]
				if g == nil || g.open != 1 || g.lost > 1 || c.Verdict.Kind == model.KindLostPing && g.lost != 1 {
					t.Errorf("%s seed %d stream %d (%s): notices %+v", rel, seed, c.Stream, c.Verdict.Kind, g)
				}
			}
		}
	}
}

// TestNoticeConnectFailed: on the failed-handshake captures, every
// connection the report judges connect_failed is told so exactly once,
// and none as a reset or silent; the client's RST to a late SYN-ACK is
// told at that RST, and a dial the client gave up on while the capture
// went on is told while it runs (not only at its end).
func TestNoticeConnectFailed(t *testing.T) {
	for _, capture := range []string{"synack-loss-healed/client.pcap", "synack-loss-healed/server.pcap",
		"synack-loss-unhealed/client.pcap", "synack-loss-unhealed/server.pcap", "blackhole-c2s-h2c/client.pcap"} {
		t.Run(capture, func(t *testing.T) {
			ns, rep, _ := noticeRun(t, capture, "")
			failed := map[int]*model.Connection{}
			for _, c := range rep.Connections {
				if c.Verdict.Kind == model.KindConnectFailed {
					failed[c.Stream] = c
				}
			}
			if len(failed) == 0 {
				t.Fatal("no connect_failed verdict")
			}
			end := verdict.CaptureEnd(rep.Inputs, rep.Connections)
			told := map[int]int{}
			live := 0
			for _, n := range ns {
				c := failed[n.Stream]
				switch {
				case n.Kind == model.NoticeConnectFailed && c == nil:
					t.Errorf("stream %d told connect_failed, judged %s", n.Stream, rep.Connections[n.Stream].Verdict.Kind)
				case n.Kind == model.NoticeConnectFailed:
					told[n.Stream]++
					if n.Time.Before(end) {
						live++
					}
					if c.Close.Kind == model.CloseRST && !strings.Contains(n.Text, "given up") && !strings.HasPrefix(n.Text, "at the end") {
						t.Errorf("stream %d: the client's RST not explained: %s", n.Stream, n.Text)
					}
				case c != nil && (n.Kind == model.NoticeReset || n.Kind == model.NoticeSilent):
					t.Errorf("stream %d, judged connect_failed, told %s: %s", n.Stream, n.Kind, n.Text)
				}
			}
			for s := range failed {
				if told[s] != 1 {
					t.Errorf("stream %d: told connect_failed %d times", s, told[s])
				}
			}
			if live == 0 {
				t.Errorf("no connect_failed told while the capture ran")
			}
		})
	}
}

// TestNoticesReportOnce: with ReportOnce (h2pcap live at exit), the
// Report frees each connection's trackers as its row is made, and the
// notices it tells (Reconcile: the findings the verdicts make and no
// notice told while the capture ran) read what was kept of each
// (noticeSnap): notices and report are those of a run that keeps every
// tracker, on every lab capture.
func TestNoticesReportOnce(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(pcapRoot(), "*", "*.pcap"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no lab captures: %v", err)
	}
	atEnd := 0
	for _, path := range files {
		rel, _ := filepath.Rel(pcapRoot(), path)
		t.Run(rel, func(t *testing.T) {
			run := func(once bool) ([]model.Notice, []byte) {
				var got []model.Notice
				rep, _ := runCapture(t, rel, Options{ReportOnce: once, OnNotice: func(n *model.Notice) { got = append(got, *n) }})
				b, err := json.Marshal(rep)
				if err != nil {
					t.Fatal(err)
				}
				return got, b
			}
			keptN, keptR := run(false)
			freedN, freedR := run(true)
			if !reflect.DeepEqual(keptN, freedN) {
				t.Errorf("notices: %d with the trackers kept, %d with them freed; first difference:\n%s", len(keptN), len(freedN), firstDiff(keptN, freedN))
			}
			if !bytes.Equal(keptR, freedR) {
				t.Errorf("the report differs with the trackers freed")
			}
			for _, n := range freedN {
				if strings.HasPrefix(n.Text, "at the end of the capture") {
					atEnd++
				}
			}
		})
	}
	if atEnd == 0 {
		t.Error("no notice told at the end of a capture: Reconcile was not exercised")
	}
}

func firstDiff(a, b []model.Notice) string {
	for i := range min(len(a), len(b)) {
		if !reflect.DeepEqual(a[i], b[i]) {
			return fmt.Sprintf("%+v\n%+v", a[i], b[i])
		}
	}
	return "(one is a prefix of the other)"
}
