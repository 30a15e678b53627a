package tcp

import "github.com/h2pcap/h2pcap/decode"

// analyze is Wireshark 4.0.17's tcp_analyze_sequence_number: it classifies
// one segment against the state of both directions and moves the state of
// its own. seq and ack are absolute, and every comparison wraps as the C
// code's does. The order of the checks matters and is the C code's; each
// phase is a method below.
func (c *Conn) analyze(fwd, rev *Flow, s *decode.Segment, now int64) Flags {
	seg := segInfo{
		seq:       Seq(s.Seq),
		ack:       Seq(s.Ack),
		len:       uint32(s.PayloadLen),
		window:    uint32(s.Window),
		synFin:    s.Flags&(decode.FlagSYN|decode.FlagFIN) != 0,
		synFinRst: s.Flags&(decode.FlagSYN|decode.FlagFIN|decode.FlagRST) != 0,
		rst:       s.Flags.Has(decode.FlagRST),
		ackFlag:   s.Flags.Has(decode.FlagACK),
	}
	f := seg.windowAndAckFlags(fwd, rev)
	f |= seg.ackedUnseen(fwd, rev)
	f |= c.retransmission(&seg, fwd, rev, now, f)
	seg.advance(fwd, rev, now, f)
	return f
}

// segInfo is what the analysis reads from a segment.
type segInfo struct {
	seq, ack               Seq
	len, window            uint32
	synFin, synFinRst, rst bool
	ackFlag                bool
}

// windowAndAckFlags runs the checks up to the duplicate ACK. A zero window
// probe, a keep-alive ACK and a zero-window-probe ACK end them early (the
// C code's goto finished_fwd).
func (g *segInfo) windowAndAckFlags(fwd, rev *Flow) Flags {
	var f Flags
	// Zero window probe: one byte at the next expected sequence number
	// while the peer advertises a zero window.
	if g.len == 1 && g.seq == fwd.nextSeq && rev.window == 0 {
		return FlagZeroWindowProbe
	}
	if g.window == 0 && !g.synFinRst {
		f |= FlagZeroWindow
	}
	// Previous segment not captured: this one starts beyond the highest
	// sequence number seen. RSTs are exempt (RFC 793 lets them carry any
	// acceptable seq).
	if fwd.nextSeq != 0 && g.seq.GreaterThan(fwd.nextSeq) && !g.rst {
		f |= FlagLostSegment
	}
	// Keep-alive: 0 or 1 byte one before the next expected byte. nextSeq-1
	// is computed even when nextSeq is unknown (0), as Wireshark does.
	if g.len <= 1 && g.seq == fwd.nextSeq-1 && !g.synFinRst {
		f |= FlagKeepAlive
	}
	if g.len == 0 && g.window != 0 && g.window != fwd.window &&
		g.seq == fwd.nextSeq && g.ack == fwd.lastAck && !g.synFinRst {
		f |= FlagWindowUpdate
	}
	// Window full: the data reaches the right edge of the peer's window.
	// The peer's window is unscaled while it has sent a SYN and no ACK yet
	// (is_first_ack, issue 14690) or when scaling is off.
	if g.len > 0 && rev.winScale != wscaleUnknown && !g.synFinRst {
		shift := uint(0)
		if !rev.isFirstAck && rev.winScale != wscaleDisabled {
			shift = uint(rev.winScale)
		}
		if g.seq.Add(g.len) == rev.lastAck.Add(rev.window<<shift) {
			f |= FlagWindowFull
		}
	}
	// The rest look at a pure ACK that repeats this side's last one.
	repeat := g.len == 0 && g.window == fwd.window && g.seq == fwd.nextSeq &&
		g.ack == fwd.lastAck && !g.synFinRst
	if !repeat {
		return f
	}
	// Keep-alive ACK and zero-window-probe ACK answer the peer's
	// keep-alive or probe; they win over duplicate ACK.
	if g.window != 0 && rev.lastFlags.Any(FlagKeepAlive) {
		return f | FlagKeepAliveAck
	}
	if g.window == 0 && rev.lastFlags.Any(FlagZeroWindowProbe) {
		return f | FlagZeroWindowProbeAck
	}
	if g.window != 0 {
		if fwd.dupAckNum == dupAckUnseen {
			// An ACKed-unseen report is neutralised by the first dup ACK.
			fwd.dupAckNum = 1
		} else {
			fwd.dupAckNum++
		}
		f |= FlagDupAck
	}
	return f
}

// ackedUnseen resets the dup-ACK count when the ACK moves and reports an
// ACK that covers bytes of the other direction beyond what was seen
// contiguously. maxSeqToBeAcked then jumps ahead so the same gap is
// reported once.
func (g *segInfo) ackedUnseen(fwd, rev *Flow) Flags {
	// The ack field is compared even without the ACK flag, as in the C code.
	if g.ack != fwd.lastAck {
		fwd.dupAckNum = 0
	}
	if rev.maxSeqToBeAcked == 0 || !g.ack.GreaterThan(rev.maxSeqToBeAcked) || !g.ackFlag {
		return 0
	}
	if rev.maxSeqToBeAcked.LessThan(rev.nextSeq) {
		rev.maxSeqToBeAcked = rev.nextSeq
		return FlagAckedUnseen
	}
	// The other direction is stalled with pure ACKs: report once per
	// dup-ACK episode (dupAckUnseen marks "already said").
	var f Flags
	if rev.dupAckNum == 0 {
		f = FlagAckedUnseen
	}
	rev.dupAckNum = dupAckUnseen
	return f
}

// retransmission tells retransmission, fast retransmission, spurious
// retransmission and out-of-order apart: a segment with data (or SYN/FIN)
// that does not advance nextSeq. A keep-alive never is one. f holds the
// flags so far.
func (c *Conn) retransmission(g *segInfo, fwd, rev *Flow, now int64, f Flags) Flags {
	if !(g.len > 0 || g.synFin) || f.Any(FlagKeepAlive) {
		return 0
	}
	notAdvanced := fwd.nextSeq != 0 && g.seq.LessThan(fwd.nextSeq)
	// More than one byte starting one before nextSeq follows a zero window
	// probe: it brings new data.
	if g.len > 1 && fwd.nextSeq-1 == g.seq {
		notAdvanced = false
	}
	switch {
	case g.len > 0 && rev.lastAck != 0 && g.seq.Add(g.len).LessThanEq(rev.lastAck):
		// Everything in it was already acknowledged.
		return FlagSpuriousRetransmission
	case notAdvanced && rev.dupAckNum >= 2 && rev.lastAck == g.seq &&
		sinceNS(now, rev.lastAckNS) < uint64(fastRetransWindow):
		return FlagFastRetransmission
	case notAdvanced && sinceNS(now, fwd.nextSeqNS) < c.oooThreshold() &&
		fwd.nextSeq != g.seq.Add(g.len+b2u(g.synFin)):
		return FlagOutOfOrder
	case notAdvanced:
		return FlagRetransmission
	}
	return 0
}

// advance moves nextSeq and maxSeqToBeAcked, records the segment as
// unacknowledged, and remembers its ACK, window and flags. A zero window
// probe does not advance: its byte is expected to be refused.
func (g *segInfo) advance(fwd, rev *Flow, now int64, f Flags) {
	nextSeq := g.seq.Add(g.len)
	if (g.len > 0 || g.synFin) && fwd.unacked.len() < MaxUnacked {
		nextSeq = nextSeq.Add(b2u(g.synFin))
		fwd.unacked.add(nextSeq)
	}
	probe := f.Any(FlagZeroWindowProbe)
	if (nextSeq.GreaterThan(fwd.nextSeq) || fwd.nextSeq == 0) && !probe {
		fwd.nextSeq = nextSeq
		fwd.nextSeqNS = now
	}
	if (g.seq == fwd.maxSeqToBeAcked || fwd.maxSeqToBeAcked == 0) && !probe {
		fwd.maxSeqToBeAcked = fwd.nextSeq
	}
	fwd.window = g.window
	fwd.lastAck = g.ack
	fwd.lastAckNS = now
	fwd.lastFlags = f
	// The ack field, ACK flag or not, releases the other direction's
	// unacknowledged segments.
	rev.unacked.ack(g.ack)
}

// oooThreshold is the out-of-order threshold: the iRTT once known, else
// 3 ms. A negative iRTT (capture time going backwards) is taken as a huge
// unsigned value, as Wireshark's guint64 arithmetic does.
func (c *Conn) oooThreshold() uint64 {
	if c.firstRTTNS == 0 {
		return uint64(defaultOOOThreshold)
	}
	return uint64(c.firstRTTNS)
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
