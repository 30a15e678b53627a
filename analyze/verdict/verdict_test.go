package verdict

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/analyze/tcp"
	"github.com/h2pcap/h2pcap/model"
)

// Hand-built connections for the rules of evidence: vt0 is the capture's
// start, at(ms) a time after it.
var vt0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return vt0.Add(time.Duration(ms) * time.Millisecond) }

func ev(frame int, d model.Direction, k model.EventKind, seq uint32, n int) model.Event {
	return model.Event{Frame: frame, Time: at(frame * 10), Dir: d, Kind: k, Seq: seq, Len: n}
}

func unseen(e model.Event) model.Event      { e.Unseen = true; return e }
func peerMissing(e model.Event) model.Event { e.PeerMissing = true; return e }
func ttl(e model.Event, t int) model.Event  { e.TTL = t; return e }
func answered(e model.Event) model.Event    { e.Answered = true; return e }
func late(e model.Event) model.Event        { e.Late = true; return e }
func dsacked(e model.Event) model.Event     { e.DSACKed = true; return e }

// testConn is a connection from vt0 to end with the given events.
func testConn(end int, evs ...model.Event) *model.Connection {
	return &model.Connection{
		Client: "10.0.0.1:40000", Server: "10.0.0.100:6443",
		FirstFrame: 1, LastFrame: end / 10, Start: vt0, End: at(end),
		App: "h2c", Events: evs, Handshake: model.Handshake{Seen: true},
		TCP: model.TCPStats{ClientToServer: model.DirStats{Packets: 10}, ServerToClient: model.DirStats{Packets: 10}},
	}
}

func mark(frame int) SegRef { return SegRef{Frame: frame, Time: at(frame * 10)} }

// testFacts has TTLs 64 (client) and 63 (server), as at the client.
func testFacts() *Facts {
	f := &Facts{RSTGap: -1}
	f.Dir[model.ClientToServer].TTL = 64
	f.Dir[model.ServerToClient].TTL = 63
	return f
}

func TestAssessLoss(t *testing.T) {
	c2s, s2c := model.ClientToServer, model.ServerToClient
	tests := []struct {
		name  string
		point model.CapturePoint
		evs   []model.Event
		want  [2]dirLoss // only the counters are compared
	}{
		{"gap filled at the receiver: lost before the capture", model.PointClient,
			[]model.Event{ev(1, s2c, model.EvLostSegment, 2000, 100), unseen(ev(2, s2c, model.EvRetransmission, 1000, 1000))},
			[2]dirLoss{{}, {before: 1, holes: 1}}},
		{"ACKed-unseen answering a retransmission (D-SACK after real loss): no capture drop", model.PointClient,
			[]model.Event{ev(1, s2c, model.EvRetransmission, 2635, 123), ev(2, c2s, model.EvAckedUnseen, 325, 0)},
			[2]dirLoss{{}, {ambiguous: 1}}},
		{"ACKed-unseen with no retransmission before it: the capture missed the data", model.PointClient,
			[]model.Event{ev(2, c2s, model.EvAckedUnseen, 325, 0)},
			[2]dirLoss{{}, {drops: 1}}},
		{"gap in the capture host's own data: the capture missed it", model.PointClient,
			[]model.Event{ev(1, c2s, model.EvLostSegment, 2000, 100), unseen(ev(2, c2s, model.EvRetransmission, 1000, 1000))},
			[2]dirLoss{{drops: 1, holes: 1}, {}}},
		{"the peer, heard since, never got it: data lost after the capture", model.PointServer,
			[]model.Event{peerMissing(ev(1, s2c, model.EvRetransmission, 1000, 1000))},
			[2]dirLoss{{}, {after: 1}}},
		{"fast retransmission: data lost after the capture", model.PointServer,
			[]model.Event{ev(1, s2c, model.EvFastRetransmission, 1000, 1000)},
			[2]dirLoss{{}, {after: 1}}},
		{"data already ACKed sent again: the ACKs are lost", model.PointServer,
			[]model.Event{ev(1, c2s, model.EvSpuriousRetrans, 1000, 39)},
			[2]dirLoss{{spurious: 1}, {after: 1}}},
		{"spurious at the sender's own capture says nothing", model.PointClient,
			[]model.Event{ev(1, c2s, model.EvSpuriousRetrans, 1000, 39)},
			[2]dirLoss{{spurious: 1}, {}}},
		{"retransmission of seen data, peer silent: data or ACK, unknown", model.PointClient,
			[]model.Event{ev(1, c2s, model.EvRetransmission, 1000, 39), ev(2, c2s, model.EvRetransmission, 1000, 39)},
			[2]dirLoss{{ambiguous: 2}, {}}},
		{"ACKed unseen: capture drops of the other direction's data", model.PointMiddle,
			[]model.Event{ev(1, s2c, model.EvLostSegment, 5000, 100), ev(2, c2s, model.EvAckedUnseen, 1, 0)},
			[2]dirLoss{{}, {drops: 1, holes: 1}}},
		{"gap never filled at the receiver: lost before the capture", model.PointClient,
			[]model.Event{ev(1, s2c, model.EvLostSegment, 5000, 100)},
			[2]dirLoss{{}, {before: 1, holes: 1}}},
		{"SYN sent again after the capture saw the SYN-ACK: the SYN-ACK was lost", model.PointServer,
			[]model.Event{answered(ev(1, c2s, model.EvRetransmission, 0, 0))},
			[2]dirLoss{{}, {after: 1}}},
		{"reordering of seen data is no loss", model.PointClient,
			[]model.Event{ev(1, s2c, model.EvOutOfOrder, 1000, 100)},
			[2]dirLoss{}},
		{"a gap filled by its original, delayed (an older IP ID): no loss", model.PointClient,
			[]model.Event{ev(1, s2c, model.EvLostSegment, 2000, 100), late(unseen(ev(2, s2c, model.EvOutOfOrder, 1000, 1000)))},
			[2]dirLoss{{}, {holes: 1, late: 1}}},
		{"a late original taken for a retransmission: no loss", model.PointClient,
			[]model.Event{ev(1, s2c, model.EvLostSegment, 2000, 100), late(unseen(ev(2, s2c, model.EvRetransmission, 1000, 1000)))},
			[2]dirLoss{{}, {holes: 1, late: 1}}},
		{"a retransmission filled the gap, then its original came: no loss", model.PointClient,
			[]model.Event{ev(1, s2c, model.EvLostSegment, 2000, 100), unseen(ev(2, s2c, model.EvFastRetransmission, 1000, 1000)),
				late(ev(3, s2c, model.EvSpuriousRetrans, 1000, 1000))},
			[2]dirLoss{{}, {holes: 1, late: 1}}},
		{"a retransmission filled the gap and no original came: lost before the capture", model.PointClient,
			[]model.Event{ev(1, s2c, model.EvLostSegment, 2000, 100), unseen(ev(2, s2c, model.EvFastRetransmission, 1000, 1000)),
				late(ev(3, s2c, model.EvSpuriousRetrans, 5000, 1000))},
			[2]dirLoss{{}, {before: 1, holes: 1, late: 1}}},
		{"a late copy of seen data is neither loss nor a filled gap", model.PointClient,
			[]model.Event{ev(1, s2c, model.EvLostSegment, 2000, 100), late(ev(2, s2c, model.EvRetransmission, 1000, 1000))},
			[2]dirLoss{{}, {before: 1, holes: 1}}},
		{"spurious retransmissions on a reordered direction: no lost ACKs", model.PointClient,
			[]model.Event{late(unseen(ev(1, s2c, model.EvOutOfOrder, 1000, 1000))), ev(2, s2c, model.EvSpuriousRetrans, 1000, 1000)},
			[2]dirLoss{{}, {spurious: 1, late: 1}}},
		{"gaps some filled late, one never: that one lost before the capture", model.PointClient,
			[]model.Event{ev(1, s2c, model.EvLostSegment, 2000, 100), late(unseen(ev(2, s2c, model.EvOutOfOrder, 1000, 1000))),
				ev(3, s2c, model.EvLostSegment, 9000, 100)},
			[2]dirLoss{{}, {before: 1, holes: 2, late: 1}}},
		{"the sender retransmits data whose original came late: reordering, not loss after the capture", model.PointClient,
			[]model.Event{ev(1, s2c, model.EvLostSegment, 2000, 100), late(unseen(ev(2, s2c, model.EvOutOfOrder, 1000, 1000))),
				peerMissing(ev(3, s2c, model.EvRetransmission, 1000, 500)), ev(4, s2c, model.EvFastRetransmission, 1500, 500)},
			[2]dirLoss{{}, {holes: 1, late: 1}}},
		{"a retransmission of data a late copy repeated (the capture saw it first in order): counted as it was", model.PointClient,
			[]model.Event{late(ev(1, s2c, model.EvOutOfOrder, 1000, 1000)), peerMissing(ev(2, s2c, model.EvRetransmission, 1000, 1000))},
			[2]dirLoss{{}, {after: 1}}},
		{"a retransmission of data beyond the late original's: lost after the capture", model.PointClient,
			[]model.Event{ev(1, s2c, model.EvLostSegment, 2000, 100), late(unseen(ev(2, s2c, model.EvOutOfOrder, 1000, 1000))),
				peerMissing(ev(3, s2c, model.EvRetransmission, 1500, 1000))},
			[2]dirLoss{{}, {after: 1, holes: 1, late: 1}}},
		{"copies the receiver, captured, reported as duplicates (D-SACK): no loss", model.PointClient,
			[]model.Event{dsacked(peerMissing(ev(1, s2c, model.EvRetransmission, 1000, 1000))), dsacked(ev(2, s2c, model.EvFastRetransmission, 2000, 1000))},
			[2]dirLoss{}},
		{"copies reported as duplicates at the sender's capture: the data arrived, its ACK or none was late", model.PointServer,
			[]model.Event{dsacked(peerMissing(ev(1, s2c, model.EvRetransmission, 1000, 1000))), dsacked(ev(2, s2c, model.EvFastRetransmission, 2000, 1000))},
			[2]dirLoss{{}, {ambiguous: 2}}},
		{"copies reported as duplicates in the middle: the data or its ACK, unknown", model.PointMiddle,
			[]model.Event{dsacked(peerMissing(ev(1, s2c, model.EvRetransmission, 1000, 1000))), dsacked(ev(2, c2s, model.EvRetransmission, 500, 100))},
			[2]dirLoss{{ambiguous: 1}, {ambiguous: 1}}},
		{"one copy lost, the next reported a duplicate: the first counted", model.PointServer,
			[]model.Event{peerMissing(ev(1, s2c, model.EvRetransmission, 1000, 1000)), dsacked(ev(2, s2c, model.EvRetransmission, 1000, 1000))},
			[2]dirLoss{{}, {after: 1, ambiguous: 1}}},
		{"a D-SACK for a gap the capture never saw: still lost before it", model.PointClient,
			[]model.Event{ev(1, s2c, model.EvLostSegment, 2000, 100), dsacked(unseen(ev(2, s2c, model.EvRetransmission, 1000, 1000)))},
			[2]dirLoss{{}, {before: 1, holes: 1}}},
		{"a retransmission before the late original came: counted as it was", model.PointClient,
			[]model.Event{peerMissing(ev(1, s2c, model.EvRetransmission, 1000, 1000)), late(ev(2, s2c, model.EvSpuriousRetrans, 1000, 1000))},
			[2]dirLoss{{}, {after: 1, late: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := assessLoss(testConn(100, tt.evs...), tt.point, [2]int{})
			for d := range got {
				g, w := got[d], tt.want[d]
				g.retrans, w.retrans = nil, nil
				if !reflect.DeepEqual(g, w) {
					t.Errorf("%s: got %+v, want %+v", model.Direction(d), g, w)
				}
			}
		})
	}
}

func TestJudge(t *testing.T) {
	c2s, s2c := model.ClientToServer, model.ServerToClient
	type want struct {
		kind     model.Kind
		dir      model.LossDirection
		loc      model.LossLocation
		suspects []model.Suspect
		summary  string // substring
	}
	tests := []struct {
		name  string
		point model.CapturePoint
		conn  func() (*model.Connection, *Facts)
		want  want
	}{
		{"clean close", model.PointClient, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].FIN = mark(50)
			return testConn(600, ev(50, c2s, model.EvFIN, 100, 0)), f
		}, want{model.KindHealthy, model.LossNone, model.LocationUnknown, nil, "No loss; closed by the client"}},
		{"one tail loss probe is no loss", model.PointServer, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].FIN = mark(50)
			return testConn(600, ev(5, s2c, model.EvRetransmission, 100, 80)), f
		}, want{model.KindHealthy, model.LossNone, model.LocationUnknown, nil, "No loss"}},
		{"loss server->client seen at the client, recovered", model.PointClient, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].FIN = mark(50)
			return testConn(600,
				ev(2, s2c, model.EvLostSegment, 3000, 1448), unseen(ev(3, s2c, model.EvFastRetransmission, 1552, 1448)),
				ev(4, s2c, model.EvLostSegment, 9000, 1448), unseen(ev(5, s2c, model.EvRetransmission, 7552, 1448))), f
		}, want{model.KindDegraded, model.LossServerToClient, model.BeforeCapture, nil, "server->client, before the capture point"}},
		{"decoded PING without ACK, then the client closes", model.PointClient, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].FIN = mark(140)
			c := testConn(1600, ev(21, c2s, model.EvRetransmission, 500, 17), ev(140, c2s, model.EvFIN, 517, 0))
			idle := 30000.0
			c.HTTP2 = &model.HTTP2{Pings: []model.Ping{{Frame: 20, Time: at(200), From: "client", Sender: "go-health-check", IdleMs: &idle}}}
			return c, f
		}, want{model.KindLostPing, model.LossUnknown, model.LocationUnknown, nil, "health-check PING (frame 20) got no ACK"}},
		// The ping-close generator: a PING, the client's own close 12 ms
		// later, the ACK after it. No PingTimeout is that short.
		{"decoded PING, the client closes 12 ms later: its own close, not a lost PING", model.PointClient, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].FIN = SegRef{Frame: 21, Time: at(212)}
			f.Dir[c2s].Last = []SegRef{{Frame: 20, Time: at(200), Len: 17}}
			c := testConn(600, model.Event{Frame: 21, Time: at(212), Dir: c2s, Kind: model.EvFIN, Seq: 517})
			ack := at(240)
			c.HTTP2 = &model.HTTP2{Pings: []model.Ping{{Frame: 20, Time: at(200), From: "client", Acked: true, AckFrame: 22, AckTime: &ack}}}
			return c, f
		}, want{model.KindHealthy, model.LossNone, model.LocationUnknown, nil, "closed by the client; the client closed 12 ms after its PING (frame 20), before any answer: a close of its own, not a lost PING"}},
		{"an earlier PING unanswered for PingTimeout before the close is still lost", model.PointClient, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].FIN = SegRef{Frame: 140, Time: at(1400)}
			c := testConn(1600, ev(140, c2s, model.EvFIN, 534, 0))
			c.HTTP2 = &model.HTTP2{Pings: []model.Ping{
				{Frame: 20, Time: at(200), From: "client", Sender: "go-health-check"},
				{Frame: 139, Time: at(1390), From: "client"},
			}}
			return c, f
		}, want{model.KindLostPing, model.LossUnknown, model.LocationUnknown, nil, "PING (frame 20) got no ACK"}},
		// TLS without keys at the client: idle 2 s, a PING-sized record,
		// the client's RST 8 ms later (the server's answer unread). Seen
		// leaving the client, the record was not retransmitted: a close
		// that soon is the client's own, whatever the RST.
		{"TCP only at the client: a record, the client's RST 8 ms later, is no lost PING", model.PointClient, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].AckAdvance, f.Dir[c2s].AckAdvanceFrame = at(100), 10
			f.Dir[c2s].Stall = SegRef{Frame: 300, Time: at(3000), Len: 39}
			f.Dir[c2s].Last = []SegRef{{Frame: 300, Time: at(3000), Len: 39}}
			f.Dir[c2s].RST = SegRef{Frame: 301, Time: at(3008)}
			return testConn(3010, model.Event{Frame: 301, Time: at(3008), Dir: c2s, Kind: model.EvRST, Seq: 939}), f
		}, want{model.KindReset, model.LossNone, model.LocationUnknown, nil, "reset"}},
		{"PING without ACK, retransmitted, close never captured", model.PointClient, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].Stall = mark(20)
			f.Dir[c2s].Last = []SegRef{mark(10), mark(20)}
			c := testConn(600, ev(21, c2s, model.EvRetransmission, 500, 17), ev(25, c2s, model.EvRetransmission, 500, 17))
			idle := 2000.0
			c.HTTP2 = &model.HTTP2{Pings: []model.Ping{{Frame: 20, Time: at(200), From: "client", Sender: "go-health-check", IdleMs: &idle}}}
			return c, f
		}, want{model.KindLostPing, model.LossUnknown, model.LocationUnknown, nil, "its close never reached the capture"}},
		{"PING ACKed at the server, never acknowledged by the client", model.PointServer, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[s2c].Stall = mark(21)
			f.Dir[c2s].Last = []SegRef{mark(20)}
			ack := at(210)
			c := testConn(600, peerMissing(ev(23, c2s, model.EvSpuriousRetrans, 500, 17)), ev(24, s2c, model.EvRetransmission, 900, 17),
				peerMissing(ev(26, c2s, model.EvSpuriousRetrans, 500, 17)), ev(27, s2c, model.EvRetransmission, 900, 17))
			c.HTTP2 = &model.HTTP2{Pings: []model.Ping{{Frame: 20, Time: at(200), From: "client", Sender: "go-health-check", Acked: true, AckFrame: 21, AckTime: &ack}}}
			return c, f
		}, want{model.KindLostPing, model.LossServerToClient, model.AfterCapture, nil, "the ACK never reached the client"}},
		{"PING without ACK but new client data after it: not the health check failing", model.PointClient, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].Stall = mark(20)
			f.Dir[c2s].Last = []SegRef{mark(20), mark(30)}
			c := testConn(600, ev(21, c2s, model.EvRetransmission, 500, 17), ev(22, c2s, model.EvRetransmission, 500, 17))
			c.HTTP2 = &model.HTTP2{Pings: []model.Ping{{Frame: 20, Time: at(200), From: "client"}}}
			return c, f
		}, want{model.KindSilent, model.LossUnknown, model.LocationUnknown, nil, "Traffic stopped"}},
		{"PING without ACK after the server's GOAWAY is the GOAWAY's", model.PointClient, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[s2c].FIN = mark(31)
			f.Dir[c2s].FIN = mark(40)
			c := testConn(600)
			c.HTTP2 = &model.HTTP2{
				Pings:   []model.Ping{{Frame: 20, Time: at(200), From: "client"}},
				Goaways: []model.Goaway{{Frame: 30, From: "server", Error: "ENHANCE_YOUR_CALM", Debug: "too_many_pings"}},
			}
			return c, f
		}, want{model.KindGoaway, model.LossNone, model.LocationUnknown, []model.Suspect{model.SuspectTooManyPings}, "too_many_pings"}},
		{"server draining: GOAWAY NO_ERROR is benign", model.PointServer, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].FIN = mark(40)
			c := testConn(600)
			c.HTTP2 = &model.HTTP2{Goaways: []model.Goaway{{Frame: 30, From: "server", Error: "NO_ERROR"}}}
			return c, f
		}, want{model.KindGoaway, model.LossNone, model.LocationUnknown, nil, "benign"}},
		{"the server's GOAWAY answering the client's is part of the close", model.PointServer, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].FIN = mark(40)
			c := testConn(600)
			c.HTTP2 = &model.HTTP2{Goaways: []model.Goaway{{Frame: 30, From: "client", Error: "NO_ERROR"}, {Frame: 31, From: "server", Error: "NO_ERROR"}}}
			return c, f
		}, want{model.KindHealthy, model.LossNone, model.LocationUnknown, nil, "No loss"}},
		{"TCP only: idle, data retransmitted unanswered, client close", model.PointClient, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].AckAdvance, f.Dir[c2s].AckAdvanceFrame = at(100), 10
			f.Dir[c2s].Stall = SegRef{Frame: 300, Time: at(3000), Len: 39}
			f.Dir[c2s].Last = []SegRef{{Frame: 300, Time: at(3000), Len: 39}}
			f.Dir[c2s].RST = mark(450)
			return testConn(4600, ev(310, c2s, model.EvRetransmission, 900, 39), ev(330, c2s, model.EvRetransmission, 900, 39), ev(450, c2s, model.EvRST, 939, 0)), f
		}, want{model.KindLostPing, model.LossUnknown, model.LocationUnknown, nil, "a capture on the server side would tell"}},
		{"TCP only, at the server: the client retransmits what the server ACKed", model.PointServer, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].TTL, f.Dir[s2c].TTL = 63, 64
			f.Dir[c2s].AckAdvance, f.Dir[c2s].AckAdvanceFrame = at(100), 10
			f.Dir[c2s].Stall = SegRef{Frame: 300, Time: at(3000), Len: 39}
			f.Dir[c2s].RST = mark(450)
			return testConn(4600,
				ev(305, s2c, model.EvRetransmission, 700, 39), ev(310, c2s, model.EvSpuriousRetrans, 900, 39),
				ev(330, c2s, model.EvSpuriousRetrans, 900, 39), ev(450, c2s, model.EvRST, 939, 0)), f
		}, want{model.KindLostPing, model.LossServerToClient, model.AfterCapture, nil, "server->client, after the capture point"}},
		{"a client resetting long after its last data, without loss, is a reset", model.PointClient, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].AckAdvance = at(100)
			f.Dir[c2s].Stall = SegRef{Frame: 12, Time: at(120), Len: 13}
			f.Dir[c2s].RST = mark(300)
			return testConn(5000, ttl(ev(300, c2s, model.EvRST, 900, 0), 64)), f
		}, want{model.KindReset, model.LossNone, model.LocationUnknown, nil, "The client reset the connection (frame 300)."}},
		{"away from the client: silence, then its data and at once its RST", model.PointServer, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].TTL, f.Dir[s2c].TTL = 63, 64
			f.Dir[c2s].AckAdvance = at(100)
			f.Dir[c2s].Stall = SegRef{Frame: 700, Time: at(7000), Len: 15}
			f.Dir[c2s].RST = SegRef{Frame: 702, Time: at(7001)}
			return testConn(8000, ttl(ev(702, c2s, model.EvRST, 900, 0), 63)), f
		}, want{model.KindLostPing, model.LossUnknown, model.LocationUnknown, nil, "a capture on the client side would tell"}},
		{"long idle, then nothing back at all: idle timeout", model.PointClient, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].AckAdvance, f.Dir[c2s].AckAdvanceFrame = at(100), 10
			f.Dir[c2s].Stall = SegRef{Frame: 30, Time: at(100 + 5*60*1000), Len: 39}
			f.Dir[c2s].Last = []SegRef{f.Dir[c2s].Stall}
			f.Dir[s2c].LastSeen = at(90)
			f.Dir[c2s].FIN = SegRef{Frame: 40, Time: at(100 + 5*60*1000 + 15000)}
			c := testConn(100+5*60*1000+16000, ev(31, c2s, model.EvRetransmission, 900, 39), ev(32, c2s, model.EvRetransmission, 900, 39))
			c.Events[0].Time, c.Events[1].Time = at(100+5*60*1000+200), at(100+5*60*1000+600)
			return c, f
		}, want{model.KindLostPing, model.LossUnknown, model.LocationUnknown, []model.Suspect{model.SuspectIdleTimeout}, "dropped the idle flow"}},
		{"idle client closing by itself is no lost ping", model.PointClient, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].AckAdvance = at(100)
			f.Dir[c2s].Stall = SegRef{Frame: 12, Time: at(120), Len: 13} // a WINDOW_UPDATE
			f.Dir[c2s].FIN = mark(500)
			return testConn(5000), f
		}, want{model.KindHealthy, model.LossNone, model.LocationUnknown, nil, "No loss"}},
		{"the client resets an established connection: a reset, not a failed dial", model.PointClient, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].RST = mark(400)
			f.Dir[c2s].DataSegs = 3
			c := testConn(4000, ev(400, c2s, model.EvRST, 1, 0))
			c.TCP = model.TCPStats{ClientToServer: model.DirStats{Packets: 5, Resets: 1}, ServerToClient: model.DirStats{Packets: 4}}
			return c, f
		}, want{model.KindReset, model.LossNone, model.LocationUnknown, nil, "The client reset the connection (frame 400)"}},
		{"a BDP PING without ACK, then the client closes: no lost ping", model.PointClient, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].FIN = mark(21)
			c := testConn(600, ev(21, c2s, model.EvFIN, 517, 0))
			c.HTTP2 = &model.HTTP2{Detected: "preface", Pings: []model.Ping{{Frame: 20, Time: at(200), From: "client", Sender: model.PingGRPCBDP}}}
			return c, f
		}, want{model.KindHealthy, model.LossNone, model.LocationUnknown, nil, "No loss"}},
		{"gRPC client with only BDP PINGs gives up on stalled data: no inferred lost ping", model.PointServer, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].AckAdvance = at(100)
			f.Dir[c2s].Stall = SegRef{Frame: 30, Time: at(300), Len: 42}
			f.Dir[c2s].Last = []SegRef{mark(30)}
			f.Dir[c2s].FIN = mark(500)
			c := testConn(5100, ev(35, c2s, model.EvRetransmission, 900, 42), ev(500, c2s, model.EvFIN, 942, 0))
			c.HTTP2 = &model.HTTP2{Detected: "preface", Pings: []model.Ping{{Frame: 12, Time: at(120), From: "client", Sender: model.PingGRPCBDP, Acked: true, AckFrame: 13}}}
			return c, f
		}, want{model.KindHealthy, model.LossNone, model.LocationUnknown, nil, "No loss"}},
		{"an idle rafthttp keep-alive connection is not silent", model.PointClient, func() (*model.Connection, *Facts) {
			c := testConn(1000)
			c.App, c.Etcd = model.AppEtcdPeer, &model.EtcdPeer{Stream: model.EtcdVersion, Requests: 2, Idle: true}
			return c, testFacts()
		}, want{model.KindHealthy, model.LossNone, model.LocationUnknown, nil, "No loss"}},
		{"a rafthttp stream that stopped mid-body is silent", model.PointClient, func() (*model.Connection, *Facts) {
			c := testConn(1000)
			c.App, c.Etcd = model.AppEtcdPeer, &model.EtcdPeer{Stream: model.EtcdStreamMessage, Requests: 1}
			return c, testFacts()
		}, want{model.KindSilent, model.LossNone, model.LocationUnknown, nil, "Traffic stopped"}},
		{"TLS without keys: the client closes right after a record the server sent unasked: an inferred GOAWAY", model.PointClient, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].Last = []SegRef{mark(10)}
			f.Dir[s2c].Last = []SegRef{{Frame: 400, Time: at(4000), Len: 40}}
			f.Dir[c2s].FIN = SegRef{Frame: 401, Time: at(4001)}
			c := testConn(4100, ev(401, c2s, model.EvFIN, 900, 0))
			c.App, c.TLS = "tls", &model.TLS{ALPNOffered: []string{"h2", "http/1.1"}}
			return c, f
		}, want{model.KindGoaway, model.LossNone, model.LocationUnknown, nil, "the way an HTTP/2 client answers a GOAWAY"}},
		{"TLS that did not offer h2: a close_notify and the close are no GOAWAY", model.PointClient, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].Last = []SegRef{mark(10)}
			f.Dir[s2c].Last = []SegRef{{Frame: 400, Time: at(4000), Len: 40}}
			f.Dir[c2s].FIN = SegRef{Frame: 401, Time: at(4001)}
			c := testConn(4100, ev(401, c2s, model.EvFIN, 900, 0))
			c.App, c.TLS = "tls", &model.TLS{ALPNOffered: []string{"http/1.1"}, NoH2: true}
			return c, f
		}, want{model.KindHealthy, model.LossNone, model.LocationUnknown, nil, "No loss"}},
		{"reset by a middlebox: TTL differs from the server's", model.PointClient, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[s2c].RST = mark(40)
			return testConn(400, ttl(ev(40, s2c, model.EvRST, 700, 0), 64)), f
		}, want{model.KindReset, model.LossNone, model.LocationUnknown, []model.Suspect{model.SuspectMiddleboxReset}, "a firewall, NAT or load balancer in between"}},
		{"reset by the server itself", model.PointClient, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[s2c].RST = mark(40)
			return testConn(400, ttl(ev(40, s2c, model.EvRST, 700, 0), 63)), f
		}, want{model.KindReset, model.LossNone, model.LocationUnknown, nil, "The server reset the connection (frame 40)."}},
		{"reset after a long silence: idle timeout", model.PointClient, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[s2c].RST = mark(40)
			f.RSTGap = 350 * time.Second
			return testConn(400, ttl(ev(40, s2c, model.EvRST, 700, 0), 64)), f
		}, want{model.KindReset, model.LossNone, model.LocationUnknown, []model.Suspect{model.SuspectMiddleboxReset, model.SuspectIdleTimeout}, "idle timeout"}},
		{"traffic stops without close long before the capture ends", model.PointClient, func() (*model.Connection, *Facts) {
			return testConn(400), testFacts()
		}, want{model.KindSilent, model.LossNone, model.LocationUnknown, nil, "with no FIN or RST"}},
		{"zero window on a dying connection", model.PointClient, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[s2c].RST = mark(40)
			c := testConn(400, ev(20, c2s, model.EvZeroWindow, 100, 0), ttl(ev(40, s2c, model.EvRST, 700, 0), 63))
			c.TCP.ClientToServer.ZeroWindows = 1
			return c, f
		}, want{model.KindReset, model.LossNone, model.LocationUnknown, []model.Suspect{model.SuspectZeroWindow}, "reset"}},
		{"retransmissions unanswered to the end: blackholed, not degraded", model.PointClient, func() (*model.Connection, *Facts) {
			return deadClient()
		}, want{model.KindBlackholed, model.LossUnknown, model.LocationUnknown, nil, "the client sent its data (frame 100, 15 bytes) again 4 times over 3.0 s and the server never acknowledged it"}},
		{"at the server: its retransmissions unanswered, the client's spurious ones arriving", model.PointServer, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].TTL, f.Dir[s2c].TTL = 63, 64
			f.Dir[c2s].AckAdvance, f.Dir[c2s].AckAdvanceFrame = at(900), 90
			f.Dir[s2c].Unacked = SegRef{Frame: 101, Time: at(1010), Len: 13}
			f.Dir[s2c].RetryFirst, f.Dir[s2c].RetryLast, f.Dir[s2c].Retries = mark(130), mark(500), 4
			return testConn(5000, ev(120, c2s, model.EvSpuriousRetrans, 21, 15), ev(130, s2c, model.EvRetransmission, 31, 13),
				ev(170, s2c, model.EvRetransmission, 31, 13), ev(250, s2c, model.EvRetransmission, 31, 13), ev(500, s2c, model.EvRetransmission, 31, 13)), f
		}, want{model.KindBlackholed, model.LossServerToClient, model.AfterCapture, nil, "server->client black-holed"}},
		{"retransmissions unanswered, then the peer's RST: its host answered", model.PointClient, func() (*model.Connection, *Facts) {
			c, f := deadClient()
			f.Dir[s2c].RST = mark(450)
			c.Events = append(c.Events, ttl(ev(450, s2c, model.EvRST, 31, 0), 63))
			return c, f
		}, want{model.KindReset, model.LossNone, model.LocationUnknown, nil, "The server reset the connection (frame 450)"}},
		{"retransmissions unanswered for less than a second: not yet dead", model.PointClient, func() (*model.Connection, *Facts) {
			c, f := deadClient()
			f.Dir[c2s].RetryLast = mark(160)
			f.Dir[c2s].Retries = 2
			c.Events = c.Events[:2]
			c.End = at(19990) // traffic went on to the end: not silent
			return c, f
		}, want{model.KindDegraded, model.LossUnknown, model.LocationUnknown, nil, "TCP recovered"}},
		{"the server's TCP ACKed the request and the PING, nothing came back: stalled", model.PointClient, func() (*model.Connection, *Facts) {
			return stalledClient(true)
		}, want{model.KindLostPing, model.LossNone, model.LocationUnknown, []model.Suspect{model.SuspectServerStalled}, "the server application was stalled"}},
		{"TLS not decrypted: records the server's TCP ACKed, none back: stalled", model.PointClient, func() (*model.Connection, *Facts) {
			c, f := stalledClient(true)
			c.App, c.HTTP2 = "tls", &model.HTTP2{Detected: "tls-record-sizes", Pings: []model.Ping{{Frame: 300, Time: at(3000), From: model.SideClient, Inferred: true}}}
			return c, f
		}, want{model.KindLostPing, model.LossNone, model.LocationUnknown, []model.Suspect{model.SuspectServerStalled}, "ACK in frame 101"}},
		{"what went unanswered asked for nothing (a WINDOW_UPDATE): not stalled", model.PointClient, func() (*model.Connection, *Facts) {
			c, f := stalledClient(true)
			c.HTTP2.Pings, c.HTTP2.Streams = nil, c.HTTP2.Streams[:1]
			return c, f
		}, want{model.KindHealthy, model.LossNone, model.LocationUnknown, nil, "No loss"}},
		{"not HTTP/2 nor TLS: not judged stalled", model.PointClient, func() (*model.Connection, *Facts) {
			c, f := stalledClient(true)
			c.App, c.HTTP2 = "unknown", nil
			return c, f
		}, want{model.KindHealthy, model.LossNone, model.LocationUnknown, nil, "No loss"}},
		{"nothing came back and the server's TCP never ACKed it either: not stalled, the network may be", model.PointClient, func() (*model.Connection, *Facts) {
			return stalledClient(false)
		}, want{model.KindLostPing, model.LossUnknown, model.LocationUnknown, nil, "a capture on the server side would tell"}},
		// etcd's peers over TLS: rafthttp's client offers no ALPN, so no
		// HTTP/2 inference. As "away from the client: silence, then its
		// data and at once its RST" above, but it was a request (GET
		// /members), not a PING: the RST stays a reset.
		{"TLS offering no h2: the client's data unanswered, then its RST, is no lost PING", model.PointServer, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].TTL, f.Dir[s2c].TTL = 63, 64
			f.Dir[c2s].AckAdvance = at(100)
			f.Dir[c2s].Stall = SegRef{Frame: 700, Time: at(7000), Len: 15}
			f.Dir[c2s].RST = SegRef{Frame: 702, Time: at(7001)}
			c := testConn(8000, ttl(ev(702, c2s, model.EvRST, 900, 0), 63))
			c.App, c.TLS = "tls", &model.TLS{Version: "TLS 1.3", NoH2: true}
			return c, f
		}, want{model.KindReset, model.LossNone, model.LocationUnknown, nil, "reset"}},
		{"HTTP/1.1 in the clear: a request unanswered for a second, then the client's FIN, is no lost PING", model.PointServer, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].AckAdvance = at(100)
			f.Dir[c2s].Stall = SegRef{Frame: 200, Time: at(2000), Len: 126}
			f.Dir[c2s].Last = []SegRef{f.Dir[c2s].Stall}
			f.Dir[c2s].FIN = mark(300)
			c := testConn(4000, ev(250, c2s, model.EvRetransmission, 1, 126), ev(300, c2s, model.EvFIN, 127, 0))
			c.App = "http1"
			return c, f
		}, want{model.KindHealthy, model.LossNone, model.LocationUnknown, nil, "closed by the client"}},
		// Go's TLS 1.3 client closing: its close_notify (24 bytes), then,
		// the server's own close_notify arriving unread, an RST.
		{"TLS 1.3: the client's RST 1 ms after its close_notify ends its close, no reset", model.PointClient, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].Last = []SegRef{{Frame: 50, Time: at(500), Len: 131}, {Frame: 53, Time: at(530), Len: 24}}
			f.Dir[s2c].Last = []SegRef{{Frame: 52, Time: at(520), Len: 190}, {Frame: 54, Time: at(530), Len: 24}}
			f.Dir[c2s].RST = SegRef{Frame: 55, Time: at(531)}
			c := testConn(600, model.Event{Frame: 55, Time: at(531), Dir: c2s, Kind: model.EvRST, Seq: 300})
			c.App, c.TLS = "tls", &model.TLS{Version: "TLS 1.3", NoH2: true, ClientAppRecords: 3, ClientAppLastLen: 24}
			return c, f
		}, want{model.KindHealthy, model.LossNone, model.LocationUnknown, nil, "No loss"}},
		{"TLS 1.3: a request unanswered, then the client's close_notify and RST: a reset", model.PointClient, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].AckAdvance = at(100)
			f.Dir[c2s].Stall = SegRef{Frame: 50, Time: at(500), Len: 131}
			f.Dir[c2s].Last = []SegRef{f.Dir[c2s].Stall, {Frame: 53, Time: at(530), Len: 24}}
			f.Dir[c2s].RST = SegRef{Frame: 55, Time: at(531)}
			c := testConn(600, model.Event{Frame: 55, Time: at(531), Dir: c2s, Kind: model.EvRST, Seq: 300})
			c.App, c.TLS = "tls", &model.TLS{Version: "TLS 1.3", NoH2: true, ClientAppRecords: 3, ClientAppLastLen: 24}
			return c, f
		}, want{model.KindReset, model.LossNone, model.LocationUnknown, nil, "reset"}},
		{"TLS 1.3: an RST 1 ms after a request-sized record is a reset", model.PointClient, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].Last = []SegRef{{Frame: 53, Time: at(530), Len: 131}}
			f.Dir[c2s].RST = SegRef{Frame: 55, Time: at(531)}
			c := testConn(600, model.Event{Frame: 55, Time: at(531), Dir: c2s, Kind: model.EvRST, Seq: 300})
			c.App, c.TLS = "tls", &model.TLS{Version: "TLS 1.3", NoH2: true, ClientAppRecords: 2, ClientAppLastLen: 131}
			return c, f
		}, want{model.KindReset, model.LossNone, model.LocationUnknown, nil, "reset"}},
		// HTTP/1.1 over TLS without keys, its request answered, then idle
		// in its client's pool past the capture's end (silentAfter).
		{"TLS offering no h2, the server spoke last: idle, not silent", model.PointClient, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].Last = []SegRef{{Frame: 50, Time: at(500), Len: 126}}
			f.Dir[s2c].Last = []SegRef{{Frame: 60, Time: at(600), Len: 408}}
			c := testConn(610)
			c.App, c.TLS = "tls", &model.TLS{Version: "TLS 1.3", NoH2: true}
			return c, f
		}, want{model.KindHealthy, model.LossNone, model.LocationUnknown, nil, "No loss"}},
		{"TLS offering h2, the server spoke last, then nothing: silent", model.PointClient, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].Last = []SegRef{{Frame: 50, Time: at(500), Len: 126}}
			f.Dir[s2c].Last = []SegRef{{Frame: 60, Time: at(600), Len: 408}}
			c := testConn(610)
			c.App, c.TLS = "tls", &model.TLS{Version: "TLS 1.3", ALPNOffered: []string{"h2"}}
			return c, f
		}, want{model.KindSilent, model.LossNone, model.LocationUnknown, nil, "Traffic stopped"}},
		{"capture drops are not network loss", model.PointMiddle, func() (*model.Connection, *Facts) {
			f := testFacts()
			f.Dir[c2s].FIN = mark(50)
			return testConn(600, ev(1, s2c, model.EvLostSegment, 5000, 100), ev(2, c2s, model.EvAckedUnseen, 1, 0)), f
		}, want{model.KindHealthy, model.LossNone, model.LocationUnknown, []model.Suspect{model.SuspectCaptureDrops}, "No loss"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := tt.conn()
			v := Judge(c, f, tt.point, at(20000))
			if v.Kind != tt.want.kind || v.LossDirection != tt.want.dir || v.LossLocation != tt.want.loc {
				t.Errorf("got %s %s %s, want %s %s %s: %s", v.Kind, v.LossDirection, v.LossLocation,
					tt.want.kind, tt.want.dir, tt.want.loc, v.Summary)
			}
			if !slices.Equal(v.Suspects, append([]model.Suspect{}, tt.want.suspects...)) {
				t.Errorf("suspects %v, want %v", v.Suspects, tt.want.suspects)
			}
			if !strings.Contains(v.Summary, tt.want.summary) || !strings.HasSuffix(v.Summary, ".") {
				t.Errorf("summary %q, want it to say %q", v.Summary, tt.want.summary)
			}
			if len(v.Evidence) > MaxEvidence || !slices.IsSortedFunc(v.Evidence, func(a, b model.Evidence) int { return a.Frame - b.Frame }) {
				t.Errorf("evidence %+v", v.Evidence)
			}
		})
	}
}

// deadClient: the client's 15 bytes at 1 s, sent again at 1.2, 1.6, 2.4
// and 4 s, never acknowledged; the server last ACKed new data at frame 50.
func deadClient() (*model.Connection, *Facts) {
	c2s, s2c := model.ClientToServer, model.ServerToClient
	f := testFacts()
	f.Dir[s2c].AckAdvance, f.Dir[s2c].AckAdvanceFrame = at(500), 50
	f.Dir[c2s].AckAdvance, f.Dir[c2s].AckAdvanceFrame = at(600), 60
	f.Dir[c2s].Unacked = SegRef{Frame: 100, Time: at(1000), Seq: 21, Len: 15}
	f.Dir[c2s].RetryFirst, f.Dir[c2s].RetryLast, f.Dir[c2s].Retries = mark(120), mark(400), 4
	return testConn(5000, ev(120, c2s, model.EvRetransmission, 21, 15), ev(160, c2s, model.EvRetransmission, 21, 15),
		ev(240, c2s, model.EvRetransmission, 21, 15), ev(400, c2s, model.EvRetransmission, 21, 15)), f
}

// stalledClient: the client's request (frame 100, bytes 21-60) and PING
// (frame 300) get no answer; with acked the server's TCP ACKs the
// request (frame 101); the client closes at 4 s.
func stalledClient(acked bool) (*model.Connection, *Facts) {
	c2s, s2c := model.ClientToServer, model.ServerToClient
	f := testFacts()
	f.Dir[c2s].AckAdvance, f.Dir[c2s].AckAdvanceFrame = at(150), 15
	f.Dir[s2c].AckAdvance, f.Dir[s2c].AckAdvanceFrame = at(3010), 301
	if acked {
		f.Dir[c2s].StallAcked = SegRef{Frame: 101, Time: at(1001)}
	}
	f.Dir[s2c].Last = []SegRef{{Frame: 11, Time: at(110), Len: 30}}
	f.Dir[c2s].Stall = SegRef{Frame: 100, Time: at(1000), Seq: 21, Len: 40}
	f.Dir[c2s].Last = []SegRef{f.Dir[c2s].Stall, {Frame: 300, Time: at(3000), Seq: 61, Len: 17}}
	f.Dir[c2s].FIN = mark(400)
	c := testConn(4100, ev(400, c2s, model.EvFIN, 78, 0))
	c.HTTP2 = &model.HTTP2{
		Pings:   []model.Ping{{Frame: 300, Time: at(3000), From: model.SideClient}},
		Streams: []model.H2Stream{{ID: 1, FirstFrame: 5, LastFrame: 11, Status: "200"}, {ID: 3, FirstFrame: 100, LastFrame: 100, State: model.StreamHalfClosedLocal}},
	}
	return c, f
}

// TestJudgeSince: verdict.since is the last packet that made progress,
// as each kind means it, and a blackholed verdict says how long the
// sender kept trying.
func TestJudgeSince(t *testing.T) {
	c2s, s2c := model.ClientToServer, model.ServerToClient
	c, f := deadClient()
	v := Judge(c, f, model.PointClient, at(5000))
	// Blackholed: the last time the dead direction's data was ACKed
	// (frame 50), not the client's later ACK of the server's data.
	if v.Since == nil || v.Since.Frame != 50 || !v.Since.Time.Equal(at(500)) {
		t.Errorf("blackholed since %+v, want frame 50", v.Since)
	}
	if v.RetryingMs == nil || *v.RetryingMs != 3000 || v.Retries != 4 {
		t.Errorf("retrying %v ms, %d retries; want 3000, 4", v.RetryingMs, v.Retries)
	}
	// Never ACKed at all: the last packet from the peer.
	f.Dir[s2c].AckAdvance, f.Dir[s2c].AckAdvanceFrame = time.Time{}, 0
	f.Dir[c2s].AckAdvance, f.Dir[c2s].AckAdvanceFrame = time.Time{}, 0
	f.Dir[s2c].Latest = mark(40)
	if v := Judge(c, f, model.PointClient, at(5000)); v.Since == nil || v.Since.Frame != 40 || !strings.Contains(v.Summary, "the last from the server was frame 40") {
		t.Errorf("without progress: since %+v: %s", v.Since, v.Summary)
	}
	// Lost ping: what the client last heard (its ACK of new server data).
	c, f = stalledClient(true)
	if v := Judge(c, f, model.PointClient, at(5000)); v.Since == nil || v.Since.Frame != 15 {
		t.Errorf("lost_ping since %+v, want frame 15", v.Since)
	}
	// Silent: the later progress of either side.
	f = testFacts()
	f.Dir[c2s].AckAdvance, f.Dir[c2s].AckAdvanceFrame = at(300), 30
	f.Dir[s2c].AckAdvance, f.Dir[s2c].AckAdvanceFrame = at(310), 31
	if v := Judge(testConn(400), f, model.PointServer, at(20000)); v.Kind != model.KindSilent || v.Since == nil || v.Since.Frame != 31 {
		t.Errorf("silent: %s since %+v, want frame 31", v.Kind, v.Since)
	}
	// Healthy: none.
	f.Dir[c2s].FIN = mark(40)
	if v := Judge(testConn(400), f, model.PointServer, at(500)); v.Since != nil || v.RetryingMs != nil {
		t.Errorf("healthy: since %+v, retrying %v", v.Since, v.RetryingMs)
	}
}

func TestMTUBlackhole(t *testing.T) {
	s2c := model.ServerToClient
	big := func(frame int, seq uint32) model.Event {
		return unseen(ev(frame, s2c, model.EvRetransmission, seq, 1448))
	}
	tests := []struct {
		name       string
		point      model.CapturePoint
		evs        []model.Event
		lossLen    int
		big, small int
		peerData   bool // the client sent data after the first loss
		want       bool
	}{
		{"receiver: only big ones lost, small ones pass", model.PointClient,
			[]model.Event{ev(1, s2c, model.EvLostSegment, 30000, 770), big(50, 19503)}, 1448, 0, 4, false, true},
		{"receiver: a small one was lost too", model.PointClient,
			[]model.Event{big(50, 19503), unseen(ev(51, s2c, model.EvRetransmission, 40000, 74))}, 1448, 0, 4, false, false},
		{"receiver: big ones got through after the loss (random loss)", model.PointClient,
			[]model.Event{big(50, 19503)}, 1448, 30, 4, false, false},
		{"receiver: nothing passed at all (a black hole for everything)", model.PointClient,
			[]model.Event{big(50, 19503)}, 1448, 0, 0, false, false},
		{"sender: the same big segment again and again, the peer still talks", model.PointServer,
			[]model.Event{peerMissing(ev(10, s2c, model.EvRetransmission, 19503, 1448)), peerMissing(ev(20, s2c, model.EvRetransmission, 19503, 1448))},
			1448, 0, 3, true, true},
		{"sender: the peer went quiet too", model.PointServer,
			[]model.Event{peerMissing(ev(10, s2c, model.EvRetransmission, 19503, 1448)), peerMissing(ev(20, s2c, model.EvRetransmission, 19503, 1448))},
			1448, 0, 3, false, false},
		{"small segments only", model.PointClient,
			[]model.Event{unseen(ev(5, s2c, model.EvRetransmission, 100, 300))}, 300, 0, 4, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := testFacts()
			f.Dir[s2c].LossLen, f.Dir[s2c].BigAfter, f.Dir[s2c].SmallAfter = tt.lossLen, tt.big, tt.small
			if tt.peerData {
				f.Dir[model.ClientToServer].Last = []SegRef{{Frame: 30, Time: at(300), Len: 37}}
			}
			c := testConn(600, tt.evs...)
			j := &judgement{c: c, f: f, point: tt.point}
			j.loss = assessLoss(c, tt.point, [2]int{})
			if got := j.mtuBlackhole(s2c); got != tt.want {
				t.Errorf("mtuBlackhole %v, want %v (loss %+v)", got, tt.want, j.loss[s2c])
			}
		})
	}
}

func TestCapturePoint(t *testing.T) {
	us := time.Microsecond
	tests := []struct {
		name       string
		a, b       time.Duration
		cttl, sttl int
		want       model.CapturePoint
	}{
		{"timing: far server, near client", 40 * time.Millisecond, 50 * us, 64, 50, model.PointClient},
		{"timing: near server", 30 * us, 40 * time.Millisecond, 50, 64, model.PointServer},
		{"timing wins over TTL near the client", 40 * time.Millisecond, 50 * us, 64, 50, model.PointClient},
		// Both ends' packets forwarded before the capture: a router or
		// load balancer (or a node routing its pods' traffic), however
		// near one end its timing puts it.
		{"both decremented beats timing (a load balancer by its backends)", 30 * us, 40 * time.Millisecond, 50, 63, model.PointMiddle},
		{"both decremented beats timing (a node capturing its pods)", 40 * time.Millisecond, 50 * us, 63, 50, model.PointMiddle},
		{"one direction only, the client's own packets", 0, 0, 64, 0, model.PointClient},
		{"one direction only, the server's own packets", 0, 0, 0, 128, model.PointServer},
		{"one direction only, forwarded: anywhere after a router", 0, 0, 0, 61, model.PointUnknown},
		{"sub-millisecond: TTL decides (client)", 43 * us, 12 * us, 64, 63, model.PointClient},
		{"sub-millisecond: TTL decides (server)", 18 * us, 17 * us, 63, 64, model.PointServer},
		{"both decremented: in between", 0, 0, 62, 60, model.PointMiddle},
		{"timing in between, TTLs undecided", 20 * time.Millisecond, 25 * time.Millisecond, 64, 64, model.PointMiddle},
		{"no handshake, no TTL", 0, 0, 0, 63, model.PointUnknown},
		{"Windows client", 0, 0, 128, 52, model.PointClient},
	}
	for _, tt := range tests {
		if got := capturePoint(tt.a, tt.b, tt.cttl, tt.sttl); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
	for _, tt := range []struct {
		in   []model.CapturePoint
		want model.CapturePoint
	}{
		{[]model.CapturePoint{model.PointClient, model.PointUnknown, model.PointClient, model.PointServer}, model.PointClient},
		{[]model.CapturePoint{model.PointClient, model.PointServer}, model.PointUnknown},
		{[]model.CapturePoint{model.PointUnknown}, model.PointUnknown},
		{nil, model.PointUnknown},
	} {
		if got := MajorityPoint(tt.in); got != tt.want {
			t.Errorf("MajorityPoint(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestDirTrackHoles(t *testing.T) {
	var d dirTrack
	d.addHole(seqRange{100, 200})
	d.addHole(seqRange{300, 400})
	if d.fill(50, 100) {
		t.Error("a segment before the hole fills it")
	}
	if !d.fill(100, 150) || d.holes[0] != (seqRange{150, 200}) {
		t.Errorf("start of the hole: %v", d.holes)
	}
	if !d.fill(150, 200) || len(d.holes) != 1 {
		t.Errorf("rest of the hole: %v", d.holes)
	}
	if !d.fill(350, 400) || d.holes[0] != (seqRange{300, 350}) {
		t.Errorf("end of a hole: %v", d.holes)
	}
	// Across the sequence wrap.
	d = dirTrack{}
	d.addHole(seqRange{0xffffff00, 0x100})
	if !d.fill(0xfffffff0, 0x10) {
		t.Error("fill across the wrap")
	}
	for i := 0; i < 2*maxHoles; i++ {
		d.addHole(seqRange{tcp.Seq(i * 10), tcp.Seq(i*10 + 5)})
	}
	if len(d.holes) != maxHoles {
		t.Errorf("%d holes kept, want %d", len(d.holes), maxHoles)
	}
}

func TestSummary(t *testing.T) {
	lost := func(client, server string, pings int) *model.Connection {
		c := testConn(100)
		c.Client, c.Server = client, server
		c.Verdict = &model.Verdict{Kind: model.KindLostPing, LossDirection: model.LossServerToClient}
		c.TCP.ServerToClient.Retransmissions = 3
		if pings > 0 {
			c.HTTP2 = &model.HTTP2{}
			for i := 0; i < pings; i++ {
				c.HTTP2.Pings = append(c.HTTP2.Pings, model.Ping{Frame: 10 + i, From: "client"})
			}
		}
		return c
	}
	healthy := func(client, server string) *model.Connection {
		c := testConn(100)
		c.Client, c.Server = client, server
		c.Verdict = &model.Verdict{Kind: model.KindHealthy, LossDirection: model.LossNone}
		return c
	}
	conns := []*model.Connection{
		lost("10.0.0.1:40000", "10.0.0.100:6443", 1),
		lost("10.0.0.2:40001", "10.0.0.100:6443", 0),
		healthy("10.0.0.3:40002", "10.0.0.100:6443"),
		healthy("10.0.1.3:40003", "10.0.0.7:2379"),
		healthy("[fd18:1::2]:5000", "[fd18:2::2]:8443"),
	}
	facts := make([]*Facts, len(conns))
	for i := range facts {
		facts[i] = testFacts()
		facts[i].Dir[model.ServerToClient].DataSegs = 10
	}
	s := Summarize(conns, facts, nil)
	if s.Connections != 5 || s.ProblemConnections != 2 {
		t.Errorf("counts %+v", s)
	}
	want := "2 of 5 connections lost (health-check PING unanswered); all to 10.0.0.100:6443; loss server->client."
	if s.Headline != want {
		t.Errorf("headline %q, want %q", s.Headline, want)
	}
	wantPaths := []model.Path{
		{ClientNet: "10.0.0.0/24", Server: "10.0.0.100:6443", Connections: 3, LostPings: 2, RetransmissionRate: 6.0 / 30},
		{ClientNet: "10.0.1.0/24", Server: "10.0.0.7:2379", Connections: 1},
		{ClientNet: "[fd18:1::]/64", Server: "[fd18:2::2]:8443", Connections: 1},
	}
	if !slices.Equal(s.Paths, wantPaths) {
		t.Errorf("paths\n got %+v\nwant %+v", s.Paths, wantPaths)
	}
	if h := Summarize(conns[2:], facts[2:], nil).Headline; h != "All 3 connections healthy." {
		t.Errorf("healthy headline %q", h)
	}
}

// A PING the server answered with GOAWAY (too_many_pings, a drain) was
// not lost: the path table must not count it.
func TestLostPingsGoaway(t *testing.T) {
	c := testConn(100)
	c.HTTP2 = &model.HTTP2{
		Pings:   []model.Ping{{Frame: 10, From: "client", Acked: true, AckFrame: 11}, {Frame: 20, From: "client"}},
		Goaways: []model.Goaway{{Frame: 21, From: "server", Error: "ENHANCE_YOUR_CALM", Debug: "too_many_pings"}},
	}
	if n := lostPings(c); n != 0 {
		t.Errorf("lostPings = %d with the unanswered PING followed by the server's GOAWAY, want 0", n)
	}
	c.HTTP2.Goaways = nil
	if n := lostPings(c); n != 1 {
		t.Errorf("lostPings = %d without the GOAWAY, want 1", n)
	}
}

// A server draining (GOAWAY NO_ERROR, no loss) is benign: not a problem
// connection, but said in the headline. ENHANCE_YOUR_CALM is a problem.
func TestSummaryBenignGoaway(t *testing.T) {
	goaway := func(code string, suspects ...model.Suspect) *model.Connection {
		c := testConn(100)
		c.Verdict = &model.Verdict{Kind: model.KindGoaway, LossDirection: model.LossNone, Suspects: suspects}
		c.HTTP2 = &model.HTTP2{Goaways: []model.Goaway{{Frame: 5, From: "server", Error: code}}}
		return c
	}
	conns := []*model.Connection{goaway("NO_ERROR"), goaway("NO_ERROR")}
	s := Summarize(conns, nil, nil)
	if s.ProblemConnections != 0 || s.BenignGoaways != 2 {
		t.Errorf("drain: problems %d, benign %d", s.ProblemConnections, s.BenignGoaways)
	}
	if want := "No problem in 2 connections; 2 drained by the server (GOAWAY NO_ERROR, benign)."; s.Headline != want {
		t.Errorf("headline %q, want %q", s.Headline, want)
	}
	s = Summarize([]*model.Connection{goaway("ENHANCE_YOUR_CALM", model.SuspectTooManyPings), goaway("NO_ERROR")}, nil, nil)
	if s.ProblemConnections != 1 || s.BenignGoaways != 1 {
		t.Errorf("calm+drain: problems %d, benign %d", s.ProblemConnections, s.BenignGoaways)
	}
}

// synFacts is a connection whose handshake never completed, as far as
// the capture saw: the client's SYNs at the frames in syns, the server's
// SYN-ACKs at those in synAcks; nothing else from either side.
func synFacts(syns, synAcks []int) *Facts {
	f := testFacts()
	side := func(d model.Direction, frames []int) {
		df := &f.Dir[d]
		df.SYNs = len(frames)
		if len(frames) > 0 {
			df.FirstSYN, df.LastSYN = mark(frames[0]), mark(frames[len(frames)-1])
		}
	}
	side(model.ClientToServer, syns)
	side(model.ServerToClient, synAcks)
	if len(synAcks) == 0 {
		f.Dir[model.ServerToClient].TTL = 0
	}
	return f
}

func synConn(end int, synAcks int, evs ...model.Event) *model.Connection {
	c := testConn(end, evs...)
	c.TCP.ServerToClient.Packets = synAcks
	return c
}

func TestJudgeHandshake(t *testing.T) {
	c2s, s2c := model.ClientToServer, model.ServerToClient
	type want struct {
		kind     model.Kind
		dir      model.LossDirection
		loc      model.LossLocation
		suspects []model.Suspect
		summary  []string // substrings
		not      string   // a phrase it must not say
		since    int      // Verdict.Since's frame; 0: none
	}
	refused := func(rstTTL int, host HostTTL) func() (*model.Connection, *Facts) {
		return func() (*model.Connection, *Facts) {
			f := synFacts([]int{1}, nil)
			f.Dir[s2c].RST, f.Dir[s2c].RSTTTL = mark(2), rstTTL
			f.ServerHost = host
			return synConn(20, 1, ttl(ev(2, s2c, model.EvRST, 1, 0), rstTTL)), f
		}
	}
	tests := []struct {
		name  string
		point model.CapturePoint
		end   int // capture end, ms after vt0
		conn  func() (*model.Connection, *Facts)
		want  want
	}{
		{"client side: SYN sent twice, no SYN-ACK: the SYN or the SYN-ACK lost", model.PointClient, 20000, func() (*model.Connection, *Facts) {
			return synConn(200, 0, ev(100, c2s, model.EvRetransmission, 0, 0)), synFacts([]int{1, 100}, nil)
		}, want{model.KindConnectFailed, model.LossUnknown, model.LocationUnknown, nil,
			[]string{"handshake never completed", "SYN 2 times over 990 ms (frames 1 to 100)", "then stopped trying", "a capture at the server would tell"}, "reset", 1}},
		{"client side: one SYN, the capture goes on: failed", model.PointClient, 5000, func() (*model.Connection, *Facts) {
			return synConn(10, 0), synFacts([]int{1}, nil)
		}, want{model.KindConnectFailed, model.LossUnknown, model.LocationUnknown, nil, []string{"sent its SYN once (frame 1)"}, "", 1}},
		{"client side: one SYN at the end of the capture: too soon to tell", model.PointClient, 300, func() (*model.Connection, *Facts) {
			return synConn(10, 0), synFacts([]int{1}, nil)
		}, want{model.KindHealthy, model.LossNone, model.LocationUnknown, nil, []string{"Still connecting when the capture ended", "too soon to tell"}, "", 0}},
		{"client side: the capture ends before the next SYN was due", model.PointClient, 2500, func() (*model.Connection, *Facts) {
			return synConn(200, 0, ev(100, c2s, model.EvRetransmission, 0, 0)), synFacts([]int{1, 100}, nil)
		}, want{model.KindConnectFailed, model.LossUnknown, model.LocationUnknown, nil, []string{"too soon to tell whether the client had given up"}, "stopped trying", 1}},
		{"client side: a late SYN-ACK answered by the client's RST is the failed handshake's, not a reset", model.PointClient, 20000, func() (*model.Connection, *Facts) {
			f := synFacts([]int{1, 100}, []int{300})
			f.Dir[c2s].RST = mark(301)
			return synConn(3010, 1, ev(100, c2s, model.EvRetransmission, 0, 0), ttl(ev(301, c2s, model.EvRST, 1, 0), 64)), f
		}, want{model.KindConnectFailed, model.LossServerToClient, model.BeforeCapture, nil,
			[]string{"frame 300", "RST (frame 301)", "not a reset", "SYN-ACKs were lost server->client, before this capture point"}, "", 1}},
		{"client side: a SYN-ACK the client resets soon after its SYN says nothing of the direction", model.PointClient, 20000, func() (*model.Connection, *Facts) {
			f := synFacts([]int{1, 100}, []int{105})
			f.Dir[c2s].RST = mark(106)
			return synConn(1100, 1, ev(100, c2s, model.EvRetransmission, 0, 0)), f
		}, want{model.KindConnectFailed, model.LossUnknown, model.LocationUnknown, nil, []string{"not a reset"}, "", 1}},
		{"an RST at once to a prompt SYN-ACK is no failed dial (a scan, a probe)", model.PointServer, 20000, func() (*model.Connection, *Facts) {
			f := synFacts([]int{1}, []int{2})
			f.Dir[c2s].TTL, f.Dir[s2c].TTL = 63, 64
			f.Dir[c2s].RST = mark(3)
			return synConn(30, 1, ttl(ev(3, c2s, model.EvRST, 1, 0), 63)), f
		}, want{model.KindReset, model.LossNone, model.LocationUnknown, nil, []string{"The client reset the connection"}, "", 0}},
		{"server side: SYN-ACKs sent, the client's SYN again: SYN-ACKs lost after the capture", model.PointServer, 20000, func() (*model.Connection, *Facts) {
			f := synFacts([]int{1, 100}, []int{2, 101, 300})
			return synConn(3010, 3, answered(ev(100, c2s, model.EvRetransmission, 0, 0)), ev(101, s2c, model.EvRetransmission, 0, 0), ev(300, s2c, model.EvRetransmission, 0, 0)), f
		}, want{model.KindConnectFailed, model.LossServerToClient, model.AfterCapture, nil,
			[]string{"SYN-ACK 3 times over 3.0 s (frames 2 to 300), never ACKed", "SYN-ACKs were lost server->client after this capture point"}, "", 1}},
		{"server side: the client's RST answers a SYN-ACK: it had given up", model.PointServer, 20000, func() (*model.Connection, *Facts) {
			f := synFacts([]int{1}, []int{2, 100, 300})
			f.Dir[c2s].TTL, f.Dir[s2c].TTL = 63, 64 // at the server
			f.Dir[c2s].RST = mark(301)
			return synConn(3010, 3, ev(100, s2c, model.EvRetransmission, 0, 0), ev(300, s2c, model.EvRetransmission, 0, 0), ttl(ev(301, c2s, model.EvRST, 1, 0), 63)), f
		}, want{model.KindConnectFailed, model.LossServerToClient, model.AfterCapture, nil,
			[]string{"SYN-ACK of frame 300", "RST (frame 301)", "consequence of the failed handshake"}, "", 1}},
		{"server side: SYN-ACKs sent again, nothing back: SYN-ACKs or ACKs, unknown", model.PointServer, 20000, func() (*model.Connection, *Facts) {
			return synConn(1100, 2, ev(100, s2c, model.EvRetransmission, 0, 0)), synFacts([]int{1}, []int{2, 100})
		}, want{model.KindConnectFailed, model.LossUnknown, model.LocationUnknown, nil, []string{"a capture at the client would tell"}, "", 1}},
		{"server side: SYNs arrive, the server never answers", model.PointServer, 20000, func() (*model.Connection, *Facts) {
			return synConn(1100, 0, ev(100, c2s, model.EvRetransmission, 0, 0)), synFacts([]int{1, 100}, nil)
		}, want{model.KindConnectFailed, model.LossNone, model.LocationUnknown, nil, []string{"the server never answered"}, "", 1}},
		{"a completed handshake is no failed one", model.PointClient, 20000, func() (*model.Connection, *Facts) {
			f := synFacts([]int{1, 100}, []int{101})
			f.Dir[c2s].Plain, f.Dir[c2s].FIN = true, mark(150)
			return testConn(2000, ev(100, c2s, model.EvRetransmission, 0, 0), ev(150, c2s, model.EvFIN, 1, 0)), f
		}, want{model.KindHealthy, model.LossNone, model.LocationUnknown, nil, []string{"No loss"}, "", 0}},
		{"refused with the server's TTL: nothing listening", model.PointClient, 20000, refused(63, HostTTL{TTL: 63, Conns: 4}),
			want{model.KindReset, model.LossNone, model.LocationUnknown, nil, []string{"The server refused the connection", "nothing listening"}, "device in between", 0}},
		{"refused with another TTL than the server's: a middlebox", model.PointClient, 20000, refused(64, HostTTL{TTL: 63, Conns: 4}),
			want{model.KindReset, model.LossNone, model.LocationUnknown, []model.Suspect{model.SuspectMiddleboxReset},
				[]string{"A device in between refused the connection", "TTL 64", "4 other connection(s) here carry 63"}, "nothing listening", 0}},
		{"refused, no other packet of the server's: cannot be told", model.PointClient, 20000, refused(64, HostTTL{}),
			want{model.KindReset, model.LossNone, model.LocationUnknown, nil, []string{"cannot be told", "no other packet from 10.0.0.100"}, "device in between refused", 0}},
		{"refused, the server's TTLs disagree: cannot be told", model.PointClient, 20000, refused(64, HostTTL{Conns: 3, Mixed: true}),
			want{model.KindReset, model.LossNone, model.LocationUnknown, nil, []string{"cannot be told", "different TTLs"}, "", 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := tt.conn()
			v := Judge(c, f, tt.point, at(tt.end))
			if v.Kind != tt.want.kind || v.LossDirection != tt.want.dir || v.LossLocation != tt.want.loc {
				t.Errorf("got %s %s %s, want %s %s %s: %s", v.Kind, v.LossDirection, v.LossLocation,
					tt.want.kind, tt.want.dir, tt.want.loc, v.Summary)
			}
			if !slices.Equal(v.Suspects, append([]model.Suspect{}, tt.want.suspects...)) {
				t.Errorf("suspects %v, want %v", v.Suspects, tt.want.suspects)
			}
			for _, w := range tt.want.summary {
				if !strings.Contains(v.Summary, w) {
					t.Errorf("summary %q, want it to say %q", v.Summary, w)
				}
			}
			if tt.want.not != "" && strings.Contains(v.Summary, tt.want.not) {
				t.Errorf("summary %q says %q", v.Summary, tt.want.not)
			}
			switch {
			case tt.want.since == 0 && v.Since != nil:
				t.Errorf("since %+v, want none", v.Since)
			case tt.want.since != 0 && (v.Since == nil || v.Since.Frame != tt.want.since || !v.Since.Time.Equal(at(tt.want.since*10))):
				t.Errorf("since %+v, want frame %d", v.Since, tt.want.since)
			}
			if len(v.Evidence) == 0 || len(v.Evidence) > MaxEvidence {
				t.Errorf("evidence %+v", v.Evidence)
			}
		})
	}
}

// TestServerHosts: a connection's ServerHost is the server's TTL on the
// other connections from the same client subnet to the same server
// address (any port), never its own.
func TestServerHosts(t *testing.T) {
	conn := func(client, server string, serverTTL int) (*model.Connection, *Facts) {
		c := testConn(100)
		c.Client, c.Server = client, server
		f := testFacts()
		f.Dir[model.ServerToClient].TTL = serverTTL
		return c, f
	}
	type cf struct {
		client, server string
		ttl            int
	}
	tests := []struct {
		name  string
		conns []cf
		fg    *Forgotten
		want  []HostTTL
	}{
		{"refused next to healthy ones on another port", []cf{
			{"10.0.0.1:40000", "10.0.0.100:8080", 63}, {"10.0.0.1:40001", "10.0.0.100:8080", 63}, {"10.0.0.1:40002", "10.0.0.100:8081", 0},
		}, nil, []HostTTL{{TTL: 63, Conns: 1}, {TTL: 63, Conns: 1}, {TTL: 63, Conns: 2}}},
		{"alone: nothing to compare with", []cf{{"10.0.0.1:40000", "10.0.0.100:8080", 0}}, nil, []HostTTL{{}}},
		{"the healthy connections live --forget dropped count", []cf{{"10.0.0.1:40000", "10.0.0.100:8081", 0}},
			&Forgotten{N: 5, Paths: []ForgottenPath{{ClientNet: "10.0.0.0/24", Server: "10.0.0.100:8080", Conns: 5, ServerTTLs: map[int]int{63: 5}}}},
			[]HostTTL{{TTL: 63, Conns: 5}}},
		{"another client subnet or server is another path", []cf{
			{"10.0.0.1:40000", "10.0.0.100:8080", 0}, {"10.0.9.1:40000", "10.0.0.100:8080", 60}, {"10.0.0.1:40001", "10.0.0.101:8080", 63},
		}, nil, []HostTTL{{}, {}, {}}},
		{"TTLs that disagree tell nothing", []cf{
			{"10.0.0.1:40000", "10.0.0.100:8080", 0}, {"10.0.0.1:40001", "10.0.0.100:8080", 63}, {"10.0.0.1:40002", "10.0.0.100:8080", 61},
		}, nil, []HostTTL{{Conns: 2, Mixed: true}, {TTL: 61, Conns: 1}, {TTL: 63, Conns: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var conns []*model.Connection
			var facts []*Facts
			for _, x := range tt.conns {
				c, f := conn(x.client, x.server, x.ttl)
				conns, facts = append(conns, c), append(facts, f)
			}
			ServerHosts(conns, facts, tt.fg)
			for i, f := range facts {
				if f.ServerHost != tt.want[i] {
					t.Errorf("connection %d: %+v, want %+v", i, f.ServerHost, tt.want[i])
				}
			}
		})
	}
}

// Full-sized packets that passed after the first loss clear an MTU black
// hole: a copy as big as the first lost acknowledged (at the sender), a
// gap filled by packets as large as those before the loss (at the
// receiver, sizes told per packet).
func TestMTUBlackholeBigPassed(t *testing.T) {
	s2c := model.ServerToClient
	tests := []struct {
		name                 string
		point                model.CapturePoint
		wireBefore, wireFill int
		copyAcked            bool
		want                 bool
	}{
		{"receiver: sizes per packet unknown", model.PointClient, 0, 0, false, true},
		{"receiver: filled by smaller packets", model.PointClient, 1448, 1000, false, true},
		{"receiver: filled by packets as large", model.PointClient, 1448, 1448, false, false},
		{"receiver: only the fill's size known", model.PointClient, 0, 1448, false, true},
		{"receiver: a big copy acknowledged", model.PointClient, 0, 0, true, false},
		{"sender: a big copy acknowledged", model.PointServer, 0, 0, true, false},
		{"sender: none acknowledged", model.PointServer, 0, 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := []model.Event{ev(1, s2c, model.EvLostSegment, 30000, 770), unseen(ev(50, s2c, model.EvRetransmission, 19503, 1448))}
			if senderSide(tt.point, s2c) {
				evs = []model.Event{peerMissing(ev(10, s2c, model.EvRetransmission, 19503, 1448)), peerMissing(ev(20, s2c, model.EvRetransmission, 19503, 1448))}
			}
			f := testFacts()
			df := &f.Dir[s2c]
			df.LossLen, df.SmallAfter = 1448, 4
			df.WireBefore, df.WireFill, df.BigCopyAcked = tt.wireBefore, tt.wireFill, tt.copyAcked
			f.Dir[model.ClientToServer].Last = []SegRef{{Frame: 30, Time: at(300), Len: 37}}
			c := testConn(600, evs...)
			j := &judgement{c: c, f: f, point: tt.point}
			j.loss = assessLoss(c, tt.point, [2]int{})
			if got := j.mtuBlackhole(s2c); got != tt.want {
				t.Errorf("mtuBlackhole %v, want %v", got, tt.want)
			}
		})
	}
}
