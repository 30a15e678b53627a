package analyze

import (
	"time"

	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/model"
)

// Lone SYNs' rows from a template.
//
// The Report makes a half-open connection's row and facts by building
// trackers in scratch memory and giving them its SYN again
// (reportHalfIn): about a microsecond each, a fifth of a SYN flood's JSON
// report. Two lone SYNs that differ only in what their rows and facts do
// not hold (the sequence number, IP ID and TCP timestamp values: a lone
// SYN's numbers are relative to itself) and in which connection they
// open and when (stream, endpoints, frame, time) have the same row and
// facts but for those. So the first lone SYN of each shape is made in
// full and kept as the template; the next ones are copies of it with
// those fields set (TestLoneSYNRowTemplate holds ten variants of a SYN,
// at four TTLs, to the full way, and TestLoneSYNMovesEveryMark the list
// of the facts' marks below to the facts' type).

// loneShape is what a lone SYN's row and facts depend on beyond its
// connection, its frame and its time.
type loneShape struct {
	half     halfSYN // seq, ipid, tsVal and tsEcr cleared
	input    int32
	h2       bool // to a port decoded as HTTP/2 (Options.H2Ports)
	reported bool // a Report was made before (buildIn tells the trackers)
}

// loneRow is a shape's template: the row and facts of its first SYN, and
// that SYN's place, which the copies move to theirs.
type loneRow struct {
	out   model.Connection
	f     verdict.Facts
	frame int
	input int
	at    time.Time
}

// maxLoneShapes bounds the templates kept: a flood's SYNs come in a few
// shapes (one per sender's TTL and options); past this many, a capture of
// varied SYNs has its rows made in full, as before.
const maxLoneShapes = 64

// loneShapeOf is lone SYN c's shape (reportHalfInto asks only without
// pictures to record).
func (a *Analyzer) loneShapeOf(c *conn) loneShape {
	h := c.half
	h.seq, h.ipid, h.tsVal, h.tsEcr = 0, 0, 0, 0
	return loneShape{half: h, input: c.firstInput, h2: a.h2Port(c), reported: a.reported}
}

// templatable says whether out, a lone SYN's row made in full, holds
// nothing a copy would share with it but the TTL lists and events.
func templatable(out *model.Connection) bool {
	return out.HTTP2 == nil && out.TLS == nil && out.Etcd == nil && out.IRTTms == nil && out.Verdict == nil &&
		out.Redial == nil && out.Plot == nil && out.Points == nil && out.Placement == nil && out.Stopped == nil &&
		len(out.Events) == 0
}

// keepLoneRow makes out and f, c's row and facts made in full, the
// template of its shape k, if the row holds nothing a copy would share
// with it but the TTL lists and events (no HTTP/2, TLS or etcd state).
func (a *Analyzer) keepLoneRow(k loneShape, c *conn, out *model.Connection, f *verdict.Facts) {
	if len(a.loneRows) >= maxLoneShapes || !templatable(out) {
		return
	}
	if a.loneRows == nil {
		a.loneRows = map[loneShape]*loneRow{}
	}
	t := &loneRow{out: *out, f: *f.Clone(), frame: c.firstFrame, input: int(c.firstInput), at: c.start}
	t.out.TCP.ClientToServer.TTL = copyKeepNil(nil, out.TCP.ClientToServer.TTL)
	t.out.TCP.ServerToClient.TTL = copyKeepNil(nil, out.TCP.ServerToClient.TTL)
	t.out.Events = copyKeepNil(nil, out.Events)
	a.loneRows[k] = t
}

// apply is t for c: its row in into (if not nil, whose arrays it reuses)
// and its facts in f (likewise).
func (t *loneRow) apply(c *conn, into *model.Connection, f *verdict.Facts) *model.Connection {
	out := into
	if out == nil {
		out = &model.Connection{}
	}
	cs, sc, ev := out.TCP.ClientToServer.TTL, out.TCP.ServerToClient.TTL, out.Events
	*out = t.out
	out.TCP.ClientToServer.TTL = copyKeepNil(cs, t.out.TCP.ClientToServer.TTL)
	out.TCP.ServerToClient.TTL = copyKeepNil(sc, t.out.TCP.ServerToClient.TTL)
	out.Events = copyKeepNil(ev, t.out.Events)
	// Its client is its SYN's sender, as Roles finds it with trackers.
	client := sideA
	out.Stream = c.stream
	out.Client, out.Server = c.ep[client].String(), c.ep[1-client].String()
	out.FirstFrame, out.LastFrame = c.firstFrame, c.lastFrame
	out.FirstInput, out.LastInput = int(c.firstInput), int(c.lastInput)
	out.Start, out.End = c.start, c.endTime()

	var last [2][]verdict.SegRef
	for d := range f.Dir {
		last[d] = f.Dir[d].Last
	}
	inputs := f.Quality.Inputs
	*f = t.f
	f.Quality.Inputs = copyKeepNil(inputs, t.f.Quality.Inputs)
	for d := range f.Dir {
		f.Dir[d].Last = copyKeepNil(last[d], t.f.Dir[d].Last)
		t.move(&f.Dir[d], c)
	}
	return out
}

// copyKeepNil is src's elements in dst's array (grown if need be), nil
// where src is nil and empty where src is empty: the JSON tells null
// from [].
func copyKeepNil[E any](dst, src []E) []E {
	if src == nil {
		return nil
	}
	if dst == nil {
		dst = make([]E, 0, len(src))
	}
	return append(dst[:0], src...)
}

// move sets the marks of df that are the template's SYN to c's SYN.
func (t *loneRow) move(df *verdict.DirFacts, c *conn) {
	ref := func(m *verdict.SegRef) {
		if m.Frame == t.frame && m.Input == t.input && m.Time.Equal(t.at) {
			m.Frame, m.Input, m.Time = c.firstFrame, int(c.firstInput), c.start
		}
	}
	at := func(tm *time.Time) {
		if !tm.IsZero() && tm.Equal(t.at) {
			*tm = c.start
		}
	}
	for _, m := range loneMarks(df) {
		ref(m)
	}
	for i := range df.Last {
		ref(&df.Last[i])
	}
	at(&df.AckAdvance)
	at(&df.LastSeen)
	if df.AckAdvanceFrame == t.frame && df.AckAdvanceInput == t.input {
		df.AckAdvanceFrame, df.AckAdvanceInput = c.firstFrame, int(c.firstInput)
	}
}

// loneMarks are df's marks of one segment each (verdict.SegRef), which a
// lone SYN may have set to itself.
func loneMarks(df *verdict.DirFacts) [16]*verdict.SegRef {
	return [...]*verdict.SegRef{&df.Stall, &df.FIN, &df.RST, &df.Latest, &df.RetryFirst, &df.RetryLast, &df.Unacked,
		&df.StallAcked, &df.FirstSYN, &df.LastSYN, &df.SYN, &df.SYNAck, &df.ICMP, &df.RejectedFirst, &df.RejectedLast,
		&df.FINAcked}
}
