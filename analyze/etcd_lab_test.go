package analyze

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/decode/tls"
	"github.com/h2pcap/h2pcap/model"
)

// etcdTruth is the part of an etcd scenario's truth.json (lab/etcd truth)
// the test reads.
type etcdTruth struct {
	Scenario string `json:"scenario"`
	Lab      string `json:"lab"`
	Faulty   string `json:"faulty_member"`
	Members  []struct {
		Name    string `json:"name"`
		ID      string `json:"id"`
		Address string `json:"address"`
	} `json:"members"`
	Elections []struct {
		Term     uint64               `json:"term"`
		Leader   string               `json:"leader"`
		ID       string               `json:"leader_id"`
		Time     time.Time            `json:"time"`
		Previous string               `json:"previous_leader"`
		LoggedBy map[string]time.Time `json:"logged_by"`
	} `json:"elections"`
	Faults []struct {
		Start time.Time `json:"start"`
	} `json:"faults"`
	ClientErrors []struct {
		Op string `json:"op"`
	} `json:"client_errors"`
	Expect struct {
		// Encrypted: TLS on the peer port without a key log (a scenario
		// with keylog.txt is run with it and without).
		Encrypted bool `json:"encrypted"`
	} `json:"expect"`
}

// etcdLogSlack is how far the election time h2pcap reads from a capture
// may be from the members' logs (the acceptance: 100 ms).
const etcdLogSlack = 100 * time.Millisecond

// TestEtcdLab holds the etcd scenarios' member captures to the members'
// own logs: summary.etcd names the leader change (term, old and new
// leader, time within 100 ms of the winner's "became leader" line or of
// the capturing member's "elected leader" line), the faulty member (the
// one whose link the fault was on), the clean pair between the others,
// and every peer connection as rafthttp; no connection is a lost_ping
// (no member or client here has a health check that could fail); and the
// gRPC calls the client reset (its deadline ran out) are counted no more
// often than the client logged errors.
func TestEtcdLab(t *testing.T) {
	for _, lt := range readLabTruths[etcdTruth](t, "etcd-*") {
		tp, tr := lt.path, lt.truth
		if tr.Lab != "etcd" || len(tr.Faults) == 0 {
			t.Fatalf("%s: not an etcd scenario with a fault", tp)
		}
		byName := map[string]string{} // name -> address
		idOf := map[string]string{}
		nameOfAddr := map[string]string{}
		for _, m := range tr.Members {
			byName[m.Name], idOf[m.Name], nameOfAddr[m.Address] = m.Address, m.ID, m.Name
		}
		captures, _ := filepath.Glob(filepath.Join(filepath.Dir(tp), "m?.pcap"))
		if len(captures) == 0 {
			continue // a client-side scenario (TestEtcdClientLab)
		}
		if len(captures) < 2 && !tr.Expect.Encrypted {
			t.Fatalf("%s: %d member captures", tr.Scenario, len(captures))
		}
		// TLS with the members' key log (keylog.txt): decrypted, the same
		// as plaintext; without it, what TLS without keys shows.
		var keys *tls.KeyLog
		if k := filepath.Join(filepath.Dir(tp), "keylog.txt"); fileExists(k) {
			var err error
			if keys, err = tls.ReadKeyLogFile(k); err != nil {
				t.Fatal(err)
			}
		}
		type run struct {
			capture, name string
			keys          *tls.KeyLog
			encrypted     bool
		}
		var runs []run
		for _, capture := range captures {
			name := tr.Scenario + "/" + strings.TrimSuffix(filepath.Base(capture), ".pcap")
			if keys == nil {
				runs = append(runs, run{capture, name, nil, tr.Expect.Encrypted})
				continue
			}
			runs = append(runs, run{capture, name + "+keys", keys, false}, run{capture, name + "/nokeys", nil, true})
		}
		for _, ru := range runs {
			capture := ru.capture
			member := strings.TrimSuffix(filepath.Base(capture), ".pcap")
			t.Run(ru.name, func(t *testing.T) {
				var notices []model.Notice
				r, _ := runPath(t, capture, Options{Keys: ru.keys, OnNotice: func(n *model.Notice) { notices = append(notices, *n) }})
				e := r.Summary.Etcd
				if e == nil {
					t.Fatalf("no summary.etcd; headline %q", r.Summary.Headline)
				}
				if ru.keys != nil && e.Encrypted != 0 {
					t.Errorf("%d etcd peer connections not decrypted with the members' key log", e.Encrypted)
				}
				if ru.encrypted {
					// Nothing of raft can be read: no leader or election is
					// claimed, the traffic is said to be encrypted, and the
					// faulty member still comes from the TCP loss per pair.
					if e.Encrypted == 0 || len(e.Leaders) != 0 || len(e.Elections) != 0 {
						t.Errorf("encrypted %d, leaders %v, elections %v", e.Encrypted, e.Leaders, e.Elections)
					}
					if !strings.Contains(r.Summary.Headline, "etcd peer traffic in TLS, not decrypted") {
						t.Errorf("headline %q", r.Summary.Headline)
					}
					if f := e.Faulty; f == nil || f.Address != byName[tr.Faulty] {
						t.Errorf("faulty member %+v, want %s (%s)", f, tr.Faulty, byName[tr.Faulty])
					}
					for _, c := range r.Connections {
						if c.Verdict.Kind == model.KindLostPing || c.Verdict.Kind == model.KindGoaway {
							t.Errorf("stream %d %s -> %s: %s inferred on HTTP/1.1 over TLS: %s", c.Stream, c.Client, c.Server, c.Verdict.Kind, c.Verdict.Summary)
						}
					}
					return
				}
				end := r.Inputs[0].Last
				// The leader changes the logs show while the capture ran.
				n := 0
				for _, want := range tr.Elections {
					if !want.Time.After(tr.Faults[0].Start) || want.Time.After(end) {
						continue
					}
					n++
					var got *model.EtcdElection
					for i := range e.Elections {
						if e.Elections[i].Term == want.Term {
							got = &e.Elections[i]
						}
					}
					if got == nil {
						t.Errorf("term %d (won by %s): not among the elections %+v", want.Term, want.Leader, e.Elections)
						continue
					}
					if got.Leader != want.ID || got.LeaderAddress != byName[want.Leader] {
						t.Errorf("term %d: leader %s at %s, want %s (%s)", want.Term, got.Leader, got.LeaderAddress, want.ID, byName[want.Leader])
					}
					if got.PreviousLeader != idOf[want.Previous] {
						t.Errorf("term %d: previous leader %s, want %s (%s)", want.Term, got.PreviousLeader, idOf[want.Previous], want.Previous)
					}
					d := got.Time.Sub(want.Time).Abs()
					if at, ok := want.LoggedBy[member]; ok {
						d = min(d, got.Time.Sub(at).Abs())
					}
					// Or when the member moved to the term, as its
					// own log says: the old leader, cut off by loss,
					// follows the new term on the first of its
					// messages that reaches it (etcd-leader-loss-mesh's
					// m1: its capture and its "became follower at term
					// 3" 0.3 ms apart), and logs "elected leader" up to
					// seconds later.
					if at, ok := becameAt(t, filepath.Join(filepath.Dir(capture), member+".log"), want.Term); ok {
						d = min(d, got.Time.Sub(at).Abs())
					}
					if d > etcdLogSlack {
						t.Errorf("term %d: election at %s, the logs say %s (winner) and %v (by member): %s apart",
							want.Term, got.Time.Format(time.RFC3339Nano), want.Time.Format(time.RFC3339Nano), want.LoggedBy, d)
					}
					if len(got.Evidence) == 0 {
						t.Errorf("term %d: no evidence", want.Term)
					}
				}
				if n == 0 {
					t.Fatalf("the logs show no leader change during the capture")
				}
				// Live: each leader change is told as it is read, with the
				// report's term and leaders.
				changes := findingsOf(notices, model.NoticeEtcdLeaderChange)
				if len(changes) != len(e.Elections) {
					t.Errorf("%d etcd_leader_change notices, %d elections", len(changes), len(e.Elections))
				}
				for i := range min(len(changes), len(e.Elections)) {
					n, el := changes[i], e.Elections[i]
					if n.Term != el.Term || n.Leader != el.Leader || n.PreviousLeader != el.PreviousLeader || !n.Finding() {
						t.Errorf("notice %+v, election %+v", n, el)
					}
				}
				if !strings.Contains(r.Summary.Headline, "leader changed") {
					t.Errorf("headline does not say the leader changed: %q", r.Summary.Headline)
				}
				if f := e.Faulty; f == nil || f.Address != byName[tr.Faulty] || f.ID != idOf[tr.Faulty] {
					t.Errorf("faulty member %+v, want %s (%s, %s)", f, tr.Faulty, byName[tr.Faulty], idOf[tr.Faulty])
				} else if !strings.Contains(r.Summary.Headline, "every etcd peer connection through "+f.Address) {
					t.Errorf("headline does not name the faulty member: %q", r.Summary.Headline)
				}
				for _, p := range e.Pairs {
					involved := p.Members[0] == byName[tr.Faulty] || p.Members[1] == byName[tr.Faulty]
					if p.Lossy != involved {
						t.Errorf("pair %v: lossy %v, want %v (%d of %d packets retransmitted, %d problem connections)",
							p.Members, p.Lossy, involved, p.Retransmissions, p.Packets, p.Problems)
					}
				}
				resets := 0
				for _, c := range r.Connections {
					if c.Verdict.Kind == model.KindLostPing {
						t.Errorf("stream %d %s -> %s: lost_ping: %s", c.Stream, c.Client, c.Server, c.Verdict.Summary)
					}
					// tcpdump dropped nothing: the loss was real (a D-SACK
					// after it is no capture drop).
					if slices.Contains(c.Verdict.Suspects, model.SuspectCaptureDrops) {
						t.Errorf("stream %d %s -> %s: capture_drops: %s", c.Stream, c.Client, c.Server, c.Verdict.Summary)
					}
					// A TLS connection whose client sent no application data
					// beyond its Finished and a close_notify (the capture
					// ended in its handshake, or a dial the black hole cut
					// off after it) has nothing to read.
					handshakeOnly := c.TLS != nil && (c.TLS.ClientAppRecords <= 1 || c.TLS.ClientAppRecords == 2 && c.TLS.ClientAppLastLen <= 24)
					if strings.HasSuffix(c.Server, ":2380") && c.TCP.ClientToServer.Bytes > 0 && !handshakeOnly && !ru.encrypted {
						if c.App != model.AppEtcdPeer || c.Etcd == nil || c.Etcd.Stream == "" {
							t.Errorf("stream %d %s -> %s: app %q, not read as etcd peer traffic", c.Stream, c.Client, c.Server, c.App)
						} else if c.Etcd.Error != "" {
							t.Errorf("stream %d: decoding stopped: %s", c.Stream, c.Etcd.Error)
						}
					}
					// Between the two members the fault spared, every peer
					// connection stays healthy.
					cm, sm := nameOfAddr[hostPart(c.Client)], nameOfAddr[hostPart(c.Server)]
					if cm != "" && sm != "" && cm != tr.Faulty && sm != tr.Faulty && c.Verdict.Kind != model.KindHealthy &&
						c.Verdict.Kind != model.KindReset && c.Verdict.Kind != model.KindConnectFailed {
						// A reset or refused dial while the members start is routine.
						t.Errorf("stream %d %s -> %s between members the fault spared: %s: %s", c.Stream, c.Client, c.Server, c.Verdict.Kind, c.Verdict.Summary)
					}
				}
				watchResets := 0
				for _, g := range r.Summary.GRPC {
					if g.Reset == "CANCEL" && g.ResetBy == model.SideClient {
						if g.Method == etcdOpMethod["watch"] {
							watchResets += g.Calls
						} else {
							resets += g.Calls
						}
					}
				}
				// The client logs each call its deadline cut (context
				// deadline exceeded); a capture at one member sees the
				// calls sent to it: never more than the client logged.
				// Its watch it cancels when it stops, without an error.
				if resets > len(tr.ClientErrors) || watchResets > 1 {
					t.Errorf("%d calls and %d watches reset by the client, but it logged %d errors", resets, watchResets, len(tr.ClientErrors))
				}
				if testing.Verbose() {
					t.Logf("%s", r.Summary.Headline)
				}
			})
		}
	}
}

func hostPart(ep string) string {
	i := strings.LastIndexByte(ep, ':')
	if i < 0 {
		return ep
	}
	return strings.Trim(ep[:i], "[]")
}

// etcdClientTruth is what TestEtcdClientLab reads of etcd-client-blackhole's
// truth.json: each client's dials ("time local -> server") and errors.
type etcdClientTruth struct {
	Dials  map[string][]string `json:"client_dials"`
	Errors []struct {
		Client string    `json:"client"`
		Time   time.Time `json:"time"`
		Code   string    `json:"grpc_code"`
		Msg    string    `json:"msg"`
	} `json:"client_errors"`
}

// dialLocal is a client_dials entry's local address.
func dialLocal(s string) string {
	f := strings.Fields(s)
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

// TestEtcdClientLab: two clientv3 clients (grpc-go keepalive 10 s / 3 s)
// black-holed server->client. In both captures the idle client's
// connection is a lost keepalive PING it abandoned (ended_by
// keepalive_ping), tied to its redial; the busy client's is abandoned with
// no PING (ended_by tcp_user_timeout) at the moment its client logged
// "connection timed out", within 100 ms; no other connection lost a PING.
func TestEtcdClientLab(t *testing.T) {
	dir := filepath.Join("..", "testdata", "pcaps", "etcd-client-blackhole")
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Skip("no etcd-client-blackhole capture")
	}
	var tr etcdClientTruth
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	idle, busy := tr.Dials["client-idle"], tr.Dials["client-busy"]
	if len(idle) < 2 || len(busy) < 1 {
		t.Fatalf("dials: %v", tr.Dials)
	}
	var timedOut time.Time
	for _, e := range tr.Errors {
		if e.Client == "client-busy" && strings.Contains(e.Msg, "connection timed out") {
			timedOut = e.Time
		}
	}
	if timedOut.IsZero() {
		t.Fatal("the busy client logged no \"connection timed out\"")
	}
	for _, capture := range []string{"client.pcap", "server.pcap"} {
		t.Run(capture, func(t *testing.T) {
			var notices []model.Notice
			r, _ := runPath(t, filepath.Join(dir, capture), Options{OnNotice: func(n *model.Notice) { notices = append(notices, *n) }})
			byClient := map[string]*model.Connection{}
			for _, c := range r.Connections {
				byClient[c.Client] = c
			}
			ic, bc := byClient[dialLocal(idle[0])], byClient[dialLocal(busy[0])]
			if ic == nil || bc == nil {
				t.Fatalf("the clients' first connections (%s, %s) not in the capture", dialLocal(idle[0]), dialLocal(busy[0]))
			}
			if v := ic.Verdict; v.Kind != model.KindLostPing || v.EndedBy != model.EndedKeepalivePing || v.Abandoned == nil {
				t.Errorf("idle client: %s ended_by %q abandoned %v: %s", v.Kind, v.EndedBy, v.Abandoned, v.Summary)
			}
			if ic.Redial == nil || ic.Redial.Client != dialLocal(idle[1]) {
				t.Errorf("idle client: redial %+v, want its second dial %s", ic.Redial, dialLocal(idle[1]))
			}
			v := bc.Verdict
			if v.EndedBy != model.EndedUserTimeout || v.Abandoned == nil {
				t.Fatalf("busy client: %s ended_by %q: %s", v.Kind, v.EndedBy, v.Summary)
			}
			if d := v.Abandoned.Time.Sub(timedOut).Abs(); d > etcdLogSlack {
				t.Errorf("busy client abandoned at %s, it logged the timeout at %s", v.Abandoned.Time, timedOut)
			}
			if bc.Redial == nil || bc.Redial.Stream == ic.Redial.Stream {
				t.Errorf("busy client: redial %+v", bc.Redial)
			}
			if capture == "server.pcap" {
				for _, c := range []*model.Connection{ic, bc} {
					if c.Verdict.LossDirection != model.LossServerToClient {
						t.Errorf("%s: loss %s, want server_to_client: %s", c.Client, c.Verdict.LossDirection, c.Verdict.Summary)
					}
				}
			}
			for _, c := range r.Connections {
				if c != ic && c.Verdict.Kind == model.KindLostPing {
					t.Errorf("%s: lost_ping: %s", c.Client, c.Verdict.Summary)
				}
			}
			// Live tells each abandonment as the redial opens: the same
			// mechanism, redial and moment as the report, nothing more.
			told := map[int]model.Notice{}
			for _, n := range findingsOf(notices, model.NoticeAbandoned) {
				if _, dup := told[n.Stream]; dup {
					t.Errorf("stream %d: abandonment told twice", n.Stream)
				}
				told[n.Stream] = n
			}
			for _, c := range r.Connections {
				n, ok := told[c.Stream]
				v := c.Verdict
				if !ok {
					if v.Abandoned != nil {
						t.Errorf("%s: abandoned (%s) at %s, not told live", c.Client, v.EndedBy, v.Abandoned.Time)
					}
					continue
				}
				if v.Abandoned == nil || n.EndedBy != v.EndedBy || c.Redial == nil || n.Redial != c.Redial.Stream ||
					!n.Time.Equal(v.Abandoned.Time) || !n.Finding() || n.From != model.SideClient {
					t.Errorf("%s: told %+v; the report: ended_by %q abandoned %v redial %+v", c.Client, n, v.EndedBy, v.Abandoned, c.Redial)
				}
			}
			if len(told) != 2 {
				t.Errorf("%d abandonments told live, want the idle and the busy client's", len(told))
			}
			if testing.Verbose() {
				t.Logf("idle: %s\nbusy: %s", ic.Verdict.Summary, bc.Verdict.Summary)
				for _, n := range told {
					t.Logf("live: %s", n.Text)
				}
			}
		})
	}
}

// etcdGRPCTruth is what TestEtcdGRPCStatusLab reads of a client-side etcd
// scenario's truth.json: the client's logged errors and what the
// scenario is for.
type etcdGRPCTruth struct {
	Scenario string `json:"scenario"`
	Errors   []struct {
		Op   string `json:"op"`
		Code string `json:"grpc_code"`
		Msg  string `json:"msg"`
	} `json:"client_errors"`
	Expect struct {
		GRPC string `json:"grpc"`
	} `json:"expect"`
}

// etcdOpMethod is the gRPC method each operation of lab/etcd's client
// calls.
var etcdOpMethod = map[string]string{"put": "/etcdserverpb.KV/Put", "watch": "/etcdserverpb.Watch/Watch"}

// TestEtcdGRPCStatusLab holds summary.grpc to the client's own log, in
// the client's and in the member's capture (h2c: HPACK decodes every
// trailer): per method, code and message, the calls that ended with a
// grpc-status other than OK are exactly the errors the client logged with
// that code and message ("etcdserver: no leader"); the calls the client
// reset (RST_STREAM CANCEL, no status) are exactly those it logged as
// DeadlineExceeded, plus at most the one Watch it cancels when it stops
// (not an error, not logged); the live grpc_call notices count the same;
// and the headline counts the refusals.
func TestEtcdGRPCStatusLab(t *testing.T) {
	for _, lt := range readLabTruths[etcdGRPCTruth](t, "etcd-*") {
		tr := lt.truth
		if tr.Expect.GRPC == "" {
			continue
		}
		type key struct{ method, code, msg string }
		want := map[key]int{}
		wantResets := map[string]int{}
		for _, e := range tr.Errors {
			m := etcdOpMethod[e.Op]
			if m == "" {
				t.Fatalf("%s: client error of op %q", tr.Scenario, e.Op)
			}
			if e.Code == "DeadlineExceeded" {
				wantResets[m]++ // the client's deadline: RST_STREAM CANCEL, no status
				continue
			}
			want[key{m, e.Code, e.Msg}]++
		}
		if len(want) == 0 {
			t.Fatalf("%s: the client logged no gRPC status", tr.Scenario)
		}
		for _, capture := range []string{"client.pcap", "server.pcap"} {
			t.Run(tr.Scenario+"/"+capture, func(t *testing.T) {
				var notices []model.Notice
				r, _ := runPath(t, filepath.Join(filepath.Dir(lt.path), capture),
					Options{OnNotice: func(n *model.Notice) { notices = append(notices, *n) }})
				got := map[key]int{}
				gotResets := map[string]int{}
				for _, g := range r.Summary.GRPC {
					switch {
					case g.Code != "" && g.Code != "OK":
						got[key{g.Method, g.Code, g.Message}] += g.Calls
					case g.Reset == "CANCEL" && g.ResetBy == model.SideClient:
						gotResets[g.Method] += g.Calls
					}
				}
				for k, n := range want {
					if got[k] != n {
						t.Errorf("%s %s %q: %d calls in summary.grpc, the client logged %d", k.method, k.code, k.msg, got[k], n)
					}
				}
				for k, n := range got {
					if _, ok := want[k]; !ok {
						t.Errorf("%s %s %q: %d calls in summary.grpc, the client logged none", k.method, k.code, k.msg, n)
					}
				}
				for _, m := range []string{etcdOpMethod["put"], etcdOpMethod["watch"]} {
					extra := 0
					if m == etcdOpMethod["watch"] {
						extra = 1 // the watch open when the client stops
					}
					if g, w := gotResets[m], wantResets[m]; g < w || g > w+extra {
						t.Errorf("%s: %d calls reset by the client, it logged %d deadlines", m, g, w)
					}
				}
				// Live counts the same calls as they end.
				live := map[key]int{}
				for _, n := range notices {
					if n.Kind == model.NoticeGRPCCall && n.Code != "OK" && !strings.HasPrefix(n.Code, "RST_STREAM") {
						live[key{n.Method, n.Code, ""}]++
					}
				}
				for k, n := range want {
					if l := live[key{k.method, k.code, ""}]; l != n {
						t.Errorf("%s %s: %d grpc_call notices, the client logged %d", k.method, k.code, l, n)
					}
				}
				for k, n := range want {
					short := strings.TrimPrefix(k.method, "/etcdserverpb.")
					if s := fmt.Sprintf("%d %s calls failed: %s, %s", n, short, k.code, k.msg); !strings.Contains(r.Summary.Headline, s) {
						t.Errorf("headline %q does not say %q", r.Summary.Headline, s)
					}
				}
				if testing.Verbose() {
					t.Logf("%s", r.Summary.Headline)
				}
			})
		}
	}
}

// becameAt is when the etcd member whose raft log (its JSON lines, as
// the lab keeps them) is path first became anything at term: "became
// follower at term 3", "became leader at term 3"; ok false if its log
// says neither (or there is no log).
func becameAt(t *testing.T, path string, term uint64) (time.Time, bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, false
	}
	suffix := fmt.Sprintf(" at term %d", term)
	for _, line := range strings.Split(string(b), "\n") {
		var l struct {
			TS  time.Time `json:"ts"`
			Msg string    `json:"msg"`
		}
		if json.Unmarshal([]byte(line), &l) != nil || !strings.Contains(l.Msg, " became ") || !strings.HasSuffix(l.Msg, suffix) {
			continue
		}
		return l.TS, true
	}
	return time.Time{}, false
}
