package h2

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

func TestStaticTable(t *testing.T) {
	for i := 1; i <= len(staticTable); i++ {
		var got []hpack.HeaderField
		d := hpack.NewDecoder(4096, func(f hpack.HeaderField) { got = append(got, f) })
		if _, err := d.Write([]byte{0x80 | byte(i)}); err != nil || len(got) != 1 {
			t.Fatalf("index %d: %v", i, err)
		}
		if got[0].Name != staticTable[i-1].Name || got[0].Value != staticTable[i-1].Value {
			t.Errorf("index %d: hpack has %v, we have %v", i, got[0], staticTable[i-1])
		}
	}
}

// randomBlocks encodes n random header lists, and returns each block with
// the kept fields hpack.Decoder finds in it.
func randomBlocks(t testing.TB, r *rand.Rand, n int) (blocks [][]byte, truth [][]hpack.HeaderField) {
	names := []string{":method", ":path", ":authority", ":status", ":scheme", "grpc-status", "grpc-message",
		"content-type", "user-agent", "x-trace", "accept", "te", "cookie"}
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	dec := hpack.NewDecoder(4096, nil)
	for range n {
		buf.Reset()
		if r.IntN(10) == 0 {
			enc.SetMaxDynamicTableSize(uint32(r.IntN(4097)))
		}
		for range 1 + r.IntN(8) {
			v := fmt.Sprintf("v%d", r.IntN(20))
			if r.IntN(4) == 0 {
				v += string(bytes.Repeat([]byte{byte('a' + r.IntN(26))}, r.IntN(300)))
			}
			enc.WriteField(hpack.HeaderField{Name: names[r.IntN(len(names))], Value: v, Sensitive: r.IntN(8) == 0})
		}
		fields, err := dec.DecodeFull(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		var kept []hpack.HeaderField
		for _, f := range fields {
			if keptField(f.Name) && len(kept) < maxKeptFields {
				kept = append(kept, hpack.HeaderField{Name: f.Name, Value: f.Value})
			}
		}
		blocks = append(blocks, bytes.Clone(buf.Bytes()))
		truth = append(truth, kept)
	}
	return blocks, truth
}

// TestHPACK decodes random blocks from the first, whole and in pieces,
// then from every later block with the table unknown: what is decoded
// must be right, and what is not must be reported missing. The same with
// the strings looked up in a cache (Options.Strings) that every decoder
// shares, as an analysis's do.
func TestHPACK(t *testing.T) {
	t.Run("decoded", func(t *testing.T) { testHPACK(t, nil) })
	t.Run("cached", func(t *testing.T) { testHPACK(t, new(Strings)) })
}

func testHPACK(t *testing.T, strs *Strings) {
	r := rand.New(rand.NewPCG(3, 4))
	blocks, truth := randomBlocks(t, r, 300)
	for _, split := range []bool{false, true} {
		hp := hpackState{strs: strs}
		for i, b := range blocks {
			var fields []hpack.HeaderField
			var missing int
			if split {
				// As CONTINUATIONs: fields cut anywhere.
				var carry []byte
				for len(b) > 0 {
					k := 1 + r.IntN(len(b))
					p := append(carry, b[:k]...)
					b = b[k:]
					used, m, err := hp.decodeBlock(p, &fields)
					if err != nil {
						t.Fatal(err)
					}
					missing += m
					carry = bytes.Clone(p[used:])
				}
				if len(carry) > 0 {
					t.Fatalf("block %d: %d bytes left", i, len(carry))
				}
			} else {
				used, m, err := hp.decodeBlock(b, &fields)
				if err != nil || used != len(b) {
					t.Fatalf("block %d: used %d of %d: %v", i, used, len(b), err)
				}
				missing = m
			}
			if missing != 0 || fmt.Sprint(fields) != fmt.Sprint(truth[i]) {
				t.Fatalf("split=%v block %d: got %v (missing %d), want %v", split, i, fields, missing, truth[i])
			}
		}
	}
	partial := 0
	for start := 1; start < len(blocks); start += 7 {
		hp := hpackState{strs: strs}
		for i := start; i < len(blocks); i++ {
			var fields []hpack.HeaderField
			_, missing, err := hp.decodeBlock(blocks[i], &fields)
			if err != nil {
				t.Fatal(err)
			}
			// fields must be truth[i] with some left out.
			j := 0
			for _, f := range fields {
				for j < len(truth[i]) && truth[i][j] != f {
					j++
				}
				if j == len(truth[i]) {
					t.Fatalf("from %d, block %d: %v not in %v", start, i, f, truth[i])
				}
				j++
			}
			if len(fields) < len(truth[i]) && missing == 0 {
				t.Fatalf("from %d, block %d: got %v, want %v, none missing", start, i, fields, truth[i])
			}
			if missing > 0 {
				partial++
			}
		}
	}
	if partial == 0 {
		t.Error("no block was partial starting mid-connection")
	}
}

// TestPartialBlocks: a header block begun before the capture, and one cut
// by a gap, are Partial, and the table is not trusted after them.
func TestPartialBlocks(t *testing.T) {
	w := newWriter()
	must(t, w.fr.WriteSettings())
	must(t, w.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, BlockFragment: w.block(":method", "GET", ":path", "/a", ":authority", "example.com")}))
	blk := w.block(":method", "GET", ":path", "/b", ":authority", "example.com", "x-long", string(bytes.Repeat([]byte("x"), 3000)))
	must(t, w.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: blk[:5]}))
	cont := w.buf.Len()
	must(t, w.fr.WriteContinuation(3, false, blk[5:2000]))
	must(t, w.fr.WriteContinuation(3, true, blk[2000:]))
	must(t, w.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 5, EndHeaders: true, BlockFragment: w.block(":method", "GET", ":path", "/a", ":authority", "example.com")}))
	must(t, w.fr.WritePing(false, [8]byte{}))
	body := w.buf.Bytes()

	// Whole: nothing partial; the last block refers to the first's entries.
	var c collector
	feed(NewStream(Options{Sync: true}), body, nil, &c)
	if got := c.recs[5].Fields; c.recs[5].Partial || got != ":method=GET;:path=/a;:authority=example.com;" {
		t.Errorf("whole: %v", c.recs[5])
	}
	// From the first CONTINUATION: that block is partial, and so is the
	// last one, whose :path and :authority come from the dynamic table.
	c = collector{}
	feed(NewStream(Options{}), body[cont:], nil, &c)
	if len(c.recs) != 4 || !c.recs[1].Partial || !c.recs[2].Partial || c.recs[2].Fields != ":method=GET;" {
		for _, r := range c.recs {
			t.Log(r)
		}
		t.Errorf("mid-block start wrong")
	}
	// A gap inside the second CONTINUATION.
	c = collector{}
	s := NewStream(Options{Sync: true})
	s.Data(body[:cont+500], Meta{Frame: 1}, c.emit)
	s.Gap(10, c.emit)
	s.Data(body[cont+510:], Meta{Frame: 2}, c.emit)
	// The truncated CONTINUATION is not decoded; what the HEADERS held is.
	if len(c.recs) != 7 || !c.recs[3].Truncated || !c.recs[4].Partial || c.recs[4].Fields != ":method=GET;:path=/b;" || !c.recs[5].Partial {
		for _, r := range c.recs {
			t.Log(r)
		}
		t.Errorf("gap in block wrong")
	}
}
