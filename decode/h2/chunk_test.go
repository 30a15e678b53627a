package h2

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"

	"golang.org/x/net/http2"
)

// wantRecs is what a Stream must emit for frames body fed after prefix
// bytes of preface or upgrade, cut at cuts (offsets into the whole input).
func wantRecs(t testing.TB, body []byte, prefix int, cuts []int) []rec {
	want := headerRecs(t, body)
	for i := range want {
		w := &want[i]
		w.Offset += int64(prefix)
		w.First = segmentOf(int(w.Offset), cuts)
		w.Last = segmentOf(int(w.Offset)+9+int(w.Length)-1, cuts)
	}
	return want
}

func sameHeaders(t *testing.T, name string, got, want []rec) bool {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		g, w := got[i], want[i]
		ok = g.Type == w.Type && g.Flags == w.Flags && g.StreamID == w.StreamID && g.Length == w.Length &&
			g.Offset == w.Offset && g.First == w.First && g.Last == w.Last
	}
	if !ok {
		t.Errorf("%s: got %d frames, want %d", name, len(got), len(want))
		for i := 0; i < max(len(got), len(want)); i++ {
			var g, w rec
			if i < len(got) {
				g = got[i]
			}
			if i < len(want) {
				w = want[i]
			}
			t.Logf("  got  %v\n  want %v", g, w)
		}
	}
	return ok
}

// TestChunkBoundaries feeds the same stream cut at every offset, byte by
// byte, and in random pieces: frames, content and attribution must not
// depend on where segments end.
func TestChunkBoundaries(t *testing.T) {
	_, body := allTypes(t)
	b := append([]byte(ClientPreface), body...)
	var whole collector
	feed(NewStream(Options{Client: true}), b, nil, &whole)

	run := func(name string, cuts []int) {
		var c collector
		s := NewStream(Options{Client: true})
		feed(s, b, cuts, &c)
		if !sameHeaders(t, name, c.recs, wantRecs(t, body, len(ClientPreface), cuts)) {
			t.FailNow()
		}
		for i := range c.recs {
			g, w := c.recs[i], whole.recs[i]
			g.First, g.Last, w.First, w.Last = 0, 0, 0, 0
			if g != w {
				t.Fatalf("%s: frame %d content: got %v, want %v", name, i, g, w)
			}
		}
		if s.Skipped() != 0 || !s.Preface() {
			t.Fatalf("%s: skipped %d, preface %v", name, s.Skipped(), s.Preface())
		}
	}
	for k := 1; k < len(b); k++ {
		run("cut", []int{k})
	}
	var every []int
	for k := 1; k < len(b); k++ {
		every = append(every, k)
	}
	run("bytewise", every)
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		cuts := []int{r.IntN(len(b)), r.IntN(len(b)), r.IntN(len(b)), r.IntN(len(b))}
		slices.Sort(cuts)
		cuts = slices.Compact(cuts)
		run("random", cuts)
	}
}

// segments returns cuts every mss bytes.
func segments(n, mss int) []int {
	var cuts []int
	for k := mss; k < n; k += mss {
		cuts = append(cuts, k)
	}
	return cuts
}

// TestBigFrames: frames far larger than a segment, up to the maximum the
// peer allowed, and control frames larger than the buffer.
func TestBigFrames(t *testing.T) {
	w := newWriter()
	must(t, w.fr.WriteSettings())
	payload := bytes.Repeat([]byte{0, 0, 8, 6, 0, 0, 0, 0, 0}, 1<<21)
	must(t, w.fr.WriteData(1, false, payload[:16384]))
	must(t, w.fr.WriteData(1, false, payload[:1<<20]))
	must(t, w.fr.WriteRawFrame(http2.FrameGoAway, 0, 0, payload[:40000])) // larger than the buffer
	must(t, w.fr.WriteData(1, true, payload[:maxMaxFrameSize]))
	must(t, w.fr.WritePing(false, [8]byte{9}))
	must(t, w.fr.WritePing(true, [8]byte{9}))
	body := w.buf.Bytes()
	for _, mss := range []int{1448, 65483} {
		cuts := segments(len(body), mss)
		var c collector
		s := NewStream(Options{Sync: true, MaxFrameSize: 1 << 24})
		feed(s, body, cuts, &c)
		sameHeaders(t, "big", c.recs, wantRecs(t, body, 0, cuts))
		if len(c.recs) == 7 && (len(c.recs[3].Debug) != 40000-8 || c.recs[5].Ping != [8]byte{9}) {
			t.Errorf("GOAWAY or PING: %v %v", c.recs[3], c.recs[5])
		}
		if cap(s.buf) > 40000 {
			t.Errorf("payload buffer grew to %d", cap(s.buf))
		}
		// In step from the start but not told of the larger maximum: the
		// large frames are believed, and flagged.
		c = collector{}
		s = NewStream(Options{Sync: true})
		feed(s, body, cuts, &c)
		sameHeaders(t, "big, default maximum", c.recs, wantRecs(t, body, 0, cuts))
		for _, r := range c.recs {
			if r.Oversize != (r.Length > minMaxFrameSize) {
				t.Errorf("Oversize wrong: %v", r)
			}
		}
		// Mid-connection, not told: large frames are not believed, and
		// the Stream finds its way to the last frames.
		c = collector{}
		s = NewStream(Options{})
		feed(s, body[15:], nil, &c)
		if n := len(c.recs); n < 2 || c.recs[n-1].Ping != [8]byte{9} || c.recs[n-2].Ping != [8]byte{9} {
			t.Errorf("mid-connection, default maximum: %d frames, %+v", n, s.Stats())
		}
	}
	// Found by search, with a larger maximum announced.
	var c collector
	s := NewStream(Options{})
	s.PeerSettings([]http2.Setting{{ID: http2.SettingMaxFrameSize, Val: 1 << 24}})
	cuts := segments(len(body), 1448)
	feed(s, body, cuts, &c)
	sameHeaders(t, "big, search", c.recs, wantRecs(t, body, 0, cuts))
}
