package verdict

import (
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
)

func TestAssessLossAckedGaps(t *testing.T) {
	s2c := model.ServerToClient
	holes := []model.Event{ev(1, s2c, model.EvLostSegment, 5000, 100), ev(3, s2c, model.EvLostSegment, 9000, 100)}
	tests := []struct {
		name  string
		evs   []model.Event
		acked [2]int
		want  dirLoss
	}{
		{"gaps never filled nor acknowledged: lost before the capture", holes, [2]int{}, dirLoss{before: 2, holes: 2}},
		{"gaps the receiver acknowledged: the capture dropped them", holes, [2]int{0, 2}, dirLoss{drops: 2, holes: 2}},
		{"one gap filled by a retransmission, one acknowledged: loss and a drop",
			append(slices.Clone(holes), unseen(ev(4, s2c, model.EvRetransmission, 4900, 100))), [2]int{0, 1},
			dirLoss{before: 1, drops: 1, holes: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := assessLoss(testConn(100, tt.evs...), model.PointClient, tt.acked)[s2c]
			got.retrans = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestJudgeCaptureQuality(t *testing.T) {
	c2s, s2c := model.ClientToServer, model.ServerToClient
	oneWay := func(held model.Direction) (*model.Connection, *Facts) {
		f := testFacts()
		f.Quality.OneDirection, f.Quality.Held = true, held
		c := testConn(600)
		*c.TCP.Dir(held.Reverse()) = model.DirStats{}
		f.Dir[held.Reverse()].TTL = 0
		return c, f
	}
	tests := []struct {
		name     string
		point    model.CapturePoint
		conn     func() (*model.Connection, *Facts)
		kind     model.Kind
		dir      model.LossDirection
		loc      model.LossLocation
		suspects []model.Suspect
		summary  []string // substrings
		notNoted string   // no evidence note may say it
	}{
		{"client->server only: a PING without ACK is not lost", model.PointClient, func() (*model.Connection, *Facts) {
			c, f := oneWay(c2s)
			f.Dir[c2s].FIN = mark(40)
			f.Dir[c2s].AckAdvance = at(390) // it kept hearing from the server
			c.Events = []model.Event{ev(25, c2s, model.EvAckedUnseen, 1, 0), ev(40, c2s, model.EvFIN, 517, 0)}
			idle := 2000.0
			c.HTTP2 = &model.HTTP2{Pings: []model.Ping{{Frame: 20, Time: at(200), From: "client", Sender: "go-health-check", IdleMs: &idle}}}
			return c, f
		}, model.KindHealthy, model.LossNone, model.LocationUnknown, nil,
			[]string{"No loss; closed by the client", "holds only the client->server direction", "no PING counts as lost"}, ""},
		{"client->server only: no unanswered SYN, no setup timeout", model.PointClient, func() (*model.Connection, *Facts) {
			c, f := oneWay(c2s)
			f.Dir[c2s].Stall = mark(3)
			return c, f
		}, model.KindSilent, model.LossNone, model.LocationUnknown, nil, []string{"Traffic stopped"}, ""},
		{"server->client only: its own retransmissions, direction unknown", model.PointServer, func() (*model.Connection, *Facts) {
			c, f := oneWay(s2c)
			f.Dir[s2c].FIN = mark(50)
			c.Events = []model.Event{ev(10, s2c, model.EvRetransmission, 100, 100), ev(12, s2c, model.EvRetransmission, 100, 100)}
			return c, f
		}, model.KindDegraded, model.LossUnknown, model.LocationUnknown, nil, []string{"holds only the server->client direction"}, ""},
		{"gaps the client acknowledged: capture drops, no loss", model.PointClient, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].FIN = mark(50)
			f.Quality.GapsAcked[s2c] = 3
			f.Quality.MissedBytes[s2c], f.Quality.HeldBytes[s2c] = 4344, 39096
			return testConn(600, ev(2, s2c, model.EvLostSegment, 3000, 1448), ev(4, s2c, model.EvLostSegment, 9000, 1448),
				ev(6, s2c, model.EvLostSegment, 15000, 1448)), f
		}, model.KindHealthy, model.LossNone, model.LocationUnknown, []model.Suspect{model.SuspectCaptureDrops},
			[]string{"missed 4,344 bytes the receiver acknowledged (10.0% of this connection's data"}, "gap"},
		{"real loss among capture drops: the filled gaps are the evidence", model.PointClient, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].FIN = mark(50)
			f.Quality.GapsAcked[s2c] = 1
			f.Quality.MissedBytes[s2c], f.Quality.HeldBytes[s2c] = 1448, 39096
			return testConn(600, ev(2, s2c, model.EvLostSegment, 3000, 1448), unseen(ev(3, s2c, model.EvRetransmission, 1552, 1448)),
				ev(4, s2c, model.EvLostSegment, 9000, 1448), unseen(ev(5, s2c, model.EvRetransmission, 7552, 1448)),
				ev(6, s2c, model.EvLostSegment, 15000, 1448)), f
		}, model.KindDegraded, model.LossServerToClient, model.BeforeCapture, []model.Suspect{model.SuspectCaptureDrops},
			[]string{"server->client, before the capture point", "capture drops, not network loss"}, "a gap the capture never saw"},
		{"middle: data seen passing toward the server, sent again, never ACKed", model.PointMiddle, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].TTL, f.Dir[s2c].TTL = 62, 61
			f.Dir[c2s].FIN = mark(50)
			return testConn(600, ev(10, c2s, model.EvRetransmission, 100, 100), ev(12, c2s, model.EvRetransmission, 100, 100)), f
		}, model.KindDegraded, model.LossUnknown, model.ServerSide, nil,
			[]string{"lost between this capture point and the server", "a capture at the server would tell which"}, "toward the client"},
		{"middle: the server shows it never got the data", model.PointMiddle, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].FIN = mark(50)
			return testConn(600, peerMissing(ev(10, c2s, model.EvRetransmission, 100, 100)), ev(12, c2s, model.EvFastRetransmission, 300, 100)), f
		}, model.KindDegraded, model.LossClientToServer, model.AfterCapture, nil,
			[]string{"client->server, between this capture point and the server"}, ""},
		{"middle: gaps in the server's data, filled later: lost on the server's side", model.PointMiddle, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].FIN = mark(50)
			return testConn(600, ev(2, s2c, model.EvLostSegment, 3000, 1448), unseen(ev(3, s2c, model.EvRetransmission, 1552, 1448)),
				ev(4, s2c, model.EvLostSegment, 9000, 1448), unseen(ev(5, s2c, model.EvRetransmission, 7552, 1448))), f
		}, model.KindDegraded, model.LossServerToClient, model.BeforeCapture, nil,
			[]string{"server->client, between this capture point and the server"}, ""},
		{"middle: retransmissions toward both ends: no one side", model.PointMiddle, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].FIN = mark(50)
			return testConn(600, ev(10, c2s, model.EvRetransmission, 100, 100), ev(12, s2c, model.EvRetransmission, 100, 100)), f
		}, model.KindDegraded, model.LossUnknown, model.LocationUnknown, nil, []string{"captures on the client and the server side would tell"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := tt.conn()
			v := Judge(c, f, tt.point, at(20000))
			if v.Kind != tt.kind || v.LossDirection != tt.dir || v.LossLocation != tt.loc {
				t.Errorf("got %s %s %s, want %s %s %s: %s", v.Kind, v.LossDirection, v.LossLocation, tt.kind, tt.dir, tt.loc, v.Summary)
			}
			if !slices.Equal(v.Suspects, append([]model.Suspect{}, tt.suspects...)) {
				t.Errorf("suspects %v, want %v", v.Suspects, tt.suspects)
			}
			for _, s := range tt.summary {
				if !strings.Contains(v.Summary, s) {
					t.Errorf("summary %q, want it to say %q", v.Summary, s)
				}
			}
			for _, e := range v.Evidence {
				if tt.notNoted != "" && strings.Contains(e.Note, tt.notNoted) {
					t.Errorf("evidence frame %d: %q", e.Frame, e.Note)
				}
			}
			if v.LossLocation == model.ServerSide && (len(v.Evidence) != 2 || !strings.Contains(v.Evidence[0].Note, "seen passing toward the server")) {
				t.Errorf("evidence %+v: want the two retransmissions toward the server", v.Evidence)
			}
		})
	}
}

func TestFillCaptureQuality(t *testing.T) {
	c2s, s2c := model.ClientToServer, model.ServerToClient
	both := func(held, missed [2]int64) *Facts {
		return &Facts{Quality: Quality{HeldBytes: held, MissedBytes: missed,
			Inputs: []InputQuality{{Packets: [2]int64{10, 10}, HeldBytes: held, MissedBytes: missed}}}}
	}
	oneWay := func(d model.Direction) *Facts {
		var in InputQuality
		in.Packets[d] = 10
		return &Facts{Quality: Quality{OneDirection: true, Held: d, Inputs: []InputQuality{in}}}
	}
	tests := []struct {
		name  string
		facts []*Facts
		want  *decode.CaptureQuality
		warn  []string // substrings of the warning; nil: none
	}{
		{"clean: nothing added", []*Facts{both([2]int64{1000, 90000}, [2]int64{})}, nil, nil},
		{"a few drops: counted, no warning", []*Facts{both([2]int64{1000, 99000}, [2]int64{0, 1000})},
			&decode.CaptureQuality{MissedBytes: 1000, MissedFraction: 0.0099}, nil},
		{"drops above the threshold: warned, with how to capture again", []*Facts{both([2]int64{1000, 69000}, [2]int64{0, 30000})},
			&decode.CaptureQuality{MissedBytes: 30000, MissedFraction: 0.3}, []string{"missed about 30.0% of the data", "tcpdump -B 65536 -s 0"}},
		{"one way: the direction, not drops", []*Facts{oneWay(c2s), both([2]int64{1000, 9000}, [2]int64{})},
			&decode.CaptureQuality{OneDirection: "client_to_server", OneDirectionConnections: 1}, []string{"only the client->server direction of 1 connection"}},
		{"one way both ways round: mixed", []*Facts{oneWay(c2s), oneWay(s2c)},
			&decode.CaptureQuality{OneDirection: "mixed", OneDirectionConnections: 2}, []string{"only one direction of 2 connection"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &decode.InputInfo{CaptureQuality: &decode.CaptureQuality{MissedBytes: 1}} // a previous Report's, replaced
			FillCaptureQuality([]*decode.InputInfo{in}, tt.facts)
			if !reflect.DeepEqual(in.CaptureQuality, tt.want) {
				t.Errorf("got %+v, want %+v", in.CaptureQuality, tt.want)
			}
			w := CaptureWarning([]*decode.InputInfo{in})
			if (w == "") != (tt.warn == nil) {
				t.Errorf("warning %q, want %q", w, tt.warn)
			}
			for _, s := range tt.warn {
				if !strings.Contains(w, s) {
					t.Errorf("warning %q, want it to say %q", w, s)
				}
			}
		})
	}
}

func TestCaptureHost(t *testing.T) {
	conn := func(client, server string) *model.Connection {
		return &model.Connection{Client: client, Server: server}
	}
	node := []*model.Connection{
		conn("10.0.0.5:40000", "10.0.0.100:6443"), // the node calls the API server
		conn("10.0.0.7:50000", "10.0.0.5:10250"),  // the API server calls the node's kubelet
		conn("10.0.0.9:50000", "10.0.0.5:10250"),  // its handshake tells nothing
	}
	pc, ps, pm, pu := model.PointClient, model.PointServer, model.PointMiddle, model.PointUnknown
	tests := []struct {
		name   string
		conns  []*model.Connection
		points []model.CapturePoint
		want   string
	}{
		{"client of some, server of others", node, []model.CapturePoint{pc, ps, pu}, "10.0.0.5"},
		{"one role: capture_point says it", node[:1], []model.CapturePoint{pc}, ""},
		{"near ends differ", []*model.Connection{node[0], conn("10.0.0.7:50000", "10.0.0.6:10250")}, []model.CapturePoint{pc, ps}, ""},
		{"one in the middle", node, []model.CapturePoint{pc, ps, pm}, ""},
	}
	for _, tt := range tests {
		if got := CaptureHost(tt.conns, tt.points); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
		// The same with the first k connections forgotten (NearHosts
		// counts them) and the rest listed.
		for k := 1; k <= len(tt.conns); k++ {
			var near NearHosts
			for i, c := range tt.conns[:k] {
				near.Add(tt.points[i], netip.MustParseAddrPort(c.Client), netip.MustParseAddrPort(c.Server))
			}
			listed := tt.conns[k:]
			names := &pathNames{endpoints: func(i int) (string, string, bool) { return listed[i].Client, listed[i].Server, true }}
			if got := captureHost(tt.points[k:], names.addrPort, &near); got != tt.want {
				t.Errorf("%s, the first %d forgotten: %q, want %q", tt.name, k, got, tt.want)
			}
		}
	}
	if p := hostPoint(node[2], "10.0.0.5"); p != ps {
		t.Errorf("hostPoint of the node's own server connection: %s", p)
	}
	if p := hostPoint(conn("10.0.0.7:1", "10.0.0.8:2"), "10.0.0.5"); p != pu {
		t.Errorf("hostPoint of another host's connection: %s", p)
	}
}

// TestSummaryOneWayPings: a one-way capture's client PINGs lack their
// ACKs by construction; the path table counts none of them lost.
func TestSummaryOneWayPings(t *testing.T) {
	c := testConn(100)
	c.Verdict = &model.Verdict{Kind: model.KindHealthy, LossDirection: model.LossNone}
	c.HTTP2 = &model.HTTP2{Pings: []model.Ping{{Frame: 10, From: "client"}, {Frame: 20, From: "client"}}}
	for _, tt := range []struct {
		oneWay bool
		want   int
	}{{false, 2}, {true, 0}} {
		f := testFacts()
		f.Quality.OneDirection, f.Quality.Held = tt.oneWay, model.ClientToServer
		s := Summarize([]*model.Connection{c}, []*Facts{f}, nil)
		if got := s.Paths[0].LostPings; got != tt.want {
			t.Errorf("one way %v: %d lost PINGs, want %d", tt.oneWay, got, tt.want)
		}
	}
}

func TestMiddleSideWords(t *testing.T) {
	conn := func(point model.CapturePoint, kind model.Kind, dir model.LossDirection, loc model.LossLocation) *model.Connection {
		return &model.Connection{CapturePoint: point, Verdict: &model.Verdict{Kind: kind, LossDirection: dir, LossLocation: loc}}
	}
	degraded := func(dir model.LossDirection, loc model.LossLocation) *model.Connection {
		return conn(model.PointMiddle, model.KindDegraded, dir, loc)
	}
	tests := []struct {
		name  string
		conns []*model.Connection
		want  string
	}{
		{"client->server after a middle point: the server's side",
			[]*model.Connection{degraded(model.LossClientToServer, model.AfterCapture), conn(model.PointMiddle, model.KindHealthy, model.LossNone, model.LocationUnknown)},
			"; lost between the capture point and the server"},
		{"server->client before it and an unknown direction there: the server's side",
			[]*model.Connection{degraded(model.LossServerToClient, model.BeforeCapture), degraded(model.LossUnknown, model.ServerSide)},
			"; lost between the capture point and the server"},
		{"server->client after it: the client's side",
			[]*model.Connection{degraded(model.LossServerToClient, model.AfterCapture)}, "; lost between the client and the capture point"},
		{"both sides: nothing to say", []*model.Connection{degraded(model.LossClientToServer, model.AfterCapture), degraded(model.LossClientToServer, model.BeforeCapture)}, ""},
		{"a problem with no place: nothing to say", []*model.Connection{degraded(model.LossClientToServer, model.AfterCapture), degraded(model.LossUnknown, model.LocationUnknown)}, ""},
		{"at the client: before/after say it", []*model.Connection{conn(model.PointClient, model.KindDegraded, model.LossClientToServer, model.AfterCapture)}, ""},
	}
	for _, tt := range tests {
		if got := middleSideWords(tt.conns, nil); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestCaptureWarningInputs: several inputs held one way are named in one
// sentence per direction (a one-way capture rotated into many files said
// it once per file); drops stay per input.
func TestCaptureWarningInputs(t *testing.T) {
	oneWay := func(dir string, conns int) *decode.InputInfo {
		return &decode.InputInfo{CaptureQuality: &decode.CaptureQuality{OneDirection: dir, OneDirectionConnections: conns}}
	}
	c2s, s2c := model.ClientToServer.String(), model.ServerToClient.String()
	tests := []struct {
		name   string
		inputs []*decode.InputInfo
		want   []string // the sentences' starts, in order
	}{
		{"one input", []*decode.InputInfo{oneWay(c2s, 3)},
			[]string{"One direction only: the capture holds only the client->server direction of 3 connection(s)"}},
		{"one of two", []*decode.InputInfo{{}, oneWay(c2s, 3)},
			[]string{"One direction only: input 1 holds only the client->server direction of 3 connection(s)"}},
		{"rotated parts", []*decode.InputInfo{oneWay(c2s, 1), oneWay(c2s, 1), oneWay(c2s, 1)},
			[]string{"One direction only: inputs 0, 1 and 2 hold only the client->server direction of 1 connection(s)"}},
		{"counts differ", []*decode.InputInfo{oneWay(c2s, 1), oneWay(c2s, 3)},
			[]string{"One direction only: inputs 0 and 1 hold only the client->server direction of 1 and 3 connection(s)"}},
		{"both directions", []*decode.InputInfo{oneWay(s2c, 2), oneWay(c2s, 1), oneWay(s2c, 2)},
			[]string{"One direction only: inputs 0 and 2 hold only the server->client direction of 2 connection(s)",
				"One direction only: input 1 holds only the client->server direction of 1 connection(s)"}},
		{"drops first, per input", []*decode.InputInfo{oneWay(c2s, 1), {CaptureQuality: &decode.CaptureQuality{MissedBytes: 9, MissedFraction: 0.5}}},
			[]string{"Warning: input 1 missed about 50.0% of the data", "One direction only: input 0 holds"}},
	}
	for _, tt := range tests {
		w := CaptureWarning(tt.inputs)
		rest := w
		for _, s := range tt.want {
			i := strings.Index(rest, s)
			if i < 0 {
				t.Errorf("%s: %q lacks %q (in order)", tt.name, w, s)
				break
			}
			rest = rest[i+len(s):]
		}
		if n := strings.Count(w, "One direction only"); n != strings.Count(strings.Join(tt.want, " "), "One direction only") {
			t.Errorf("%s: %d sentences of one direction in %q", tt.name, n, w)
		}
	}
}
