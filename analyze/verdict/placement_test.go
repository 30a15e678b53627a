package verdict

import (
	"strings"
	"testing"

	"github.com/h2pcap/h2pcap/model"
)

func TestPlace(t *testing.T) {
	c2s := model.Placement{Direction: model.ClientToServer, From: "router-c", To: "router-s", Packets: 3, Bytes: 200,
		Frames: []model.Moment{{Frame: 12, Input: 1}, {Frame: 14, Input: 1}}}
	s2c := model.Placement{Direction: model.ServerToClient, From: "server", To: "client", Packets: 1, Bytes: 40,
		Frames: []model.Moment{{Frame: 30, Input: 1}}}
	ack := s2c
	ack.Bytes = 0 // a pure ACK
	tests := []struct {
		name     string
		v        model.Verdict
		pl       []model.Placement
		where    map[model.Direction]model.LossLocation
		wantDir  model.LossDirection
		wantLoc  model.LossLocation
		wantText []string
		wantKind model.Kind // empty: the verdict's own
	}{
		{
			// A client-side capture could not tell; the server's point
			// shows the server's packets never reached the client.
			name:     "unknown becomes the placed direction",
			v:        model.Verdict{Kind: model.KindLostPing, LossDirection: model.LossUnknown, LossLocation: model.LocationUnknown, Summary: "The PING got no ACK; a capture on the server side would tell."},
			pl:       []model.Placement{s2c},
			where:    map[model.Direction]model.LossLocation{model.ServerToClient: model.BeforeCapture},
			wantDir:  model.LossServerToClient,
			wantLoc:  model.BeforeCapture,
			wantText: []string{"would tell. The other capture points tell the direction: lost server->client between server and client: 1 packet (frame 30 of input 1 there)."},
		},
		{
			// A middle capture knew the side only.
			name:    "side becomes direction",
			v:       model.Verdict{Kind: model.KindDegraded, LossDirection: model.LossClientToServer, LossLocation: model.ServerSide, Summary: "Lost toward the server."},
			pl:      []model.Placement{c2s, s2c},
			where:   map[model.Direction]model.LossLocation{model.ClientToServer: model.AfterCapture, model.ServerToClient: model.BeforeCapture},
			wantDir: model.LossBoth,
			wantLoc: model.LocationUnknown,
			wantText: []string{"client->server between router-c and router-s: 3 packets (frames 12, 14 of input 1 there, and 1 more)",
				"; server->client between server and client: 1 packet"},
		},
		{
			// The capture point's own direction stands; the placement
			// is added to its words.
			name:     "known direction kept",
			v:        model.Verdict{Kind: model.KindDegraded, LossDirection: model.LossClientToServer, LossLocation: model.AfterCapture, Summary: "Packets were lost client->server."},
			pl:       []model.Placement{c2s},
			wantDir:  model.LossClientToServer,
			wantLoc:  model.AfterCapture,
			wantText: []string{"Packets were lost client->server. Lost client->server between router-c and router-s: 3 packets"},
		},
		{
			// A lost pure ACK changes nothing of a healthy connection's
			// fate: its verdict keeps no loss, the summary says it.
			name:     "healthy keeps no loss",
			v:        model.Verdict{Kind: model.KindHealthy, LossDirection: model.LossNone, LossLocation: model.LocationUnknown, Summary: "Healthy."},
			pl:       []model.Placement{ack},
			wantDir:  model.LossNone,
			wantLoc:  model.LocationUnknown,
			wantText: []string{"Healthy. Lost server->client between server and client: 1 packet"},
		},
		{
			// Data lost between points, where one capture showed no more
			// than a tail loss probe: degraded, in the placed direction.
			name:     "healthy with data lost is degraded",
			v:        model.Verdict{Kind: model.KindHealthy, LossDirection: model.LossNone, LossLocation: model.LocationUnknown, Summary: "No loss."},
			pl:       []model.Placement{s2c},
			where:    map[model.Direction]model.LossLocation{model.ServerToClient: model.BeforeCapture},
			wantDir:  model.LossServerToClient,
			wantLoc:  model.BeforeCapture,
			wantKind: model.KindDegraded,
			wantText: []string{"Packets were lost and TCP recovered", "lost server->client between server and client: 1 packet (frame 30"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.v
			Place(&v, tt.pl, tt.where)
			if v.LossDirection != tt.wantDir || v.LossLocation != tt.wantLoc {
				t.Errorf("loss %s %s, want %s %s", v.LossDirection, v.LossLocation, tt.wantDir, tt.wantLoc)
			}
			want := tt.wantKind
			if want == "" {
				want = tt.v.Kind
			}
			if v.Kind != want {
				t.Errorf("kind %s became %s, want %s", tt.v.Kind, v.Kind, want)
			}
			for _, w := range tt.wantText {
				if !strings.Contains(v.Summary, w) {
					t.Errorf("summary %q lacks %q", v.Summary, w)
				}
			}
		})
	}
}

func TestWithHops(t *testing.T) {
	hop := func(d model.Direction, from, to string, up, lost int) model.Hop {
		return model.Hop{Direction: d, From: from, To: to, PacketsUpstream: up, PacketsLost: lost}
	}
	tests := []struct {
		name string
		hops []model.Hop
		want string
	}{
		{"one point", nil, "2 of 2 connections degraded."},
		{
			"one lossy hop",
			[]model.Hop{hop(model.ClientToServer, "client", "lb", 412, 0), hop(model.ClientToServer, "lb", "server", 412, 31), hop(model.ServerToClient, "server", "lb", 300, 0), hop(model.ServerToClient, "lb", "client", 300, 0)},
			"2 of 2 connections degraded. Loss client->server between lb and server: 31 of 412 packets; every other hop clean.",
		},
		{
			"clean",
			[]model.Hop{hop(model.ClientToServer, "client", "server", 10, 0), hop(model.ServerToClient, "server", "client", 9, 0)},
			"2 of 2 connections degraded. No packet lost between the 2 capture points.",
		},
		{
			"every hop lossy",
			[]model.Hop{hop(model.ClientToServer, "client", "server", 10, 1), hop(model.ServerToClient, "server", "client", 9, 2)},
			"2 of 2 connections degraded. Loss client->server between client and server: 1 of 10 packets; server->client between server and client: 2 of 9 packets.",
		},
		{
			// One sentence for both ways into a capture that missed
			// packets, connections it lacks whole counted together.
			"missed both ways",
			[]model.Hop{
				{Direction: model.ClientToServer, From: "m1", To: "m2", PacketsUpstream: 48, PacketsLost: 9, CaptureMissed: 91, CaptureMissedConns: 1},
				{Direction: model.ServerToClient, From: "m2", To: "m1", PacketsUpstream: 41, PacketsLost: 0},
				{Direction: model.ServerToClient, From: "m1", To: "m2", PacketsUpstream: 74, PacketsLost: 0, CaptureMissed: 88, CaptureMissedConns: 1},
			},
			"2 of 2 connections degraded. Loss client->server between m1 and m2: 9 of 48 packets; every other hop clean. m2's capture lacks 91 packets client->server and 88 server->client that passed m1, data the receiver acknowledged or ACKs sent while that capture was missing such data: that capture missed them, the network did not lose them. Of those, 2 connections m2 lacks whole, answered from past it: a capture filter there (ports, hosts), or a rewrite between the points that the matching did not follow.",
		},
		{
			"missed one way, dropped by tcpdump",
			[]model.Hop{hop(model.ClientToServer, "client", "server", 10, 0), {Direction: model.ServerToClient, From: "server", To: "client", PacketsUpstream: 9, CaptureMissed: 1}},
			"2 of 2 connections degraded. No packet lost between the 2 capture points. client's capture lacks 1 packet server->client that passed server, data the receiver acknowledged or ACKs sent while that capture was missing such data: that capture missed them, the network did not lose them.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := WithHops("2 of 2 connections degraded.", tt.hops); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestWithHopsAlong: points along one path that the compared hops do not
// link (no connection matched past the router) get no "no packet lost
// between the 4 points": the headline names the groups not compared.
func TestWithHopsAlong(t *testing.T) {
	hop := func(d model.Direction, from, to string, up, lost int) model.Hop {
		return model.Hop{Direction: d, From: from, To: to, PacketsUpstream: up, PacketsLost: lost}
	}
	four := []string{"client", "router-c", "router-s", "server"}
	tests := []struct {
		name string
		hops []model.Hop
		want string
	}{
		{
			"linked",
			[]model.Hop{hop(model.ClientToServer, "client", "router-c", 10, 0), hop(model.ClientToServer, "router-c", "router-s", 10, 0), hop(model.ClientToServer, "router-s", "server", 10, 0)},
			"2 of 2 connections degraded. No packet lost between the 4 capture points.",
		},
		{
			"split at the router",
			[]model.Hop{hop(model.ClientToServer, "client", "router-c", 188, 0), hop(model.ClientToServer, "router-s", "server", 179, 0), hop(model.ServerToClient, "server", "router-s", 134, 0), hop(model.ServerToClient, "router-c", "client", 134, 0)},
			"2 of 2 connections degraded. No packet lost on the hops compared. No connection was matched across these groups of capture points: client, router-c | router-s, server; what was lost between them is not known (captures of other traffic, or a box between that rewrote more of each connection than the matching follows).",
		},
		{
			"lossy, one point apart",
			[]model.Hop{hop(model.ClientToServer, "client", "router-c", 10, 2), hop(model.ClientToServer, "router-c", "router-s", 8, 0)},
			"2 of 2 connections degraded. Loss client->server between client and router-c: 2 of 10 packets; every other hop clean. No connection was matched across these groups of capture points: client, router-c, router-s | server; what was lost between them is not known (captures of other traffic, or a box between that rewrote more of each connection than the matching follows).",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := WithHopsAlong("2 of 2 connections degraded.", tt.hops, four); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestMissedBy(t *testing.T) {
	for _, tt := range []struct {
		points []string
		want   string
	}{
		{nil, "Degraded."},
		{[]string{"m2"}, "Degraded. The capture at m2 lacks this connection, answered past it (a capture filter, or a rewrite the matching did not follow): nothing of it is compared there."},
		{[]string{"lb-out", "server"}, "Degraded. The captures at lb-out and server lack this connection, answered past them (a capture filter, or a rewrite the matching did not follow): nothing of it is compared there."},
	} {
		v := &model.Verdict{Summary: "Degraded."}
		MissedBy(v, tt.points)
		if v.Summary != tt.want {
			t.Errorf("MissedBy(%v):\n got %q\nwant %q", tt.points, v.Summary, tt.want)
		}
	}
	MissedBy(nil, []string{"m2"}) // no verdict: nothing to add to
}
