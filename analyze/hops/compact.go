package hops

import (
	"encoding/binary"
	"net/netip"
)

// What the Placer keeps of a clean flow once retired.
//
// Most connections are clean (every point saw every packet): Finish
// makes of one only its points' streams and first senders, its path each
// way (known at retire unless ordering it needs the clock offsets, which
// only Finish knows) and its packets per point and direction (the hop
// table's). Those are packed in a few dozen bytes, a retiredFlow and a
// record in blocks of cleanChunk, instead of the flow's members and
// results (~880 bytes for two points): memory follows the open
// connections, plus tens of bytes per connection seen.

// retiredFlow is one retired flow, in order of retirement (the order of
// Result's flows, of which the hop table's rows and a sibling's choice
// follow). chunk < 0: the flow is kept whole, Placer.done[off]; else its
// clean record is at cleanFlows.chunks[chunk][off:].
type retiredFlow struct {
	start int64 // its first packet's time (ns), to find siblings without decoding
	chunk int32
	off   int32
}

// cleanChunk is the size of the blocks clean records are packed in: large
// enough to cost nothing per block, small enough that growing never
// copies much.
const cleanChunk = 64 << 10

// cleanFlows packs the retired clean flows.
type cleanFlows struct {
	np     int
	chunks [][]byte
	// servers interns each direction-1 endpoint (the server's, when a SYN
	// showed it): few, shared by many connections.
	servers []netip.AddrPort
	server  map[netip.AddrPort]uint32
	buf     []byte
}

// cleanFlow is a clean flow's record unpacked.
type cleanFlow struct {
	syn     bool
	streams []int
	ep0     []netip.AddrPort
	ep1     []netip.AddrPort
	// ttl is per point direction 0's TTL there (0 unseen): absentPath
	// tells by it a point at the flow's own client from one it crossed.
	ttl []uint8
	// packets is per direction (nil: none compared) per point its
	// packets carrying sequence space.
	packets [2][]int
	path    [2][]int
	spare   [2][]int // getInto's arrays for packets, kept while a direction has none
}

// Flags of a clean record's first byte.
const (
	cleanSyn byte = 1 << iota
	cleanDir0
	cleanDir1
)

// add packs clean flow f, whose path each way is path, and returns where.
func (c *cleanFlows) add(f *flow, path [2][]int) (chunk, off int32) {
	if c.server == nil {
		c.server = map[netip.AddrPort]uint32{}
	}
	b := c.buf[:0]
	var flags byte
	if f.syn {
		flags |= cleanSyn
	}
	for d := range f.res {
		if f.res[d].packets != nil {
			flags |= cleanDir0 << d
		}
	}
	b = append(b, flags)
	// The record says how many points it has: a live capture adds points
	// (AddPoint) after records were packed, and those points did not see
	// the flow. A point that did not see it (SeenOnly) is a 0.
	b = binary.AppendUvarint(b, uint64(len(f.at)))
	for pt, m := range f.at {
		if m == nil {
			b = append(b, 0)
			continue
		}
		b = binary.AppendUvarint(b, uint64(m.stream)+1)
		b = appendAddrPort(b, m.ep0)
		b = append(b, byte(min(m.ttl[0], 255)))
		k, ok := c.server[m.ep1]
		if !ok {
			k = uint32(len(c.servers))
			c.servers = append(c.servers, m.ep1)
			c.server[m.ep1] = k
		}
		b = binary.AppendUvarint(b, uint64(k))
		for d := range f.res {
			if p := f.res[d].packets; p != nil {
				b = binary.AppendUvarint(b, uint64(p[pt]))
			}
		}
	}
	for d := range path {
		b = append(b, byte(len(path[d])))
		for _, pt := range path[d] {
			b = append(b, byte(pt))
		}
	}
	c.buf = b
	n := len(c.chunks)
	if n == 0 || len(c.chunks[n-1])+len(b) > cap(c.chunks[n-1]) {
		c.chunks = append(c.chunks, make([]byte, 0, max(cleanChunk, len(b))))
		n++
	}
	last := &c.chunks[n-1]
	off = int32(len(*last))
	*last = append(*last, b...)
	return int32(n - 1), off
}

// streams calls fn with each point's stream in the record at chunk, off
// (-1: not seen there), in order of the points, until fn returns false,
// without unpacking the rest: most of a Result's readers look for the
// few flows of the rows a report lists. Points added after the record
// was packed are not called.
func (c *cleanFlows) streams(chunk, off int32, fn func(pt, stream int) bool) {
	b := c.chunks[chunk][off:]
	flags := b[0]
	b = b[1:]
	np, n := binary.Uvarint(b)
	b = b[n:]
	for p := range int(np) {
		v, n := binary.Uvarint(b)
		b = b[n:]
		if !fn(p, int(v)-1) { // 0: not seen there
			return
		}
		if v == 0 {
			continue
		}
		b = b[3+int(b[0])+1:] // ep0 (appendAddrPort), and the TTL
		_, n = binary.Uvarint(b)
		b = b[n:] // ep1's server
		for d := range 2 {
			if flags&(cleanDir0<<d) != 0 {
				_, n = binary.Uvarint(b)
				b = b[n:]
			}
		}
	}
}

// streamAt is point pt's stream in the record at chunk, off (-1: not
// seen there).
func (c *cleanFlows) streamAt(chunk, off int32, pt int) int {
	st := -1
	c.streams(chunk, off, func(p, stream int) bool {
		if p == pt {
			st = stream
		}
		return p < pt
	})
	return st
}

// get unpacks the record at chunk, off.
func (c *cleanFlows) get(chunk, off int32) *cleanFlow {
	cf := &cleanFlow{}
	c.getInto(cf, chunk, off)
	return cf
}

// getInto is get, unpacked into cf: its slices are reused where large
// enough (Result.Apply reads every clean flow in turn, one at a time).
func (c *cleanFlows) getInto(cf *cleanFlow, chunk, off int32) {
	b := c.chunks[chunk][off:]
	np := c.np
	cf.streams, cf.ep0, cf.ep1, cf.ttl = zeroed(cf.streams, np), zeroed(cf.ep0, np), zeroed(cf.ep1, np), zeroed(cf.ttl, np)
	flags := b[0]
	b = b[1:]
	cf.syn = flags&cleanSyn != 0
	for d := range cf.packets {
		cf.packets[d] = nil
		if flags&(cleanDir0<<d) != 0 {
			cf.spare[d] = zeroed(cf.spare[d], np)
			cf.packets[d] = cf.spare[d]
		}
	}
	for pt := range np {
		cf.streams[pt] = -1
	}
	v, n := binary.Uvarint(b)
	b = b[n:]
	for pt := range int(v) {
		v, n := binary.Uvarint(b)
		b = b[n:]
		if v == 0 {
			continue // not seen there
		}
		cf.streams[pt] = int(v) - 1
		cf.ep0[pt], b = readAddrPort(b)
		cf.ttl[pt], b = b[0], b[1:]
		v, n = binary.Uvarint(b)
		cf.ep1[pt], b = c.servers[v], b[n:]
		for d := range cf.packets {
			if cf.packets[d] != nil {
				v, n = binary.Uvarint(b)
				cf.packets[d][pt], b = int(v), b[n:]
			}
		}
	}
	for d := range cf.path {
		n := int(b[0])
		cf.path[d] = zeroed(cf.path[d], n)
		for k := range n {
			cf.path[d][k] = int(b[1+k])
		}
		b = b[1+n:]
	}
}

// zeroed is s with length n, its elements zero: s's array if large
// enough.
func zeroed[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// appendAddrPort packs a as its address's binary form (4 or 16 bytes,
// and its zone), prefixed by its length, and its port.
func appendAddrPort(b []byte, a netip.AddrPort) []byte {
	at := len(b)
	b = append(b, 0)
	b, _ = a.Addr().AppendBinary(b) // never fails
	b[at] = byte(len(b) - at - 1)
	return binary.BigEndian.AppendUint16(b, a.Port())
}

func readAddrPort(b []byte) (netip.AddrPort, []byte) {
	n := int(b[0])
	var a netip.Addr
	_ = a.UnmarshalBinary(b[1 : 1+n]) // what appendAddrPort wrote
	port := binary.BigEndian.Uint16(b[1+n:])
	return netip.AddrPortFrom(a, port), b[3+n:]
}

// result is the clean flow's FlowResult: its path each way, and a hop
// with every packet through between each adjacent pair of points.
func (cf *cleanFlow) result() *FlowResult {
	fr := &FlowResult{Sender0: make([]string, len(cf.ep0))}
	for pt, a := range cf.ep0 {
		if cf.streams[pt] >= 0 {
			fr.Sender0[pt] = a.String()
		}
	}
	cf.resultInto(fr, nil)
	return fr
}

// resultInto is result made in fr, but for Sender0 (sender0 only), its
// hops in hops' array if large enough: returned, for the next.
func (cf *cleanFlow) resultInto(fr *FlowResult, hops []HopResult) []HopResult {
	fr.Streams, fr.Path, fr.sender0, fr.Hops = cf.streams, cf.path, cf.ep0, [2][]HopResult{}
	n := 0
	for d := range cf.path {
		if cf.packets[d] != nil {
			n += max(len(cf.path[d])-1, 0)
		}
	}
	if cap(hops) < n {
		hops = make([]HopResult, 0, n) // both directions' in one allocation
	}
	hops = hops[:0]
	for d := range cf.path {
		if cf.packets[d] == nil {
			continue
		}
		pts, at := cf.path[d], len(hops)
		for k := 0; k+1 < len(pts); k++ {
			a, b := pts[k], pts[k+1]
			hops = append(hops, HopResult{From: a, To: b, Packets: cf.packets[d][a]})
		}
		if len(hops) > at {
			fr.Hops[d] = hops[at:len(hops):len(hops)]
		}
	}
	return hops
}
