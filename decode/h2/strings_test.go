package h2

import (
	"math/rand/v2"
	"strings"
	"testing"

	"golang.org/x/net/http2/hpack"
)

// TestStrings: a cached string is the string decoded, plain or Huffman,
// whether looked up or decoded; a long literal and bad Huffman are not
// kept; a full cache begins again rather than growing.
func TestStrings(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var c Strings
	var words []string
	for range 300 {
		n := r.IntN(2 * stringsMaxLen)
		var b strings.Builder
		for range n {
			b.WriteByte(byte(' ' + r.IntN(95)))
		}
		words = append(words, b.String())
	}
	for round := range 3 {
		for _, w := range words {
			for _, huff := range []bool{false, true} {
				raw := []byte(w)
				if huff {
					raw = hpack.AppendHuffmanString(nil, w)
				}
				got, ok := c.decode(raw, huff)
				if !ok || got != w {
					t.Fatalf("round %d, huff %v: %q decoded to %q (ok %v)", round, huff, w, got, ok)
				}
				_, kept := c.plain[string(raw)]
				if huff {
					_, kept = c.huff[string(raw)]
				}
				if kept != (len(raw) <= stringsMaxLen) {
					t.Fatalf("%d bytes as sent: kept %v", len(raw), kept)
				}
			}
		}
	}
	// A Huffman string padded with something other than EOS's ones.
	bad := []byte{0x00}
	if _, ok := c.decode(bad, true); ok {
		t.Fatal("bad Huffman decoded")
	}
	if _, kept := c.huff[string(bad)]; kept {
		t.Fatal("bad Huffman kept")
	}
	for i := range 3 * stringsMax {
		w := strings.Repeat("x", i%7) + string(rune('a'+i%26)) + strings.Repeat("y", i/26%50)
		if got, ok := c.decode([]byte(w), false); !ok || got != w {
			t.Fatalf("%q decoded to %q", w, got)
		}
		if len(c.plain) > stringsMax {
			t.Fatalf("%d strings kept, at most %d", len(c.plain), stringsMax)
		}
	}
	var none *Strings
	if got, ok := none.decode(hpack.AppendHuffmanString(nil, "gzip"), true); !ok || got != "gzip" {
		t.Fatalf("without a cache: %q %v", got, ok)
	}
}
