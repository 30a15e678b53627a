package h2

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// FuzzStream feeds arbitrary bytes, cut into segments and with gaps as
// seed and mode choose, and checks that a Stream never panics, keeps its
// memory bounds, and accounts for every byte. Seeds: synthetic streams, and
// (testdata/fuzz/FuzzStream) directions of the public captures, written by
// TestWriteFuzzSeeds.
func FuzzStream(f *testing.F) {
	_, all := allTypes(f)
	mid, _ := midStream(f)
	f.Add(append([]byte(ClientPreface), all...), uint64(1), uint8(0))
	f.Add(all, uint64(2), uint8(1))
	f.Add(mid[:4000], uint64(3), uint8(2))
	f.Add(mid[100:3000], uint64(4), uint8(6))
	f.Add([]byte("GET / HTTP/1.1\r\nUpgrade: h2c\r\nHTTP2-Settings: x\r\n\r\n"+ClientPreface), uint64(5), uint8(0))
	f.Add([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00"), uint64(6), uint8(4))
	f.Fuzz(func(t *testing.T, data []byte, seed uint64, mode uint8) {
		r := rand.New(rand.NewPCG(seed, uint64(mode)))
		s := NewStream(Options{Client: mode&1 != 0, Sync: mode&2 != 0})
		if mode&4 != 0 {
			s.SetMaxFrameSize(uint32(r.Uint64()))
		}
		var fed, lost, emitted int64
		lastOff := int64(-1)
		emit := func(f *Frame) {
			if f.Offset <= lastOff || !f.Truncated && f.Offset+9+int64(f.Length) > s.Offset() {
				t.Fatalf("frame at %d (last %d) length %d, stream at %d", f.Offset, lastOff, f.Length, s.Offset())
			}
			lastOff = f.Offset
			if !f.Truncated {
				emitted += 9 + int64(f.Length)
			}
		}
		for len(data) > 0 {
			n := 1 + r.IntN(min(len(data), 3000))
			if r.IntN(4) == 0 {
				n = len(data)
			}
			s.Data(data[:n], Meta{Frame: int(fed)}, emit)
			fed += int64(n)
			data = data[n:]
			if mode&8 != 0 && r.IntN(8) == 0 {
				g := 1 + r.IntN(100)
				s.Gap(g, emit)
				lost += int64(g)
			}
			limit := 2*int(s.maxFrame) + 64 + 3000
			if len(s.hb) > limit || cap(s.buf) > int(s.maxFrame) || len(s.hyps) > maxHyps || len(s.carry) > maxCarry+int(s.maxFrame) {
				t.Fatalf("memory: hb %d, buf %d, hyps %d, carry %d", len(s.hb), cap(s.buf), len(s.hyps), len(s.carry))
			}
		}
		s.End(emit)
		if s.Skipped() < 0 || s.Skipped() > fed || s.Offset() != fed+lost {
			t.Fatalf("skipped %d, fed %d, lost %d, offset %d", s.Skipped(), fed, lost, s.Offset())
		}
		if lost == 0 && emitted+s.Skipped() > fed {
			t.Fatalf("emitted %d + skipped %d > fed %d", emitted, s.Skipped(), fed)
		}
	})
}

// TestWriteFuzzSeeds writes the first 32 KiB of every direction of a few
// public captures into FuzzStream's seed corpus. Run it by hand (it needs
// tshark): H2_WRITE_SEEDS=1 go test -run TestWriteFuzzSeeds.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("H2_WRITE_SEEDS") == "" {
		t.Skip("set H2_WRITE_SEEDS=1 to rewrite the seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzStream")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range publicH2[:6] { // public captures only
		for i, d := range tcpDirections(t, tsharkRows(t, c.file, c.opts)) {
			var b []byte
			for _, sg := range d.segs {
				b = append(b, sg.data...)
			}
			b = b[:min(len(b), 32<<10)]
			name := fmt.Sprintf("%s-%d", filepath.Base(c.file), i)
			body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\nuint64(" + strconv.Itoa(i) + ")\nuint8(0)\n"
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
