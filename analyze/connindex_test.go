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
	ka, kb := keyOf(a.ep[0], a.ep[1]), keyOf(b.ep[0], b.ep[1])
	x := newConnIndex()
	if x.get(ka, gone) != nil {
		t.Fatal("empty index found a connection")
	}
	x.set(ka, a, gone)
	// b's tuple under a's hash: what set does when the hash is taken.
	x.other = map[connKey]*conn{kb: b}
	tests := []struct {
		name   string
		change func()
		k      connKey
		want   *conn
	}{
		{"a by its hash", func() {}, ka, a},
		{"b past a's", func() {}, kb, b},
		{"a forgotten", func() { x.set(ka, gone, gone) }, ka, gone},
		{"b behind a's tombstone", func() {}, kb, b},
		{"b forgotten", func() { x.other[kb] = gone }, kb, gone},
		{"a again", func() { x.set(ka, a, gone) }, ka, a},
		{"the swapped tuple", func() {}, keyOf(a.ep[1], a.ep[0]), a},
	}
	for _, tt := range tests {
		tt.change()
		if got := x.get(tt.k, gone); got != tt.want {
			t.Errorf("%s: got %p, want %p", tt.name, got, tt.want)
		}
	}
	// set on a hash another tuple's live connection holds files the
	// tuple apart.
	y := newConnIndex()
	y.byHash[kb.hash()] = a // a's connection under b's hash, as a collision would
	y.set(kb, b, gone)
	if y.other[kb] != b || y.get(kb, gone) != b || len(y.byHash)+len(y.other) != 2 {
		t.Errorf("a shared hash: other %v, get %p, %d indexed", y.other, y.get(kb, gone), len(y.byHash)+len(y.other))
	}
}
