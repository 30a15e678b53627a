package verdict

import (
	"testing"
	"unsafe"

	"github.com/h2pcap/h2pcap/analyze/tcp"
)

// TestSegMark: a mark keeps its frame (past 2^32, a live capture running
// for days), input, time, sequence number and length in 24 bytes, and
// the zero mark is unset.
func TestSegMark(t *testing.T) {
	if (segMark{}).set() {
		t.Error("the zero mark is set")
	}
	for _, c := range []struct{ frame, input int }{{1, 0}, {3, 2}, {1<<32 + 5, 1<<24 - 1}, {1<<39 - 1, 7}} {
		m := newMark(c.frame, c.input, -42, tcp.Seq(1<<32-1), 65535)
		if !m.set() || m.frame() != c.frame || m.input() != c.input || m.ns != -42 || m.seq != 1<<32-1 || m.len != 65535 {
			t.Errorf("newMark(%d, %d): set %v, frame %d, input %d, ns %d, seq %d, len %d", c.frame, c.input, m.set(), m.frame(), m.input(), m.ns, m.seq, m.len)
		}
	}
	if n := unsafe.Sizeof(segMark{}); n != 24 {
		t.Errorf("segMark is %d bytes, want 24", n)
	}
}
