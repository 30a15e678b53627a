package decode

import (
	"errors"
	"io"
	"path/filepath"
	"testing"
)

// TestCopiesDeterministic: the copy filter's tables are indexed by a hash
// without a random seed, so which entries collide, and so which copies are
// found, is the same every time a file is read (with a seeded hash the
// router-any pcapng gave 525 to 531 copies from run to run).
func TestCopiesDeterministic(t *testing.T) {
	path := filepath.Join("..", "testdata", "pcaps", "router-any", "router.pcapng.gz")
	read := func() DecodeStats {
		src, err := Open(path, 0)
		if err != nil {
			t.Skip("no lab capture:", err)
		}
		defer src.Close()
		dec := NewInputDecoder()
		var s Segment
		for {
			p, err := src.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			dec.Decode(p, &s)
		}
		return dec.Stats()
	}
	first := read()
	if first.Duplicates == 0 {
		t.Fatalf("no copies found: %+v", first)
	}
	for range 3 {
		if again := read(); again != first {
			t.Fatalf("read again: %+v, first time %+v", again, first)
		}
	}
}
