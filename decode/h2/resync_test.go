package h2

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"golang.org/x/net/http2"
)

// lookalike is a DATA payload made of valid frame headers: PINGs, as the
// worst case a search meets inside a payload.
func lookalike(n int) []byte {
	var b bytes.Buffer
	fr := http2.NewFramer(&b, nil)
	for b.Len() < n {
		fr.WritePing(false, [8]byte{'f', 'a', 'k', 'e'})
	}
	return b.Bytes()[:n]
}

// midStream is a connection's server side: frames before, a DATA frame
// full of lookalike headers, and frames after whose last two must always
// be found.
func midStream(t testing.TB) (body []byte, tail int) {
	w := newWriter()
	fr := w.fr
	must(t, fr.WriteSettings(http2.Setting{ID: http2.SettingMaxFrameSize, Val: 1 << 14}))
	must(t, fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, BlockFragment: w.block(":status", "200", "content-type", "application/grpc")}))
	must(t, fr.WriteData(1, false, []byte("some response bytes")))
	must(t, fr.WriteData(1, false, lookalike(16000)))
	must(t, fr.WriteData(1, false, lookalike(1001)))
	must(t, fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, EndStream: true, BlockFragment: w.block("grpc-status", "0")}))
	must(t, fr.WriteWindowUpdate(0, 12345))
	tail = w.buf.Len()
	must(t, fr.WritePing(false, [8]byte{'r', 'e', 'a', 'l'}))
	must(t, fr.WriteGoAway(1, http2.ErrCodeNo, []byte("bye")))
	return w.buf.Bytes(), tail
}

// checkTail checks that the frames from offset tail of the original stream
// (starting at base) were emitted, and that every byte fed is either in an
// emitted frame or counted skipped.
func checkTail(t *testing.T, name string, s *Stream, recs []rec, body []byte, base, tail int, fed int64) {
	t.Helper()
	want := headerRecs(t, body[tail:])
	var got []rec
	var emitted int64
	for _, r := range recs {
		emitted += 9 + int64(r.Length)
		if r.Offset+int64(base) >= int64(tail) {
			r.Offset -= int64(tail - base)
			r.First, r.Last = 0, 0
			got = append(got, r)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d frames after %d, want %d", name, len(got), tail, len(want))
		for _, r := range recs {
			t.Log(r)
		}
		return
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Type != w.Type || g.Length != w.Length || g.Offset != w.Offset || g.StreamID != w.StreamID {
			t.Errorf("%s: frame %d: got %v, want %v", name, i, g, w)
		}
	}
	if g := got[0]; g.Ping != [8]byte{'r', 'e', 'a', 'l'} {
		t.Errorf("%s: PING data %q", name, g.Ping)
	}
	if g := got[1]; g.Debug != "bye" {
		t.Errorf("%s: GOAWAY debug %q", name, g.Debug)
	}
	if fed < 0 {
		return // gaps: truncated frames count bytes never fed
	}
	if emitted+s.Skipped() != fed {
		t.Errorf("%s: emitted %d + skipped %d != fed %d", name, emitted, s.Skipped(), fed)
	}
}

// TestMidStream starts the capture at every offset of a stream whose
// segments are 1448 bytes, including inside a payload full of lookalike
// frame headers.
func TestMidStream(t *testing.T) {
	body, tail := midStream(t)
	cuts := segments(len(body), 1448)
	exact := 0
	for c := 0; c < tail; c++ {
		if c > 300 && c%7 != 0 && !testing.Short() {
			continue
		}
		var rel []int
		for _, k := range cuts {
			if k > c {
				rel = append(rel, k-c)
			}
		}
		var col collector
		s := NewStream(Options{})
		feed(s, body[c:], rel, &col)
		checkTail(t, fmt.Sprintf("cut at %d", c), s, col.recs, body, c, tail, int64(len(body)-c))
		if t.Failed() {
			return
		}
		// Starting at a frame boundary, the Stream must find every frame.
		if want := headerRecs(t, body); isBoundary(want, c) {
			exact++
			if s.Skipped() != 0 {
				t.Errorf("cut at frame boundary %d: skipped %d", c, s.Skipped())
			}
		}
	}
	if exact == 0 {
		t.Error("no cut at a frame boundary")
	}
}

func isBoundary(recs []rec, off int) bool {
	for _, r := range recs {
		if r.Offset == int64(off) {
			return true
		}
	}
	return false
}

// TestGaps removes byte ranges of various sizes at various places.
func TestGaps(t *testing.T) {
	body, tail := midStream(t)
	want := headerRecs(t, body)
	cuts := segments(len(body), 1448)
	for _, n := range []int{1, 8, 9, 10, 100, 1448, 5000, 16000} {
		for a := 0; a+n <= tail; a += 37 {
			name := fmt.Sprintf("gap %d at %d", n, a)
			var col collector
			s := NewStream(Options{Sync: true})
			// Segments before the gap, the gap, segments after.
			prev := 0
			for i, k := range append(cuts, len(body)) {
				lo, hi := prev, k
				prev = k
				if hi <= a || lo >= a+n {
					s.Data(body[lo:hi], Meta{Frame: i + 1}, col.emit)
					continue
				}
				if lo < a {
					s.Data(body[lo:a], Meta{Frame: i + 1}, col.emit)
				}
				if lo <= a && a < hi || lo == a {
					s.Gap(n, col.emit)
				}
				if a+n < hi {
					s.Data(body[a+n:hi], Meta{Frame: i + 1}, col.emit)
				}
			}
			s.End(col.emit)
			checkTail(t, name, s, col.recs, body, 0, tail, -1)
			if s.Skipped() > int64(len(body)-n) {
				t.Errorf("%s: skipped %d", name, s.Skipped())
			}
			// Frames wholly before the gap are all there, in order.
			for i, w := range want {
				if w.Offset+9+int64(w.Length) > int64(a) {
					break
				}
				if i >= len(col.recs) || col.recs[i].Offset != w.Offset || col.recs[i].Length != w.Length || col.recs[i].Truncated {
					t.Errorf("%s: frame %d before the gap missing or wrong", name, i)
					break
				}
			}
			// A gap inside one frame's payload keeps the Stream in step.
			for i, w := range want {
				if int64(a) >= w.Offset+9 && int64(a+n) <= w.Offset+9+int64(w.Length) {
					if len(col.recs) != len(want) || !col.recs[i].Truncated || s.Skipped() != 0 {
						t.Errorf("%s: gap inside frame %d: %d frames, skipped %d", name, i, len(col.recs), s.Skipped())
					}
				}
			}
			if t.Failed() {
				return
			}
		}
	}
}

// TestUpgrade: h2c by HTTP/1.1 Upgrade, both sides.
func TestUpgrade(t *testing.T) {
	req := "GET /x HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"
	resp := "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
	w := newWriter()
	must(t, w.fr.WriteSettings())
	must(t, w.fr.WriteSettingsAck())
	must(t, w.fr.WritePing(false, [8]byte{1}))
	clientBody := bytes.Clone(w.buf.Bytes())
	w.buf.Reset()
	must(t, w.fr.WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 100}))
	must(t, w.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, BlockFragment: w.block(":status", "200")}))
	must(t, w.fr.WriteData(1, true, []byte("hello")))
	serverBody := bytes.Clone(w.buf.Bytes())
	for _, tc := range []struct {
		name, prefix string
		body         []byte
		client       bool
	}{
		{"client", req + ClientPreface, clientBody, true},
		{"server", resp, serverBody, false},
	} {
		b := append([]byte(tc.prefix), tc.body...)
		for k := 0; k < len(b); k += 5 {
			var cuts []int
			if k > 0 {
				cuts = []int{k}
			}
			var col collector
			s := NewStream(Options{Client: tc.client})
			feed(s, b, cuts, &col)
			sameHeaders(t, fmt.Sprintf("%s cut %d", tc.name, k), col.recs, wantRecs(t, tc.body, len(tc.prefix), cuts))
			if !s.Upgrade() || s.Preface() != tc.client || s.Skipped() != 0 {
				t.Errorf("%s cut %d: upgrade %v preface %v skipped %d", tc.name, k, s.Upgrade(), s.Preface(), s.Skipped())
			}
		}
	}
}

func TestDetect(t *testing.T) {
	w := newWriter()
	w.fr.WriteSettings()
	w.fr.WriteWindowUpdate(0, 100)
	frames := w.buf.Bytes()
	for _, tc := range []struct {
		in   string
		want Kind
	}{
		{"", KindIncomplete},
		{"PRI * HTTP", KindIncomplete},
		{ClientPreface, KindPreface},
		{ClientPreface + "\x00\x00", KindPreface},
		{"PRI * HTTP/1.1\r\n\r\n", KindNone},
		{"GET / HTTP/1.1\r\nHost: a\r\n", KindIncomplete},
		{"GET / HTTP/1.1\r\nHost: a\r\n\r\n", KindHTTP1},
		{"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\nConnection: Upgrade, HTTP2-Settings\r\n\r\n", KindUpgrade},
		{"OPTIONS * HTTP/1.1\r\nUpgrade: websocket, H2C\r\nhttp2-settings: \r\n\r\n", KindUpgrade},
		{"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", KindHTTP1},
		{"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", KindSwitching},
		{"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", KindHTTP1},
		{"HTTP/1.1 200 OK\r\n\r\n", KindHTTP1},
		{"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", KindNone},
		{string(frames), KindFrames},
		{string(frames[:12]), KindFrames},
		{"\x00\x00\x08\x06\x00\x00\x00\x00\x01", KindNone}, // PING on stream 1
		{"\x00\x00", KindIncomplete},
		{"G", KindIncomplete},
		{"SSH-2.0-OpenSSH_9.2", KindNone},
	} {
		if got := Detect([]byte(tc.in)); got != tc.want {
			t.Errorf("Detect(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestSnaplen cuts every 1448-byte segment after its first bytes, as
// tcpdump -s does, over a realistic stream (text payloads): every frame
// emitted must be a real one. Few are found: a frame header must fall in a
// segment's captured bytes, and a search needs three in a chain.
func TestSnaplen(t *testing.T) {
	w := newWriter()
	must(t, w.fr.WriteSettings())
	payload := bytes.Repeat([]byte("{\"name\":\"value\",\"n\":12345}\n"), 600)
	for id := uint32(1); w.buf.Len() < 1<<20; id += 2 {
		must(t, w.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, EndHeaders: true, BlockFragment: w.block(":status", "200", "content-type", "application/json")}))
		for k := 0; k < int(id%7); k++ {
			must(t, w.fr.WriteData(id, false, payload[:1+int(id*977)%len(payload)%16384]))
		}
		must(t, w.fr.WriteData(id, true, nil))
		must(t, w.fr.WritePing(false, [8]byte{byte(id)}))
	}
	body := w.buf.Bytes()
	real := map[int64]rec{}
	for _, r := range headerRecs(t, body) {
		real[r.Offset] = r
	}
	for _, snap := range []int{54, 96, 200, 600} {
		s := NewStream(Options{Sync: true})
		var col collector
		for off := 0; off < len(body); off += 1448 {
			end := min(off+1448, len(body))
			cut := min(off+snap, end)
			s.Data(body[off:cut], Meta{Frame: off/1448 + 1}, col.emit)
			s.Gap(end-cut, col.emit)
		}
		s.End(col.emit)
		for _, r := range col.recs {
			w, ok := real[r.Offset]
			if !ok || w.Type != r.Type || w.Length != r.Length || w.StreamID != r.StreamID {
				t.Fatalf("snaplen %d: false frame %v", snap, r)
			}
		}
		if snap >= 96 && len(col.recs) < 10 {
			t.Errorf("snaplen %d: %d frames of %d", snap, len(col.recs), len(real))
		}
		t.Logf("snaplen %d: %d of %d frames, %+v", snap, len(col.recs), len(real), s.Stats())
	}
}

// TestLonePing: a capture that begins mid-connection on an idle client
// side, whose only frame is a health-check PING in a segment of its own:
// the PING that matters for "client connection lost" is emitted at once,
// not when more frames confirm it.
func TestLonePing(t *testing.T) {
	w := newWriter()
	must(t, w.fr.WriteData(1, true, bytes.Repeat([]byte("x"), 3000)))
	tail := bytes.Clone(w.buf.Bytes()[1000:]) // the end of a DATA frame
	w.buf.Reset()
	must(t, w.fr.WritePing(false, [8]byte{'h', 'c'}))
	ping := bytes.Clone(w.buf.Bytes())
	s := NewStream(Options{Client: true})
	var col collector
	s.Data(tail[:1448], Meta{Frame: 1}, col.emit)
	s.Data(tail[1448:], Meta{Frame: 2}, col.emit)
	s.Data(ping, Meta{Frame: 3}, col.emit)
	if len(col.recs) != 1 || col.recs[0].Type != http2.FramePing || col.recs[0].Last != 3 || col.recs[0].Ping != [8]byte{'h', 'c'} {
		t.Fatalf("got %v", col.recs)
	}
	if s.Skipped() != int64(len(tail)) {
		t.Errorf("skipped %d, want %d", s.Skipped(), len(tail))
	}
}

// TestChainFromStart: the search's first step (chainFromStart) changes
// nothing but its cost. From every cut of a mid-stream capture, cut into
// segments at random, with gaps now and then, and with lookalike bytes
// before it, a Stream emits the frames and counts what the full search
// does.
func TestChainFromStart(t *testing.T) {
	body, tail := midStream(t)
	r := rand.New(rand.NewPCG(7, 8))
	quick := 0
	for c := 0; c < tail; c++ {
		if c > 300 && c%5 != 0 && !testing.Short() {
			continue
		}
		in := body[c:]
		if r.IntN(4) == 0 {
			// A lookalike: a SETTINGS header whose length runs past
			// the next frame's start, or a PING's short by a byte.
			junk := [][]byte{{0, 0, 6, 4, 0, 0, 0, 0, 0}, {0, 0, 7, 6, 0, 0, 0, 0, 0}}[r.IntN(2)]
			in = append(append([]byte(nil), junk...), in...)
		}
		var cuts []int
		for k := 1 + r.IntN(64); k < len(in); k += 1 + r.IntN(1448) {
			cuts = append(cuts, k)
		}
		gap := -1
		if r.IntN(5) == 0 && len(cuts) > 2 {
			gap = r.IntN(len(cuts) - 1)
		}
		run := func(slow bool) ([]rec, Stats) {
			var col collector
			s := NewStream(Options{})
			s.slowHunt = slow
			prev := 0
			for i, cut := range append(slices.Clone(cuts), len(in)) {
				if i == gap {
					s.Gap(cut-prev, col.emit)
				} else {
					s.Data(in[prev:cut], Meta{Frame: i + 1}, col.emit)
				}
				prev = cut
			}
			s.End(col.emit)
			return col.recs, s.Stats()
		}
		got, gotStats := run(false)
		want, wantStats := run(true)
		if !slices.Equal(got, want) || gotStats != wantStats {
			t.Fatalf("cut at %d: with chainFromStart %d frames %+v, the full search %d frames %+v", c, len(got), gotStats, len(want), wantStats)
		}
		if len(got) > 0 && gotStats.Skipped == 0 {
			quick++
		}
	}
	if quick == 0 {
		t.Error("no cut where the search found the first frame")
	}
}

// TestChainFromStartSegment: one frame that ends where the buffered
// bytes end confirms the search only if it began a segment, with
// chainFromStart as without it; two frames confirm it either way.
func TestChainFromStartSegment(t *testing.T) {
	ping := []byte{0, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}
	for _, tc := range []struct {
		name       string
		b          []byte
		chunkStart bool
		want       bool
	}{
		{"one frame, a segment's start", ping, true, true},
		{"one frame, inside a segment", ping, false, false},
		{"two frames inside a segment", append(slices.Clone(ping), ping...), false, true},
		{"one frame and a byte", append(slices.Clone(ping), 0), true, false},
	} {
		for _, slow := range []bool{false, true} {
			s := NewStream(Options{})
			s.slowHunt = slow
			s.hb = slices.Clone(tc.b)
			s.metas = []metaAt{{off: 0, m: Meta{Frame: 1}, chunkStart: tc.chunkStart}}
			s.startHunt(0)
			if got := s.hunt(); got != tc.want || got && (s.pos != 0 || s.stats.Resyncs != 1) {
				t.Errorf("%s (full search %v): synced %v at %d (%d resyncs), want %v at 0", tc.name, slow, got, s.pos, s.stats.Resyncs, tc.want)
			}
		}
	}
}
