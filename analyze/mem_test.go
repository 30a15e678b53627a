package analyze

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/internal/synth"
)

// connMemory analyzes n synthetic connections of the given case and
// returns the heap bytes the Analyzer holds per connection once the
// capture is read (before the Report): what a connection costs while it
// is open ("open") and after it closed ("short").
func connMemory(tb testing.TB, kind string, n int) float64 {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), kind+".pcap")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := synth.Write(f, kind, synth.Config{N: n, Open: 64}, nil); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	src, err := decode.Open(path, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	a := New(Options{})
	if _, err := a.ReadSource(src); err != nil {
		tb.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(a)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
}

// BenchmarkConnMemory reports the heap held per open and per closed
// connection (README: "Memory per connection").
func BenchmarkConnMemory(b *testing.B) {
	for _, kind := range []string{"open", "short"} {
		b.Run(kind, func(b *testing.B) {
			var per float64
			for range b.N {
				per = connMemory(b, kind, 20000)
			}
			b.ReportMetric(per, "B/conn")
		})
	}
}
