package decode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// UDP ports on which overlays are recognised. 8472 is the Linux kernel's
// (and flannel's) historical VXLAN port.
const (
	portVXLAN      = 4789
	portVXLANLinux = 8472
	portGeneve     = 6081
)

// maxNesting bounds how many encapsulations the decoder follows, so that a
// crafted packet (IP-in-IP in IP-in-IP ...) costs bounded work.
const maxNesting = 8

// DecodeStats counts the packets a Decoder did not turn into segments, by
// reason, and the tunnelled ones it did.
type DecodeStats struct {
	Packets   int `json:"packets"`   // packets given to Decode
	TCP       int `json:"tcp"`       // decoded TCP segments
	NonIP     int `json:"non_ip"`    // link layer carried no IP (ARP, LLDP, ...) or unsupported link type
	NonTCP    int `json:"non_tcp"`   // IP but not TCP (UDP, ICMP, ESP, non-first fragments, ...)
	Fragments int `json:"fragments"` // IP fragments that gave no segment themselves (held for reassembly, or without a whole TCP header), also counted in NonTCP
	Malformed int `json:"malformed"` // headers that were cut short or inconsistent
	Tunnelled int `json:"tunnelled"` // packets whose IP was inside an overlay or IP-in-IP/GRE tunnel

	// Reassembled counts the TCP segments an InputDecoder put together
	// from IPv4 fragments, also counted in TCP.
	Reassembled int `json:"reassembled,omitempty"`
	// Duplicates counts the TCP segments an InputDecoder dropped as
	// copies of one captured just before (a capture that has every
	// packet twice), also counted in TCP.
	Duplicates int `json:"duplicates,omitempty"`
	// CopiesAcrossInterfaces counts those of the Duplicates captured on
	// another interface than their original (Packet.Iface): forwarded
	// by the capturing box. A file with such copies is analysed one
	// capture point per interface unless asked otherwise; then this is
	// zero.
	CopiesAcrossInterfaces int `json:"copies_across_interfaces,omitempty"`
	// OtherInterface counts the TCP segments an InputDecoder asked to
	// analyse each direction of a connection on one interface (a live
	// capture on every interface) dropped, seen on another interface
	// than that direction's first; also counted in TCP.
	OtherInterface int `json:"other_interface,omitempty"`
}

// Decoder turns captured frames into TCP segments. It keeps its layer
// values between calls so that decoding does not allocate. A Decoder is
// not safe for concurrent use.
type Decoder struct {
	loop layers.Loopback
	ip4  layers.IPv4

	sack      [4]SACKBlock // 40 option bytes hold at most 4 blocks
	tunnel    bool         // the current packet went through a tunnel
	fragment  bool         // the current packet is a non-first fragment
	firstFrag bool         // the current packet is (inside) a first fragment
	nonIP     bool         // the current packet carried no IP at all
	whole     bool         // the current packet completed a fragmented datagram
	checksum  uint16       // the current segment's TCP checksum, for an InputDecoder's copy finder
	icmpErr   ICMPError    // the current packet's ICMP error quoting a TCP segment (icmp.go)
	icmpOK    bool
	stats     DecodeStats

	// defrag reassembles IPv4 fragments when set (an InputDecoder's
	// Decoder); a bare Decoder keeps no state across packets and reports
	// a first fragment's TCP header alone. now and ref are the current
	// packet's, for it.
	defrag *defragmenter
	now    time.Time
	ref    frameRef
}

// NewDecoder returns a Decoder ready for use.
func NewDecoder() *Decoder { return &Decoder{} }

// Stats returns the counters so far.
func (d *Decoder) Stats() DecodeStats { return d.stats }

// errMalformed is wrapped by every error Decode returns.
var errMalformed = errors.New("malformed packet")

// malformedError is the error of a malformed packet. reason is the
// message's format, the same for every packet bad in the same way, so that
// an InputDecoder can count the skipped packets per reason.
type malformedError struct{ reason, msg string }

func (e *malformedError) Error() string        { return errMalformed.Error() + ": " + e.msg }
func (e *malformedError) Is(target error) bool { return target == errMalformed }

// malformed returns an error naming the header that was bad. Malformed
// packets are rare, so the allocation here does not matter.
func malformed(format string, args ...any) error {
	return &malformedError{reason: format, msg: fmt.Sprintf(format, args...)}
}

// malformedReason returns the reason of a Decode error (the format of its
// message) and the message; ok is false for an error Decode did not make.
func malformedReason(err error) (reason, msg string, ok bool) {
	var m *malformedError
	if !errors.As(err, &m) {
		return "", "", false
	}
	return m.reason, m.msg, true
}

// errSkip is returned internally for a packet that is valid but carries no
// TCP segment. It is a value so that returning it does not allocate.
var errSkip = errors.New("not tcp")

// Decode fills s from the frame p. It returns ok=false and a nil error for
// frames without a TCP segment (ARP, UDP, ICMP, non-first fragments), and
// an error for frames whose headers are cut short or inconsistent. The
// innermost TCP segment is reported when packets are tunnelled. The
// slices in s alias p.Data and the decoder; they are valid until the next
// call.
func (d *Decoder) Decode(p *Packet, s *Segment) (ok bool, err error) {
	d.stats.Packets++
	d.tunnel, d.fragment, d.firstFrag, d.nonIP, d.whole, d.icmpOK = false, false, false, false, false, false
	d.now, d.ref = p.Time, frameRef{p.Input, p.Frame}
	// Cleared in place, then set: a composite with fields set is built
	// aside and copied field by field (a sixth of decoding a packet).
	*s = Segment{}
	s.Input, s.Frame, s.Time, s.Received = p.Input, p.Frame, p.Time, p.Iface.In
	// wire is how many bytes the frame had on the wire: more than len(data)
	// when a snaplen cut it. IP lengths are checked against it.
	data, wire := p.Data, max(p.WireLen, len(p.Data))
	err = d.link(p.LinkType, data, wire, s)
	if d.tunnel {
		d.stats.Tunnelled++
	}
	switch {
	case err == nil:
		d.stats.TCP++
		if d.whole {
			d.stats.Reassembled++
		}
		return true, nil
	case err == errSkip:
		if d.nonIP {
			d.stats.NonIP++
		} else {
			d.stats.NonTCP++
			if d.fragment {
				d.stats.Fragments++
			}
		}
		*s = Segment{Input: p.Input, Frame: p.Frame, Time: p.Time}
		return false, nil
	default:
		d.stats.Malformed++
		*s = Segment{Input: p.Input, Frame: p.Frame, Time: p.Time}
		return false, fmt.Errorf("frame %d: %w", p.Frame, err)
	}
}

func (d *Decoder) skipNonIP() error {
	d.nonIP = true
	return errSkip
}

func (d *Decoder) link(lt layers.LinkType, data []byte, wire int, s *Segment) error {
	df := gopacket.NilDecodeFeedback
	switch lt {
	case layers.LinkTypeEthernet:
		return d.ethernet(data, wire, s, 0)
	// The Linux cooked headers are read by hand: gopacket's layers reject
	// link-layer addresses longer than 8 bytes (InfiniBand has 20), which
	// do not matter for the protocol field and which Wireshark reads.
	case layers.LinkTypeLinuxSLL:
		if len(data) < 16 {
			return malformed("linux sll header: %d bytes", len(data))
		}
		return d.etherType(layers.EthernetType(binary.BigEndian.Uint16(data[14:16])), data[16:], wire-16, s, 0)
	case layers.LinkTypeLinuxSLL2:
		if len(data) < 20 {
			return malformed("linux sll2 header: %d bytes", len(data))
		}
		return d.etherType(layers.EthernetType(binary.BigEndian.Uint16(data[0:2])), data[20:], wire-20, s, 0)
	case 12, 14, layers.LinkTypeRaw:
		return d.rawIP(data, wire, s, 0)
	case layers.LinkTypeIPv4:
		return d.ipv4(data, wire, s, 0)
	case layers.LinkTypeIPv6:
		return d.ipv6(data, wire, s, 0)
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		if len(data) < 4 {
			return malformed("loopback header: %d bytes", len(data))
		}
		if d.loop.DecodeFromBytes(data, df) != nil {
			// Not an address family at all.
			return d.skipNonIP()
		}
		switch d.loop.Family {
		case layers.ProtocolFamilyIPv4:
			return d.ipv4(data[4:], wire-4, s, 0)
		case layers.ProtocolFamilyIPv6BSD, layers.ProtocolFamilyIPv6FreeBSD, layers.ProtocolFamilyIPv6Darwin, layers.ProtocolFamilyIPv6Linux:
			return d.ipv6(data[4:], wire-4, s, 0)
		}
		return d.skipNonIP()
	}
	return d.skipNonIP()
}

func (d *Decoder) ethernet(data []byte, wire int, s *Segment, depth int) error {
	if len(data) < 14 {
		return malformed("ethernet: %d bytes", len(data))
	}
	// The EtherType is all the header tells the decoding, read as
	// gopacket's layers.Ethernet reads it (a value under 0x600 is an
	// 802.3 length: LLC follows), without the layer's slices of both
	// addresses, a twentieth of decoding a packet.
	t := layers.EthernetType(binary.BigEndian.Uint16(data[12:14]))
	if t < 0x600 {
		t = layers.EthernetTypeLLC
	}
	return d.etherType(t, data[14:], wire-14, s, depth)
}

// etherType dispatches on an EtherType, after peeling VLAN tags.
func (d *Decoder) etherType(t layers.EthernetType, data []byte, wire int, s *Segment, depth int) error {
	for {
		switch t {
		case layers.EthernetTypeIPv4:
			return d.ipv4(data, wire, s, depth)
		case layers.EthernetTypeIPv6:
			return d.ipv6(data, wire, s, depth)
		case layers.EthernetTypeDot1Q, layers.EthernetTypeQinQ, 0x9100, 0x9200:
			if len(data) < 4 {
				return malformed("vlan tag: %d bytes", len(data))
			}
			t = layers.EthernetType(binary.BigEndian.Uint16(data[2:4]))
			data, wire = data[4:], wire-4
		case layers.EthernetTypeMPLSUnicast, layers.EthernetTypeMPLSMulticast:
			// No protocol field: after the bottom of the label stack,
			// the IP version nibble tells (as Wireshark guesses).
			for {
				if len(data) < 4 {
					return malformed("mpls label: %d bytes", len(data))
				}
				bottom := data[2]&1 != 0
				data, wire = data[4:], wire-4
				if bottom {
					break
				}
			}
			return d.rawIP(data, wire, s, depth)
		case layers.EthernetTypePPPoESession:
			if len(data) < 8 {
				return malformed("pppoe: %d bytes", len(data))
			}
			// The PPPoE length covers the PPP protocol field and the
			// packet; like Wireshark, believe it when it is shorter.
			if n := 6 + int(binary.BigEndian.Uint16(data[4:6])); n >= 8 && n < wire {
				wire = n
				data = data[:min(len(data), n)]
			}
			switch binary.BigEndian.Uint16(data[6:8]) {
			case 0x0021:
				return d.ipv4(data[8:], wire-8, s, depth)
			case 0x0057:
				return d.ipv6(data[8:], wire-8, s, depth)
			}
			return d.skipNonIP()
		default:
			return d.skipNonIP()
		}
	}
}

func (d *Decoder) rawIP(data []byte, wire int, s *Segment, depth int) error {
	if len(data) == 0 {
		return malformed("empty IP packet")
	}
	switch data[0] >> 4 {
	case 4:
		return d.ipv4(data, wire, s, depth)
	case 6:
		return d.ipv6(data, wire, s, depth)
	}
	return d.skipNonIP()
}

// ipv4 decodes an IPv4 header. data is what was captured of the packet
// and wire how long the rest of the frame was on the wire.
func (d *Decoder) ipv4(data []byte, wire int, s *Segment, depth int) error {
	if len(data) < 20 {
		return malformed("ipv4 header: %d bytes captured", len(data))
	}
	if data[0]>>4 != 4 {
		return malformed("ipv4 header: version %d", data[0]>>4)
	}
	if ihl := data[0] & 0xf; ihl < 5 {
		return malformed("ipv4 header length %d < 5", ihl)
	}
	// Length 0 is what TSO-enabled NICs hand to the capture; Wireshark
	// then takes the frame length, and so do we.
	field := int(binary.BigEndian.Uint16(data[2:4]))
	if data[0]&0xf == 5 && binary.BigEndian.Uint16(data[6:8])&0x3fff == 0 {
		// Nearly every packet: no options, not a fragment (DF aside).
		// Its header is read here, as gopacket's layer reads it and
		// with its one error for such a header, in a tenth of the
		// instructions (the layer was 4% of an analysis of short
		// connections); the layer reads the others.
		if field != 0 && field < 20 {
			return malformed("ipv4: Invalid (too small) IP length (%d < 20)", field)
		}
		total := field
		if total == 0 || total > wire {
			total = wire
		}
		if total < 20 {
			return malformed("ipv4 header length %d exceeds total length %d", 20, total)
		}
		s.IPVersion = 4
		s.TTL = data[8]
		s.IPID = binary.BigEndian.Uint16(data[4:6])
		s.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(data[12:16])), 0)
		s.Dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(data[16:20])), 0)
		return d.ipPayload(layers.IPProtocol(data[9]), data[20:min(len(data), total)], total-20, s, depth)
	}
	ip := &d.ip4
	if err := ip.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
		return malformed("ipv4: %v", err)
	}
	hl := int(ip.IHL) * 4
	total := field
	if total == 0 || total > wire {
		// A length beyond the frame cannot be true: believe the frame.
		total = wire
	}
	if total < hl {
		return malformed("ipv4 header length %d exceeds total length %d", hl, total)
	}
	s.IPVersion = 4
	s.TTL = ip.TTL
	s.IPID = ip.Id
	s.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(data[12:16])), 0)
	s.Dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(data[16:20])), 0)
	payload := data[hl:min(len(data), total)]
	plen := total - hl
	if d.defrag != nil && (ip.FragOffset != 0 || ip.Flags&layers.IPv4MoreFragments != 0) && carriesTCP(ip.Protocol) {
		// As Wireshark does, the datagram is analysed at the fragment
		// that completes it, with that fragment's frame and time.
		whole := d.defrag.add(ip, field != total, payload, plen, d.ref, d.now)
		if whole == nil {
			d.fragment = true
			return errSkip
		}
		d.whole = true
		return d.ipPayload(ip.Protocol, whole, len(whole), s, depth)
	}
	if ip.FragOffset != 0 {
		d.fragment = true
		return errSkip
	}
	if ip.Flags&layers.IPv4MoreFragments != 0 {
		d.firstFrag = true
	}
	return d.ipPayload(ip.Protocol, payload, plen, s, depth)
}

// ipv6 reads the fixed header and walks the extension headers by hand:
// gopacket's IPv6 layer allocates for hop-by-hop options and hands out
// net.IP slices, where the segment wants netip values and no allocation.
func (d *Decoder) ipv6(data []byte, wire int, s *Segment, depth int) error {
	if len(data) < 40 {
		return malformed("ipv6 header: %d bytes captured", len(data))
	}
	if data[0]>>4 != 6 {
		return malformed("ipv6 header: version %d", data[0]>>4)
	}
	s.IPVersion = 6
	s.TTL = data[7]
	s.IPID = 0
	s.Src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(data[8:24])), 0)
	s.Dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(data[24:40])), 0)
	next := layers.IPProtocol(data[6])
	plen := int(binary.BigEndian.Uint16(data[4:6]))
	if plen == 0 || plen > wire-40 {
		// 0 is a jumbogram (or TSO); a length beyond the frame cannot be
		// true. Either way the frame tells the length.
		plen = max(wire-40, 0)
	}
	payload := data[40:min(len(data), 40+plen)]
	// Extension headers. The fixed part of each is 8 bytes or more, so
	// the loop ends within len(payload)/8 rounds.
	for {
		var n int
		switch next {
		case layers.IPProtocolIPv6HopByHop, layers.IPProtocolIPv6Routing, layers.IPProtocolIPv6Destination,
			135, 139, 140: // mobility, HIP, shim6
			if len(payload) < 2 {
				return malformed("ipv6 extension header %d cut short", next)
			}
			n = (int(payload[1]) + 1) * 8
		case layers.IPProtocolAH:
			if len(payload) < 2 {
				return malformed("ipv6 AH cut short")
			}
			n = (int(payload[1]) + 2) * 4
		case layers.IPProtocolIPv6Fragment:
			if len(payload) < 8 {
				return malformed("ipv6 fragment header cut short")
			}
			if binary.BigEndian.Uint16(payload[2:4])>>3 != 0 {
				d.fragment = true
				return errSkip
			}
			if payload[3]&1 != 0 {
				d.firstFrag = true
			}
			n = 8
		default:
			return d.ipPayload(next, payload, plen, s, depth)
		}
		if n > len(payload) || n > plen {
			return malformed("ipv6 extension header %d: %d bytes, %d left", next, n, min(len(payload), plen))
		}
		next = layers.IPProtocol(payload[0])
		payload, plen = payload[n:], plen-n
	}
}

// ipPayload dispatches on the IP protocol. plen is the payload length the
// IP header gives (bounded by the frame); payload is what was captured.
func (d *Decoder) ipPayload(proto layers.IPProtocol, payload []byte, plen int, s *Segment, depth int) error {
	switch proto {
	case layers.IPProtocolTCP:
		return d.tcp(payload, plen, s)
	case layers.IPProtocolICMPv4:
		return d.icmp(false, payload, s)
	case layers.IPProtocolICMPv6:
		return d.icmp(true, payload, s)
	case layers.IPProtocolIPv4, layers.IPProtocolIPv6, layers.IPProtocolGRE, layers.IPProtocolUDP:
	default:
		return errSkip
	}
	if depth >= maxNesting {
		return malformed("more than %d nested encapsulations", maxNesting)
	}
	depth++
	switch proto {
	case layers.IPProtocolIPv4:
		d.tunnel = true
		return d.ipv4(payload, plen, s, depth)
	case layers.IPProtocolIPv6:
		d.tunnel = true
		return d.ipv6(payload, plen, s, depth)
	case layers.IPProtocolGRE:
		return d.gre(payload, plen, s, depth)
	default:
		return d.udp(payload, plen, s, depth)
	}
}

func (d *Decoder) udp(data []byte, wire int, s *Segment, depth int) error {
	if len(data) < 8 {
		return errSkip // not ours to judge: we only look inside for overlays
	}
	src, dst := binary.BigEndian.Uint16(data[0:2]), binary.BigEndian.Uint16(data[2:4])
	if n := int(binary.BigEndian.Uint16(data[4:6])); n >= 8 && n < wire {
		wire = n
	}
	data = data[8:min(len(data), wire)]
	wire -= 8
	switch {
	case dst == portVXLAN || dst == portVXLANLinux || src == portVXLAN || src == portVXLANLinux:
		// RFC 7348: flags (I bit 0x08 for a valid VNI), 24 reserved
		// bits, VNI, 8 reserved bits; then an Ethernet frame.
		if len(data) < 8+14 || data[0]&0x08 == 0 {
			return errSkip
		}
		d.tunnel = true
		return d.ethernet(data[8:], wire-8, s, depth)
	case dst == portGeneve || src == portGeneve:
		// RFC 8926: version and option length (4-byte words), flags,
		// protocol type, VNI.
		if len(data) < 8 || data[0]>>6 != 0 {
			return errSkip
		}
		n := 8 + int(data[0]&0x3f)*4
		if len(data) < n {
			return malformed("geneve header: %d of %d bytes", len(data), n)
		}
		d.tunnel = true
		return d.tunnelPayload(layers.EthernetType(binary.BigEndian.Uint16(data[2:4])), data[n:], wire-n, s, depth)
	}
	return errSkip
}

// gre decodes RFC 2784/2890 GRE (version 0) headers.
func (d *Decoder) gre(data []byte, wire int, s *Segment, depth int) error {
	if len(data) < 4 {
		return malformed("gre header: %d bytes", len(data))
	}
	flags := binary.BigEndian.Uint16(data[0:2])
	if flags&0x7 != 0 || flags&0x4000 != 0 {
		// Version 1 is PPTP's enhanced GRE carrying PPP; source routing
		// is obsolete. Neither is worth following.
		return errSkip
	}
	n := 4
	for _, bit := range [...]uint16{0x8000, 0x2000, 0x1000} { // checksum, key, sequence
		if flags&bit != 0 {
			n += 4
		}
	}
	if len(data) < n {
		return malformed("gre header: %d of %d bytes", len(data), n)
	}
	d.tunnel = true
	return d.tunnelPayload(layers.EthernetType(binary.BigEndian.Uint16(data[2:4])), data[n:], wire-n, s, depth)
}

// tunnelPayload follows the EtherType-named payload of GRE and Geneve.
func (d *Decoder) tunnelPayload(t layers.EthernetType, data []byte, wire int, s *Segment, depth int) error {
	switch t {
	case 0x6558: // transparent Ethernet bridging
		return d.ethernet(data, wire, s, depth)
	case layers.EthernetTypeIPv4:
		return d.ipv4(data, wire, s, depth)
	case layers.EthernetTypeIPv6:
		return d.ipv6(data, wire, s, depth)
	}
	return errSkip
}

// tcp decodes a TCP header. plen is the segment length from the IP header;
// data is what was captured of it.
func (d *Decoder) tcp(data []byte, plen int, s *Segment) error {
	if d.firstFrag {
		hl := 20
		if len(data) > 12 {
			hl = max(hl, int(data[12]>>4)*4)
		}
		if plen < hl {
			// The header continues in the next fragment, which we do
			// not reassemble: not a segment we can read.
			d.fragment = true
			return errSkip
		}
	}
	if plen < 20 {
		return malformed("tcp: segment length %d shorter than a header", plen)
	}
	if len(data) < 20 {
		return malformed("tcp header: %d bytes captured", len(data))
	}
	hl := int(data[12]>>4) * 4
	if hl < 20 {
		return malformed("tcp header length %d", hl)
	}
	if hl > plen {
		return malformed("tcp header length %d exceeds segment length %d", hl, plen)
	}
	s.Src = netip.AddrPortFrom(s.Src.Addr(), binary.BigEndian.Uint16(data[0:2]))
	s.Dst = netip.AddrPortFrom(s.Dst.Addr(), binary.BigEndian.Uint16(data[2:4]))
	s.Seq = binary.BigEndian.Uint32(data[4:8])
	s.Ack = binary.BigEndian.Uint32(data[8:12])
	s.Flags = TCPFlags(data[13])
	s.Window = binary.BigEndian.Uint16(data[14:16])
	d.checksum = binary.BigEndian.Uint16(data[16:18])
	// A snaplen may cut the options; parse what was captured.
	d.options(data[20:min(hl, len(data))], &s.Options)
	s.PayloadLen = plen - hl
	s.Fragment = d.firstFrag
	s.Reassembled = d.whole
	if hl <= len(data) {
		s.Payload = data[hl:min(len(data), plen)]
	} else {
		s.Payload = data[len(data):]
	}
	return nil
}

// options parses the TCP options the analysis needs. gopacket's TCP layer
// allocates for MPTCP options, hence this. A malformed option ends the
// parse, as it ends Wireshark's.
func (d *Decoder) options(b []byte, o *TCPOptions) {
	*o = TCPOptions{WindowScale: -1, SACK: d.sack[:0]}
	if len(b) == 12 && b[0] == 1 && b[1] == 1 && b[2] == 8 && b[3] == 10 {
		// Two no-ops and the timestamps: every segment but a SYN of
		// Linux, and most of other stacks', taken at once.
		o.Timestamp = true
		o.TSVal = binary.BigEndian.Uint32(b[4:8])
		o.TSEcr = binary.BigEndian.Uint32(b[8:12])
		return
	}
	for len(b) > 0 {
		kind := b[0]
		if kind == 0 { // end of options
			return
		}
		if kind == 1 { // no-op
			b = b[1:]
			continue
		}
		if len(b) < 2 || b[1] < 2 || int(b[1]) > len(b) {
			return
		}
		v := b[2:b[1]]
		b = b[b[1]:]
		switch kind {
		case 2:
			if len(v) == 2 {
				o.MSS = binary.BigEndian.Uint16(v)
			}
		case 3:
			if len(v) == 1 {
				// RFC 7323 2.3: a shift over 14 is taken as 14.
				o.WindowScale = int8(min(v[0], 14))
			}
		case 4:
			if len(v) == 0 {
				o.SACKPermitted = true
			}
		case 5:
			n := 0
			for ; len(v) >= 8 && n < len(d.sack); n++ {
				d.sack[n] = SACKBlock{binary.BigEndian.Uint32(v[0:4]), binary.BigEndian.Uint32(v[4:8])}
				v = v[8:]
			}
			o.SACK = d.sack[:n]
		case 8:
			if len(v) == 8 {
				o.Timestamp = true
				o.TSVal = binary.BigEndian.Uint32(v[0:4])
				o.TSEcr = binary.BigEndian.Uint32(v[4:8])
			}
		}
	}
}
