package decode

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// forwardedCapture is a conversation as a router's capture of both its
// interfaces holds it: each packet on interface in (ifindex 7) and, 20 µs
// later, on interface out (ifindex 9), as LINUX_SLL2 (tcpdump -i any) or
// pcapng with one named interface block each (dumpcap -i a -i b). When
// forwarded is false the second interface sees other traffic instead (a
// host's own two links), no copies.
func forwardedCapture(t testing.TB, ng, forwarded bool) []byte {
	conv := conversation(t, false, 4, 20, 60)
	other := conversation(t, true, 4, 20, 60)
	type rec struct {
		at    time.Time
		iface int
		ip    []byte
	}
	var recs []rec
	at := testTime
	for i, p := range conv {
		at = at.Add(p.gap)
		recs = append(recs, rec{at, 0, p.ip})
		if forwarded {
			recs = append(recs, rec{at.Add(20 * time.Microsecond), 1, p.ip})
		} else {
			recs = append(recs, rec{at.Add(20 * time.Microsecond), 1, other[i%len(other)].ip})
		}
	}
	var buf bytes.Buffer
	ifindex := [2]uint32{7, 9}
	if ng {
		w, err := pcapgo.NewNgWriterInterface(&buf, pcapgo.NgInterface{Name: "eth0", LinkType: layers.LinkTypeRaw, SnapLength: 65535}, pcapgo.DefaultNgWriterOptions)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.AddInterface(pcapgo.NgInterface{Name: "eth1", LinkType: layers.LinkTypeRaw, SnapLength: 65535}); err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: r.at, CaptureLength: len(r.ip), Length: len(r.ip), InterfaceIndex: r.iface}, r.ip); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	w := pcapgo.NewWriterNanos(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeLinuxSLL2); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		typ := layers.EthernetTypeIPv4
		if r.ip[0]>>4 == 6 {
			typ = layers.EthernetTypeIPv6
		}
		h := sll2Header(typ)
		binary.BigEndian.PutUint32(h[4:8], ifindex[r.iface])
		h[10] = byte(r.iface * sllPacketOutgoing) // in on the first, out on the second
		frame := cat(h, r.ip)
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: r.at, CaptureLength: len(frame), Length: len(frame)}, frame); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// TestPacketIface: each packet names its interface as the format says:
// the SLL2 ifindex and direction, the pcapng interface id and if_name.
func TestPacketIface(t *testing.T) {
	for _, tc := range []struct {
		name string
		ng   bool
		want [2]Iface
	}{
		{"sll2", false, [2]Iface{{ID: 7, Known: true, In: true}, {ID: 9, Known: true, Out: true}}},
		{"pcapng", true, [2]Iface{{ID: 0, Known: true, Name: "eth0"}, {ID: 1, Known: true, Name: "eth1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := NewReader(bytes.NewReader(forwardedCapture(t, tc.ng, true)), "router.pcap", 0)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 4 {
				p, err := src.Next()
				if err != nil {
					t.Fatal(err)
				}
				if p.Iface != tc.want[i%2] {
					t.Errorf("frame %d: interface %+v, want %+v", p.Frame, p.Iface, tc.want[i%2])
				}
			}
			if got := tc.want[1].Label(); got != map[bool]string{false: "if9", true: "eth1"}[tc.ng] {
				t.Errorf("label %q", got)
			}
		})
	}
}

// TestSurveyInterfaces: a file of forwarded copies shows them across its
// two interfaces; one whose interfaces see other traffic shows none; a
// file whose packets name no interface is not surveyed.
func TestSurveyInterfaces(t *testing.T) {
	for _, tc := range []struct {
		name          string
		ng, forwarded bool
		copies        int
	}{
		{"sll2 forwarded", false, true, 15},
		{"pcapng forwarded", true, true, 15},
		{"sll2 two links", false, false, 0},
		{"pcapng two links", true, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := NewReader(bytes.NewReader(forwardedCapture(t, tc.ng, tc.forwarded)), "router.pcap", 0)
			if err != nil {
				t.Fatal(err)
			}
			sv, err := SurveyInterfaces(src)
			if err != nil || sv == nil {
				t.Fatal(sv, err)
			}
			if sv.Copies != tc.copies || len(sv.Interfaces) != 2 || sv.Segments != 30 {
				t.Errorf("%d copies, %d segments, interfaces %+v; want %d copies, 30 segments, 2 interfaces", sv.Copies, sv.Segments, sv.Interfaces, tc.copies)
			}
			for i, f := range sv.Interfaces {
				if f.Segments != 15 || f.FirstFrame != i+1 {
					t.Errorf("interface %d: %+v", i, f)
				}
			}
		})
	}
	src, err := NewReader(bytes.NewReader(twiceCapture(t)), "mirror.pcap", 0)
	if err != nil {
		t.Fatal(err)
	}
	if sv, err := SurveyInterfaces(src); sv != nil || err != nil || src.Info().Packets != 1 {
		t.Errorf("Ethernet capture surveyed: %+v, %v, %d packets read", sv, err, src.Info().Packets)
	}
}

// TestOneInterfacePerConnection: a connection seen on two interfaces is
// analysed on the first: every packet once. Copies on a second interface
// of every packet (a bridge's port and the bridge), or as a node that
// forwards sees them (the client's packets in on if7 and out on if9, the
// server's in on if9 and out on if7: the SYN-ACK, first on if9, is taken
// there until if7 shows it); a connection whose answers come in by
// another interface than its requests leave by (asymmetric routing)
// keeps both directions.
func TestOneInterfacePerConnection(t *testing.T) {
	conv := conversation(t, false, 4, 20, 60)
	fromClient := func(ip []byte) bool { return ip[15] == 1 } // 10.0.0.1
	for _, tc := range []struct {
		name string
		// on gives the interfaces a packet is captured on, in order.
		on          func(ip []byte) []int32
		kept, other int
		keptOn      func(i int, ip []byte) int32
	}{
		{"copies", func([]byte) []int32 { return []int32{7, 9} }, 15, 15, func(int, []byte) int32 { return 7 }},
		{"node", func(ip []byte) []int32 {
			if fromClient(ip) {
				return []int32{7, 9}
			}
			return []int32{9, 7}
		}, 15, 15, func(i int, ip []byte) int32 {
			if i == 1 { // the SYN-ACK
				return 9
			}
			return 7
		}},
		{"asymmetric", func(ip []byte) []int32 {
			if fromClient(ip) {
				return []int32{7}
			}
			return []int32{9}
		}, 15, 0, func(i int, ip []byte) int32 {
			if fromClient(ip) {
				return 7
			}
			return 9
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewInputDecoder()
			d.OneInterfacePerConnection()
			var seg Segment
			frame, kept := 0, 0
			at := testTime
			for i, c := range conv {
				at = at.Add(time.Millisecond)
				for k, id := range tc.on(c.ip) {
					frame++
					p := &Packet{Frame: frame, Time: at.Add(time.Duration(k) * 20 * time.Microsecond), LinkType: layers.LinkTypeRaw,
						Data: c.ip, CaptureLen: len(c.ip), WireLen: len(c.ip), Iface: Iface{ID: id, Known: true}}
					if ok, _ := d.Decode(p, &seg); ok {
						kept++
						if want := tc.keptOn(i, c.ip); id != want {
							t.Errorf("packet %d analysed on if%d, want if%d", i, id, want)
						}
					}
				}
			}
			if st := d.Stats(); kept != tc.kept || st.OtherInterface != tc.other || st.Duplicates != 0 {
				t.Errorf("%d analysed, %d on another interface, %d duplicates; want %d, %d, 0", kept, st.OtherInterface, st.Duplicates, tc.kept, tc.other)
			}
			if w := d.Warnings(); tc.other > 0 && (len(w) != 1 || !strings.HasPrefix(w[0], fmt.Sprintf("%d TCP segments seen again on another interface", tc.other))) {
				t.Errorf("warnings %q", w)
			}
		})
	}
}

// TestOneInterfacePerConnectionQueued: a node whose egress to the pod is
// a queue (its copy on the pod's veth if7 comes delay after the server's
// packet came in on the uplink if9) takes the server's first packets on
// if9 until if7 shows that direction, then drops their copies on if7,
// however many the queue held: every packet analysed once. A real
// retransmission of the server's (the same numbers, a timeout later, in
// on if9 and out on if7 in turn) is analysed again, on if7.
func TestOneInterfacePerConnectionQueued(t *testing.T) {
	conv := conversation(t, false, 6, 20, 60)
	fromClient := func(ip []byte) bool { return ip[15] == 1 } // 10.0.0.1
	// The server's 2nd data segment, sent again 300 ms after the last.
	var resend []byte
	for i, n := 0, 0; i < len(conv); i++ {
		if !fromClient(conv[i].ip) && len(conv[i].ip) > 60 {
			if n++; n == 2 {
				resend = conv[i].ip
			}
		}
	}
	for _, delay := range []time.Duration{0, 3 * time.Millisecond, 8 * time.Millisecond, 40 * time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) {
			type ev struct {
				at    time.Time
				iface int32
				ip    []byte
			}
			var evs []ev
			at := testTime
			add := func(ip []byte) {
				if fromClient(ip) {
					evs = append(evs, ev{at, 7, ip}, ev{at.Add(20 * time.Microsecond), 9, ip})
				} else {
					evs = append(evs, ev{at, 9, ip}, ev{at.Add(20*time.Microsecond + delay), 7, ip})
				}
			}
			for _, c := range conv {
				at = at.Add(time.Millisecond)
				add(c.ip)
			}
			at = at.Add(300 * time.Millisecond)
			add(resend)
			slices.SortStableFunc(evs, func(a, b ev) int { return a.at.Compare(b.at) })
			d := NewInputDecoder()
			d.OneInterfacePerConnection()
			var seg Segment
			kept := 0
			for i, e := range evs {
				p := &Packet{Frame: i + 1, Time: e.at, LinkType: layers.LinkTypeRaw, Data: e.ip, CaptureLen: len(e.ip), WireLen: len(e.ip), Iface: Iface{ID: e.iface, Known: true}}
				if ok, _ := d.Decode(p, &seg); ok {
					kept++
				}
			}
			if st := d.Stats(); kept != len(conv)+1 || st.OtherInterface != len(conv)+1 {
				t.Errorf("%d analysed, %d on another interface; want %d and %d: each packet once, the retransmission too", kept, st.OtherInterface, len(conv)+1, len(conv)+1)
			}
		})
	}
}

// TestNATFinder: a segment repeated on another interface through a NAT
// (addresses, ports and checksum rewritten) is found by what the NAT
// keeps: the IPv4 ID with the TCP numbers; without an IP ID (IPv6, ID 0)
// the TCP header but ports, the payload, and a hop limit one less.
func TestNATFinder(t *testing.T) {
	v6 := Segment{Time: testTime, IPVersion: 6, TTL: 64, Src: netip.MustParseAddrPort("[fd18::1]:40000"), Dst: netip.MustParseAddrPort("[fd18::a]:80"),
		Seq: 1000, Ack: 2000, Flags: FlagACK | FlagPSH, Window: 501, PayloadLen: 5, Payload: []byte("hello"), Options: TCPOptions{Timestamp: true, TSVal: 7, TSEcr: 9}}
	natted := func(mod func(*Segment)) Segment {
		s := v6
		s.Time = s.Time.Add(30 * time.Microsecond)
		s.TTL--
		s.Src, s.Dst = netip.MustParseAddrPort("[fd18::2:1]:61000"), netip.MustParseAddrPort("[fd18::3:2]:8080")
		if mod != nil {
			mod(&s)
		}
		return s
	}
	v6big := v6
	v6big.Payload = []byte("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
	v6big.PayloadLen = len(v6big.Payload)
	natted6big := func(mod func(*Segment)) Segment {
		return natted(func(s *Segment) {
			s.Payload, s.PayloadLen = v6big.Payload, v6big.PayloadLen
			mod(s)
		})
	}
	v4 := Segment{Time: testTime, IPVersion: 4, IPID: 77, TTL: 64, Src: netip.MustParseAddrPort("198.18.0.1:40000"), Dst: netip.MustParseAddrPort("198.18.0.2:80"), Seq: 1, Ack: 2, Flags: FlagACK}
	for _, tc := range []struct {
		name      string
		first, cp Segment
		iface     int32
		want      bool
	}{
		{"ipv6 through a NAT", v6, natted(nil), 2, true},
		{"ipv6 on the same interface", v6, natted(nil), 1, false},
		{"ipv6 hop limit kept (not routed)", v6, natted(func(s *Segment) { s.TTL++ }), 2, false},
		{"ipv6 other payload", v6, natted(func(s *Segment) { s.Payload = []byte("jello") }), 2, false},
		{"ipv6 other timestamp (a retransmission)", v6, natted(func(s *Segment) { s.Options.TSVal++ }), 2, false},
		{"ipv6 too late", v6, natted(func(s *Segment) { s.Time = s.Time.Add(dupWindow) }), 2, false},
		// A SYN proxy between the interfaces shifts one direction's
		// sequence numbers and the other's acknowledgment numbers.
		{"ipv6 through a SYN proxy: data", v6big, natted6big(func(s *Segment) { s.Ack += 0x10000 }), 2, true},
		{"ipv6 through a SYN proxy: data the other way", v6big, natted6big(func(s *Segment) { s.Seq -= 777 }), 2, true},
		{"ipv6 through a SYN proxy: data, another timestamp", v6big, natted6big(func(s *Segment) { s.Seq -= 777; s.Options.TSVal++ }), 2, false},
		{"ipv6 through a SYN proxy: short payload", v6, natted(func(s *Segment) { s.Ack += 0x10000 }), 2, false},
		{"ipv4 ID", v4, func() Segment { s := v4; s.Src = netip.MustParseAddrPort("198.18.9.9:1"); s.TTL = 60; return s }(), 2, true},
		{"ipv4 ID through a SYN proxy: data", func() Segment { s := v6big; s.IPVersion, s.IPID = 4, 99; return s }(),
			natted6big(func(s *Segment) { s.IPVersion, s.IPID, s.Ack = 4, 99, s.Ack+0x10000 }), 2, true},
		{"ipv4 ID through a SYN proxy: another ID", func() Segment { s := v6big; s.IPVersion, s.IPID = 4, 99; return s }(),
			natted6big(func(s *Segment) { s.IPVersion, s.IPID, s.Ack = 4, 100, s.Ack+0x10000 }), 2, false},
		{"ipv4 ID 0 through a NAT", func() Segment { s := v6; s.IPVersion = 4; return s }(), natted(func(s *Segment) { s.IPVersion = 4 }), 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n natFinder
			if n.repeats(&tc.first, 1) {
				t.Fatal("the first segment repeats nothing")
			}
			if got := n.repeats(&tc.cp, tc.iface); got != tc.want {
				t.Errorf("repeats = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestPacketIfaceSections: in a pcapng of two sections (files
// concatenated) interface ids restart in the second; each packet's
// interface is numbered across them, so that each names one interface.
func TestPacketIfaceSections(t *testing.T) {
	var file bytes.Buffer
	data := make([]byte, 60)
	for sec, names := range [][]string{{"rc", "rs"}, {"rs", "rc"}} {
		var buf bytes.Buffer
		w, err := pcapgo.NewNgWriterInterface(&buf, pcapgo.NgInterface{Name: names[0], LinkType: layers.LinkTypeEthernet, SnapLength: 65535}, pcapgo.DefaultNgWriterOptions)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.AddInterface(pcapgo.NgInterface{Name: names[1], LinkType: layers.LinkTypeEthernet, SnapLength: 65535}); err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: testTime.Add(time.Duration(sec*2+i) * time.Second), CaptureLength: len(data), Length: len(data), InterfaceIndex: i}, data); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		file.Write(buf.Bytes())
	}
	src, err := NewReader(bytes.NewReader(file.Bytes()), "two-sections.pcapng", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []Iface{{ID: 0, Known: true, Name: "rc"}, {ID: 1, Known: true, Name: "rs"}, {ID: 2, Known: true, Name: "rs"}, {ID: 3, Known: true, Name: "rc"}}
	for i, w := range want {
		p, err := src.Next()
		if err != nil {
			t.Fatal(err)
		}
		if p.Iface != w {
			t.Errorf("packet %d: interface %+v, want %+v", i+1, p.Iface, w)
		}
	}
}
