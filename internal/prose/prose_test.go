package prose

import (
	"fmt"
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{1500 * time.Microsecond, "2 ms"},
		{999 * time.Millisecond, "999 ms"},
		{2 * time.Second, "2.0 s"},
		{45 * time.Second, "45 s"},
		{12 * time.Minute, "12 min"},
		{90 * time.Minute, "90 min"},
		{3 * time.Hour, "3.0 h"},
	} {
		if got := Duration(tt.d); got != tt.want {
			t.Errorf("Duration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// TestDurationAsFmt: Duration writes what fmt's %.Nf did before it used
// strconv, over each unit's range and its rounding edges.
func TestDurationAsFmt(t *testing.T) {
	old := func(d time.Duration) string {
		switch {
		case d >= 2*time.Hour:
			return fmt.Sprintf("%.1f h", d.Hours())
		case d >= 2*time.Minute:
			return fmt.Sprintf("%.0f min", d.Minutes())
		case d >= 10*time.Second:
			return fmt.Sprintf("%.0f s", d.Seconds())
		case d >= time.Second:
			return fmt.Sprintf("%.1f s", d.Seconds())
		}
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
	for _, d := range []time.Duration{-time.Second, 0, 1, 499 * time.Microsecond, 500 * time.Microsecond, 2500 * time.Microsecond,
		999500 * time.Microsecond, time.Second, 1050 * time.Millisecond, 1950 * time.Millisecond, 9999 * time.Millisecond,
		10 * time.Second, 10500 * time.Millisecond, 119 * time.Second, 2 * time.Minute, 150 * time.Second, 119 * time.Minute,
		2 * time.Hour, 2*time.Hour + 3*time.Minute, 1000 * time.Hour} {
		for k := time.Duration(0); k < 1000; k += 7 {
			if got, want := Duration(d+k*time.Microsecond), old(d+k*time.Microsecond); got != want {
				t.Fatalf("Duration(%v) = %q, fmt wrote %q", d+k*time.Microsecond, got, want)
			}
		}
	}
}
