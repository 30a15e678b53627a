package analyze

import (
	"bytes"
	"testing"
	"time"
)

// FuzzWorkersSame: the connections' stages on workers (Options.Workers)
// give the report of one goroutine, byte for byte (issue 15), whatever the
// segments (feedFuzz: a few clients of one server, ICMP errors among
// them), with every connection kept and with the healthy ones forgotten
// 100 ms after their close. cmd/h2pcap's TestWorkersSameReport holds the
// lab's and the public captures to it; this, what no capture has.
func FuzzWorkersSame(f *testing.F) {
	f.Add([]byte(fuzzTwoShort))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, forget := range []time.Duration{0, 100 * time.Millisecond} {
			want := fuzzJSON(t, data, Options{ForgetHealthy: forget}, nil)
			got := fuzzJSON(t, data, Options{ForgetHealthy: forget, Workers: 2}, nil)
			if !bytes.Equal(got, want) {
				t.Fatalf("forgetting after %v, with workers the report differs:\n%s\nwant\n%s", forget, got, want)
			}
		}
	})
}
