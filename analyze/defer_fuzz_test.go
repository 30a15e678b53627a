package analyze

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/report"
)

// FuzzDeferredForget feeds arbitrary segment sequences (each 8 bytes: the
// 4-tuple of one of a few clients, flags, seq and ack offsets, length,
// time step), ICMP errors among them, to two analyzers that forget a
// connection closed for 100 ms: one judging at each sweep, one deferring
// (forget.go). Their JSON reports must be the same bytes.
func FuzzDeferredForget(f *testing.F) {
	f.Add([]byte(fuzzTwoShort))
	// A connection closes; past the next sweep (lone SYNs of five more
	// clients, 255 ms apart, build no trackers) a late FIN of it, or an
	// ICMP error quoting its SYN, comes while it is still listed due.
	closed := "\x00\x02\x00\x00\x00\x00\x00\x01" + "\x80\x12\x01\x00\x00\x00\x00\x01" +
		"\x00\x10\x01\x01\x00\x00\x00\x01" + "\x00\x11\x01\x01\x00\x00\x00\x01" +
		"\x80\x11\x02\x01\x00\x00\x00\x01" + "\x00\x10\x02\x02\x00\x00\x00\x01" +
		"\x01\x02\x00\x00\x00\x00\x00\xff" + "\x02\x02\x00\x00\x00\x00\x00\xff" +
		"\x03\x02\x00\x00\x00\x00\x00\xff" + "\x04\x02\x00\x00\x00\x00\x00\xff" +
		"\x05\x02\x00\x00\x00\x00\x00\xff"
	f.Add([]byte(closed + "\x00\x11\x01\x01\x00\x00\x00\x01"))
	f.Add([]byte(closed + "\x40\x02\x00\x00\x00\x00\x00\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		run := func(noDefer bool) []byte {
			return fuzzJSON(t, data, Options{ForgetHealthy: 100 * time.Millisecond, ReportOnce: true}, func(a *Analyzer) { a.noDefer = noDefer })
		}
		if want, got := run(true), run(false); !bytes.Equal(got, want) {
			t.Fatalf("deferred, the report differs:\n%s\nwant\n%s", got, want)
		}
	})
}

// fuzzTwoShort is a seed of the forgetting's fuzzers: two short
// connections (handshake, data, FINs), then quiet, the first forgotten
// healthy as the second goes on.
const fuzzTwoShort = "\x00\x02\x00\x00\x00\x00\x00\x01" + "\x80\x12\x00\x01\x00\x00\x00\x01" +
	"\x00\x10\x01\x01\x00\x00\x00\x01" + "\x00\x18\x01\x01\x08\x00\x00\x01" +
	"\x80\x18\x01\x02\x08\x00\x00\x01" + "\x00\x11\x02\x02\x00\x00\x00\x01" +
	"\x80\x11\x02\x03\x00\x00\x00\x01" + "\x00\x10\x03\x03\x00\x00\x00\x01" +
	"\x01\x02\x00\x00\x00\x00\x00\x7f" + "\x81\x12\x00\x01\x00\x00\x00\x7f" +
	"\x01\x11\x01\x01\x00\x00\x00\x7f" + "\x81\x14\x01\x02\x00\x00\x00\x7f"

// fuzzJSON is the JSON report of a new Analyzer with opts (set up by
// setup, if not nil) fed data (feedFuzz, to 198.18.2.2:443), with an
// input, whose warnings count the segments of connections already
// judged.
func fuzzJSON(t *testing.T, data []byte, opts Options, setup func(*Analyzer)) []byte {
	t.Helper()
	a := New(opts)
	if setup != nil {
		setup(a)
	}
	defer a.Close()
	feedFuzz(a, data, netip.MustParseAddrPort("198.18.2.2:443"))
	var out bytes.Buffer
	if err := report.Write(&out, a.Report([]*decode.InputInfo{{}}), "json"); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// feedFuzz gives a the segments data encodes, 8 bytes each, of clients of
// server sv: b[0] the client (low 3 bits), from the server (0x80), an
// ICMP error quoting the client's segment (0x40); b[1] the flags; b[2],
// b[3] the sequence and acknowledgement offsets; b[4:6] the payload
// length (11 bits); b[7] the milliseconds since the segment before.
func feedFuzz(a *Analyzer, data []byte, sv netip.AddrPort) { feedFuzzFunc(a, data, sv, nil) }

// feedFuzzFunc is feedFuzz calling after (if not nil) with each
// segment's frame once a has it.
func feedFuzzFunc(a *Analyzer, data []byte, sv netip.AddrPort, after func(frame int)) {
	now := t0
	for i, d := 0, data; len(d) >= 8; i, d = i+1, d[8:] {
		b := d[:8]
		cl := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, 1, 1 + b[0]&7}), 40000+uint16(b[0]&7))
		now = now.Add(time.Duration(b[7]) * time.Millisecond)
		seq := 1000*uint32(b[0]&7) + uint32(b[2])
		ack := 5000 + 1000*uint32(b[0]&7) + uint32(b[3])
		if b[0]&0x40 != 0 {
			a.ICMPError(&decode.ICMPError{Frame: i + 1, Time: now, From: netip.MustParseAddr("198.18.9.9"),
				Kind: decode.ICMPUnreachable, Type: 3, Code: 13, IPVersion: 4, Src: cl, Dst: sv, Seq: seq, TTL: 60})
			continue
		}
		s := &decode.Segment{Frame: i + 1, Time: now, Src: cl, Dst: sv, Flags: decode.TCPFlags(b[1]), Seq: seq, Ack: ack,
			Window: 1000, PayloadLen: int(binary.BigEndian.Uint16(b[4:6]) & 0x7ff), TTL: 64}
		if b[0]&0x80 != 0 {
			s.Src, s.Dst, s.Seq, s.Ack = sv, cl, ack, seq
		}
		a.Segment(s)
		if after != nil {
			after(s.Frame)
		}
	}
}
