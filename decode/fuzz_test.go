package decode

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// maxSeed keeps seed inputs small so that the fuzzer mutates quickly; a
// capture cut short is a valid input anyway.
const maxSeed = 32 << 10

func FuzzOpen(f *testing.F) {
	for _, path := range publicCaptures(f) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data[:min(len(data), maxSeed)])
	}
	pkts := samplePackets(f)
	ng, _ := ngFile(f)
	f.Add(writePcap(binary.BigEndian, true, 113, pkts))
	f.Add(writePcap(binary.LittleEndian, false, 1, pkts))
	f.Add(ng)
	f.Add(gz(ng))

	f.Fuzz(func(t *testing.T, data []byte) {
		// A small buffer makes the fuzzer faster and sends more blocks
		// through the path for blocks larger than the buffer.
		src, err := newSource(context.Background(), bytes.NewReader(data), "fuzz", 0, 8<<10)
		if err != nil {
			checkOneLine(t, err)
			return
		}
		d := NewDecoder()
		var s Segment
		for n := 1; ; n++ {
			p, err := src.Next()
			if err != nil {
				if err != io.EOF {
					checkOneLine(t, err)
				}
				if _, err2 := src.Next(); err2 != err {
					t.Fatalf("Next after %v returned %v", err, err2)
				}
				break
			}
			if p.Frame != n || p.CaptureLen != len(p.Data) || src.Info().Packets != n {
				t.Fatalf("frame %d: Frame %d CaptureLen %d len(Data) %d", n, p.Frame, p.CaptureLen, len(p.Data))
			}
			ok, err := d.Decode(p, &s)
			checkSegment(t, p, &s, ok, err)
		}
	})
}

func FuzzDecode(f *testing.F) {
	for _, tc := range decodeCases(f) {
		f.Add(uint16(tc.lt), tc.frame, uint16(max(0, tc.wireLen-len(tc.frame))))
	}
	for _, path := range publicCaptures(f) {
		src, err := Open(path, 0)
		if err != nil {
			f.Fatal(err)
		}
		for range 8 {
			p, err := src.Next()
			if err != nil {
				break
			}
			f.Add(uint16(p.LinkType), append([]byte(nil), p.Data...), uint16(p.WireLen-p.CaptureLen))
		}
		src.Close()
	}

	d := NewDecoder()
	f.Fuzz(func(t *testing.T, lt uint16, data []byte, cut uint16) {
		p := &Packet{Frame: 1, LinkType: layers.LinkType(lt), Data: data, CaptureLen: len(data), WireLen: len(data) + int(cut)}
		var s Segment
		ok, err := d.Decode(p, &s)
		checkSegment(t, p, &s, ok, err)
	})
}

// FuzzInputDecode feeds an InputDecoder a sequence of raw IP packets, so
// that reassembly sees fragments of every shape and order, and the copy
// finder repeats of every kind. The input is
// a list of records: a time step (in ms; 255 steps back a second), a
// 2-byte length, the packet.
func FuzzInputDecode(f *testing.F) {
	record := func(step byte, pkt []byte) []byte {
		return append([]byte{step, byte(len(pkt) >> 8), byte(len(pkt))}, pkt...)
	}
	for _, capture := range [][]byte{fragmentsCapture(f), twiceCapture(f)} {
		src, err := NewReader(bytes.NewReader(capture), "seed", 0)
		if err != nil {
			f.Fatal(err)
		}
		var all []byte
		for n := 0; ; n++ {
			p, err := src.Next()
			if err != nil {
				break
			}
			all = append(all, record(byte(n%2), p.Data[14:])...)
		}
		f.Add(all)
	}
	for _, tc := range decodeCases(f) {
		if tc.lt == layers.LinkTypeRaw {
			f.Add(append(record(0, tc.frame), record(0, tc.frame)...))
		}
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewInputDecoder()
		at := testTime
		var s Segment
		for frame := 1; len(data) >= 3; frame++ {
			step, n := data[0], int(binary.BigEndian.Uint16(data[1:3]))
			data = data[3:]
			n = min(n, len(data))
			pkt := data[:n]
			data = data[n:]
			if step == 255 {
				at = at.Add(-time.Second)
			} else {
				at = at.Add(time.Duration(step) * time.Millisecond)
			}
			p := &Packet{Frame: frame, Time: at, LinkType: layers.LinkTypeRaw, Data: pkt, CaptureLen: len(pkt), WireLen: len(pkt)}
			ok, err := d.Decode(p, &s)
			checkSegment(t, p, &s, ok, err)
		}
		for _, w := range d.Warnings() {
			if w == "" || strings.Contains(w, "\n") {
				t.Fatalf("warning %q", w)
			}
		}
		if d.frag.bytes > fragMaxBytes || d.frag.bytes < 0 {
			t.Fatalf("%d bytes of fragments held", d.frag.bytes)
		}
	})
}

func checkOneLine(t *testing.T, err error) {
	msg := err.Error()
	if !strings.HasPrefix(msg, "fuzz: ") || strings.Contains(msg, "\n") {
		t.Fatalf("error %q: want one line naming the input", msg)
	}
}

// checkSegment checks what must hold for any decoded segment.
func checkSegment(t *testing.T, p *Packet, s *Segment, ok bool, err error) {
	t.Helper()
	if ok && err != nil {
		t.Fatalf("ok with error %v", err)
	}
	if !ok {
		return
	}
	if s.IPVersion != 4 && s.IPVersion != 6 || s.Src.Addr().Is4() != (s.IPVersion == 4) {
		t.Fatalf("IP version %d with addresses %v", s.IPVersion, s.Src)
	}
	if s.PayloadLen < 0 || len(s.Payload) > s.PayloadLen || s.Missing() < 0 {
		t.Fatalf("PayloadLen %d, %d bytes captured", s.PayloadLen, len(s.Payload))
	}
	// A record may hold more than it says was on the wire (Wireshark
	// reads those, and so do we, lengths as recorded): the frame is then
	// what was captured.
	if s.PayloadLen > max(p.WireLen, p.CaptureLen) && !s.Reassembled {
		t.Fatalf("PayloadLen %d exceeds the frame's %d bytes on the wire (%d captured)", s.PayloadLen, p.WireLen, p.CaptureLen)
	}
	if len(s.Options.SACK) > 4 || s.Options.WindowScale > 14 {
		t.Fatalf("options %+v", s.Options)
	}
}
