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

// FuzzPlotFreed: with Options.Plot, freeing the trackers early
// (ReportOnce: settled problem connections, rows made one by one; lone
// SYNs half-open from the start) gives the JSON report, plots included,
// that keeping them to the Report gives (conn.keepPlot).
func FuzzPlotFreed(f *testing.F) {
	// A short connection, one reset, a lone SYN, quiet between.
	f.Add([]byte("\x00\x02\x00\x00\x00\x00\x00\x01" + "\x80\x12\x00\x01\x00\x00\x00\x01" +
		"\x00\x10\x01\x01\x00\x00\x00\x01" + "\x00\x18\x01\x01\x08\x00\x00\x01" +
		"\x80\x18\x01\x02\x08\x00\x00\x01" + "\x00\x11\x02\x02\x00\x00\x00\x01" +
		"\x80\x11\x02\x03\x00\x00\x00\x01" + "\x00\x10\x03\x03\x00\x00\x00\x01" +
		"\x01\x02\x00\x00\x00\x00\x00\x7f" + "\x81\x12\x00\x01\x00\x00\x00\x7f" +
		"\x81\x14\x01\x02\x00\x00\x00\x7f" + "\x02\x02\x00\x00\x00\x00\x00\xff" +
		"\x03\x02\x00\x00\x00\x00\x00\xff"))
	sv := netip.MustParseAddrPort("198.18.2.2:443")
	f.Fuzz(func(t *testing.T, data []byte) {
		run := func(once bool) []byte {
			a := New(Options{ForgetHealthy: 100 * time.Millisecond, ReportOnce: once, SpillRows: true, Plot: true})
			defer a.Close()
			now := t0
			for i, d := 0, data; len(d) >= 8; i, d = i+1, d[8:] {
				b := d[:8]
				// b[0]: client (low 3 bits), from the server (0x80), an
				// ICMP error quoting the client's segment (0x40).
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
			}
			var out bytes.Buffer
			if err := report.Write(&out, a.Report([]*decode.InputInfo{{}}), "json"); err != nil {
				t.Fatal(err)
			}
			return out.Bytes()
		}
		if want, got := run(false), run(true); !bytes.Equal(got, want) {
			t.Fatalf("with the trackers freed early, the report differs:\n%s\nwant\n%s", got, want)
		}
	})
}
