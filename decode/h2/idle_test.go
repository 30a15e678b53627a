package h2

import "testing"

// Idle promises that End would emit nothing and change nothing the Stream
// reports: checked after every prefix of a connection's bytes, from its
// start and from inside a frame (searching), with a gap too.
func TestIdle(t *testing.T) {
	_, body := allTypes(t)
	cases := []struct {
		name string
		b    []byte
		opts Options
		gap  int // bytes lost before b
	}{
		{"from the preface", append([]byte(ClientPreface), body...), Options{Client: true}, 0},
		{"from inside a frame", body[5:], Options{}, 0},
		{"after a gap", body[5:], Options{}, 100},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			idle := 0
			for n := 0; n <= len(tc.b); n++ {
				s := NewStream(tc.opts)
				var c collector
				if tc.gap > 0 {
					s.Gap(tc.gap, c.emit)
				}
				s.Data(tc.b[:n], Meta{Frame: 1}, c.emit)
				if !s.Idle() {
					continue
				}
				idle++
				frames, stats, preface, upgrade := len(c.recs), s.Stats(), s.Preface(), s.Upgrade()
				s.End(c.emit)
				if len(c.recs) != frames || s.Stats() != stats || s.Preface() != preface || s.Upgrade() != upgrade {
					t.Errorf("%d bytes: idle, but End emitted %d frames, stats %+v -> %+v", n, len(c.recs)-frames, stats, s.Stats())
				}
			}
			if idle == 0 || idle == len(tc.b)+1 {
				t.Errorf("idle after %d of %d prefixes: the test tells nothing", idle, len(tc.b)+1)
			}
		})
	}
}

// A Stream in step after a search holds no more of the search's buffers
// than Reset keeps: a connection captured mid-way then lives for hours on
// what is left. One that began at the preface keeps its small start
// buffer.
func TestSearchBuffersReleased(t *testing.T) {
	body, _ := midStream(t)
	s := NewStream(Options{})
	var c collector
	for i := 7; i < len(body); i += 100 { // from inside a frame, in segments
		s.Data(body[i:min(i+100, len(body))], Meta{Frame: i}, c.emit)
	}
	if !s.InSync() || s.Stats().Resyncs == 0 {
		t.Fatalf("not in step after a search: %+v", s.Stats())
	}
	if cap(s.hb) > maxKeptOnReset || cap(s.metas) > maxKeptElemsOnReset || cap(s.hyps) > maxKeptElemsOnReset {
		t.Errorf("in step after a search, buffers kept: hb %d, metas %d, hyps %d", cap(s.hb), cap(s.metas), cap(s.hyps))
	}
	if len(c.recs) == 0 {
		t.Fatal("no frame emitted")
	}

	p := NewStream(Options{Client: true})
	p.Data([]byte(ClientPreface), Meta{Frame: 1}, c.emit)
	if !p.InSync() || p.hb == nil {
		t.Errorf("from the preface: in step %v, start buffer kept %v", p.InSync(), p.hb != nil)
	}
}

// Streams sharing a Scratch Frame emit what Streams of their own emit,
// also when one emits from inside the other's emit (it then uses a Frame
// of its own), and hold no Frame of their own otherwise.
func TestScratchFrame(t *testing.T) {
	_, body := allTypes(t)
	b := append([]byte(ClientPreface), body...)
	var want collector
	feed(NewStream(Options{Client: true}), b, []int{30, 90}, &want)

	scratch := new(Frame)
	outer := NewStream(Options{Client: true, Scratch: scratch})
	inner := NewStream(Options{Client: true, Scratch: scratch})
	var gotOuter, gotInner collector
	fed := 0
	emit := func(f *Frame) {
		gotOuter.emit(f)
		// Each frame of outer lets inner parse the next bytes, from
		// inside outer's emit; outer's frame must be unchanged after.
		before := toRec(f)
		if fed < len(b) {
			n := min(len(b)-fed, 37)
			inner.Data(b[fed:fed+n], Meta{Frame: 1}, gotInner.emit)
			fed += n
		}
		if after := toRec(f); after != before {
			t.Errorf("outer's frame changed by inner's emit: %v -> %v", before, after)
		}
	}
	prev := 0
	for i, cut := range []int{30, 90, len(b)} {
		outer.Data(b[prev:cut], Meta{Frame: i + 1}, emit)
		prev = cut
	}
	outer.End(emit)
	if fed < len(b) {
		inner.Data(b[fed:], Meta{Frame: 1}, gotInner.emit)
	}
	inner.End(gotInner.emit)
	if len(gotOuter.recs) != len(want.recs) {
		t.Fatalf("outer emitted %d frames, want %d", len(gotOuter.recs), len(want.recs))
	}
	for i := range want.recs {
		if gotOuter.recs[i] != want.recs[i] {
			t.Errorf("frame %d: %v, want %v", i, gotOuter.recs[i], want.recs[i])
		}
	}
	if len(gotInner.recs) != len(want.recs) {
		t.Errorf("inner emitted %d frames, want %d", len(gotInner.recs), len(want.recs))
	}
	if outer.own != nil {
		t.Errorf("outer made a Frame of its own with the Scratch free")
	}
	if inner.own == nil {
		t.Errorf("inner did not make a Frame of its own while the Scratch was busy")
	}
}
