package analyze

import (
	"net/netip"

	"github.com/h2pcap/h2pcap/internal/flowhash"
)

// connIndex finds a 4-tuple's current connection (or the tombstone of a
// forgotten one). It is keyed by a 64-bit hash of the tuple, not the
// tuple: a SYN scan opens a million connections, and a map of 48-byte
// entries spent more time growing (copying its tables into memory never
// touched before) than the connections cost to analyse. A connection
// found is checked against the tuple by its endpoints; a tuple whose hash
// a connection of another tuple holds (odds about 1e-13 per connection in
// a million) is kept in other, keyed by itself. A tombstone has no
// endpoints to check: a tuple sharing a forgotten connection's hash would
// read as that one's (its packets counted late) with those odds.
type connIndex struct {
	byHash map[uint64]*conn
	other  map[connKey]*conn // nil until a hash is shared
	// recent holds the connections set last, by the low bits of their
	// hash: the open ones, which nearly every segment is of. The map
	// also holds every forgotten tuple's tombstone (200,000 for as many
	// short connections, megabytes), and a lookup there missed the
	// cache for most segments of interleaved connections. A tombstone is
	// never here: set clears its tuple's entry.
	recent [recentSlots]recentConn
	// seen has the bit of every hash ever a key of byHash (by its bits
	// above recent's): a new connection's tuple, looked up once before
	// it is set, is nearly always not a key, and that probe of a map of
	// every tuple ever seen missed the cache. Bits are never cleared, as
	// tombstones stay.
	seen []uint64
}

// seenBits is the size of connIndex.seen, 2^20 bits (128 KB): after
// 200,000 tuples a new one's bit is clear five times in six; after a
// million, still one time in three.
const seenBits = 1 << 20

// seenBit is h's bit in connIndex.seen.
func seenBit(h uint64) (word int, bit uint64) {
	i := (h >> 9) & (seenBits - 1)
	return int(i >> 6), 1 << (i & 63)
}

// recentSlots is the size of connIndex.recent: a few times the
// connections open at once on a busy node's capture, 8 KB.
const recentSlots = 512

type recentConn struct {
	h uint64
	c *conn
}

func newConnIndex() connIndex {
	return connIndex{byHash: map[uint64]*conn{}, seen: make([]uint64, seenBits/64)}
}

// tuple is a segment's 4-tuple as the index looks it up: its endpoints as
// the segment has them, and their hash, the same either way round. Every
// segment is looked up (but for a run of one connection's: Analyzer.lastConn),
// so it is made from the addresses as they are, without the sorted
// 40-byte connKey that keyOf builds.
type tuple struct {
	a, b netip.AddrPort
	h    uint64
}

func tupleOf(a, b netip.AddrPort) tuple { return tuple{a: a, b: b, h: flowhash.Either(a, b)} }

// holds reports whether c (not a tombstone) is of t's tuple, either way
// round. Packets carry no zone, so comparing endpoints is comparing
// address, family and port, as connKey does.
func (c *conn) holds(t *tuple) bool { return c.holdsEnds(t.a, t.b) }

// holdsEnds is holds for the endpoints of a segment, src to dst.
func (c *conn) holdsEnds(src, dst netip.AddrPort) bool {
	return c.ep[sideA] == src && c.ep[sideB] == dst || c.ep[sideA] == dst && c.ep[sideB] == src
}

// get returns t's connection, the tombstone gone, or nil.
func (x *connIndex) get(t *tuple, gone *conn) *conn {
	if r := &x.recent[t.h&(recentSlots-1)]; r.c != nil && r.h == t.h && r.c.holds(t) {
		return r.c
	}
	if w, b := seenBit(t.h); x.seen[w]&b == 0 {
		return nil // never a key: neither in byHash nor, sharing one, in other
	}
	c := x.byHash[t.h]
	if c != nil && c != gone && c.holds(t) {
		return c
	}
	if x.other != nil {
		if o, ok := x.other[keyOf(t.a, t.b)]; ok {
			return o
		}
	}
	if c == gone {
		return gone
	}
	return nil
}

// set makes c (or gone) t's connection.
func (x *connIndex) set(t *tuple, c, gone *conn) {
	r := &x.recent[t.h&(recentSlots-1)]
	switch {
	case c != gone:
		*r = recentConn{h: t.h, c: c}
	case r.c != nil && r.h == t.h && r.c.holds(t):
		*r = recentConn{}
	}
	w, b := seenBit(t.h)
	var old *conn
	if x.seen[w]&b != 0 {
		old = x.byHash[t.h]
	}
	if old == nil || old == gone || old.holds(t) {
		x.byHash[t.h] = c
		x.seen[w] |= b
		if x.other != nil {
			delete(x.other, keyOf(t.a, t.b))
		}
		return
	}
	// Another tuple's connection holds the hash.
	if x.other == nil {
		x.other = map[connKey]*conn{}
	}
	x.other[keyOf(t.a, t.b)] = c
}
