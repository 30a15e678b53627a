package verdict

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/h2pcap/h2pcap/analyze/tcp"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
)

// What a connection says of the capture itself: whether it holds both
// directions, and whether it lacks data the receiver acknowledged.
//
// The rule is the receiver's cumulative ACK. Sequence space it
// acknowledges was received; if the capture never held it, the capture
// missed it (capture drops, or a direction the capture never had), not
// the network. A gap the capture skipped that a retransmission fills
// later was lost on the network before the capture point (it is loss, and
// stays out of these counts); a D-SACK reports a duplicate, never new
// sequence space, so it counts for nothing here.

// qualTrack is one sending side's sequence space as the capture holds it.
type qualTrack struct {
	packets int
	heldSet bool
	heldEnd tcp.Seq // end of the highest sequence space held (SYN and FIN count one)
	gaps    []seqRange
	held    int64 // payload bytes held, each byte once
	missed  int64 // bytes the peer acknowledged that the capture never held
	// gapsAcked counts the gaps (skipped stretches, each counted once)
	// the peer acknowledged while the capture still lacked them.
	gapsAcked int
	// unseenSYN: the peer answered a SYN-ACK of this side's that the
	// capture never held (its first ACK came after its SYN).
	unseenSYN bool
	synSent   bool
}

// inputQual is one input's share of a connection's counts, by the
// tracker's side numbers: where the packets, the held bytes and the
// acknowledgements that proved bytes missing were read.
type inputQual struct {
	packets, held, missed [2]int64
}

// quality updates the capture-quality state with one segment side sent;
// seq and ack are its absolute numbers. RSTs take no part: their numbers
// say nothing about what was delivered.
func (tr *Tracker) quality(side int, s *decode.Segment, seq, ack tcp.Seq) {
	if s.Flags.Has(decode.FlagRST) {
		return
	}
	q, p := &tr.q[side], &tr.q[1-side]
	in := tr.inputQual(s.Input)
	q.packets++
	in.packets[side]++

	// What this side sent, as held sequence space; only payload counts
	// as held bytes.
	pend := seq.Add(uint32(s.PayloadLen))
	end := pend
	if s.Flags.Has(decode.FlagSYN) {
		end = end.Add(1)
		q.synSent = true
	}
	if s.Flags.Has(decode.FlagFIN) {
		end = end.Add(1)
	}
	switch {
	case !q.heldSet:
		q.heldEnd, q.heldSet = end, true
		q.add(in, side, int64(s.PayloadLen))
	case seq.GreaterThan(q.heldEnd):
		// A stretch skipped: filled by a retransmission later (loss
		// before the capture), or acknowledged without it (missed).
		q.addGap(seqRange{q.heldEnd, seq})
		q.heldEnd = end
		q.add(in, side, int64(s.PayloadLen))
	case end.GreaterThan(q.heldEnd):
		// New beyond what was held; what it repeats may fill a stretch
		// the capture skipped.
		below := pend
		if pend.GreaterThan(q.heldEnd) {
			q.add(in, side, int64(q.heldEnd.Size(pend)))
			below = q.heldEnd
		}
		q.add(in, side, q.fillGaps(seq, below))
		q.heldEnd = end
	default:
		// Sent before: it may fill a stretch the capture skipped.
		q.add(in, side, q.fillGaps(seq, pend))
	}

	// What this side acknowledges of its peer's.
	if !s.Flags.Has(decode.FlagACK) {
		return
	}
	switch {
	case !p.heldSet:
		// Nothing of the peer seen yet: its sequence space starts here
		// for the capture. An ACK after this side's own SYN answers a
		// SYN-ACK the capture never held.
		p.heldEnd, p.heldSet = ack, true
		p.unseenSYN = q.synSent && !s.Flags.Has(decode.FlagSYN)
	case ack.GreaterThan(p.heldEnd) && p.heldEnd.Size(ack) <= maxAckLeap:
		n := int64(p.heldEnd.Size(ack))
		p.missed += n
		p.gapsAcked++
		in.missed[1-side] += n
		p.heldEnd = ack
	}
	p.ackGaps(ack, in, 1-side)
}

// maxAckLeap bounds the sequence space one ACK may prove missing: more
// than a gigabyte at once is no acknowledgement of data (a corrupt or
// crafted number), and counting it would swamp every other figure.
const maxAckLeap = 1 << 30

func (tr *Tracker) inputQual(input int) *inputQual {
	if input < 0 {
		input = 0
	}
	for len(tr.inputs) <= input {
		tr.inputs = append(tr.inputs, inputQual{})
	}
	return &tr.inputs[input]
}

func (q *qualTrack) add(in *inputQual, side int, n int64) {
	q.held += n
	in.held[side] += n
}

// addGap remembers a skipped stretch, forgetting the oldest past
// maxHoles: a forgotten one is never counted missed (an undercount, the
// safe side: capture drops are never concluded from it).
func (q *qualTrack) addGap(g seqRange) { q.gaps = appendBounded(q.gaps, g) }

// fillGaps takes [lo, hi) out of the skipped stretches and returns how
// many of its bytes were in them: now held.
func (q *qualTrack) fillGaps(lo, hi tcp.Seq) int64 {
	var n int64
	keep := q.gaps[:0]
	for _, g := range q.gaps {
		if !lo.LessThan(g.hi) || !hi.GreaterThan(g.lo) {
			keep = append(keep, g)
			continue
		}
		a, b := g.lo, g.hi
		if lo.GreaterThan(a) {
			keep = append(keep, seqRange{a, lo})
			a = lo
		}
		if hi.LessThan(b) {
			keep = append(keep, seqRange{hi, b})
			b = hi
		}
		n += int64(a.Size(b))
	}
	q.gaps = keep
	return n
}

// ackGaps counts the skipped stretches below ack as missed: the peer
// received them, the capture never had them.
func (q *qualTrack) ackGaps(ack tcp.Seq, in *inputQual, side int) {
	keep := q.gaps[:0]
	for _, g := range q.gaps {
		if !ack.GreaterThan(g.lo) {
			keep = append(keep, g)
			continue
		}
		hi := g.hi
		if ack.LessThan(hi) {
			keep = append(keep, seqRange{ack, hi})
			hi = ack
		}
		n := int64(g.lo.Size(hi))
		q.missed += n
		in.missed[side] += n
		q.gapsAcked++
	}
	q.gaps = keep
}

// OneWay says whether the capture holds one direction only of the
// connection so far (Quality.OneDirection, for the live notices): one
// side was never seen while the other acknowledged its data or SYN-ACK.
func (tr *Tracker) OneWay() bool {
	for side := 0; side < 2; side++ {
		q, p := &tr.q[side], &tr.q[1-side]
		if q.packets > 0 && p.packets == 0 && (p.missed > 0 || p.unseenSYN) {
			return true
		}
	}
	return false
}

// Quality is what a connection says of the capture: by Direction.
type Quality struct {
	// OneDirection: the capture holds only the direction Held of this
	// connection; the other side was never seen although the side that
	// was acknowledged its data (or its SYN-ACK).
	OneDirection bool
	Held         model.Direction
	// HeldBytes and MissedBytes: payload the capture holds of each
	// direction, and sequence space of it the receiver acknowledged that
	// the capture never held.
	HeldBytes, MissedBytes [2]int64
	// GapsAcked counts, per direction, the stretches the capture skipped
	// that the receiver acknowledged: capture drops, not loss.
	GapsAcked [2]int
	// Inputs is each input's share, by input index.
	Inputs []InputQuality
}

// InputQuality is one input's share of a connection's Quality.
type InputQuality struct {
	Packets, HeldBytes, MissedBytes [2]int64 // by Direction
}

// qualityFacts maps the capture-quality state to client and server,
// its Inputs appended to inputs (empty).
func (tr *Tracker) qualityFacts(client int, inputs []InputQuality) Quality {
	out := Quality{Inputs: inputs}
	dirOf := func(side int) model.Direction {
		if side == client {
			return model.ClientToServer
		}
		return model.ServerToClient
	}
	for side := 0; side < 2; side++ {
		q, p := &tr.q[side], &tr.q[1-side]
		d := dirOf(side)
		out.HeldBytes[d], out.MissedBytes[d], out.GapsAcked[d] = q.held, q.missed, q.gapsAcked
		if q.packets > 0 && p.packets == 0 && (p.missed > 0 || p.unseenSYN) {
			out.OneDirection, out.Held = true, d // as OneWay
		}
	}
	for _, in := range tr.inputs {
		var iq InputQuality
		for side := 0; side < 2; side++ {
			d := dirOf(side)
			iq.Packets[d], iq.HeldBytes[d], iq.MissedBytes[d] = in.packets[side], in.held[side], in.missed[side]
		}
		out.Inputs = append(out.Inputs, iq)
	}
	if len(out.Inputs) == 0 {
		out.Inputs = nil // none appended
	}
	return out
}

// oneWayLoss keeps the direction the capture does not hold out of the
// loss evidence: what its receiver acknowledged is not in the capture,
// which is no drop and no loss.
func (j *judgement) oneWayLoss() {
	if q := &j.f.Quality; q.OneDirection {
		j.loss[q.Held.Reverse()] = dirLoss{}
	}
}

// kindOneWay is kind for a connection the capture holds one direction
// of. Only what that direction shows counts: a GOAWAY or an RST it
// carries, its sender falling silent, its own retransmissions. No lost
// PING (its ACK travels the missing direction; the client's
// acknowledgements here show it kept hearing from the server), no
// unanswered SYN or setup (the answers are what is missing).
func (j *judgement) kindOneWay() {
	c := j.c
	held := j.f.Quality.Held
	switch {
	case j.goawayEnded():
		j.v.Kind = model.KindGoaway
	case j.cl.first.ok() && j.cl.firstRST:
		j.v.Kind = model.KindReset
	case !j.cl.first.ok() && !j.end.IsZero() && j.end.Sub(c.End) >= silentAfter:
		j.v.Kind = model.KindSilent
	default:
		j.v.Kind = model.KindHealthy
		if l := &j.loss[held]; l.lossy(false) || l.ambiguous >= 2 {
			j.v.Kind = model.KindDegraded
		}
	}
}

// oneWayText says, for a connection the capture holds one direction of,
// which and what it means.
func (j *judgement) oneWayText() string {
	q := &j.f.Quality
	if !q.OneDirection {
		return ""
	}
	held, missing := q.Held, q.Held.Reverse()
	return fmt.Sprintf("; this capture holds only the %s direction of the connection (the %s acknowledges %s data the capture never has: a capture filter on one host, asymmetric routing or a one-way mirror port), so nothing is judged from the %s direction: no PING counts as lost for want of its ACK, and no loss is placed there",
		dirArrow(held), senderName(held), senderName(missing), dirArrow(missing))
}

// dropsText says how much of the connection's data the capture missed
// although the receiver acknowledged it.
func (j *judgement) dropsText() string {
	q := &j.f.Quality
	var missed, held int64
	for d := range q.MissedBytes {
		if j.f.Quality.OneDirection {
			break
		}
		missed += q.MissedBytes[d]
		held += q.HeldBytes[d]
	}
	if missed == 0 {
		return "; the capture itself missed packets the receiver acknowledged (capture drops, not network loss)"
	}
	// Only FINs the capture lacks: in each direction the one number its
	// FIN takes, if its peer acknowledged it, and nothing else.
	onlyFINs := true
	for d := range q.MissedBytes {
		fin := int64(0)
		if j.f.Dir[d].FINAcked.ok() {
			fin = 1
		}
		onlyFINs = onlyFINs && q.MissedBytes[d] == fin
	}
	if onlyFINs {
		return "; the capture lacks a FIN the peer acknowledged (a capture drop, or a filter that kept only data: not network loss)"
	}
	return fmt.Sprintf("; the capture itself missed %s the receiver acknowledged (%.1f%% of this connection's data: capture drops, not network loss), so its gaps are not counted as loss",
		plural(int(missed), "byte"), 100*float64(missed)/float64(missed+held))
}

// FillCaptureQuality sets each input's CaptureQuality from the
// connections' facts (nil where the input lacks nothing that could be
// told). A connection spread over several inputs adds to each its own
// share: the packets and bytes read from it, and the bytes the
// acknowledgements read from it proved missing.
func FillCaptureQuality(inputs []*decode.InputInfo, facts []*Facts) {
	fillCaptureQuality(inputs, facts, nil)
}

// QualityShare is what connections add to one input's capture quality:
// those held one way, by the direction held, and the bytes held and
// proved missing of the others.
type QualityShare struct {
	OneWay       [2]int
	Held, Missed int64
}

// AddQuality adds connection f's share of each input to shares (by
// input index, grown as needed) and returns it: a connection forgotten
// before the Report still counts in its inputs' quality.
func AddQuality(shares []QualityShare, f *Facts) []QualityShare {
	if n := len(f.Quality.Inputs); n > len(shares) {
		shares = append(shares, make([]QualityShare, n-len(shares))...)
	}
	addShares(shares, f)
	return shares
}

// addShares adds f's share of each input to shares, past whose end it
// adds nothing.
func addShares(shares []QualityShare, f *Facts) {
	q := &f.Quality
	for i, iq := range q.Inputs {
		if i >= len(shares) {
			break
		}
		a := &shares[i]
		if q.OneDirection {
			if iq.Packets[q.Held] > 0 {
				a.OneWay[q.Held]++
			}
			continue
		}
		for d := range iq.HeldBytes {
			a.Held += iq.HeldBytes[d]
			a.Missed += iq.MissedBytes[d]
		}
	}
}

// fillCaptureQuality is FillCaptureQuality with the shares of the
// connections forgotten before the Report added.
func fillCaptureQuality(inputs []*decode.InputInfo, facts []*Facts, forgotten []QualityShare) {
	accs := make([]QualityShare, len(inputs))
	for i := range min(len(accs), len(forgotten)) {
		accs[i] = forgotten[i]
	}
	for _, f := range facts {
		if f == nil {
			continue
		}
		addShares(accs, f)
	}
	for i, in := range inputs {
		if in == nil {
			continue
		}
		a := &accs[i]
		in.CaptureQuality = nil
		if a.OneWay[0]+a.OneWay[1] == 0 && a.Missed == 0 {
			continue
		}
		cq := &decode.CaptureQuality{MissedBytes: a.Missed, OneDirectionConnections: a.OneWay[0] + a.OneWay[1]}
		switch {
		case a.OneWay[0] > 0 && a.OneWay[1] > 0:
			cq.OneDirection = "mixed"
		case a.OneWay[0] > 0:
			cq.OneDirection = model.ClientToServer.String()
		case a.OneWay[1] > 0:
			cq.OneDirection = model.ServerToClient.String()
		}
		if a.Missed > 0 {
			// Four decimals: a share to a hundredth of a percent is all
			// an estimate from sequence numbers can claim.
			cq.MissedFraction = math.Round(1e4*float64(a.Missed)/float64(a.Missed+a.Held)) / 1e4
		}
		in.CaptureQuality = cq
	}
}

// CaptureWarning is what the headline says first about inputs that lack
// what the network carried: capture drops above minMissedFraction (the
// counts and loss placement cannot be trusted; how to capture again) and
// connections held one way. Empty when there is nothing to say.
func CaptureWarning(inputs []*decode.InputInfo) string {
	var w []string
	// One sentence per direction held one way, naming every input that
	// holds it: a one-way capture rotated into a day of hourly files
	// (tcpdump -G 3600) said it 24 times, once per file.
	var oneWay []*oneWayInputs
	for i, in := range inputs {
		if in == nil || in.CaptureQuality == nil {
			continue
		}
		cq := in.CaptureQuality
		name := fmt.Sprintf("input %d", i)
		if len(inputs) == 1 {
			name = "the capture"
		}
		if cq.MissedFraction >= minMissedFraction {
			w = append(w, fmt.Sprintf("Warning: %s missed about %.1f%% of the data (%d bytes the receivers acknowledged never reached the file: the capture dropped packets, the network did not); counts and loss placement from it are unreliable. Capture again with a bigger buffer and write to a fast disk: `tcpdump -B 65536 -s 0 -w FILE ...` (or a smaller -s for headers only).",
				name, 100*cq.MissedFraction, cq.MissedBytes))
		}
		if cq.OneDirection != "" {
			k := slices.IndexFunc(oneWay, func(o *oneWayInputs) bool { return o.dir == cq.OneDirection })
			if k < 0 {
				k = len(oneWay)
				oneWay = append(oneWay, &oneWayInputs{dir: cq.OneDirection})
			}
			oneWay[k].inputs = append(oneWay[k].inputs, i)
			oneWay[k].conns = append(oneWay[k].conns, cq.OneDirectionConnections)
		}
	}
	for _, o := range oneWay {
		what := "only the " + dirWords(model.LossDirection(o.dir)) + " direction"
		if o.dir == "mixed" {
			what = "only one direction"
		}
		w = append(w, fmt.Sprintf("One direction only: %s %s of %s connection(s) (a filter on one host, asymmetric routing or a one-way mirror port); nothing is judged from the missing direction, so no lost PING and no loss placed there.",
			o.subject(len(inputs)), what, o.counts()))
	}
	return strings.Join(w, " ")
}

// oneWayInputs are the inputs that hold connections in direction dir
// only, and how many each.
type oneWayInputs struct {
	dir    string
	inputs []int
	conns  []int
}

// subject names the inputs, of n, with the verb: "the capture holds",
// "input 2 holds", "inputs 0, 1 and 2 hold".
func (o *oneWayInputs) subject(n int) string {
	switch {
	case n == 1:
		return "the capture holds"
	case len(o.inputs) == 1:
		return fmt.Sprintf("input %d holds", o.inputs[0])
	}
	return "inputs " + andList(o.inputs) + " hold"
}

// counts is how many connections each input holds one way: one number
// when they are all the same, else each ("1, 3 and 2").
func (o *oneWayInputs) counts() string {
	for _, c := range o.conns {
		if c != o.conns[0] {
			return andList(o.conns)
		}
	}
	return strconv.Itoa(o.conns[0])
}

// andList is "1", "1 and 2", "1, 2 and 3".
func andList(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return joinAnd(s)
}
