package app

import (
	"fmt"
	"strings"
	"testing"

	"github.com/h2pcap/h2pcap/analyze/tcp"
	"github.com/h2pcap/h2pcap/decode/h2"
)

// recSink records what a reassembler delivers: "data@frame" and "gap:n".
type recSink struct{ ops []string }

func (r *recSink) data(b []byte, m h2.Meta) { r.ops = append(r.ops, fmt.Sprintf("%s@%d", b, m.Frame)) }
func (r *recSink) gap(n int)                { r.ops = append(r.ops, fmt.Sprintf("gap:%d", n)) }

// rseg is one input to a reassembler: a segment, or an ACK from the peer.
type rseg struct {
	seq     tcp.Seq
	data    string
	wireLen int  // 0: len(data)
	ack     bool // an ACK for seq from the peer, not a segment
}

func TestReassembler(t *testing.T) {
	var wrap tcp.Seq = 0xFFFFFFFE
	tests := []struct {
		name  string
		start tcp.Seq // 0: not known (the first segment starts the stream)
		segs  []rseg
		flush bool
		want  string
	}{
		{"in order", 0, []rseg{{seq: 1, data: "abc"}, {seq: 4, data: "def"}}, false,
			"abc@1 def@2"},
		{"start from the SYN", 1, []rseg{{seq: 1, data: "abc"}}, false, "abc@1"},
		{"retransmission dropped", 0, []rseg{{seq: 1, data: "abc"}, {seq: 1, data: "abc"}, {seq: 2, data: "b"}}, false,
			"abc@1"},
		{"overlap delivers only the new bytes", 0, []rseg{{seq: 1, data: "abc"}, {seq: 2, data: "bcde"}}, false,
			"abc@1 de@2"},
		{"out of order then filled: waiting bytes go with the filler", 0,
			[]rseg{{seq: 1, data: "ab"}, {seq: 5, data: "ef"}, {seq: 7, data: "gh"}, {seq: 3, data: "cd"}}, false,
			"ab@1 cd@4 ef@4 gh@4"},
		{"overlapping held segments", 0,
			[]rseg{{seq: 1, data: "a"}, {seq: 3, data: "cd"}, {seq: 4, data: "def"}, {seq: 3, data: "c"}, {seq: 2, data: "b"}}, false,
			"a@1 b@5 cd@5 ef@5"},
		{"hole never filled: a gap at the end", 0,
			[]rseg{{seq: 1, data: "ab"}, {seq: 5, data: "ef"}}, true,
			"ab@1 gap:2 ef@2"},
		{"hole the peer ACKs past: a gap at once", 0,
			[]rseg{{seq: 1, data: "ab"}, {seq: 5, data: "ef"}, {seq: 4, ack: true}, {seq: 7, ack: true}}, false,
			"ab@1 gap:1 gap:1 ef@2"},
		{"ACK with nothing held waits", 0,
			[]rseg{{seq: 1, data: "ab"}, {seq: 9, ack: true}, {seq: 3, data: "cd"}}, false,
			"ab@1 cd@3"},
		{"snaplen cut", 0,
			[]rseg{{seq: 1, data: "ab", wireLen: 4}, {seq: 5, data: "ef"}}, false,
			"ab@1 gap:2 ef@2"},
		{"snaplen cut while held", 0,
			[]rseg{{seq: 1, data: "a"}, {seq: 3, data: "c", wireLen: 3}, {seq: 2, data: "b"}, {seq: 6, data: "f"}}, false,
			"a@1 b@3 c@3 gap:2 f@4"},
		{"first byte lost before the capture", 1,
			[]rseg{{seq: 3, data: "cd"}}, true,
			"gap:2 cd@1"},
		{"sequence wrap", wrap,
			[]rseg{{seq: wrap, data: "ab"}, {seq: wrap + 4, data: "ef"}, {seq: wrap + 2, data: "cd"}}, false,
			"ab@1 cd@3 ef@3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r reassembler
			var sink recSink
			if tc.start != 0 {
				r.start(tc.start)
			}
			for i, s := range tc.segs {
				if s.ack {
					r.acked(s.seq, &sink)
					continue
				}
				n := s.wireLen
				if n == 0 {
					n = len(s.data)
				}
				r.segment(s.seq, []byte(s.data), n, h2.Meta{Frame: i + 1}, &sink)
			}
			if tc.flush {
				r.flush(&sink)
			}
			if got := strings.Join(sink.ops, " "); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if len(r.held) != 0 && tc.flush || r.heldBytes < 0 {
				t.Errorf("held %d segments, %d bytes", len(r.held), r.heldBytes)
			}
		})
	}
}

// The out-of-order buffer is bounded: past maxHeldSegs segments (or
// maxHeldBytes), the hole before the first is given up on.
func TestReassemblerBounded(t *testing.T) {
	var r reassembler
	var sink recSink
	r.segment(1, []byte("a"), 1, h2.Meta{Frame: 1}, &sink)
	// A hole at 2, then maxHeldSegs+1 one-byte segments after it.
	for i := 0; i <= maxHeldSegs; i++ {
		r.segment(tcp.Seq(3+2*i), []byte("x"), 1, h2.Meta{Frame: 2 + i}, &sink)
	}
	if len(r.held) > maxHeldSegs {
		t.Fatalf("%d segments held, bound %d", len(r.held), maxHeldSegs)
	}
	if got := strings.Join(sink.ops[:3], " "); got != "a@1 gap:1 x@2" {
		t.Errorf("got %s, want the first hole given up on", got)
	}
	// Bytes: one large segment beyond a hole is held up to the bound.
	r = reassembler{}
	sink = recSink{}
	r.segment(1, []byte("a"), 1, h2.Meta{Frame: 1}, &sink)
	big := make([]byte, maxHeldBytes/4)
	for i := 0; i < 5; i++ {
		r.segment(tcp.Seq(3+i*len(big)), big, len(big), h2.Meta{Frame: 2 + i}, &sink)
	}
	if r.heldBytes > maxHeldBytes {
		t.Errorf("%d bytes held, bound %d", r.heldBytes, maxHeldBytes)
	}
	if sink.ops[1] != "gap:1" {
		t.Errorf("ops %v: want the hole given up on", sink.ops[:2])
	}
}

// The reassembler copies what it holds: segment slices are reused.
func TestReassemblerCopies(t *testing.T) {
	var r reassembler
	var sink recSink
	buf := []byte("ab")
	r.segment(1, buf, 2, h2.Meta{Frame: 1}, &sink)
	copy(buf, "ef")
	r.segment(5, buf, 2, h2.Meta{Frame: 2}, &sink)
	copy(buf, "cd")
	r.segment(3, buf, 2, h2.Meta{Frame: 3}, &sink)
	if got := strings.Join(sink.ops, " "); got != "ab@1 cd@3 ef@3" {
		t.Errorf("got %s", got)
	}
}

// TestReassemblerArena: held segments are copied out of the caller's
// buffer (decoders reuse theirs) into arena chunks, across several of
// them, and delivered intact once the hole fills; nothing held, the
// arena is dropped.
func TestReassemblerArena(t *testing.T) {
	var r reassembler
	var got []byte
	sink := &funcSink{fn: func(b []byte) { got = append(got, b...) }}
	const n, size = 3000, 100 // 300 KB: chunks of 4 KB doubling, past arenaMax's first
	buf := make([]byte, size) // reused for every segment, as a decoder's
	var want []byte
	r.segment(1, []byte("a"), 1, h2.Meta{Frame: 1}, sink)
	want = append(want, 'a')
	hole := []byte("hole")
	for i := range n {
		for j := range buf {
			buf[j] = byte(i + j)
		}
		r.segment(tcp.Seq(2+len(hole)+i*size), buf, size, h2.Meta{Frame: 3 + i}, sink)
		clear(buf)
	}
	if len(r.held) != n || r.arena == nil {
		t.Fatalf("held %d segments (want %d), arena %d bytes", len(r.held), n, len(r.arena))
	}
	r.segment(2, hole, len(hole), h2.Meta{Frame: 2}, sink)
	want = append(want, hole...)
	for i := range n {
		for j := range size {
			want = append(want, byte(i+j))
		}
	}
	if string(got) != string(want) {
		t.Errorf("delivered %d bytes, not the %d held", len(got), len(want))
	}
	if len(r.held) != 0 || r.arena != nil || r.heldBytes != 0 {
		t.Errorf("after the hole filled: %d held, %d bytes, arena %v", len(r.held), r.heldBytes, r.arena != nil)
	}
}

// funcSink is a byteSink calling fn with what it delivers.
type funcSink struct{ fn func([]byte) }

func (f *funcSink) data(b []byte, _ h2.Meta) { f.fn(b) }
func (f *funcSink) gap(int)                  {}
