package analyze

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/analyze/notice"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
)

// FuzzAnalyzer feeds arbitrary segment sequences: each 16 bytes make one
// segment (side, flags, seq, ack, window, length, time step, options). The
// Analyzer must not panic, and its Report must stay consistent with what
// it was fed, and with the notices.
func FuzzAnalyzer(f *testing.F) {
	f.Add([]byte("\x00\x02\x00\x00\x03\xe8\x00\x00\x00\x00\xff\xff\x00\x00\x01\x07" +
		"\x01\x12\x00\x00\x13\x88\x00\x00\x03\xe9\xff\xff\x00\x00\x01\x07" +
		"\x00\x10\x00\x00\x03\xe9\x00\x00\x13\x89\x00\x10\x05\xa8\x01\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		eps := [...]netip.AddrPort{
			netip.MustParseAddrPort("10.0.0.1:40000"),
			netip.MustParseAddrPort("10.0.0.2:443"),
			netip.MustParseAddrPort("[fd00::1]:40000"),
		}
		opens := 0
		a := New(Options{MaxEventsPerConn: 5, OnNotice: func(n *model.Notice) {
			if n.Kind == model.NoticeConnOpen {
				opens++
			}
		}})
		now := t0
		n := 0
		for ; len(data) >= 16; data = data[16:] {
			b := data[:16]
			n++
			now = now.Add(time.Duration(int8(b[14])) * time.Millisecond)
			s := &decode.Segment{
				Frame:      n,
				Time:       now,
				Src:        eps[int(b[0])%len(eps)],
				Dst:        eps[int(b[0]>>4)%len(eps)],
				TTL:        b[15],
				Flags:      decode.TCPFlags(b[1]),
				Seq:        binary.BigEndian.Uint32(b[2:]),
				Ack:        binary.BigEndian.Uint32(b[6:]),
				Window:     binary.BigEndian.Uint16(b[10:]),
				PayloadLen: int(binary.BigEndian.Uint16(b[12:])),
				Options:    decode.TCPOptions{WindowScale: int8(b[15]>>4) - 1},
			}
			a.Segment(s)
		}
		a.Tick(now.Add(2 * notice.LiveSilentAfter))
		r := a.Report(nil)
		// Probes (SYNs with a traceroute's TTL) are counted apart: the
		// notices tell none, the Report lists none, and the listed
		// connections and the probes have every stream once.
		var streams []int
		probePackets := false
		for _, p := range r.Summary.Probes {
			streams = append(streams, p.Streams...)
			probePackets = probePackets || p.Probes > 0
		}
		if open := a.OpenConns(); open < 0 || open > int64(len(r.Connections)+len(streams)) {
			t.Fatalf("%d open connections of %d", open, len(r.Connections)+len(streams))
		}
		if opens > len(r.Connections) || opens < len(r.Connections)-probeSYNs(r) {
			t.Fatalf("%d conn_open notices, %d connections", opens, len(r.Connections))
		}
		packets := 0
		for _, c := range r.Connections {
			streams = append(streams, c.Stream)
		}
		slices.Sort(streams)
		for i, st := range streams {
			if st != i {
				t.Fatalf("streams %v: not every one once", streams)
			}
		}
		for _, c := range r.Connections {
			if len(c.Events) > 5 {
				t.Fatalf("%d events kept with a cap of 5", len(c.Events))
			}
			packets += c.TCP.ClientToServer.Packets + c.TCP.ServerToClient.Packets
		}
		if packets != n && !probePackets || packets > n {
			t.Fatalf("report counts %d packets, fed %d", packets, n)
		}
	})
}

// probeSYNs counts the listed connections that may have begun with a
// probe's SYN (a TTL of 30 or less, verdict.ProbeSYN), which the notices
// do not tell though the Report, finding no probe in them, lists them.
func probeSYNs(r *model.Report) int {
	n := 0
	for _, c := range r.Connections {
		if slices.ContainsFunc(append(c.TCP.ClientToServer.TTL, c.TCP.ServerToClient.TTL...), func(ttl int) bool { return ttl <= 30 }) {
			n++
		}
	}
	return n
}
