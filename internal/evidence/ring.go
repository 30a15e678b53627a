package evidence

import (
	"encoding/binary"
	"time"
)

// Ring holds copies of the latest packets in one buffer of a fixed size.
// Each packet is stored as a header (time, lengths, interface) followed by
// its bytes, so the whole ring, bookkeeping included, is that buffer:
// memory is bounded by the size whatever the packets' sizes. A packet
// never wraps around the end of the buffer: when it does not fit before
// the end, the rest is skipped and it goes to the start, evicting the
// oldest packets it overlaps.
//
// Positions are virtual (they only grow; the buffer offset is pos modulo
// the size), which makes "still in the ring" one comparison. A Ring is not
// safe for concurrent use.
type Ring struct {
	buf        []byte
	head, tail uint64 // virtual positions: next write, oldest packet
	packets    int
	dropped    uint64 // packets too big for the ring
}

const (
	hdrLen = 24
	// skipMark in a header's length says the rest of the buffer up to its
	// end is unused: the next packet is at the start.
	skipMark = ^uint32(0)
	// MinSize is the smallest ring: a few full-size packets.
	MinSize = 1 << 18
)

// Packet is one packet in the ring. Data is the ring's memory: valid until
// the next Add.
type Packet struct {
	Time      time.Time
	Interface int
	WireLen   int
	Data      []byte
}

// NewRing returns a ring of size bytes (at least MinSize).
func NewRing(size int) *Ring {
	size = max(size, MinSize)
	size &^= 7
	return &Ring{buf: make([]byte, size)}
}

// Size is the ring's size in bytes.
func (r *Ring) Size() int { return len(r.buf) }

// Len is the number of packets held.
func (r *Ring) Len() int { return r.packets }

// Dropped is the number of packets too big to be held at all.
func (r *Ring) Dropped() uint64 { return r.dropped }

// Add copies a packet into the ring, evicting the oldest ones to make room.
func (r *Ring) Add(t time.Time, iface, wire int, data []byte) {
	size := uint64(len(r.buf))
	need := (uint64(hdrLen+len(data)) + 7) &^ 7
	if need > size/2 {
		// Would evict most of the window for one packet: not kept.
		r.dropped++
		return
	}
	start := r.head
	if off := start % size; off+need > size {
		// Not enough room before the end: mark the rest as skipped (a
		// header always fits, as both are multiples of 8 and the
		// buffer's end leaves at least 8 bytes) and start over.
		if size-off >= hdrLen {
			binary.LittleEndian.PutUint32(r.buf[off+8:], skipMark)
		}
		start += size - off
	}
	end := start + need
	for r.packets > 0 && r.tail < end-min(end, size) {
		r.evict()
	}
	if r.packets == 0 {
		r.tail = start
	}
	// r.tail is always a packet's header (never a skip mark), so the
	// test above compares real packet starts.
	off := start % size
	h := r.buf[off : off+hdrLen]
	binary.LittleEndian.PutUint64(h[0:], uint64(t.UnixNano()))
	binary.LittleEndian.PutUint32(h[8:], uint32(len(data)))
	binary.LittleEndian.PutUint32(h[12:], uint32(wire))
	binary.LittleEndian.PutUint32(h[16:], uint32(iface))
	copy(r.buf[off+hdrLen:], data)
	r.head = end
	r.packets++
}

// evict drops the oldest packet.
func (r *Ring) evict() {
	r.tail = r.next(r.tail)
	r.packets--
	if r.packets == 0 {
		r.tail = r.head
	} else {
		r.tail = r.at(r.tail)
	}
}

// at returns where the packet at or after pos starts (past a skip mark).
func (r *Ring) at(pos uint64) uint64 {
	size := uint64(len(r.buf))
	off := pos % size
	if size-off < hdrLen || binary.LittleEndian.Uint32(r.buf[off+8:]) == skipMark {
		return pos + size - off
	}
	return pos
}

// next returns the position after the packet at or after pos.
func (r *Ring) next(pos uint64) uint64 {
	pos = r.at(pos)
	n := binary.LittleEndian.Uint32(r.buf[pos%uint64(len(r.buf))+8:])
	return pos + (uint64(hdrLen)+uint64(n)+7)&^7
}

// Each calls fn on every packet held, oldest first, until fn returns
// false.
func (r *Ring) Each(fn func(p *Packet) bool) {
	size := uint64(len(r.buf))
	pos := r.tail
	var p Packet
	for i := 0; i < r.packets; i++ {
		pos = r.at(pos)
		off := pos % size
		h := r.buf[off : off+hdrLen]
		n := binary.LittleEndian.Uint32(h[8:])
		p.Time = time.Unix(0, int64(binary.LittleEndian.Uint64(h[0:])))
		p.WireLen = int(binary.LittleEndian.Uint32(h[12:]))
		p.Interface = int(binary.LittleEndian.Uint32(h[16:]))
		p.Data = r.buf[off+hdrLen : off+hdrLen+uint64(n)]
		if !fn(&p) {
			return
		}
		pos += (uint64(hdrLen) + uint64(n) + 7) &^ 7
	}
}
