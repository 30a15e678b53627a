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
