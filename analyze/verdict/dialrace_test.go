package verdict

import (
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/model"
)

// raceConn is a decrypted h2 connection from 10.0.0.1:port to
// 10.0.0.100:443 opened (SYN, frame synFrame) at at(startMs), with
// requests (HEADERS from the client) or not, and its facts: the client's
// last record at at(lastMs) and, gapMs after it, the first close, by the
// client (clientRST: an RST) or by the server.
func raceConn(stream, port, startMs, lastMs, gapMs int, requests, clientCloses, clientRST bool) (*model.Connection, *Facts) {
	c := testConn(lastMs + gapMs + 10)
	c.Stream, c.Client, c.Server = stream, "10.0.0.1:"+itoa(port), "10.0.0.100:443"
	c.Start, c.FirstFrame = at(startMs), stream*100+1
	c.App = "h2"
	c.TLS = &model.TLS{Version: "TLS 1.3", ALPN: "h2", Decrypted: true}
	if requests {
		c.HTTP2 = &model.HTTP2{Frames: map[model.Direction]map[string]int{model.ClientToServer: {"SETTINGS": 1, "HEADERS": 3}}}
	}
	f := testFacts()
	last := SegRef{Frame: stream*100 + 50, Time: at(lastMs), Len: 24}
	f.Dir[model.ClientToServer].Last = []SegRef{{Frame: stream*100 + 49, Time: at(lastMs), Len: 64}, last}
	closeRef := SegRef{Frame: stream*100 + 60, Time: at(lastMs + gapMs)}
	switch {
	case clientCloses && clientRST:
		f.Dir[model.ClientToServer].RST = closeRef
	case clientCloses:
		f.Dir[model.ClientToServer].FIN = closeRef
	default:
		f.Dir[model.ServerToClient].FIN = closeRef
	}
	return c, f
}

func itoa(n int) string {
	b := []byte{}
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestDialRaceSpares(t *testing.T) {
	type conn struct {
		startMs, lastMs, gapMs        int
		requests, clientCloses, isRST bool
	}
	kept := conn{0, 5000, 1, true, true, false}
	tests := []struct {
		name  string
		conns []conn
		want  []int
	}{
		// What the lab shows: the client's close_notify, the server's
		// FIN answering it.
		{"spares closed by the client's close_notify, the server's FIN after", []conn{kept, {1, 12, 1, false, false, false}, {2, 13, 1, false, false, false}}, []int{-1, 0, 0}},
		{"a spare closed by the client's RST (the server's SETTINGS unread)", []conn{kept, {1, 12, 1, false, true, true}}, []int{-1, 0}},
		{"the spare dialed first, the kept one during its handshake", []conn{{5, 5000, 1, true, true, false}, {0, 12, 1, false, true, false}}, []int{-1, 0}},
		// Not a race: nothing was dialed with it, or nothing was kept.
		{"alone: no connection dialed with it", []conn{{0, 12, 1, false, true, false}}, []int{-1}},
		{"the other was dialed long after", []conn{{0, 12, 1, false, true, false}, {3000, 9000, 1, true, true, false}}, []int{-1, -1}},
		{"neither carried a request", []conn{{0, 12, 1, false, true, false}, {1, 13, 1, false, true, false}}, []int{-1, -1}},
		{"both carried requests", []conn{kept, {1, 3000, 1, true, true, false}}, []int{-1, -1}},
		// Not at once.
		{"closed 4 s after its SYN: not at once", []conn{kept, {1, 4001, 1, false, true, false}}, []int{-1, -1}},
		{"the server closed first, 300 ms after the client's last record: not an answer to it", []conn{kept, {1, 12, 300, false, false, false}}, []int{-1, -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var conns []*model.Connection
			var facts []*Facts
			for i, x := range tt.conns {
				c, f := raceConn(i, 40000+i, x.startMs, x.lastMs, x.gapMs, x.requests, x.clientCloses, x.isRST)
				conns, facts = append(conns, c), append(facts, f)
			}
			got := DialRaceSpares(conns, facts)
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("kept %v, want %v", got, tt.want)
					break
				}
			}
		})
	}
}

// Without the key log the record sizes tell: a TLS 1.3 client's Finished
// and a 24-byte alert hold no request; a bigger last record, a third
// record, or a version whose records say nothing may.
func TestDialRaceSpareWithoutKeys(t *testing.T) {
	for _, tt := range []struct {
		name             string
		version          string
		offered          []string
		records, lastLen int
		keptRecords      int
		want             int
	}{
		{"TLS 1.3: Finished and close_notify", "TLS 1.3", []string{"h2", "http/1.1"}, 2, 24, 18, 0},
		{"TLS 1.3: Finished alone", "TLS 1.3", []string{"h2"}, 1, 58, 18, 0},
		{"TLS 1.2: no application data", "TLS 1.2", []string{"h2"}, 0, 0, 5, 0},
		{"TLS 1.3: a last record that could hold the preface", "TLS 1.3", []string{"h2"}, 2, 80, 18, -1},
		{"TLS 1.3: three records", "TLS 1.3", []string{"h2"}, 3, 24, 18, -1},
		{"TLS 1.2: application data", "TLS 1.2", []string{"h2"}, 1, 24, 5, -1},
		{"h2 not offered", "TLS 1.3", []string{"http/1.1"}, 2, 24, 18, -1},
		{"the other carried nothing either", "TLS 1.3", []string{"h2"}, 2, 24, 2, -1},
		{"unknown version", "", []string{"h2"}, 2, 24, 18, -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k, kf := raceConn(0, 40000, 0, 5000, 1, true, true, false)
			s, sf := raceConn(1, 40001, 1, 12, 1, false, true, true)
			k.HTTP2 = nil
			k.TLS = &model.TLS{Version: tt.version, ALPNOffered: tt.offered, ClientAppRecords: tt.keptRecords, ClientAppLastLen: 24}
			s.TLS = &model.TLS{Version: tt.version, ALPNOffered: tt.offered, ClientAppRecords: tt.records, ClientAppLastLen: tt.lastLen}
			if got := DialRaceSpares([]*model.Connection{k, s}, []*Facts{kf, sf}); got[1] != tt.want {
				t.Errorf("kept %v, want [-1 %d]", got, tt.want)
			}
		})
	}
}

func TestJudgeReportDialRace(t *testing.T) {
	k, kf := raceConn(0, 40000, 0, 5000, 1, true, true, false)
	s, sf := raceConn(1, 40001, 1, 12, 1, false, true, true)
	r := &model.Report{Connections: []*model.Connection{k, s}}
	JudgeReport(r, []*Facts{kf, sf}, nil)
	v := s.Verdict
	if v.Kind != model.KindHealthy || !v.DialRaceSpare || k.Verdict.DialRaceSpare {
		t.Fatalf("spare %s %v, kept %v: %s", v.Kind, v.DialRaceSpare, k.Verdict.DialRaceSpare, v.Summary)
	}
	for _, w := range []string{"A spare connection of a dial race, closed by the client at once", "with stream 0", "12 ms after its SYN", "Its RST (frame 160)"} {
		if !contains(v.Summary, w) {
			t.Errorf("summary %q: no %q", v.Summary, w)
		}
	}
	if r.Summary.ProblemConnections != 0 || r.Summary.DialRaceSpares != 1 {
		t.Errorf("summary %+v", r.Summary)
	}
	if want := "All 2 connections healthy; 1 spare connection of a dial race, closed by the client at once (benign)."; r.Summary.Headline != want {
		t.Errorf("headline %q\nwant %q", r.Summary.Headline, want)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// SpareSoFar: the live notices' reading of the same rule, at the
// client's close, from the connections still open.
func TestSpareSoFar(t *testing.T) {
	spare := &model.TLS{Version: "TLS 1.3", ALPNOffered: []string{"h2"}, ClientAppRecords: 2, ClientAppLastLen: 24}
	used := &model.TLS{Version: "TLS 1.3", ALPNOffered: []string{"h2"}, ClientAppRecords: 6, ClientAppLastLen: 90}
	decrypted := &model.TLS{Version: "TLS 1.3", ALPN: "h2", Decrypted: true}
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	for _, tt := range []struct {
		name   string
		t      *model.TLS
		frames bool
		life   time.Duration
		others []SpareSibling
		want   bool
	}{
		{"record sizes: a spare, its sibling sent requests", spare, false, ms(12), []SpareSibling{{TLS: used, Gap: ms(1)}}, true},
		{"decrypted: no frame from the client, the sibling sent its preface", decrypted, false, ms(12), []SpareSibling{{TLS: decrypted, ClientFrames: true, Gap: ms(3)}}, true},
		{"decrypted: the client sent frames", decrypted, true, ms(12), []SpareSibling{{TLS: decrypted, ClientFrames: true, Gap: ms(3)}}, false},
		{"no sibling", spare, false, ms(12), nil, false},
		{"the sibling started long before", spare, false, ms(12), []SpareSibling{{TLS: used, Gap: ms(5000)}}, false},
		{"the sibling sent nothing either", spare, false, ms(12), []SpareSibling{{TLS: spare, Gap: ms(1)}}, false},
		{"closed 4 s after its start", spare, false, ms(4000), []SpareSibling{{TLS: used, Gap: ms(1)}}, false},
		{"not TLS", nil, false, ms(12), []SpareSibling{{TLS: used, Gap: ms(1)}}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := SpareSoFar(tt.t, tt.frames, tt.life, tt.others); got != tt.want {
				t.Errorf("SpareSoFar = %v, want %v", got, tt.want)
			}
		})
	}
}
