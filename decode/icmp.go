package decode

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// ICMPKind says what an ICMP error reported about the packet it quotes.
type ICMPKind uint8

// ICMP error kinds the analysis reads.
const (
	// ICMPTimeExceeded: the quoted packet's TTL (hop limit) ran out at
	// the ICMP's sender, a router on the path: what traceroute's probes
	// ask for, hop by hop.
	ICMPTimeExceeded ICMPKind = iota + 1
	// ICMPUnreachable: the ICMP's sender could not deliver the quoted
	// packet (no route, port or host unreachable, administratively
	// prohibited).
	ICMPUnreachable
)

// ICMPError is an ICMPv4 or ICMPv6 error that quotes a TCP segment: the
// ICMP's own sender and the quoted segment's addresses, sequence number
// and TTL as the router saw it. The analysis matches it to the segment
// by the four-tuple and the sequence number (RFC 792 and RFC 4443 quote
// at least the first 8 bytes of the transport header: ports and seq).
type ICMPError struct {
	Input int
	Frame int
	Time  time.Time

	From      netip.Addr // the router or host that sent the ICMP
	Kind      ICMPKind
	Type      uint8 // the ICMP type and code as on the wire
	Code      uint8
	IPVersion uint8

	// The quoted segment.
	Src, Dst netip.AddrPort
	Seq      uint32
	TTL      uint8 // the quoted IP header's TTL or hop limit
	// IPID is the quoted IPv4 header's identification (0 for IPv6): it
	// tells a quoted pure ACK from the data after it, which has the same
	// sequence number.
	IPID uint16
}

// icmp reads an ICMP error that quotes a TCP segment into d.icmpErr. It
// always returns errSkip: an ICMP packet is not a segment, and the
// decoder counts it as non-TCP whether or not it quotes one.
func (d *Decoder) icmp(v6 bool, data []byte, s *Segment) error {
	if d.tunnel || len(data) < 8 {
		// Inside a tunnel the ICMP's addresses are the overlay's; a
		// short one quotes nothing.
		return errSkip
	}
	typ, code := data[0], data[1]
	var kind ICMPKind
	switch {
	case !v6 && typ == uint8(layers.ICMPv4TypeTimeExceeded), v6 && typ == uint8(layers.ICMPv6TypeTimeExceeded):
		kind = ICMPTimeExceeded
	case !v6 && typ == uint8(layers.ICMPv4TypeDestinationUnreachable), v6 && typ == uint8(layers.ICMPv6TypeDestinationUnreachable):
		kind = ICMPUnreachable
	default:
		return errSkip
	}
	q := data[8:] // the quoted packet, after type, code, checksum and 4 unused bytes
	e := ICMPError{Input: s.Input, Frame: s.Frame, Time: s.Time, From: s.Src.Addr(), Kind: kind, Type: typ, Code: code, IPVersion: s.IPVersion}
	var proto uint8
	switch {
	case !v6 && len(q) >= 20 && q[0]>>4 == 4:
		hl := int(q[0]&0xf) * 4
		if hl < 20 || len(q) < hl+8 || binary.BigEndian.Uint16(q[6:8])&0x1fff != 0 {
			return errSkip // no transport header quoted (or a later fragment)
		}
		proto, e.TTL, e.IPID = q[9], q[8], binary.BigEndian.Uint16(q[4:6])
		e.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(q[12:16])), 0)
		e.Dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(q[16:20])), 0)
		q = q[hl:]
	case v6 && len(q) >= 48 && q[0]>>4 == 6:
		// Extension headers in the quote are not followed: a probe's SYN
		// carries none.
		proto, e.TTL = q[6], q[7]
		e.Src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(q[8:24])), 0)
		e.Dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(q[24:40])), 0)
		q = q[40:]
	default:
		return errSkip
	}
	if layers.IPProtocol(proto) != layers.IPProtocolTCP {
		return errSkip
	}
	e.Src = netip.AddrPortFrom(e.Src.Addr(), binary.BigEndian.Uint16(q[0:2]))
	e.Dst = netip.AddrPortFrom(e.Dst.Addr(), binary.BigEndian.Uint16(q[2:4]))
	e.Seq = binary.BigEndian.Uint32(q[4:8])
	d.icmpErr, d.icmpOK = e, true
	return errSkip
}

// ICMPError returns the ICMP error the last packet Decode took carried,
// when it quoted a TCP segment (Decode returned ok=false for it).
func (d *Decoder) ICMPError() (ICMPError, bool) { return d.icmpErr, d.icmpOK }

// ICMPError returns the ICMP error the last packet carried, when it quoted
// a TCP segment.
func (r *InputDecoder) ICMPError() (ICMPError, bool) { return r.dec.ICMPError() }
