package decode

import (
	"slices"
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
//
// Warnings says, after the last packet, what in the input could mislead
// the analysis, naming the frames. An InputDecoder is not safe for
// concurrent use; each input needs its own.
type InputDecoder struct {
	dec  Decoder
	frag defragmenter
}

// NewInputDecoder returns an InputDecoder for one input.
func NewInputDecoder() *InputDecoder {
	r := &InputDecoder{}
	r.dec.defrag = &r.frag
	return r
}

// Decode is Decoder.Decode for the next packet of the input; packets must
// come in capture order. It returns ok=false and a nil error also for a
// fragment held until its datagram is complete.
func (r *InputDecoder) Decode(p *Packet, s *Segment) (ok bool, err error) {
	return r.dec.Decode(p, s)
}

// Stats returns the counters so far.
func (r *InputDecoder) Stats() DecodeStats { return r.dec.Stats() }

// Warnings describes what in the input so far could mislead the analysis,
// one sentence each, naming the first frame concerned.
func (r *InputDecoder) Warnings() []string {
	return r.frag.warnings()
}

// maxReasons bounds how many reasons a tally keeps apart. This package's
// reasons are the formats of its messages, a few dozen at most, but
// ip4defrag's messages carry numbers; past the bound, new reasons are
// counted together.
const maxReasons = 16

// reasonCount is how many packets one reason concerned.
type reasonCount struct {
	key     string
	example string // the first message given for the reason
	first   int    // the first frame concerned
	count   int
}

// tally counts packets by reason. Adding a reason seen before does not
// allocate.
type tally struct{ reasons []reasonCount }

func (t *tally) add(key, example string, first, n int) {
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
func (t *tally) bump(key string, first, n int) bool {
	for i := range t.reasons {
		if r := &t.reasons[i]; r.key == key {
			r.count += n
			r.first = min(r.first, first)
			return true
		}
	}
	return false
}

// lines returns one line per reason, in the order of their first frames.
func (t *tally) lines(line func(reasonCount) string) []string {
	rs := slices.Clone(t.reasons)
	slices.SortStableFunc(rs, func(a, b reasonCount) int { return a.first - b.first })
	var out []string
	for _, r := range rs {
		out = append(out, line(r))
	}
	return out
}
