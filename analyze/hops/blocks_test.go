package hops

import (
	"slices"
	"testing"
)

// TestBlockLog: records come back in the order added, whatever was taken
// out between, across block boundaries, and blocks freed are reused.
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
			freeBefore := pool.pooled()
			l.reset(&pool)
			if l.len() != 0 || len(l.blocks) != 0 || l.any(func(*rec) bool { return true }) {
				t.Errorf("reset left %d records in %d blocks", l.len(), len(l.blocks))
			}
			if len(wantKept) > 2*maxBlock && pool.pooled() <= freeBefore {
				t.Errorf("reset of %d records pooled no block", len(wantKept))
			}
		})
	}
}

// pooled counts the free blocks of every size.
func (p *blockPool[T]) pooled() int {
	n := 0
	for _, f := range p.free {
		n += len(f)
	}
	return n
}

// TestBlockPoolSizes: a short connection's blocks (the first, then twice
// as large) go back to the pool when its log is reset, and the next log
// takes them, each its own size, rather than making new ones.
func TestBlockPoolSizes(t *testing.T) {
	var pool blockPool[rec]
	var a blockLog[rec]
	for i := range 16 + 32 + 5 { // three blocks: 16, 32, 64
		a.push(rec{lo: int64(i), n: 1}, &pool, 16)
	}
	blocks := make([]*rec, 0, len(a.blocks))
	for _, b := range a.blocks {
		blocks = append(blocks, &b[:1][0])
	}
	a.reset(&pool)
	if got := pool.pooled(); got != 3 {
		t.Fatalf("reset pooled %d blocks, want 3", got)
	}
	var b blockLog[rec]
	for i := range 16 + 32 + 5 {
		b.push(rec{lo: int64(i), n: 1}, &pool, 16)
	}
	for k, blk := range b.blocks {
		if want := 16 << k; cap(blk) != want {
			t.Errorf("block %d: capacity %d, want %d", k, cap(blk), want)
		}
		if &blk[:1][0] != blocks[k] {
			t.Errorf("block %d is a new one, not the freed block of its size", k)
		}
	}
	if got := pool.pooled(); got != 0 {
		t.Errorf("%d blocks left in the pool, want 0", got)
	}
	// A size the pool has none of is made.
	if c := cap(pool.get(128)); c != 128 {
		t.Errorf("get(128): capacity %d", c)
	}
}
