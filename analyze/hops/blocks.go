package hops

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

// blockPool keeps full-size blocks freed by one direction for the next.
type blockPool[T any] struct{ free [][]T }

// maxPooled bounds the free blocks kept: enough for the packets of a
// few seconds of a fast connection at every point (256 blocks of 32 KB),
// no more, so that a burst's blocks go back to the collector.
const maxPooled = 256

func (p *blockPool[T]) get() []T {
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		return b
	}
	return make([]T, 0, maxBlock)
}

func (p *blockPool[T]) put(b []T) {
	if cap(b) == maxBlock && len(p.free) < maxPooled {
		p.free = append(p.free, b[:0])
	}
}

func (l *blockLog[T]) len() int { return l.n }

// push adds x, first being the first block's size.
func (l *blockLog[T]) push(x T, pool *blockPool[T], first int) {
	k := len(l.blocks)
	if k == 0 || len(l.blocks[k-1]) == cap(l.blocks[k-1]) {
		var b []T
		switch {
		case k == 0:
			b = make([]T, 0, min(first, maxBlock))
		case cap(l.blocks[k-1]) >= maxBlock/2:
			b = pool.get()
		default:
			b = make([]T, 0, 2*cap(l.blocks[k-1]))
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
