package decode

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"net/netip"
	"time"

	"github.com/h2pcap/h2pcap/internal/flowhash"
)

// A capture can hold every packet twice: a switch port mirroring both
// directions of a link sees each packet on the way in and on the way out,
// `tcpdump -i any` sees a packet on a bridge and again on its port (or on
// a router's two interfaces), one interface captured twice into one file.
// Wireshark then counts every copy as a retransmission (and a copy of an
// ACK as a duplicate ACK), and so would the analysis: a healthy connection
// would read as a lossy one. An InputDecoder drops the copies instead, and
// says so in a warning. This is where h2pcap intentionally differs from
// tshark: on a capture with copies its retransmission counts are lower.
//
// A copy is told from a real retransmission by what a retransmission
// changes and by time. A copy has the same IP ID, TCP sequence and
// acknowledgement numbers, flags, window, options, length and payload
// (the TTL may differ: a router seen on both its interfaces decrements
// it) and comes within microseconds. A retransmission by Linux or Windows
// has a new IP ID (both give every packet sent, retransmissions included,
// the next one), and comes a round trip or a timer later.
const (
	// dupWindow: an IPv4 segment with an IP ID other than 0 that repeats
	// one captured at most this long before is a copy. Copies come a few
	// microseconds apart (one skb seen twice by one kernel), or a
	// switch's forwarding delay apart on a mirror port, under a
	// millisecond even with the mirror port's queue filling; 5 ms leaves
	// room for that. The IP ID is what tells a retransmission apart; the
	// window only keeps an IP ID that came round again (65536 packets
	// later) from matching.
	dupWindow = 5 * time.Millisecond
	// dupWindowNoID is dupWindow for a segment without an IP ID to tell:
	// IPv6, and IPv4 with ID 0 (Linux's SYN-ACKs and RSTs, every packet
	// with DF set by FreeBSD). Only the TCP segment tells, and a fast
	// retransmission on a path of a fraction of a millisecond can repeat
	// it exactly (same ACK, window and timestamp), so the window is
	// tighter and such a repeat is dropped only while the capture shows
	// copies throughout (dupPatternMin). The risk that remains: on a
	// capture that has copies, a retransmission of that kind within
	// 500 µs of its original is taken for a copy too.
	dupWindowNoID = 500 * time.Microsecond
	// dupPatternMin, dupSpan: a repeat without an IP ID is dropped as a
	// copy only while the capture shows copies: one of the last dupSpan
	// TCP segments was a copy proven by its IP ID, or at least
	// dupPatternMin of them were repeats that carry data, SYN or FIN. A
	// pure ACK or an RST repeats exactly on its own (duplicate ACKs
	// without SACK, RSTs answering a burst of segments), so those are no
	// evidence. A capture with every packet twice shows a copy in every
	// other segment, most of them with data (over 20 of 64); 8 of 64
	// would take 8 exact fast retransmissions within 500 µs of their
	// originals in 64 segments.
	dupSpan       = 64 // the bits of a uint64, which holds the history
	dupPatternMin = 8
	// dupSlots is the size of the table of recent segments, indexed by
	// hash. A copy comes a few packets after its original; 4096 slots
	// keep the segments of the last dupWindow at 800,000 packets/s. A
	// collision forgets the older segment: at worst a copy is analysed,
	// as Wireshark analyses it.
	dupSlots = 4096
	// dupSenders is the size of the table that remembers, per direction
	// of a connection, whether its sender keeps the IP ID constant (some
	// small stacks, and crafted captures such as Wireshark's
	// http-ooo.pcap, where every packet has ID 1): its IP ID tells
	// nothing, and its repeats are judged as those without one. A
	// collision forgets that, for a sender already rare.
	dupSenders = 1024
)

// dupEntry is one recent segment: its fingerprint, time and frame. It
// takes 24 bytes, not the 40 of whole fields: every segment reads a
// random slot, and the table is the bigger part of what each input's
// decoding keeps hot in the cache (with four capture points read side by
// side, 40-byte slots cost 0.1 CPU s more on the bench capture). The
// frame and input keep their low bits: dupFilter.refOf rebuilds them.
type dupEntry struct {
	sum   uint64
	at    int64  // Unix nanoseconds
	frame uint32 // its frame number's low 32 bits
	input uint16 // its input's low 16 bits
	iface uint16 // 0: empty slot; 1: interface unknown; else the interface + 2
}

// ifaceSlot is interface iface (-1 unknown) as a dupEntry holds it.
func ifaceSlot(iface int32) uint16 {
	if iface < 0 || iface > math.MaxUint16-2 {
		return 1
	}
	return uint16(iface + 2)
}

// dupSender is what is known of the IP IDs of one direction of a
// connection: the last one, and whether it was the same as the one
// before (a sender that keeps it constant).
type dupSender struct {
	flow uint64
	// since is when this direction took the entry (Unix ns), or
	// dupWindow before if the direction before it had sent nothing for
	// dupWindow: then this one sent nothing either in that time (it
	// would have taken the entry).
	since    int64
	lastAt   int64  // its last segment not a copy (Unix ns)
	lastID   uint16 // the last IP ID
	maxID    uint16 // the newest IP ID, by 16-bit serial order
	constant bool
}

// dupNewer bounds how far past a direction's newest IP ID a segment's may
// be for copyOf to know it is not a copy without reading its slot: a
// copy has its original's IP ID, no newer than the newest, and a sender
// does not send 4096 segments in dupWindow on one connection.
const dupNewer = 4096

// dupFilter finds the copies among an input's TCP segments.
type dupFilter struct {
	slots   []dupEntry // dupSlots, made at the first segment
	senders []dupSender
	// Bit i of each is the i-th segment before (of the last dupSpan):
	// proven, a copy by its IP ID; repeats, a repeat with data, SYN or
	// FIN.
	proven, repeats uint64

	// last is the segment looked at last, prev the last of the input
	// before (carry): a slot's frame and input are rebuilt from them.
	last, prev frameRef

	dropped, droppedNoID int // copies dropped; of them, without an IP ID
	// across counts the copies dropped that were captured on another
	// interface than their original: forwarded, in on one interface and
	// out on another (a router's or a node's -i any), rather than seen
	// twice on one path; firstAcross is the first of them.
	across         int
	firstAcross    frameRef
	first, firstOf frameRef // the first copy dropped and the frame it copies
	passed         int      // repeats without an IP ID analysed, the pattern not shown
	firstPassed    frameRef

	readAll bool // tests: every segment's slot read, to compare with copyOf's shortcut
}

// dupSample is how many bytes of each end of the payload
// appendCopyShape appends (natFinder's keys). Hashing the whole payload
// would take longer than decoding the packet (100 ns for 1000 bytes),
// and a copy's ends are its original's.
const dupSample = 64

// fingerprint hashes what a copy has the same as its original (sum), and
// the direction of the connection (flow). checksum is the segment's TCP
// checksum. The fields are mixed word by word (flowhash.Mix), not
// gathered into a buffer and hashed: on a bulk capture, where every
// segment carries 1448 bytes, the buffer and its hash were a sixth of
// the whole analysis, and the words of the header and the ends of the
// payload tell the same apart.
func (d *dupFilter) fingerprint(s *Segment, checksum uint16) (sum, flow uint64) {
	// The direction's hash, which stands for the addresses and ports
	// in the sum.
	flow = directed(s.Src, s.Dst)
	h := flowhash.Mix(flow ^ uint64(s.Seq)<<32 ^ uint64(s.Ack))
	h = flowhash.Mix(h ^ uint64(s.IPID)<<48 ^ uint64(s.Window)<<32 ^ uint64(checksum)<<16 ^ uint64(s.IPVersion)<<8 ^ uint64(s.Flags))
	return copyShapeSum(h, s), flow
}

// directed hashes a direction of a connection, from src to dst: two IPv4
// endpoints in two words, mixed twice (flowhash.Directed mixes each
// endpoint, then both: a third of the fingerprint), others as
// flowhash.Directed does. The family bit keeps the two kinds apart.
func directed(src, dst netip.AddrPort) uint64 {
	a, b := src.Addr(), dst.Addr()
	if !a.Is4() || !b.Is4() {
		return flowhash.Directed(src, dst)
	}
	x, y := a.As4(), b.As4()
	h := flowhash.Mix(uint64(binary.BigEndian.Uint32(x[:]))<<32 | uint64(binary.BigEndian.Uint32(y[:])))
	return flowhash.Mix(h ^ (uint64(src.Port())<<16 | uint64(dst.Port()) | 1<<48))
}

// copyShapeSum is h mixed with what appendCopyShape appends: the TCP
// options and both ends of the payload (dupSampleWords words of each).
func copyShapeSum(h uint64, s *Segment) uint64 {
	o := &s.Options
	h = flowhash.Mix(h ^ uint64(o.TSVal)<<32 ^ uint64(o.TSEcr))
	h = flowhash.Mix(h ^ uint64(uint32(s.PayloadLen))<<32 ^ uint64(o.MSS)<<16 ^ uint64(byte(o.WindowScale))<<8 ^ uint64(byte(len(o.SACK))))
	for _, blk := range o.SACK {
		h = flowhash.Mix(h ^ uint64(blk.Left)<<32 ^ uint64(blk.Right))
	}
	p := s.Payload
	if len(p) < 8*2*dupSampleWords {
		// Short: every byte, a word at a time, the last one padded
		// (the length, mixed in above, tells the padding apart).
		for len(p) >= 8 {
			h = flowhash.Mix(h ^ binary.LittleEndian.Uint64(p))
			p = p[8:]
		}
		if len(p) > 0 {
			var w [8]byte
			copy(w[:], p)
			h = flowhash.Mix(h ^ binary.LittleEndian.Uint64(w[:]))
		}
		return h
	}
	end := p[len(p)-8*dupSampleWords:]
	for i := 0; i < dupSampleWords; i++ {
		h = flowhash.Mix(h ^ binary.LittleEndian.Uint64(p[8*i:]))
		h = flowhash.Mix(h ^ binary.LittleEndian.Uint64(end[8*i:]))
	}
	return h
}

// dupSampleWords is how many 8-byte words of each end of the payload the
// fingerprint mixes in. The TCP checksum, which the fingerprint has too,
// covers the whole payload, and a copy has the same bytes: the ends only
// guard against a checksum that matches by chance in a segment that
// matches in every header field too (sequence and acknowledgement
// numbers, IP ID, timestamps), for which 8 bytes each end (a TLS
// record's header, an HTTP/2 frame header) do as well as more.
const dupSampleWords = 1

// appendCopyShape appends to b what every copy of s has whatever a box
// did to its addresses and IP header: its TCP options (timestamps, MSS,
// window scale, SACK blocks) and both ends of its payload.
func appendCopyShape(b []byte, s *Segment) []byte {
	o := &s.Options
	b = binary.BigEndian.AppendUint32(b, o.TSVal)
	b = binary.BigEndian.AppendUint32(b, o.TSEcr)
	b = binary.BigEndian.AppendUint16(b, o.MSS)
	b = append(b, byte(o.WindowScale), byte(len(o.SACK)))
	for _, blk := range o.SACK {
		b = binary.BigEndian.AppendUint32(b, blk.Left)
		b = binary.BigEndian.AppendUint32(b, blk.Right)
	}
	if p := s.Payload; len(p) > 2*dupSample {
		b = append(b, p[:dupSample]...)
		b = append(b, p[len(p)-dupSample:]...)
	} else {
		b = append(b, p...)
	}
	return b
}

// copyOf says whether s (whose TCP checksum is checksum, captured on
// interface iface, -1 unknown) is a copy of a segment shortly before it,
// to be dropped.
func (d *dupFilter) copyOf(s *Segment, checksum uint16, iface int32) bool {
	if d.slots == nil {
		d.slots = make([]dupEntry, dupSlots)
		d.senders = make([]dupSender, dupSenders)
	}
	sum, flow := d.fingerprint(s, checksum)
	slot := &d.slots[sum%dupSlots]
	sender := &d.senders[flow%dupSenders]
	at := s.Time.UnixNano()
	hasID := s.IPVersion == 4 && s.IPID != 0 && !(sender.flow == flow && sender.constant)
	window := dupWindow
	if !hasID {
		window = dupWindowNoID
	}
	// A segment whose IP ID is newer than any its direction sent since
	// it took its sender entry more than dupWindow ago is no copy: a
	// copy's original came within dupWindow, so after, and had the same
	// IP ID. Its slot, a random one of the table and most often out of
	// the cache, is then not read (a twentieth of analysing short
	// connections), only written.
	repeat := false
	if d.readAll || !hasID || sender.flow != flow || at-sender.since <= int64(dupWindow) || s.IPID-sender.maxID-1 >= dupNewer {
		repeat = slot.iface != 0 && slot.sum == sum && absDuration(time.Duration(at-slot.at)) <= window
	}
	d.last = frameRef{s.Input, s.Frame}
	d.proven <<= 1
	d.repeats <<= 1
	if repeat && hasID {
		d.proven |= 1
	}
	if repeat && (s.PayloadLen > 0 || s.Flags&(FlagSYN|FlagFIN) != 0) {
		d.repeats |= 1
	}
	if !repeat {
		*slot = dupEntry{sum: sum, at: at, frame: uint32(s.Frame), input: uint16(s.Input), iface: ifaceSlot(iface)}
		if sender.flow == flow {
			sender.constant = s.IPID == sender.lastID
			if n := s.IPID - sender.maxID; n != 0 && n < 0x8000 {
				sender.maxID = s.IPID
			}
		} else {
			since := at
			if sender.flow == 0 || at-sender.lastAt > int64(dupWindow) {
				since = at - int64(dupWindow) - 1
			}
			*sender = dupSender{flow: flow, since: since, maxID: s.IPID}
		}
		sender.lastID, sender.lastAt = s.IPID, at
		return false
	}
	if !hasID && d.proven == 0 && bits.OnesCount64(d.repeats) < dupPatternMin {
		if d.passed == 0 {
			d.firstPassed = frameRef{s.Input, s.Frame}
		}
		d.passed++
		return false
	}
	if d.dropped == 0 {
		d.first, d.firstOf = frameRef{s.Input, s.Frame}, d.refOf(slot)
	}
	d.dropped++
	if iface >= 0 && slot.iface > 1 && ifaceSlot(iface) != slot.iface {
		if d.across == 0 {
			d.firstAcross = frameRef{s.Input, s.Frame}
		}
		d.across++
	}
	if !hasID {
		d.droppedNoID++
	}
	return true
}

// carry takes over the recent segments of old (the previous input of a
// capture split by rotation), among which copies are looked for.
func (d *dupFilter) carry(old *dupFilter) {
	if old.slots == nil {
		return
	}
	d.slots, d.senders, d.proven, d.repeats = old.slots, old.senders, old.proven, old.repeats
	old.slots, old.senders = nil, nil
	d.prev = old.last
	// What old had kept of the input before it is older than that input
	// (rotated after less than dupWindow): forgotten, so that refOf
	// knows each slot's input.
	for i := range d.slots {
		if e := &d.slots[i]; e.iface != 0 && e.input != uint16(old.last.input) {
			*e = dupEntry{}
		}
	}
}

// refOf is the frame that e, a slot in use, was made from: the current
// input's or the one before's (carry), its frame number rebuilt from its
// low bits and that input's last frame, which came after it.
func (d *dupFilter) refOf(e *dupEntry) frameRef {
	base := d.last
	if e.input != uint16(base.input) {
		base = d.prev
	}
	return frameRef{base.input, base.frame - int(uint32(base.frame)-e.frame)}
}

// warnings says how many copies were dropped, in a warning of input cur.
func (d *dupFilter) warnings(cur, fragCopies int) []string {
	if d.dropped == 0 && fragCopies == 0 {
		return nil
	}
	if d.dropped == 0 {
		// Only fragments came twice (a copy of a completed datagram's
		// fragment): their datagrams were analysed once anyway.
		return []string{fmt.Sprintf("packets captured twice: %s repeated one captured within %s; each datagram is analysed once",
			count(fragCopies, "IPv4 fragment", "IPv4 fragments"), dupWindow)}
	}
	w := fmt.Sprintf("packets captured twice (a port mirroring both directions, `-i any` seeing a bridge and its port, an interface captured twice): "+
		"%s repeated one captured within %s with the same IP ID, sequence and acknowledgement numbers, flags, length and payload, "+
		"the first at %s (a copy of %s); each packet is analysed once, where Wireshark counts every copy as a retransmission or a duplicate ACK",
		count(d.dropped, "TCP segment", "TCP segments"), dupWindow, d.first.in(cur), d.firstOf.in(cur))
	if d.across > 0 {
		w += fmt.Sprintf("; %d of them (the first at %s) were captured on another interface than their original: packets forwarded by the capturing box, in on one interface and out on another. "+
			"Each interface is a capture point of its own (h2pcap analyze --split-interfaces, the default for a file with such copies): analysed that way, a packet seen on one interface and never on the other was lost inside the box",
			d.across, d.firstAcross.in(cur))
	}
	if d.droppedNoID > 0 {
		w += fmt.Sprintf("; %d of them had no IP ID to tell (IPv6, or IP ID 0) and were taken for copies by their TCP segment alone, within %s", d.droppedNoID, dupWindowNoID)
	}
	if fragCopies > 0 {
		w += fmt.Sprintf("; so did %s", count(fragCopies, "IPv4 fragment", "IPv4 fragments"))
	}
	out := []string{w}
	if d.passed > 0 {
		out = append(out, fmt.Sprintf("%s without an IP ID repeated one captured within %s, the first at %s, before the capture showed copies throughout: "+
			"analysed (as retransmissions or duplicate ACKs, as Wireshark does), since a fast retransmission can repeat a segment exactly",
			count(d.passed, "TCP segment", "TCP segments"), dupWindowNoID, d.firstPassed.in(cur)))
	}
	return out
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
