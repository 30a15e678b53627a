package analyze

import (
	"fmt"
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

// TestTupleHash: a tuple hashes the same either way round, and tuples
// that differ in any part (an address byte, a port, IPv4 against the
// same address mapped into IPv6) do not share a hash, over the shapes a
// scan or a storm has: one server, clients counting up in address and
// port.
func TestTupleHash(t *testing.T) {
	seen := map[uint64]string{}
	add := func(a, b netip.AddrPort) {
		t.Helper()
		h := tupleOf(a, b).h
		if r := tupleOf(b, a).h; r != h {
			t.Fatalf("%v %v: %#x one way, %#x the other", a, b, h, r)
		}
		name := fmt.Sprint(a, " ", b)
		if a.Compare(b) > 0 {
			name = fmt.Sprint(b, " ", a)
		}
		if old, ok := seen[h]; ok && old != name {
			t.Fatalf("%s and %s share hash %#x", old, name, h)
		}
		seen[h] = name
	}
	v4 := netip.MustParseAddrPort("198.18.0.1:443")
	mapped := netip.AddrPortFrom(netip.AddrFrom16(v4.Addr().As16()), 443)
	for i := range 1 << 16 {
		ip4 := netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)})
		ip6 := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i), 14: byte(i >> 8)})
		for _, port := range []uint16{uint16(i), 40000} {
			add(netip.AddrPortFrom(ip4, port), v4)
			add(netip.AddrPortFrom(ip4, port), mapped)
			add(netip.AddrPortFrom(ip6, port), netip.MustParseAddrPort("[2001:db8::1]:443"))
		}
	}
	if len(seen) < 5*(1<<16) {
		t.Errorf("%d distinct tuples, want at least %d", len(seen), 5*(1<<16))
	}
}
