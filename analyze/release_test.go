package analyze

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/analyze/tcp"
	"github.com/h2pcap/h2pcap/decode/h2"
	"github.com/h2pcap/h2pcap/model"
)

// HTTP/2 bytes of the release tests: the client's preface and SETTINGS,
// a SETTINGS, and a PING.
const (
	relPreface  = h2.ClientPreface
	relSettings = "\x00\x00\x00\x04\x00\x00\x00\x00\x00"
	relPing     = "\x00\x00\x08\x06\x00\x00\x00\x00\x00" + "pingpong"
)

// A connection closed cleanly (both FINs, every byte before them
// delivered) has its decoders released at once (app/release.go); one whose
// decoding may still be given bytes keeps them: a hole at the FIN until a
// retransmission fills it, a reset whose peer still has data in flight,
// a half close whose other side still sends. Either way the report is
// what the decoding of every byte makes, and the TCP counters count every
// segment, the late ones after the close too.
func TestReleaseAtCleanClose(t *testing.T) {
	pre := len(relPreface)
	cs := len(relPreface + relSettings) // the client's first bytes
	ss := len(relSettings)
	pl := len(relPing)
	hs := handshake(-1, -1)
	cases := []struct {
		name string
		segs []seg
		// held is how many decoders the connection holds after the
		// segment numbered by its index in held (1-based, after the
		// handshake), -1 for not checked.
		held   map[int]int
		frames map[model.Direction]map[string]int
	}{{
		name: "clean close, late FIN and ACK",
		segs: []seg{
			{ms: 30, from: fromC, flags: "AP", seq: isnC + 1, ack: isnS + 1, payload: relPreface + relSettings},
			{ms: 40, from: fromS, flags: "AP", seq: isnS + 1, ack: isnC + 1 + uint32(cs), payload: relSettings},
			{ms: 50, from: fromC, flags: "FA", seq: isnC + 1 + uint32(cs), ack: isnS + 1 + uint32(ss)},
			{ms: 60, from: fromS, flags: "FA", seq: isnS + 1 + uint32(ss), ack: isnC + 2 + uint32(cs)},
			{ms: 70, from: fromC, flags: "A", seq: isnC + 2 + uint32(cs), ack: isnS + 2 + uint32(ss)},
			// The server's FIN again, and the client's ACK again.
			{ms: 300, from: fromS, flags: "FA", seq: isnS + 1 + uint32(ss), ack: isnC + 2 + uint32(cs)},
			{ms: 310, from: fromC, flags: "A", seq: isnC + 2 + uint32(cs), ack: isnS + 2 + uint32(ss)},
		},
		held: map[int]int{2: 2, 3: 2, 4: 0, 7: 0},
		frames: map[model.Direction]map[string]int{
			model.ClientToServer: {"SETTINGS": 1}, model.ServerToClient: {"SETTINGS": 1}},
	}, {
		name: "hole at the FIN, filled after both FINs",
		segs: []seg{
			// The preface's segment is missing; its SETTINGS waits.
			{ms: 30, from: fromC, flags: "AP", seq: isnC + 1 + uint32(pre), ack: isnS + 1, payload: relSettings},
			{ms: 40, from: fromS, flags: "AP", seq: isnS + 1, ack: isnC + 1, payload: relSettings},
			{ms: 50, from: fromC, flags: "FA", seq: isnC + 1 + uint32(cs), ack: isnS + 1 + uint32(ss)},
			{ms: 60, from: fromS, flags: "FA", seq: isnS + 1 + uint32(ss), ack: isnC + 1},
			// The preface comes again: the hole fills.
			{ms: 250, from: fromC, flags: "AP", seq: isnC + 1, ack: isnS + 2 + uint32(ss), payload: relPreface},
			{ms: 260, from: fromS, flags: "A", seq: isnS + 2 + uint32(ss), ack: isnC + 2 + uint32(cs)},
		},
		held: map[int]int{4: 1, 5: 0},
		frames: map[model.Direction]map[string]int{
			model.ClientToServer: {"SETTINGS": 1}, model.ServerToClient: {"SETTINGS": 1}},
	}, {
		name: "the last segment before the FIN missing, sent again after both FINs",
		segs: []seg{
			{ms: 30, from: fromC, flags: "AP", seq: isnC + 1, ack: isnS + 1, payload: relPreface},
			{ms: 40, from: fromS, flags: "AP", seq: isnS + 1, ack: isnC + 1 + uint32(pre), payload: relSettings},
			// The client's SETTINGS is not in the capture (yet).
			{ms: 50, from: fromC, flags: "FA", seq: isnC + 1 + uint32(cs), ack: isnS + 1 + uint32(ss)},
			{ms: 60, from: fromS, flags: "FA", seq: isnS + 1 + uint32(ss), ack: isnC + 1 + uint32(pre)},
			{ms: 250, from: fromC, flags: "AP", seq: isnC + 1 + uint32(pre), ack: isnS + 2 + uint32(ss), payload: relSettings},
			{ms: 260, from: fromS, flags: "A", seq: isnS + 2 + uint32(ss), ack: isnC + 2 + uint32(cs)},
		},
		held: map[int]int{4: 2, 5: 0},
		frames: map[model.Direction]map[string]int{
			model.ClientToServer: {"SETTINGS": 1}, model.ServerToClient: {"SETTINGS": 1}},
	}, {
		name: "reset, then the peer's data in flight",
		segs: []seg{
			{ms: 30, from: fromC, flags: "AP", seq: isnC + 1, ack: isnS + 1, payload: relPreface + relSettings},
			{ms: 40, from: fromS, flags: "AP", seq: isnS + 1, ack: isnC + 1 + uint32(cs), payload: relSettings},
			{ms: 50, from: fromS, flags: "R", seq: isnS + 1 + uint32(ss)},
			{ms: 55, from: fromC, flags: "AP", seq: isnC + 1 + uint32(cs), ack: isnS + 1 + uint32(ss), payload: relPing},
			{ms: 60, from: fromC, flags: "FA", seq: isnC + 1 + uint32(cs+pl), ack: isnS + 1 + uint32(ss)},
		},
		held: map[int]int{5: 2},
		frames: map[model.Direction]map[string]int{
			model.ClientToServer: {"SETTINGS": 1, "PING": 1}, model.ServerToClient: {"SETTINGS": 1}},
	}, {
		name: "half close, the other side still sends",
		segs: []seg{
			{ms: 30, from: fromC, flags: "AP", seq: isnC + 1, ack: isnS + 1, payload: relPreface + relSettings},
			{ms: 40, from: fromC, flags: "FA", seq: isnC + 1 + uint32(cs), ack: isnS + 1},
			{ms: 50, from: fromS, flags: "AP", seq: isnS + 1, ack: isnC + 2 + uint32(cs), payload: relSettings + relPing},
			{ms: 60, from: fromS, flags: "FA", seq: isnS + 1 + uint32(ss+pl), ack: isnC + 2 + uint32(cs)},
			{ms: 70, from: fromC, flags: "A", seq: isnC + 2 + uint32(cs), ack: isnS + 2 + uint32(ss+pl)},
		},
		held: map[int]int{3: 2, 4: 0},
		frames: map[model.Direction]map[string]int{
			model.ClientToServer: {"SETTINGS": 1}, model.ServerToClient: {"SETTINGS": 1, "PING": 1}},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := New(Options{})
			var tc2 tcp.Conn // the TCP tracker alone, given every segment
			tc2.Init()
			segs := append(append([]seg(nil), hs...), tc.segs...)
			for i, g := range segs {
				s := g.segment(i + 1)
				a.Segment(s)
				tc2.Segment(g.from, s)
				c := a.all[0]
				if want, ok := tc.held[i+1-len(hs)]; ok {
					if got := c.app.Decoders(); got != want {
						t.Errorf("after segment %d: %d decoders held, want %d", i+1-len(hs), got, want)
					}
				}
			}
			r := a.Report(nil)
			if len(r.Connections) != 1 {
				t.Fatalf("%d connections, want 1", len(r.Connections))
			}
			out := r.Connections[0]
			if out.HTTP2 == nil {
				t.Fatal("no HTTP/2 found")
			}
			if !reflect.DeepEqual(out.HTTP2.Frames, tc.frames) {
				t.Errorf("frames %v, want %v", out.HTTP2.Frames, tc.frames)
			}
			if out.HTTP2.Detected != "preface" {
				t.Errorf("detected by %q, want preface", out.HTTP2.Detected)
			}
			want := model.TCPStats{ClientToServer: tc2.Flow(fromC).Stats(), ServerToClient: tc2.Flow(fromS).Stats()}
			if !reflect.DeepEqual(out.TCP, want) {
				t.Errorf("TCP counters %+v, want the tracker's %+v", out.TCP, want)
			}
		})
	}
}

// With Analyzer.reuse the released Streams go to the pool, and the next
// connection's HTTP/2 takes them.
func TestReleasedStreamsReused(t *testing.T) {
	a := New(Options{ForgetHealthy: time.Second})
	if a.streams == nil {
		t.Fatal("no stream pool with ForgetHealthy")
	}
	cs, ss := len(relPreface+relSettings), len(relSettings)
	conn := func(cli netip.AddrPort, ms float64, close bool) {
		segs := append(handshake(-1, -1),
			seg{ms: 30, from: fromC, flags: "AP", seq: isnC + 1, ack: isnS + 1, payload: relPreface + relSettings},
			seg{ms: 40, from: fromS, flags: "AP", seq: isnS + 1, ack: isnC + 1 + uint32(cs), payload: relSettings})
		if close {
			segs = append(segs,
				seg{ms: 50, from: fromC, flags: "FA", seq: isnC + 1 + uint32(cs), ack: isnS + 1 + uint32(ss)},
				seg{ms: 60, from: fromS, flags: "FA", seq: isnS + 1 + uint32(ss), ack: isnC + 2 + uint32(cs)})
		}
		for i, g := range segs {
			g.ms += ms
			a.Segment(g.segmentFrom(i+1, cli))
		}
	}
	conn(cliEP, 0, true)
	if n := a.streams.Len(); n != 2 {
		t.Fatalf("%d Streams pooled after a clean close, want 2", n)
	}
	conn(netip.MustParseAddrPort("10.0.0.1:40001"), 100, false)
	if n := a.streams.Len(); n != 0 {
		t.Errorf("%d Streams pooled after a new connection's HTTP/2 began, want 0", n)
	}
	r := a.Report(nil)
	if len(r.Connections) != 2 || r.Connections[1].HTTP2 == nil || r.Connections[1].HTTP2.Frames[model.ServerToClient]["SETTINGS"] != 1 {
		t.Errorf("the second connection's HTTP/2 is not decoded in the reused Streams: %+v", r.Connections)
	}
}
