package analyze

import (
	"bytes"
	"testing"
	"time"
)

// FuzzWorkersSame: the connections' stages on workers (Options.Workers)
// give the report of one goroutine, byte for byte (issue 15), whatever the
// segments (feedFuzz: a few clients of one server, ICMP errors among
// them), with every connection kept, with the healthy ones forgotten
// 100 ms after their close, and with their rows spilled (as h2pcap
// analyze --format json has it). cmd/h2pcap's TestWorkersSameReport holds the
// lab's and the public captures to it; this, what no capture has.
func FuzzWorkersSame(f *testing.F) {
	f.Add([]byte(fuzzTwoShort))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opts := range []Options{
			{},
			{ForgetHealthy: 100 * time.Millisecond},
			// h2pcap analyze --format json's
			{ForgetHealthy: 100 * time.Millisecond, SpillRows: true, ReportOnce: true},
		} {
			want := fuzzJSON(t, data, opts, nil)
			opts.Workers = 2
			got := fuzzJSON(t, data, opts, nil)
			if !bytes.Equal(got, want) {
				t.Fatalf("%+v: with workers the report differs:\n%s\nwant\n%s", opts, got, want)
			}
		}
	})
}
