package analyze

import (
	"net/netip"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/decode"
)

// TestLoneSYNBriefByTTL: what the Report reads of a lone SYN's facts
// before judging it (its Brief, its client side) is the same for every
// SYN with the same TTL, whatever its addresses, ports, options, flags,
// window or numbers: loneSYNBrief builds it once per TTL.
func TestLoneSYNBriefByTTL(t *testing.T) {
	at := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	v4 := func(s, d string) (netip.AddrPort, netip.AddrPort) {
		return netip.MustParseAddrPort(s), netip.MustParseAddrPort(d)
	}
	variants := []struct {
		name string
		mod  func(*decode.Segment)
	}{
		{"plain", func(*decode.Segment) {}},
		{"options", func(s *decode.Segment) {
			s.Options = decode.TCPOptions{MSS: 1460, WindowScale: 7, SACKPermitted: true, Timestamp: true, TSVal: 12345}
		}},
		{"ecn", func(s *decode.Segment) { s.Flags |= decode.FlagECE | decode.FlagCWR }},
		{"window and numbers", func(s *decode.Segment) { s.Window, s.Seq, s.IPID = 0, 0xffffffff, 0 }},
		{"well-known client port", func(s *decode.Segment) { s.Src, s.Dst = v4("198.18.0.9:443", "198.18.1.1:50000") }},
		{"equal ports", func(s *decode.Segment) { s.Src, s.Dst = v4("198.18.0.9:7000", "198.18.1.1:7000") }},
		{"ipv6", func(s *decode.Segment) {
			s.IPVersion, s.IPID = 6, 0
			s.Src, s.Dst = netip.MustParseAddrPort("[2001:db8::9]:40000"), netip.MustParseAddrPort("[2001:db8::1]:8080")
		}},
		{"h2 port", func(s *decode.Segment) { s.Dst = netip.MustParseAddrPort("198.18.1.1:2379") }},
		{"reassembled", func(s *decode.Segment) { s.Reassembled = true }},
		{"later input and frame", func(s *decode.Segment) { s.Input, s.Frame, s.Time = 3, 99999, at.Add(time.Hour) }},
	}
	for _, ttl := range []uint8{0, 1, 2, 30, 31, 32, 63, 64, 65, 127, 128, 200, 254, 255} {
		var ref struct {
			b      verdict.Brief
			client int
			ok     bool
		}
		for i, v := range variants {
			a := New(Options{H2Ports: []uint16{2379}})
			src, dst := v4("198.18.0.9:40000", "198.18.1.1:8080")
			s := decode.Segment{Input: 0, Frame: 1, Time: at, Src: src, Dst: dst, IPVersion: 4, TTL: ttl, IPID: 77,
				Seq: 1000, Flags: decode.FlagSYN, Window: 64240}
			v.mod(&s)
			a.Segment(&s)
			if len(a.all) != 1 || a.all[0].connState != nil {
				t.Fatalf("ttl %d %s: not one half-open connection", ttl, v.name)
			}
			f, client := a.halfFactsRoles(a.all[0])
			b, ok := verdict.BriefOf(f)
			if i == 0 {
				ref.b, ref.client, ref.ok = b, client, ok
				continue
			}
			if b != ref.b || client != ref.client || ok != ref.ok {
				t.Errorf("ttl %d %s: brief %+v client %d ok %v, the plain SYN's %+v %d %v", ttl, v.name, b, client, ok, ref.b, ref.client, ref.ok)
			}
			// And loneSYNBrief gives it.
			if mb, mc, mok := a.loneSYNBrief(a.all[0]); mb != b || mc != client || mok != ok {
				t.Errorf("ttl %d %s: loneSYNBrief %+v %d %v, want %+v %d %v", ttl, v.name, mb, mc, mok, b, client, ok)
			}
		}
	}
}
