package h2

import "golang.org/x/net/http2/hpack"

// Strings remembers the header string literals decoded lately, by their
// bytes as sent, for the Streams of one goroutine to share
// (Options.Strings). Every connection of a client sends the same ones
// (its user agent, accept-encoding, the server's content-type), each
// Huffman-coded alike, and decoding them again was a twentieth of the
// analysis of a capture of short connections; a lookup is a fraction of
// a decode and makes no new string. The zero value is ready to use; it
// is not safe for concurrent use.
type Strings struct {
	plain, huff map[string]string
}

const (
	// stringsMaxLen is the longest literal (bytes as sent) remembered:
	// the repeated ones are short, and a long one (a token, a cookie)
	// would cost its bytes twice for little.
	stringsMaxLen = 128
	// stringsMax is how many of each kind are remembered before the
	// map is emptied and begins again: at most about 1 MB, and values
	// that change with every request (a date, a path with an ID) cannot
	// grow it.
	stringsMax = 4096
)

// decode returns what raw decodes to, Huffman-coded if huff; ok is
// false for bad Huffman.
func (c *Strings) decode(raw []byte, huff bool) (s string, ok bool) {
	if c == nil || len(raw) > stringsMaxLen {
		return decodeString(raw, huff)
	}
	m := &c.plain
	if huff {
		m = &c.huff
	}
	if s, ok := (*m)[string(raw)]; ok {
		return s, true
	}
	if s, ok = decodeString(raw, huff); !ok {
		return "", false
	}
	if *m == nil {
		*m = make(map[string]string)
	} else if len(*m) >= stringsMax {
		clear(*m)
	}
	(*m)[string(raw)] = s
	return s, true
}

// decodeString is what raw decodes to, Huffman-coded if huff; ok is
// false for bad Huffman.
func decodeString(raw []byte, huff bool) (string, bool) {
	if !huff {
		return string(raw), true
	}
	s, err := hpack.HuffmanDecodeToString(raw)
	return s, err == nil
}
