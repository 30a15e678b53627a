package jsonrow

import (
	"bytes"
	"fmt"

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
	// bare is the length of an empty row's encoding, points is the
	// buffer AppendPoints encodes its template row into (AppendPoints).
	bare   int
	points []byte
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

// rowEnd is how every row's encoding ends: the closing brace of an
// object at the report's depth of rows.
const rowEnd = "\n    }"

// AppendPoints appends to dst row, a connection's row as Encode wrote it
// without point, points, placement or stopped (the last fields of
// model.Connection: a healthy row spilled before a multi-point Place),
// with point and points added: the bytes Encode writes for that row with
// Point and Points set. The other fields are row's own bytes, not decoded
// and encoded again (the spilled rows of four points of 50,000
// connections spent a second of six in goccy's decoder and the encoder).
// The members are cut from the encoding of an empty row with them, so
// they are the generated code's, whatever it writes.
func (e *Encoder) AppendPoints(dst, row []byte, point string, points map[string]model.ConnPoint) ([]byte, error) {
	if !bytes.HasSuffix(row, []byte(rowEnd)) {
		return dst, fmt.Errorf("jsonrow: a row that does not end as a row does")
	}
	if len(points) == 0 && point == "" {
		return append(dst, row...), nil
	}
	if e.bare == 0 {
		b, err := e.row(e.points[:0], &model.Connection{})
		if err != nil {
			return dst, err
		}
		e.bare, e.points = len(b), b
	}
	b, err := e.row(e.points[:0], &model.Connection{Point: point, Points: points})
	if err != nil {
		return dst, err
	}
	e.points = b
	dst = append(dst, row[:len(row)-len(rowEnd)]...)
	dst = append(dst, b[e.bare-len(rowEnd):]...)
	return dst, nil
}
