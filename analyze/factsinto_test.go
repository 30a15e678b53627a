package analyze

import (
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/internal/synth"
)

// TestFactsIntoOverwrites: verdict.Tracker.FactsInto sets every field of
// the facts it writes, without clearing them first, so facts made over
// the last connection's (the scratch judgeForget reuses) are the facts
// made in zeroed memory. Each connection of every lab capture and of
// generated ones is made both ways, over facts filled with random values
// in every field (reflection: a field added to the facts and not set by
// FactsInto fails this).
func TestFactsIntoOverwrites(t *testing.T) {
	caps := []string{
		synthCapture(t, "short", synth.Config{N: 200, Open: 16, Rate: 50}),
		synthCapture(t, "syn", synth.Config{N: 200, Open: 16, Rate: 50}),
		synthCapture(t, "ping", synth.Config{N: 50, Open: 16, Rate: 50}),
	}
	lab, _ := filepath.Glob(filepath.Join("..", "testdata", "pcaps", "*", "*.pcap"))
	rng := rand.New(rand.NewPCG(1, 2))
	made := 0
	for _, p := range append(caps, lab...) {
		for _, c := range openConns(t, p) {
			client, _ := c.Roles()
			want := c.vt.Facts(client, &c.tcp)
			for _, cl := range []int{client, -1} {
				if cl != client {
					want = c.vt.Facts(cl, &c.tcp)
				}
				var got verdict.Facts
				fillRandom(reflect.ValueOf(&got).Elem(), rng)
				c.vt.FactsInto(&got, cl, &c.tcp)
				if g, w := normalFacts(got), normalFacts(*want); !reflect.DeepEqual(g, w) {
					t.Fatalf("%s stream %d (client %d): facts made over others differ from facts made in zeroed memory:\n got %+v\nwant %+v", p, c.stream, cl, g, w)
				}
				made++
			}
		}
	}
	if made < 500 {
		t.Fatalf("only %d facts compared", made)
	}
}

// normalFacts is f with its empty slices nil: FactsInto reuses the
// arrays it is given, so an empty list made over one is empty, not nil.
func normalFacts(f verdict.Facts) verdict.Facts {
	if len(f.Quality.Inputs) == 0 {
		f.Quality.Inputs = nil
	}
	for d := range f.Dir {
		if len(f.Dir[d].Last) == 0 {
			f.Dir[d].Last = nil
		}
	}
	return f
}

// fillRandom sets every settable field under v to a random value: times,
// addresses and slices of a few elements included.
func fillRandom(v reflect.Value, rng *rand.Rand) {
	switch x := v.Addr().Interface().(type) {
	case *time.Time:
		*x = time.Unix(rng.Int64N(1<<32), rng.Int64N(1e9)).UTC()
		return
	case *netip.Addr:
		*x = netip.AddrFrom4([4]byte{byte(rng.IntN(256)), 1, 2, byte(rng.IntN(256))})
		return
	case *netip.AddrPort:
		*x = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(rng.IntN(256)), 2, 3}), uint16(rng.IntN(65536)))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if f := v.Field(i); f.CanSet() {
				fillRandom(f, rng)
			}
		}
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			fillRandom(v.Index(i), rng)
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1+rng.IntN(3), 4)
		for i := 0; i < s.Len(); i++ {
			fillRandom(s.Index(i), rng)
		}
		v.Set(s)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1 + rng.Int64N(100))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1 + rng.Uint64N(100))
	case reflect.String:
		v.SetString("x")
	}
}
