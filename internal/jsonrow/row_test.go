package jsonrow

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	fastjson "github.com/goccy/go-json"

	"github.com/h2pcap/h2pcap/model"
)

// TestRowAsMarshalIndent fills rows at random, every field of every type
// a row holds (nil, empty and full slices, maps and pointers; strings
// with quotes, HTML, control characters, invalid UTF-8 and line
// separators; floats small and large), and checks that the generated
// encoder writes each as goccy/go-json's MarshalIndent and
// encoding/json's do.
func TestRowAsMarshalIndent(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	e := New()
	for i := range 2000 {
		var c model.Connection
		fill(reflect.ValueOf(&c).Elem(), rnd, 0)
		got, err := e.Encode(&c)
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		want, err := fastjson.MarshalIndent(&c, "    ", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("row %d differs from goccy/go-json's:\n%s", i, firstDiff(got, want))
		}
		std, err := json.MarshalIndent(&c, "    ", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, std) {
			t.Fatalf("row %d differs from encoding/json's:\n%s", i, firstDiff(got, std))
		}
		prefix := []byte(strconv.Itoa(i))
		app, err := e.AppendRow(prefix, &c)
		if err != nil || !bytes.Equal(app, append(prefix, want...)) {
			t.Fatalf("row %d appended: %v\n%s", i, err, firstDiff(app, append(prefix, want...)))
		}
	}
}

// TestRowErrors: what JSON cannot hold (a NaN, a year past 9999) fails
// the row, as it fails encoding/json's, and the next row is whole.
func TestRowErrors(t *testing.T) {
	nan := math.NaN()
	for name, c := range map[string]*model.Connection{
		"NaN":        {IRTTms: &nan},
		"year 10000": {Start: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if _, err := json.Marshal(c); err == nil {
			t.Fatalf("%s: encoding/json encodes it now: the encoder should too", name)
		}
		e := New()
		if _, err := e.Encode(c); err == nil {
			t.Errorf("%s: encoded without an error", name)
		}
		before := []byte("rows before,")
		if got, err := e.AppendRow(before, c); err == nil || string(got) != "rows before," {
			t.Errorf("%s: appended %q, error %v; want what was there and an error", name, got, err)
		}
		ok := &model.Connection{Stream: 1}
		got, err := e.Encode(ok)
		want, _ := json.MarshalIndent(ok, "    ", "  ")
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: the next row: %v\n%s", name, err, got)
		}
	}
}

// TestTimeAsMarshalJSON: times as time.Time's MarshalJSON writes them,
// runs of one second's (the second's text reused) among others, UTC or
// not, whole seconds, fractions with zeros at either end, years at the
// ends of the range and past it.
func TestTimeAsMarshalJSON(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	base := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	times := []time.Time{{}, time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(0, 1, 1, 0, 0, 0, 1, time.UTC),
		base, base.Add(100 * time.Millisecond), base.Add(time.Microsecond), base.Add(10), base.Add(time.Second - 1),
		base.In(time.FixedZone("", -7*3600)), base.Add(time.Second), base.Add(-time.Nanosecond),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), base, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), base.Add(5e8)}
	for range 5000 {
		tm := base.Add(time.Duration(rnd.Int64N(int64(5 * time.Second))))
		switch rnd.IntN(4) {
		case 0:
			tm = tm.Truncate(time.Millisecond)
		case 1:
			tm = tm.In(time.FixedZone("", 3600*rnd.IntN(12)))
		}
		times = append(times, tm)
	}
	e := New()
	for i, tm := range times {
		e.err = nil
		got := e.time(nil, tm)
		want, err := tm.MarshalJSON()
		if (err != nil) != (e.err != nil) || err == nil && !bytes.Equal(got, want) {
			t.Fatalf("time %d (%v): %s, error %v; want %s, error %v", i, tm, got, e.err, want, err)
		}
	}
}

func firstDiff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	lo := max(i-200, 0)
	return "got:  ..." + string(got[lo:min(i+100, len(got))]) + "\nwant: ..." + string(want[lo:min(i+100, len(want))])
}

var strs = []string{"", "a", "client_to_server", `q"uote\back`, "<b>&amp;</b>", "tab\tnl\ncr\r\b\f\x00\x1f\x7f",
	"é ü 日本", "\xff\xfe bad", "\u2028\u2029", "GOAWAY", "x\xc3", "🙂"}

// fill sets v, and all it holds, at random.
func fill(v reflect.Value, rnd *rand.Rand, depth int) {
	if v.Type() == reflect.TypeFor[time.Time]() {
		ns := rnd.Int64N(4e18)
		if rnd.IntN(3) == 0 {
			ns = ns / 1e9 * 1e9 // whole seconds
		}
		tm := time.Unix(0, ns).UTC()
		if rnd.IntN(4) == 0 {
			tm = tm.In(time.FixedZone("", 3600*rnd.IntN(12)))
		}
		v.Set(reflect.ValueOf(tm))
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(rnd.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		switch rnd.IntN(3) {
		case 0:
			v.SetInt(0)
		case 1:
			v.SetInt(rnd.Int64N(100) - 10)
		default:
			v.SetInt(rnd.Int64() >> (64 - v.Type().Bits()))
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if rnd.IntN(3) > 0 {
			v.SetUint(rnd.Uint64() >> (64 - v.Type().Bits()))
		}
	case reflect.Float32, reflect.Float64:
		fs := []float64{0, 0.1, 1, -2.5, 1e-7, 1.5e-9, 1e21, 123456789.125, 1e20, 3.0000001, 0.000001}
		v.SetFloat(fs[rnd.IntN(len(fs))] * float64(1+rnd.IntN(3)))
	case reflect.String:
		v.SetString(strs[rnd.IntN(len(strs))])
	case reflect.Pointer:
		if rnd.IntN(3) > 0 && depth < 6 {
			p := reflect.New(v.Type().Elem())
			fill(p.Elem(), rnd, depth+1)
			v.Set(p)
		}
	case reflect.Slice:
		switch n := rnd.IntN(4); {
		case n == 0 || depth >= 6:
		default:
			s := reflect.MakeSlice(v.Type(), n-1, n-1)
			for i := range n - 1 {
				fill(s.Index(i), rnd, depth+1)
			}
			v.Set(s)
		}
	case reflect.Array:
		for i := range v.Len() {
			fill(v.Index(i), rnd, depth+1)
		}
	case reflect.Map:
		switch n := rnd.IntN(4); {
		case n == 0 || depth >= 6:
		default:
			m := reflect.MakeMap(v.Type())
			for range n - 1 {
				k := reflect.New(v.Type().Key()).Elem()
				fill(k, rnd, depth+1)
				if k.Kind() == reflect.Int {
					k.SetInt(int64(rnd.IntN(2))) // a Direction
				}
				x := reflect.New(v.Type().Elem()).Elem()
				fill(x, rnd, depth+1)
				m.SetMapIndex(k, x)
			}
			v.Set(m)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), rnd, depth+1)
			}
		}
	}
}

// TestAppendStringAsEncodingJSON: strings long enough to be scanned 8
// bytes at a time, with a byte to escape anywhere in them, quoted as
// encoding/json quotes them.
func TestAppendStringAsEncodingJSON(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	pieces := []string{"a", "Z", " ", "~", "\x7f", `"`, `\`, "<", ">", "&", "\n", "\x00", "\x1f", "é", "\xff", "\u2028", "日", "🙂", "\xe2\x80"}
	var b []byte
	for range 20000 {
		var s string
		for n := rnd.IntN(40); len(s) < n; {
			if rnd.IntN(4) == 0 {
				s += pieces[rnd.IntN(len(pieces))]
			} else {
				s += "abcdefgh"[:1+rnd.IntN(8)]
			}
		}
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if b = appendString(b[:0], s); !bytes.Equal(b, want) {
			t.Fatalf("%q: got %s, want %s", s, b, want)
		}
	}
}

func BenchmarkAppendString(b *testing.B) {
	s := "Still connecting when the capture ended: the client's SYN (frame 6) came 0 ms before the end, sooner than TCP would send it again (1.0 s); too soon to tell whether the handshake fails."
	buf := make([]byte, 0, 1024)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		buf = appendString(buf[:0], s)
	}
}

// TestDirectionKeys: the keys of a map by direction in encoding/json's
// order, whatever values it holds.
func TestDirectionKeys(t *testing.T) {
	for _, keys := range [][]model.Direction{{}, {0}, {1}, {1, 0}, {0, 1, 2}, {2, 5}} {
		m := map[model.Direction]int{}
		for _, k := range keys {
			m[k] = int(k)
		}
		var got []string
		for _, k := range directionKeys(m, nil) {
			got = append(got, k.String())
		}
		std, _ := json.Marshal(m)
		var want []string
		for _, k := range []string{"client_to_server", "server_to_client"} {
			for range bytes.Count(std, []byte(`"`+k+`"`)) {
				want = append(want, k)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%v: got %v, want %v (%s)", keys, got, want, std)
		}
	}
}

// TestAppendPoints: a row without point, points, placement or stopped,
// given them by AppendPoints, is byte for byte the row encoded with them,
// for rows filled at random (points too: none, empty, one, several; a
// point or none), after
// whatever dst held; a row that does not end as one is refused.
func TestAppendPoints(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	e, with := New(), New()
	several, pointed := 0, 0
	for i := range 500 {
		var c model.Connection
		fill(reflect.ValueOf(&c).Elem(), rnd, 0)
		point, points := c.Point, c.Points
		if len(points) > 1 {
			several++
		}
		if point != "" {
			pointed++
		}
		c.Point, c.Points, c.Placement, c.Stopped = "", nil, nil, nil
		row, err := e.Encode(&c)
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		prefix := []byte(strconv.Itoa(i))
		got, err := e.AppendPoints(slices.Clone(prefix), row, point, points)
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		c.Point, c.Points = point, points
		want, err := with.Encode(&c)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, append(prefix, want...)) {
			t.Fatalf("row %d (%d points) differs from its encoding with them:\n%s", i, len(points), firstDiff(got, append(prefix, want...)))
		}
	}
	if several == 0 || pointed == 0 {
		t.Errorf("%d rows with several points, %d with a point: the test tests little", several, pointed)
	}
	if _, err := e.AppendPoints(nil, []byte(`{"stream": 1}`), "", map[string]model.ConnPoint{"a": {}}); err == nil {
		t.Error("a row that does not end as one: no error")
	}
}
