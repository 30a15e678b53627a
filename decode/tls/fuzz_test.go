package tls

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzRecords feeds arbitrary bytes to Records in two segmentations (whole,
// and cut at the points split gives) and checks they find the same
// records, at increasing offsets, with the payload their header says. The
// same bytes also go through a Conn as both directions, with a gap, so the
// handshake parsers and decryption see them too.
func FuzzRecords(f *testing.F) {
	ch := clientHelloRec()
	f.Add(bytes.Join([][]byte{ch, rec(23, 40, 1), rec(21, 19, 2)}, nil), []byte{3, 7, 200})
	f.Add(bytes.Join([][]byte{rec(23, 60, 1)[20:], rec(23, 34, 2), rec(23, 34, 3)}, nil), []byte{1})
	f.Add([]byte("\x16\x03\x01\x00\x30\x01\x00\x00\x2c\x03\x03"), []byte{})
	f.Add([]byte("\x16\x03\x03\x00\x2a\x02\x00\x00\x26\x03\x03"+strings.Repeat("\x00", 32)+"\x00\x13\x01\x00"), []byte{5})
	f.Fuzz(func(t *testing.T, data, split []byte) {
		var whole, cut []gotRec
		check := func(out *[]gotRec) func(*Record) {
			last := int64(-1)
			return func(r *Record) {
				if r.Offset <= last {
					t.Fatalf("offset %d after %d", r.Offset, last)
				}
				last = r.Offset
				if !r.Truncated && len(r.Payload) != r.Length {
					t.Fatalf("payload %d, header says %d", len(r.Payload), r.Length)
				}
				if r.Length > MaxRecordPayload {
					t.Fatalf("record of %d", r.Length)
				}
				collect(out)(r)
			}
		}
		r := NewRecords()
		r.Data(data, Meta{}, check(&whole))
		r.End(check(&whole))
		r = NewRecords()
		rest := data
		for _, s := range split {
			n := min(int(s), len(rest))
			r.Data(rest[:n], Meta{}, check(&cut))
			rest = rest[n:]
		}
		r.Data(rest, Meta{}, check(&cut))
		r.End(check(&cut))
		// Where the bytes come cut, a search may stop sooner, at a record
		// that ends with its segment, so the two runs may find different
		// records after a search; a record both found must be the same.
		if !agree(whole, cut) {
			t.Fatalf("whole %v\ncut   %v", whole, cut)
		}
		if st := r.Stats(); st.Skipped > int64(len(data)) {
			t.Fatalf("skipped %d of %d", st.Skipped, len(data))
		}

		keys, _ := ParseKeyLog(strings.NewReader("CLIENT_RANDOM " + strings.Repeat("00", 32) + " " + strings.Repeat("11", 48) + "\n" +
			"SERVER_TRAFFIC_SECRET_0 " + strings.Repeat("00", 32) + " " + strings.Repeat("22", 32)))
		c := NewConn(Config{Keys: keys, SeqWindow: 4, MidStartWindow: 4})
		half := len(data) / 2
		c.Data(true, data[:half], Meta{})
		c.Data(false, data[:half], Meta{})
		c.Gap(false, len(split))
		c.Data(true, data[half:], Meta{})
		c.Data(false, data[half:], Meta{})
		c.End(true)
		c.End(false)
		_ = c.Info().KeyProblem()
	})
}

// agree says whether the records a and b found at the same offsets are
// the same records (whether each was found by a search aside).
func agree(a, b []gotRec) bool {
	at := map[int64]gotRec{}
	for _, r := range a {
		r.resynced = false
		at[r.off] = r
	}
	for _, r := range b {
		r.resynced = false
		if q, ok := at[r.off]; ok && q != r {
			return false
		}
	}
	return true
}

// FuzzKeyLog: the parser never panics, accepts only well-formed secrets,
// and names a line that exists.
func FuzzKeyLog(f *testing.F) {
	f.Add("CLIENT_RANDOM " + cr1 + " " + ms1 + "\n")
	f.Add("# c\nCLIENT_TRAFFIC_SECRET_0 " + cr1 + " " + s32 + "\nEXPORTER_SECRET a b\n")
	f.Add("CLIENT_RANDOM zz\n")
	f.Fuzz(func(t *testing.T, log string) {
		k, err := ParseKeyLog(strings.NewReader(log))
		if err != nil {
			if ke, ok := err.(*KeyLogError); ok {
				if ke.Line < 1 || ke.Line > strings.Count(log, "\n")+1 {
					t.Fatalf("line %d of a %d-line log", ke.Line, strings.Count(log, "\n")+1)
				}
			}
			return
		}
		for _, cr := range k.order {
			s, _ := k.Lookup(cr)
			if s.MasterSecret != nil && len(s.MasterSecret) != 48 {
				t.Fatalf("master secret of %d bytes", len(s.MasterSecret))
			}
			for _, v := range [][]byte{s.ClientHandshakeTrafficSecret, s.ServerHandshakeTrafficSecret, s.ClientTrafficSecret0, s.ServerTrafficSecret0, s.ClientEarlyTrafficSecret} {
				if v != nil && len(v) != 32 && len(v) != 48 {
					t.Fatalf("traffic secret of %d bytes", len(v))
				}
			}
		}
	})
}
