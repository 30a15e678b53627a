package hops

import (
	"math/rand/v2"
	"testing"
)

// streamFlows finds what a map would, whatever order streams begin and
// end in, and its memory follows the open streams: a few long-lived
// streams among a million short ones keep a small window.
func TestStreamFlows(t *testing.T) {
	cases := []struct {
		name string
		life func(r *rand.Rand, st int) int // how many streams later st ends; <0: never
	}{
		{"in order", func(*rand.Rand, int) int { return 3 }},
		{"shuffled", func(r *rand.Rand, _ int) int { return r.IntN(200) }},
		{"long-lived among short", func(r *rand.Rand, st int) int {
			if st%5000 == 7 {
				return -1
			}
			return r.IntN(50)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var s streamFlows
			want := map[int]*flow{}
			ends := map[int][]int{} // at stream n, the streams that end
			const n = 200000
			maxWin := 0
			for st := range n {
				f := &flow{}
				s.set(st, f)
				want[st] = f
				if l := tc.life(r, st); l >= 0 {
					ends[st+l] = append(ends[st+l], st)
				}
				for _, e := range ends[st] {
					s.del(e)
					delete(want, e)
				}
				delete(ends, st)
				if st%997 == 0 {
					// Refiled under another flow (content.go's merge).
					for k := range want {
						g := &flow{}
						s.set(k, g)
						want[k] = g
						break
					}
				}
				maxWin = max(maxWin, cap(s.win))
				if st%1000 == 0 {
					for k := st - 300; k <= st+1; k++ {
						if got := s.get(k); got != want[k] {
							t.Fatalf("after stream %d: get(%d) = %p, want %p", st, k, got, want[k])
						}
					}
				}
			}
			for k, f := range want {
				if s.get(k) != f {
					t.Fatalf("get(%d) wrong at the end", k)
				}
			}
			if maxWin > 4*minStreamWindow+4*len(want) {
				t.Errorf("window grew to %d for %d open streams", maxWin, len(want))
			}
			t.Logf("%d open, window up to %d, %d in old", len(want), maxWin, len(s.old))
		})
	}
}
