package analyze

import (
	"bytes"
	"testing"
	"time"
)

// FuzzSpillSameJSON: forgetting the healthy connections closed for 100 ms
// and spilling their rows (h2pcap analyze --format json, with ReportOnce
// and without) gives the JSON report that keeps every connection whole,
// byte for byte, on arbitrary segments and ICMP errors (feedFuzz), but
// where a segment or an ICMP error came for a connection after it was
// judged: that report names those in its warnings, and the connection's
// counts lack them (TestSpillRowsSameJSON holds the lab's captures to it).
func FuzzSpillSameJSON(f *testing.F) {
	f.Add([]byte(fuzzTwoShort))
	f.Fuzz(func(t *testing.T, data []byte) {
		want := fuzzJSON(t, data, Options{}, nil)
		for _, once := range []bool{false, true} {
			got := fuzzJSON(t, data, Options{ForgetHealthy: 100 * time.Millisecond, SpillRows: true, ReportOnce: once}, nil)
			if bytes.Contains(got, []byte(" came for connections already closed")) {
				t.Skip("a segment or an ICMP error came for a connection already judged")
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("ReportOnce %v: forgetting and spilling, the report differs:\n%s\nwant\n%s", once, got, want)
			}
		}
	})
}
