package verdict

import (
	"strings"
	"testing"

	"github.com/h2pcap/h2pcap/model"
)

// Three members: a (10.0.1.1), b (10.0.2.1), c (10.0.3.1). a leads term 7
// until b wins term 8 at 2 s.
const (
	idA, idB, idC = "a1", "b2", "c3"
	ipA, ipB, ipC = "10.0.1.1", "10.0.2.1", "10.0.3.1"
)

func mo(ms int) model.Moment { return model.Moment{Frame: ms, Time: at(ms)} }

func run(typ, from, to string, term uint64, first, last int) model.RaftRun {
	return model.RaftRun{Type: typ, From: from, To: to, Term: term, Count: 1 + (last-first)/100, First: mo(first), Last: mo(last)}
}

// peerConn is a message stream: client dialled server, server's messages
// flow to the client.
func peerConn(clientIP, clientID, serverIP, serverID string, kind model.Kind, retrans int, runs ...model.RaftRun) *model.Connection {
	return &model.Connection{
		Client: clientIP + ":40000", Server: serverIP + ":2380", App: model.AppEtcdPeer,
		TCP:     model.TCPStats{ClientToServer: model.DirStats{Packets: 100, Retransmissions: retrans}, ServerToClient: model.DirStats{Packets: 100}},
		Etcd:    &model.EtcdPeer{Stream: model.EtcdStreamMessage, ClientMember: clientID, ServerMember: serverID, Runs: runs},
		Verdict: &model.Verdict{Kind: kind},
	}
}

func TestEtcd(t *testing.T) {
	tests := []struct {
		name  string
		conns []*model.Connection
		// want: the election's words in the headline, and the faulty
		// member's address ("" for none).
		words  []string
		faulty string
	}{
		{"a's heartbeats unanswered, b wins; every pair through a lossy", []*model.Connection{
			// a -> b heartbeats on the stream b dialled to a; b's answers on the one a dialled to b.
			peerConn(ipB, idB, ipA, idA, model.KindDegraded, 20, run("MsgHeartbeat", idA, idB, 7, 0, 1900)),
			peerConn(ipA, idA, ipB, idB, model.KindDegraded, 20, run("MsgHeartbeatResp", idB, idA, 7, 0, 800),
				run("MsgVote", idB, idA, 8, 1990, 1990), run("MsgHeartbeat", idB, idA, 8, 2000, 3000)),
			peerConn(ipC, idC, ipA, idA, model.KindDegraded, 20, run("MsgHeartbeat", idA, idC, 7, 0, 1900)),
			peerConn(ipA, idA, ipC, idC, model.KindDegraded, 20, run("MsgHeartbeatResp", idC, idA, 7, 0, 700)),
			peerConn(ipB, idB, ipC, idC, model.KindHealthy, 0, run("MsgVoteResp", idC, idB, 8, 1995, 1995)),
			peerConn(ipC, idC, ipB, idB, model.KindHealthy, 0, run("MsgHeartbeat", idB, idC, 8, 2001, 3000)),
		}, []string{"etcd leader changed at 10:00:02.000 (term 7 -> 8, 10.0.1.1 -> 10.0.2.1)",
			"10.0.1.1's heartbeats to 10.0.2.1 and 10.0.3.1 went unanswered for 1.3 s",
			"every etcd peer connection through 10.0.1.1 had loss", "10.0.2.1<->10.0.3.1 clean"}, ipA},
		{"without the stream back from the follower nothing is said of answers", []*model.Connection{
			peerConn(ipB, idB, ipA, idA, model.KindHealthy, 0, run("MsgHeartbeat", idA, idB, 7, 0, 1900)),
			peerConn(ipC, idC, ipB, idB, model.KindHealthy, 0, run("MsgHeartbeat", idB, idC, 8, 2000, 3000)),
		}, []string{"etcd leader changed at 10:00:02.000 (term 7 -> 8, 10.0.1.1 -> 10.0.2.1)"}, ""},
		{"heartbeats that stopped passing the capture point", []*model.Connection{
			peerConn(ipB, idB, ipA, idA, model.KindDegraded, 20, run("MsgHeartbeat", idA, idB, 7, 0, 1000), run("MsgHeartbeat", idA, idB, 7, 2600, 2700)),
			peerConn(ipA, idA, ipB, idB, model.KindDegraded, 20, run("MsgHeartbeatResp", idB, idA, 7, 0, 1000), run("MsgHeartbeat", idB, idA, 8, 2000, 3000)),
		}, []string{"no heartbeat from 10.0.1.1 to 10.0.2.1 passed this capture point for 1.0 s"}, ""},
		{"one leader throughout: no election, nothing said", []*model.Connection{
			peerConn(ipB, idB, ipA, idA, model.KindHealthy, 0, run("MsgHeartbeat", idA, idB, 7, 0, 1900)),
			peerConn(ipA, idA, ipB, idB, model.KindHealthy, 0, run("MsgHeartbeatResp", idB, idA, 7, 0, 1900)),
		}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Etcd(tt.conns)
			if e == nil {
				t.Fatal("no summary.etcd")
			}
			w := EtcdWords(e, nil)
			for _, s := range tt.words {
				if !strings.Contains(w, s) {
					t.Errorf("words %q, want them to say %q", w, s)
				}
			}
			if tt.words == nil && (w != "" || len(e.Elections) != 0) {
				t.Errorf("words %q, elections %+v: want none", w, e.Elections)
			}
			got := ""
			if e.Faulty != nil {
				got = e.Faulty.Address
			}
			if got != tt.faulty {
				t.Errorf("faulty %q, want %q", got, tt.faulty)
			}
			for _, el := range e.Elections {
				if len(el.Evidence) == 0 || el.Evidence[0].Note == "" {
					t.Errorf("election %d without evidence", el.Term)
				}
			}
		})
	}
	if Etcd([]*model.Connection{testConn(100)}) != nil {
		t.Error("summary.etcd without etcd peer connections")
	}
}

// TestEtcdWordsPoint: heartbeats that stopped are said of the capture
// point whose capture lists their connection when there are several
// (pointOf), of "this capture point" with one.
func TestEtcdWordsPoint(t *testing.T) {
	// onInput is r seen in input in.
	onInput := func(r model.RaftRun, in int) model.RaftRun {
		r.First.Input, r.Last.Input = in, in
		return r
	}
	// a leads term 7; its heartbeats to b (on input inB) and to c (on
	// input inC) stop at 1000; b wins term 8 at 2000.
	conns := func(inB, inC int) []*model.Connection {
		return []*model.Connection{
			peerConn(ipB, idB, ipA, idA, model.KindDegraded, 20, onInput(run("MsgHeartbeat", idA, idB, 7, 0, 1000), inB)),
			peerConn(ipA, idA, ipB, idB, model.KindDegraded, 20, run("MsgHeartbeatResp", idB, idA, 7, 0, 1000), run("MsgHeartbeat", idB, idA, 8, 2000, 3000)),
			peerConn(ipC, idC, ipA, idA, model.KindDegraded, 20, onInput(run("MsgHeartbeat", idA, idC, 7, 0, 1000), inC)),
			peerConn(ipA, idA, ipC, idC, model.KindDegraded, 20, run("MsgHeartbeatResp", idC, idA, 7, 0, 1000)),
			peerConn(ipC, idC, ipB, idB, model.KindHealthy, 0, run("MsgHeartbeat", idB, idC, 8, 2001, 3000)),
		}
	}
	names := map[int]string{0: "m1", 1: "m1", 2: "m2"} // m1's capture is two files
	pointOf := func(in int) string { return names[in] }
	tests := []struct {
		name     string
		inB, inC int
		pointOf  func(int) string
		want     string
	}{
		{"one point", 0, 0, nil, "no heartbeat from 10.0.1.1 to 10.0.2.1 and 10.0.3.1 passed this capture point for 1.0 s"},
		{"both at one point, two of its files", 0, 1, pointOf, "no heartbeat from 10.0.1.1 to 10.0.2.1 and 10.0.3.1 passed capture point m1 for 1.0 s"},
		{"at two points", 0, 2, pointOf, "no heartbeat from 10.0.1.1 to 10.0.2.1 and 10.0.3.1 passed capture points m1 and m2 for 1.0 s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Etcd(conns(tt.inB, tt.inC))
			if e == nil {
				t.Fatal("no summary.etcd")
			}
			if w := EtcdWords(e, tt.pointOf); !strings.Contains(w, tt.want) {
				t.Errorf("words %q, want them to say %q", w, tt.want)
			}
		})
	}
}

func TestGRPC(t *testing.T) {
	c1, c2 := testConn(100), testConn(100)
	c1.HTTP2 = &model.HTTP2{GRPC: []model.GRPCCount{
		{Method: "/etcdserverpb.KV/Put", Code: "OK", Status: "0", Calls: 10},
		{Method: "/etcdserverpb.Watch/Watch", Code: "Unavailable", Status: "14", Message: "etcdserver: no leader", Calls: 2},
	}}
	c2.HTTP2 = &model.HTTP2{GRPC: []model.GRPCCount{
		{Method: "/etcdserverpb.Watch/Watch", Code: "Unavailable", Status: "14", Message: "etcdserver: no leader", Calls: 40},
		{Method: "/etcdserverpb.KV/Put", Reset: "CANCEL", ResetBy: model.SideClient, Calls: 8},
	}}
	got := GRPC([]*model.Connection{c1, c2, testConn(100)})
	want := []model.GRPCCount{
		{Method: "/etcdserverpb.Watch/Watch", Code: "Unavailable", Status: "14", Message: "etcdserver: no leader", Calls: 42},
		{Method: "/etcdserverpb.KV/Put", Code: "OK", Status: "0", Calls: 10},
		{Method: "/etcdserverpb.KV/Put", Reset: "CANCEL", ResetBy: model.SideClient, Calls: 8},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: %+v, want %+v", i, got[i], want[i])
		}
	}
	w := grpcWords(got)
	for _, s := range []string{"42 Watch/Watch calls failed: Unavailable, etcdserver: no leader", "8 KV/Put calls reset by the client (CANCEL, no status)"} {
		if !strings.Contains(w, s) {
			t.Errorf("words %q, want %q", w, s)
		}
	}
	if strings.Contains(w, "OK") {
		t.Errorf("words %q name calls that succeeded", w)
	}
}

// TestTooManyPingsRedial: the GOAWAY too_many_pings connection is tied to
// the client's next connection, and the words give both PING intervals.
func TestTooManyPingsRedial(t *testing.T) {
	pings := func(from int, every int, n int) []model.Ping {
		var ps []model.Ping
		for i := range n {
			ps = append(ps, model.Ping{Frame: from + i, From: model.SideClient, Sender: model.PingGRPCKeepalive, Time: at(from*10 + i*every), Acked: true})
		}
		return ps
	}
	old := testConn(30000)
	old.HTTP2 = &model.HTTP2{Pings: pings(1, 10000, 3)}
	old.Verdict = &model.Verdict{Kind: model.KindGoaway, Suspects: []model.Suspect{model.SuspectTooManyPings}}
	redial := testConn(75000)
	redial.Stream, redial.Client, redial.Start = 1, "10.0.0.1:40002", at(30020)
	redial.HTTP2 = &model.HTTP2{Pings: pings(3002, 20000, 3)}
	redial.Verdict = &model.Verdict{Kind: model.KindHealthy}
	other := testConn(75000)
	other.Stream, other.Client, other.Start = 2, "10.0.0.9:40000", at(30010) // another client
	other.Verdict = &model.Verdict{Kind: model.KindHealthy}
	conns := []*model.Connection{old, other, redial}
	linkRedials(conns, newStartIndex(conns, nil))
	if old.Redial == nil || old.Redial.Stream != 1 || old.Redial.AfterMs != 20 {
		t.Fatalf("redial %+v", old.Redial)
	}
	if redial.Redial != nil || other.Redial != nil {
		t.Errorf("healthy connections tied to redials: %+v %+v", redial.Redial, other.Redial)
	}
	w := strings.Join(tooManyPingsWords(conns), "; ")
	for _, s := range []string{"10.0.0.100:6443 sent GOAWAY too_many_pings to a client pinging every 10 s", "redialled at once (stream 1)",
		"pinged every 20 s there (grpc-go doubles its keepalive time"} {
		if !strings.Contains(w, s) {
			t.Errorf("words %q, want %q", w, s)
		}
	}
}

// TestAbandoned: a connection whose client data went unanswered and whose
// client then dialled the same server is abandoned at the redial: by its
// keepalive PING when one went unanswered, else by TCP_USER_TIMEOUT; not
// when the client sent new data on it after the redial began.
func TestAbandoned(t *testing.T) {
	tests := []struct {
		name    string
		ping    bool // an unanswered grpc-go keepalive PING
		grpc    bool // HTTP/2 decoded from the preface, gRPC calls seen
		newData int  // ms of the client's last new data (0: before the redial)
		want    model.EndedBy
	}{
		{"gRPC client, data unanswered, no PING: TCP_USER_TIMEOUT", false, true, 0, model.EndedUserTimeout},
		{"keepalive PING unanswered", true, false, 0, model.EndedKeepalivePing},
		{"new data after the redial: still in use", false, true, 5500, ""},
		{"frames unknown (TLS not decrypted): no mechanism claimed", false, false, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := testConn(6000)
			old.Verdict = &model.Verdict{Kind: model.KindSilent, Summary: "Traffic stopped."}
			if tt.ping {
				old.Verdict.Kind = model.KindLostPing
				old.HTTP2 = &model.HTTP2{Pings: []model.Ping{{Frame: 200, Time: at(2000), From: model.SideClient, Sender: model.PingGRPCKeepalive}}}
			}
			if tt.grpc {
				old.HTTP2 = &model.HTTP2{Detected: "preface", GRPC: []model.GRPCCount{{Method: "/etcdserverpb.KV/Put", Code: "OK", Status: "0", Calls: 3}},
					Pings: []model.Ping{{Frame: 50, Time: at(500), From: model.SideClient, Sender: model.PingGRPCBDP, Acked: true}}}
			}
			f := testFacts()
			f.Dir[model.ClientToServer].Stall = SegRef{Frame: 100, Time: at(1000)}
			last := mark(100)
			if tt.newData > 0 {
				last = SegRef{Frame: 500, Time: at(tt.newData)}
			}
			f.Dir[model.ClientToServer].Last = []SegRef{last}
			next := testConn(9000)
			next.Stream, next.Client, next.Start, next.FirstFrame = 1, "10.0.0.1:40002", at(5000), 300
			next.Verdict = &model.Verdict{Kind: model.KindHealthy}
			conns := []*model.Connection{old, next}
			abandoned(conns, []*Facts{f, testFacts()}, newStartIndex(conns, nil))
			v := old.Verdict
			if v.EndedBy != tt.want {
				t.Fatalf("ended_by %q, want %q: %s", v.EndedBy, tt.want, v.Summary)
			}
			if tt.want == "" {
				if v.Abandoned != nil || old.Redial != nil {
					t.Errorf("abandoned %v, redial %v", v.Abandoned, old.Redial)
				}
				return
			}
			if v.Abandoned == nil || v.Abandoned.Frame != 300 || old.Redial == nil || old.Redial.Stream != 1 {
				t.Errorf("abandoned %v, redial %+v", v.Abandoned, old.Redial)
			}
			if !strings.Contains(v.Summary, "stream 1, frame 300") {
				t.Errorf("summary %q does not name the redial", v.Summary)
			}
		})
	}
}

// TestEtcdEncrypted: TLS to the peer port, not decrypted: counted, the
// pairs and the faulty member from TCP alone, no leaders claimed.
func TestEtcdEncrypted(t *testing.T) {
	tlsConn := func(client, server string, kind model.Kind, retrans int) *model.Connection {
		c := peerConn(client, "", server, "", kind, retrans)
		c.Etcd, c.App, c.TLS = nil, "tls", &model.TLS{NoH2: true}
		return c
	}
	conns := []*model.Connection{
		tlsConn(ipB, ipA, model.KindDegraded, 30),
		tlsConn(ipA, ipC, model.KindDegraded, 30),
		tlsConn(ipB, ipC, model.KindHealthy, 0),
		testConn(100), // not the peer port
	}
	e := Etcd(conns)
	if e == nil || e.Encrypted != 3 || len(e.Leaders) != 0 || e.Faulty == nil || e.Faulty.Address != ipA {
		t.Fatalf("%+v", e)
	}
	w := EtcdWords(e, nil)
	for _, s := range []string{"etcd peer traffic in TLS, not decrypted (3 connections to port 2380)", "every etcd peer connection through 10.0.1.1 had loss"} {
		if !strings.Contains(w, s) {
			t.Errorf("words %q, want %q", w, s)
		}
	}
	if strings.Contains(w, "leader changed") {
		t.Errorf("words %q claim an election", w)
	}
}
