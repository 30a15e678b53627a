package hops

import "math/bits"

// A direction's packets still to compare (dirLog.recs, dirLog.acks) are
// kept in blocks, not one slice: a connection carrying 100 MB/s without
// TCP timestamps holds PlaceHold+PlaceSweep of its packets at every point
// (with them, a round trip's and PlaceBatch: guard.go), hundreds of
// thousands of them, and a slice growing to that size copies itself at
// each doubling into memory never touched before (on a VM, a page fault
// per 4 KB: four points of make bench's bulk capture spent more time in
// those copies than in comparing). Blocks are never copied; full ones
// freed by a comparison are taken again by the next packets.

// Block sizes: a direction's first block has room for recsStart packets
// per point (a short connection's all, in one allocation), each next one
// twice the one before up to maxBlock records.
const maxBlock = 1024

// blockLog is a list of records in blocks, in the order they were added.
type blockLog[T any] struct {
	blocks [][]T // all full but the last
	n      int
}

// blockPool keeps the blocks freed by one direction for the next, by
// size: a short connection's few blocks (the first of recsStart packets a
// point, then twice that, ...) are freed when it is compared to its end,
// and the next connection's take them, instead of each connection making
// its own (four points of 50,000 short connections: the blocks were a
// fifth of what the whole analysis allocated, and the collector's work).
type blockPool[T any] struct {
	free [blockClasses][][]T // by bits.Len of the capacity
	off  bool                // tests: nothing kept (Placer.noReuse)
}

// blockClasses covers every block size: doubling from the first up to
// maxBlock, each size is one bit longer than the one before.
const blockClasses = 16

// maxPooled bounds the free blocks kept of each size by their records:
// as many as 256 full blocks hold (256 blocks of 32 KB), enough for the
// packets of a few seconds of a fast connection at every point, or of
// the short connections a few seconds hold, no more, so that a burst's
// blocks go back to the collector.
const maxPooled = 256

// get returns an empty block of capacity c: a freed one, or a new one.
func (p *blockPool[T]) get(c int) []T {
	k := bits.Len(uint(c))
	if k < blockClasses {
		if n := len(p.free[k]); n > 0 {
			b := p.free[k][n-1]
			if cap(b) == c {
				p.free[k][n-1] = nil
				p.free[k] = p.free[k][:n-1]
				return b
			}
		}
	}
	return make([]T, 0, c)
}

// put keeps block b, whose records were all dropped, for get.
func (p *blockPool[T]) put(b []T) {
	k := bits.Len(uint(cap(b)))
	if p.off || cap(b) == 0 || k >= blockClasses || len(p.free[k])*cap(b) >= maxPooled*maxBlock {
		return
	}
	p.free[k] = append(p.free[k], b[:0])
}

func (l *blockLog[T]) len() int { return l.n }

// push adds x, first being the first block's size.
func (l *blockLog[T]) push(x T, pool *blockPool[T], first int) {
	k := len(l.blocks)
	if k == 0 || len(l.blocks[k-1]) == cap(l.blocks[k-1]) {
		var b []T
		switch {
		case k == 0:
			b = pool.get(min(first, maxBlock))
		default:
			b = pool.get(min(2*cap(l.blocks[k-1]), maxBlock))
		}
		l.blocks = append(l.blocks, b)
		k++
	}
	l.blocks[k-1] = append(l.blocks[k-1], x)
	l.n++
}

// all calls fn with each record in order; fn may change it.
func (l *blockLog[T]) all(fn func(*T)) {
	for _, b := range l.blocks {
		for i := range b {
			fn(&b[i])
		}
	}
}

// any reports whether fn holds for a record.
func (l *blockLog[T]) any(fn func(*T) bool) bool {
	for _, b := range l.blocks {
		for i := range b {
			if fn(&b[i]) {
				return true
			}
		}
	}
	return false
}

// appendTo appends the records, in order, to dst.
func (l *blockLog[T]) appendTo(dst []T) []T {
	for _, b := range l.blocks {
		dst = append(dst, b...)
	}
	return dst
}

// takeUpTo moves the ranges of l that end at or below lim to dst, in
// order, and keeps the others in order; it returns dst. It is written for
// rec, not as a blockLog method taking a predicate: a call through a
// func value for each of a busy flow's packets was a tenth of comparing
// four points' copies.
func takeUpTo(l *blockLog[rec], lim int64, dst []rec, pool *blockPool[rec]) []rec {
	// In runs: the ranges due are mostly the oldest, those kept the
	// newest, each run copied at once.
	wb, wi := 0, 0 // where the next record kept goes
	for _, b := range l.blocks {
		for i := 0; i < len(b); {
			j := i + 1
			if b[i].hi() <= lim {
				for j < len(b) && b[j].hi() <= lim {
					j++
				}
				dst = append(dst, b[i:j]...)
				i = j
				continue
			}
			for j < len(b) && b[j].hi() > lim {
				j++
			}
			for i < j {
				if wi == len(l.blocks[wb]) {
					wb, wi = wb+1, 0
				}
				n := copy(l.blocks[wb][wi:], b[i:j])
				wi += n
				i += n
			}
		}
	}
	l.truncate(wb, wi, pool)
	return dst
}

// truncate keeps the records before block wb's record wi.
func (l *blockLog[T]) truncate(wb, wi int, pool *blockPool[T]) {
	if len(l.blocks) == 0 {
		return
	}
	n := 0
	for k := range l.blocks {
		switch {
		case k < wb:
			n += len(l.blocks[k])
		case k == wb:
			var zero T
			b := l.blocks[k]
			for i := wi; i < len(b); i++ {
				b[i] = zero
			}
			l.blocks[k] = b[:wi]
			n += wi
		default:
			pool.put(l.blocks[k])
			l.blocks[k] = nil
		}
	}
	l.blocks = l.blocks[:wb+1]
	if n == 0 {
		pool.put(l.blocks[0])
		l.blocks[0] = nil
		l.blocks = l.blocks[:0]
	}
	l.n = n
}

// reset drops every record.
func (l *blockLog[T]) reset(pool *blockPool[T]) { l.truncate(0, 0, pool) }
