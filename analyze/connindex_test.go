package analyze

import (
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
	y.set(&tb, b, gone)
	if y.other[keyOf(b.ep[0], b.ep[1])] != b || y.get(&tb, gone) != b || len(y.byHash)+len(y.other) != 2 {
		t.Errorf("a shared hash: other %v, get %p, %d indexed", y.other, y.get(&tb, gone), len(y.byHash)+len(y.other))
	}
}
