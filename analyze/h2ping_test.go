package analyze

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/decode/h2"
	"github.com/h2pcap/h2pcap/model"
	"golang.org/x/net/http2"
)

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
	const client, server = sideA, sideB
	a := [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
	b := [8]byte{9, 10, 11, 12, 13, 14, 15, 16}
	var p pingTracker
	var peer h2dir
	peer.hasLast, peer.last = true, h2.Meta{Frame: 1, Time: t0}
	p.ping(client, pingFrame(2, 30000, false, a), &peer)
	p.ping(server, pingFrame(3, 30001, false, a), &peer) // same data, other direction
	p.ack(server, pingFrame(4, 30010, true, a))          // answers the client's
	p.ping(client, pingFrame(5, 60000, false, b), &peer)
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
	const client = sideA
	var p pingTracker
	var peer h2dir
	peer.hasLast = true
	// Read-idle PINGs 30 s after the last frame received, answered; the
	// last one unanswered, then the client closes 15 s later.
	for i, at := range []int{30000, 60020, 90010} {
		peer.last = h2.Meta{Frame: 10 * i, Time: t0.Add(time.Duration(at-30000) * time.Millisecond)}
		data := [8]byte{0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, byte(i)}
		p.ping(client, pingFrame(10*i+1, at, false, data), &peer)
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

// h2Conv builds an h2c conversation as segments: each step is one side's
// frames, written with http2.Framer, in one segment.
type h2Conv struct {
	segs       []seg
	seq        [2]uint32
	ms         float64
	buf        bytes.Buffer
	fr         *http2.Framer
	noACKOnSeg bool
}

func newH2Conv() *h2Conv {
	c := &h2Conv{segs: handshake(-1, -1), seq: [2]uint32{isnC + 1, isnS + 1}, ms: 20}
	c.fr = http2.NewFramer(&c.buf, nil)
	return c
}

// send adds one segment from side with what write puts in it.
func (c *h2Conv) send(from int, dms float64, write func(fr *http2.Framer)) {
	c.buf.Reset()
	write(c.fr)
	c.ms += dms
	c.segs = append(c.segs, seg{ms: c.ms, from: from, flags: "PA", seq: c.seq[from], ack: c.seq[1-from],
		win: 1000, payload: c.buf.String()})
	c.seq[from] += uint32(c.buf.Len())
}

// A synthetic h2c connection: the preface, SETTINGS both ways, a request,
// a PING answered, a PING unanswered, the client's FIN; and out-of-order
// delivery on the way.
func TestH2Synthetic(t *testing.T) {
	c := newH2Conv()
	c.send(fromC, 1, func(fr *http2.Framer) {
		c.buf.WriteString(http2.ClientPreface)
		fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 100})
	})
	c.send(fromS, 1, func(fr *http2.Framer) {
		fr.WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 10})
	})
	c.send(fromC, 1, func(fr *http2.Framer) { fr.WriteSettingsAck() })
	c.send(fromS, 1, func(fr *http2.Framer) { fr.WriteSettingsAck() })
	c.send(fromC, 1, func(fr *http2.Framer) {
		fr.WriteRawFrame(0xfa, 0, 0, []byte{1, 2, 3}) // an extension type
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, EndStream: true,
			BlockFragment: []byte{0x82, 0x84}}) // :method GET, :path /
	})
	c.send(fromS, 1, func(fr *http2.Framer) {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, BlockFragment: []byte{0x88}}) // :status 200
	})
	c.send(fromS, 1, func(fr *http2.Framer) { fr.WriteData(1, false, make([]byte, 100)) }) // uses the stream window
	pingA := [8]byte{0xd1, 0x6c, 0x17, 0xd4, 0x8e, 0x68, 0x63, 0x07}
	pingB := [8]byte{0x9d, 0x98, 0xcf, 0x3b, 0xce, 0xe1, 0x5d, 0xa1}
	c.send(fromC, 2000, func(fr *http2.Framer) { fr.WritePing(false, pingA) })
	c.send(fromS, 3, func(fr *http2.Framer) { fr.WritePing(true, pingA) })
	c.send(fromC, 2000, func(fr *http2.Framer) { fr.WritePing(false, pingB) })
	c.send(fromC, 1, func(fr *http2.Framer) {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, EndHeaders: true, EndStream: true, BlockFragment: []byte{0x82, 0x84}})
	})
	c.send(fromC, 1, func(fr *http2.Framer) { fr.WriteWindowUpdate(1, 50) })
	c.send(fromS, 1, func(fr *http2.Framer) { fr.WriteData(1, false, make([]byte, 50)) })
	c.send(fromS, 1, func(fr *http2.Framer) { fr.WriteGoAway(1, http2.ErrCodeEnhanceYourCalm, []byte("too_many_pings")) })
	// The last two server segments arrive in the other order.
	n := len(c.segs)
	c.segs[n-1], c.segs[n-2] = c.segs[n-2], c.segs[n-1]
	c.send(fromC, 1, func(fr *http2.Framer) { fr.WriteRSTStream(3, http2.ErrCodeCancel) })
	c.segs = append(c.segs, seg{ms: c.ms + 1000, from: fromC, flags: "FA", seq: c.seq[fromC], ack: c.seq[fromS], win: 1000})

	a, _ := run(c.segs)
	conn := a.Report(nil).Connections[0]
	h := conn.HTTP2
	if h == nil {
		t.Fatal("no HTTP/2")
	}
	if conn.App != "h2c" || h.Detected != "preface" {
		t.Errorf("app %s, detected %s", conn.App, h.Detected)
	}
	wantC := map[string]int{"SETTINGS": 2, "HEADERS": 2, "PING": 2, "WINDOW_UPDATE": 1, "RST_STREAM": 1, "UNKNOWN_0xFA": 1}
	wantS := map[string]int{"SETTINGS": 2, "HEADERS": 1, "DATA": 2, "PING": 1, "GOAWAY": 1}
	if !equalCounts(h.Frames[model.ClientToServer], wantC) || !equalCounts(h.Frames[model.ServerToClient], wantS) {
		t.Errorf("frames %v", h.Frames)
	}
	if len(h.Pings) != 2 || !h.Pings[0].Acked || h.Pings[1].Acked || *h.Pings[0].RTTms != 3 {
		t.Errorf("pings %+v", h.Pings)
	}
	// Stream 3, opened by the client and not answered, is cut off by the
	// server's GOAWAY with last stream 1; the client then resets it.
	if len(h.Goaways) != 1 || h.Goaways[0].Error != "ENHANCE_YOUR_CALM" || h.Goaways[0].Debug != "too_many_pings" ||
		h.Goaways[0].From != "server" || h.Goaways[0].LastStreamID != 1 || fmt.Sprint(h.Goaways[0].CutStreams) != "[3]" {
		t.Errorf("goaways %+v", h.Goaways)
	}
	if len(h.RSTStreams) != 1 || h.RSTStreams[0].Stream != 3 || h.RSTStreams[0].Error != "CANCEL" || h.RSTStreams[0].From != "client" {
		t.Errorf("RST_STREAMs %+v", h.RSTStreams)
	}
	if len(h.Streams) != 2 || h.StreamsTotal != 2 {
		t.Fatalf("streams %+v", h.Streams)
	}
	// Finished streams first, then the open ones.
	s3, s1 := h.Streams[0], h.Streams[1]
	if s1.ID != 1 || s1.Method != "GET" || s1.Path != "/" || s1.Status != "200" || s1.ServerBytes != 150 || s1.State != "half_closed_local" {
		t.Errorf("stream 1 %+v", s1)
	}
	if s3.ID != 3 || s3.State != "reset" || s3.Reset != "CANCEL" {
		t.Errorf("stream 3 %+v", s3)
	}
	// Two stalls of the server's window on stream 1: at 100 bytes, opened
	// by the client's WINDOW_UPDATE, and again after 50 more.
	if !h.FlowControlKnown || len(h.FlowStalls) != 2 || h.FlowStalls[0].Stream != 1 || h.FlowStalls[0].From != "server" ||
		h.FlowStalls[0].UpdateFrame != 15 || h.FlowStalls[0].DurationMs == nil || h.FlowStalls[0].ResumedFrame == 0 ||
		h.FlowStalls[1].UpdateFrame != 0 || h.FlowStalls[1].ResumedFrame != 0 {
		t.Errorf("flow control known %v, stalls %+v", h.FlowControlKnown, h.FlowStalls)
	}
	if h.Settings[model.ClientToServer]["INITIAL_WINDOW_SIZE"] != 100 || h.Settings[model.ServerToClient]["MAX_CONCURRENT_STREAMS"] != 10 {
		t.Errorf("settings %v", h.Settings)
	}
	// The client closes after the server's GOAWAY: no PingTimeout from that.
	if hc := h.HealthCheck; hc == nil || hc.ReadIdleTimeoutS == nil || *hc.ReadIdleTimeoutS < 1.9 || hc.PingTimeoutS != nil || hc.ClientGoDefaults {
		t.Errorf("health check %+v", hc)
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
