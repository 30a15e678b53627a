package analyze

import (
	"net/netip"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/model"
)

// FuzzForgetStreams: forgetting changes no segment's tcp.stream. Each
// segment of arbitrary sequences (feedFuzz) goes to the same stream in an
// analysis that keeps every connection whole (the tracker's numbering,
// tshark's) as in one that forgets the healthy ones closed for 100 ms, in
// one that settles the others too (ReportOnce), in one whose connections
// are on workers (Workers) and in live's (OnNotice), but for the segments
// those count late (no stream: a late FIN, a SYN sent again with the old
// ISN). A SYN on a forgotten 4-tuple that the tracker kept in the old
// connection opened a new stream, and every later number was off by one;
// so did one whose side's ISN only a late segment had set (an ACK gives
// the other side's), until late segments moved the bases kept.
func FuzzForgetStreams(f *testing.F) {
	f.Add([]byte(fuzzTwoShort))
	// The first connection closes and, past a sweep (a lone SYN sent
	// four times, 255 ms apart), is forgotten; its client sends its SYN
	// again with the old ISN; then a new connection.
	lone := "\x03\x02\x00\x00\x00\x00\x00\xff"
	f.Add([]byte(fuzzTwoShort + lone + lone + lone + lone + "\x00\x02\x00\x00\x00\x00\x00\xff" + "\x02\x02\x00\x00\x00\x00\x00\x01"))
	sv := netip.MustParseAddrPort("198.18.2.2:443")
	f.Fuzz(func(t *testing.T, data []byte) {
		streams := func(opts Options) []int {
			a := New(opts)
			defer a.Close()
			var out []int
			feedFuzzFunc(a, data, sv, func(int) { out = append(out, a.LastStream()) })
			return out
		}
		want := streams(Options{})
		for _, opts := range []Options{
			{ForgetHealthy: 100 * time.Millisecond},
			{ForgetHealthy: 100 * time.Millisecond, ReportOnce: true},
			{ForgetHealthy: 100 * time.Millisecond, Workers: 2},
			{ForgetHealthy: 100 * time.Millisecond, OnNotice: func(*model.Notice) {}},
		} {
			got := streams(opts)
			for i, s := range got {
				if s >= 0 && s != want[i] {
					t.Fatalf("%+v: segment %d (of %d) in stream %d, kept whole %d", opts, i, len(got), s, want[i])
				}
			}
		}
	})
}
