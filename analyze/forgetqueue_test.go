package analyze

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestForgetterDue: a sweep looks at every queued connection that closed
// long enough ago, and when the queue is in order at no other; a queue
// whose times went back once, or hold one out of Unix nanoseconds' range,
// is looked at whole, as before the queue kept its times.
func TestForgetterDue(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	base := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	for round := range 200 {
		fg := &forgetter{after: 3 * time.Second}
		var ends []time.Time
		at := base
		back := round%4 == 1
		absurd := round%4 == 2
		for i := range 50 + r.IntN(50) {
			at = at.Add(time.Duration(r.IntN(200)) * time.Millisecond)
			end := at
			if back && i == 20 {
				end = at.Add(-time.Second)
			}
			if absurd && i == 30 {
				end = time.Time{}
			}
			ends = append(ends, end)
			fg.closedConn(&conn{}, end)
		}
		now := at.Add(time.Duration(r.IntN(5000)) * time.Millisecond)
		n := fg.due(now)
		if back || absurd {
			if fg.inOrder || n != len(ends) {
				t.Fatalf("round %d: out of order, in order %v, %d of %d looked at", round, fg.inOrder, n, len(ends))
			}
			continue
		}
		for i, end := range ends {
			if old := now.Sub(end) >= fg.after; old != (i < n) {
				t.Fatalf("round %d: connection %d ended %v before the sweep, looked at %v", round, i, now.Sub(end), i < n)
			}
		}
	}
}
