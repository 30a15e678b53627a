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
// shows it, until the first one does; the segments taken there that the
// first one shows after it began to show that direction (a queue
// between them: the node's egress queue to the pod) are copies.
const (
	// ownerSlots is the size of the table of connections and their
	// interface, indexed by hash: 32768 connections at 32 bytes each,
	// 1 MB. A connection whose slot a busy one holds is not tracked:
	// its copies are left to the copy filter, as without this table.
	ownerSlots = 1 << 15
	// ownerIdle is how long a connection must have been quiet before its
	// slot may go to another (or it may start again on another
	// interface: a route that changed): longer than any retransmission
	// gap that matters to the analysis of a live connection (TCP's
	// backoff reaches 10 s after five timeouts; a health check's PING
	// every 10 to 30 s keeps its slot).
	ownerIdle = 60 * time.Second
	// ownerBacklogAge is how long after a segment was taken on another
	// interface its copy on the connection's own may come and still be
	// known as one: a forwarded packet's queue delay (a 10 Mbit/s queue
	// holding 80 segments delays the last by 100 ms; a bloated one, a
	// second). A real retransmission of the same segment comes a
	// retransmission timeout later (200 ms at least) and after the
	// copy, which took the key out: it is counted.
	ownerBacklogAge = time.Second
	// ownerBacklogMax bounds the segments remembered per direction: a
	// direction its own interface never shows (asymmetric routing) is
	// remembered for ownerBacklogAge at most, and no more than these.
	ownerBacklogMax = 256
)

// ownerEntry is one connection and the interfaces it is analysed on.
type ownerEntry struct {
	flow  uint64
	at    int64 // Unix nanoseconds of its last packet
	owner int32 // the interface it was first seen on
	used  bool
	// Per direction (0: from the lower endpoint): whether the owner has
	// shown it, and the interface it is taken from until then (-1 none).
	shown [2]bool
	// backlog's bit d: direction d took segments elsewhere whose copies
	// its owner may still show (ownerFilter.backlog, which holds those
	// segments): only then does a segment on the owner look there.
	backlog uint8
	cur     [2]int32
}

type segKey struct {
	seq, ack uint32
	n        int32
	flags    TCPFlags
}

// ownerBacklog is, per direction of one connection, the segments taken
// on another interface than the connection's own (in order, with their
// time in Unix ns) whose copy its own interface has not shown yet.
type ownerBacklog struct {
	keys [2][]backlogKey
	at   int64 // the last segment remembered
}

type backlogKey struct {
	key segKey
	at  int64
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
	// backlog is, by connection (its flow hash), what each direction
	// took on another interface that its own has not shown yet.
	backlog   map[uint64]*ownerBacklog
	nextSweep int64 // when stale backlogs are next dropped (Unix ns)
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
		if e.used {
			delete(o.backlog, e.flow)
		}
		*e = ownerEntry{flow: flow, at: at, owner: f, used: true, cur: [2]int32{-1, -1}}
		e.shown[d], e.cur[d] = true, f
		return true
	}
	if e.flow != flow {
		return true // not tracked
	}
	e.at = at
	switch {
	case f == e.owner:
		// The owner shows this direction (at last, or again): from now
		// on it is taken there. A segment taken elsewhere before it did
		// is this one again when it has the same numbers: the copies
		// come in the order the originals did, the backlog a queue
		// between the interfaces held.
		e.shown[d], e.cur[d] = true, f
		if e.backlog&(1<<d) != 0 {
			copied, more := o.takeBack(flow, d, key, at)
			if !more {
				e.backlog &^= 1 << d
			}
			if copied {
				o.drop(s, iface)
				return false
			}
		}
		return true
	case e.shown[d] || e.cur[d] >= 0 && e.cur[d] != f:
		o.drop(s, iface)
		return false
	}
	// A direction the owner has not shown (yet), from the interface it
	// is taken from.
	e.cur[d] = f
	e.backlog |= 1 << d
	o.remember(flow, d, key, at)
	return true
}

// remember notes that direction d of connection flow took the segment of
// key at at on another interface than the connection's own.
func (o *ownerFilter) remember(flow uint64, d int, key segKey, at int64) {
	if o.backlog == nil {
		o.backlog = map[uint64]*ownerBacklog{}
	}
	if at >= o.nextSweep {
		// Connections whose own interface never showed what they took
		// elsewhere (asymmetric routing, or one that ended): dropped
		// once all of it is older than ownerBacklogAge.
		for k, b := range o.backlog {
			if time.Duration(at-b.at) > ownerBacklogAge {
				delete(o.backlog, k)
			}
		}
		o.nextSweep = at + int64(10*time.Second)
	}
	b := o.backlog[flow]
	if b == nil {
		b = &ownerBacklog{}
		o.backlog[flow] = b
	}
	keys := b.keys[d]
	for len(keys) > 0 && (len(keys) >= ownerBacklogMax || time.Duration(at-keys[0].at) > ownerBacklogAge) {
		keys = keys[1:]
	}
	b.keys[d], b.at = append(keys, backlogKey{key, at}), at
}

// takeBack says whether the segment of key, on direction d of connection
// flow's own interface at at, is the copy of one taken elsewhere
// (copied), and forgets that one; and whether others are left (more).
// Those older than ownerBacklogAge go first.
func (o *ownerFilter) takeBack(flow uint64, d int, key segKey, at int64) (copied, more bool) {
	b := o.backlog[flow]
	if b == nil {
		return false, false // dropped as stale (remember)
	}
	keys := b.keys[d]
	for len(keys) > 0 && time.Duration(at-keys[0].at) > ownerBacklogAge {
		keys = keys[1:]
	}
	found := false
	for i := range keys {
		if keys[i].key == key {
			keys = append(keys[:i], keys[i+1:]...)
			found = true
			break
		}
	}
	b.keys[d] = keys
	if len(b.keys[0]) == 0 && len(b.keys[1]) == 0 {
		delete(o.backlog, flow)
	}
	return found, len(keys) > 0
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
