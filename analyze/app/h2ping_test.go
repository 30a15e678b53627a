package app

import (
	"fmt"
	"testing"
	"time"
	"unsafe"

	"github.com/h2pcap/h2pcap/decode/h2"
	"golang.org/x/net/http2"
)

// t0 is the hand-built frames' capture start.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestPingSender(t *testing.T) {
	tests := []struct {
		data [8]byte
		want string
	}{
		{[8]byte{}, SenderGRPCKeepalive},
		{[8]byte{0x02, 0x04, 0x10, 0x10, 0x09, 0x0e, 0x07, 0x07}, SenderGRPCBDP},
		{[8]byte{0x01, 0x06, 0x01, 0x08, 0x00, 0x03, 0x03, 0x09}, SenderGRPCDrain},
		{[8]byte{0xd1, 0x6c, 0x17, 0xd4, 0x8e, 0x68, 0x63, 0x07}, SenderGoHealthCheck}, // too-many-pings/client.pcap frame 20
		{[8]byte{0, 0, 0, 0, 0, 0, 0, 1}, SenderUnknown},                               // a counter
		{[8]byte{'p', 'i', 'n', 'g', 'p', 'i', 'n', 'g'}, SenderUnknown},               // a tag
	}
	for _, tc := range tests {
		if got := PingSender(tc.data); got != tc.want {
			t.Errorf("pingSender(% x) = %s, want %s", tc.data, got, tc.want)
		}
	}
}

func pingFrame(frame int, ms int, ack bool, data [8]byte) *h2.Frame {
	f := &h2.Frame{Type: http2.FramePing, Length: 8, PingData: data,
		Meta: h2.Meta{Frame: frame, Time: t0.Add(time.Duration(ms) * time.Millisecond)}}
	if ack {
		f.Flags = http2.FlagPingAck
	}
	return f
}

// ACKs match PINGs by data and direction; an ACK whose PING was not
// captured is listed with frame 0.
func TestPingMatching(t *testing.T) {
	const client, server = 0, 1
	a := [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
	b := [8]byte{9, 10, 11, 12, 13, 14, 15, 16}
	var p pingTracker
	var peer h2dir
	peer.hasLast, peer.last = true, h2.Meta{Frame: 1, Time: t0}
	p.ping(client, pingFrame(2, 30000, false, a), &peer, time.Second)
	p.ping(server, pingFrame(3, 30001, false, a), &peer, time.Second) // same data, other direction
	p.ack(server, pingFrame(4, 30010, true, a))                       // answers the client's
	p.ping(client, pingFrame(5, 60000, false, b), &peer, time.Second)
	p.ack(client, pingFrame(6, 60001, true, [8]byte{7})) // PING never seen
	got := p.report(client, 5*time.Millisecond)
	if len(got) != 4 {
		t.Fatalf("%d pings, want 4: %+v", len(got), got)
	}
	c0, s0, c1, orphan := got[0], got[1], got[2], got[3]
	if !c0.Acked || c0.AckFrame != 4 || c0.RTTms == nil || *c0.RTTms != 10 || c0.From != "client" || !c0.Late {
		t.Errorf("client PING: %+v", c0)
	}
	if c0.IdleMs == nil || *c0.IdleMs != 30000 {
		t.Errorf("client PING idle: %v", c0.IdleMs)
	}
	if s0.Acked || s0.From != "server" {
		t.Errorf("server PING with the same data must stay unanswered: %+v", s0)
	}
	if c1.Acked || c1.RTTms != nil || c1.Sender != SenderGoHealthCheck {
		t.Errorf("unanswered PING: %+v", c1)
	}
	if orphan.Frame != 0 || !orphan.Acked || orphan.AckFrame != 6 || orphan.From != "server" || orphan.RTTms != nil {
		t.Errorf("ACK without its PING: %+v", orphan)
	}
}

func TestHealthCheckInference(t *testing.T) {
	const client = 0
	var p pingTracker
	var peer h2dir
	peer.hasLast = true
	// Read-idle PINGs 30 s after the last frame received, answered; the
	// last one unanswered, then the client closes 15 s later.
	for i, at := range []int{30000, 60020, 90010} {
		peer.last = h2.Meta{Frame: 10 * i, Time: t0.Add(time.Duration(at-30000) * time.Millisecond)}
		data := [8]byte{0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, byte(i)}
		p.ping(client, pingFrame(10*i+1, at, false, data), &peer, time.Second)
		if i < 2 {
			p.ack(1-client, pingFrame(10*i+2, at+5, true, data))
			peer.last = h2.Meta{Frame: 10*i + 2, Time: t0.Add(time.Duration(at+5) * time.Millisecond)}
		}
	}
	hc := p.healthCheck(client, true, h2.Meta{Frame: 99, Time: t0.Add(105010 * time.Millisecond)}, time.Time{})
	if hc == nil || hc.ReadIdleTimeoutS == nil || hc.PingTimeoutS == nil {
		t.Fatalf("health check %+v", hc)
	}
	if *hc.ReadIdleTimeoutS < 29.9 || *hc.ReadIdleTimeoutS > 30.1 || *hc.PingTimeoutS != 15 || !hc.ClientGoDefaults {
		t.Errorf("read idle %v s, ping timeout %v s, client-go %v", *hc.ReadIdleTimeoutS, *hc.PingTimeoutS, hc.ClientGoDefaults)
	}
	if hc.PingFrame != 21 || hc.CloseFrame != 99 {
		t.Errorf("frames %d -> %d", hc.PingFrame, hc.CloseFrame)
	}
	// The lab's 2 s / 1 s is not client-go's.
	hc = p.healthCheck(client, true, h2.Meta{Frame: 99, Time: t0.Add(91010 * time.Millisecond)}, time.Time{})
	if hc.ClientGoDefaults {
		t.Errorf("ping timeout %v s taken for client-go's", *hc.PingTimeoutS)
	}
	// A close after the server's GOAWAY is not a PING timeout.
	hc = p.healthCheck(client, true, h2.Meta{Frame: 99, Time: t0.Add(105010 * time.Millisecond)}, t0.Add(100000*time.Millisecond))
	if hc.PingTimeoutS != nil || !hc.ClientGoDefaults {
		t.Errorf("ping timeout %v after a GOAWAY; client-go %v", *hc.PingTimeoutS, hc.ClientGoDefaults)
	}
}

// A connection pinging for days: the answered, timely PINGs older than
// FoldPingsOlderThan, or past FoldPingsAfter listed, are folded into
// counts and an RTT histogram, while the latest ones and every unanswered
// or late one stay listed, found again by ID.
func TestPingFolding(t *testing.T) {
	for _, tc := range []struct {
		everyMs int
		listed  int
	}{
		// Every 5 s: the last 90 s (19 PINGs, both ends included), the
		// late one and the lost one.
		{5000, 19 + 2},
		// Every second: 91 in the last 90 s, so FoldPingsAfter bounds it.
		{1000, FoldPingsAfter},
	} {
		t.Run(fmt.Sprintf("every %d ms", tc.everyMs), func(t *testing.T) { testPingFolding(t, tc.everyMs, tc.listed) })
	}
}

func testPingFolding(t *testing.T, everyMs, listed int) {
	const client = 0
	var p pingTracker
	var peer h2dir
	const n = 3000
	late, lost := 10, 2500 // a late ACK and a PING never answered
	frame := 1
	for i := range n {
		data := [8]byte{byte(i), byte(i >> 8), 1, 2, 3, 4, 5, 6}
		ms := i * everyMs
		p.ping(client, pingFrame(frame, ms, false, data), &peer, 200*time.Millisecond)
		frame++
		rtt := 2
		if i == late {
			rtt = 900
		}
		if i != lost {
			p.ack(1-client, pingFrame(frame, ms+rtt, true, data))
			frame++
		}
	}
	if len(p.list) != listed || p.dropped != 0 {
		t.Fatalf("%d listed, %d dropped: want %d listed, none dropped", len(p.list), p.dropped, listed)
	}
	if p.added != n {
		t.Errorf("%d added, want %d", p.added, n)
	}
	if r := p.byID(late); r == nil || !r.Acked {
		t.Errorf("the late PING %d left the list: %+v", late, r)
	}
	if r := p.byID(lost); r == nil || r.Acked {
		t.Errorf("the unanswered PING %d left the list: %+v", lost, r)
	}
	if r := p.byID(n - 1); r == nil || r != &p.list[len(p.list)-1] {
		t.Errorf("the last PING is not last: %+v", r)
	}
	if r := p.byID(5); r != nil {
		t.Errorf("an old timely PING is still listed: %+v", r)
	}
	f := p.folded.report(client)
	if f == nil || f.Count+len(p.list) != n || f.FromClient != f.Count || f.FromServer != 0 {
		t.Fatalf("folded %+v, listed %d: want them to add up to %d", f, len(p.list), n)
	}
	if len(f.RTT) != 1 || f.RTT[0].LEms == nil || *f.RTT[0].LEms != 2 || f.RTT[0].Count != f.Count {
		t.Errorf("RTT histogram %+v: want all %d in the 2 ms bucket", f.RTT, f.Count)
	}
	if f.FirstFrame != 1 {
		t.Errorf("first folded frame %d, want 1", f.FirstFrame)
	}
	// The report lists what stays, in order.
	got := p.report(client, 200*time.Millisecond)
	for i := 1; i < len(got); i++ {
		if got[i].Frame <= got[i-1].Frame {
			t.Fatalf("report out of order at %d: frame %d after %d", i, got[i].Frame, got[i-1].Frame)
		}
	}
}

// A PING record gives back the positions it was given: a frame past 2^31
// (a live capture running for days), the zero Meta of an ACK not seen, a
// frame without a time, the input.
func TestPingRecPositions(t *testing.T) {
	at := time.Date(2026, 12, 6, 11, 0, 0, 123456789, time.UTC)
	for _, m := range []h2.Meta{
		{},
		{Input: 0, Frame: 1, Time: at},
		{Input: 3, Frame: 1<<40 + 5, Time: at},
		{Input: 1, Frame: 7},
		{Time: at},
	} {
		var r PingRec
		r.setMeta(m)
		r.setAck(m)
		if got := r.Meta(); got != m {
			t.Errorf("Meta: %+v, want %+v", got, m)
		}
		if got := r.Ack(); got != m {
			t.Errorf("Ack: %+v, want %+v", got, m)
		}
		if !r.MetaIs(m) || !r.AckIs(m) {
			t.Errorf("%+v: MetaIs %v AckIs %v", m, r.MetaIs(m), r.AckIs(m))
		}
	}
	if size := unsafe.Sizeof(PingRec{}); size > 64 {
		t.Errorf("PingRec is %d bytes, over 64", size)
	}
}
