package flowhash

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// Mix is MurmurHash3's 64-bit finalizer: every input bit changes about
// half the output bits, and distinct inputs give distinct outputs, so a
// chain h = Mix(h ^ word) over fixed-size words keeps what each word
// tells apart.
func Mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// Endpoint hashes an address and port. An IPv4 address and the same one
// mapped into IPv6 hash apart; a zone is not hashed (packets carry none).
func Endpoint(p netip.AddrPort) uint64 {
	a := p.Addr()
	if a.Is4() {
		// Most endpoints: address, port and a family bit fit one word.
		v := a.As4()
		return Mix(uint64(binary.BigEndian.Uint32(v[:])) | uint64(p.Port())<<32 | 1<<48)
	}
	b := a.As16()
	x := Mix(uint64(p.Port()) ^ binary.LittleEndian.Uint64(b[8:]))
	return Mix(x ^ binary.LittleEndian.Uint64(b[:8]))
}

// Either hashes a 4-tuple without direction: Either(a, b) == Either(b, a).
func Either(a, b netip.AddrPort) uint64 {
	ha, hb := Endpoint(a), Endpoint(b)
	if ha > hb {
		ha, hb = hb, ha
	}
	return Mix(ha ^ bits.RotateLeft64(hb, 31))
}

// Directed hashes a 4-tuple with its direction, from src to dst.
func Directed(src, dst netip.AddrPort) uint64 {
	return Mix(Endpoint(src) ^ bits.RotateLeft64(Endpoint(dst), 31))
}
