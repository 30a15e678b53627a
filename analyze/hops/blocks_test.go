package hops

import (
	"slices"
	"testing"
)

// TestBlockLog: records come back in the order added, whatever was taken
// out between, across block boundaries, and full blocks freed are reused.
func TestBlockLog(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		first int
		out   func(int) bool
	}{
		{"none taken", 3000, 8, func(int) bool { return false }},
		{"all taken", 3000, 8, func(int) bool { return true }},
		{"every other", 5000, 16, func(x int) bool { return x%2 == 0 }},
		{"the oldest", 4000, 16, func(x int) bool { return x < 2500 }},
		{"the newest", 4000, 16, func(x int) bool { return x >= 1000 }},
		{"one block", 5, 16, func(x int) bool { return x == 2 }},
		// Runs of either across block boundaries (takeUpTo copies runs).
		{"runs", 9000, 16, func(x int) bool { return (x/37)%3 == 0 || x%1000 == 999 }},
		{"kept first", 5000, 8, func(x int) bool { return x >= 1500 && x < 3100 }},
		{"empty", 0, 16, func(int) bool { return true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				l    blockLog[rec]
				pool blockPool[rec]
				want []rec
			)
			// A record to take out ends below lim, one to keep past it.
			const lim = 1 << 40
			recOf := func(i int) rec {
				r := rec{lo: lim + int64(i), n: 1, frame: int32(i)}
				if tt.out(i) {
					r.lo = int64(i)
				}
				return r
			}
			for i := range tt.n {
				l.push(recOf(i), &pool, tt.first)
				want = append(want, recOf(i))
			}
			if got := l.appendTo(nil); !slices.Equal(got, want) {
				t.Fatalf("appendTo = %d records, want %d in order", len(got), len(want))
			}
			var wantOut, wantKept []rec
			for _, x := range want {
				if tt.out(int(x.frame)) {
					wantOut = append(wantOut, x)
				} else {
					wantKept = append(wantKept, x)
				}
			}
			got := takeUpTo(&l, lim, nil, &pool)
			if !slices.Equal(got, wantOut) {
				t.Errorf("takeUpTo moved %d records, want %d in order", len(got), len(wantOut))
			}
			if kept := l.appendTo(nil); !slices.Equal(kept, wantKept) || l.len() != len(wantKept) {
				t.Errorf("kept %d records (len %d), want %d in order", len(kept), l.len(), len(wantKept))
			}
			// More after a take go after what was kept.
			for i := range 1500 {
				l.push(recOf(tt.n+i), &pool, tt.first)
				wantKept = append(wantKept, recOf(tt.n+i))
			}
			if kept := l.appendTo(nil); !slices.Equal(kept, wantKept) {
				t.Errorf("after pushing more: %d records, want %d in order", len(kept), len(wantKept))
			}
			freeBefore := len(pool.free)
			l.reset(&pool)
			if l.len() != 0 || len(l.blocks) != 0 || l.any(func(*rec) bool { return true }) {
				t.Errorf("reset left %d records in %d blocks", l.len(), len(l.blocks))
			}
			if len(wantKept) > 2*maxBlock && len(pool.free) <= freeBefore {
				t.Errorf("reset of %d records pooled no block", len(wantKept))
			}
		})
	}
}
