package hops

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// nth and medians give what sorting gives, on the shapes of times they
// see: a few distinct values many times (deltas of a clock that ticks in
// microseconds), sorted, reversed, random, tiny.
func TestNth(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	shapes := map[string]func(n int) []int64{
		"equal": func(n int) []int64 { return make([]int64, n) },
		"few values": func(n int) []int64 {
			ds := make([]int64, n)
			for i := range ds {
				ds[i] = 2000 + rng.Int64N(3)*1000
			}
			return ds
		},
		"sorted": func(n int) []int64 {
			ds := make([]int64, n)
			for i := range ds {
				ds[i] = int64(i)
			}
			return ds
		},
		"reversed": func(n int) []int64 {
			ds := make([]int64, n)
			for i := range ds {
				ds[i] = int64(n - i)
			}
			return ds
		},
		"random": func(n int) []int64 {
			ds := make([]int64, n)
			for i := range ds {
				ds[i] = rng.Int64N(1e9) - 5e8
			}
			return ds
		},
	}
	for name, shape := range shapes {
		for _, n := range []int{1, 2, 3, 4, 7, 64, 1001, 4096} {
			ds := shape(n)
			want := slices.Clone(ds)
			slices.Sort(want)
			for _, k := range []int{0, n / 2, n - 1, (n - 1) / 2} {
				if got := nth(slices.Clone(ds), k); got != want[k] {
					t.Errorf("%s, %d: nth %d = %d, want %d", name, n, k, got, want[k])
				}
			}
			ab, ba, ok := medians(slices.Clone(ds))
			if !ok || ab != want[n/2] || ba != -want[n-1-n/2] {
				t.Errorf("%s, %d: medians %d, %d, want %d, %d", name, n, ab, ba, want[n/2], -want[n-1-n/2])
			}
		}
	}
	if _, _, ok := medians(nil); ok {
		t.Error("medians of nothing: ok")
	}
}
