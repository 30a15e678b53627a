package jsonrow

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	fastjson "github.com/goccy/go-json"

	"github.com/h2pcap/h2pcap/model"
)

//go:generate go run ./gen

// row encodes c as Encode does, into b: by row_gen.go's functions.
func (e *Encoder) row(b []byte, c *model.Connection) ([]byte, error) {
	e.err = nil
	b = e.model_Connection0(b, c)
	if e.err != nil {
		return nil, e.err
	}
	return b, nil
}

// appendInt appends n in decimal: most of a row's counters are 0, and a
// digit alone needs no conversion.
func appendInt(b []byte, n int64) []byte {
	if uint64(n) < 10 {
		return append(b, byte('0'+n))
	}
	return strconv.AppendInt(b, n, 10)
}

// appendUint appends n in decimal.
func appendUint(b []byte, n uint64) []byte {
	if n < 10 {
		return append(b, byte('0'+n))
	}
	return strconv.AppendUint(b, n, 10)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

// appendString appends s quoted as encoding/json quotes a string (its
// default, HTML-safe escaping): <, > and & escaped, invalid UTF-8 as
// U+FFFD, U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// 8 bytes at a time while all are ASCII written as themselves
		// (a verdict's text is most of a failed attempt's row): a
		// byte's high bit is set in bad where the byte is below 0x20,
		// or 0x80 and above, or one of the five others escaped ((x -
		// ones) &^ x has it where x's byte is 0; '"' and '&', '<' and
		// '>' differ in one bit each, tested as a pair with that bit
		// cleared). Only a zero byte's borrow can mark bytes above it,
		// so the lowest byte marked is the first to look at: the
		// bytes below it are skipped at once.
		for ; i+8 <= len(s); i += 8 {
			t := s[i : i+8]
			w := uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
				uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
			qa, bs, lg := (w^(ones*'"'))&^(ones*('"'^'&')), w^(ones*'\\'), (w^(ones*'<'))&^(ones*('<'^'>'))
			bad := ((w-ones*0x20)&^w | w | (qa-ones)&^qa | (bs-ones)&^bs | (lg-ones)&^lg) & (ones * 0x80)
			if bad != 0 {
				i += bits.TrailingZeros64(bad) / 8
				break
			}
		}
		if i == len(s) {
			break
		}
		if c := s[i]; c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const hex = "0123456789abcdef"

// ones has a 1 in each byte of a word.
const ones = 0x0101010101010101

// safe[c] says ASCII c is written as itself inside a string.
var safe = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// float appends f as encoding/json writes a float64.
func (e *Encoder) float(b []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		if e.err == nil {
			e.err = fmt.Errorf("json: unsupported value: %s", strconv.FormatFloat(f, 'g', -1, 64))
		}
		return append(b, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 as e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// time appends t as its MarshalJSON writes it. A UTC time (every
// packet's: the decoders make them so) is its second's text, made once
// for the times of the same second that follow (a row's start, events
// and last frames are mostly one second's), then its fraction: the
// general formatting took a sixth of a row's encoding.
func (e *Encoder) time(b []byte, t time.Time) []byte {
	if t.Location() != time.UTC {
		if y := t.Year(); y < 0 || y > 9999 {
			return e.other(b, t, 0)
		}
		b = append(b, '"')
		b = t.AppendFormat(b, time.RFC3339Nano)
		return append(b, '"')
	}
	if sec := t.Unix(); !e.secKnown || sec != e.sec {
		if y := t.Year(); y < 0 || y > 9999 {
			return e.other(b, t, 0)
		}
		e.secText = t.AppendFormat(e.secText[:0], `"2006-01-02T15:04:05`)
		e.sec, e.secKnown = sec, true
	}
	b = append(b, e.secText...)
	if ns := t.Nanosecond(); ns != 0 {
		// RFC3339Nano's ".999999999": nine digits, trailing zeros cut.
		var f [10]byte
		f[0] = '.'
		for i := 9; i > 0; i-- {
			f[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for f[n-1] == '0' {
			n--
		}
		b = append(b, f[:n]...)
	}
	return append(b, 'Z', '"')
}

// other appends v, at depth d, as goccy/go-json encodes it: for a value
// with its own MarshalJSON or MarshalText.
func (e *Encoder) other(b []byte, v any, d int) []byte {
	out, err := fastjson.MarshalIndent(v, indentOf(d), "  ")
	if err != nil {
		if e.err == nil {
			e.err = err
		}
		return append(b, "null"...)
	}
	return append(b, out...)
}

// indentOf is the prefix of a line at depth d of a row.
func indentOf(d int) string { return strings.Repeat(" ", 4+2*d) }

// directionKeys appends m's keys to dst in the order encoding/json
// writes them: by their text.
func directionKeys[V any](m map[model.Direction]V, dst []model.Direction) []model.Direction {
	// The two directions, in their text's order, are all a map holds.
	if _, ok := m[model.ClientToServer]; ok {
		dst = append(dst, model.ClientToServer)
	}
	if _, ok := m[model.ServerToClient]; ok {
		dst = append(dst, model.ServerToClient)
	}
	if len(dst) == len(m) {
		return dst
	}
	dst = dst[:0]
	for k := range m {
		dst = append(dst, k)
	}
	slices.SortFunc(dst, func(a, b model.Direction) int {
		return cmp.Or(cmp.Compare(a.String(), b.String()), cmp.Compare(a, b))
	})
	return dst
}

// stringKeys appends m's keys to dst, sorted.
func stringKeys[K ~string, V any](m map[K]V, dst []K) []K {
	for k := range m {
		dst = append(dst, k)
	}
	slices.Sort(dst)
	return dst
}
