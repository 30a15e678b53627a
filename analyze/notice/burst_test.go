package notice

import (
	"testing"
	"time"
)

// A burst is burstCount retransmissions of one side within burstWindow,
// told once until the side has been quiet for burstWindow.
func TestBurst(t *testing.T) {
	ms := int64(time.Millisecond)
	for _, tc := range []struct {
		name  string
		at    []int64 // ms
		burst []bool  // retrans's answer for each
	}{
		{"five in a second", []int64{0, 100, 200, 300, 400}, []bool{false, false, false, false, true}},
		{"five over more than a second", []int64{0, 300, 600, 900, 1200}, []bool{false, false, false, false, false}},
		{"told once while it lasts", []int64{0, 10, 20, 30, 40, 50, 60}, []bool{false, false, false, false, true, false, false}},
		{"again after a quiet second", []int64{0, 10, 20, 30, 40, 2000, 2010, 2020, 2030, 2040}, []bool{false, false, false, false, true, false, false, false, false, true}},
	} {
		var b burstTrack
		for i, at := range tc.at {
			if got := b.retrans(at * ms); got != tc.burst[i] {
				t.Errorf("%s: retransmission %d at %d ms: burst %v, want %v", tc.name, i, at, got, tc.burst[i])
			}
		}
	}
}
