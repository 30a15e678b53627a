package decode

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"maps"
	"slices"
	"strings"
	"time"
)

// A live capture on every interface of a node (h2pcap live -i any, a
// DaemonSet's default) sees a pod's packets on the pod's veth and again
// on the uplink or a bridge: the same packet once per interface it
// crosses. The copy filter (dup.go) drops a copy only when it is exact
// and within milliseconds; a copy whose checksum the kernel has not
// filled in yet (an outgoing packet with checksum offload) or that waited
// in a queue is not exact, and would be counted as a retransmission. An
// InputDecoder asked to (OneInterfacePerDirection) analyses each
// direction of a connection on one interface only: the first it was seen
// on, where it entered the host. A direction, not a connection: with
// asymmetric routing the answers come in by another interface than the
// requests leave by, and they must not be dropped.
const (
	// ownerSlots is the size of the table of directions and their
	// interface, indexed by hash: 65536 directions in flight (32768
	// connections) at 24 bytes each, 1.5 MB. A direction whose slot a
	// busy one holds is not tracked: its copies are left to the copy
	// filter, as without this table.
	ownerSlots = 1 << 16
	// ownerIdle is how long a direction must have been quiet on its
	// interface before another interface may take it over (a route that
	// changed) or another direction its slot: longer than any
	// retransmission gap that matters to the analysis of a live
	// connection (TCP's backoff reaches 10 s after five timeouts; a
	// health check's PING every 10 to 30 s keeps its slot).
	ownerIdle = 60 * time.Second
)

// ownerEntry is one direction of a connection and the interface it is
// analysed on.
type ownerEntry struct {
	flow  uint64
	at    int64 // Unix nanoseconds of its last packet on its interface
	iface int32
	used  bool
}

// ownerFilter keeps each direction of a connection on one interface.
type ownerFilter struct {
	seed  maphash.Seed
	buf   [36]byte
	slots []ownerEntry
	// others counts the segments dropped, seen again on another
	// interface, per interface label, and the first.
	others map[string]int
	first  frameRef
	total  int
}

// mine says whether segment s, captured on iface, is analysed: its
// direction's first interface, or a direction not tracked.
func (o *ownerFilter) mine(s *Segment, iface Iface) bool {
	if o.slots == nil {
		o.seed = maphash.MakeSeed()
		o.slots = make([]ownerEntry, ownerSlots)
	}
	b := o.buf[:0]
	src, dst := s.Src.Addr().As16(), s.Dst.Addr().As16()
	b = append(b, src[:]...)
	b = append(b, dst[:]...)
	b = binary.BigEndian.AppendUint16(b, s.Src.Port())
	b = binary.BigEndian.AppendUint16(b, s.Dst.Port())
	flow := maphash.Bytes(o.seed, b)
	e := &o.slots[flow%ownerSlots]
	at := s.Time.UnixNano()
	stale := time.Duration(at-e.at) > ownerIdle
	switch {
	case !e.used || e.flow != flow && stale:
		*e = ownerEntry{flow: flow, at: at, iface: iface.ID, used: true}
		return true
	case e.flow != flow:
		return true // not tracked
	case e.iface == iface.ID || stale:
		e.iface, e.at = iface.ID, at
		return true
	}
	if o.others == nil {
		o.others = map[string]int{}
		o.first = frameRef{s.Input, s.Frame}
	}
	o.others[iface.Label()]++
	o.total++
	return false
}

// warnings says how many segments were left out, seen again on another
// interface.
func (o *ownerFilter) warnings(cur int) []string {
	if o.total == 0 {
		return nil
	}
	var parts []string
	for _, l := range slices.Sorted(maps.Keys(o.others)) {
		parts = append(parts, fmt.Sprintf("%d on %s", o.others[l], l))
	}
	return []string{fmt.Sprintf("%s seen again on another interface than the one their direction of the connection was first seen on (packets this host forwarded: a pod's veth and the uplink or a bridge), the first at %s: "+
		"each direction is analysed on the interface it was first seen on, each packet once; not analysed: %s",
		count(o.total, "TCP segment", "TCP segments"), o.first.in(cur), strings.Join(parts, ", "))}
}

// OneInterfacePerDirection makes r analyse each direction of a
// connection on the first interface it was seen on (Packet.Iface), and
// drop its packets on the others: copies of packets the host forwarded,
// for a live capture on every interface. Stats counts them in
// OtherInterface; Warnings says so.
func (r *InputDecoder) OneInterfacePerDirection() {
	if r.owners == nil {
		r.owners = &ownerFilter{}
	}
}
