package analyze

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

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
		// Encrypted: TLS on the peer port without a key log.
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
		for _, capture := range captures {
			member := strings.TrimSuffix(filepath.Base(capture), ".pcap")
			t.Run(tr.Scenario+"/"+member, func(t *testing.T) {
				var notices []model.Notice
				r, _ := runPath(t, capture, Options{OnNotice: func(n *model.Notice) { notices = append(notices, *n) }})
				e := r.Summary.Etcd
				if e == nil {
					t.Fatalf("no summary.etcd; headline %q", r.Summary.Headline)
				}
				if tr.Expect.Encrypted {
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
					if strings.HasSuffix(c.Server, ":2380") && c.TCP.ClientToServer.Bytes > 0 {
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
				for _, g := range r.Summary.GRPC {
					if g.Reset == "CANCEL" && g.ResetBy == model.SideClient {
						resets += g.Calls
					}
				}
				// The client logs each call its deadline cut (context
				// deadline exceeded); a capture at one member sees the
				// calls sent to it: never more than the client logged.
				if resets > len(tr.ClientErrors) {
					t.Errorf("%d calls reset by the client, but it logged %d errors", resets, len(tr.ClientErrors))
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
			r := verdictReport(t, filepath.Join(dir, capture))
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
			if testing.Verbose() {
				t.Logf("idle: %s\nbusy: %s", ic.Verdict.Summary, bc.Verdict.Summary)
			}
		})
	}
}
