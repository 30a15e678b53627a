package tls

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
)

// rec builds a record of type typ with n payload bytes of pseudo-random
// content (as ciphertext looks).
func rec(typ RecordType, n int, seed uint64) []byte {
	b := []byte{byte(typ), 3, 3, 0, 0}
	binary.BigEndian.PutUint16(b[3:], uint16(n))
	r := rand.New(rand.NewPCG(seed, 1))
	for range n {
		b = append(b, byte(r.Uint32()))
	}
	return b
}

// clientHelloRec is a record that starts like a connection's first one.
func clientHelloRec() []byte {
	b := rec(RecordTypeHandshake, 200, 9)
	b[1], b[2], b[5] = 3, 1, 1
	return b
}

type gotRec struct {
	typ       RecordType
	n         int
	off       int64
	frame     int
	first     int
	truncated bool
	resynced  bool
}

func (g gotRec) String() string {
	return fmt.Sprintf("%d:%d@%d f%d/%d t%v r%v", g.typ, g.n, g.off, g.first, g.frame, g.truncated, g.resynced)
}

func collect(out *[]gotRec) func(*Record) {
	return func(r *Record) {
		*out = append(*out, gotRec{r.Type, r.Length, r.Offset, r.Meta.Frame, r.First.Frame, r.Truncated, r.Resynced})
		if !r.Truncated && len(r.Payload) != r.Length {
			panic("payload length")
		}
	}
}

func TestRecords(t *testing.T) {
	ch := clientHelloRec()
	a := rec(RecordTypeApplicationData, 100, 1)
	b := rec(RecordTypeApplicationData, 16384+17, 2)
	c := rec(RecordTypeApplicationData, 34, 3)
	d := rec(RecordTypeAlert, 19, 4)
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	type step struct {
		data []byte // nil: a gap of gap bytes
		gap  int
	}
	cases := []struct {
		name    string
		steps   []step
		want    string
		skipped int64
	}{
		{"in order, one segment", []step{{data: cat(ch, a, c)}},
			"[22:200@0 f1/1 tfalse rfalse 23:100@205 f1/1 tfalse rfalse 23:34@310 f1/1 tfalse rfalse]", 0},
		{"split across segments", []step{{data: ch[:3]}, {data: cat(ch[3:], a[:50])}, {data: cat(a[50:], b[:7])}, {data: b[7:]}},
			"[22:200@0 f1/2 tfalse rfalse 23:100@205 f2/3 tfalse rfalse 23:16401@310 f3/4 tfalse rfalse]", 0},
		{"mid-record start: searched", []step{{data: cat(a[40:], c, d)}},
			"[23:34@65 f1/1 tfalse rtrue 21:19@104 f1/1 tfalse rfalse]", 65},
		{"mid-record start, confirmed later", []step{{data: cat(a[40:], c[:3])}, {data: c[3:]}, {data: d}},
			"[23:34@65 f1/2 tfalse rtrue 21:19@104 f3/3 tfalse rfalse]", 65},
		{"gap inside a payload: stays in step", []step{{data: cat(ch, a[:30])}, {gap: 50}, {data: cat(a[80:], c)}},
			"[22:200@0 f1/1 tfalse rfalse 23:100@205 f1/3 ttrue rfalse 23:34@310 f3/3 tfalse rfalse]", 0},
		{"gap ending a payload", []step{{data: cat(ch, a[:30])}, {gap: 75}, {data: c}},
			"[22:200@0 f1/1 tfalse rfalse 23:100@205 f1/1 ttrue rfalse 23:34@310 f3/3 tfalse rfalse]", 0},
		{"gap over records: search", []step{{data: cat(ch, a[:30])}, {gap: 75 + len(c) + 10}, {data: cat(d[10:], a, c)}},
			"[22:200@0 f1/1 tfalse rfalse 23:100@205 f1/1 ttrue rfalse 23:100@373 f3/3 tfalse rtrue 23:34@478 f3/3 tfalse rfalse]", 14},
		{"gap at a boundary: search", []step{{data: ch}, {gap: len(a)}, {data: cat(c, d)}},
			"[22:200@0 f1/1 tfalse rfalse 23:34@310 f3/3 tfalse rtrue 21:19@349 f3/3 tfalse rfalse]", 0},
		{"gap inside a header", []step{{data: cat(ch, a[:2])}, {gap: len(a) - 2}, {data: cat(c, d)}},
			"[22:200@0 f1/1 tfalse rfalse 23:34@310 f3/3 tfalse rtrue 21:19@349 f3/3 tfalse rfalse]", 2},
		{"end inside a record", []step{{data: cat(ch, a[:30])}},
			"[22:200@0 f1/1 tfalse rfalse 23:100@205 f1/1 ttrue rfalse]", 0},
		{"end while searching: chain to the end", []step{{data: cat(a[40:], c[:20])}},
			"[23:34@65 f1/1 ttrue rtrue]", 65},
		{"not TLS", []step{{data: bytes.Repeat([]byte("GET / HTTP/1.1\r\n"), 100)}}, "[]", 1600},
		{"implausible header in step: desync then search", []step{{data: cat(ch, []byte{99, 3, 3, 0, 10}, a[5:], c, d)}},
			"[22:200@0 f1/1 tfalse rfalse 23:34@310 f1/1 tfalse rtrue 21:19@349 f1/1 tfalse rfalse]", 105},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []gotRec
			emit := collect(&got)
			r := NewRecords()
			for i, s := range tc.steps {
				if s.data == nil {
					r.Gap(s.gap, emit)
					continue
				}
				r.Data(s.data, Meta{Frame: i + 1}, emit)
			}
			r.End(emit)
			if g := fmt.Sprint(got); g != tc.want {
				t.Errorf("got  %s\nwant %s", g, tc.want)
			}
			if st := r.Stats(); st.Skipped != tc.skipped {
				t.Errorf("skipped %d, want %d (%+v)", st.Skipped, tc.skipped, st)
			}
		})
	}
}

// TestRecordsByteByByte: any segmentation gives the same records.
func TestRecordsByteByByte(t *testing.T) {
	stream := bytes.Join([][]byte{clientHelloRec(), rec(23, 5000, 1), rec(23, 34, 2), rec(21, 19, 3)}, nil)
	var whole, bytewise []gotRec
	r := NewRecords()
	r.Data(stream, Meta{}, collect(&whole))
	r.End(collect(&whole))
	r = NewRecords()
	for i := range stream {
		r.Data(stream[i:i+1], Meta{}, collect(&bytewise))
	}
	r.End(collect(&bytewise))
	if fmt.Sprint(whole) != fmt.Sprint(bytewise) || len(whole) != 4 {
		t.Fatalf("whole %v\nbytes %v", whole, bytewise)
	}
}

func TestDetect(t *testing.T) {
	a, c := rec(RecordTypeApplicationData, 100, 1), rec(RecordTypeApplicationData, 34, 2)
	cases := []struct {
		name     string
		b        []byte
		ok, more bool
	}{
		{"ClientHello", clientHelloRec(), true, false},
		{"short", []byte{22, 3, 1}, false, true},
		{"records mid-connection", append(append([]byte(nil), a...), c[:5]...), true, false},
		{"one record, wait", a, false, true},
		{"HTTP/2 preface", []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), false, false},
		{"HTTP/1.1", []byte("GET / HTTP/1.1\r\n"), false, false},
		{"header chained to garbage", append(append([]byte(nil), a...), []byte("hello")...), false, false},
	}
	for _, tc := range cases {
		if ok, more := Detect(tc.b); ok != tc.ok || more != tc.more {
			t.Errorf("%s: %v %v, want %v %v", tc.name, ok, more, tc.ok, tc.more)
		}
	}
}
