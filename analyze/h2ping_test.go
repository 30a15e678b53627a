package analyze

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/h2pcap/h2pcap/model"
	"golang.org/x/net/http2"
)

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

// A bulk sender stalled by a slow reader at every window: past the cap of
// stalls listed, the rest are counted (FlowStallsDropped), so the listed
// ones plus the dropped are every stall.
func TestH2FlowStallsDropped(t *testing.T) {
	const n = 300
	c := newH2Conv()
	c.send(fromC, 1, func(fr *http2.Framer) {
		c.buf.WriteString(http2.ClientPreface)
		fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 100})
	})
	c.send(fromS, 1, func(fr *http2.Framer) { fr.WriteSettings() })
	c.send(fromC, 1, func(fr *http2.Framer) { fr.WriteSettingsAck() })
	c.send(fromS, 1, func(fr *http2.Framer) { fr.WriteSettingsAck() })
	c.send(fromC, 1, func(fr *http2.Framer) {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, EndStream: true,
			BlockFragment: []byte{0x82, 0x84}}) // :method GET, :path /
	})
	c.send(fromS, 1, func(fr *http2.Framer) {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, BlockFragment: []byte{0x88}}) // :status 200
	})
	for range n {
		c.send(fromS, 1, func(fr *http2.Framer) { fr.WriteData(1, false, make([]byte, 100)) }) // the window used up
		c.send(fromC, 1, func(fr *http2.Framer) { fr.WriteWindowUpdate(1, 100) })
	}
	c.send(fromS, 1, func(fr *http2.Framer) { fr.WriteData(1, true, nil) })
	a, _ := run(c.segs)
	h := a.Report(nil).Connections[0].HTTP2
	if h == nil || !h.FlowControlKnown {
		t.Fatalf("no flow control known: %+v", h)
	}
	if got := len(h.FlowStalls) + h.FlowStallsDropped; got != n || h.FlowStallsDropped == 0 {
		t.Errorf("%d stalls listed and %d dropped, want %d in all, some dropped", len(h.FlowStalls), h.FlowStallsDropped, n)
	}
}

// A GOAWAY that cuts off more open streams than are listed lists the
// lowest and counts the rest, the same in every run (the open streams are
// a map); GOAWAYs past the cap are counted.
func TestH2GoawayCutDropped(t *testing.T) {
	const streams, listed = 100, 64 // app.maxGoaways
	const goaways = listed + 3
	c := newH2Conv()
	c.send(fromC, 1, func(fr *http2.Framer) {
		c.buf.WriteString(http2.ClientPreface)
		fr.WriteSettings()
	})
	c.send(fromS, 1, func(fr *http2.Framer) { fr.WriteSettings() })
	for i := range streams {
		c.send(fromC, 1, func(fr *http2.Framer) {
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: uint32(2*i + 1), EndHeaders: true, EndStream: true,
				BlockFragment: []byte{0x82, 0x84}}) // :method GET, :path /
		})
	}
	for range goaways {
		c.send(fromS, 1, func(fr *http2.Framer) { fr.WriteGoAway(0, http2.ErrCodeNo, nil) })
	}
	var first string
	for i := range 5 {
		a, _ := run(c.segs)
		h := a.Report(nil).Connections[0].HTTP2
		if h == nil || len(h.Goaways) != listed || h.GoawaysDropped != goaways-listed {
			t.Fatalf("goaways listed %d, dropped %d; want %d and %d", len(h.Goaways), h.GoawaysDropped, listed, goaways-listed)
		}
		g := h.Goaways[0]
		if len(g.CutStreams) != 64 || g.CutStreams[0] != 1 || g.CutStreams[63] != 127 || g.CutStreamsDropped != streams-64 {
			t.Fatalf("cut %v, dropped %d; want 1..127 and %d", g.CutStreams, g.CutStreamsDropped, streams-64)
		}
		if s := fmt.Sprint(h.Goaways); i == 0 {
			first = s
		} else if s != first {
			t.Fatalf("run %d differs from the first", i)
		}
	}
}
