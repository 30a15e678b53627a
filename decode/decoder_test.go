package decode

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

var (
	testTime = time.Date(2026, 11, 26, 9, 0, 0, 123456000, time.UTC)
	macA     = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	macB     = net.HardwareAddr{0x02, 0, 0, 0, 0, 2}

	// The inner (analysed) flow of every test frame.
	cli4 = netip.MustParseAddr("10.0.0.1")
	srv4 = netip.MustParseAddr("10.0.0.2")
	cli6 = netip.MustParseAddr("fd00::1")
	srv6 = netip.MustParseAddr("fd00::2")
	// Outer tunnel endpoints, which must never show in a Segment.
	outer4a = net.IP{192, 168, 1, 1}
	outer4b = net.IP{192, 168, 1, 2}
	outer6a = net.ParseIP("2001:db8::a")
	outer6b = net.ParseIP("2001:db8::b")
)

const testPayload = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// serialize builds a frame with gopacket, fixing lengths and checksums.
func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		t.Fatalf("serialize: %v", err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func testTCPLayer() *layers.TCP {
	return &layers.TCP{
		SrcPort: 41000, DstPort: 443,
		Seq: 1000, Ack: 2000,
		ACK: true, PSH: true,
		Window: 502,
		Options: []layers.TCPOption{
			{OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: []byte{0, 0, 0, 7, 0, 0, 0, 9}},
			{OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindSACK, OptionLength: 18, OptionData: []byte{
				0, 0, 0x10, 0, 0, 0, 0x20, 0,
				0, 0, 0x30, 0, 0, 0, 0x40, 0}},
		},
	}
}

// ipTCP returns the bytes of an IP packet carrying a TCP segment of the
// inner flow, over IPv4 or IPv6.
func ipTCP(t testing.TB, v6 bool, payload []byte) []byte {
	tcp := testTCPLayer()
	if v6 {
		ip := &layers.IPv6{Version: 6, HopLimit: 63, NextHeader: layers.IPProtocolTCP,
			SrcIP: cli6.AsSlice(), DstIP: srv6.AsSlice()}
		tcp.SetNetworkLayerForChecksum(ip)
		return serialize(t, ip, tcp, gopacket.Payload(payload))
	}
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 63, Id: 0x1234, Protocol: layers.IPProtocolTCP,
		SrcIP: cli4.AsSlice(), DstIP: srv4.AsSlice()}
	tcp.SetNetworkLayerForChecksum(ip)
	return serialize(t, ip, tcp, gopacket.Payload(payload))
}

// wantSegment is the Segment every test frame of the inner flow decodes to.
func wantSegment(v6 bool, payload []byte) Segment {
	s := Segment{
		Input: 3, Frame: 7, Time: testTime,
		Src: netip.AddrPortFrom(cli4, 41000), Dst: netip.AddrPortFrom(srv4, 443),
		IPVersion: 4, TTL: 63, IPID: 0x1234,
		Seq: 1000, Ack: 2000, Flags: FlagACK | FlagPSH, Window: 502,
		Options: TCPOptions{WindowScale: -1, Timestamp: true, TSVal: 7, TSEcr: 9,
			SACK: []SACKBlock{{0x1000, 0x2000}, {0x3000, 0x4000}}},
		PayloadLen: len(payload),
		Payload:    payload,
	}
	if v6 {
		s.Src = netip.AddrPortFrom(cli6, 41000)
		s.Dst = netip.AddrPortFrom(srv6, 443)
		s.IPVersion, s.IPID = 6, 0
	}
	return s
}

func eth(t testing.TB, typ layers.EthernetType, payload []byte) []byte {
	return serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: typ}, gopacket.Payload(payload))
}

func etherTypeOf(v6 bool) layers.EthernetType {
	if v6 {
		return layers.EthernetTypeIPv6
	}
	return layers.EthernetTypeIPv4
}

func ipProtoOf(v6 bool) layers.IPProtocol {
	if v6 {
		return layers.IPProtocolIPv6
	}
	return layers.IPProtocolIPv4
}

// outerIP wraps payload in an outer IP header of the tunnel endpoints.
func outerIP(t testing.TB, v6 bool, proto layers.IPProtocol, payload []byte) []byte {
	if v6 {
		return serialize(t, &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto,
			SrcIP: outer6a, DstIP: outer6b}, gopacket.Payload(payload))
	}
	return serialize(t, &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto,
		SrcIP: outer4a, DstIP: outer4b}, gopacket.Payload(payload))
}

func outerUDP(t testing.TB, dport uint16, payload []byte) []byte {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: outer4a, DstIP: outer4b}
	udp := &layers.UDP{SrcPort: 51234, DstPort: layers.UDPPort(dport)}
	udp.SetNetworkLayerForChecksum(ip)
	return serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4},
		ip, udp, gopacket.Payload(payload))
}

func vxlan(inner []byte) []byte {
	return append([]byte{0x08, 0, 0, 0, 0, 0x12, 0x34, 0}, inner...)
}

func geneve(proto uint16, inner []byte) []byte {
	// One 4-byte word of options (a class/type/length header only).
	h := []byte{0x01, 0, 0, 0, 0, 0x12, 0x34, 0, 0x01, 0x02, 0x03, 0x00}
	binary.BigEndian.PutUint16(h[2:4], proto)
	return append(h, inner...)
}

func sllHeader(proto layers.EthernetType) []byte {
	h := []byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0, 0}
	binary.BigEndian.PutUint16(h[14:16], uint16(proto))
	return h
}

func sll2Header(proto layers.EthernetType) []byte {
	h := []byte{0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0}
	binary.BigEndian.PutUint16(h[0:2], uint16(proto))
	return h
}

func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

func u32(order binary.ByteOrder, v uint32) []byte {
	b := make([]byte, 4)
	order.PutUint32(b, v)
	return b
}

// ipv6ExtTCP builds IPv6 with hop-by-hop, routing, destination options
// and a first-fragment header before the TCP segment.
func ipv6ExtTCP(t testing.TB, fragOffset uint16, payload []byte) []byte {
	tcp := testTCPLayer()
	ip := &layers.IPv6{Version: 6, HopLimit: 63, NextHeader: layers.IPProtocolTCP, SrcIP: cli6.AsSlice(), DstIP: srv6.AsSlice()}
	tcp.SetNetworkLayerForChecksum(ip)
	seg := serialize(t, tcp, gopacket.Payload(payload))
	ext := []byte{
		byte(layers.IPProtocolIPv6Routing), 0, 1, 4, 0, 0, 0, 0, // hop-by-hop: PadN
		byte(layers.IPProtocolIPv6Destination), 0, 0, 0, 0, 0, 0, 0, // routing type 0, 0 segments left
		byte(layers.IPProtocolIPv6Fragment), 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // dest opts, 16 bytes
		byte(layers.IPProtocolTCP), 0, 0, 1, 0, 0, 0, 42, // fragment: offset 0, M=1
	}
	binary.BigEndian.PutUint16(ext[34:36], fragOffset<<3|1)
	return serialize(t, &layers.IPv6{Version: 6, HopLimit: 63, NextHeader: layers.IPProtocolIPv6HopByHop,
		SrcIP: cli6.AsSlice(), DstIP: srv6.AsSlice()}, gopacket.Payload(cat(ext, seg)))
}

type decodeCase struct {
	name     string
	lt       layers.LinkType
	frame    []byte
	wireLen  int // 0: len(frame)
	want     *Segment
	wantErr  string // substring of the error
	wantStat func(DecodeStats) bool
}

func decodeCases(t testing.TB) []decodeCase {
	pl := []byte(testPayload)
	w4, w6 := wantSegment(false, pl), wantSegment(true, pl)
	tun := func(s DecodeStats) bool { return s.Tunnelled == 1 && s.TCP == 1 }
	ip4, ip6 := ipTCP(t, false, pl), ipTCP(t, true, pl)
	w6frag := w6
	w6frag.Fragment = true

	cases := []decodeCase{
		{name: "ethernet/ipv4", lt: layers.LinkTypeEthernet, frame: eth(t, layers.EthernetTypeIPv4, ip4), want: &w4},
		{name: "ethernet/ipv6", lt: layers.LinkTypeEthernet, frame: eth(t, layers.EthernetTypeIPv6, ip6), want: &w6},
		{name: "vlan", lt: layers.LinkTypeEthernet,
			frame: eth(t, layers.EthernetTypeDot1Q, cat([]byte{0, 100, 0x08, 0x00}, ip4)), want: &w4},
		{name: "qinq 88a8", lt: layers.LinkTypeEthernet,
			frame: eth(t, layers.EthernetTypeQinQ, cat([]byte{0, 10, 0x81, 0x00, 0, 100, 0x86, 0xdd}, ip6)), want: &w6},
		{name: "qinq 9100", lt: layers.LinkTypeEthernet,
			frame: eth(t, 0x9100, cat([]byte{0, 10, 0x81, 0x00, 0, 100, 0x08, 0x00}, ip4)), want: &w4},
		{name: "linux sll", lt: layers.LinkTypeLinuxSLL, frame: cat(sllHeader(layers.EthernetTypeIPv4), ip4), want: &w4},
		{name: "linux sll ipv6", lt: layers.LinkTypeLinuxSLL, frame: cat(sllHeader(layers.EthernetTypeIPv6), ip6), want: &w6},
		{name: "linux sll infiniband address", lt: layers.LinkTypeLinuxSLL,
			frame: cat(func() []byte { h := sllHeader(layers.EthernetTypeIPv4); h[5] = 20; return h }(), ip4), want: &w4},
		{name: "linux sll2", lt: layers.LinkTypeLinuxSLL2, frame: cat(sll2Header(layers.EthernetTypeIPv4), ip4), want: &w4},
		{name: "linux sll2 vlan", lt: layers.LinkTypeLinuxSLL2,
			frame: cat(sll2Header(layers.EthernetTypeDot1Q), []byte{0, 5, 0x86, 0xdd}, ip6), want: &w6},
		{name: "raw 101 v4", lt: layers.LinkTypeRaw, frame: ip4, want: &w4},
		{name: "raw 101 v6", lt: layers.LinkTypeRaw, frame: ip6, want: &w6},
		{name: "raw 12", lt: 12, frame: ip4, want: &w4},
		{name: "raw 14", lt: 14, frame: ip6, want: &w6},
		{name: "ipv4 228", lt: layers.LinkTypeIPv4, frame: ip4, want: &w4},
		{name: "ipv6 229", lt: layers.LinkTypeIPv6, frame: ip6, want: &w6},
		{name: "null LE AF 2", lt: layers.LinkTypeNull, frame: cat(u32(binary.LittleEndian, 2), ip4), want: &w4},
		{name: "null BE AF 2", lt: layers.LinkTypeNull, frame: cat(u32(binary.BigEndian, 2), ip4), want: &w4},
		{name: "null AF 24", lt: layers.LinkTypeNull, frame: cat(u32(binary.LittleEndian, 24), ip6), want: &w6},
		{name: "null AF 28", lt: layers.LinkTypeNull, frame: cat(u32(binary.LittleEndian, 28), ip6), want: &w6},
		{name: "null AF 30", lt: layers.LinkTypeNull, frame: cat(u32(binary.BigEndian, 30), ip6), want: &w6},
		{name: "loop AF 2", lt: layers.LinkTypeLoop, frame: cat(u32(binary.BigEndian, 2), ip4), want: &w4},
		{name: "loop AF 30", lt: layers.LinkTypeLoop, frame: cat(u32(binary.BigEndian, 30), ip6), want: &w6},

		{name: "vxlan 4789", lt: layers.LinkTypeEthernet,
			frame: outerUDP(t, 4789, vxlan(eth(t, layers.EthernetTypeIPv4, ip4))), want: &w4, wantStat: tun},
		{name: "vxlan 8472 vlan v6", lt: layers.LinkTypeEthernet,
			frame: outerUDP(t, 8472, vxlan(eth(t, layers.EthernetTypeDot1Q, cat([]byte{0, 7, 0x86, 0xdd}, ip6)))), want: &w6, wantStat: tun},
		{name: "geneve ethernet", lt: layers.LinkTypeEthernet,
			frame: outerUDP(t, 6081, geneve(0x6558, eth(t, layers.EthernetTypeIPv4, ip4))), want: &w4, wantStat: tun},
		{name: "geneve ipv6", lt: layers.LinkTypeEthernet,
			frame: outerUDP(t, 6081, geneve(0x86dd, ip6)), want: &w6, wantStat: tun},
		{name: "gre key ipv4", lt: layers.LinkTypeRaw,
			frame: outerIP(t, false, layers.IPProtocolGRE, cat([]byte{0x20, 0, 0x08, 0x00, 0, 0, 0, 1}, ip4)), want: &w4, wantStat: tun},
		{name: "gre teb", lt: layers.LinkTypeRaw,
			frame: outerIP(t, true, layers.IPProtocolGRE, cat([]byte{0, 0, 0x65, 0x58}, eth(t, layers.EthernetTypeIPv6, ip6))), want: &w6, wantStat: tun},
		{name: "mpls", lt: layers.LinkTypeEthernet,
			frame: eth(t, layers.EthernetTypeMPLSUnicast, cat([]byte{0, 1, 0, 64, 0, 2, 1, 64}, ip4)), want: &w4},
		{name: "pppoe", lt: layers.LinkTypeEthernet,
			frame: eth(t, layers.EthernetTypePPPoESession, cat([]byte{0x11, 0, 0, 1, byte((len(ip6) + 2) >> 8), byte(len(ip6) + 2), 0x00, 0x57}, ip6)), want: &w6},
		{name: "ipv6 extension headers, first fragment", lt: layers.LinkTypeRaw, frame: ipv6ExtTCP(t, 0, pl), want: &w6frag},
		{name: "ipv6 later fragment", lt: layers.LinkTypeRaw, frame: ipv6ExtTCP(t, 185, pl),
			wantStat: func(s DecodeStats) bool { return s.NonTCP == 1 && s.Fragments == 1 }},
	}
	for _, outer := range []bool{false, true} {
		for _, inner := range []bool{false, true} {
			name := map[bool]string{false: "4", true: "6"}
			want := &w4
			innerPkt := ip4
			if inner {
				want, innerPkt = &w6, ip6
			}
			cases = append(cases, decodeCase{
				name:  name[inner] + "in" + name[outer],
				lt:    layers.LinkTypeEthernet,
				frame: eth(t, etherTypeOf(outer), outerIP(t, outer, ipProtoOf(inner), innerPkt)),
				want:  want, wantStat: tun,
			})
		}
	}

	// IPv4 with options (record route + end of list).
	{
		tcp := testTCPLayer()
		ip := &layers.IPv4{Version: 4, TTL: 63, Id: 0x1234, Protocol: layers.IPProtocolTCP, SrcIP: cli4.AsSlice(), DstIP: srv4.AsSlice(),
			Options: []layers.IPv4Option{{OptionType: 7, OptionLength: 7, OptionData: []byte{4, 0, 0, 0, 0}}, {OptionType: 0, OptionLength: 1}}}
		tcp.SetNetworkLayerForChecksum(ip)
		cases = append(cases, decodeCase{name: "ipv4 options", lt: layers.LinkTypeRaw, frame: serialize(t, ip, tcp, gopacket.Payload(pl)), want: &w4})
	}

	// A SYN with every option the analysis uses.
	{
		tcp := &layers.TCP{SrcPort: 41000, DstPort: 443, Seq: 99, SYN: true, Window: 64240, Options: []layers.TCPOption{
			{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}},
			{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2},
			{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: []byte{0, 0, 1, 0, 0, 0, 0, 0}},
			{OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{7}},
		}}
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: 1, Protocol: layers.IPProtocolTCP, SrcIP: cli4.AsSlice(), DstIP: srv4.AsSlice()}
		tcp.SetNetworkLayerForChecksum(ip)
		want := Segment{Input: 3, Frame: 7, Time: testTime,
			Src: netip.AddrPortFrom(cli4, 41000), Dst: netip.AddrPortFrom(srv4, 443),
			IPVersion: 4, TTL: 64, IPID: 1, Seq: 99, Flags: FlagSYN, Window: 64240,
			Options: TCPOptions{MSS: 1460, WindowScale: 7, SACKPermitted: true, SACK: []SACKBlock{}, Timestamp: true, TSVal: 256},
			Payload: []byte{}}
		cases = append(cases, decodeCase{name: "syn options", lt: layers.LinkTypeEthernet,
			frame: serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4}, ip, tcp), want: &want})
	}

	// Snaplen: the frame keeps 96 bytes of a 1000-byte payload; the
	// payload length still comes from the IP header.
	{
		big := bytes.Repeat([]byte{'x'}, 1000)
		frame := eth(t, layers.EthernetTypeIPv4, ipTCP(t, false, big))
		want := wantSegment(false, big)
		hdr := 14 + 20 + 20 + 32 // options: NOP NOP TS NOP NOP SACK(2 blocks)
		want.Payload = big[:96-hdr]
		cases = append(cases, decodeCase{name: "snaplen 96", lt: layers.LinkTypeEthernet, frame: frame[:96], wireLen: len(frame), want: &want})

		// Cut inside the TCP options: fixed header kept, options partly.
		cut := 14 + 20 + 20 + 4 // NOP NOP kind=8 len=10 -> timestamp cut
		want2 := wantSegment(false, big)
		want2.Options = TCPOptions{WindowScale: -1, SACK: []SACKBlock{}}
		want2.Payload = []byte{}
		cases = append(cases, decodeCase{name: "snaplen inside tcp options", lt: layers.LinkTypeEthernet, frame: frame[:cut], wireLen: len(frame), want: &want2})
	}

	// Ethernet padding: a bare ACK padded to 60 bytes has no payload.
	{
		frame := eth(t, layers.EthernetTypeIPv4, ipTCP(t, false, nil))
		for len(frame) < 60 {
			frame = append(frame, 0)
		}
		want := wantSegment(false, []byte{})
		cases = append(cases, decodeCase{name: "ethernet padding", lt: layers.LinkTypeEthernet, frame: frame, want: &want})
	}

	// An IPv4 total length beyond an untruncated frame is not believed.
	{
		pkt := ipTCP(t, false, pl)
		binary.BigEndian.PutUint16(pkt[2:4], 4000)
		want := wantSegment(false, pl)
		cases = append(cases, decodeCase{name: "ipv4 length lies", lt: layers.LinkTypeRaw, frame: pkt, want: &want})
		pkt6 := ipTCP(t, true, pl)
		binary.BigEndian.PutUint16(pkt6[4:6], 4000)
		want6 := wantSegment(true, pl)
		cases = append(cases, decodeCase{name: "ipv6 length lies", lt: layers.LinkTypeRaw, frame: pkt6, want: &want6})
	}

	// TSO: a NIC that segments in hardware hands the capture IPv4
	// packets with total length 0; the frame gives the length.
	{
		pkt := ipTCP(t, false, pl)
		binary.BigEndian.PutUint16(pkt[2:4], 0)
		want := wantSegment(false, pl)
		cases = append(cases, decodeCase{name: "ipv4 tso length 0", lt: layers.LinkTypeRaw, frame: pkt, want: &want})
	}

	// Packets without TCP.
	notTCP := func(nonIP bool) func(DecodeStats) bool {
		return func(s DecodeStats) bool {
			if nonIP {
				return s.NonIP == 1 && s.NonTCP == 0
			}
			return s.NonTCP == 1 && s.NonIP == 0
		}
	}
	arp := serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: layers.EthernetBroadcast, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: 1, SourceHwAddress: macA, SourceProtAddress: []byte{10, 0, 0, 1}, DstHwAddress: make([]byte, 6), DstProtAddress: []byte{10, 0, 0, 2}})
	udpIP := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: cli4.AsSlice(), DstIP: srv4.AsSlice()}
	udp := &layers.UDP{SrcPort: 5353, DstPort: 53}
	udp.SetNetworkLayerForChecksum(udpIP)
	icmpIP := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolICMPv4, SrcIP: cli4.AsSlice(), DstIP: srv4.AsSlice()}
	frag := ipTCP(t, false, pl)
	binary.BigEndian.PutUint16(frag[6:8], 100) // fragment offset 800
	// IPv4 first fragments: read when the TCP header is whole.
	{
		first := ipTCP(t, false, pl)
		first[6] |= 0x20 // more fragments
		want := wantSegment(false, pl)
		want.Fragment = true
		tiny := append([]byte(nil), first[:20+16]...)
		binary.BigEndian.PutUint16(tiny[2:4], 36)
		cases = append(cases,
			decodeCase{name: "ipv4 first fragment", lt: layers.LinkTypeRaw, frame: first, want: &want},
			decodeCase{name: "ipv4 tiny first fragment", lt: layers.LinkTypeRaw, frame: tiny,
				wantStat: func(s DecodeStats) bool { return s.Fragments == 1 && s.NonTCP == 1 }})
	}
	cases = append(cases,
		decodeCase{name: "arp", lt: layers.LinkTypeEthernet, frame: arp, wantStat: notTCP(true)},
		decodeCase{name: "udp", lt: layers.LinkTypeEthernet, frame: serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4}, udpIP, udp, gopacket.Payload("dns")), wantStat: notTCP(false)},
		decodeCase{name: "icmp", lt: layers.LinkTypeRaw, frame: serialize(t, icmpIP, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0)}), wantStat: notTCP(false)},
		decodeCase{name: "ipv4 later fragment", lt: layers.LinkTypeRaw, frame: frag, wantStat: func(s DecodeStats) bool { return s.Fragments == 1 && s.NonTCP == 1 }},
		decodeCase{name: "unsupported link type", lt: 147, frame: ip4, wantStat: notTCP(true)},
		decodeCase{name: "null AF 7", lt: layers.LinkTypeNull, frame: cat(u32(binary.LittleEndian, 7), ip4), wantStat: notTCP(true)},
		decodeCase{name: "vxlan without I flag", lt: layers.LinkTypeEthernet, frame: outerUDP(t, 4789, append([]byte{0, 0, 0, 0, 0, 0, 0, 0}, eth(t, layers.EthernetTypeIPv4, ip4)...)), wantStat: notTCP(false)},
	)

	// Malformed packets.
	shortTCP := ipTCP(t, false, nil)
	shortTCP[32] = 0x30 // data offset 3
	badIHL := ipTCP(t, false, pl)
	badIHL[0] = 0x4f // 60-byte header
	binary.BigEndian.PutUint16(badIHL[2:4], 40)
	hugeTCPHdr := ipTCP(t, false, nil)
	hugeTCPHdr[32] = 0xf0 // 60-byte header in a 52-byte segment
	deep := ip4
	for range maxNesting + 1 {
		deep = outerIP(t, false, layers.IPProtocolIPv4, deep)
	}
	cases = append(cases,
		decodeCase{name: "tcp data offset 3", lt: layers.LinkTypeRaw, frame: shortTCP, wantErr: "tcp header length 12"},
		decodeCase{name: "tcp header beyond segment", lt: layers.LinkTypeRaw, frame: hugeTCPHdr, wantErr: "tcp header length 60 exceeds"},
		decodeCase{name: "ipv4 header beyond length", lt: layers.LinkTypeRaw, frame: badIHL, wantErr: "ipv4"},
		decodeCase{name: "ipv4 cut", lt: layers.LinkTypeRaw, frame: ip4[:12], wireLen: len(ip4), wantErr: "ipv4 header: 12 bytes"},
		decodeCase{name: "ethernet cut", lt: layers.LinkTypeEthernet, frame: []byte{1, 2, 3}, wantErr: "ethernet"},
		decodeCase{name: "sll cut", lt: layers.LinkTypeLinuxSLL, frame: sllHeader(0x800)[:10], wantErr: "linux sll"},
		decodeCase{name: "tcp cut before ports", lt: layers.LinkTypeRaw, frame: ip4[:30], wireLen: len(ip4), wantErr: "tcp header: 10 bytes"},
		decodeCase{name: "nesting", lt: layers.LinkTypeRaw, frame: deep, wantErr: "nested"},
	)
	return cases
}

func TestDecode(t *testing.T) {
	for _, tc := range decodeCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder()
			p := &Packet{Input: 3, Frame: 7, Time: testTime, LinkType: tc.lt, Data: tc.frame,
				CaptureLen: len(tc.frame), WireLen: len(tc.frame)}
			if tc.wireLen != 0 {
				p.WireLen = tc.wireLen
			}
			var s Segment
			ok, err := d.Decode(p, &s)
			switch {
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Decode error = %v, want one containing %q", err, tc.wantErr)
				}
				if ok || d.Stats().Malformed != 1 {
					t.Errorf("ok = %v, stats %+v; want false and 1 malformed", ok, d.Stats())
				}
			case tc.want != nil:
				if err != nil || !ok {
					t.Fatalf("Decode = %v, %v; want true, nil", ok, err)
				}
				if !reflect.DeepEqual(s, *tc.want) {
					t.Errorf("segment\n got %+v\nwant %+v", s, *tc.want)
				}
			default:
				if err != nil || ok {
					t.Fatalf("Decode = %v, %v; want false, nil", ok, err)
				}
			}
			if tc.wantStat != nil && !tc.wantStat(d.Stats()) {
				t.Errorf("stats %+v", d.Stats())
			}
			if tc.want != nil {
				// The same frame again gives the same segment: nothing
				// leaks from one packet into the next.
				var s2 Segment
				if ok, _ := d.Decode(p, &s2); !ok || !reflect.DeepEqual(s, s2) {
					t.Errorf("second decode differs: %+v", s2)
				}
			}
		})
	}
}

func TestDecodeNoAllocs(t *testing.T) {
	d := NewDecoder()
	var s Segment
	for _, tc := range decodeCases(t) {
		p := &Packet{LinkType: tc.lt, Data: tc.frame, CaptureLen: len(tc.frame), WireLen: max(len(tc.frame), tc.wireLen)}
		if tc.wantErr != "" {
			continue // errors allocate their message; they are rare
		}
		if n := testing.AllocsPerRun(100, func() { d.Decode(p, &s) }); n != 0 {
			t.Errorf("%s: %v allocs per Decode", tc.name, n)
		}
	}
}

// TestDecodeThroughCaptures writes every decode case into capture files,
// a pcap per case and one pcapng with an interface per link type, and
// checks that reading them back gives the same segments.
func TestDecodeThroughCaptures(t *testing.T) {
	cases := decodeCases(t)
	var ng bytes.Buffer
	ngw, err := pcapgo.NewNgWriterInterface(&ng, pcapgo.NgInterface{LinkType: cases[0].lt}, pcapgo.NgWriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ifaces := map[layers.LinkType]int{cases[0].lt: 0}
	var want []*Segment
	for _, tc := range cases {
		if !Supported(tc.lt) {
			continue
		}
		ci := gopacket.CaptureInfo{Timestamp: testTime, CaptureLength: len(tc.frame), Length: max(len(tc.frame), tc.wireLen)}
		var pc bytes.Buffer
		w := pcapgo.NewWriterNanos(&pc)
		w.WriteFileHeader(262144, tc.lt)
		w.WritePacket(ci, tc.frame)
		if tc.want != nil {
			// A file's Linux cooked header says the packet's direction,
			// which a bare Decode is not told.
			w := *tc.want
			switch tc.lt {
			case layers.LinkTypeLinuxSLL:
				w.Received = sllDirection(tc.frame).In
			case layers.LinkTypeLinuxSLL2:
				w.Received = sll2Iface(tc.frame).In
			}
			tc.want = &w
		}
		got := readSegments(t, pc.Bytes())
		if len(got) != 1 || !sameSegment(got[0], tc.want, 1) {
			t.Errorf("%s: via pcap: %+v, want %+v", tc.name, got, tc.want)
		}

		id, ok := ifaces[tc.lt]
		if !ok {
			if id, err = ngw.AddInterface(pcapgo.NgInterface{LinkType: tc.lt}); err != nil {
				t.Fatal(err)
			}
			ifaces[tc.lt] = id
		}
		ci.InterfaceIndex = id
		if err := ngw.WritePacket(ci, tc.frame); err != nil {
			t.Fatal(err)
		}
		want = append(want, tc.want)
	}
	ngw.Flush()
	got := readSegments(t, ng.Bytes())
	if len(got) != len(want) {
		t.Fatalf("pcapng: %d frames, want %d", len(got), len(want))
	}
	for i := range got {
		if !sameSegment(got[i], want[i], i+1) {
			t.Errorf("pcapng frame %d: %+v, want %+v", i+1, got[i], want[i])
		}
	}
}

// readSegments reads a capture and decodes every frame; frames without a
// segment give nil.
func readSegments(t *testing.T, data []byte) []*Segment {
	t.Helper()
	src, err := NewReader(bytes.NewReader(data), "mem", 3)
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder()
	var out []*Segment
	for {
		p, err := src.Next()
		if err != nil {
			break
		}
		s := new(Segment)
		if ok, _ := d.Decode(p, s); !ok {
			s = nil
		} else {
			s.Payload = append([]byte{}, s.Payload...)
			s.Options.SACK = append([]SACKBlock{}, s.Options.SACK...)
		}
		out = append(out, s)
	}
	return out
}

// sameSegment compares a segment read from a capture with a decode case's
// expectation, which has frame 7 and input 3.
func sameSegment(got, want *Segment, frame int) bool {
	if got == nil || want == nil {
		return got == nil && want == nil
	}
	w := *want
	w.Frame = frame
	return reflect.DeepEqual(*got, w)
}

// TestIPv4WithoutOptions: a header without options, read by hand
// (Decoder.ipv4), gives what the same datagram with a NOP option, read
// by gopacket's layer, gives: the same segment, or an error of the same
// kind, whatever its length field (0 as TSO leaves it, short, long,
// beyond the frame) and its DF bit.
func TestIPv4WithoutOptions(t *testing.T) {
	pl := []byte("GET / HTTP/1.1\r\n")
	plain := ipTCP(t, false, pl)
	withOpt := func(b []byte) []byte {
		// A NOP and three EOLs: 4 bytes more of header.
		o := append(append(append([]byte(nil), b[:20]...), 1, 0, 0, 0), b[20:]...)
		o[0] = 0x46
		return o
	}
	for _, length := range []int{-1, 0, 1, 12, 19, 20, 30, len(plain) - 1, len(plain), len(plain) + 1, 1500} {
		for _, df := range []bool{false, true} {
			a := append([]byte(nil), plain...)
			if df {
				a[6] |= 0x40
			}
			b := withOpt(a)
			if length < 0 { // as serialized
				binary.BigEndian.PutUint16(b[2:4], uint16(len(b)))
			} else {
				binary.BigEndian.PutUint16(a[2:4], uint16(length))
				// The option's 4 bytes, but for 0 (TSO) and lengths the
				// layer would refuse for both (under a header).
				l := length + 4
				if length < 20 {
					l = length
				}
				binary.BigEndian.PutUint16(b[2:4], uint16(l))
			}
			var sa, sb Segment
			da, db := NewDecoder(), NewDecoder()
			oka, erra := da.Decode(&Packet{LinkType: layers.LinkTypeRaw, Data: a, CaptureLen: len(a), WireLen: len(a)}, &sa)
			okb, errb := db.Decode(&Packet{LinkType: layers.LinkTypeRaw, Data: b, CaptureLen: len(b), WireLen: len(b)}, &sb)
			if oka != okb || (erra == nil) != (errb == nil) {
				t.Fatalf("length %d df %v: by hand %v %v, by the layer %v %v", length, df, oka, erra, okb, errb)
			}
			if erra != nil {
				if length != 0 && length < 20 && erra.Error() != errb.Error() {
					t.Errorf("length %d: by hand %q, by the layer %q", length, erra, errb)
				}
				continue
			}
			if !reflect.DeepEqual(sa, sb) {
				t.Errorf("length %d df %v:\nby hand   %+v\nthe layer %+v", length, df, sa, sb)
			}
		}
	}
}

// TestOptionsTimestampFirst: two no-ops and the timestamps, taken at
// once (Decoder.options), read as the same options in another order
// are read by the loop; other 12-byte options are not taken for them.
func TestOptionsTimestampFirst(t *testing.T) {
	ts := []byte{8, 10, 0x01, 0x02, 0x03, 0x04, 0xf1, 0xf2, 0xf3, 0xf4}
	d := NewDecoder()
	for _, tc := range []struct {
		name       string
		fast, loop []byte
	}{
		{"timestamps", append([]byte{1, 1}, ts...), append(slices.Clone(ts), 1, 1)},
		{"window scale", []byte{1, 1, 3, 3, 7, 1, 1, 1, 1, 1, 1, 1}, []byte{3, 3, 7, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
		{"short timestamp", []byte{1, 1, 8, 9, 0, 0, 0, 1, 0, 0, 0, 0}, []byte{8, 9, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1}},
	} {
		var a, b TCPOptions
		d.options(tc.fast, &a)
		a.SACK = nil
		d.options(tc.loop, &b)
		b.SACK = nil
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: %+v, the loop's %+v", tc.name, a, b)
		}
	}
}
