// Package jsonrow encodes the report's connection rows as the JSON report
// writes them (indented by four spaces under "connections"), into one
// buffer reused from row to row: a million rows cost their bytes written,
// not a million buffers (goccy/go-json's MarshalIndent copies each
// result into a new slice).
package jsonrow

import (
	"bytes"

	fastjson "github.com/goccy/go-json"
)

// Encoder encodes rows. It is not safe for concurrent use.
type Encoder struct {
	buf bytes.Buffer
	enc *fastjson.Encoder
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
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		return nil, err
	}
	b := e.buf.Bytes()
	return b[:len(b)-1], nil // Encode ends the value with a newline
}
