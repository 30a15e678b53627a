package live

import (
	"encoding/binary"
	"syscall"
	"testing"

	"github.com/gopacket/gopacket"
)

// TestPktType reads the packet type from ring slots laid out as the
// kernel lays them (tpacket3_hdr, sockaddr_ll, the packet at tp_mac),
// for the link header lengths that move tp_mac, and refuses a slot whose
// header does not describe the packet.
func TestPktType(t *testing.T) {
	const ifindex, pktLen, wire = 7, 60, 1514
	slot := func(mac int) []byte {
		b := make([]byte, 256)
		hdr := b[40:] // a slot somewhere in a block
		binary.NativeEndian.PutUint32(hdr[v3SnaplenAt:], pktLen)
		binary.NativeEndian.PutUint32(hdr[v3LenAt:], wire)
		binary.NativeEndian.PutUint16(hdr[v3MacAt:], uint16(mac))
		binary.NativeEndian.PutUint16(hdr[sllFamilyAt:], syscall.AF_PACKET)
		binary.NativeEndian.PutUint32(hdr[sllIfindexAt:], ifindex)
		hdr[sllPkttypeAt] = packetOutgoing
		return hdr[mac : mac+pktLen]
	}
	ci := gopacket.CaptureInfo{CaptureLength: pktLen, Length: wire, InterfaceIndex: ifindex}
	for _, tc := range []struct {
		name string
		mac  int
		ci   gopacket.CaptureInfo
		ok   bool
	}{
		{"ethernet", v3MacEthernet, ci, true},
		{"no link header", v3MaxMac, ci, true},
		{"long link header", 74, ci, true},
		{"the fewest", v3MinMac, ci, true},
		{"another interface", v3MacEthernet, gopacket.CaptureInfo{CaptureLength: pktLen, Length: wire, InterfaceIndex: ifindex + 1}, false},
		{"another length", v3MacEthernet, gopacket.CaptureInfo{CaptureLength: pktLen, Length: wire - 1, InterfaceIndex: ifindex}, false},
	} {
		typ, ok := pktType(slot(tc.mac), tc.ci)
		if ok != tc.ok || ok && typ != packetOutgoing {
			t.Errorf("%s (tp_mac %d): type %d, ok %v; want ok %v", tc.name, tc.mac, typ, ok, tc.ok)
		}
	}
	if _, ok := pktType(nil, ci); ok {
		t.Error("a type for no packet")
	}
}
