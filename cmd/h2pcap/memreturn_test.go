package main

import "testing"

func TestGCPercent(t *testing.T) {
	const mb = 1 << 20
	for _, tc := range []struct {
		name string
		rate float64 // bytes a second
		live uint64
		want int
	}{
		// 20,000 idle connections answering PINGs: little allocated.
		{"idle", 0.5 * mb, 200 * mb, minGCPercent},
		{"quiet", 0, 20 * mb, minGCPercent},
		// 2 s of allocation is 30% of the heap.
		{"between", 30 * mb, 200 * mb, 30},
		// A storm allocates faster than the heap could double in 2 s.
		{"storm", 200 * mb, 300 * mb, liveGCPercent},
		{"no heap", mb, 0, liveGCPercent},
	} {
		if got := gcPercent(tc.rate, tc.live); got != tc.want {
			t.Errorf("%s: gcPercent(%.0f MB/s, %d MB) = %d, want %d", tc.name, tc.rate/mb, tc.live/mb, got, tc.want)
		}
	}
}
