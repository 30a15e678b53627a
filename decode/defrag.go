package decode

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/gopacket/gopacket/ip4defrag"
	"github.com/gopacket/gopacket/layers"
)

// Bounds of IPv4 reassembly.
const (
	// fragTimeout: the fragments of a datagram not completed within
	// this much capture time are dropped. It is Linux's default
	// net.ipv4.ipfrag_time: by then the receiver has given up on the
	// datagram too, so no datagram it reassembled is lost, and a stale
	// fragment cannot join a later datagram that reuses its IP ID.
	fragTimeout = 30 * time.Second
	// fragSweepEvery: how often (in capture time) the fragments older
	// than fragTimeout are looked for. A sweep walks every pending
	// datagram, so not at every fragment; a second is short next to
	// fragTimeout.
	fragSweepEvery = time.Second
	// fragMaxBytes bounds the memory pending fragments hold: 128
	// datagrams of the largest size (64 KiB) at once, far more than a
	// path that fragments has in flight (a congestion window of a few
	// datagrams per connection), and little next to the analysis' own
	// memory. Past it every pending datagram is dropped, which keeps the
	// work per fragment constant on a flood of fragments that never
	// complete.
	fragMaxBytes = 8 << 20
	// fragOverhead is what ip4defrag keeps for a fragment beside its
	// payload (a layers.IPv4 and its slices, about 200 bytes), counted
	// towards fragMaxBytes so that a flood of tiny fragments is bounded
	// too.
	fragOverhead = 256
	// fragRecent is how many completed datagrams are remembered, so
	// that a copy of one of their fragments (a capture that has every
	// packet twice) is not taken for the start of a new datagram that
	// would never complete. Copies come within dupWindow, a few packets
	// later; 16 datagrams cover that at any rate a fragmenting path
	// carries.
	fragRecent = 16
)

// Reasons for fragments whose datagram did not complete in time.
var (
	fragLate      = fmt.Sprintf("the rest of the datagram did not come within %s", fragTimeout)
	fragFirstOnly = fmt.Sprintf("only the first fragment came within %s: was the capture filtered on ports, as tcpdump's \"port\" filters, which drops the others?", fragTimeout)
)

// fragKey names a datagram as RFC 791 does: source, destination,
// protocol and IP ID.
type fragKey struct {
	src, dst [4]byte
	id       uint16
	proto    layers.IPProtocol
}

// fragPending is what is known of a datagram whose fragments are held.
type fragPending struct {
	first     frameRef // its first fragment to arrive
	firstOnly bool     // every fragment held starts the datagram (offset 0)
	frags     int
	bytes     int // counted towards fragMaxBytes
	last      time.Time
}

// defragmenter reassembles fragmented IPv4 datagrams that may carry TCP,
// with gopacket's ip4defrag, within the bounds above. It remembers, per
// reason, the fragments that never made a datagram, for the warnings.
type defragmenter struct {
	ip4       *ip4defrag.IPv4Defragmenter // made at the first fragment: unfragmented traffic costs nothing
	pending   map[fragKey]*fragPending
	bytes     int
	lastSweep time.Time
	recent    [fragRecent]struct {
		key fragKey
		at  time.Time
	}
	recentNext int
	copies     int   // fragments dropped as copies of a completed datagram's
	dropped    tally // fragments of datagrams that were never completed, by reason
}

// carriesTCP says whether a datagram of protocol p can hold a TCP
// segment: TCP itself, or a tunnel (UDP for the overlays). Only those are
// reassembled: the analysis has no use for the others (ICMP, ESP, ...),
// which would take memory.
func carriesTCP(p layers.IPProtocol) bool {
	switch p {
	case layers.IPProtocolTCP, layers.IPProtocolUDP, layers.IPProtocolIPv4, layers.IPProtocolIPv6, layers.IPProtocolGRE:
		return true
	}
	return false
}

// add takes one fragment: ip is its header as decoded, payload what was
// captured of its payload and plen the payload's length from the header
// (badLength: the header's total length did not fit the frame). It
// returns the datagram's payload when this fragment completes it, else
// nil. The returned slice is the datagram's own, not the frame's.
func (f *defragmenter) add(ip *layers.IPv4, badLength bool, payload []byte, plen int, frame frameRef, now time.Time) []byte {
	key := fragKey{src: [4]byte(ip.SrcIP), dst: [4]byte(ip.DstIP), id: ip.Id, proto: ip.Protocol}
	if f.isCopy(key, now) {
		f.copies++
		return nil
	}
	if badLength {
		f.drop(key, frame, "its IP total length does not fit its frame", false)
		return nil
	}
	if len(payload) < plen {
		f.drop(key, frame, "cut by the snap length", false)
		return nil
	}
	f.sweep(now)
	cost := fragOverhead + plen
	if f.bytes+cost > fragMaxBytes {
		f.dropAll(fmt.Sprintf("more than %d MiB of fragments waited for the rest of their datagrams", fragMaxBytes>>20))
	}
	if f.ip4 == nil {
		f.ip4 = ip4defrag.NewIPv4Defragmenter()
		f.pending = map[fragKey]*fragPending{}
	}
	// ip4defrag keeps the layer it is given until the datagram is
	// complete, and the frame's bytes are gone after this packet: it
	// gets a copy of what it uses.
	in := &layers.IPv4{
		Version: 4, IHL: 5, Length: uint16(20 + plen),
		Id: ip.Id, Flags: ip.Flags, FragOffset: ip.FragOffset, TTL: ip.TTL, Protocol: ip.Protocol,
		SrcIP: bytes.Clone(ip.SrcIP), DstIP: bytes.Clone(ip.DstIP),
	}
	in.Payload = bytes.Clone(payload[:plen])
	out, err := f.ip4.DefragIPv4WithTimestamp(in, now)
	p := f.pending[key]
	switch {
	case err != nil:
		// ip4defrag has dropped the datagram's fragments, as a
		// receiver drops a datagram whose fragments contradict each
		// other.
		f.drop(key, frame, strings.TrimPrefix(err.Error(), "defrag: "), true)
		return nil
	case out == nil:
		if p == nil {
			p = &fragPending{first: frame, firstOnly: true}
			f.pending[key] = p
		}
		p.firstOnly = p.firstOnly && ip.FragOffset == 0
		p.frags++
		p.bytes += cost
		p.last = now
		f.bytes += cost
		return nil
	}
	f.forget(key)
	f.recent[f.recentNext] = struct {
		key fragKey
		at  time.Time
	}{key, now}
	f.recentNext = (f.recentNext + 1) % fragRecent
	return out.Payload
}

// carry takes over the fragments old holds (the previous input of a
// capture split by rotation), which may complete in this input.
func (f *defragmenter) carry(old *defragmenter) {
	f.ip4, f.pending, f.bytes, f.lastSweep = old.ip4, old.pending, old.bytes, old.lastSweep
	f.recent, f.recentNext = old.recent, old.recentNext
	old.ip4, old.pending, old.bytes = nil, nil, 0
}

// isCopy says whether a fragment belongs to a datagram completed within
// dupWindow: it is a copy of one of its fragments.
func (f *defragmenter) isCopy(key fragKey, now time.Time) bool {
	for _, r := range f.recent {
		if r.key == key && !r.at.IsZero() && absDuration(now.Sub(r.at)) <= dupWindow {
			return true
		}
	}
	return false
}

// drop counts the fragment at frame as never reassembled, for reason,
// and with it the datagram's held fragments when ip4defrag has flushed
// them.
func (f *defragmenter) drop(key fragKey, frame frameRef, reason string, flushed bool) {
	first, n := frame, 1
	if p := f.pending[key]; p != nil && flushed {
		first, n = p.first, p.frags+1
		f.forget(key)
	}
	if key.proto != layers.IPProtocolUDP {
		f.dropped.add(reason, reason, first, n)
	}
}

func (f *defragmenter) forget(key fragKey) {
	if p := f.pending[key]; p != nil {
		f.bytes -= p.bytes
		delete(f.pending, key)
	}
}

// dropAll drops every pending datagram, for reason.
func (f *defragmenter) dropAll(reason string) {
	for k, p := range f.pending {
		if k.proto != layers.IPProtocolUDP {
			f.dropped.add(reason, reason, p.first, p.frags)
		}
	}
	clear(f.pending)
	f.bytes = 0
	f.ip4 = ip4defrag.NewIPv4Defragmenter()
}

// sweep drops, at most once per fragSweepEvery, the datagrams that waited
// longer than fragTimeout for a fragment. Capture time that runs
// backwards sweeps at once, measured from the new time.
func (f *defragmenter) sweep(now time.Time) {
	if len(f.pending) == 0 || (now.Sub(f.lastSweep) < fragSweepEvery && !now.Before(f.lastSweep)) {
		return
	}
	f.lastSweep = now
	cutoff := now.Add(-fragTimeout)
	for k, p := range f.pending {
		if p.last.Before(cutoff) {
			if k.proto != layers.IPProtocolUDP {
				reason := fragLate
				if p.firstOnly {
					reason = fragFirstOnly
				}
				f.dropped.add(reason, reason, p.first, p.frags)
			}
			f.bytes -= p.bytes
			delete(f.pending, k)
		}
	}
	f.ip4.DiscardOlderThan(cutoff)
}

// warnings describes the fragments that never made a datagram: dropped
// on the way, and still waiting at the end of input cur.
func (f *defragmenter) warnings(cur int) []string {
	out := f.dropped.lines(func(r reasonCount) string {
		return fmt.Sprintf("IPv4 fragments not reassembled (%s): %d, the first at %s; their TCP segments are not analysed, as in Wireshark",
			r.example, r.count, r.first.in(cur))
	})
	var first frameRef
	datagrams, frags, firstOnly := 0, 0, 0
	for k, p := range f.pending {
		if k.proto == layers.IPProtocolUDP {
			continue
		}
		if datagrams == 0 || p.first.less(first) {
			first = p.first
		}
		datagrams++
		frags += p.frags
		if p.firstOnly {
			firstOnly++
		}
	}
	if datagrams > 0 {
		hint := ""
		if firstOnly == datagrams && datagrams > 1 {
			// A filter on ports keeps the fragments with a TCP
			// header, the first ones, and drops the rest.
			hint = " (only first fragments: was the capture filtered on ports, as tcpdump's \"port\" filters, which drops the others?)"
		}
		out = append(out, fmt.Sprintf("IPv4 datagrams incomplete at the end of the input: %d (%s), the first at %s%s; their TCP segments are not analysed, as in Wireshark",
			datagrams, count(frags, "fragment", "fragments"), first.in(cur), hint))
	}
	return out
}
