package flowhash

import (
	"fmt"
	"net/netip"
	"testing"
)

// TestTuples: Either is the same either way round and Directed is not;
// tuples that differ in any part (an address byte, a port, IPv4 against
// the same address mapped into IPv6) share no hash, over the shapes a
// scan or a storm has: one server, clients counting up in address and
// port.
func TestTuples(t *testing.T) {
	either, directed := map[uint64]string{}, map[uint64]string{}
	add := func(a, b netip.AddrPort) {
		t.Helper()
		h := Either(a, b)
		if r := Either(b, a); r != h {
			t.Fatalf("Either(%v, %v) = %#x, the other way round %#x", a, b, h, r)
		}
		name := fmt.Sprint(a, " ", b)
		if a.Compare(b) > 0 {
			name = fmt.Sprint(b, " ", a)
		}
		if old, ok := either[h]; ok && old != name {
			t.Fatalf("Either: %s and %s share hash %#x", old, name, h)
		}
		either[h] = name
		for _, d := range [][2]netip.AddrPort{{a, b}, {b, a}} {
			name := fmt.Sprint(d[0], " -> ", d[1])
			h := Directed(d[0], d[1])
			if old, ok := directed[h]; ok && old != name {
				t.Fatalf("Directed: %s and %s share hash %#x", old, name, h)
			}
			directed[h] = name
		}
	}
	v4 := netip.MustParseAddrPort("198.18.0.1:443")
	mapped := netip.AddrPortFrom(netip.AddrFrom16(v4.Addr().As16()), 443)
	v6 := netip.MustParseAddrPort("[2001:db8::1]:443")
	const n = 1 << 15
	for i := range n {
		ip4 := netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)})
		ip6 := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(i >> 8), 15: byte(i)})
		for _, port := range []uint16{uint16(i), 40000} {
			add(netip.AddrPortFrom(ip4, port), v4)
			add(netip.AddrPortFrom(ip4, port), mapped)
			add(netip.AddrPortFrom(ip6, port), v6)
		}
	}
	// 3 tuples per address and port (i < 40000: never the same port
	// twice).
	if want := 6 * n; len(either) != want || len(directed) != 2*want {
		t.Errorf("%d tuples, %d directed, want %d and %d", len(either), len(directed), want, 2*want)
	}
}

// TestMixChain: a chain of Mix over words tells apart inputs that differ
// in one word, wherever it is.
func TestMixChain(t *testing.T) {
	chain := func(w []uint64) uint64 {
		h := uint64(0)
		for _, x := range w {
			h = Mix(h ^ x)
		}
		return h
	}
	seen := map[uint64][]uint64{}
	for pos := range 4 {
		for v := range uint64(1 << 12) {
			w := make([]uint64, 4)
			w[pos] = v << (pos * 13)
			h := chain(w)
			if old, ok := seen[h]; ok && fmt.Sprint(old) != fmt.Sprint(w) {
				t.Fatalf("%v and %v share hash %#x", old, w, h)
			}
			seen[h] = w
		}
	}
}
