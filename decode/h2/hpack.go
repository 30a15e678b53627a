package h2

import (
	"errors"

	"golang.org/x/net/http2/hpack"
)

// Why not hpack.Decoder: it stops a header block at the first field it
// cannot decode, and a passive observer meets such fields as a matter of
// course: a connection captured from its middle refers to dynamic table
// entries added before the capture began. Stopping there also skips the
// insertions later in the block, after which every dynamic index is off by
// some amount and later blocks decode to wrong values without an error. The
// decoder here goes on past an unknown reference, inserts a placeholder for
// an entry whose name it does not know, so that indices stay aligned, and
// reports the block as partial. It uses hpack's Huffman decoder and
// HeaderField type, and is checked against hpack.Encoder and hpack.Decoder
// in the tests.

// keptField reports whether a header field is one the analysis uses; other
// fields are decoded only as far as the dynamic table needs them.
func keptField(name string) bool {
	switch name {
	case ":method", ":path", ":authority", ":status", ":scheme",
		"grpc-status", "grpc-message", "content-type":
		return true
	}
	return false
}

const (
	// maxTableSize bounds the dynamic table we keep. Keeping more than the
	// encoder does is harmless: indices count from the newest entry, and
	// the encoder never refers past its own table. So the table is not
	// shrunk to what the peer's SETTINGS_HEADER_TABLE_SIZE or the table
	// size updates say, which we may have missed.
	maxTableSize = 64 << 10
	// maxKeptFields bounds Frame.Fields for one header block.
	maxKeptFields = 16
	// maxStringLen bounds one decoded string literal; a longer one is
	// skipped and its field counted missing.
	maxStringLen = 16 << 10
)

var errHpackTruncated = errors.New("hpack: truncated field")

type tableEntry struct {
	name, value string
	known       bool // false: a placeholder whose name we never saw
	size        uint32
}

// hpackState is one direction's HPACK decoding context.
type hpackState struct {
	ents []tableEntry // oldest first
	size uint32
	strs *Strings // Options.Strings; nil: every string decoded
}

// forget drops the table once it can no longer be trusted (a gap in a
// header block, a block that began before the capture): we no longer know
// how many entries were added, so no index can be resolved. A reference past
// the entries we have is then reported missing, as it is when the capture
// began mid-connection.
func (t *hpackState) forget() {
	clear(t.ents)
	t.ents = t.ents[:0]
	t.size = 0
}

func (t *hpackState) lookup(idx uint64) (hf hpack.HeaderField, ok bool) {
	if idx == 0 {
		return hf, false
	}
	if idx <= uint64(len(staticTable)) {
		return staticTable[idx-1], true
	}
	d := idx - uint64(len(staticTable)) - 1
	if d >= uint64(len(t.ents)) {
		return hf, false
	}
	e := &t.ents[len(t.ents)-1-int(d)]
	return hpack.HeaderField{Name: e.name, Value: e.value}, e.known
}

func (t *hpackState) insert(name, value string, known bool) {
	size := uint32(len(name)+len(value)) + 32
	if size > maxTableSize {
		t.ents = t.ents[:0]
		t.size = 0
		return
	}
	for t.size+size > maxTableSize && len(t.ents) > 0 {
		t.size -= t.ents[0].size
		t.ents[0] = tableEntry{}
		t.ents = t.ents[1:]
	}
	t.ents = append(t.ents, tableEntry{name: name, value: value, known: known, size: size})
	t.size += size
}

// decodeBlock decodes the header fields in p, a fragment of a header block,
// appending kept ones to *fields. It returns how many bytes it used: a
// field that continues in the next fragment is left for the next call.
// missing counts fields that could not be decoded. An error means the rest
// of the block cannot be parsed.
func (t *hpackState) decodeBlock(p []byte, fields *[]hpack.HeaderField) (used int, missing int, err error) {
	for used < len(p) {
		n, miss, err := t.decodeField(p[used:], fields)
		if err == errHpackTruncated {
			return used, missing, nil
		}
		if err != nil {
			return used, missing, err
		}
		used += n
		missing += miss
	}
	return used, missing, nil
}

var errHpackBad = errors.New("hpack: invalid field representation")

func (t *hpackState) decodeField(p []byte, fields *[]hpack.HeaderField) (n int, missing int, err error) {
	b := p[0]
	switch {
	case b&0x80 != 0: // indexed field
		idx, n, err := readVarInt(7, p)
		if err != nil {
			return 0, 0, err
		}
		if idx == 0 {
			return 0, 0, errHpackBad
		}
		hf, ok := t.lookup(idx)
		if !ok {
			return n, 1, nil
		}
		keep(fields, hf)
		return n, 0, nil
	case b&0xe0 == 0x20: // dynamic table size update: see maxTableSize
		_, n, err := readVarInt(5, p)
		return n, 0, err
	}
	var prefix uint8
	index := false
	switch {
	case b&0xc0 == 0x40:
		prefix, index = 6, true
	default: // 0000xxxx without indexing, 0001xxxx never indexed
		prefix = 4
	}
	idx, n, err := readVarInt(prefix, p)
	if err != nil {
		return 0, 0, err
	}
	var name string
	nameKnown := true
	if idx == 0 {
		s, m, ok, err := t.readString(p[n:], true)
		if err != nil {
			return 0, 0, err
		}
		n += m
		name, nameKnown = s, ok
	} else {
		hf, ok := t.lookup(idx)
		name, nameKnown = hf.Name, ok
	}
	want := index || (nameKnown && keptField(name))
	value, m, valueKnown, err := t.readString(p[n:], want)
	if err != nil {
		return 0, 0, err
	}
	n += m
	if index {
		t.insert(name, value, nameKnown && valueKnown)
	}
	if !nameKnown || (want && !valueKnown) {
		return n, 1, nil
	}
	if keptField(name) {
		keep(fields, hpack.HeaderField{Name: name, Value: value})
	}
	return n, 0, nil
}

func keep(fields *[]hpack.HeaderField, hf hpack.HeaderField) {
	if !keptField(hf.Name) || len(*fields) >= maxKeptFields {
		return
	}
	*fields = append(*fields, hf)
}

// readVarInt reads an HPACK integer with an n-bit prefix (RFC 7541, 5.1).
func readVarInt(n uint8, p []byte) (v uint64, used int, err error) {
	if len(p) == 0 {
		return 0, 0, errHpackTruncated
	}
	mask := uint64(1)<<n - 1
	v = uint64(p[0]) & mask
	if v < mask {
		return v, 1, nil
	}
	var m uint
	for i := 1; i < len(p); i++ {
		b := p[i]
		v += uint64(b&0x7f) << m
		if b&0x80 == 0 {
			return v, i + 1, nil
		}
		m += 7
		if m >= 63 {
			return 0, 0, errHpackBad
		}
	}
	return 0, 0, errHpackTruncated
}

// readString reads a string literal (RFC 7541, 5.2). It decodes the string
// only if want is set; ok is false if it was not decoded, too long, or bad
// Huffman.
func (t *hpackState) readString(p []byte, want bool) (s string, used int, ok bool, err error) {
	if len(p) == 0 {
		return "", 0, false, errHpackTruncated
	}
	huff := p[0]&0x80 != 0
	l, n, err := readVarInt(7, p)
	if err != nil {
		return "", 0, false, err
	}
	if l > uint64(len(p)-n) {
		if l > maxMaxFrameSize {
			return "", 0, false, errHpackBad
		}
		return "", 0, false, errHpackTruncated
	}
	raw := p[n : n+int(l)]
	used = n + int(l)
	if !want || l > maxStringLen {
		return "", used, false, nil
	}
	s, ok = t.strs.decode(raw, huff)
	return s, used, ok, nil
}

// staticTable is RFC 7541 Appendix A; hpack does not export its copy.
var staticTable = [...]hpack.HeaderField{
	{Name: ":authority"},
	{Name: ":method", Value: "GET"},
	{Name: ":method", Value: "POST"},
	{Name: ":path", Value: "/"},
	{Name: ":path", Value: "/index.html"},
	{Name: ":scheme", Value: "http"},
	{Name: ":scheme", Value: "https"},
	{Name: ":status", Value: "200"},
	{Name: ":status", Value: "204"},
	{Name: ":status", Value: "206"},
	{Name: ":status", Value: "304"},
	{Name: ":status", Value: "400"},
	{Name: ":status", Value: "404"},
	{Name: ":status", Value: "500"},
	{Name: "accept-charset"},
	{Name: "accept-encoding", Value: "gzip, deflate"},
	{Name: "accept-language"},
	{Name: "accept-ranges"},
	{Name: "accept"},
	{Name: "access-control-allow-origin"},
	{Name: "age"},
	{Name: "allow"},
	{Name: "authorization"},
	{Name: "cache-control"},
	{Name: "content-disposition"},
	{Name: "content-encoding"},
	{Name: "content-language"},
	{Name: "content-length"},
	{Name: "content-location"},
	{Name: "content-range"},
	{Name: "content-type"},
	{Name: "cookie"},
	{Name: "date"},
	{Name: "etag"},
	{Name: "expect"},
	{Name: "expires"},
	{Name: "from"},
	{Name: "host"},
	{Name: "if-match"},
	{Name: "if-modified-since"},
	{Name: "if-none-match"},
	{Name: "if-range"},
	{Name: "if-unmodified-since"},
	{Name: "last-modified"},
	{Name: "link"},
	{Name: "location"},
	{Name: "max-forwards"},
	{Name: "proxy-authenticate"},
	{Name: "proxy-authorization"},
	{Name: "range"},
	{Name: "referer"},
	{Name: "refresh"},
	{Name: "retry-after"},
	{Name: "server"},
	{Name: "set-cookie"},
	{Name: "strict-transport-security"},
	{Name: "transfer-encoding"},
	{Name: "user-agent"},
	{Name: "vary"},
	{Name: "via"},
	{Name: "www-authenticate"},
}
