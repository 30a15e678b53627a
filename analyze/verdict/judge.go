package verdict

// The verdict on each connection, at Report time, from the connection as
// reported (events, counters, HTTP/2) and the tracker's extra facts
// (track.go). Judge is a pure function of those, so tests build
// its input by hand.
//
// The kind, first match wins: a TCP handshake that never completed
// (connect_failed); a client PING without ACK that the client closed
// after (decoded); a GOAWAY from the server, or with an error; a
// direction whose retransmissions were never answered up to the close or
// the end of the capture (blackholed: the flow died, it did not
// recover); the same health-check failure from TCP alone (the client
// heard nothing new for a second or more, had data unanswered, packets
// were lost or the server's TCP acknowledged what its application never
// answered, and it closed first); a setup that never got an answer
// (silent); a TLS client closing at once after an unasked server record
// (a GOAWAY, inferred); an RST first (a SYN answered by one: refused, by
// the server or, as its TTL against the server's on the report's other
// connections says, a device in between); no close long before the
// capture ended (silent); else healthy, or degraded when packets were
// lost that TCP recovered.
//
// The direction and place of loss come from assessLoss's rules of
// evidence; where one capture cannot tell, the direction is unknown and
// the summary names the capture that would tell. Nothing here runs per
// packet.

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/h2pcap/h2pcap/internal/prose"
	"github.com/h2pcap/h2pcap/model"
)

// dirLoss is the loss evidence of one direction of data.
type dirLoss struct {
	before    int // lost before the capture point: gaps the capture never saw, later filled or never
	after     int // lost after the capture point: data the peer shows it never got, or ACKs the sender never got
	ambiguous int // retransmissions of seen data with nothing to tell whether the data or its ACK was lost
	drops     int // gaps the receiver ACKed: the capture missed them, the network did not
	holes     int // lost-segment flags
	spurious  int // spurious retransmissions of this direction's data
	// late counts the segments that filled a gap (or came again after
	// one was filled) with an IPv4 ID older than one their sender had
	// sent before: originals delayed past later packets, not lost.
	late    int
	retrans []model.Event
}

func (l *dirLoss) definite() int { return l.before + l.after }

// lossy says whether a direction lost packets, beyond the isolated
// retransmission (a tail loss probe) every healthy connection may show.
// On a connection that died, one is enough.
func (l *dirLoss) lossy(died bool) bool {
	if died {
		return l.definite() >= 1
	}
	return l.definite() >= 2
}

func (l *dirLoss) location() model.LossLocation {
	switch {
	case l.before > 0 && l.after == 0:
		return model.BeforeCapture
	case l.after > 0 && l.before == 0:
		return model.AfterCapture
	}
	return model.LocationUnknown
}

// senderSide reports whether the capture is at the sending side of d.
func senderSide(point model.CapturePoint, d model.Direction) bool {
	return point == model.PointClient && d == model.ClientToServer || point == model.PointServer && d == model.ServerToClient
}

// assessLoss applies the rules of evidence to the events:
//   - a retransmission or out-of-order segment that fills a gap the
//     capture never saw: lost before the capture point (or, at the
//     sender itself, missed by the capture);
//   - a retransmission the peer shows it never got (fast retransmission
//     after its duplicate ACKs, or the peer heard from since without
//     acknowledging it): the data was lost after the capture point;
//   - a retransmission of data already acknowledged (spurious): the
//     sender is not getting the peer's ACKs, so the other direction loses
//     packets, after the capture point;
//   - any other retransmission of seen data: the data was lost after the
//     capture point or its ACK before it; one capture cannot tell;
//   - a SYN sent again after the capture saw its SYN-ACK: the SYN-ACK was
//     lost after the capture point;
//   - data the receiver ACKed that the capture never saw: capture drops;
//     acked counts, per direction, the gaps the capture skipped that the
//     receiver then acknowledged (Quality.GapsAcked): they are drops too,
//     never loss;
//   - a segment whose IPv4 ID is older than one its sender sent before it
//     (Event.Late) is the original, delayed: it fills its gap without a
//     loss, and a retransmission that filled the gap first was sent for
//     nothing (reordering, not loss). A direction reordered that way
//     also explains its sender's spurious retransmissions (sent on the
//     duplicate ACKs the reordering drew), which are then no sign of
//     lost ACKs.

// ackOfRetransmission says whether an ACKed-unseen ACK answers a
// retransmission its sender's peer just sent: after real loss a sender
// retransmits a segment the receiver had (its ACK was lost) together
// with data whose first copy was lost before the capture, and the
// receiver ACKs all of it with a D-SACK. Wireshark flags that ACK as
// acknowledging data it never saw, but the data is in the retransmission:
// the capture missed nothing.
func ackOfRetransmission(evs []model.Event, ack model.Event) bool {
	for i := len(evs) - 1; i >= 0; i-- {
		r := evs[i]
		if r.Input != ack.Input || r.Frame >= ack.Frame || r.Dir != ack.Dir.Reverse() {
			continue
		}
		if ack.Time.Sub(r.Time) > dsackAckWithin {
			return false
		}
		switch r.Kind {
		case model.EvRetransmission, model.EvFastRetransmission:
			return true
		}
	}
	return false
}

func assessLoss(c *model.Connection, point model.CapturePoint, acked [2]int) [2]dirLoss {
	var l [2]dirLoss
	for d := range l {
		l[d].drops = acked[d]
	}
	var reordered [2]bool
	for _, e := range c.Events {
		if e.Late {
			reordered[e.Dir] = true
		}
	}
	// filled holds, per direction, the sequence numbers of the
	// retransmissions counted as filling a gap lost before the capture
	// point, until a late original shows the gap was not a loss.
	var filled [2]map[uint32]bool
	// lateData holds, per direction, the bytes the capture first saw in
	// late originals.
	var lateData [2]seqSpans
	for _, e := range c.Events {
		d := &l[e.Dir]
		if e.Late && e.Unseen && e.Len > 0 {
			lateData[e.Dir].add(e.Seq, e.Len)
		}
		switch e.Kind {
		case model.EvRetransmission, model.EvFastRetransmission, model.EvOutOfOrder:
			switch {
			case e.Late:
				// The original itself, delayed (or a copy of one seen):
				// no loss.
				if e.Unseen {
					d.late++
				}
				continue
			case e.DSACKed && !e.Unseen && senderSide(point, e.Dir.Reverse()):
				// Its receiver had an earlier copy (it said so with a
				// D-SACK), and this capture at the receiver saw no ACK
				// of it leave before the copy came (Wireshark would call
				// the copy spurious): sent early, on a timer (a tail
				// loss probe racing a delayed ACK) or on reordering. No
				// loss.
				continue
			case e.DSACKed && !e.Unseen:
				// The data arrived (D-SACK); what the sender missed was
				// an ACK lost on its way, or none was sent in time: not
				// data lost after the capture, whatever the peer's
				// silence said.
				d.ambiguous++
			case !e.Unseen && lateData[e.Dir].covers(e.Seq, e.Len):
				// A copy of data whose original came late: its sender
				// retransmitted on the receiver's duplicate ACKs for the
				// packets that overtook it, and the receiver's ACK of
				// the original can follow this copy into the capture
				// (a receiver ACKs what its stack has read, behind what
				// the capture shows). Reordering, no loss.
				continue
			case e.Answered:
				// The SYN-ACK was lost after the capture saw it.
				l[e.Dir.Reverse()].after++
				continue
			case e.Unseen && senderSide(point, e.Dir):
				d.drops++
			case e.Unseen:
				d.before++
				if reordered[e.Dir] {
					if filled[e.Dir] == nil {
						filled[e.Dir] = map[uint32]bool{}
					}
					filled[e.Dir][e.Seq] = true
				}
			case e.Kind == model.EvOutOfOrder:
				continue
			case e.Kind == model.EvFastRetransmission || e.PeerMissing:
				d.after++
			default:
				d.ambiguous++
			}
			d.retrans = append(d.retrans, e)
		case model.EvSpuriousRetrans:
			if e.Late {
				// The original of data a retransmission brought
				// first: that gap was no loss.
				d.late++
				if filled[e.Dir][e.Seq] {
					delete(filled[e.Dir], e.Seq)
					d.before--
					d.retrans = slices.DeleteFunc(d.retrans, func(r model.Event) bool { return r.Seq == e.Seq && r.Unseen })
				}
				continue
			}
			d.spurious++
			if !senderSide(point, e.Dir) && !reordered[e.Dir] {
				l[e.Dir.Reverse()].after++
			}
		case model.EvLostSegment:
			d.holes++
		case model.EvAckedUnseen:
			if ackOfRetransmission(c.Events, e) {
				continue
			}
			l[e.Dir.Reverse()].drops++
		}
	}
	for i := range l {
		d := &l[i]
		// Gaps never filled and never ACKed: the connection did not live
		// to recover them. Those late originals filled were not lost.
		if d.holes > d.late && d.before == 0 && d.drops == 0 {
			if senderSide(point, model.Direction(i)) {
				d.drops += d.holes - d.late
			} else {
				d.before += d.holes - d.late
			}
		}
	}
	return l
}

// seqSpans is a set of byte ranges of one direction (relative sequence
// numbers), kept sorted and merged. A transfer past 4 GB wraps its
// relative numbers: ranges across the wrap are not merged, and a copy
// covering one is not found (the rule it serves then does not apply).
type seqSpans []seqSpan

type seqSpan struct{ lo, hi uint64 }

// add puts the n bytes from seq in the set.
func (s *seqSpans) add(seq uint32, n int) {
	lo, hi := uint64(seq), uint64(seq)+uint64(n)
	v := *s
	// The first span that ends at or after lo: it and those after it
	// that start at or before hi merge with the new one.
	i, _ := slices.BinarySearchFunc(v, lo, func(sp seqSpan, lo uint64) int { return cmp.Compare(sp.hi, lo) })
	j := i
	for j < len(v) && v[j].lo <= hi {
		lo, hi = min(lo, v[j].lo), max(hi, v[j].hi)
		j++
	}
	*s = slices.Replace(v, i, j, seqSpan{lo, hi})
}

// covers reports whether every one of the n bytes from seq is in the set.
func (s seqSpans) covers(seq uint32, n int) bool {
	lo, hi := uint64(seq), uint64(seq)+uint64(n)
	i, _ := slices.BinarySearchFunc(s, lo, func(sp seqSpan, lo uint64) int { return cmp.Compare(sp.hi, lo) })
	return n > 0 && i < len(s) && s[i].lo <= lo && hi <= s[i].hi
}

// closeInfo is how the connection ended, from both sides' first FIN and RST.
type closeInfo struct {
	first     SegRef          // the first FIN or RST of either side
	firstRST  bool            // it was an RST
	by        model.Direction // sent by (ClientToServer: the client)
	client    SegRef          // the client's first FIN or RST
	clientRST bool            // the client reset without a FIN before: its socket was already gone
}

func closeOf(f *Facts) closeInfo {
	var ci closeInfo
	for _, d := range [...]model.Direction{model.ClientToServer, model.ServerToClient} {
		df := &f.Dir[d]
		m, isRST := df.FIN, false
		if df.RST.ok() && (!m.ok() || markBefore(df.RST, m)) {
			m, isRST = df.RST, true
		}
		if !m.ok() {
			continue
		}
		if d == model.ClientToServer {
			ci.client, ci.clientRST = m, isRST
		}
		if !ci.first.ok() || markBefore(m, ci.first) {
			ci.first, ci.firstRST, ci.by = m, isRST, d
		}
	}
	return ci
}

// unseenFIN is the first ACK of a FIN the capture lacks (DirFacts.FINAcked),
// of either side, and the side whose FIN it is; a zero SegRef when none.
func (j *judgement) unseenFIN() (SegRef, model.Direction) {
	a, b := j.f.Dir[model.ClientToServer].FINAcked, j.f.Dir[model.ServerToClient].FINAcked
	if !a.ok() || b.ok() && markBefore(b, a) {
		return b, model.ServerToClient
	}
	return a, model.ClientToServer
}

// closedUnseen says whether a side closed with a FIN the capture lacks.
func (j *judgement) closedUnseen() bool {
	m, _ := j.unseenFIN()
	return m.ok()
}

// markBefore orders marks by input, then frame.
func markBefore(a, b SegRef) bool {
	return a.Input < b.Input || a.Input == b.Input && a.Frame < b.Frame
}

// judge is the verdict on one connection: c as the Report has it, f the
// tracker's extra facts, point where the capture was taken, end when the
// capture ended.
func Judge(c *model.Connection, f *Facts, point model.CapturePoint, end time.Time) *model.Verdict {
	return judge(c, f, point, end, true, nil)
}

// JudgeUntold is Judge without the verdict's text (Summary, Evidence,
// Filter): for a connection the report will not list, whose verdict only
// decides whether it is forgotten (a table report's healthy ones), the
// words are most of the judging's cost.
func JudgeUntold(c *model.Connection, f *Facts, point model.CapturePoint, end time.Time) *model.Verdict {
	return judge(c, f, point, end, false, nil)
}

// JudgeUntoldInto is JudgeUntold writing the verdict into v, which
// nothing else may hold (a forgotten row's, made again for the next):
// the verdict of a connection judged only to be forgotten is not kept.
func JudgeUntoldInto(v *model.Verdict, c *model.Connection, f *Facts, point model.CapturePoint, end time.Time) *model.Verdict {
	return judge(c, f, point, end, false, v)
}

// judge is Judge, without the verdict's text (Summary, Evidence, Filter)
// unless text: what the judgement decides comes before its words. The
// verdict is written into into when it is not nil (a verdict nothing
// holds any more: a settled row's), its evidence in into's array.
func judge(c *model.Connection, f *Facts, point model.CapturePoint, end time.Time, text bool, into *model.Verdict) *model.Verdict {
	return judgeIn(c, f, point, end, text, into, nil)
}

// judgeIn is judge with the verdict's Summary and Filter, when it makes
// them, written into *scratch (appended) and made strings over it without
// a copy, if scratch is not nil: words the caller encodes and drops before
// it gives scratch again (Later.Done's). A flood's million rows made 0.4 GB
// of such words, which the collector went through in the Report.
func judgeIn(c *model.Connection, f *Facts, point model.CapturePoint, end time.Time, text bool, into *model.Verdict, scratch *[]byte) *model.Verdict {
	j := &judgement{c: c, f: f, point: point, end: end, cl: closeOf(f), scratch: scratch}
	if text && into != nil {
		j.v.Evidence = into.Evidence[:0]
	}
	j.loss = assessLoss(c, point, f.Quality.GapsAcked)
	j.oneWayLoss()
	j.findDead()
	j.findStalled()
	j.kind()
	j.since()
	j.direction()
	j.suspects()
	if !text {
		out := into
		if out == nil {
			out = new(model.Verdict)
		}
		*out = j.v
		out.Summary, out.Evidence, out.Filter = "", nil, ""
		if out.Suspects == nil {
			out.Suspects = []model.Suspect{}
		}
		return out
	}
	j.summarize()
	v := &j.v
	if v.Suspects == nil {
		v.Suspects = []model.Suspect{}
	}
	if v.Evidence == nil {
		v.Evidence = []model.Evidence{}
	}
	if len(v.Evidence) > MaxEvidence {
		v.Evidence = v.Evidence[:MaxEvidence]
	}
	var fb [64]byte
	v.Filter = j.text(appendEvidenceFilter(fb[:0], c.Stream, v.Evidence))
	// A copy: the judgement holds the connection's facts (2-3 KB),
	// which would otherwise live as long as the verdict does.
	out := into
	if out == nil {
		out = new(model.Verdict)
	}
	*out = *v
	return out
}

// evidenceFilter is the display filter that opens a verdict's evidence in
// Wireshark. Frame numbers are per input, so only the first evidence's
// input's frames can share one filter.
func evidenceFilter(stream int, ev []model.Evidence) string {
	return string(appendEvidenceFilter(nil, stream, ev))
}

// appendEvidenceFilter appends evidenceFilter's text to b.
func appendEvidenceFilter(b []byte, stream int, ev []model.Evidence) []byte {
	n := 0
	for _, e := range ev {
		if e.Input == ev[0].Input && e.Frame > 0 {
			if n == 0 {
				b = append(b, "frame.number in {"...)
			} else {
				b = append(b, ' ')
			}
			b = strconv.AppendInt(b, int64(e.Frame), 10)
			n++
		}
	}
	if n == 0 {
		return strconv.AppendInt(append(b, "tcp.stream eq "...), int64(stream), 10)
	}
	return append(b, '}')
}

// text is b as a string: a copy, or with scratch (judgeIn) b appended to
// it and the string made over scratch's bytes.
func (j *judgement) text(b []byte) string {
	if j.scratch == nil || len(b) == 0 {
		return string(b)
	}
	at := len(*j.scratch)
	*j.scratch = append(*j.scratch, b...)
	return unsafe.String(&(*j.scratch)[at], len(b))
}

type judgement struct {
	// scratch, if not nil, holds the words of the verdict (judgeIn).
	scratch *[]byte
	c       *model.Connection
	f       *Facts
	point   model.CapturePoint
	end     time.Time
	cl      closeInfo
	loss    [2]dirLoss
	v       model.Verdict

	// What the kind rests on.
	ping *model.Ping // the client PING that went unanswered (decoded)
	// pingUnclosed: the client gave up on ping but its close never
	// reached the capture (queued behind the unacknowledged PING).
	pingUnclosed bool
	goaway       *model.Goaway // the GOAWAY that ended it
	stallData    SegRef        // TCP-inferred lost ping: the client's unanswered data
	stallIdle    time.Duration
	refused      bool // SYN answered by RST
	// goawayRecord is the server's record a TLS client closed right
	// after: its GOAWAY, inferred.
	goawayRecord SegRef
	synOnly      bool // SYN never answered (healthy: not for long enough to tell)
	// lateSYNAck: a SYN-ACK that reached the client-side capture
	// synRTO or more after the client's last SYN: the server's own
	// retransmission, for a SYN that had reached it.
	lateSYNAck bool
	// refusedBy says who sent the RST that refused the connection, from
	// its TTL against the server's on the capture's other connections.
	refusedBy     refuser
	setupStall    bool // the client's first data never got an answer, and it gave up
	slowHandshake bool // ... right after a TCP handshake that took long

	// dead lists the directions whose retransmissions went unanswered to
	// the end (findDead), the first to die first.
	dead []model.Direction
	// stalled: the server's TCP acknowledged the client's data
	// (stalledData) and its application answered nothing for MinStall
	// or more (findStalled).
	stalled     bool
	stalledData SegRef
	// ownClose is the client's last PING without ACK when the client
	// closed sooner after it than any PingTimeout: its own close, not a
	// lost PING (the text says so).
	ownClose *model.Ping
}

// refuser is who refused a connection (an RST answering the SYN).
type refuser int

const (
	refuserUnknown   refuser = iota // no packet of the server's to compare with
	refuserServer                   // the RST has the server's TTL
	refuserMiddlebox                // it does not: a device in between
)

func (j *judgement) evidence(m SegRef, note string, args ...any) {
	if !m.ok() {
		return
	}
	j.evidenceFrame(m.Frame, m.Input, note, args...)
}

func (j *judgement) evidenceFrame(frame, input int, note string, args ...any) {
	for _, e := range j.v.Evidence {
		if e.Frame == frame && e.Input == input {
			return
		}
	}
	if len(args) > 0 || strings.Contains(note, "%") {
		note = fmt.Sprintf(note, args...)
	}
	j.v.Evidence = append(j.v.Evidence, model.Evidence{Frame: frame, Input: input, Note: note})
}

// died says whether the connection died of silence, which lowers the
// bar for calling a direction lossy: one lost packet with nothing after
// it explains a death. A reset does not: the RST explains it.
func (j *judgement) died() bool {
	switch j.v.Kind {
	case model.KindLostPing, model.KindSilent, model.KindBlackholed:
		return true
	}
	return false
}

// findDead finds the directions that died: the sender retransmitted
// (minDeadRetries or more, data or FIN) and its peer never acknowledged
// anything new after the first of those retransmissions, nor reset the
// connection, up to the end of the capture; and the sender kept trying
// for minDeadRetrying or more. "Recovered" (degraded) needs new data
// acknowledged after the loss; here there is none.
func (j *judgement) findDead() {
	for _, d := range [...]model.Direction{model.ClientToServer, model.ServerToClient} {
		df, peer := &j.f.Dir[d], &j.f.Dir[d.Reverse()]
		if df.Retries < minDeadRetries || !df.RetryFirst.ok() || j.retrying(d) < minDeadRetrying {
			continue
		}
		// An RST from the peer after the retransmissions answered them:
		// its host was there (a closed socket, a restarted server).
		if peer.RST.ok() && !markBefore(peer.RST, df.RetryFirst) {
			continue
		}
		j.dead = append(j.dead, d)
	}
	if len(j.dead) == 2 && markBefore(j.f.Dir[j.dead[1]].RetryFirst, j.f.Dir[j.dead[0]].RetryFirst) {
		j.dead[0], j.dead[1] = j.dead[1], j.dead[0]
	}
}

// retryFrom is where direction d's unanswered wait began: the first
// transmission of its oldest unacknowledged data, or without it the
// first unanswered retransmission.
func (j *judgement) retryFrom(d model.Direction) SegRef {
	df := &j.f.Dir[d]
	if df.Unacked.ok() && !df.RetryFirst.Time.Before(df.Unacked.Time) {
		return df.Unacked
	}
	return df.RetryFirst
}

// retrying is how long direction d's sender kept trying without answer.
func (j *judgement) retrying(d model.Direction) time.Duration {
	df := &j.f.Dir[d]
	if !df.RetryLast.ok() {
		return 0
	}
	return df.RetryLast.Time.Sub(j.retryFrom(d).Time)
}

// findStalled finds a server whose TCP acknowledged the client's data
// while its application answered nothing: the client's first data since
// it last received new data from the server (Stall) was acknowledged by
// the server's TCP (StallAcked), no server data (first transmission)
// followed it, no segment was sent again either way after it (nothing
// was lost), it asked for an answer (asked), and it waited MinStall or
// more: up to the first close, or the end of the capture. A PING, a
// request or a TLS handshake record alike: the server process was
// stopped, or hung.
func (j *judgement) findStalled() {
	cf, sf := &j.f.Dir[model.ClientToServer], &j.f.Dir[model.ServerToClient]
	d := cf.Stall
	if !d.ok() || !cf.StallAcked.ok() {
		return
	}
	for _, m := range sf.Last {
		if m.Time.After(d.Time) {
			return
		}
	}
	for _, e := range j.c.Events {
		if e.Time.Before(d.Time) {
			continue
		}
		switch e.Kind {
		case model.EvRetransmission, model.EvFastRetransmission, model.EvSpuriousRetrans, model.EvLostSegment, model.EvOutOfOrder:
			return
		}
	}
	until := j.end
	if first := j.cl.first; first.ok() && first.Time.After(d.Time) {
		until = first.Time
	}
	if until.Sub(d.Time) < MinStall || !j.asked(d) {
		return
	}
	j.stalled, j.stalledData = true, d
}

// asked says whether the client's data from d on asked the server's
// HTTP/2 or TLS layer for an answer it never gave: decoded, a client
// PING never ACKed or a request without a response from d on (a
// WINDOW_UPDATE or a SETTINGS ACK asks for nothing); not decoded, TLS
// records (a ClientHello, or application data known only by size).
// Other protocols are not judged.
func (j *judgement) asked(d SegRef) bool {
	c := j.c
	h := c.HTTP2
	switch {
	case h == nil:
		return c.App == "tls"
	case h.Detected == "tls-record-sizes":
		return true
	}
	from := func(frame, input int) bool { return !markBefore(SegRef{Frame: frame, Input: input}, d) }
	for _, p := range h.Pings {
		if p.From == model.SideClient && !p.Acked && p.Frame != 0 && from(p.Frame, p.Input) {
			return true
		}
	}
	for _, st := range h.Streams {
		if st.Status == "" && st.FirstFrame != 0 && from(st.FirstFrame, st.Input) {
			return true
		}
	}
	return false
}

// since sets verdict.since for a connection that died (blackholed,
// lost_ping, silent): the last packet that made progress (progressOf).
func (j *judgement) since() {
	if !j.died() {
		return
	}
	if m, _, _ := j.progress(); m.ok() {
		j.v.Since = &model.Moment{Frame: m.Frame, Input: m.Input, Time: m.Time}
	}
}

// progress is the last packet that made progress, and who sent it
// (ClientToServer: the client), or the last packet from the peer where
// nothing was seen making progress (acked false):
//   - blackholed: the last one in which the dead direction's receiver
//     acknowledged new data of it (the direction was alive until then);
//   - lost_ping: the last one in which the client acknowledged new data
//     from the server: what it last heard before its health check failed;
//   - silent: the last one in which either side acknowledged new data.
//
// The other direction may go on a while (a one-way black hole): that is
// not the dead direction's progress.
func (j *judgement) progress() (m SegRef, by model.Direction, acked bool) {
	ack := func(d model.Direction) SegRef {
		df := &j.f.Dir[d]
		if df.AckAdvanceFrame == 0 {
			return SegRef{}
		}
		return SegRef{Frame: df.AckAdvanceFrame, Input: df.AckAdvanceInput, Time: df.AckAdvance}
	}
	peer := model.ServerToClient
	switch j.v.Kind {
	case model.KindBlackholed:
		peer = j.dead[0].Reverse()
		if a := ack(peer); a.ok() {
			return a, peer, true
		}
	case model.KindLostPing:
		if a := ack(model.ClientToServer); a.ok() {
			return a, model.ClientToServer, true
		}
	}
	c, s := ack(model.ClientToServer), ack(model.ServerToClient)
	switch {
	case c.ok() && (!s.ok() || markBefore(s, c)):
		return c, model.ClientToServer, true
	case s.ok():
		return s, model.ServerToClient, true
	}
	return j.f.Dir[peer].Latest, peer, false
}

// kind decides verdict.kind, in order of what explains the end best.
func (j *judgement) kind() {
	c, f := j.c, j.f
	if f.Quality.OneDirection {
		j.kindOneWay() // quality.go: only what the held direction proves
		return
	}
	switch {
	case j.connectFailed():
		// Since: when the attempt began, for grouping failed dials in
		// time (a handshake outage).
		syn := f.Dir[model.ClientToServer].FirstSYN
		j.v.Kind, j.v.Since = model.KindConnectFailed, &model.Moment{Frame: syn.Frame, Input: syn.Input, Time: syn.Time}
	case j.lostPingDecoded(), j.lostPingUnclosed():
		j.v.Kind = model.KindLostPing
	case j.goawayEnded():
		j.v.Kind = model.KindGoaway
	case len(j.dead) > 0:
		// Before the TCP-inferred health check, the silences and the
		// reset: a retransmission unanswered to the end explains each
		// (the client gave up on it, the traffic stopped, the sender
		// reset what it could not deliver).
		j.v.Kind = model.KindBlackholed
		d := j.dead[0]
		ms := float64(j.retrying(d)) / float64(time.Millisecond)
		j.v.RetryingMs, j.v.Retries = &ms, f.Dir[d].Retries
	case j.lostPingInferred():
		j.v.Kind = model.KindLostPing
	case j.setupStall:
		j.v.Kind = model.KindSilent
	case j.goawayInferred():
		j.v.Kind = model.KindGoaway
	case j.cl.first.ok() && j.cl.firstRST && !j.closeNotifyRST():
		j.v.Kind = model.KindReset
		j.refused = j.cl.by == model.ServerToClient && f.Dir[model.ServerToClient].DataSegs == 0 &&
			f.Dir[model.ClientToServer].DataSegs == 0 && c.TCP.ServerToClient.Packets == 1
		if j.refused {
			j.refusedBy = refusedBy(f)
		}
	case !j.cl.first.ok() && c.TCP.ServerToClient.Packets == 0 && c.TCP.ClientToServer.Packets > 0 && c.Handshake.Seen:
		j.v.Kind, j.synOnly = model.KindSilent, true
		if !j.end.IsZero() && j.end.Sub(c.Start) < synRTO {
			// A SYN that had not waited synRTO when the capture ended
			// (connectFailed takes those that had): still connecting,
			// nothing to judge.
			j.v.Kind = model.KindHealthy
		}
	case !j.cl.first.ok() && !j.end.IsZero() && j.end.Sub(c.End) >= silentAfter && !(c.Etcd != nil && c.Etcd.Idle) && !j.answeredHTTP1TLS() && !j.closedUnseen():
		// An HTTP/1 keep-alive connection whose last request was
		// answered in full is idle in its client's pool, not silent;
		// one whose peer acknowledged a FIN the capture lacks closed
		// (the capture holds no trace of the close but that ACK).
		j.v.Kind = model.KindSilent
	default:
		// Healthy, unless packets were lost: a lossy direction, or
		// retransmissions repeated with no way to tell which direction
		// lost them (one alone is a tail loss probe).
		j.v.Kind = model.KindHealthy
		if j.loss[0].lossy(false) || j.loss[1].lossy(false) || j.loss[0].ambiguous+j.loss[1].ambiguous >= 2 {
			j.v.Kind = model.KindDegraded
		}
	}
}

// connectFailed: the TCP handshake never completed. The client's SYN is
// in the capture, the client sent nothing past its SYNs (an RST aside)
// and the server nothing but SYN-ACKs; and the client waited as long as
// a handshake takes: its SYN or the server's SYN-ACK was sent again, its
// RST shows it had given up (a SYN-ACK reaching a socket closed in
// SYN-SENT draws one from its kernel), or the capture went on synRTO
// after the last of them. A lone SYN at the end of a capture is not yet
// a failure.
func (j *judgement) connectFailed() bool {
	cf, sf := &j.f.Dir[model.ClientToServer], &j.f.Dir[model.ServerToClient]
	if cf.SYNs == 0 || cf.Plain || sf.Plain || sf.RST.ok() || sf.FIN.ok() {
		return false
	}
	if cf.SYNs >= 2 || sf.SYNs >= 2 || cf.RST.ok() && lateRST(cf, sf) {
		return true
	}
	if cf.RST.ok() {
		// An RST at once to a SYN-ACK that came at once: the client
		// never waited (a half-open scan, a probe), no failed dial.
		return false
	}
	last := cf.LastSYN
	if sf.LastSYN.ok() && sf.LastSYN.Time.After(last.Time) {
		last = sf.LastSYN
	}
	return !j.end.IsZero() && j.end.Sub(last.Time) >= synRTO
}

// lateRST says whether the client's RST answers a SYN-ACK that came
// synRTO or more after its first SYN: a client that waited that long
// and then rejected the SYN-ACK had given up on the handshake.
func lateRST(cf, sf *DirFacts) bool {
	sa := sf.FirstSYN
	if markBefore(sf.LastSYN, cf.RST) {
		sa = sf.LastSYN
	}
	return sa.ok() && markBefore(sa, cf.RST) && sa.Time.Sub(cf.FirstSYN.Time) >= synRTO
}

// refusedBy tells who sent the RST that refused a connection: the server
// host when its TTL is the one the server's packets carry on the
// capture's other connections to it, a device in between when it is not.
// Without such packets it cannot be told.
func refusedBy(f *Facts) refuser {
	h := f.ServerHost
	rst := f.Dir[model.ServerToClient].RST
	if h.TTL == 0 || h.Mixed || !rst.ok() {
		return refuserUnknown
	}
	if rstTTL(f) == h.TTL {
		return refuserServer
	}
	return refuserMiddlebox
}

// rstTTL is the TTL of the server's first RST, which the tracker keeps
// apart from the server's usual TTL.
func rstTTL(f *Facts) int { return f.Dir[model.ServerToClient].RSTTTL }

// decodedNoPingAfter reports whether the connection's HTTP/2 was decoded
// from its preface on, the client was seen sending PINGs, all of them
// grpc-go BDP probes, and none but those from frame from to frame to: a
// gRPC client whose only PINGs are bandwidth probes, not a health check
// (a client with keepalive would have been seen sending its zeros).
func (j *judgement) decodedNoPingAfter(from, to SegRef) bool {
	h := j.c.HTTP2
	if h == nil || h.Detected != "preface" {
		return false
	}
	bdp := 0
	for _, p := range h.Pings {
		if p.From != model.SideClient || p.Frame == 0 {
			continue
		}
		if p.Sender != model.PingGRPCBDP {
			return false
		}
		bdp++
	}
	return bdp > 0
}

// lostPingDecoded finds the client PING without ACK that the client
// closed the connection after: x/net's health check failing.
func (j *judgement) lostPingDecoded() bool {
	h := j.c.HTTP2
	if h == nil || !j.cl.client.ok() || j.cl.by != model.ClientToServer {
		return false
	}
	for i := len(h.Pings) - 1; i >= 0; i-- {
		p := &h.Pings[i]
		// An ACK that came after the client's close did not save the
		// connection: the client had given up on the PING.
		acked := p.Acked && (p.AckTime == nil || p.AckTime.Before(j.cl.client.Time)) && !j.ackLost(p)
		// A BDP PING is a bandwidth probe: grpc-go never closes a
		// connection for its missing ACK (a short-lived client sends
		// one with its GOAWAY and closes at once).
		if p.From != "client" || acked || p.Frame == 0 || p.Sender == model.PingGRPCBDP || p.Input > j.cl.client.Input ||
			p.Input == j.cl.client.Input && p.Frame > j.cl.client.Frame {
			continue
		}
		// A health check gives its PING PingTimeout before closing; a
		// close sooner was the client's own decision, not a lost PING.
		if j.cl.client.Time.Sub(p.Time) < MinPingTimeout {
			if j.ownClose == nil {
				j.ownClose = p
			}
			continue
		}
		if j.serverGoawayBefore(p.Frame, p.Input) {
			return false
		}
		j.ping = p
		return true
	}
	return false
}

// ackLost says whether a PING's ACK, seen leaving the server, never
// reached the client: the segment that carried it was sent again (lost
// after a capture near the server), and the client closed without having
// answered anything since.
func (j *judgement) ackLost(p *model.Ping) bool {
	if !p.Acked || p.AckFrame == 0 || p.AckTime == nil {
		return false
	}
	sf := &j.f.Dir[model.ServerToClient]
	var ack SegRef
	for _, m := range sf.Last {
		if m.Frame == p.AckFrame && m.Input == p.AckInput {
			ack = m
		}
	}
	if !ack.ok() {
		return false
	}
	for _, e := range j.c.Events {
		if e.Dir != model.ServerToClient || e.Time.Before(*p.AckTime) || e.Seq > ack.Seq || e.Seq+uint32(max(e.Len, 1)) <= ack.Seq {
			continue
		}
		switch e.Kind {
		case model.EvRetransmission, model.EvFastRetransmission:
			return true
		}
	}
	return false
}

// lostPingUnclosed is the health check failing when the client's close
// is not in the capture: after a PING whose ACK never reaches it, a Go
// client closes the socket, but its FIN queues behind the PING that TCP
// is still retransmitting, so the capture shows only the retransmissions
// and then nothing. The signature is a last client PING after which the
// client sent nothing new, whose answer never got through (no ACK at all,
// or, seen nearer the server, an ACK the client never acknowledged), and
// which the client's TCP kept sending again.
func (j *judgement) lostPingUnclosed() bool {
	h := j.c.HTTP2
	if h == nil || j.cl.first.ok() {
		return false
	}
	cf, sf := &j.f.Dir[model.ClientToServer], &j.f.Dir[model.ServerToClient]
	var p *model.Ping
	for i := len(h.Pings) - 1; i >= 0; i-- {
		if q := &h.Pings[i]; q.From == "client" && q.Frame != 0 && q.Sender != model.PingGRPCBDP {
			p = q
			break
		}
	}
	if p == nil || j.serverGoawayBefore(p.Frame, p.Input) {
		return false
	}
	if n := len(cf.Last); n > 0 && markBefore(SegRef{Frame: p.Frame, Input: p.Input}, cf.Last[n-1]) {
		return false // the client sent new data after the PING: it was alive
	}
	since := p.Time
	if p.Acked {
		// The server answered; the answer must be what never arrived:
		// its data from the ACK on stayed unacknowledged by the client.
		if !sf.Stall.ok() || p.AckTime == nil || sf.Stall.Time.After(*p.AckTime) {
			return false
		}
		since = *p.AckTime
	} else if !cf.Stall.ok() || cf.Stall.Time.After(p.Time) {
		return false
	}
	for _, e := range j.c.Events {
		if e.Dir == model.ClientToServer && !e.Time.Before(since) {
			switch e.Kind {
			case model.EvRetransmission, model.EvFastRetransmission, model.EvSpuriousRetrans:
				j.ping, j.pingUnclosed = p, true
				return true
			}
		}
	}
	return false
}

func (j *judgement) serverGoawayBefore(frame, input int) bool {
	for _, g := range j.c.HTTP2.Goaways {
		if g.From == "server" && (g.Input < input || g.Input == input && g.Frame < frame) {
			return true
		}
	}
	return false
}

// goawayEnded finds the GOAWAY that ended the connection: the first
// GOAWAY, when the server sent it or it carries an error. A client's
// GOAWAY NO_ERROR is how Go closes a connection it no longer needs.
func (j *judgement) goawayEnded() bool {
	h := j.c.HTTP2
	if h == nil {
		return false
	}
	for i := range h.Goaways {
		g := &h.Goaways[i]
		if g.From == "server" || g.Error != "NO_ERROR" {
			j.goaway = g
			return true
		}
		// The client's GOAWAY NO_ERROR came first: the server's answer
		// to it (x/net's server replies in kind) is part of the close.
		return false
	}
	return false
}

// lostPingInferred is the health-check failure seen from TCP alone (TLS,
// or a PING that never left the client's send queue): the client heard
// nothing new for at least MinStall, had sent data in that time that got
// no answer, and closed the connection first; and something was wrong:
// packets lost since it last heard from the server, or a reset without a
// FIN before it (the client's socket was already closed when its peer's
// data arrived).
func (j *judgement) lostPingInferred() bool {
	f, cl := j.f, j.cl
	if !cl.client.ok() || cl.by != model.ClientToServer {
		return false
	}
	cf := &f.Dir[model.ClientToServer]
	heard := cf.AckAdvance
	if heard.IsZero() {
		heard = j.c.Start
	}
	idle := cl.client.Time.Sub(heard)
	if idle < MinStall || !cf.Stall.ok() || !cf.Stall.Time.Before(cl.client.Time) {
		return false
	}
	atClient := senderSide(j.point, model.ClientToServer)
	// Loss since the client last heard from the server, or else the
	// client's data showing up only as its RST does: what a closed
	// socket still retransmits, seen away from the client.
	// A stalled server (its TCP ACKed, its application silent) is
	// trouble of its own, without loss.
	trouble := !atClient && cl.clientRST && cl.client.Time.Sub(cf.Stall.Time) <= closeBurst || j.stalled
	for _, e := range j.c.Events {
		if e.Time.Before(heard) {
			continue
		}
		switch e.Kind {
		case model.EvRetransmission, model.EvFastRetransmission, model.EvSpuriousRetrans, model.EvLostSegment, model.EvOutOfOrder:
			trouble = true
		}
	}
	if !trouble {
		return false
	}
	// HTTP/2 decoded and the client's unanswered data in the capture:
	// unless a PING other than a BDP probe was among what the client
	// sent from then on, what went unanswered was not a health check
	// (a gRPC call stuck behind loss, closed by its program).
	if j.decodedNoPingAfter(cf.Stall, cl.client) {
		return false
	}
	// Nothing ever came back after the handshake: not a health check
	// but the setup (a TLS ClientHello, the HTTP/2 preface) timing out.
	if cf.AckAdvance.IsZero() && j.c.Handshake.Seen {
		j.setupStall, j.stallData, j.stallIdle = true, cf.Stall, idle
		// Given up as soon as the data left: the time went by in the
		// TCP handshake (SYN or SYN-ACK lost).
		j.slowHandshake = cl.client.Time.Sub(cf.Stall.Time) <= closeBurst
		return false
	}
	// A connection that cannot be HTTP/2 (HTTP/1.1 read in the clear or
	// decrypted, etcd's rafthttp, TLS whose handshake offered no h2) has
	// no health-check PING to lose: its unanswered data is a request its
	// client gave up on (etcd's 1 s GET /members while a peer starts).
	if j.notHTTP2() {
		return false
	}
	// At the client's capture its unanswered data is seen leaving: a
	// health check closes no sooner than PingTimeout after it (the PING,
	// or a request before it). A close sooner was the client's own.
	if atClient && cl.client.Time.Sub(cf.Stall.Time) < MinPingTimeout {
		return false
	}
	// Data sent just before a FIN is part of the close (a TLS
	// client giving up on its handshake); before an RST without FIN it is
	// what the closed socket was still retransmitting.
	if cl.client.Time.Sub(cf.Stall.Time) <= closeBurst && !cl.clientRST {
		return false
	}
	// The unanswered data: the last the client sent before the close
	// burst, if it came after the stall began; else where it began.
	j.stallData = cf.Stall
	for i := len(cf.Last) - 1; i >= 0; i-- {
		m := cf.Last[i]
		if m.Time.Before(cf.Stall.Time) {
			break
		}
		if cl.client.Time.Sub(m.Time) > closeBurst {
			j.stallData = m
			break
		}
	}
	j.stallIdle = idle
	return true
}

// closeNotifyRST says whether the client's RST ended a TLS 1.3 close it
// had begun: its last segment with data held only its close_notify (an
// alert-sized record), sent within closeBurst before the RST, and nothing
// it sent before was left unanswered. Its
// program closed the socket with the server's answer (its own
// close_notify) unread, and a kernel resets what it discards: how Go
// ends etcd's short /raft/probing and /members connections. Not a reset
// the network or the server caused.
func (j *judgement) closeNotifyRST() bool {
	c, cl := j.c, j.cl
	t := c.TLS
	if t == nil || t.Version != "TLS 1.3" || cl.by != model.ClientToServer || t.ClientAppLastLen == 0 || t.ClientAppLastLen > maxAlertRecord {
		return false
	}
	cf := &j.f.Dir[model.ClientToServer]
	if len(cf.Last) == 0 {
		return false
	}
	m := cf.Last[len(cf.Last)-1]
	// A client still waiting for an answer to data before its
	// close_notify gave up on it: that close is no routine one.
	if cf.Stall.ok() && cf.Stall.Frame != m.Frame {
		return false
	}
	return m.Len == t.ClientAppLastLen && markBefore(m, cl.first) && cl.first.Time.Sub(m.Time) <= closeBurst
}

// answeredHTTP1TLS is Etcd.Idle for HTTP/1.1 over TLS without keys (the
// handshake offered no h2): the server spoke last, after the client's
// last data, and the client's data was all acknowledged; a keep-alive
// connection idle in its client's pool (etcd's GET /members
// connection), not a silent one.
func (j *judgement) answeredHTTP1TLS() bool {
	c := j.c
	if c.TLS == nil || !c.TLS.NoH2 {
		return false
	}
	cd, sd := &j.f.Dir[model.ClientToServer], &j.f.Dir[model.ServerToClient]
	if len(cd.Last) == 0 || len(sd.Last) == 0 || cd.Stall.ok() {
		return false
	}
	return markBefore(cd.Last[len(cd.Last)-1], sd.Last[len(sd.Last)-1])
}

// notHTTP2 says whether the connection is known not to carry HTTP/2:
// HTTP/1 seen (in the clear, or decrypted), etcd's peer traffic, or a TLS
// handshake that left no h2 possible.
func (j *judgement) notHTTP2() bool {
	c := j.c
	if c.HTTP2 != nil {
		return false
	}
	return c.App == "http1" || c.App == model.AppEtcdPeer || c.TLS != nil && c.TLS.NoH2
}

// goawayInferred is a server's GOAWAY seen from TCP alone (TLS not
// decrypted): the client closed (FIN) within goawayReaction of a record
// the server sent unasked, at least unasked after the client's last data.
// A Go client closes the moment a draining server's GOAWAY leaves it
// without streams; one that closes on its own (idle, shutting down) does
// so long after the server last spoke, and a client that closes after its
// last answer asked for it.
func (j *judgement) goawayInferred() bool {
	c, cl := j.c, j.cl
	if c.HTTP2 != nil || c.App != "tls" || c.TLS != nil && c.TLS.NoH2 || !cl.first.ok() || cl.firstRST || cl.by != model.ClientToServer {
		return false
	}
	var srv SegRef
	for _, m := range j.f.Dir[model.ServerToClient].Last {
		if markBefore(m, cl.client) {
			srv = m
		}
	}
	// Away from the client the close comes a round trip later.
	react := goawayReaction
	if c.IRTTms != nil {
		react += time.Duration(2 * *c.IRTTms * float64(time.Millisecond))
	}
	if !srv.ok() || cl.client.Time.Sub(srv.Time) > react {
		return false
	}
	var asked SegRef
	for _, m := range j.f.Dir[model.ClientToServer].Last {
		if m.Time.Before(srv.Time) {
			asked = m
		}
	}
	if asked.ok() && srv.Time.Sub(asked.Time) < unasked {
		return false
	}
	j.goawayRecord = srv
	return true
}

// direction sets loss_direction and loss_location.
func (j *judgement) direction() {
	if j.v.Kind == model.KindConnectFailed {
		j.handshakeDirection()
		return
	}
	died := j.died()
	var lossy, some []model.Direction
	ambiguous := 0
	for d := model.ClientToServer; d <= model.ServerToClient; d++ {
		if j.loss[d].lossy(died) {
			lossy = append(lossy, d)
		}
		if j.loss[d].definite() > 0 {
			some = append(some, d)
		}
		ambiguous += j.loss[d].ambiguous
	}
	v := &j.v
	// Degraded by retransmissions that cannot tell their direction: a
	// single packet that can names it.
	if len(lossy) == 0 && v.Kind == model.KindDegraded {
		lossy = some
	}
	switch len(lossy) {
	case 2:
		v.LossDirection = model.LossBoth
	case 1:
		v.LossDirection = model.LossDirection(lossy[0].String())
	default:
		// Retransmissions that cannot say which direction lost packets
		// matter where they explain the verdict: a connection that died
		// of silence, or one degraded by them alone.
		v.LossDirection = model.LossNone
		// A stalled server lost nothing: its TCP acknowledged it all.
		if !j.stalled && (ambiguous >= 1 && died || v.Kind == model.KindLostPing || v.Kind == model.KindDegraded) {
			v.LossDirection = model.LossUnknown
		}
	}
	v.LossLocation = model.LocationUnknown
	if v.LossDirection == model.LossUnknown && j.point == model.PointMiddle {
		// The direction is unknown, the side of the capture point
		// may not be (capturepoint.go).
		v.LossLocation = j.middleSide()
	}
	if len(lossy) > 0 {
		v.LossLocations = map[model.Direction]model.LossLocation{}
		for _, d := range lossy {
			v.LossLocations[d] = j.loss[d].location()
		}
		v.LossLocation = v.LossLocations[lossy[0]]
		for _, d := range lossy[1:] {
			if v.LossLocations[d] != v.LossLocation {
				v.LossLocation = model.LocationUnknown
			}
		}
	}
}

// handshakeDirection places the loss of a failed handshake. SYNs and
// SYN-ACKs are not data: the rules of evidence are their own.
//   - No SYN-ACK in the capture: away from the server the SYN or the
//     SYN-ACK was lost, unknown which; at the server, the server never
//     answered (nothing was lost on the way).
//   - At the client, a SYN-ACK that came synRTO or more after the last
//     SYN: the server had the SYN and was sending its SYN-ACK again;
//     the ones before were lost on the way, before this capture point.
//   - Elsewhere, the client's SYN sent again after a SYN-ACK went by,
//     or its RST answering one (it had given up waiting for it): the
//     SYN-ACKs were lost after this capture point, on the way to the
//     client.
//   - Else (SYN-ACKs went by and nothing came back): the SYN-ACKs or the
//     client's ACKs were lost; unknown which.
func (j *judgement) handshakeDirection() {
	v := &j.v
	cf, sf := &j.f.Dir[model.ClientToServer], &j.f.Dir[model.ServerToClient]
	v.LossDirection, v.LossLocation = model.LossUnknown, model.LocationUnknown
	loc := model.LocationUnknown
	switch {
	case sf.SYNs == 0 && j.point == model.PointServer:
		v.LossDirection = model.LossNone
		return
	case sf.SYNs == 0:
		return
	case j.point == model.PointClient:
		if sf.FirstSYN.Time.Sub(cf.LastSYN.Time) >= synRTO {
			j.lateSYNAck, loc = true, model.BeforeCapture
		}
	case cf.LastSYN.ok() && sf.FirstSYN.ok() && markBefore(sf.FirstSYN, cf.LastSYN),
		cf.RST.ok() && markBefore(sf.FirstSYN, cf.RST):
		loc = model.AfterCapture
	}
	if loc == model.LocationUnknown {
		return
	}
	v.LossDirection, v.LossLocation = model.LossServerToClient, loc
	v.LossLocations = map[model.Direction]model.LossLocation{model.ServerToClient: loc}
}

// suspects names causes, each with the evidence that points to it.
func (j *judgement) suspects() {
	c, f := j.c, j.f
	add := func(s model.Suspect) {
		if !slices.Contains(j.v.Suspects, s) {
			j.v.Suspects = append(j.v.Suspects, s)
		}
	}
	for d := model.ClientToServer; d <= model.ServerToClient; d++ {
		if j.mtuBlackhole(d) {
			add(model.SuspectMTUBlackhole)
		}
		if j.loss[d].drops > 0 {
			add(model.SuspectCaptureDrops)
		}
		if f.Dir[d].Rejected > 0 {
			add(model.SuspectICMPRejected)
		}
	}
	for _, e := range c.Events {
		if e.Kind != model.EvRST || e.TTL == 0 {
			continue
		}
		usual := f.Dir[e.Dir].TTL
		if j.refused && e.Dir == model.ServerToClient {
			// Refused at once: the server's TTL comes from its other
			// connections here, if any.
			if j.refusedBy == refuserMiddlebox {
				add(model.SuspectMiddleboxReset)
				j.evidenceFrame(e.Frame, e.Input, "RST answering the SYN \"from the server\" with TTL %d, where the server's packets on %d other connection(s) here carry %d: sent by a device in between",
					e.TTL, f.ServerHost.Conns, f.ServerHost.TTL)
			}
			continue
		}
		switch {
		case usual != 0 && e.TTL != usual:
			add(model.SuspectMiddleboxReset)
			j.evidenceFrame(e.Frame, e.Input, "RST \"from the %s\" with TTL %d, where the %s's packets carry %d: sent by a device in between",
				senderName(e.Dir), e.TTL, senderName(e.Dir), usual)
		case f.Dir[e.Dir].RSTIPIDJump && f.Dir[e.Dir].RST.Frame == e.Frame && f.Dir[e.Dir].RST.Input == e.Input:
			add(model.SuspectMiddleboxReset)
			j.evidenceFrame(e.Frame, e.Input, "RST \"from the %s\" with IP ID %d, out of the %s's sequence of IDs: sent by a device in between",
				senderName(e.Dir), e.IPID, senderName(e.Dir))
		}
	}
	// A stall shows where the wait ended: the client gave up on it (a
	// lost ping, a setup that timed out) or the server's socket was
	// closed after it. A connection that merely stopped (silent) could
	// as well have been cut by the capture.
	if j.stalled && (j.v.Kind == model.KindLostPing || j.v.Kind == model.KindReset || j.setupStall) {
		add(model.SuspectServerStalled)
	}
	if j.v.Kind == model.KindReset && f.RSTGap >= minIdleTimeout {
		add(model.SuspectIdleTimeout)
	}
	// Long idle, then the client's data got nothing back at all: the
	// flow's state in a middlebox was gone.
	if d := j.stallData; d.ok() && (j.v.Kind == model.KindLostPing || j.v.Kind == model.KindSilent) {
		heard := f.Dir[model.ClientToServer].AckAdvance
		if !heard.IsZero() && d.Time.Sub(heard) >= minIdleDrop && !f.Dir[model.ServerToClient].LastSeen.After(d.Time) {
			add(model.SuspectIdleTimeout)
			j.evidence(d, "the first data after %s idle: nothing came back", prose.Duration(d.Time.Sub(heard)))
		}
	}
	if j.v.Kind != model.KindHealthy {
		for d := model.ClientToServer; d <= model.ServerToClient; d++ {
			st := c.TCP.Dir(d)
			if st.ZeroWindowProbes > 0 || st.ZeroWindows > 0 {
				add(model.SuspectZeroWindow)
				for _, e := range c.Events {
					if e.Kind == model.EvZeroWindow && e.Dir == d {
						j.evidenceFrame(e.Frame, e.Input, "the %s advertises a zero window: it cannot take more data", senderName(d))
						break
					}
				}
			}
		}
	}
	if g := j.goaway; g != nil && g.Error == "ENHANCE_YOUR_CALM" && strings.Contains(g.Debug, "too_many_pings") {
		add(model.SuspectTooManyPings)
	}
}

// mtuBlackhole: in direction d only big segments were lost while small
// packets passed. Every segment lost must be big (at least
// minMTULossLen), and no big segment may have got through after the
// first loss: none sent for the first time, no copy as big as the first
// lost acknowledged, no gap filled with packets as large as those before
// it. That small ones passed is seen at the receiver's side as
// small packets (bare ACKs too) arriving after the first loss; at the
// sender's side as the peer sending data afterwards without
// retransmitting it: the sender's small ACKs reach it.
func (j *judgement) mtuBlackhole(d model.Direction) bool {
	df := &j.f.Dir[d]
	l := &j.loss[d]
	if df.LossLen < minMTULossLen || len(l.retrans) == 0 && l.holes == 0 {
		return false
	}
	big := map[uint32]bool{}
	for _, e := range l.retrans {
		if e.Len < minMTULossLen {
			return false // a small segment was lost too
		}
		big[e.Seq] = true
	}
	if df.BigAfter > len(big) {
		return false
	}
	if df.BigCopyAcked {
		// A copy as big as the first segment lost arrived (the peer
		// acknowledged it): full-sized packets passed after the loss.
		return false
	}
	if !senderSide(j.point, d) {
		// A gap filled by packets as large as any before the loss
		// (their sizes told by their sender's IPv4 IDs where GRO merged
		// several into one segment): they passed.
		if df.WireFill > 0 && df.WireBefore > 0 && df.WireFill >= df.WireBefore {
			return false
		}
		return df.SmallAfter > 0
	}
	if len(l.retrans) == 0 || j.loss[d.Reverse()].spurious > 0 {
		return false
	}
	first := l.retrans[0].Time
	for _, m := range j.f.Dir[d.Reverse()].Last {
		if m.Time.After(first) {
			return true
		}
	}
	return false
}

func senderName(d model.Direction) string {
	if d == model.ClientToServer {
		return model.SideClient
	}
	return model.SideServer
}

func dirArrow(d model.Direction) string {
	if d == model.ClientToServer {
		return "client->server"
	}
	return "server->client"
}
