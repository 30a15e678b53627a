package h2

import (
	"bytes"
	"testing"

	"golang.org/x/net/http2"
)

// benchStream is a busy gRPC-like connection's server side: per call a
// HEADERS, 16 KiB DATA frames, trailers; PINGs and WINDOW_UPDATEs between.
func benchStream(b *testing.B) []byte {
	w := newWriter()
	must(b, w.fr.WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 100}))
	payload := bytes.Repeat([]byte("protobuf"), 2048)
	for id := uint32(1); w.buf.Len() < 8<<20; id += 2 {
		must(b, w.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, EndHeaders: true, BlockFragment: w.block(":status", "200", "content-type", "application/grpc")}))
		for range 8 {
			must(b, w.fr.WriteData(id, false, payload))
		}
		must(b, w.fr.WriteData(id, false, payload[:100]))
		must(b, w.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, EndHeaders: true, EndStream: true, BlockFragment: w.block("grpc-status", "0")}))
		must(b, w.fr.WriteWindowUpdate(0, 1<<16))
		must(b, w.fr.WritePing(id%4 == 1, [8]byte{byte(id)}))
	}
	return w.buf.Bytes()
}

// BenchmarkStream: in step, segments of 1448 bytes (MB/s, and allocations
// per 8 MiB: a DATA frame must allocate nothing).
func BenchmarkStream(b *testing.B) {
	data := benchStream(b)
	frames := 0
	emit := func(*Frame) { frames++ }
	b.Run("insync", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			s := NewStream(Options{Sync: true})
			for off := 0; off < len(data); off += 1448 {
				s.Data(data[off:min(off+1448, len(data))], Meta{Frame: off}, emit)
			}
		}
	})
	// Searching: the capture starts in the middle of a DATA payload.
	b.Run("search", func(b *testing.B) {
		b.SetBytes(int64(len(data) - 1000))
		b.ReportAllocs()
		for b.Loop() {
			s := NewStream(Options{})
			for off := 1000; off < len(data); off += 1448 {
				s.Data(data[off:min(off+1448, len(data))], Meta{Frame: off}, emit)
			}
		}
	})
	// Worst case for the search: lookalike frame headers and no frames.
	b.Run("garbage", func(b *testing.B) {
		junk := lookalike(1 << 20)
		for i := 5; i < len(junk); i += 17 {
			junk[i] = 0x80 // reserved bit: none confirms
		}
		b.SetBytes(int64(len(junk)))
		b.ReportAllocs()
		for b.Loop() {
			s := NewStream(Options{})
			for off := 0; off < len(junk); off += 1448 {
				s.Data(junk[off:min(off+1448, len(junk))], Meta{Frame: off}, emit)
			}
		}
	})
}

// TestNoAllocPerDataFrame checks the in-step path allocates nothing per
// DATA frame once warm.
func TestNoAllocPerDataFrame(t *testing.T) {
	w := newWriter()
	for range 100 {
		must(t, w.fr.WriteData(1, false, make([]byte, 1000)))
	}
	data := w.buf.Bytes()
	s := NewStream(Options{Sync: true})
	emit := func(*Frame) {}
	s.Data(data, Meta{}, emit)
	allocs := testing.AllocsPerRun(20, func() {
		for off := 0; off < len(data); off += 1448 {
			s.Data(data[off:min(off+1448, len(data))], Meta{Frame: off}, emit)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per 100 DATA frames", allocs)
	}
}
