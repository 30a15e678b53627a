package analyze

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestConnIndexShared: tuples whose hashes are the same (forced here by
// indexing them under one hash) each find their own connection, live or
// forgotten.
func TestConnIndexShared(t *testing.T) {
	gone := &conn{forgotten: true}
	ep := func(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
	a := &conn{ep: [2]netip.AddrPort{ep("198.18.0.1:40000"), ep("198.18.0.2:80")}}
	b := &conn{ep: [2]netip.AddrPort{ep("198.18.0.3:40000"), ep("198.18.0.2:80")}}
	ta, tb := tupleOf(a.ep[0], a.ep[1]), tupleOf(b.ep[0], b.ep[1])
	x := newConnIndex()
	if x.get(&ta, gone) != nil {
		t.Fatal("empty index found a connection")
	}
	x.set(&ta, a, gone)
	// b's tuple under a's hash: what set does when the hash is taken.
	x.other = map[connKey]*conn{keyOf(b.ep[0], b.ep[1]): b}
	tb.h = ta.h
	tests := []struct {
		name   string
		change func()
		t      tuple
		want   *conn
	}{
		{"a by its hash", func() {}, ta, a},
		{"b past a's", func() {}, tb, b},
		{"a forgotten", func() { x.set(&ta, gone, gone) }, ta, gone},
		{"b behind a's tombstone", func() {}, tb, b},
		{"b forgotten", func() { x.set(&tb, gone, gone) }, tb, gone},
		{"a again", func() { x.set(&ta, a, gone) }, ta, a},
		{"the swapped tuple", func() {}, tupleOf(a.ep[1], a.ep[0]), a},
	}
	for _, tt := range tests {
		tt.change()
		if got := x.get(&tt.t, gone); got != tt.want {
			t.Errorf("%s: got %p, want %p", tt.name, got, tt.want)
		}
	}
	// set on a hash another tuple's live connection holds files the
	// tuple apart.
	y := newConnIndex()
	tb = tupleOf(b.ep[0], b.ep[1])
	y.byHash[tb.h] = a // a's connection under b's hash, as a collision would
	w, bit := seenBit(tb.h)
	y.seen[w] |= bit // as set marks the hashes it files
	y.set(&tb, b, gone)
	if y.other[keyOf(b.ep[0], b.ep[1])] != b || y.get(&tb, gone) != b || len(y.byHash)+len(y.other) != 2 {
		t.Errorf("a shared hash: other %v, get %p, %d indexed", y.other, y.get(&tb, gone), len(y.byHash)+len(y.other))
	}
}

// TestConnIndexSeen: with the bits of hashes ever filed (connIndex.seen)
// in front of the map, the index still finds what a map of tuples finds,
// over 100,000 random tuples set, forgotten and looked up (many more
// than the bits, so that bits are shared).
func TestConnIndexSeen(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	gone := &conn{forgotten: true}
	x := newConnIndex()
	ref := map[connKey]*conn{}
	ep := func() netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, byte(r.IntN(4)), byte(r.IntN(256))}), uint16(r.IntN(4096)))
	}
	var known []tuple
	for i := range 300000 {
		var tp tuple
		if len(known) > 0 && r.IntN(2) == 0 {
			tp = known[r.IntN(len(known))]
		} else {
			tp = tupleOf(ep(), ep())
		}
		k := keyOf(tp.a, tp.b)
		switch r.IntN(3) {
		case 0:
			c := &conn{ep: [2]netip.AddrPort{tp.a, tp.b}}
			x.set(&tp, c, gone)
			ref[k] = c
			known = append(known, tp)
		case 1:
			if ref[k] != nil {
				x.set(&tp, gone, gone)
				ref[k] = gone
			}
		default:
			if got, want := x.get(&tp, gone), ref[k]; got != want {
				t.Fatalf("lookup %d of %v: got %p, want %p", i, k, got, want)
			}
		}
	}
}
