package verdict

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/model"
)

// dirTrack.late: a packet whose IPv4 ID is behind the newest its side
// sent, shortly after it, from a side that numbers its packets, was sent
// before packets already seen (a delayed original or a copy); further
// behind, or long after, the side's counter started again.
func TestIPIDLate(t *testing.T) {
	type pkt struct {
		id uint16
		ms int64
	}
	run := func(from uint16, n int) []pkt {
		var ps []pkt
		for i := range n {
			ps = append(ps, pkt{from + uint16(i), int64(i)})
		}
		return ps
	}
	tests := []struct {
		name string
		pkts []pkt
		want string // the marks, one per packet
	}{
		{"a counter, then an older ID within the window", append(run(100, 6), pkt{102, 7}, pkt{106, 8}), "......L."},
		{"the newest ID again: a copy", append(run(100, 6), pkt{105, 7}), "......L"},
		{"the newest ID again long after: the counter started again", append(run(100, 6), pkt{105, 2_000}), "......."},
		{"no counter seen: the same ID again", []pkt{{9000, 0}, {300, 1}, {300, 2}}, "..."},
		{"no counter seen: random IDs", []pkt{{9000, 0}, {300, 1}, {51000, 2}, {200, 3}}, "...."},
		{"an ID of 0 says nothing", append(run(100, 6), pkt{0, 7}), "......."},
		{"long after the newest: the counter started again", append(run(5000, 6), pkt{2000, 30_000}, pkt{2001, 30_400}, pkt{2002, 31_200}), "........."},
		{"far behind: the counter started again", append(run(5000, 6), pkt{5000 - lateIPIDWindow, 7}, pkt{5001 - lateIPIDWindow, 8}), "........"},
		{"the counter wraps", append(run(65533, 6), pkt{65534, 7}), "......L"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr dirTrack
			got := ""
			for _, p := range tt.pkts {
				tr.markLate = false
				tr.ipv4(p.id, false, p.ms*int64(time.Millisecond))
				if tr.markLate {
					got += "L"
				} else {
					got += "."
				}
			}
			if got != tt.want {
				t.Errorf("marks %s, want %s (%v)", got, tt.want, fmt.Sprint(tt.pkts))
			}
		})
	}
}

// A connection whose gaps late originals filled is healthy, and its
// summary says it was reordered, with the first late fill as evidence;
// one without says nothing of it.
func TestJudgeReordered(t *testing.T) {
	s2c := model.ServerToClient
	reordered := testConn(1000,
		ev(10, s2c, model.EvLostSegment, 2000, 100),
		late(unseen(ev(11, s2c, model.EvOutOfOrder, 1000, 1000))),
		ev(20, s2c, model.EvLostSegment, 5000, 100),
		late(unseen(ev(21, s2c, model.EvOutOfOrder, 4000, 1000))),
	)
	v := Judge(reordered, testFacts(), model.PointClient, at(5000))
	if v.Kind != model.KindHealthy || !strings.Contains(v.Summary, "older IP IDs: 2 server->client") || !strings.Contains(v.Summary, "not lost") {
		t.Errorf("reordered: %s: %s", v.Kind, v.Summary)
	}
	if !slices.ContainsFunc(v.Evidence, func(e model.Evidence) bool { return e.Frame == 11 && strings.Contains(e.Note, "reordered") }) {
		t.Errorf("reordered: evidence %+v, want frame 11", v.Evidence)
	}
	lost := testConn(1000,
		ev(10, s2c, model.EvLostSegment, 2000, 100),
		unseen(ev(11, s2c, model.EvFastRetransmission, 1000, 1000)),
		ev(20, s2c, model.EvLostSegment, 5000, 100),
		unseen(ev(21, s2c, model.EvFastRetransmission, 4000, 1000)),
	)
	if v := Judge(lost, testFacts(), model.PointClient, at(5000)); v.Kind != model.KindDegraded || strings.Contains(v.Summary, "reordered") {
		t.Errorf("lost: %s: %s", v.Kind, v.Summary)
	}
}

func TestSeqSpans(t *testing.T) {
	type span struct {
		seq uint32
		n   int
	}
	tests := []struct {
		name  string
		add   []span
		in    []span // covered
		notIn []span
		spans int
	}{
		{"one", []span{{100, 100}}, []span{{100, 100}, {150, 50}, {100, 1}}, []span{{99, 2}, {150, 51}, {200, 1}, {100, 0}}, 1},
		{"adjacent merge", []span{{100, 100}, {200, 100}}, []span{{150, 100}, {100, 200}}, []span{{50, 100}, {299, 2}}, 1},
		{"out of order and overlapping", []span{{500, 100}, {100, 100}, {150, 400}}, []span{{100, 500}}, []span{{90, 20}, {550, 51}}, 1},
		{"apart", []span{{100, 100}, {300, 100}}, []span{{100, 100}, {300, 100}}, []span{{150, 200}, {200, 100}, {250, 10}}, 2},
		{"one spanning several", []span{{100, 10}, {200, 10}, {300, 10}, {50, 300}}, []span{{50, 300}}, []span{{49, 2}}, 1},
		{"at the top of the numbers", []span{{4294967000, 296}}, []span{{4294967000, 296}}, []span{{4294967000, 297}, {0, 1}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s seqSpans
			for _, a := range tt.add {
				s.add(a.seq, a.n)
			}
			if len(s) != tt.spans {
				t.Errorf("spans %v, want %d", s, tt.spans)
			}
			for _, q := range tt.in {
				if !s.covers(q.seq, q.n) {
					t.Errorf("%v does not cover %d+%d", s, q.seq, q.n)
				}
			}
			for _, q := range tt.notIn {
				if s.covers(q.seq, q.n) {
					t.Errorf("%v covers %d+%d", s, q.seq, q.n)
				}
			}
		})
	}
}
