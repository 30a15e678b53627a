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
		{"empty", 0, 16, func(int) bool { return true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				l    blockLog[int]
				pool blockPool[int]
				want []int
			)
			for i := range tt.n {
				l.push(i, &pool, tt.first)
				want = append(want, i)
			}
			if got := l.appendTo(nil); !slices.Equal(got, want) {
				t.Fatalf("appendTo = %d records, want %d in order", len(got), len(want))
			}
			var wantOut, wantKept []int
			for _, x := range want {
				if tt.out(x) {
					wantOut = append(wantOut, x)
				} else {
					wantKept = append(wantKept, x)
				}
			}
			got := l.take(func(x *int) bool { return tt.out(*x) }, nil, &pool)
			if !slices.Equal(got, wantOut) {
				t.Errorf("take moved %d records, want %d in order", len(got), len(wantOut))
			}
			if kept := l.appendTo(nil); !slices.Equal(kept, wantKept) || l.len() != len(wantKept) {
				t.Errorf("kept %d records (len %d), want %d in order", len(kept), l.len(), len(wantKept))
			}
			// More after a take go after what was kept.
			for i := range 1500 {
				l.push(tt.n+i, &pool, tt.first)
				wantKept = append(wantKept, tt.n+i)
			}
			if kept := l.appendTo(nil); !slices.Equal(kept, wantKept) {
				t.Errorf("after pushing more: %d records, want %d in order", len(kept), len(wantKept))
			}
			freeBefore := len(pool.free)
			l.reset(&pool)
			if l.len() != 0 || len(l.blocks) != 0 || l.any(func(*int) bool { return true }) {
				t.Errorf("reset left %d records in %d blocks", l.len(), len(l.blocks))
			}
			if len(wantKept) > 2*maxBlock && len(pool.free) <= freeBefore {
				t.Errorf("reset of %d records pooled no block", len(wantKept))
			}
		})
	}
}
