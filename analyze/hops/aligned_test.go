package hops

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// compareAligned gives what comparing interval by interval gives: the
// points' packets, the pairs' typical deltas and the samples for the
// clocks, on chunks it takes (the same ranges everywhere, gaps between
// some, more intervals than typicalDelta reads each of) and on chunks it
// must leave (a range sent again, cut otherwise at one point, missing at
// every point), with ranges missing at points (lost, stopped, missed by a
// capture), holes filled later and a point without the flow.
func TestCompareAligned(t *testing.T) {
	tests := []struct {
		name    string
		np      int
		ranges  int
		gap     int                          // every gap-th range begins past the last's end (0: none)
		absent  int                          // a point that did not see the flow (-1: none)
		change  func(pt, j int, r *rec) bool // false: the copy is left out
		aligned bool                         // compareAligned takes it
		acked   int64                        // acknowledged at every point (0: nothing)
		quoted  int64                        // a range an ICMP error quoted (0: none)
		late    []int                        // ranges whose copies come after all others (a hole filled)
	}{
		{name: "short", np: 4, ranges: 6, absent: -1, aligned: true},
		{name: "gaps", np: 3, ranges: 40, gap: 7, absent: -1, aligned: true},
		{name: "many intervals", np: 4, ranges: 9000, gap: 5, absent: -1, aligned: true},
		{name: "a point without the flow", np: 3, ranges: 20, absent: 1, aligned: true},
		{name: "one missing at a point", np: 3, ranges: 30, absent: -1, aligned: true,
			change: func(pt, j int, r *rec) bool { return pt != 2 || j != 11 }},
		{name: "missing along the path", np: 4, ranges: 9000, gap: 11, absent: -1, aligned: true,
			change: func(pt, j int, r *rec) bool { return pt == 0 || (j+pt)%997 != 0 && (pt < 2 || j%1201 != 0) }},
		{name: "the last ones missing", np: 3, ranges: 30, absent: -1, aligned: true,
			change: func(pt, j int, r *rec) bool { return pt != 1 || j < 27 }},
		{name: "missing at a point without the flow's other", np: 3, ranges: 30, absent: 0, aligned: true,
			change: func(pt, j int, r *rec) bool { return pt != 2 || j%5 != 0 }},
		{name: "missing, some acknowledged", np: 3, ranges: 40, absent: -1, aligned: true, acked: 2050,
			change: func(pt, j int, r *rec) bool { return pt == 0 || j%6 != 0 }},
		{name: "missing, one quoted by an ICMP error", np: 2, ranges: 30, absent: -1, aligned: true, quoted: 1200,
			change: func(pt, j int, r *rec) bool { return pt == 0 || j != 12 && j != 20 }},
		{name: "missing at the first point", np: 3, ranges: 30, absent: -1, aligned: true,
			change: func(pt, j int, r *rec) bool { return pt != 0 || j != 4 }},
		{name: "no point has every range", np: 3, ranges: 30, absent: -1,
			change: func(pt, j int, r *rec) bool { return !(pt == 0 && j == 4 || pt == 1 && j == 15 || pt == 2 && j == 9) }},
		{name: "holes filled later", np: 4, ranges: 5000, gap: 9, absent: -1, aligned: true, late: []int{3, 1700, 1701, 4990},
			change: func(pt, j int, r *rec) bool { return pt == 0 || j%997 != 0 }},
		{name: "a hole filled later, missing after", np: 3, ranges: 30, absent: -1, aligned: true, late: []int{7},
			change: func(pt, j int, r *rec) bool { return pt != 2 || j != 7 }},
		{name: "a hole filled later, sent again", np: 3, ranges: 30, absent: -1, late: []int{7},
			change: func(pt, j int, r *rec) bool {
				if j == 7 {
					r.lo -= 100 // overlaps the range before
				}
				return true
			}},
		{name: "sent again", np: 3, ranges: 30, absent: -1,
			change: func(pt, j int, r *rec) bool {
				if j == 12 {
					r.lo -= 100 // overlaps the range before: a retransmission's copy
				}
				return true
			}},
		{name: "cut otherwise at one point", np: 2, ranges: 30, absent: -1,
			change: func(pt, j int, r *rec) bool {
				if pt == 1 && j == 5 {
					r.n = 50
				}
				return true
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := func(noAligned bool) (*Placer, dirResult) {
				names := make([]string, tt.np)
				for i := range names {
					names[i] = string(rune('a' + i))
				}
				p := New(names)
				p.noAligned = noAligned
				f := &flow{at: make([]*member, tt.np), dir: [2]*dirLog{{}, {}}, lastNS: math.MinInt64}
				for pt := range tt.np {
					if pt != tt.absent {
						f.at[pt] = &member{}
						if tt.acked > 0 {
							f.at[pt].acked[0], f.at[pt].ackSeen[0] = tt.acked, true
						}
					}
				}
				if tt.quoted > 0 {
					f.dir[0].quoted = []quote{{rel: tt.quoted}}
				}
				rng := rand.New(rand.NewPCG(1, uint64(len(tt.name))))
				lo := int64(0)
				var later []rec
				for j := range tt.ranges {
					if tt.gap > 0 && j > 0 && j%tt.gap == 0 {
						lo += 300
					}
					for pt := range tt.np {
						if pt == tt.absent {
							continue
						}
						// Each point's copy later along the path, by
						// 1 ms and up to 200 us of jitter.
						r := rec{lo: lo, n: 100, point: int32(pt), input: int32(pt), frame: int32(j + 1),
							ns: int64(j)*1e6 + int64(pt)*1e6 + rng.Int64N(200e3)}
						if tt.change != nil && !tt.change(pt, j, &r) {
							continue
						}
						if slices.Contains(tt.late, j) {
							r.ns += 200e6
							later = append(later, r)
							continue
						}
						f.dir[0].recs.push(r, &p.recPool, recsStart*tt.np)
					}
					lo += 100
				}
				for _, r := range later {
					f.dir[0].recs.push(r, &p.recPool, recsStart*tt.np)
				}
				p.compare(f, 0, 1<<62)
				return p, f.res[0]
			}
			slow, want := run(true)
			fast, got := run(false)
			if (fast.aligned == 1) != tt.aligned || slow.aligned != 0 {
				t.Fatalf("compareAligned took %d chunks (%d with noAligned), want aligned %v", fast.aligned, slow.aligned, tt.aligned)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("result %+v, want %+v", got, want)
			}
			// Not vacuous: where copies are left out of a chunk
			// compareAligned takes, comparing finds them.
			found := 0
			if lr := want.lossResult; lr != nil {
				for a := range lr.missing {
					for b := range lr.missing[a] {
						found += lr.missing[a][b] + lr.capMissed[a][b] + lr.stopped[a][b]
					}
				}
				for _, e := range lr.past {
					found += e.n
				}
			}
			if tt.aligned && (found > 0) != (tt.change != nil) {
				t.Errorf("%d copies found missing, want some: %v", found, tt.change != nil)
			}
			if !reflect.DeepEqual(fast.gaps, slow.gaps) {
				t.Errorf("capture gaps %v, want %v", fast.gaps, slow.gaps)
			}
			if !reflect.DeepEqual(fast.samples, slow.samples) {
				t.Errorf("samples %v, want %v", fast.samples, slow.samples)
			}
		})
	}
}
