package decode

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"
)

// benchCapture is the largest real capture in testdata (1670 packets of
// a single TCP connection with loss and reordering).
const benchCapture = publicDir + "/wireshark-4.0.17/challenge01_ooo_stream.pcapng.gz"

func loadPackets(b *testing.B, path string) []Packet {
	src, err := Open(path, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	pkts, err := drain(b, src)
	if err != nil {
		b.Fatal(err)
	}
	return pkts
}

// BenchmarkDecode decodes packets already in memory: one op is one packet.
func BenchmarkDecode(b *testing.B) {
	pkts := loadPackets(b, benchCapture)
	var total int64
	for _, p := range pkts {
		total += int64(len(p.Data))
	}
	b.SetBytes(total / int64(len(pkts)))
	d := NewDecoder()
	var s Segment
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := d.Decode(&pkts[i%len(pkts)], &s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInputDecode is BenchmarkDecode through an InputDecoder, which
// also looks for copies (the packets come again every round, an hour
// later, so that none is a copy).
func BenchmarkInputDecode(b *testing.B) {
	pkts := loadPackets(b, benchCapture)
	var total int64
	for _, p := range pkts {
		total += int64(len(p.Data))
	}
	b.SetBytes(total / int64(len(pkts)))
	d := NewInputDecoder()
	var s Segment
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		p := pkts[i%len(pkts)]
		p.Time = p.Time.Add(time.Duration(i/len(pkts)) * time.Hour)
		if _, err := d.Decode(&p, &s); err != nil {
			b.Fatal(err)
		}
	}
}

// loopReader returns head once, then body over and over, so that a
// benchmark reads a capture of any length without reopening it.
type loopReader struct {
	head, body []byte
	off        int
}

func (r *loopReader) Read(p []byte) (int, error) {
	if len(r.head) > 0 {
		n := copy(p, r.head)
		r.head = r.head[n:]
		return n, nil
	}
	n := copy(p, r.body[r.off:])
	r.off = (r.off + n) % len(r.body)
	return n, nil
}

// BenchmarkReadDecode reads and decodes an endless capture made of the
// packets of benchCapture: one op is one packet.
func BenchmarkReadDecode(b *testing.B) {
	pkts := loadPackets(b, benchCapture)
	var total int64
	for _, p := range pkts {
		total += int64(len(p.Data))
	}
	for _, format := range []string{"pcap", "pcapng"} {
		b.Run(format, func(b *testing.B) {
			var head, all bytes.Buffer
			if format == "pcap" {
				w := pcapgo.NewWriterNanos(&all)
				w.WriteFileHeader(262144, pkts[0].LinkType)
				head.Write(all.Bytes())
				for _, p := range pkts {
					w.WritePacket(gopacket.CaptureInfo{Timestamp: p.Time, CaptureLength: len(p.Data), Length: p.WireLen}, p.Data)
				}
			} else {
				w, err := pcapgo.NewNgWriter(&all, pkts[0].LinkType)
				if err != nil {
					b.Fatal(err)
				}
				w.Flush()
				head.Write(all.Bytes())
				for _, p := range pkts {
					w.WritePacket(gopacket.CaptureInfo{Timestamp: p.Time, CaptureLength: len(p.Data), Length: p.WireLen}, p.Data)
				}
				w.Flush()
			}
			body := all.Bytes()[head.Len():]
			src, err := NewReader(&loopReader{head: head.Bytes(), body: body}, "bench", 0)
			if err != nil {
				b.Fatal(err)
			}
			d := NewDecoder()
			var s Segment
			b.SetBytes(int64(len(body)) / int64(len(pkts)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				p, err := src.Next()
				if err != nil {
					b.Fatal(err)
				}
				if _, err := d.Decode(p, &s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestReadDecodeNoAllocs pins the zero-allocation claim of the read and
// decode loop for both container formats.
func TestReadDecodeNoAllocs(t *testing.T) {
	pkts := samplePackets(t)
	ng, _ := ngFile(t)
	for _, tc := range []struct {
		name string
		head []byte
		body []byte
	}{
		{"pcap", writePcapHead(t), writePcapBody(t, pkts)},
		{"pcapng", ng, ngBody(t, ng)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := NewReader(&loopReader{head: tc.head, body: tc.body}, "x", 0)
			if err != nil {
				t.Fatal(err)
			}
			d := NewDecoder()
			var s Segment
			step := func() {
				p, err := src.Next()
				if err != nil {
					t.Fatal(err)
				}
				d.Decode(p, &s)
			}
			for range 100 { // let buffers and the LinkTypes list settle
				step()
			}
			if n := testing.AllocsPerRun(1000, step); n != 0 {
				t.Errorf("%v allocs per packet", n)
			}
		})
	}
}

func writePcapHead(t testing.TB) []byte {
	var b bytes.Buffer
	pcapgo.NewWriter(&b).WriteFileHeader(262144, 1)
	return b.Bytes()
}

func writePcapBody(t testing.TB, pkts []testPkt) []byte {
	var b bytes.Buffer
	w := pcapgo.NewWriter(&b)
	for _, p := range pkts {
		w.WritePacket(gopacket.CaptureInfo{Timestamp: p.t, CaptureLength: len(p.data), Length: max(len(p.data), p.wireLen)}, p.data)
	}
	return b.Bytes()
}

// ngBody returns the packet blocks of an ngFile, which follow its
// header blocks.
func ngBody(t testing.TB, ng []byte) []byte {
	src, err := NewReader(bytes.NewReader(ng), "x", 0)
	if err != nil {
		t.Fatal(err)
	}
	s := src.(*ngSource)
	if _, err := s.Next(); err != nil { // consumes the header blocks too
		t.Fatal(err)
	}
	end := int(s.offset())
	start := end - int(binary.LittleEndian.Uint32(ng[end-4:end])) // the block's trailing length
	if _, err := io.Copy(io.Discard, s.br); err != nil {
		t.Fatal(err)
	}
	return ng[start:]
}
