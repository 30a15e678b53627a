package h2

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/net/http2"
)

// allTypes writes one of every frame type, with padding, priority, a
// header block in three pieces, and an unknown type.
func allTypes(t testing.TB) (*writer, []byte) {
	w := newWriter()
	fr := w.fr
	must(t, fr.WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 100}, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 20}))
	must(t, fr.WriteSettingsAck())
	must(t, fr.WriteWindowUpdate(0, 1<<30))
	must(t, fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true,
		BlockFragment: w.block(":method", "POST", ":scheme", "http", ":path", "/svc.Echo/Call", ":authority", "example.com:50051", "content-type", "application/grpc", "x-custom", "v")}))
	must(t, fr.WriteData(1, false, []byte("hello")))
	must(t, fr.WriteDataPadded(1, true, []byte("padded"), make([]byte, 7)))
	must(t, fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, EndHeaders: true, PadLength: 3,
		Priority:      http2.PriorityParam{StreamDep: 1, Weight: 15, Exclusive: true},
		BlockFragment: w.block(":method", "POST", ":path", "/svc.Echo/Call", ":authority", "example.com:50051")}))
	blk := w.block(":method", "GET", ":path", "/long/"+strings.Repeat("p", 100), ":authority", "example.com:50051", "x-big", strings.Repeat("b", 300))
	must(t, fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 5, BlockFragment: blk[:7]}))
	must(t, fr.WriteContinuation(5, false, blk[7:200]))
	must(t, fr.WriteContinuation(5, true, blk[200:]))
	must(t, fr.WritePing(false, [8]byte{1, 2, 3, 4, 5, 6, 7, 8}))
	must(t, fr.WritePing(true, [8]byte{1, 2, 3, 4, 5, 6, 7, 8}))
	must(t, fr.WritePriority(7, http2.PriorityParam{StreamDep: 3, Weight: 200}))
	must(t, fr.WriteRSTStream(3, http2.ErrCodeCancel))
	must(t, fr.WritePushPromise(http2.PushPromiseParam{StreamID: 1, PromiseID: 2, EndHeaders: true, PadLength: 2,
		BlockFragment: w.block(":method", "GET", ":path", "/pushed", ":authority", "example.com:50051")}))
	must(t, fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, EndStream: true,
		BlockFragment: w.block("grpc-status", "14", "grpc-message", "transport is closing")}))
	must(t, fr.WriteRawFrame(0xa, 0, 0, []byte("altsvc")))
	must(t, fr.WriteGoAway(5, http2.ErrCodeEnhanceYourCalm, []byte("too_many_pings")))
	return w, w.buf.Bytes()
}

func TestAllTypes(t *testing.T) {
	_, body := allTypes(t)
	b := append([]byte(ClientPreface), body...)
	s := NewStream(Options{Client: true})
	var c collector
	feed(s, b, nil, &c)
	want := headerRecs(t, body)
	if len(c.recs) != len(want) {
		for _, r := range c.recs {
			t.Log(r)
		}
		t.Fatalf("got %d frames, want %d", len(c.recs), len(want))
	}
	for i, r := range c.recs {
		w := want[i]
		if r.Type != w.Type || r.Flags != w.Flags || r.StreamID != w.StreamID || r.Length != w.Length || r.Offset != w.Offset+int64(len(ClientPreface)) {
			t.Errorf("frame %d: got %v, want %v", i, r, w)
		}
	}
	if !s.Preface() || s.Skipped() != 0 || !s.InSync() {
		t.Errorf("preface=%v skipped=%d insync=%v", s.Preface(), s.Skipped(), s.InSync())
	}
	check := func(i int, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("frame %d (%v): got %q, want %q", i, c.recs[i].Type, got, want)
		}
	}
	r := c.recs
	check(0, r[0].Settings, "MAX_CONCURRENT_STREAMS=100;INITIAL_WINDOW_SIZE=1048576;")
	check(2, fmtU(r[2].Incr), fmtU(1<<30))
	check(3, r[3].Fields, ":method=POST;:scheme=http;:path=/svc.Echo/Call;:authority=example.com:50051;content-type=application/grpc;")
	check(6, r[6].Fields, ":method=POST;:path=/svc.Echo/Call;:authority=example.com:50051;")
	check(7, r[7].Fields, "")
	check(9, r[9].Fields, ":method=GET;:path=/long/"+strings.Repeat("p", 100)+";:authority=example.com:50051;")
	check(10, string(r[10].Ping[:]), "\x01\x02\x03\x04\x05\x06\x07\x08")
	check(13, r[13].ErrCode.String(), "CANCEL")
	check(14, r[14].Fields, ":method=GET;:path=/pushed;:authority=example.com:50051;")
	check(14, fmtU(r[14].Promise), "2")
	check(15, r[15].Fields, "grpc-status=14;grpc-message=transport is closing;")
	check(16, fmtU(uint32(r[16].Type)), "10")
	check(17, r[17].Debug, "too_many_pings")
	check(17, r[17].ErrCode.String(), "ENHANCE_YOUR_CALM")
	check(17, fmtU(r[17].Last1), "5")
	for i, x := range r {
		if x.Partial || x.Truncated {
			t.Errorf("frame %d: %v", i, x)
		}
	}
}

func fmtU(v uint32) string { return strings.TrimSpace(strings.Repeat(" ", 0) + itoa(v)) }

func itoa(v uint32) string {
	var b [10]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}

var _ = bytes.Equal
