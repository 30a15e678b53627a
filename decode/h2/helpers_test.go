package h2

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// rec is a copy of what a test checks in a Frame.
type rec struct {
	Type      http2.FrameType
	Flags     http2.Flags
	StreamID  uint32
	Length    uint32
	Offset    int64
	Last      int // Meta.Frame
	First     int // First.Frame
	Truncated bool
	Oversize  bool
	Partial   bool
	Ping      [8]byte
	ErrCode   http2.ErrCode
	Last1     uint32 // GOAWAY last stream
	Debug     string
	Settings  string
	Incr      uint32
	Promise   uint32
	Fields    string
}

func (r rec) String() string {
	return fmt.Sprintf("%v flags=%#x sid=%d len=%d off=%d seg=%d..%d trunc=%v partial=%v fields=%q",
		r.Type, uint8(r.Flags), r.StreamID, r.Length, r.Offset, r.First, r.Last, r.Truncated, r.Partial, r.Fields)
}

func toRec(f *Frame) rec {
	r := rec{Type: f.Type, Flags: f.Flags, StreamID: f.StreamID, Length: f.Length, Offset: f.Offset,
		Last: f.Meta.Frame, First: f.First.Frame, Truncated: f.Truncated, Oversize: f.Oversize, Partial: f.Partial,
		Ping: f.PingData, ErrCode: f.ErrCode, Last1: f.LastStreamID, Debug: string(f.DebugData),
		Incr: f.Increment, Promise: f.PromiseID}
	for _, s := range f.Settings {
		r.Settings += fmt.Sprintf("%v=%d;", s.ID, s.Val)
	}
	for _, hf := range f.Fields {
		r.Fields += hf.Name + "=" + hf.Value + ";"
	}
	return r
}

// collector gathers emitted frames.
type collector struct{ recs []rec }

func (c *collector) emit(f *Frame) { c.recs = append(c.recs, toRec(f)) }

// feed gives s the chunks of b split at cuts (offsets into b), chunk i
// attributed to capture frame i+1.
func feed(s *Stream, b []byte, cuts []int, c *collector) {
	prev := 0
	for i, cut := range append(slices.Clone(cuts), len(b)) {
		if cut < prev {
			continue
		}
		s.Data(b[prev:cut], Meta{Frame: i + 1}, c.emit)
		prev = cut
	}
	s.End(c.emit)
}

// segmentOf returns the 1-based chunk holding byte offset off, for cuts as
// feed uses them.
func segmentOf(off int, cuts []int) int {
	for i, c := range cuts {
		if off < c {
			return i + 1
		}
	}
	return len(cuts) + 1
}

// writer builds a synthetic stream with http2.Framer and hpack.Encoder.
type writer struct {
	buf bytes.Buffer
	fr  *http2.Framer
	hb  bytes.Buffer
	enc *hpack.Encoder
}

func newWriter() *writer {
	w := &writer{}
	w.fr = http2.NewFramer(&w.buf, nil)
	w.fr.AllowIllegalWrites = true
	w.enc = hpack.NewEncoder(&w.hb)
	return w
}

// block HPACK-encodes fields "name", "value", ...
func (w *writer) block(kv ...string) []byte {
	w.hb.Reset()
	for i := 0; i+1 < len(kv); i += 2 {
		w.enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	return bytes.Clone(w.hb.Bytes())
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// headerRecs walks b's frame headers with http2.ReadFrameHeader: the
// oracle for what a Stream in step must emit.
func headerRecs(t testing.TB, b []byte) []rec {
	t.Helper()
	r := bytes.NewReader(b)
	var out []rec
	for off := int64(0); r.Len() > 0; {
		h, err := http2.ReadFrameHeader(r)
		if err != nil {
			t.Fatalf("ReadFrameHeader at %d: %v", off, err)
		}
		if _, err := r.Seek(int64(h.Length), io.SeekCurrent); err != nil {
			t.Fatal(err)
		}
		out = append(out, rec{Type: h.Type, Flags: h.Flags, StreamID: h.StreamID, Length: h.Length, Offset: off})
		off += 9 + int64(h.Length)
	}
	return out
}
