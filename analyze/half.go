package analyze

import (
	"slices"

	"github.com/h2pcap/h2pcap/analyze/plot"
	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
)

// Half-open connections.
//
// A SYN flood, a port scan or a server that answers nothing opens one
// connection per SYN: a million in a capture of a few minutes. A
// connection's trackers (TCP, verdict, application: connState) take about
// 3 KB, which a SYN alone never needs: until a second segment comes (a SYN
// sent again, a SYN-ACK, an RST), a connection keeps its SYN in a halfSYN
// and no connState. The segment that needs the trackers builds them by
// giving them that SYN first (Analyzer.build), so every count, flag,
// event and verdict is the one the trackers would have made had they seen
// the SYN when it came; the Report builds them the same way for each such
// connection in turn and frees them again once its row and facts are made.

// halfSYN is the SYN a connection without trackers was opened by: what of
// it the stages read beyond the conn's own (endpoints, first frame,
// input and time).
type halfSYN struct {
	set            bool
	ipVersion, ttl uint8
	flags          decode.TCPFlags
	fragment       bool
	reassembled    bool
	wscale         int8
	sackPermitted  bool
	timestamp      bool
	ipid, window   uint16
	mss            uint16
	seq, ack       uint32
	tsVal, tsEcr   uint32
}

// halfOpen says whether s, the first segment of a new connection, can wait
// for its trackers as a halfSYN: a SYN without ACK, FIN, RST or payload.
// The live notices follow every segment as it comes, so with them every
// connection has its trackers from the start. The pictures' recorder
// (Options.Plot) is built with the trackers and is told the SYN first,
// as it would have been when it came.
func (a *Analyzer) halfOpen(s *decode.Segment) bool {
	return a.nt == nil &&
		s.Flags&(decode.FlagSYN|decode.FlagACK|decode.FlagFIN|decode.FlagRST) == decode.FlagSYN &&
		s.PayloadLen == 0 && len(s.Payload) == 0 && len(s.Options.SACK) == 0
}

// keep stores s, the SYN that opened c, as its halfSYN.
func (h *halfSYN) keep(s *decode.Segment) {
	*h = halfSYN{
		set: true, ipVersion: s.IPVersion, ttl: s.TTL, flags: s.Flags,
		fragment: s.Fragment, reassembled: s.Reassembled,
		wscale: s.Options.WindowScale, sackPermitted: s.Options.SACKPermitted, timestamp: s.Options.Timestamp,
		ipid: s.IPID, window: s.Window, mss: s.Options.MSS,
		seq: s.Seq, ack: s.Ack, tsVal: s.Options.TSVal, tsEcr: s.Options.TSEcr,
	}
}

// segment is c's SYN again, as the decoder gave it.
func (c *conn) halfSegment() decode.Segment {
	h := &c.half
	return decode.Segment{
		Input: int(c.firstInput), Frame: c.firstFrame, Time: c.start,
		Src: c.ep[sideA], Dst: c.ep[sideB],
		IPVersion: h.ipVersion, TTL: h.ttl, IPID: h.ipid,
		Seq: h.seq, Ack: h.ack, Flags: h.flags, Window: h.window,
		Options: decode.TCPOptions{MSS: h.mss, WindowScale: h.wscale, SACKPermitted: h.sackPermitted,
			Timestamp: h.timestamp, TSVal: h.tsVal, TSEcr: h.tsEcr},
		Fragment: h.fragment, Reassembled: h.reassembled,
	}
}

// build gives c its trackers. A connection opened by a halfSYN has the SYN
// go through them first, as it would have when it came; if a Report was
// made since, the trackers are also told what that Report told them (it
// ended the application decoding).
func (a *Analyzer) build(c *conn) {
	if fg := a.fg; fg != nil && fg.head < len(fg.pending) {
		// The next connection due, judged now: its trackers, just
		// read, are the ones c is built in (Deferred forgetting).
		a.forgetNext()
	}
	var st *connState
	if n := len(a.free); n > 0 {
		st, a.free[n-1] = a.free[n-1], nil
		a.free = a.free[:n-1]
	} else {
		st = &connState{}
	}
	a.buildIn(c, st)
}

// buildIn is build with st as the trackers: zeroed, but for the arrays a
// forgotten connection's trackers leave to the next (Analyzer.free), or
// the last half-open connection's replayed in them (halfFacts).
func (a *Analyzer) buildIn(c *conn, st *connState) {
	events, spare, rec := st.events[:0], st.app, st.plot
	if cap(events) > maxKeptEvents {
		events = nil
	}
	tcpMem, vtMem := st.tcp.Mem(), st.vt.Mem()
	*st = connState{} // a zero composite is cleared in place, not copied from a temporary
	st.maxEvents, st.events = a.maxEvents, events
	c.connState = st
	st.tcp.Init()
	st.tcp.Reuse(tcpMem)
	st.vt.Reuse(vtMem)
	if a.plot {
		// The last connection's recorder, if these trackers had one:
		// its data was copied out (Recorder.Plot) or dropped with it.
		if rec == nil {
			rec = &plot.Recorder{}
		} else {
			rec.Reset(maxKeptPoints)
		}
		st.plot = rec
	}
	st.app = spare
	st.app.Reuse(c, a.h2Port(c), a.keys, a.streams)
	if a.keepDecoders {
		st.app.KeepDecoders()
	}
	st.app.ShareFrame(a.frame, a.strs)
	if !c.half.set {
		return
	}
	s := c.halfSegment()
	lastFrame, lastInput, end := c.lastFrame, c.lastInput, c.endOff
	c.segment(&s)
	c.lastFrame, c.lastInput, c.endOff = lastFrame, lastInput, end
	if a.reported {
		c.report()
	}
}

// h2Port says whether c is to or from a port decoded as HTTP/2
// (Options.H2Ports).
func (a *Analyzer) h2Port(c *conn) bool {
	return slices.Contains(a.h2Ports, c.ep[sideA].Port()) || slices.Contains(a.h2Ports, c.ep[sideB].Port())
}

// grow gives a half-open connection its trackers for good: a segment
// that needs them came.
func (a *Analyzer) grow(c *conn) {
	a.build(c)
	c.half = halfSYN{}
	a.halfConns.Add(-1)
}

// HalfOpen says how many of the connections seen so far are still
// half-open (a lone SYN) of how many: the Report of a capture made of
// them (a SYN flood, a scan) builds each one's row as it judges it and
// frees the connection as it settles the row, so its heap stays within
// what the reading held (h2pcap analyze caps it there).
func (a *Analyzer) HalfOpen() (half, all int) {
	return int(a.halfConns.Load()), len(a.all)
}

// reportHalf is the Connection of a half-open c and its facts, from
// trackers built for the moment in the Analyzer's scratch state (the row
// keeps no pointer into it): a million SYNs cost their rows, not their
// trackers too, nor the time to allocate them. The facts are scratch too,
// valid until the next call: Clone them to keep them.
func (a *Analyzer) reportHalf(c *conn) (*model.Connection, *verdict.Facts) {
	return a.reportHalfInto(c, nil)
}

// reportHalfInto is reportHalf building the row in into, if not nil.
func (a *Analyzer) reportHalfInto(c *conn, into *model.Connection) (*model.Connection, *verdict.Facts) {
	if a.scratch == nil {
		a.scratch, a.scratchFacts = &connState{}, &verdict.Facts{}
	}
	if a.plot || !c.half.set {
		out, f, pic := a.reportHalfIn(c, into, a.scratch, a.scratchFacts)
		a.keepPlot(c, pic)
		return out, f
	}
	// A lone SYN of a shape seen before: a copy of that one's row and
	// facts (lonerow.go). Only here, in the Analyzer's goroutine: the
	// workers' rows (shard.go) are made in full.
	k := a.loneShapeOf(c)
	if t := a.loneRows[k]; t != nil {
		return t.apply(c, into, a.scratchFacts), a.scratchFacts
	}
	out, f, _ := a.reportHalfIn(c, into, a.scratch, a.scratchFacts) // no pictures: with Options.Plot, the branch above
	a.keepLoneRow(k, c, out, f)
	return out, f
}

// reportHalfIn is reportHalfInto with the scratch state st and facts sf
// given: the Analyzer's, or each goroutine's own when the Report's rows
// are made on Options.Workers goroutines (shard.go). The facts are sf;
// pic is c's pictures' data with Options.Plot (its recorder told the
// SYN), for the caller to keep (Analyzer.keepPlot).
func (a *Analyzer) reportHalfIn(c *conn, into *model.Connection, st *connState, sf *verdict.Facts) (out *model.Connection, f *verdict.Facts, pic *model.Plot) {
	a.buildIn(c, st)
	out = c.reportInto(into, nil)
	client, _ := c.Roles()
	c.vt.FactsInto(sf, client, &c.tcp)
	pic = c.plotOf(client)
	c.connState = nil
	return out, sf, pic
}

// halfFacts are half-open c's facts again, built as reportHalfIn built them
// with its row (verdict.Later): the same trackers, told the same. They
// are the Analyzer's scratch facts.
func (a *Analyzer) halfFacts(c *conn) *verdict.Facts {
	f, _ := a.halfFactsRoles(c)
	return f
}

// halfFactsRoles is halfFacts with the side that is c's client.
func (a *Analyzer) halfFactsRoles(c *conn) (*verdict.Facts, int) {
	if a.scratch == nil {
		a.scratch, a.scratchFacts = &connState{}, &verdict.Facts{}
	}
	reported := a.reported
	a.reported = false // as when its row was made, before the Report was
	a.buildIn(c, a.scratch)
	a.reported = reported
	// What making its row did to the trackers, without the row: the
	// application decoding ended (report, app.State.HTTP2); the rest
	// of report only reads them.
	c.app.Finish()
	client, _ := c.Roles()
	c.vt.FactsInto(a.scratchFacts, client, &c.tcp)
	c.connState = nil
	return a.scratchFacts, client
}

// loneSYN is what the Report reads of a half-open connection's facts
// before judging it (its Brief and client side), by the TTL of its SYN
// (see loneSYNBrief).
type loneSYN struct {
	set    bool
	ok     bool
	client int
	b      verdict.Brief
}

// loneSYNBrief is verdict.BriefOf of half-open c's facts, and its client
// side. A lone SYN's are a function of its TTL alone: the capture point
// (its TTL; the server's, none; no handshake times), whether it is a
// traceroute probe's (its TTL), its client (its sender). So they are
// built once per TTL, not for each of a flood's million attempts
// (TestLoneSYNBriefByTTL holds the SYN's every other field to that).
func (a *Analyzer) loneSYNBrief(c *conn) (verdict.Brief, int, bool) {
	m := &a.loneSYNs[c.half.ttl]
	if !m.set {
		f, client := a.halfFactsRoles(c)
		b, ok := verdict.BriefOf(f)
		*m = loneSYN{set: true, ok: ok, client: client, b: b}
	}
	return m.b, m.client, m.ok
}

// reportHalfLater is reportHalfInto for a connection whose row is built
// as it is judged, after the Report began (verdict.Later.Row): its
// trackers are told what they were told when its facts were first built,
// before the Report.
func (a *Analyzer) reportHalfLater(c *conn, into *model.Connection) (*model.Connection, *verdict.Facts) {
	reported := a.reported
	a.reported = false
	defer func() { a.reported = reported }()
	return a.reportHalfInto(c, into)
}
