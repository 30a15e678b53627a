package decode

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Packet is one captured frame as read from a source. Data aliases the
// source's buffer and is valid only until the next call to Next.
type Packet struct {
	Input      int       // index of the input this frame came from
	Frame      int       // 1-based frame number within its input, as Wireshark numbers it
	Time       time.Time // capture time, in UTC from every source (app.PingRec keeps it as Unix nanoseconds)
	CaptureLen int       // bytes captured
	WireLen    int       // bytes on the wire
	LinkType   layers.LinkType
	Data       []byte
	// Iface is the interface the packet was captured on, when the
	// capture says: a file of tcpdump -i any or of several interfaces
	// holds a router's forwarded packets once per interface, and each
	// interface is a capture point of its own (see InterfaceSurvey).
	Iface Iface
}

// Iface names the interface a packet was captured on.
type Iface struct {
	// ID is the interface's number: the Linux ifindex of a LINUX_SLL2
	// header or of a live AF_PACKET socket, else the pcapng interface
	// id counted across the file's sections (ids restart in each; here
	// the second section's first interface follows the first section's
	// last, so that each names one interface). Meaningful only when
	// Known.
	ID    int32
	Known bool
	// Out is set for a packet the host sent (PACKET_OUTGOING in a Linux
	// cooked header); In for one it received (to it, broadcast,
	// multicast, or to another host: forwarded). Neither when the
	// capture does not say.
	In, Out bool
	// Name is the interface's name when the capture has it (pcapng
	// if_name, a live capture's interface); empty otherwise.
	Name string
}

// Label is how a report names the interface: its name, else "if" and
// its number (if7); empty when unknown.
func (f Iface) Label() string {
	switch {
	case f.Name != "":
		return f.Name
	case f.Known:
		return "if" + strconv.Itoa(int(f.ID))
	}
	return ""
}

// sllPacketOutgoing is PACKET_OUTGOING, the Linux cooked headers' packet
// type of a packet the host sent; the types below it (host, broadcast,
// multicast, otherhost) are packets it received.
const sllPacketOutgoing = 4

// sll2Iface reads the interface of a LINUX_SLL2 frame: its ifindex
// (bytes 4-7) and packet type (byte 10).
func sll2Iface(data []byte) Iface {
	if len(data) < 20 {
		return Iface{}
	}
	t := data[10]
	return Iface{ID: int32(binary.BigEndian.Uint32(data[4:8])), Known: true, In: t < sllPacketOutgoing, Out: t == sllPacketOutgoing}
}

// sllDirection reads the direction of a LINUX_SLL frame, which names no
// interface (its packet type, bytes 0-1).
func sllDirection(data []byte) Iface {
	if len(data) < 16 {
		return Iface{}
	}
	t := binary.BigEndian.Uint16(data[0:2])
	return Iface{In: t < sllPacketOutgoing, Out: t == sllPacketOutgoing}
}

// TCPFlags holds the TCP header flag bits in wire order.
type TCPFlags uint8

const (
	FlagFIN TCPFlags = 1 << iota
	FlagSYN
	FlagRST
	FlagPSH
	FlagACK
	FlagURG
	FlagECE
	FlagCWR
)

func (f TCPFlags) Has(x TCPFlags) bool { return f&x == x }

// SACKBlock is one selective acknowledgement range [Left, Right).
type SACKBlock struct{ Left, Right uint32 }

// TCPOptions are the TCP options the analysis needs. Absent values are
// zero, except WindowScale which is -1 when the option is absent.
type TCPOptions struct {
	MSS           uint16
	WindowScale   int8
	SACKPermitted bool
	SACK          []SACKBlock // aliases a buffer reused per packet
	Timestamp     bool
	TSVal, TSEcr  uint32
}

// Segment is one TCP segment with the IP facts the analysis uses. Slices
// alias per-packet buffers: a consumer that keeps them must copy.
type Segment struct {
	Input int
	Frame int
	Time  time.Time

	Src, Dst  netip.AddrPort
	IPVersion uint8
	TTL       uint8  // IPv4 TTL or IPv6 hop limit
	IPID      uint16 // IPv4 identification; 0 for IPv6

	Seq, Ack uint32
	Flags    TCPFlags
	Window   uint16 // as on the wire, not scaled
	Options  TCPOptions

	// PayloadLen is the TCP payload length on the wire, from the IP
	// header's length, so it stays right when a small snaplen cut the
	// packet. Payload holds the bytes that were captured, which may be
	// fewer.
	PayloadLen int
	Payload    []byte

	// Fragment is set when the segment came in the first fragment of a
	// fragmented IP datagram that was not reassembled (a bare Decoder, or
	// IPv6). PayloadLen and Payload then cover only that fragment; the
	// rest of the datagram is in frames the decoder counts as non-TCP.
	Fragment bool
	// Reassembled is set when the segment was put together from IPv4
	// fragments (by an InputDecoder). Frame and Time are then those of the
	// fragment that completed the datagram, as in Wireshark, and
	// PayloadLen may exceed that frame's length.
	Reassembled bool
	// Received is set when the capture says the capturing host received
	// the packet (a Linux cooked header's packet type other than
	// outgoing: addressed to it, or to another host it forwards for);
	// unset when it sent it or the capture does not say.
	Received bool
}

// Missing reports how many payload bytes the capture did not keep.
func (s *Segment) Missing() int { return s.PayloadLen - len(s.Payload) }
