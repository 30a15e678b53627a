package tls

import (
	"bytes"
	"testing"
)

// Records.Idle promises that End would emit nothing and change no
// counter: checked after every prefix of a direction's records, from its
// start, from inside a record (searching) and across a truncated record.
func TestRecordsIdle(t *testing.T) {
	all := bytes.Join([][]byte{clientHelloRec(), rec(RecordTypeApplicationData, 100, 1),
		rec(RecordTypeAlert, 19, 4), rec(RecordTypeApplicationData, 34, 3)}, nil)
	cases := []struct {
		name string
		b    []byte
		gap  int // bytes lost after the first 210 of b
	}{
		{"from the start", all, 0},
		{"from inside a record", all[7:], 0},
		{"a gap inside a record", all, 50},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			idle := 0
			for n := 0; n <= len(tc.b); n++ {
				r := NewRecords()
				var got []gotRec
				emit := collect(&got)
				if tc.gap > 0 && n > 210 {
					r.Data(tc.b[:210], Meta{Frame: 1}, emit)
					r.Gap(tc.gap, emit)
					r.Data(tc.b[210+tc.gap:max(n, 210+tc.gap)], Meta{Frame: 2}, emit)
				} else {
					r.Data(tc.b[:n], Meta{Frame: 1}, emit)
				}
				if !r.Idle() {
					continue
				}
				idle++
				recs, stats := len(got), r.Stats()
				r.End(emit)
				if len(got) != recs || r.Stats() != stats {
					t.Errorf("%d bytes: idle, but End emitted %d records, stats %+v -> %+v", n, len(got)-recs, stats, r.Stats())
				}
			}
			if idle == 0 || idle == len(tc.b)+1 {
				t.Errorf("idle after %d of %d prefixes: the test tells nothing", idle, len(tc.b)+1)
			}
		})
	}
}
