package decode

import (
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// icmpFrom wraps an ICMP message (type, code, 4 unused bytes, quote) in
// an Ethernet frame and an IP header from the router router.
func icmpFrom(t *testing.T, v6 bool, router netip.Addr, typ, code uint8, quote []byte) []byte {
	msg := append([]byte{typ, code, 0, 0, 0, 0, 0, 0}, quote...)
	if v6 {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolICMPv6, SrcIP: router.AsSlice(), DstIP: cli6.AsSlice()}
		return eth(t, layers.EthernetTypeIPv6, serialize(t, ip, gopacket.Payload(msg)))
	}
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolICMPv4, SrcIP: router.AsSlice(), DstIP: cli4.AsSlice()}
	return eth(t, layers.EthernetTypeIPv4, serialize(t, ip, gopacket.Payload(msg)))
}

func TestDecodeICMPError(t *testing.T) {
	r4, r6 := netip.MustParseAddr("10.0.9.1"), netip.MustParseAddr("fd00:9::1")
	quoted4 := ipTCP(t, false, nil) // TTL 63, seq 1000, 10.0.0.1:41000 -> 10.0.0.2:443
	quoted6 := ipTCP(t, true, nil)
	want4 := ICMPError{Input: 3, Frame: 7, Time: testTime, From: r4, IPVersion: 4,
		Src: netip.AddrPortFrom(cli4, 41000), Dst: netip.AddrPortFrom(srv4, 443), Seq: 1000, TTL: 63, IPID: 0x1234}
	want6 := want4
	want6.From, want6.IPVersion, want6.IPID = r6, 6, 0
	want6.Src, want6.Dst = netip.AddrPortFrom(cli6, 41000), netip.AddrPortFrom(srv6, 443)
	with := func(e ICMPError, k ICMPKind, typ, code uint8) *ICMPError {
		e.Kind, e.Type, e.Code = k, typ, code
		return &e
	}
	udp := append([]byte(nil), quoted4...)
	udp[9] = uint8(layers.IPProtocolUDP)
	for _, tc := range []struct {
		name  string
		frame []byte
		want  *ICMPError // nil: no ICMP error read
	}{
		// What a router sends back for a traceroute probe whose TTL ran out.
		{"v4 time exceeded", icmpFrom(t, false, r4, 11, 0, quoted4), with(want4, ICMPTimeExceeded, 11, 0)},
		// RFC 792 requires only the IP header and 8 bytes: ports and seq.
		{"v4 time exceeded, 8 bytes quoted", icmpFrom(t, false, r4, 11, 0, quoted4[:28]), with(want4, ICMPTimeExceeded, 11, 0)},
		{"v4 port unreachable", icmpFrom(t, false, r4, 3, 13, quoted4), with(want4, ICMPUnreachable, 3, 13)},
		{"v6 time exceeded", icmpFrom(t, true, r6, 3, 0, quoted6), with(want6, ICMPTimeExceeded, 3, 0)},
		{"v6 unreachable", icmpFrom(t, true, r6, 1, 4, quoted6), with(want6, ICMPUnreachable, 1, 4)},
		// Not errors about a TCP segment: nothing to match a connection to.
		{"v4 echo request", icmpFrom(t, false, r4, 8, 0, quoted4), nil},
		{"v6 echo request", icmpFrom(t, true, r6, 128, 0, quoted6), nil},
		{"v4 quote of udp", icmpFrom(t, false, r4, 11, 0, udp), nil},
		{"v4 quote cut inside the tcp header", icmpFrom(t, false, r4, 11, 0, quoted4[:24]), nil},
		{"v4 quote cut inside the ip header", icmpFrom(t, false, r4, 11, 0, quoted4[:12]), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder()
			var s Segment
			ok, err := d.Decode(&Packet{Input: 3, Frame: 7, Time: testTime, LinkType: layers.LinkTypeEthernet, Data: tc.frame, WireLen: len(tc.frame)}, &s)
			if ok || err != nil {
				t.Fatalf("Decode = %v, %v; want no segment, no error", ok, err)
			}
			if st := d.Stats(); st.NonTCP != 1 {
				t.Errorf("NonTCP = %d, want 1: an ICMP packet is counted as not TCP", st.NonTCP)
			}
			got, gotOK := d.ICMPError()
			switch {
			case tc.want == nil && gotOK:
				t.Fatalf("ICMPError = %+v, want none", got)
			case tc.want != nil && !gotOK:
				t.Fatalf("ICMPError: none, want %+v", *tc.want)
			case tc.want != nil && got != *tc.want:
				t.Fatalf("ICMPError = %+v\nwant %+v", got, *tc.want)
			}
			// The next packet, a TCP segment, carries no ICMP error.
			frame := eth(t, layers.EthernetTypeIPv4, quoted4)
			if ok, _ := d.Decode(&Packet{LinkType: layers.LinkTypeEthernet, Data: frame, WireLen: len(frame)}, &s); !ok {
				t.Fatal("the TCP segment after did not decode")
			}
			if _, ok := d.ICMPError(); ok {
				t.Error("ICMPError still set after a TCP segment")
			}
		})
	}
}
