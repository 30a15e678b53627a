package hops

import (
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/decode"
)

// TestClockProbe: each capture's offset from the first's is the median
// time between the copies of the packets two captures share; the shifts
// leave the clock most captures agree on, and offsets under
// PlaceShiftMin, alone.
func TestClockProbe(t *testing.T) {
	// seg is the i-th packet of a flow, as a capture whose clock is off
	// by off saw it delay after it was sent.
	seg := func(i int, off, delay time.Duration) *decode.Segment {
		return &decode.Segment{Time: t0.Add(time.Duration(i)*time.Millisecond + off + delay), IPVersion: 4, IPID: uint16(100 + i),
			Seq: 1000 + uint32(i)*10, Ack: 5000, Flags: decode.FlagACK, PayloadLen: 10}
	}
	type capture struct {
		off, delay time.Duration
		from, to   int // the packets it saw
	}
	tests := []struct {
		name    string
		caps    []capture
		offsets []time.Duration // -1: nil
		shifts  []time.Duration
	}{
		{"clocks agree", []capture{{0, 0, 0, 50}, {20 * time.Millisecond, time.Millisecond, 0, 50}},
			[]time.Duration{0, 21 * time.Millisecond}, []time.Duration{0, 0}},
		{"the second 3 s ahead", []capture{{0, 0, 0, 50}, {3 * time.Second, time.Millisecond, 0, 50}},
			[]time.Duration{0, 3*time.Second + time.Millisecond}, []time.Duration{0, 3*time.Second + time.Millisecond}},
		{"the first 7.5 s behind the other two", []capture{{-7500 * time.Millisecond, 0, 0, 50}, {0, time.Millisecond, 0, 50}, {0, 2 * time.Millisecond, 0, 50}},
			[]time.Duration{0, 7501 * time.Millisecond, 7502 * time.Millisecond}, []time.Duration{-7501 * time.Millisecond, 0, 0}},
		{"too few packets in common", []capture{{0, 0, 0, 50}, {3 * time.Second, 0, 45, 90}},
			[]time.Duration{0, -1}, []time.Duration{0, 0}},
		{"through the middle one", []capture{{0, 0, 0, 30}, {time.Second, time.Millisecond, 0, 60}, {3 * time.Second, 2 * time.Millisecond, 30, 60}},
			[]time.Duration{0, 1001 * time.Millisecond, 3002 * time.Millisecond}, []time.Duration{0, 1001 * time.Millisecond, 3002 * time.Millisecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := NewClockProbe(len(tc.caps))
			for i, c := range tc.caps {
				for k := c.from; k < c.to; k++ {
					p.Add(i, seg(k, c.off, c.delay))
				}
			}
			got := p.Offsets()
			for i, want := range tc.offsets {
				switch {
				case want < 0 && got[i] != nil:
					t.Errorf("capture %d: offset %v, want none", i, *got[i])
				case want >= 0 && (got[i] == nil || *got[i] != want):
					t.Errorf("capture %d: offset %v, want %v", i, got[i], want)
				}
			}
			shifts := Shifts(p.Offsets())
			for i, want := range tc.shifts {
				if shifts[i] != want {
					t.Errorf("capture %d: shift %v, want %v", i, shifts[i], want)
				}
			}
		})
	}
}

// TestClockProbeRepeats: a packet one capture sees twice at once (in and
// out of a router) is one sighting; a key it sees again later (a
// retransmission, the same bytes on another connection) tells nothing.
func TestClockProbeRepeats(t *testing.T) {
	p := NewClockProbe(2)
	for i := range 20 {
		s := probeSeg(i)
		p.Add(0, s)
		in := *s
		in.Time = in.Time.Add(5 * time.Second)
		p.Add(1, &in)
		out := in
		out.Time = out.Time.Add(20 * time.Microsecond)
		p.Add(1, &out) // the router's copy out: the same sighting
		if i%2 == 0 {
			again := in
			again.Time = again.Time.Add(time.Second) // seen again later: ambiguous
			p.Add(1, &again)
		}
	}
	got := p.Offsets()
	if got[1] == nil || *got[1] != 5*time.Second {
		t.Fatalf("offset %v, want 5s from the 10 packets seen once", got[1])
	}
	q := NewClockProbe(2)
	for i := range 20 {
		s := probeSeg(i)
		q.Add(0, s)
		again := *s
		again.Time = again.Time.Add(time.Second)
		q.Add(0, &again)
		q.Add(1, s)
	}
	if got := q.Offsets(); got[1] != nil {
		t.Errorf("offset %v from packets each seen twice by the first capture, want none", *got[1])
	}
}

// TestSameProbe: inputs that hold the same packets share them whatever
// their clocks; parts of one capture do not, even where one holds a
// segment and the next its retransmission (the same bytes under another
// IPv4 ID), or IPv6 retransmissions without timestamps (the same
// headers) at the seam.
func TestSameProbe(t *testing.T) {
	seg := func(i int, v6 bool, id uint16) *decode.Segment {
		s := &decode.Segment{Time: t0.Add(time.Duration(i) * time.Millisecond), IPVersion: 4, IPID: id,
			Seq: 1000 + uint32(i)*40, Ack: 5000, Flags: decode.FlagACK, PayloadLen: 40, Payload: make([]byte, 40)}
		if v6 {
			s.IPVersion, s.IPID = 6, 0
		}
		return s
	}
	tests := []struct {
		name string
		fill func(p *ClockProbe)
		want bool
	}{
		{"the same packets, 30 s apart", func(p *ClockProbe) {
			for i := range 100 {
				p.Add(0, seg(i, false, uint16(i+1)))
				s := seg(i, false, uint16(i+1))
				s.Time = s.Time.Add(30 * time.Second)
				p.Add(1, s)
			}
		}, true},
		{"parts of one capture", func(p *ClockProbe) {
			for i := range 100 {
				p.Add(0, seg(i, false, uint16(i+1)))
				p.Add(1, seg(i+100, false, uint16(i+101)))
			}
		}, false},
		{"the next part opens with retransmissions", func(p *ClockProbe) {
			for i := range 100 {
				p.Add(0, seg(i, false, uint16(i+1)))
			}
			for i := range 100 {
				s := seg(i+80, false, uint16(i+500)) // 20 sent again, other IDs
				s.Time = s.Time.Add(time.Second)
				p.Add(1, s)
			}
		}, false},
		{"IPv6 retransmissions without timestamps at the seam", func(p *ClockProbe) {
			for i := range 100 {
				p.Add(0, seg(i, true, 0))
			}
			for i := range 100 {
				s := seg(i+90, true, 0) // 10 sent again: the same headers
				s.Time = s.Time.Add(time.Second)
				p.Add(1, s)
			}
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := NewSameProbe(2)
			tc.fill(p)
			if got := p.Shared(); got != tc.want {
				t.Errorf("Shared() = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestClockProbeSteps: captures whose clocks' offset moved within the
// packets they share (a clock stepped while capturing) give no offset,
// and Steps names them; a steady offset with a few late copies does not.
func TestClockProbeSteps(t *testing.T) {
	for _, tc := range []struct {
		name    string
		stepped int // of 100 packets, the last ones seen 3 s later by the second capture
		steps   bool
	}{{"steady", 0, false}, {"a few late", 5, false}, {"a tenth late", 10, false}, {"a quarter late", 25, true}, {"stepped half-way", 50, true}} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewClockProbe(2)
			for i := range 100 {
				s := probeSeg(i)
				p.Add(0, s)
				b := *s
				if i >= 100-tc.stepped {
					b.Time = b.Time.Add(3 * time.Second)
				}
				p.Add(1, &b)
			}
			steps, offs := p.Steps(), p.Offsets()
			if got := len(steps) > 0; got != tc.steps {
				t.Errorf("steps %v, want %v", steps, tc.steps)
			}
			if tc.steps && (offs[1] != nil || len(steps) != 1 || steps[0].A != 0 || steps[0].B != 1 || steps[0].Moved != 3*time.Second) {
				t.Errorf("offset %v, steps %+v: want none, and 0-1 moved 3s", offs[1], steps)
			}
			if !tc.steps && (offs[1] == nil || *offs[1] != 0) {
				t.Errorf("offset %v, want 0", offs[1])
			}
		})
	}
}

// TestClockProbeOddKey: of the 8 packets two captures share, one came 2 s
// later at the second (an IPv6 retransmission without timestamps has its
// lost original's headers): the offset is the others', no step.
func TestClockProbeOddKey(t *testing.T) {
	p := NewClockProbe(2)
	for i := range 8 {
		s := probeSeg(i)
		p.Add(0, s)
		b := *s
		b.Time = b.Time.Add(40 * time.Millisecond)
		if i == 3 {
			b.Time = b.Time.Add(2 * time.Second)
		}
		p.Add(1, &b)
	}
	if steps := p.Steps(); len(steps) != 0 {
		t.Errorf("steps %+v, want none", steps)
	}
	if o := p.Offsets()[1]; o == nil || *o != 40*time.Millisecond {
		t.Errorf("offset %v, want 40ms", o)
	}
}

// probeSeg is the i-th of a run of one-byte segments a millisecond
// apart, each with its own IPv4 ID and sequence number.
func probeSeg(i int) *decode.Segment {
	return &decode.Segment{Time: t0.Add(time.Duration(i) * time.Millisecond), IPVersion: 4, IPID: uint16(i + 1), Seq: uint32(i * 100), Flags: decode.FlagACK, PayloadLen: 1}
}
