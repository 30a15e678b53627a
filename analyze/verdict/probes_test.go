package verdict

import (
	"net/netip"
	"reflect"
	"strconv"
	"testing"

	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
)

// probeConn is a connection from 10.0.0.1:port to 10.0.0.100:80 opened by
// a SYN (frame 1) with TTL synTTL, and its facts: answer says what came
// back ("icmp": time exceeded from 10.0.9.1 quoting the SYN; "synack":
// SYN-ACK at frame 2, the client's RST at frame 3 with TTL rstTTL;
// "rst": the server's RST; "": nothing).
func probeConn(stream, port, synTTL int, answer string, rstTTL int) (*model.Connection, *Facts) {
	c := &model.Connection{Stream: stream, Client: "10.0.0.1:" + strconv.Itoa(port), Server: "10.0.0.100:80",
		Start: at(stream * 100), End: at(stream*100 + 1), Handshake: model.Handshake{Seen: true}}
	f := &Facts{RSTGap: -1}
	cf, sf := &f.Dir[model.ClientToServer], &f.Dir[model.ServerToClient]
	cf.TTL, cf.SYNTTL, cf.SYN = synTTL, synTTL, SegRef{Frame: 1, Time: c.Start}
	switch answer {
	case "icmp":
		cf.ICMP = SegRef{Frame: 2, Time: c.End}
		cf.ICMPError = decode.ICMPError{From: netip.MustParseAddr("10.0.9.1"), Kind: decode.ICMPTimeExceeded, Type: 11}
	case "synack":
		sf.SYNAck, sf.TTL = SegRef{Frame: 2, Time: c.End}, 60
		cf.RST = SegRef{Frame: 3, Time: c.End}
		c.Events = []model.Event{{Frame: 3, Dir: model.ClientToServer, Kind: model.EvRST, TTL: rstTTL}}
	case "rst":
		sf.RST, sf.TTL = SegRef{Frame: 2, Time: c.End}, 60
	}
	return c, f
}

func TestFindProbes(t *testing.T) {
	type conn struct {
		ttl    int
		answer string
		rstTTL int
	}
	tests := []struct {
		name  string
		conns []conn
		probe []bool
		ttls  []model.ProbeTTL // of the one target; nil: no probe
	}{
		{"a traceroute round: TTL 1 expires at the router, TTL 2 reaches the server, the prober's kernel resets its SYN-ACK, one unanswered",
			[]conn{{1, "icmp", 0}, {1, "", 0}, {2, "synack", 64}, {2, "synack", 64}},
			[]bool{true, true, true, true},
			[]model.ProbeTTL{{TTL: 1, Sent: 2, ICMP: 1, Hops: []string{"10.0.9.1"}, Unanswered: 1}, {TTL: 2, Sent: 2, SYNAck: 2}}},
		// One probe alone: what it shows is enough.
		{"one probe answered by ICMP quoting its SYN", []conn{{3, "icmp", 0}}, []bool{true},
			[]model.ProbeTTL{{TTL: 3, Sent: 1, ICMP: 1, Hops: []string{"10.0.9.1"}}}},
		{"one probe whose SYN-ACK the kernel reset with its own TTL", []conn{{5, "synack", 64}}, []bool{true},
			[]model.ProbeTTL{{TTL: 5, Sent: 1, SYNAck: 1}}},
		{"probes to a closed port: the server's RST", []conn{{4, "rst", 0}, {5, "rst", 0}}, []bool{true, true},
			[]model.ProbeTTL{{TTL: 4, Sent: 1, Reset: 1}, {TTL: 5, Sent: 1, Reset: 1}}},
		// Never from what is missing: an unanswered SYN is a probe only
		// when the host walked the TTLs.
		{"one low-TTL SYN nothing answered: not a probe", []conn{{3, "", 0}}, []bool{false}, nil},
		{"the same low TTL each time, nothing answered: not a probe", []conn{{3, "", 0}, {3, "", 0}}, []bool{false, false}, nil},
		{"an RST with the SYN's own TTL: a client's, not a prober's", []conn{{20, "synack", 20}}, []bool{false}, nil},
		// Real SYNs leave with 64, 128 or 255.
		{"real SYNs refused or unanswered", []conn{{64, "rst", 0}, {63, "", 0}, {128, "synack", 128}, {62, "icmp", 0}}, []bool{false, false, false, false}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var conns []*model.Connection
			var facts []*Facts
			for i, x := range tt.conns {
				c, f := probeConn(i, 40000+i, x.ttl, x.answer, x.rstTTL)
				conns, facts = append(conns, c), append(facts, f)
			}
			probe, targets := FindProbes(conns, facts)
			if !reflect.DeepEqual(probe, tt.probe) {
				t.Errorf("probe %v, want %v", probe, tt.probe)
			}
			if tt.ttls == nil {
				if len(targets) != 0 {
					t.Errorf("targets %+v, want none", targets)
				}
				return
			}
			if len(targets) != 1 {
				t.Fatalf("targets %+v, want one", targets)
			}
			p := targets[0]
			if p.Prober != "10.0.0.1" || p.Target != "10.0.0.100:80" || p.Probes != len(conns) || len(p.Streams) != len(conns) {
				t.Errorf("target %+v", p)
			}
			if !reflect.DeepEqual(p.TTLs, tt.ttls) {
				t.Errorf("ttls %+v\nwant %+v", p.TTLs, tt.ttls)
			}
		})
	}
}

// A connection that carried data or acknowledged its SYN-ACK is a
// connection, whatever its SYN's TTL.
func TestFindProbesNotConnections(t *testing.T) {
	for _, tt := range []struct {
		name string
		set  func(*Facts)
	}{
		{"client data", func(f *Facts) { f.Dir[model.ClientToServer].DataSegs = 1 }},
		{"server data", func(f *Facts) { f.Dir[model.ServerToClient].DataSegs = 1 }},
		{"handshake completed", func(f *Facts) { f.Dir[model.ClientToServer].PlainACK = true }},
		{"no SYN seen", func(f *Facts) { f.Dir[model.ClientToServer].SYN = SegRef{} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, f := probeConn(0, 40000, 2, "icmp", 0)
			tt.set(f)
			if probe, _ := FindProbes([]*model.Connection{c}, []*Facts{f}); probe[0] {
				t.Error("taken for a probe")
			}
		})
	}
}

func TestJudgeReportProbes(t *testing.T) {
	real := testConn(5000)
	real.Stream = 0
	rf := testFacts()
	rf.Dir[model.ClientToServer].FIN = mark(50)
	conns, facts := []*model.Connection{real}, []*Facts{rf}
	// Probes that reached the server: a low client TTL and the server's
	// decremented one would put the capture in the middle, and they
	// outnumber the real connection: they must not count.
	for i := 1; i <= 3; i++ {
		p, f := probeConn(i, 40000+i, i+1, "synack", 64)
		conns, facts = append(conns, p), append(facts, f)
		if got := f.CapturePoint(); got != model.PointMiddle {
			t.Fatalf("a probe's own capture point %s: the test needs one that differs", got)
		}
	}
	r := &model.Report{Connections: conns}
	kept := JudgeReport(r, facts, nil)
	if !reflect.DeepEqual(kept, []int{0}) || len(r.Connections) != 1 || r.Connections[0] != real {
		t.Fatalf("kept %v, connections %d", kept, len(r.Connections))
	}
	if r.CapturePoint != model.PointClient {
		t.Errorf("capture point %s, want client (the real connection's)", r.CapturePoint)
	}
	s := r.Summary
	if s.Connections != 1 || s.ProblemConnections != 0 || len(s.Probes) != 1 || s.Probes[0].Probes != 3 {
		t.Errorf("summary %+v", s)
	}
	if want := "All 1 connections healthy; 3 traceroute probes from 10.0.0.1 to 10.0.0.100:80 counted apart, not as connections."; s.Headline != want {
		t.Errorf("headline %q\nwant %q", s.Headline, want)
	}
}
