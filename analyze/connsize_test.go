package analyze

import (
	"testing"
	"unsafe"
)

// TestConnStateSize: every open connection's trackers are one allocation
// (connState) that fits the runtime's 2,304-byte size class; a few bytes
// more would take the 2,688-byte one: 8 MB more at 20,000 open
// connections (BenchmarkConnMemory). verdict's segMark (24 bytes) and the
// order of dirTrack's small fields keep it there.
func TestConnStateSize(t *testing.T) {
	if n := unsafe.Sizeof(connState{}); n > 2304 {
		t.Errorf("connState is %d bytes, over the 2,304-byte size class", n)
	}
}

// TestConnSize: a conn (one per tcp.stream, held for every connection a
// flood or a scan opens: 1M SYNs hold a million) fits the 192-byte size
// class; 8 bytes more took the 208-byte one, 40 MB more peak RSS on the
// bench's 1M SYNs. What only some analyses keep of a conn goes in a map
// of the Analyzer's (Analyzer.pics).
func TestConnSize(t *testing.T) {
	if n := unsafe.Sizeof(conn{}); n > 192 {
		t.Errorf("conn is %d bytes, over the 192-byte size class", n)
	}
}
