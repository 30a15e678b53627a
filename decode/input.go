package decode

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

// InputDecoder decodes the packets of one input, in capture order, into
// the TCP segments the analysis should see. Beyond what a Decoder does
// with each packet alone, it keeps what takes several packets to tell:
//
//   - IPv4 fragments of a datagram that may hold TCP are reassembled with
//     gopacket's ip4defrag, as Wireshark reassembles them; the segment
//     comes out at the fragment that completes the datagram, with that
//     frame's number and time (Segment.Reassembled). Memory stays bounded:
//     fragments wait at most fragTimeout of capture time, and
//     fragMaxBytes in all.
//   - Copies of a segment captured just before (a capture that has every
//     packet twice) are dropped: see dupWindow for how a copy is told
//     from a retransmission. This is where the analysis intentionally
//     differs from tshark, which counts copies as retransmissions.
//   - Capture time that runs backwards, and packets skipped as malformed,
//     are counted, for the warnings: per reason, with the first frame.
//
// Warnings says, after the last packet, what in the input could mislead
// the analysis, naming the frames. An InputDecoder is not safe for
// concurrent use; each input needs its own.
type InputDecoder struct {
	dec  Decoder
	frag defragmenter
	dups dupFilter
	// owners, when set (OneInterfacePerConnection), keeps each
	// connection on its first interface (owner.go).
	owners *ownerFilter
	input  int // the input's index (Packet.Input)

	malformed tally // packets skipped as malformed, by reason

	// Capture time that runs backwards: the last packet's time; how
	// many packets came earlier than the one before them, the first of
	// them, and the largest step back.
	last      time.Time
	backwards int
	firstBack frameRef
	firstStep time.Duration
	mostBack  time.Duration
}

// NewInputDecoder returns an InputDecoder for one input.
func NewInputDecoder() *InputDecoder {
	r := &InputDecoder{}
	r.dec.defrag = &r.frag
	return r
}

// Decode is Decoder.Decode for the next packet of the input; packets must
// come in capture order. It returns ok=false and a nil error also for a
// fragment held until its datagram is complete, and for a copy.
func (r *InputDecoder) Decode(p *Packet, s *Segment) (ok bool, err error) {
	r.input = p.Input
	// p.Time.Before(r.last), written out: Before is not inlined, and
	// this runs for every packet. Capture times carry no monotonic
	// reading, so the wall clocks are all Before compares.
	if ps, ls := p.Time.Unix(), r.last.Unix(); ps < ls || ps == ls && p.Time.Nanosecond() < r.last.Nanosecond() {
		if r.backwards == 0 {
			r.firstBack, r.firstStep = frameRef{p.Input, p.Frame}, r.last.Sub(p.Time)
		}
		r.backwards++
		r.mostBack = max(r.mostBack, r.last.Sub(p.Time))
	}
	r.last = p.Time
	ok, err = r.dec.Decode(p, s)
	if err != nil {
		if reason, msg, isMalformed := malformedReason(err); isMalformed {
			r.malformed.add(reason, msg, frameRef{p.Input, p.Frame}, 1)
		}
		return ok, err
	}
	iface := int32(-1)
	if p.Iface.Known {
		iface = p.Iface.ID
		if ok && r.owners != nil && !r.owners.mine(s, p.Iface) {
			*s = Segment{Input: p.Input, Frame: p.Frame, Time: p.Time}
			return false, nil
		}
	}
	if ok && r.dups.copyOf(s, r.dec.checksum, iface) {
		*s = Segment{Input: p.Input, Frame: p.Frame, Time: p.Time}
		return false, nil
	}
	return ok, err
}

// Copies returns how many TCP segments were dropped as copies so far,
// and how many of them were captured on another interface than the
// segment they repeat (DecodeStats' Duplicates and
// CopiesAcrossInterfaces, without the rest).
func (r *InputDecoder) Copies() (dropped, across int) {
	return r.dups.dropped, r.dups.across
}

// Stats returns the counters so far.
func (r *InputDecoder) Stats() DecodeStats {
	st := r.dec.Stats()
	st.Duplicates = r.dups.dropped
	st.CopiesAcrossInterfaces = r.dups.across
	if r.owners != nil {
		st.OtherInterface = r.owners.total
	}
	return st
}

// Warnings describes what in the input so far could mislead the analysis,
// one sentence each, naming the first frame concerned.
func (r *InputDecoder) Warnings() []string {
	var out []string
	if r.backwards > 0 {
		out = append(out, fmt.Sprintf("capture time runs backwards at %s, %s before the packet before it (%s in all, by up to %s): the analysis takes packets in file order, so times measured across such a frame (RTTs, timeouts, durations) are off",
			r.firstBack.in(r.input), r.firstStep, count(r.backwards, "time", "times"), r.mostBack))
	}
	out = append(out, r.malformed.lines(func(rc reasonCount) string {
		return fmt.Sprintf("%s skipped as malformed (%s), the first at %s",
			count(rc.count, "packet", "packets"), rc.example, rc.first.in(r.input))
	})...)
	if r.owners != nil {
		out = append(out, r.owners.warnings(r.input)...)
	}
	out = append(out, r.dups.warnings(r.input, r.frag.copies)...)
	return append(out, r.frag.warnings(r.input)...)
}

// Next returns the InputDecoder for the next input of the same capture (a
// file rotated by tcpdump -C or -G, read in order): the fragments waiting
// for the rest of their datagram and the recent segments a copy is looked
// for among carry over, so that the inputs analyse as the whole capture
// would; the counters and warnings start again. r must not be used after.
func (r *InputDecoder) Next() *InputDecoder {
	n := NewInputDecoder()
	n.input = r.input + 1
	n.frag.carry(&r.frag)
	n.dups.carry(&r.dups)
	if r.owners != nil {
		n.owners = &ownerFilter{slots: r.owners.slots, backlog: r.owners.backlog, nextSweep: r.owners.nextSweep}
	}
	n.last = r.last // a rotated file that starts before the last one ended runs backwards
	return n
}

// frameRef names a frame of one of the inputs of a capture.
type frameRef struct{ input, frame int }

func (f frameRef) less(g frameRef) bool {
	return f.input < g.input || f.input == g.input && f.frame < g.frame
}

// in names the frame in a warning of input cur.
func (f frameRef) in(cur int) string {
	if f.input == cur {
		return "frame " + strconv.Itoa(f.frame)
	}
	return fmt.Sprintf("frame %d of input %d", f.frame, f.input)
}

// maxReasons bounds how many reasons a tally keeps apart. This package's
// reasons are the formats of its messages, a few dozen at most, but
// ip4defrag's messages carry numbers; past the bound, new reasons are
// counted together.
const maxReasons = 16

// reasonCount is how many packets one reason concerned.
type reasonCount struct {
	key     string
	example string   // the first message given for the reason
	first   frameRef // the first frame concerned
	count   int
}

// tally counts packets by reason. Adding a reason seen before does not
// allocate.
type tally struct{ reasons []reasonCount }

func (t *tally) add(key, example string, first frameRef, n int) {
	if t.bump(key, first, n) {
		return
	}
	if len(t.reasons) >= maxReasons-1 {
		key, example = "\x00other", "other reasons"
		if t.bump(key, first, n) {
			return
		}
	}
	t.reasons = append(t.reasons, reasonCount{key: key, example: example, first: first, count: n})
}

// bump adds to the count of key, if the tally has it.
func (t *tally) bump(key string, first frameRef, n int) bool {
	for i := range t.reasons {
		if r := &t.reasons[i]; r.key == key {
			r.count += n
			if first.less(r.first) {
				r.first = first
			}
			return true
		}
	}
	return false
}

// lines returns one line per reason, in the order of their first frames.
func (t *tally) lines(line func(reasonCount) string) []string {
	rs := slices.Clone(t.reasons)
	slices.SortStableFunc(rs, func(a, b reasonCount) int {
		if a.first.less(b.first) {
			return -1
		}
		if b.first.less(a.first) {
			return 1
		}
		return 0
	})
	var out []string
	for _, r := range rs {
		out = append(out, line(r))
	}
	return out
}

// count is n and the noun for it: "1 packet", "2 packets".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
