package decode

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"
)

// A live capture on every interface of a node (h2pcap live -i any, a
// DaemonSet's default) sees a pod's packets on the pod's veth and again
// on the uplink or a bridge: the same packet once per interface it
// crosses. The copy filter (dup.go) drops a copy only when it is exact
// and within milliseconds; a copy whose checksum the kernel has not
// filled in yet (an outgoing packet with checksum offload) or that waited
// in a queue is not exact, and would be counted as a retransmission. An
// InputDecoder asked to (OneInterfacePerConnection) analyses each
// connection on one interface: the first it was seen on (the pod's veth
// for what a pod dials, the uplink for what comes to the node), as a
// capture there alone would. What that interface never shows of a
// direction (asymmetric routing: the answers come in by another
// interface than the requests leave by) is taken from the interface that
// shows it, until the first one does.
const (
	// ownerSlots is the size of the table of connections and their
	// interface, indexed by hash: 32768 connections at 56 bytes each,
	// 1.8 MB. A connection whose slot a busy one holds is not tracked:
	// its copies are left to the copy filter, as without this table.
	ownerSlots = 1 << 15
	// ownerIdle is how long a connection must have been quiet before its
	// slot may go to another (or it may start again on another
	// interface: a route that changed): longer than any retransmission
	// gap that matters to the analysis of a live connection (TCP's
	// backoff reaches 10 s after five timeouts; a health check's PING
	// every 10 to 30 s keeps its slot).
	ownerIdle = 60 * time.Second
)

// ownerEntry is one connection and the interfaces it is analysed on.
type ownerEntry struct {
	flow  uint64
	at    int64 // Unix nanoseconds of its last packet
	owner int32 // the interface it was first seen on
	used  bool
	// Per direction (0: from the lower endpoint): whether the owner has
	// shown it, the interface it is taken from until then (-1 none), and
	// the last segment taken, to know its copy on the owner.
	shown [2]bool
	cur   [2]int32
	last  [2]segKey
}

type segKey struct {
	seq, ack uint32
	n        int32
	flags    TCPFlags
}

// ownerFilter keeps each connection on one interface.
type ownerFilter struct {
	buf   [36]byte
	slots []ownerEntry
	// others counts the segments dropped, seen again on another
	// interface, per interface label, and the first.
	others map[string]int
	first  frameRef
	total  int
}

// mine says whether segment s, captured on iface, is analysed.
func (o *ownerFilter) mine(s *Segment, iface Iface) bool {
	if o.slots == nil {
		o.slots = make([]ownerEntry, ownerSlots)
	}
	lo, hi, d := s.Src, s.Dst, 0
	if lo.Compare(hi) > 0 {
		lo, hi, d = hi, lo, 1
	}
	b := o.buf[:0]
	a1, a2 := lo.Addr().As16(), hi.Addr().As16()
	b = append(b, a1[:]...)
	b = append(b, a2[:]...)
	b = binary.BigEndian.AppendUint16(b, lo.Port())
	b = binary.BigEndian.AppendUint16(b, hi.Port())
	flow := xxhash.Sum64(b)
	e := &o.slots[flow%ownerSlots]
	at := s.Time.UnixNano()
	key := segKey{s.Seq, s.Ack, int32(s.PayloadLen), s.Flags}
	f := iface.ID
	if !e.used || time.Duration(at-e.at) > ownerIdle {
		*e = ownerEntry{flow: flow, at: at, owner: f, used: true, cur: [2]int32{-1, -1}}
		e.shown[d], e.cur[d], e.last[d] = true, f, key
		return true
	}
	if e.flow != flow {
		return true // not tracked
	}
	e.at = at
	switch {
	case f == e.owner && !e.shown[d]:
		// The owner shows this direction at last: from now on it is
		// taken there. The first copy there of the segment taken
		// elsewhere just before is that segment again.
		e.shown[d] = true
		copyOfLast := e.cur[d] >= 0 && e.last[d] == key
		e.cur[d], e.last[d] = f, key
		if copyOfLast {
			o.drop(s, iface)
			return false
		}
		return true
	case f == e.owner:
		e.last[d] = key
		return true
	case e.shown[d] || e.cur[d] >= 0 && e.cur[d] != f:
		o.drop(s, iface)
		return false
	}
	// A direction the owner has not shown (yet), from the interface it
	// is taken from.
	e.cur[d], e.last[d] = f, key
	return true
}

func (o *ownerFilter) drop(s *Segment, iface Iface) {
	if o.others == nil {
		o.others = map[string]int{}
		o.first = frameRef{s.Input, s.Frame}
	}
	o.others[iface.Label()]++
	o.total++
}

// warnings says how many segments were left out, seen on another
// interface than their connection's.
func (o *ownerFilter) warnings(cur int) []string {
	if o.total == 0 {
		return nil
	}
	var parts []string
	for _, l := range slices.Sorted(maps.Keys(o.others)) {
		parts = append(parts, fmt.Sprintf("%d on %s", o.others[l], l))
	}
	return []string{fmt.Sprintf("%s seen again on another interface than the one their connection was first seen on (packets this host forwarded: a pod's veth and the uplink or a bridge), the first at %s: "+
		"each connection is analysed on the interface it was first seen on, each packet once; not analysed: %s",
		count(o.total, "TCP segment", "TCP segments"), o.first.in(cur), strings.Join(parts, ", "))}
}

// OneInterfacePerConnection makes r analyse each connection on the first
// interface it was seen on (Packet.Iface), dropping its packets on the
// others (copies of packets the host forwarded), for a live capture on
// every interface; a direction that interface does not show is taken
// from the one that does. Stats counts the dropped in OtherInterface;
// Warnings says so.
func (r *InputDecoder) OneInterfacePerConnection() {
	if r.owners == nil {
		r.owners = &ownerFilter{}
	}
}
