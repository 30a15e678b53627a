package analyze

import (
	"math"
	"testing"
	"time"
)

// TestSince: since is time.Time.Sub, near and far, either way round,
// across a second's edge, and saturated past Duration's range.
func TestSince(t *testing.T) {
	base := time.Date(2026, 12, 6, 9, 0, 0, 999_999_999, time.UTC)
	for _, d := range []time.Duration{0, 1, -1, time.Nanosecond * 999_999_999, time.Second, -time.Second, 1500 * time.Millisecond,
		-1500 * time.Millisecond, 24 * time.Hour, 100 * 365 * 24 * time.Hour, math.MaxInt64, math.MinInt64} {
		for _, start := range []time.Time{base, time.Unix(0, 0), time.Unix(1<<32, 5)} {
			for _, t2 := range []time.Time{start.Add(d), start.Add(d).Add(d), start.AddDate(300, 0, 0), start.AddDate(-300, 0, 0)} {
				if got, want := since(t2, start), t2.Sub(start); got != want {
					t.Errorf("since(%v, %v) = %v, want %v", t2, start, got, want)
				}
			}
		}
	}
}
