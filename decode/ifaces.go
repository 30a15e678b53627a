package decode

import (
	"encoding/binary"
	"io"
	"time"

	"github.com/cespare/xxhash/v2"
)

// InterfaceSurvey is what one read of an input tells of the interfaces
// its packets were captured on: a file of `tcpdump -i any` (LINUX_SLL2)
// or of several interfaces (pcapng) on a router or a node holds each
// forwarded packet twice, in on one interface and out on another. Such a
// file is several capture points, one per interface, and the caller
// decides (from Copies) whether to analyse it so.
type InterfaceSurvey struct {
	// Interfaces are those that carried TCP segments, in the order of
	// their first.
	Interfaces []SurveyedIface
	// Segments counts the TCP segments of the input (copies included).
	Segments int
	// Copies counts the TCP segments that repeat one captured just
	// before on another interface (see dupWindow for what a copy is):
	// forwarded by the capturing box.
	Copies int
	// Rewritten counts the TCP segments that repeat one captured just
	// before on another interface not exactly (other addresses or ports,
	// a checksum) but in what a NAT keeps: the same IPv4 ID, sequence and
	// acknowledgement numbers, flags and length; without an IP ID
	// (IPv6) the same TCP header but for the ports and checksum, the
	// same payload, and a hop limit one less. Forwarded through a NAT in
	// the box (a load balancer's DNAT and masquerade), which the copy
	// finder, comparing whole segments, does not take for copies.
	Rewritten int
	// First and Last are the times of the input's first and last
	// packets.
	First, Last time.Time
}

// SurveyedIface is one interface of an InterfaceSurvey.
type SurveyedIface struct {
	Iface
	Segments   int // its TCP segments
	FirstFrame int // the frame of its first one
}

// ifaceCounter is implemented by sources that describe their interfaces
// ahead of their packets (pcapng's Interface Description Blocks).
type ifaceCounter interface{ describedIfaces() int }

func (s *ngSource) describedIfaces() int { return len(s.ifaces) }

// SurveyInterfaces reads src to its end and says which interfaces its
// TCP segments came on and how many were copies across interfaces. It
// returns nil when the input cannot be several points: its packets do
// not name their interface, or it describes one interface only (a pcapng
// whose first packet came when its section described one interface:
// writers describe every interface first). It reads no further than it
// must to tell that: one packet for those, the whole input otherwise.
func SurveyInterfaces(src Source) (*InterfaceSurvey, error) {
	dec := NewInputDecoder()
	var seg Segment
	sv := NewSurveyor(src)
	for {
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if !sv.Wants(p) {
			if sv.Off() {
				return nil, nil
			}
			continue // not decoded: it cannot be a copy across interfaces
		}
		var s *Segment
		if ok, _ := dec.Decode(p, &seg); ok {
			s = &seg
		}
		sv.Add(p, s, dec)
	}
	return sv.Survey(dec), nil
}

// Surveyor is an interface survey made a packet at a time, as a decoder
// that reads the input anyway decodes it (h2pcap analyze reading a file
// as one capture): SurveyInterfaces' survey without a reading of its
// own. Add takes every packet once decoded; Wants says whether it is
// surveyed (SurveyInterfaces decodes only those).
type Surveyor struct {
	src     Source
	sv      InterfaceSurvey
	nat     natFinder
	index   map[int32]int // interface ID -> index in sv.Interfaces
	began   bool          // the first packet was seen
	off     bool          // the input cannot be several points
	dropped int           // the decoder's copies dropped at the last Add
}

// NewSurveyor surveys src's interfaces.
func NewSurveyor(src Source) *Surveyor {
	return &Surveyor{src: src, index: map[int32]int{}}
}

// Wants says whether p, the input's next packet (or the one Add is
// given), is surveyed: false for a packet that names no interface, and
// for all once the first packet told the input cannot be several points
// (Off).
func (s *Surveyor) Wants(p *Packet) bool {
	if !s.began {
		s.began = true
		if !p.Iface.Known {
			s.off = true
		} else if c, ok := s.src.(ifaceCounter); ok && c.describedIfaces() < 2 && p.LinkType != 276 {
			s.off = true
		}
	}
	return !s.off && p.Iface.Known
}

// Off says the input cannot be several points: its packets name no
// interface, or it describes one only (SurveyInterfaces' nil).
func (s *Surveyor) Off() bool { return s.off }

// Add takes p once dec has decoded it: seg is its TCP segment, nil if it
// carries none or dec dropped it as a copy. Every packet dec decodes is
// given, so that a copy dropped is told from dec's count.
func (s *Surveyor) Add(p *Packet, seg *Segment, dec *InputDecoder) {
	dropped, _ := dec.Copies()
	copied := dropped != s.dropped
	s.dropped = dropped
	if !s.Wants(p) || seg == nil && !copied {
		return // no TCP segment, not a copy of one
	}
	if seg != nil && s.nat.repeats(seg, p.Iface.ID) {
		s.sv.Rewritten++
	}
	s.sv.Segments++
	i, seen := s.index[p.Iface.ID]
	if !seen {
		i = len(s.sv.Interfaces)
		s.index[p.Iface.ID] = i
		s.sv.Interfaces = append(s.sv.Interfaces, SurveyedIface{Iface: Iface{ID: p.Iface.ID, Known: true, Name: p.Iface.Name}, FirstFrame: p.Frame})
	}
	s.sv.Interfaces[i].Segments++
}

// Forwarded says whether what was added so far already shows packets
// forwarded between the input's interfaces: TCP on two of them, and at
// least min copies (dec's, the decoder that decoded them) or rewritten
// ones. The survey at the input's end can only add to them.
func (s *Surveyor) Forwarded(dec *InputDecoder, min int) bool {
	if s.off || len(s.sv.Interfaces) < 2 {
		return false
	}
	_, across := dec.Copies()
	return across+s.sv.Rewritten >= min
}

// Survey is the survey of what was added, dec being the decoder that
// decoded it; nil when the input cannot be several points.
func (s *Surveyor) Survey(dec *InputDecoder) *InterfaceSurvey {
	if s.off || !s.began {
		if !s.began {
			// No packet: as SurveyInterfaces, an empty survey.
			return &InterfaceSurvey{First: s.src.Info().First, Last: s.src.Info().Last}
		}
		return nil
	}
	sv := s.sv
	_, sv.Copies = dec.Copies()
	sv.First, sv.Last = s.src.Info().First, s.src.Info().Last
	return &sv
}

// natFinder finds the segments that repeat one captured just before on
// another interface by what a NAT keeps (exact copies never reach it:
// the copy finder drops them first). With an IP ID (IPv4, not 0): the
// ID, sequence and acknowledgement numbers, flags and length, within
// dupWindow. Without one (IPv6; IPv4 with ID 0, DF set by FreeBSD) what
// else survives the NAT and tells one segment from the next: the
// sequence and acknowledgement numbers, flags, length, window, TCP
// options (timestamps, MSS, window scale, SACK blocks) and both ends of
// the payload, on another interface with a TTL (hop limit) one less:
// routed once, by the capturing box, as a retransmission never is. A
// segment with data is also looked up without its TCP numbers, which a
// SYN proxy shifts (repeats). A collision forgets the older segment.
type natFinder struct {
	buf   [256]byte
	slots [dupSlots]struct {
		sum   uint64
		at    int64
		iface int32
		ttl   uint8
	}
}

// repeats says whether s, captured on iface, repeats a segment of
// another interface.
func (n *natFinder) repeats(s *Segment, iface int32) bool {
	b := n.buf[:0]
	hasID := s.IPVersion == 4 && s.IPID != 0
	if hasID {
		b = binary.BigEndian.AppendUint16(b, s.IPID)
	} else {
		// Apart from those with an ID: another kind of key.
		b = append(b, 0xff, s.IPVersion)
	}
	b = binary.BigEndian.AppendUint32(b, s.Seq)
	b = binary.BigEndian.AppendUint32(b, s.Ack)
	b = binary.BigEndian.AppendUint32(b, uint32(s.PayloadLen))
	b = append(b, byte(s.Flags))
	if !hasID {
		b = binary.BigEndian.AppendUint16(b, s.Window)
		b = appendCopyShape(b, s)
	}
	found := n.seen(xxhash.Sum64(b), s, iface, hasID)
	if len(s.Payload) >= natShapeMin {
		// A box that answers handshakes itself (a SYN proxy) shifts one
		// direction's sequence numbers, and the other's acknowledgment
		// numbers, between its interfaces: a segment with data is
		// found without them too, by its IP ID if it has one, its
		// payload's ends, length, flags, window and options (its TCP
		// timestamps: a retransmission's move on). One carrying SACK
		// blocks, sequence numbers too, is not: data rarely does.
		b = append(n.buf[:0], 0xfe, s.IPVersion)
		if hasID {
			b = binary.BigEndian.AppendUint16(b, s.IPID)
		}
		b = binary.BigEndian.AppendUint32(b, uint32(s.PayloadLen))
		b = append(b, byte(s.Flags))
		b = binary.BigEndian.AppendUint16(b, s.Window)
		b = appendCopyShape(b, s)
		found = n.seen(xxhash.Sum64(b), s, iface, hasID) || found
	}
	return found
}

// natShapeMin is the least payload (bytes captured) a segment is looked
// up by without its TCP numbers: its ends must tell it from another
// segment of the same length and options when it has no IP ID.
const natShapeMin = 16

// seen reports whether key sum was recorded on another interface within
// dupWindow (without an IP ID, with a TTL one more: routed once), and
// records it for s.
func (n *natFinder) seen(sum uint64, s *Segment, iface int32, hasID bool) bool {
	e := &n.slots[sum%dupSlots]
	at := s.Time.UnixNano()
	if e.sum == sum && e.iface != iface && absDuration(time.Duration(at-e.at)) <= dupWindow && (hasID || e.ttl == s.TTL+1) {
		return true
	}
	e.sum, e.at, e.iface, e.ttl = sum, at, iface, s.TTL
	return false
}
