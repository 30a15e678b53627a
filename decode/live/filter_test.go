package live

import (
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"

	"github.com/h2pcap/h2pcap/decode"
)

// corpusPacket is one packet of the test captures, as Ethernet.
type corpusPacket struct {
	name string
	data []byte
}

// loadCorpus reads every Ethernet packet of the lab and public captures.
func loadCorpus(t *testing.T) []corpusPacket {
	t.Helper()
	var paths []string
	for _, pat := range []string{"../../testdata/pcaps/*/*.pcap*", "../../testdata/pcaps/public/*/*.pcap*", "../../testdata/pcaps/public/*/*/*.pcap*"} {
		m, _ := filepath.Glob(pat)
		paths = append(paths, m...)
	}
	var out []corpusPacket
	for _, path := range paths {
		src, err := decode.Open(path, 0)
		if err != nil {
			continue
		}
		for {
			p, err := src.Next()
			if err != nil {
				break
			}
			if p.LinkType == layers.LinkTypeEthernet {
				out = append(out, corpusPacket{name: filepath.Base(path) + "#" + strconv.Itoa(p.Frame), data: slices.Clone(p.Data)})
			}
		}
		src.Close()
	}
	out = append(out, crafted(t)...)
	if len(out) < 1000 {
		t.Fatalf("only %d Ethernet packets in the test captures", len(out))
	}
	return out
}

// crafted are the cases the captures may lack: a VLAN tag, VXLAN, an
// IPv4 fragment, an IPv6 extension header, a non-IP frame.
func crafted(t *testing.T) []corpusPacket {
	t.Helper()
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	c4, s4 := net.IP{198, 18, 1, 2}, net.IP{198, 18, 2, 2}
	c6, s6 := net.ParseIP("fd18:1::2"), net.ParseIP("fd18:2::2")
	ser := func(name string, ls ...gopacket.SerializableLayer) corpusPacket {
		buf := gopacket.NewSerializeBuffer()
		opts := gopacket.SerializeOptions{FixLengths: true}
		if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return corpusPacket{name: name, data: slices.Clone(buf.Bytes())}
	}
	eth := func(et layers.EthernetType) *layers.Ethernet {
		return &layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: et}
	}
	ip4 := func(p layers.IPProtocol, src, dst net.IP) *layers.IPv4 {
		return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: p, SrcIP: src, DstIP: dst}
	}
	tcp := func(sp, dp int) *layers.TCP {
		return &layers.TCP{SrcPort: layers.TCPPort(sp), DstPort: layers.TCPPort(dp), DataOffset: 5, ACK: true}
	}
	payload := gopacket.Payload([]byte("PRI * HTTP/2.0"))
	var out []corpusPacket
	for _, sp := range []int{8080, 8443, 40000} {
		out = append(out,
			ser("vlan-ipv4", eth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 7, Type: layers.EthernetTypeIPv4}, ip4(layers.IPProtocolTCP, c4, s4), tcp(50000, sp), payload),
			ser("vlan-ipv6", eth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 7, Type: layers.EthernetTypeIPv6}, &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolTCP, HopLimit: 64, SrcIP: s6, DstIP: c6}, tcp(sp, 50000), payload),
			ser("ipv4-options", eth(layers.EthernetTypeIPv4), &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: s4, DstIP: c4,
				Options: []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}}, tcp(sp, 50000), payload),
			ser("ipv4-fragment", eth(layers.EthernetTypeIPv4), &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: c4, DstIP: s4, FragOffset: 100}, gopacket.Payload([]byte{0x1f, 0x90, 0x1f, 0x90, 0, 0, 0, 0})),
			ser("ipv6-hop-by-hop", eth(layers.EthernetTypeIPv6), &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolIPv6HopByHop, HopLimit: 64, SrcIP: c6, DstIP: s6},
				gopacket.Payload{byte(layers.IPProtocolTCP), 0, 1, 4, 0, 0, 0, 0}, tcp(50000, sp), payload), // hop-by-hop: next TCP, PadN
		)
	}
	inners := [][]gopacket.SerializableLayer{
		{eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP, c4, s4), tcp(50000, 8080), payload},
		{eth(layers.EthernetTypeIPv4), &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: s4, DstIP: c4,
			Options: []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}}, tcp(8443, 50000), payload},
		{eth(layers.EthernetTypeIPv6), &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolTCP, HopLimit: 64, SrcIP: c6, DstIP: s6}, tcp(50000, 8080), payload},
		{eth(layers.EthernetTypeIPv6), &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolTCP, HopLimit: 64, SrcIP: s6, DstIP: c6}, tcp(443, 50000), payload},
		{eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolUDP, c4, s4), &layers.UDP{SrcPort: 1, DstPort: 4789}, payload},
		{eth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 7, Type: layers.EthernetTypeIPv4}, ip4(layers.IPProtocolTCP, c4, s4), tcp(50000, 8080), payload},
		{eth(layers.EthernetTypeARP), gopacket.Payload(make([]byte, 28))},
	}
	for _, ports := range [][2]int{{33333, 4789}, {33333, 8472}, {4789, 33333}, {33333, 6081}, {33333, 53}} {
		for _, inner := range inners {
			out = append(out,
				ser("udp4", append([]gopacket.SerializableLayer{eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolUDP, net.IP{10, 0, 0, 1}, net.IP{10, 0, 0, 2}),
					&layers.UDP{SrcPort: layers.UDPPort(ports[0]), DstPort: layers.UDPPort(ports[1])}, &layers.VXLAN{ValidIDFlag: true, VNI: 1}}, inner...)...),
				ser("udp4-options", append([]gopacket.SerializableLayer{eth(layers.EthernetTypeIPv4), &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IP{10, 0, 0, 1}, DstIP: net.IP{10, 0, 0, 2},
					Options: []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}},
					&layers.UDP{SrcPort: layers.UDPPort(ports[0]), DstPort: layers.UDPPort(ports[1])}, &layers.VXLAN{ValidIDFlag: true, VNI: 1}}, inner...)...),
				ser("udp6", append([]gopacket.SerializableLayer{eth(layers.EthernetTypeIPv6), &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolUDP, HopLimit: 64, SrcIP: net.ParseIP("fd00::1"), DstIP: net.ParseIP("fd00::2")},
					&layers.UDP{SrcPort: layers.UDPPort(ports[0]), DstPort: layers.UDPPort(ports[1])}, &layers.VXLAN{ValidIDFlag: true, VNI: 1}}, inner...)...),
			)
		}
	}
	out = append(out, ser("arp", eth(layers.EthernetTypeARP), &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		Operation: 1, SourceHwAddress: mac, SourceProtAddress: c4, DstHwAddress: mac, DstProtAddress: s4}))
	return out
}

// want decides with gopacket's decoders, independently of the BPF code,
// whether the filter must pass an Ethernet packet.
func want(f Filter, data []byte) bool { return wantEth(f, data, false) }

// wantEth is want for an Ethernet frame, inner when inside VXLAN (where
// the filter reads neither a VLAN tag nor another tunnel).
func wantEth(f Filter, data []byte, inner bool) bool {
	pkt := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	ls := pkt.Layers()
	if len(ls) < 2 {
		return false
	}
	i := 1
	if _, ok := ls[i].(*layers.Dot1Q); ok {
		if inner {
			return false
		}
		i++
	}
	if i >= len(ls) {
		return false
	}
	var src, dst netip.Addr
	var proto layers.IPProtocol
	fragment := false
	switch ip := ls[i].(type) {
	case *layers.IPv4:
		src, _ = netip.AddrFromSlice(ip.SrcIP.To4())
		dst, _ = netip.AddrFromSlice(ip.DstIP.To4())
		proto = ip.Protocol
		fragment = ip.FragOffset != 0
		if ip.Flags&layers.IPv4MoreFragments != 0 && !fragment {
			// gopacket leaves a first fragment's payload undecoded;
			// the headers at its start are read by the filter, as by
			// tcpdump's.
			ls = append(ls[:i+1:i+1], firstFragment(proto, ip.Payload))
		}
	case *layers.IPv6:
		src, _ = netip.AddrFromSlice(ip.SrcIP)
		dst, _ = netip.AddrFromSlice(ip.DstIP)
		proto = ip.NextHeader
	default:
		return false
	}
	if i+1 >= len(ls) && !(proto == layers.IPProtocolTCP && len(f.Ports) == 0) {
		return false
	}
	switch proto {
	case layers.IPProtocolUDP:
		if fragment {
			return false
		}
		u, ok := ls[i+1].(*layers.UDP)
		if !ok || inner {
			return false
		}
		for _, p := range []layers.UDPPort{u.DstPort, u.SrcPort} {
			switch p {
			case 4789, 8472:
				if len(u.Payload) < 8+14 {
					return false
				}
				return wantEth(f, u.Payload[8:], true)
			case 6081:
				return true
			}
		}
		return false
	case layers.IPProtocolTCP:
		if len(f.Hosts) > 0 && !slices.ContainsFunc(f.Hosts, func(h netip.Addr) bool { h = h.Unmap(); return h == src || h == dst }) {
			return false
		}
		if len(f.Ports) == 0 {
			return true
		}
		if fragment {
			return false
		}
		tcp, ok := ls[i+1].(*layers.TCP)
		if !ok {
			return false
		}
		return slices.Contains(f.Ports, uint16(tcp.SrcPort)) || slices.Contains(f.Ports, uint16(tcp.DstPort))
	}
	return false
}

// firstFragment decodes the start of a first fragment's payload as far as
// the filter reads it: a TCP header's ports (even when the rest of the
// header is in the next fragment), a UDP header and what follows it.
func firstFragment(proto layers.IPProtocol, payload []byte) gopacket.Layer {
	switch {
	case proto == layers.IPProtocolTCP && len(payload) >= 4:
		return &layers.TCP{SrcPort: layers.TCPPort(uint16(payload[0])<<8 | uint16(payload[1])), DstPort: layers.TCPPort(uint16(payload[2])<<8 | uint16(payload[3]))}
	case proto == layers.IPProtocolUDP:
		u := &layers.UDP{}
		if u.DecodeFromBytes(payload, gopacket.NilDecodeFeedback) == nil {
			return u
		}
	}
	return gopacket.Payload(payload)
}

// TestFilterVM runs the assembled filters in x/net/bpf's VM over the
// packets of the test captures and compares with gopacket's reading, for
// Ethernet and for the same packets without their Ethernet header (raw).
func TestFilterVM(t *testing.T) {
	corpus := loadCorpus(t)
	filters := []Filter{
		{},
		{Ports: []uint16{8080}},
		{Ports: []uint16{8443, 443, 80}},
		{Hosts: []netip.Addr{netip.MustParseAddr("198.18.2.2")}},
		{Hosts: []netip.Addr{netip.MustParseAddr("fd18:2::2")}},
		{Ports: []uint16{8080}, Hosts: []netip.Addr{netip.MustParseAddr("198.18.1.2"), netip.MustParseAddr("fd18:1::2")}},
		{Ports: []uint16{8443}, Hosts: []netip.Addr{netip.MustParseAddr("::ffff:198.18.2.2")}},
	}
	// Long enough that conditional jumps must go far (the relaxation in
	// asm.resolve): the tested ports and hosts come last in their lists.
	var big Filter
	for p := uint16(20000); p < 20070; p++ {
		big.Ports = append(big.Ports, p)
	}
	big.Ports = append(big.Ports, 8443, 8080)
	for i := 0; i < 20; i++ {
		big.Hosts = append(big.Hosts, netip.AddrFrom4([4]byte{10, 9, 0, byte(i)}))
	}
	for i := 0; i < 5; i++ {
		big.Hosts = append(big.Hosts, netip.AddrFrom16([16]byte{0xfd, 9, 15: byte(i)}))
	}
	big.Hosts = append(big.Hosts, netip.MustParseAddr("198.18.2.2"), netip.MustParseAddr("fd18:2::2"))
	filters = append(filters, big)
	if prog, err := big.Program(LinkEthernet, 0); err != nil || !hasFarJump(prog) {
		t.Fatalf("the long filter (err %v) has no far jump to test", err)
	}
	for i, f := range filters {
		name := f.String()
		if len(name) > 120 {
			name = "long-" + strconv.Itoa(i)
		}
		t.Run(name, func(t *testing.T) {
			eth := newVM(t, f, LinkEthernet)
			raw := newVM(t, f, LinkRaw)
			var pass, rejected, rawChecked int
			for _, p := range corpus {
				w := want(f, p.data)
				n, err := eth.Run(p.data)
				if err != nil {
					t.Fatalf("%s: %v", p.name, err)
				}
				if got := n > 0; got != w {
					t.Errorf("%s (Ethernet): filter says %v, gopacket %v", p.name, got, w)
				}
				if w {
					pass++
					if n != maxSnaplen {
						t.Errorf("%s: accept returned %d, want %d", p.name, n, maxSnaplen)
					}
				} else {
					rejected++
				}
				// The same packet as a raw (SOCK_DGRAM) socket reads it.
				et := layers.EthernetType(uint16(p.data[12])<<8 | uint16(p.data[13]))
				if len(p.data) > 14 && (et == layers.EthernetTypeIPv4 || et == layers.EthernetTypeIPv6) {
					rawChecked++
					n, err := raw.Run(p.data[14:])
					if err != nil {
						t.Fatalf("%s: %v", p.name, err)
					}
					if got := n > 0; got != w {
						t.Errorf("%s (raw): filter says %v, gopacket %v", p.name, got, w)
					}
				}
			}
			t.Logf("%d packets passed, %d rejected, %d also checked raw", pass, rejected, rawChecked)
			if pass == 0 || rejected == 0 {
				t.Errorf("the corpus does not exercise this filter: %d passed, %d rejected", pass, rejected)
			}
		})
	}
}

func newVM(t *testing.T, f Filter, link LinkKind) *bpf.VM {
	t.Helper()
	prog, err := f.Program(link, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bpf.Assemble(prog); err != nil {
		t.Fatal(err)
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatal(err)
	}
	return vm
}

// TestFilterSnaplen checks that the accept value is the snaplen, which is
// how the kernel truncates.
func TestFilterSnaplen(t *testing.T) {
	prog, err := Filter{}.Program(LinkRaw, 96)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := prog[len(prog)-1].(bpf.RetConstant); !ok || r.Val != 96 {
		t.Fatalf("last instruction %v, want ret #96", prog[len(prog)-1])
	}
}

// TestFilterTooLarge: a filter whose jumps do not fit is refused, not
// miscompiled.
func TestFilterTooLarge(t *testing.T) {
	var f Filter
	for p := 1; p <= 300; p++ {
		f.Ports = append(f.Ports, uint16(p))
	}
	if _, err := f.Program(LinkEthernet, 0); err == nil || !strings.Contains(err.Error(), "too many") {
		t.Fatalf("err = %v, want too many", err)
	}
}

// hasFarJump says whether prog holds a conditional hop over two jumps,
// the expansion of a conditional jump too far for a skip.
func hasFarJump(prog []bpf.Instruction) bool {
	for i := 0; i+2 < len(prog); i++ {
		j, ok := prog[i].(bpf.JumpIf)
		_, ok1 := prog[i+1].(bpf.Jump)
		_, ok2 := prog[i+2].(bpf.Jump)
		if ok && ok1 && ok2 && j.SkipTrue == 0 && j.SkipFalse == 1 {
			return true
		}
	}
	return false
}
