package verdict

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/model"
)

var incT0 = time.Date(2026, 12, 5, 9, 14, 0, 0, time.UTC)

func sec(s float64) time.Time { return incT0.Add(time.Duration(s * float64(time.Second))) }

// conn builds a judged connection from client port port to srv, open
// from start to end (seconds after t0).
func incConn(stream int, client, srv string, start, end float64, kind model.Kind) *model.Connection {
	c := &model.Connection{Stream: stream, Client: client, Server: srv, Start: sec(start), End: sec(end),
		Verdict: &model.Verdict{Kind: kind}}
	c.TCP.ClientToServer.Bytes = 100
	c.TCP.ServerToClient.Bytes = 100
	c.TCP.ServerToClient.Packets = 5
	c.Handshake.Seen = true
	return c
}

// dead is a connection that made progress until since and retransmitted
// from retrans on.
func dead(stream int, client, srv string, start, since, retrans, end float64) *model.Connection {
	c := incConn(stream, client, srv, start, end, model.KindBlackholed)
	c.Verdict.Since = &model.Moment{Frame: 10, Time: sec(since)}
	c.Events = []model.Event{{Time: sec(retrans), Kind: model.EvRetransmission}}
	return c
}

func dial(stream int, client, srv string, start, end float64) *model.Connection {
	c := incConn(stream, client, srv, start, end, model.KindConnectFailed)
	c.TCP.ClientToServer.Bytes, c.TCP.ServerToClient.Bytes = 0, 0
	c.TCP.ServerToClient.Packets = 0
	return c
}

func serverReset(stream int, client, srv string, start, end float64) *model.Connection {
	c := incConn(stream, client, srv, start, end, model.KindReset)
	c.Close = model.Close{Kind: model.CloseRST, By: model.SideServer}
	return c
}

const vip = "10.0.0.100:6443"

func cli(net, port int) string { return fmt.Sprintf("10.1.%d.7:%d", net, port) }

func TestIncidents(t *testing.T) {
	tests := []struct {
		name       string
		conns      []*model.Connection
		want       []model.IncidentKind
		streams    [][]int
		unaffected []int
		words      string // in the headline words of the first
	}{
		{
			name: "per-flow: 3 of 12 die at once, 9 go on",
			conns: func() []*model.Connection {
				var cs []*model.Connection
				for i := range 12 {
					if i%4 == 0 {
						// Flow 8 idle: its last progress 2.5 s before the
						// fault, its PING shows it 1 s after.
						since, rt := 10.0, 10.3
						if i == 8 {
							since, rt = 7.5, 11.0
						}
						cs = append(cs, dead(i, cli(1, 40000+i), vip, 0, since, rt, 20))
						continue
					}
					cs = append(cs, incConn(i, cli(1, 40000+i), vip, 0, 30, model.KindHealthy))
				}
				return cs
			}(),
			want: []model.IncidentKind{model.IncidentPerFlow}, streams: [][]int{{0, 4, 8}}, unaffected: []int{9},
			words: "3 of 12 flows to 10.0.0.100:6443 died together at 09:14:10.000, 9 on the same path stayed clean: a per-flow path fault",
		},
		{
			name: "per-flow with a dial failing in the window",
			conns: []*model.Connection{
				dead(0, cli(1, 1), vip, 0, 10, 10.2, 20), dead(1, cli(1, 2), vip, 0, 10.1, 10.4, 20),
				incConn(2, cli(1, 3), vip, 0, 30, model.KindDegraded),
				dial(3, cli(1, 4), vip, 12, 15),
			},
			want: []model.IncidentKind{model.IncidentPerFlow}, streams: [][]int{{0, 1, 3}}, unaffected: []int{1},
		},
		{
			name: "path outage: every flow on the only path",
			conns: []*model.Connection{
				dead(0, cli(1, 1), vip, 0, 10, 10.2, 20), dead(1, cli(1, 2), vip, 0, 10.1, 10.4, 20),
				// Opened after the outage, clean: not across the moment.
				incConn(2, cli(1, 3), vip, 25, 30, model.KindHealthy),
			},
			want: []model.IncidentKind{model.IncidentPathOutage}, streams: [][]int{{0, 1}}, unaffected: []int{0},
			words: "all 2 flows on the path to 10.0.0.100:6443 died together at 09:14:10.100",
		},
		{
			name: "server outage: every path to the server",
			conns: []*model.Connection{
				dead(0, cli(1, 1), vip, 0, 10, 10.2, 20), dead(1, cli(2, 2), vip, 0, 10.1, 10.4, 20),
			},
			want: []model.IncidentKind{model.IncidentServerOutage}, streams: [][]int{{0, 1}},
		},
		{
			name: "server stalled: its TCP acknowledged, nothing answered",
			conns: func() []*model.Connection {
				a, b := dead(0, cli(1, 1), vip, 0, 10, 10.2, 20), dead(1, cli(1, 2), vip, 0, 10.1, 10.4, 20)
				a.Verdict.Suspects = []model.Suspect{model.SuspectServerStalled}
				b.Verdict.Suspects = []model.Suspect{model.SuspectServerStalled}
				return []*model.Connection{a, b}
			}(),
			want: []model.IncidentKind{model.IncidentServerOutage}, streams: [][]int{{0, 1}},
			words: "2 connections to 10.0.0.100:6443 died together at 09:14:10.100: the server stalled (its TCP acknowledged, its application answered nothing)",
		},
		{
			name: "handshake outage: dials fail while established flows go on",
			conns: []*model.Connection{
				incConn(0, cli(1, 1), vip, 0, 30, model.KindHealthy),
				dial(1, cli(1, 2), vip, 5, 8), dial(2, cli(1, 3), vip, 8.5, 11.5), dial(3, cli(1, 4), vip, 12, 15),
				incConn(4, cli(1, 5), vip, 16, 30, model.KindHealthy),
			},
			want: []model.IncidentKind{model.IncidentHandshakeOutage}, streams: [][]int{{1, 2, 3}}, unaffected: []int{1},
			words: "3 new connections to 10.0.0.100:6443 failed from 09:14:05.000 to 09:14:15.000 while 1 established ones went on",
		},
		{
			name: "SYNs to a server that never answered anything: a scan or a flood, not an outage",
			conns: []*model.Connection{
				dial(1, cli(1, 2), vip, 5, 8), dial(2, cli(1, 3), vip, 8.5, 11.5), dial(3, cli(1, 4), vip, 12, 15),
			},
		},
		{
			name: "server resets every connection",
			conns: []*model.Connection{
				serverReset(0, cli(1, 1), vip, 0, 12), serverReset(1, cli(1, 2), vip, 0, 12.01), serverReset(2, cli(2, 3), vip, 3, 12.02),
			},
			want: []model.IncidentKind{model.IncidentServerOutage}, streams: [][]int{{0, 1, 2}},
		},
		{
			name: "resets while others go on: no outage",
			conns: []*model.Connection{
				serverReset(0, cli(1, 1), vip, 0, 12), serverReset(1, cli(1, 2), vip, 0, 12.01),
				incConn(2, cli(1, 3), vip, 0, 30, model.KindHealthy),
			},
		},
		{
			name: "deaths far apart (random loss killing now and then): no incident",
			conns: []*model.Connection{
				dead(0, cli(1, 1), vip, 0, 10, 10.2, 20), dead(1, cli(1, 2), vip, 0, 25, 25.3, 35),
				incConn(2, cli(1, 3), vip, 0, 40, model.KindDegraded),
			},
		},
		{
			name: "deaths without their last progress cannot be placed in time",
			conns: func() []*model.Connection {
				a, b := dead(0, cli(1, 1), vip, 0, 10, 10.2, 20), dead(1, cli(1, 2), vip, 0, 10.1, 10.4, 20)
				a.Verdict.Since, b.Verdict.Since = nil, nil
				return []*model.Connection{a, b, incConn(2, cli(1, 3), vip, 0, 30, model.KindHealthy)}
			}(),
		},
		{
			name: "one death is that connection's verdict",
			conns: []*model.Connection{
				dead(0, cli(1, 1), vip, 0, 10, 10.2, 20), incConn(1, cli(1, 3), vip, 0, 40, model.KindHealthy),
			},
		},
		{
			name: "a middlebox's resets and a refusal are not a server outage",
			conns: func() []*model.Connection {
				a, b := serverReset(0, cli(1, 1), vip, 0, 12), serverReset(1, cli(1, 2), vip, 0, 12.01)
				a.Verdict.Suspects = []model.Suspect{model.SuspectMiddleboxReset}
				b.TCP.ClientToServer.Bytes, b.TCP.ServerToClient.Bytes = 0, 0
				return []*model.Connection{a, b}
			}(),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, words := Incidents(tc.conns, nil)
			var kinds []model.IncidentKind
			for _, inc := range got {
				kinds = append(kinds, inc.Kind)
				if inc.Explanation == "" || inc.Start.IsZero() || inc.End.Before(inc.Start) {
					t.Errorf("incident %+v: no explanation or a bad window", inc)
				}
			}
			if !slices.Equal(kinds, tc.want) {
				t.Fatalf("kinds %v, want %v (%+v)", kinds, tc.want, got)
			}
			for i, s := range tc.streams {
				if !slices.Equal(got[i].Connections, s) {
					t.Errorf("incident %d connections %v, want %v", i, got[i].Connections, s)
				}
			}
			for i, u := range tc.unaffected {
				if got[i].Unaffected != u {
					t.Errorf("incident %d unaffected %d, want %d", i, got[i].Unaffected, u)
				}
			}
			if tc.words != "" && (len(words) == 0 || words[0] != tc.words) {
				t.Errorf("headline words %q, want %q", words, tc.words)
			}
		})
	}
}

// TestSummaryLeadsWithIncident: the headline opens with the incident,
// the per-connection counts follow.
func TestSummaryLeadsWithIncident(t *testing.T) {
	conns := []*model.Connection{
		dead(0, cli(1, 1), vip, 0, 10, 10.2, 20), dead(1, cli(1, 2), vip, 0, 10.1, 10.4, 20),
		incConn(2, cli(1, 3), vip, 0, 30, model.KindHealthy),
	}
	s := Summarize(conns, nil, nil)
	if len(s.Incidents) != 1 || !strings.HasPrefix(s.Headline, "2 of 3 flows to 10.0.0.100:6443 died together at 09:14:10.100") {
		t.Errorf("headline %q, incidents %+v", s.Headline, s.Incidents)
	}
	if !strings.Contains(s.Headline, "2 of 3 connections") {
		t.Errorf("headline %q lost the per-connection counts", s.Headline)
	}
}

// Healthy connections forgotten before the Report still count as the
// clean ones beside a failure.
func TestIncidentsForgotten(t *testing.T) {
	conns := []*model.Connection{dead(0, cli(1, 1), vip, 0, 10, 10.2, 20), dead(1, cli(1, 2), vip, 0, 10.1, 10.4, 20)}
	fg := &Forgotten{N: 3, Paths: []ForgottenPath{{ClientNet: "10.1.1.0/24", Server: vip, Conns: 3}}}
	for range 3 {
		fg.Clean.Add(NewCleanSpan(0, incConn(0, cli(1, 9), vip, 0, 30, model.KindHealthy), netip.AddrPort{}))
	}
	// One closed before the failure: not across it.
	fg.Clean.Add(NewCleanSpan(0, incConn(0, cli(1, 9), vip, 0, 5, model.KindHealthy), netip.AddrPort{}))
	got, _ := Incidents(conns, fg)
	if len(got) != 1 || got[0].Kind != model.IncidentPerFlow || got[0].Unaffected != 3 {
		t.Errorf("got %+v, want one per_flow with 3 unaffected", got)
	}
}

// A handshake outage whose established connections were all forgotten
// (their rows spilled or dropped): the forgotten ones still say the
// server answers, and still count as the ones that went on.
func TestHandshakeOutageForgotten(t *testing.T) {
	conns := []*model.Connection{dial(1, cli(1, 2), vip, 5, 8), dial(2, cli(1, 3), vip, 8.5, 11.5), dial(3, cli(1, 4), vip, 12, 15)}
	fg := &Forgotten{N: 2, Paths: []ForgottenPath{{ClientNet: "10.1.1.0/24", Server: vip, Conns: 2}}}
	fg.Clean.Add(NewCleanSpan(0, incConn(0, cli(1, 1), vip, 0, 30, model.KindHealthy), netip.AddrPort{}))
	fg.Clean.Add(NewCleanSpan(0, incConn(4, cli(1, 5), vip, 16, 30, model.KindHealthy), netip.AddrPort{}))
	got, _ := Incidents(conns, fg)
	if len(got) != 1 || got[0].Kind != model.IncidentHandshakeOutage || got[0].Unaffected != 1 {
		t.Errorf("got %+v, want one handshake_outage with 1 unaffected", got)
	}
	// Forgotten ones that never showed their handshake prove nothing.
	for sp := range fg.Clean.All() {
		sp.answered = false
	}
	if got, _ := Incidents(conns, fg); len(got) != 0 {
		t.Errorf("got %+v, want none: no connection showed the server answering", got)
	}
}

// TestIncidentDeadNamed: an incident's explanation names at most
// maxIncidentDeadNamed dead flows and counts the rest; its connections
// list every one.
func TestIncidentDeadNamed(t *testing.T) {
	var cs []*model.Connection
	n := maxIncidentDeadNamed + 5
	for i := range n {
		cs = append(cs, dead(i, cli(1, 40000+i), vip, 0, 10, 10.2, 20))
	}
	got, _ := Incidents(cs, nil)
	if len(got) != 1 || len(got[0].Connections) != n {
		t.Fatalf("incidents %+v, want one of %d connections", got, n)
	}
	e := got[0].Explanation
	if c := strings.Count(e, " -> "); c != maxIncidentDeadNamed {
		t.Errorf("%d flows named, want %d: %s", c, maxIncidentDeadNamed, e)
	}
	if !strings.Contains(e, " and 5 more.") {
		t.Errorf("the rest not counted: %s", e)
	}
}

// Deaths one by one, each a second after the one before (a flow that
// lived a second and lost its traffic halfway, then the next), are not
// one moment: each within the slack of the one before, they used to be
// chained into one incident that "died together" at the last one's
// death, 40 s after the first. Every incident's deaths now fit one
// moment: all its members' windows within incidentSlack of each other;
// or, a run of such moments with nothing healthy between them, it says
// so (Waves: a steady failure, not one moment).
func TestIncidentsOneByOne(t *testing.T) {
	var cs []*model.Connection
	for i := range 40 {
		s := float64(i)
		cs = append(cs, dead(i, cli(1, 40000+i), vip, s, s+0.5, s+0.6, s+1))
	}
	incs, words := Incidents(cs, nil)
	moments := 0
	for _, inc := range incs {
		moments += max(inc.Waves, 1)
	}
	if moments < 40/int(incidentSlack/time.Second)/2 {
		t.Errorf("%d moments in %d incidents of 40 deaths a second apart, want groups of a few seconds", moments, len(incs))
	}
	for i, inc := range incs {
		if inc.Waves > 0 {
			if strings.Contains(inc.Explanation+words[i], "together") || !strings.Contains(inc.Explanation, fmt.Sprintf("in %d waves", inc.Waves)) {
				t.Errorf("a steady failure told as one moment: %s / %s", inc.Explanation, words[i])
			}
			continue
		}
		first, last := sec(1e9), sec(-1e9)
		for _, st := range inc.Connections {
			w := failureOf(cs[st], familyDied)
			first, last = earlier(first, w.hi), later(last, w.lo)
		}
		if spread := last.Sub(first); spread > incidentSlack {
			t.Errorf("incident of streams %v: windows %v apart, past the slack %v", inc.Connections, spread, incidentSlack)
		}
	}
}

// TestIncidentWaves: path outages one after the other, each wave's
// flows opened as the one before died and nothing healthy on the path
// between them (a path that drops every health check kills each flow as
// its PING comes due), are one steady failure from minWaves on; a
// healthy connection on the path between two waves, a pause before the
// next wave's flows opened, or fewer waves keep them apart.
func TestIncidentWaves(t *testing.T) {
	// wave k's three flows open at 5k+1 s and die together at 5k+5.5 s,
	// past incidentSlack from the wave before; the next wave's open 0.5 s
	// after.
	build := func(nwaves int, pause float64, healthyAt float64) []*model.Connection {
		var cs []*model.Connection
		for k := range nwaves {
			s := 5*float64(k) + 1
			if k >= nwaves/2 {
				s += pause
			}
			for range 3 {
				st := len(cs)
				cs = append(cs, dead(st, cli(1, 40000+st), vip, s, s+4.4, s+4.5, s+4.6))
			}
		}
		if healthyAt >= 0 {
			cs = append(cs, incConn(len(cs), cli(1, 50000), vip, healthyAt, healthyAt+0.5, model.KindHealthy))
		}
		return cs
	}
	for _, tc := range []struct {
		name           string
		nwaves         int
		pause, healthy float64
		waves          []int // Waves of each incident, in order
	}{
		{"steady", 6, 0, -1, []int{6}},
		{"two waves", 2, 0, -1, []int{0, 0}},
		{"healthy between", 6, 0, 17, []int{3, 3}},
		{"a pause", 6, 60, -1, []int{3, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := build(tc.nwaves, tc.pause, tc.healthy)
			incs, words := Incidents(cs, nil)
			var got []int
			n := 0
			for i, inc := range incs {
				got = append(got, inc.Waves)
				n += len(inc.Connections)
				if inc.Kind != model.IncidentPathOutage {
					t.Errorf("incident %d: %s, want a path outage", i, inc.Kind)
				}
				if inc.Waves > 0 && (!strings.Contains(words[i], fmt.Sprintf("in %d waves", inc.Waves)) || len(inc.Connections) != 3*inc.Waves) {
					t.Errorf("incident %d of %d waves: %d connections, words %q", i, inc.Waves, len(inc.Connections), words[i])
				}
			}
			if !slices.Equal(got, tc.waves) || n != 3*tc.nwaves {
				t.Errorf("waves %v of %d connections, want %v of %d", got, n, tc.waves, 3*tc.nwaves)
			}
		})
	}
}

// TestIncidentsOtherPoints: in a multi-point analysis, an incident's
// failed connections that the reference point never saw (rows of other
// points, Connection.Point) are listed per point in ConnectionsAt,
// numbered by their own captures, not among the reference's streams
// (m2's stream 0 is not the reference's stream 0); an incident of them
// alone has an empty Connections, never nil (the JSON's []); and waves
// gather them as the reference's.
func TestIncidentsOtherPoints(t *testing.T) {
	away := func(c *model.Connection, point string) *model.Connection { c.Point = point; return c }
	cs := []*model.Connection{
		dead(0, cli(1, 1), vip, 0, 10, 10.2, 20),
		away(dead(0, cli(1, 2), vip, 0, 10.1, 10.4, 20), "m2"),
		away(dead(3, cli(1, 3), vip, 0, 10.1, 10.3, 20), "m2"),
		away(dead(1, cli(1, 4), vip, 0, 10, 10.2, 20), "m3"),
		incConn(1, cli(1, 5), vip, 0, 30, model.KindHealthy),
	}
	incs, _ := Incidents(cs, nil)
	if len(incs) != 1 {
		t.Fatalf("%d incidents, want 1: %+v", len(incs), incs)
	}
	want := []model.PointStreams{{Point: "m2", Streams: []int{0, 3}}, {Point: "m3", Streams: []int{1}}}
	if inc := incs[0]; !slices.Equal(inc.Connections, []int{0}) || fmt.Sprint(inc.ConnectionsAt) != fmt.Sprint(want) || inc.Kind != model.IncidentPerFlow {
		t.Errorf("incident %s of %v and %+v; want per_flow of [0] and %+v", inc.Kind, inc.Connections, inc.ConnectionsAt, want)
	}
	// Of other points' rows alone, in waves.
	var waves []*model.Connection
	for k := range 4 {
		s := 5*float64(k) + 1
		for range 2 {
			st := len(waves)
			waves = append(waves, away(dead(st, cli(1, 40000+st), vip, s, s+4.4, s+4.5, s+4.6), "m2"))
		}
	}
	incs, _ = Incidents(waves, nil)
	if len(incs) != 1 || incs[0].Waves != 4 || incs[0].Connections == nil || len(incs[0].Connections) != 0 ||
		len(incs[0].ConnectionsAt) != 1 || len(incs[0].ConnectionsAt[0].Streams) != 8 {
		t.Errorf("waves of m2's rows: %+v", incs)
	}
}
