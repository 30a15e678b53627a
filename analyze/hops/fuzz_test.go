package hops

import (
	"encoding/binary"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/decode"
)

// FuzzPlacer feeds three points any packets of two connections: the
// Placer must not panic, every hop must have lost no more packets than
// its upstream point saw, and comparing chunk by chunk alike
// (compareAligned, with the early comparisons TCP timestamps allow after
// every few packets) must give what comparing interval by interval gives.
func FuzzPlacer(f *testing.F) {
	// A handshake, data both ways with timestamps, one lost copy.
	seed := []byte{
		0, 0x02, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, // SYN at point 0
		1, 0x02, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0,
		1, 0x13, 0, 0, 0, 0, 1, 1, 0, 2, 0, 1, // SYN-ACK, timestamps
		0, 0x13, 0, 0, 0, 0, 1, 1, 0, 2, 0, 1,
		0, 0x30, 0, 1, 40, 0, 1, 1, 0, 3, 0, 2, // data
		1, 0x30, 0, 1, 40, 0, 1, 1, 0, 3, 0, 2,
		2, 0x30, 0, 1, 40, 0, 1, 1, 0, 3, 0, 2,
		0, 0x30, 0, 41, 40, 0, 1, 1, 0, 4, 0, 2, // lost after point 0
		0, 0x30, 0, 81, 40, 0, 1, 1, 0, 5, 0, 2,
		1, 0x30, 0, 81, 40, 0, 1, 1, 0, 5, 0, 2,
		2, 0x31, 0, 1, 0, 0, 41, 2, 0, 6, 0, 5, // ACK back
		1, 0x31, 0, 1, 0, 0, 41, 2, 0, 6, 0, 5,
		0, 0x31, 0, 1, 0, 0, 41, 2, 0, 6, 0, 5,
	}
	f.Add(seed)
	f.Add(append(seed[:len(seed):len(seed)], seed...))
	f.Fuzz(func(t *testing.T, b []byte) {
		slow := fuzzPlace(b, true)
		fast := fuzzPlace(b, false)
		for _, fr := range fast.All() {
			for d := range fr.Hops {
				for _, h := range fr.Hops[d] {
					if h.Lost > h.Packets || h.Lost < 0 {
						t.Fatalf("hop %d->%d: %d lost of %d", h.From, h.To, h.Lost, h.Packets)
					}
				}
			}
		}
		var a, c []*FlowResult
		for _, fr := range slow.All() {
			a = append(a, fr)
		}
		for _, fr := range fast.All() {
			c = append(c, fr)
		}
		if !reflect.DeepEqual(a, c) || !reflect.DeepEqual(slow.OffsetMs, fast.OffsetMs) {
			t.Fatalf("compared chunk by chunk %+v, interval by interval %+v", c, a)
		}
	})
}

// fuzzPlace gives the packets b describes, 12 bytes each, to a Placer
// of three points: point, flags (bit 0 ACK, 1 SYN, 2 FIN, 3 RST, 4
// the other direction, 5 timestamps, 6 the second connection), the
// sequence number's offset (2 bytes, tens of bytes), the payload (tens
// of bytes), the acknowledgment's offset (2 bytes), the time since the
// last packet (100 us), TSval and TSecr (2 bytes each).
func fuzzPlace(b []byte, noAligned bool) *Result { return fuzzPlaceShifted(b, noAligned, 0) }

// fuzzPlaceShifted is fuzzPlace with point b's clock shift ahead, which
// the Placer is told of (ShiftClock).
func fuzzPlaceShifted(b []byte, noAligned bool, shift time.Duration) *Result {
	const np = 3
	p := New([]string{"a", "b", "c"})
	p.ShiftClock(1, shift)
	p.noAligned = noAligned
	p.batch = 4
	clients := []netip.AddrPort{cli, netip.AddrPortFrom(cli.Addr(), cli.Port()+1)}
	at := t0
	var ids [np][2]uint16
	frames := make([]int, np)
	for ; len(b) >= 12; b = b[12:] {
		pt := int(b[0]) % np
		fl := b[1]
		c := int(fl>>6) & 1
		dir := int(fl>>4) & 1
		var flags decode.TCPFlags
		if fl&1 != 0 {
			flags |= decode.FlagACK
		}
		if fl&2 != 0 {
			flags |= decode.FlagSYN
		}
		if fl&4 != 0 {
			flags |= decode.FlagFIN
		}
		if fl&8 != 0 {
			flags |= decode.FlagRST
		}
		isn := [2]uint32{1000, 900000}
		seq := isn[dir] + uint32(binary.BigEndian.Uint16(b[2:]))*10
		ack := isn[1-dir] + uint32(binary.BigEndian.Uint16(b[5:]))*10
		n := int(b[4]) * 10
		at = at.Add(time.Duration(b[7]) * 100 * time.Microsecond)
		src, dst := clients[c], srv
		if dir == 1 {
			src, dst = dst, src
		}
		ids[pt][dir]++
		frames[pt]++
		s := decode.Segment{Time: at, Src: src, Dst: dst, TTL: uint8(64 - pt), IPVersion: 4, IPID: ids[pt][dir] + uint16(dir)*7000,
			Seq: seq, Ack: ack, Flags: flags, PayloadLen: n, Payload: payloadOf(clients[c], dir, seq, n), Input: pt, Frame: frames[pt]}
		if fl&0x20 != 0 {
			s.Options.Timestamp = true
			s.Options.TSVal = uint32(binary.BigEndian.Uint16(b[8:]))
			s.Options.TSEcr = uint32(binary.BigEndian.Uint16(b[10:]))
		}
		if pt == 1 {
			s.Time = s.Time.Add(shift)
		}
		p.Segment(pt, c, &s)
	}
	for pt := range np {
		p.EndPoint(pt)
	}
	return p.Finish()
}

// FuzzShiftClock: a point whose clock is seconds ahead, taken off by
// ShiftClock, gives the result of the clocks agreeing: the same hops and
// paths, its lost packets' frames at its own times, and its clock offset
// moved by the shift.
func FuzzShiftClock(f *testing.F) {
	f.Add([]byte{
		0, 0x02, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0,
		1, 0x02, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0,
		1, 0x13, 0, 0, 0, 0, 1, 1, 0, 2, 0, 1,
		0, 0x13, 0, 0, 0, 0, 1, 1, 0, 2, 0, 1,
		0, 0x30, 0, 1, 40, 0, 1, 1, 0, 3, 0, 2,
		1, 0x30, 0, 1, 40, 0, 1, 1, 0, 3, 0, 2,
		0, 0x30, 0, 41, 40, 0, 1, 1, 0, 4, 0, 2,
		2, 0x31, 0, 1, 0, 0, 41, 2, 0, 6, 0, 5,
		1, 0x31, 0, 1, 0, 0, 41, 2, 0, 6, 0, 5,
	}, int16(3000))
	f.Fuzz(func(t *testing.T, b []byte, ms int16) {
		shift := time.Duration(ms) * time.Millisecond
		same := fuzzPlace(b, false)
		moved := fuzzPlaceShifted(b, false, shift)
		var a, c []*FlowResult
		for _, fr := range same.All() {
			a = append(a, fr)
		}
		for _, fr := range moved.All() {
			for d := range fr.Hops {
				for k := range fr.Hops[d] {
					h := &fr.Hops[d][k]
					for i := range h.Frames {
						if h.Frames[i].Input == 1 {
							h.Frames[i].Time = h.Frames[i].Time.Add(-shift)
						}
					}
				}
			}
			c = append(c, fr)
		}
		if !reflect.DeepEqual(a, c) {
			t.Fatalf("shifted %v: %+v, the clocks agreeing %+v", shift, c, a)
		}
		for pt, o := range same.OffsetMs {
			m := moved.OffsetMs[pt]
			if (o == nil) != (m == nil) {
				t.Fatalf("point %d: offset %v shifted, %v the clocks agreeing", pt, m, o)
			}
			if o == nil || same.Reference != moved.Reference {
				continue
			}
			want := *o
			switch {
			case pt == 1 && same.Reference != 1:
				want += float64(ms)
			case pt != 1 && same.Reference == 1:
				want -= float64(ms)
			}
			if d := *m - want; d > 1e-6 || d < -1e-6 {
				t.Fatalf("point %d: offset %v ms shifted %v, want %v", pt, *m, shift, want)
			}
		}
	})
}
