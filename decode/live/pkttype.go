package live

import (
	"encoding/binary"
	"syscall"
	"unsafe"

	"github.com/gopacket/gopacket"
)

// Packet types of AF_PACKET (sll_pkttype, linux/if_packet.h): the host
// received the packet (to it, broadcast, multicast, or to another host:
// forwarded), or sent it.
const (
	packetOtherHost = 3 // PACKET_OTHERHOST, the last of the received kinds
	packetOutgoing  = 4 // PACKET_OUTGOING
)

// The layout of a packet in a TPACKET_V3 ring (linux/if_packet.h): its
// tpacket3_hdr, whose tp_mac says where the packet's bytes start, then
// at TPACKET_ALIGN(sizeof(tpacket3_hdr)) the sockaddr_ll the kernel
// filled, which holds sll_pkttype.
const (
	v3HdrLen       = 48 // TPACKET_ALIGN(sizeof(struct tpacket3_hdr))
	v3SnaplenAt    = 12 // tp_snaplen, u32
	v3LenAt        = 16 // tp_len, u32
	v3MacAt        = 24 // tp_mac, u16
	sllFamilyAt    = v3HdrLen + 0
	sllIfindexAt   = v3HdrLen + 4
	sllPkttypeAt   = v3HdrLen + 10
	v3MinMac       = v3HdrLen + 20 // TPACKET3_HDRLEN: the packet never starts before
	v3MaxMac       = 96            // TPACKET_ALIGN(TPACKET3_HDRLEN + 16) for a link header under 16 bytes
	v3MacEthernet  = v3MaxMac - 14 // where an Ethernet frame starts: the usual case
	sllFamilyValue = syscall.AF_PACKET
)

// pktType returns the packet type the kernel gave a packet read from a
// TPACKET_V3 ring (PACKET_HOST ... PACKET_OUTGOING), which gopacket's
// afpacket reads past: it sits in the packet's sockaddr_ll, before data
// in the ring. data must be the slice ZeroCopyReadPacketData returned
// (it points into the ring: Source never asks for VLAN tags to be put
// back, which would copy it). Where the packet starts after its header
// (tp_mac) depends on its link header's length (the kernel aligns the
// network header), so each offset the kernel can use is tried, and one
// is taken only when the header found there agrees with what afpacket
// returned: tp_mac, tp_snaplen, tp_len, the address family and the
// interface. ok is false when none does.
func pktType(data []byte, ci gopacket.CaptureInfo) (t uint8, ok bool) {
	if len(data) == 0 {
		return 0, false
	}
	p := unsafe.Pointer(unsafe.SliceData(data))
	// The usual cases first: an Ethernet header, none (a tunnel, the
	// RAW link of the any socket's IP-only devices).
	for _, mac := range [...]int{v3MacEthernet, v3MaxMac} {
		if t, ok := pktTypeAt(p, mac, data, ci); ok {
			return t, true
		}
	}
	for mac := v3MinMac; mac < v3MaxMac; mac++ {
		if mac == v3MacEthernet {
			continue
		}
		if t, ok := pktTypeAt(p, mac, data, ci); ok {
			return t, true
		}
	}
	return 0, false
}

// pktTypeAt reads the packet type from the header that would start mac
// bytes before data, if that header describes data.
func pktTypeAt(p unsafe.Pointer, mac int, data []byte, ci gopacket.CaptureInfo) (uint8, bool) {
	hdr := unsafe.Slice((*byte)(unsafe.Add(p, -mac)), mac)
	if int(binary.NativeEndian.Uint16(hdr[v3MacAt:])) != mac ||
		int(binary.NativeEndian.Uint32(hdr[v3SnaplenAt:])) != len(data) ||
		int(binary.NativeEndian.Uint32(hdr[v3LenAt:])) != ci.Length ||
		binary.NativeEndian.Uint16(hdr[sllFamilyAt:]) != sllFamilyValue ||
		int(int32(binary.NativeEndian.Uint32(hdr[sllIfindexAt:]))) != ci.InterfaceIndex {
		return 0, false
	}
	return hdr[sllPkttypeAt], true
}
