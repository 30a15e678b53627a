package jsonrow

import (
	"bytes"

	fastjson "github.com/goccy/go-json"

	"github.com/h2pcap/h2pcap/model"
)

// Encoder encodes rows. It is not safe for concurrent use.
type Encoder struct {
	buf  bytes.Buffer
	enc  *fastjson.Encoder
	rows []byte // the buffer a row is encoded into, kept for the next
	err  error  // the first error of the row being encoded
	// secText is the text of the UTC second sec (its opening quote,
	// date and time of day), for the times of that second (Encoder.time).
	secText  []byte
	sec      int64
	secKnown bool
}

// New returns an Encoder.
func New() *Encoder {
	e := &Encoder{}
	e.enc = fastjson.NewEncoder(&e.buf)
	e.enc.SetIndent("    ", "  ")
	return e
}

// Encode returns v encoded as fastjson.MarshalIndent(v, "    ", "  ")
// would: the same bytes, valid until the next call.
func (e *Encoder) Encode(v any) ([]byte, error) {
	if c, ok := v.(*model.Connection); ok && c != nil {
		b, err := e.row(e.rows[:0], c)
		if err != nil {
			return nil, err
		}
		e.rows = b
		return b, nil
	}
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		return nil, err
	}
	b := e.buf.Bytes()
	return b[:len(b)-1], nil // Encode ends the value with a newline
}

// AppendRow appends c encoded as Encode encodes it to dst: a caller that
// gathers rows in a buffer of its own (the JSON report's spill file)
// has them written there, not copied there from the Encoder's. On an
// error dst is returned as it was.
func (e *Encoder) AppendRow(dst []byte, c *model.Connection) ([]byte, error) {
	n := len(dst)
	b, err := e.row(dst, c)
	if err != nil {
		return dst[:n], err
	}
	return b, nil
}
