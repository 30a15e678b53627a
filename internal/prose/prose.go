package prose

import (
	"strconv"
	"time"
)

// Duration writes d for a sentence: hours, minutes or seconds at the
// precision a reader needs for each ("1.5 h", "12 min", "45 s", "2.0 s"),
// milliseconds below a second. strconv, not fmt: a JSON report of a
// million failed attempts words one or two durations in each verdict.
func Duration(d time.Duration) string {
	switch {
	case d >= 2*time.Hour:
		return fixed(d.Hours(), 1, " h")
	case d >= 2*time.Minute:
		return fixed(d.Minutes(), 0, " min")
	case d >= 10*time.Second:
		return fixed(d.Seconds(), 0, " s")
	case d >= time.Second:
		return fixed(d.Seconds(), 1, " s")
	}
	return fixed(float64(d)/float64(time.Millisecond), 0, " ms")
}

// fixed is x with prec decimals, as fmt's %.<prec>f writes it, then unit.
func fixed(x float64, prec int, unit string) string {
	var b [32]byte
	return string(append(strconv.AppendFloat(b[:0], x, 'f', prec, 64), unit...))
}
