package verdict

import (
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/h2pcap/h2pcap/analyze/tcp"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
)

// What the tracker remembers for the verdict, beyond Wireshark's state.
// Everything here is a few fixed-size fields per direction, updated by
// observe once per segment: the judgement itself runs at Report time
// from these facts and the events, never in the per-packet path.

// seqRange is [lo, hi) in absolute sequence space.
type seqRange struct{ lo, hi tcp.Seq }

// segMark remembers one segment: where it is and what it was. A tracker
// holds some thirty of them per connection, so they are laid out in 24
// bytes: the frame number (a live capture running for days passes 2^32
// frames, not 2^39) and the input index (under 2^24) packed in one word
// with a bit saying the mark is set, a payload length in 32 bits.
type segMark struct {
	ns  int64
	pos uint64  // markSet | frame<<markFrameShift | input
	seq tcp.Seq // absolute
	len int32
}

const (
	markSet        = 1 << 63
	markFrameShift = 24
	markInputMask  = 1<<markFrameShift - 1
)

// newMark marks the segment at frame of input.
func newMark(frame, input int, ns int64, seq tcp.Seq, n int) segMark {
	return segMark{ns: ns, pos: markSet | uint64(frame)<<markFrameShift | uint64(input)&markInputMask, seq: seq, len: int32(n)}
}

func (m segMark) set() bool  { return m.pos&markSet != 0 }
func (m segMark) frame() int { return int(m.pos &^ markSet >> markFrameShift) }
func (m segMark) input() int { return int(m.pos & markInputMask) }

// dirTrack is one direction's verdict state (one sending side).
type dirTrack struct {
	ttlSet  bool
	ttlData bool  // ttl is a segment's with payload
	ttl     uint8 // the side's usual TTL: its first data's, else its first segment's without RST

	// IPv4 IDs: a host that numbers a connection's packets with a
	// counter gives its own RST the next number; a device in between
	// gives it another (or none).
	ipidSet     bool
	rstIPIDJump bool // the first RST's ID broke the run
	// counter: the side was seen numbering its packets (ipidRun reached
	// minIPIDRun); maxIPID is the newest ID it sent (maxIPIDSet), seen
	// at maxIPIDNS.
	counter    bool
	maxIPIDSet bool
	// ipidRun counts the consecutive packets whose ID followed the
	// previous one closely, up to minIPIDRun (all that is asked of it).
	ipidRun  uint8
	lastIPID uint16
	maxIPID  uint16
	// plain (see syns below) sits here, beside the small fields, so that
	// the connection's trackers stay in their size class
	// (TestConnStateSize).
	plain     bool
	maxIPIDNS int64

	// The counts and sizes below are int32 (saturating; a segment's
	// payload is below 2^16) so that the trackers keep their size class.
	dataSegs int32 // segments with payload
	maxLen   int32 // largest payload

	// seenEnd is the highest seq+len seen; gaps below it are holes.
	seenEnd    tcp.Seq
	seenEndSet bool
	// lossStarted: see lossLen (here, beside the other flags, not to pad
	// each to a word); prevKind and bigRetry: see wireBefore.
	lossStarted bool
	prevKind    uint8
	bigRetry    uint8
	holes       []seqRange

	// Sizes after the first loss: lossLen is the size of the first
	// segment lost (a retransmission's length, or for a hole the largest
	// segment seen before it). Segments sent for the first time after it
	// are counted as big (at least lossLen) or small: an MTU black hole
	// loses every big one and none of the small.
	lossLen              int32
	bigAfter, smallAfter int32

	// Whether full-sized packets passed after the first loss, told
	// despite GRO and TSO, which show several packets as one segment:
	// wireBefore is the largest packet sent before the loss and wireFill
	// the largest that filled a gap after it, each a segment's payload
	// divided by the packets its sender numbered for it (the step from
	// its IPv4 ID to the next segment's: a counter that numbers every
	// packet, Linux's per connection, gives a segment GRO merged from k
	// packets k numbers); 0: not known. prevLen and prevKind are the
	// previous segment's payload and what it was (prevBefore, prevFill),
	// its size told once the next one's ID is seen. bigRetryEnd is the
	// end of the latest retransmission at least lossLen long (bigRetry:
	// retryPending, then retryAcked once the peer's ACK covered it, with
	// no smaller copy sent since): a full-sized copy that arrived.
	prevLen, wireBefore, wireFill int32
	bigRetryEnd                   tcp.Seq

	// The side's receive point: the last time its cumulative ACK moved,
	// that is, when it last got new data in order from its peer.
	maxAck    tcp.Seq
	maxAckSet bool
	// sack is the first SACK block of the side's latest ACK (RFC 2018:
	// the most recently received out-of-order data), empty when that ACK
	// had none: a retransmission of data in it is a tail loss probe or
	// a RACK resend of what the side had, not data it missed.
	sackSet  bool
	sack     seqRange
	ackAdvNS int64
	ackAdv   segMark
	// stall is the first data this side sent after its ACK last moved:
	// the request (or PING) still waiting for an answer. stallAcked is
	// the peer's first segment whose ACK covered it: it arrived.
	stall, stallAcked segMark
	// last holds the latest first transmissions with payload, newest at
	// last[len-1]: the close_notify or GOAWAY just before a close is
	// skipped to find the PING before it.
	last [3]segMark

	fin, rst segMark // the first FIN and RST this side sent (rstTTL: the RST's TTL)
	lastNS   int64   // this side's latest segment
	lastSeg  segMark // ... and where it is

	// The run of retransmissions the peer has not answered: this side's
	// retransmissions (not spurious; data or FIN) since the peer's
	// cumulative ACK last moved, which resets it. A run still open at
	// the end went unanswered to the end.
	retryFirst, retryLast segMark
	retries               int
	// unacked is the first transmission of the oldest data the peer had
	// not acknowledged yet: set by new data sent with nothing in flight;
	// after a partial ACK, the ACK (the rest was sent before it: a lower
	// bound of how long it waited); cleared when the peer ACKs it all.
	unacked segMark

	// The handshake: this side's SYNs (a client's pure SYNs, a server's
	// SYN-ACKs), first and latest, and whether it sent anything past
	// them (a segment without SYN or RST: its ACK of the handshake, data,
	// a FIN).
	syns              int
	firstSYN, lastSYN segMark // and plain, above

	// The side's first pure SYN (its sequence number is the ISN an ICMP
	// error quoting it carries) and its TTL; and whether the side ever
	// sent a plain ACK (no SYN, no RST): a traceroute probe's prober
	// never does.
	syn      segMark
	synAck   segMark // the side's first SYN-ACK
	synTTL   uint8
	rstTTL   uint8 // the first RST's TTL (beside synTTL, not to pad it to a word)
	plainACK bool
	// icmp is the first ICMP error that quoted this side's SYN.
	icmp    segMark
	icmpErr *decode.ICMPError // with icmp: a pointer, as most connections never see one (150 bytes a side)
	// rejected is the ICMP errors that quoted this side's other
	// segments (nil without one: most connections never see one).
	rejected *rejections

	// Markers of the segment being counted, for its events.
	markUnseen, markPeerMissing, markAnswered, markLate bool
}

// connTrack is the connection-wide verdict state.
type connTrack struct {
	lastNS  int64 // time of the previous segment, for the gap before an RST
	rstGap  int64 // silence before the first RST
	rstSeen bool

	// Handshake timing for the capture point: the latest pure SYN before
	// the first SYN-ACK, the first SYN-ACK, and the first ACK after it
	// from the SYN's side.
	synNS, synAckNS, hsAckNS int64
	synSide                  int
}

// Tracker is the verdict's per-segment state of one connection: a few
// fixed-size fields per side, by the tracker's side numbers. It reads the
// TCP tracker's Flows and never changes them.
type Tracker struct {
	conn connTrack
	dir  [2]dirTrack
	// What the connection says of the capture itself (quality.go).
	q      [2]qualTrack
	inputs []inputQual // by input index
}

// Segment updates the state with one segment side sent, after the TCP
// tracker classified it (f) and before its events are kept (they read
// Marks). fwd and rev are the TCP tracker's Flows of side and its peer.
func (tr *Tracker) Segment(side int, s *decode.Segment, f tcp.Flags, fwd, rev *tcp.Flow) {
	t := &tr.dir[side]
	ct := &tr.conn
	now := s.Time.UnixNano()
	seq, ackNo := tcp.Seq(s.Seq), tcp.Seq(s.Ack)
	rst := s.Flags.Has(decode.FlagRST)
	syn, ack := s.Flags.Has(decode.FlagSYN), s.Flags.Has(decode.FlagACK)

	// The side's usual TTL: its first data's, else its first segment's
	// without RST. A SYN proxy (a firewall that answers the handshake
	// itself) sends the handshake with its own TTL, one hop nearer than
	// the end whose data follows.
	if !rst && (!t.ttlSet || !t.ttlData && s.PayloadLen > 0) {
		t.ttl, t.ttlSet, t.ttlData = s.TTL, true, s.PayloadLen > 0
	}
	t.markLate = false
	if s.IPVersion == 4 {
		t.ipv4(s.IPID, rst, now)
	}
	mark := newMark(s.Frame, s.Input, now, seq, s.PayloadLen)
	tr.quality(side, s, seq, ackNo)

	// Handshake timing.
	switch {
	case syn && !ack && ct.synAckNS == 0:
		ct.synNS, ct.synSide = now, side
	case syn && ack && ct.synAckNS == 0 && ct.synNS != 0:
		ct.synAckNS = now
	case !syn && ack && ct.synAckNS != 0 && ct.hsAckNS == 0 && side == ct.synSide:
		ct.hsAckNS = now
	}

	if ack && !rst {
		t.sackSet = len(s.Options.SACK) > 0
		if t.sackSet {
			t.sack = seqRange{tcp.Seq(s.Options.SACK[0].Left), tcp.Seq(s.Options.SACK[0].Right)}
		}
	}
	// The receive point moves: this side got new data in order.
	if ack && (!t.maxAckSet || ackNo.GreaterThan(t.maxAck)) {
		if t.maxAckSet {
			t.ackAdvNS, t.ackAdv = now, mark
			t.stall, t.stallAcked = segMark{}, segMark{}
		}
		t.maxAck, t.maxAckSet = ackNo, true
		// The peer's retransmissions were answered; what it still has
		// in flight waits from now on at the latest.
		p := &tr.dir[1-side]
		if p.bigRetry == retryPending && !ackNo.LessThan(p.bigRetryEnd) {
			p.bigRetry = retryAcked
		}
		if p.stall.set() && !p.stallAcked.set() && !ackNo.LessThan(p.stall.seq.Add(uint32(p.stall.len))) {
			p.stallAcked = mark
		}
		p.retryFirst, p.retryLast, p.retries = segMark{}, segMark{}, 0
		if p.unacked.set() {
			p.unacked = segMark{}
			if p.seenEndSet && p.seenEnd.GreaterThan(ackNo) {
				p.unacked = mark
			}
		}
	}

	retrans := f.Any(tcp.FlagRetransmission | tcp.FlagFastRetransmission | tcp.FlagOutOfOrder)
	spurious := f.Any(tcp.FlagSpuriousRetransmission)
	end := seq.Add(uint32(s.PayloadLen))
	// A gap: this segment (data or a bare ACK) starts beyond what was seen.
	holeLen := 0
	if f.Any(tcp.FlagLostSegment) && t.seenEndSet && seq.GreaterThan(t.seenEnd) {
		t.addHole(seqRange{t.seenEnd, seq})
		holeLen = int(t.seenEnd.Size(seq))
	}
	t.markUnseen, t.markPeerMissing = false, false
	// A SYN sent again after the capture saw the SYN-ACK answer it: the
	// SYN-ACK was lost on its way to the client.
	t.markAnswered = syn && !ack && retrans && rev.SentSYNAck()
	kind := uint8(prevOther)
	if s.PayloadLen > 0 {
		if !t.lossStarted && !retrans && !spurious && !f.Any(tcp.FlagLostSegment) {
			kind = prevBefore
		}
		t.dataSegs = min(t.dataSegs+1, math.MaxInt32)
		maxBefore := t.maxLen
		t.maxLen = max(t.maxLen, int32(s.PayloadLen))
		if retrans {
			t.markUnseen = t.fill(seq, end)
			// The peer was heard from after this direction last sent new
			// data and still did not acknowledge this segment: it never
			// arrived (the data was lost, not the ACK). Unless the peer's
			// latest ACK selectively acknowledged it: then it arrived,
			// and this is a probe for other data (a tail loss probe).
			p := &tr.dir[1-side]
			sacked := p.sackSet && !seq.LessThan(p.sack.lo) && !end.GreaterThan(p.sack.hi)
			t.markPeerMissing = !spurious && !sacked && rev.LastAck() != 0 &&
				rev.LastAckNS() > fwd.NextSeqNS() && rev.LastAck().LessThanEq(seq)
			if t.markUnseen {
				kind = prevFill
			}
		}
		if !t.lossStarted {
			switch {
			case f.Any(tcp.FlagRetransmission|tcp.FlagFastRetransmission) && !spurious:
				t.lossStarted, t.lossLen = true, int32(s.PayloadLen)
			case f.Any(tcp.FlagLostSegment):
				// The lost segment's size is not seen: take the largest
				// seen so far, or before any the gap's.
				t.lossStarted, t.lossLen = true, maxBefore
				if t.lossLen == 0 {
					t.lossLen = int32(min(max(holeLen, 1), math.MaxInt32))
				}
			}
		}
		if f.Any(tcp.FlagRetransmission|tcp.FlagFastRetransmission) && !spurious && t.lossStarted {
			switch {
			case int32(s.PayloadLen) >= t.lossLen && t.bigRetry != retryAcked:
				t.bigRetryEnd, t.bigRetry = end, retryPending
			case int32(s.PayloadLen) < t.lossLen && t.bigRetry == retryPending:
				// Sent again smaller (a sender that lowered its
				// segment size): an ACK may be that copy's.
				t.bigRetry = 0
			}
		}
		if !retrans && !spurious {
			copy(t.last[:], t.last[1:])
			t.last[len(t.last)-1] = mark
			if !t.stall.set() {
				t.stall = mark
			}
		}
	}
	t.prevLen, t.prevKind = int32(s.PayloadLen), kind
	// Sizes after the first loss, bare ACKs included: they are the small
	// packets that pass an MTU black hole.
	// A retransmission the peer never acknowledged (a spurious one it
	// had): part of the run an ACK from the peer ends.
	fin := s.Flags.Has(decode.FlagFIN)
	if f.Any(tcp.FlagRetransmission|tcp.FlagFastRetransmission) && !spurious && !syn && !rst && (s.PayloadLen > 0 || fin) {
		if !t.retryFirst.set() {
			t.retryFirst = mark
		}
		t.retryLast = mark
		t.retries++
	}
	if s.PayloadLen > 0 && !retrans && !spurious && !t.unacked.set() {
		t.unacked = mark
	}
	if t.lossStarted && !retrans && !spurious && !syn {
		if int32(s.PayloadLen) >= t.lossLen {
			t.bigAfter = min(t.bigAfter+1, math.MaxInt32)
		} else {
			t.smallAfter = min(t.smallAfter+1, math.MaxInt32)
		}
	}
	if !t.seenEndSet || end.GreaterThan(t.seenEnd) {
		t.seenEnd, t.seenEndSet = end, true
	}
	if rst && !t.rst.set() {
		t.rst, t.rstTTL = mark, s.TTL
		if !ct.rstSeen {
			ct.rstGap, ct.rstSeen = now-ct.lastNS, true
		}
	}
	if s.Flags.Has(decode.FlagFIN) && !t.fin.set() {
		t.fin = mark
	}
	switch {
	case syn:
		t.syns++
		if !t.firstSYN.set() {
			t.firstSYN = mark
		}
		t.lastSYN = mark
	case !rst:
		t.plain = true
	}
	if syn && !ack && !t.syn.set() {
		t.syn, t.synTTL = mark, s.TTL
	}
	if syn && ack && !t.synAck.set() {
		t.synAck = mark
	}
	if ack && !syn && !rst {
		t.plainACK = true
	}
	ct.lastNS, t.lastNS, t.lastSeg = now, now, mark
}

// rejections are the ICMP errors that quoted a side's segments past its
// SYN: a firewall's reject, no route, a TTL that ran out on the way. The
// packets they quote were stopped by the error's sender, which said so.
type rejections struct {
	n           int
	first, last segMark
	from        netip.Addr // the first error's sender
	typ, code   uint8
	v6          bool
}

// ICMPError takes an ICMP error that quotes a segment side sent. The
// first that quotes the side's SYN (its ISN) is kept as such: what a
// router says of a probe's SYN whose TTL ran out; it reports whether it
// kept e so. The others are counted as rejections (Facts'
// DirFacts.Rejected).
func (tr *Tracker) ICMPError(side int, e *decode.ICMPError) bool {
	t := &tr.dir[side]
	if !t.syn.set() || t.icmp.set() || tcp.Seq(e.Seq) != t.syn.seq {
		if t.syn.set() && tcp.Seq(e.Seq) == t.syn.seq {
			return false // the SYN again: a probe's, already kept
		}
		mark := newMark(e.Frame, e.Input, e.Time.UnixNano(), tcp.Seq(e.Seq), 0)
		if t.rejected == nil {
			t.rejected = &rejections{first: mark, from: e.From, typ: e.Type, code: e.Code, v6: e.IPVersion == 6}
		}
		t.rejected.n++
		t.rejected.last = mark
		return false
	}
	t.icmp = newMark(e.Frame, e.Input, e.Time.UnixNano(), 0, 0)
	icmpErr := *e
	t.icmpErr = &icmpErr
	return true
}

// addHole remembers a gap, forgetting the oldest past maxHoles.
func (t *dirTrack) addHole(h seqRange) { t.holes = appendBounded(t.holes, h) }

// appendBounded appends r to rs, dropping the oldest range once rs holds
// maxHoles: the trackers' gap lists stay bounded per connection.
func appendBounded(rs []seqRange, r seqRange) []seqRange {
	if len(rs) == maxHoles {
		copy(rs, rs[1:])
		rs = rs[:maxHoles-1]
	}
	return append(rs, r)
}

// fill reports whether [lo, hi) falls in a hole, and trims the hole by it.
func (t *dirTrack) fill(lo, hi tcp.Seq) bool {
	for i := 0; i < len(t.holes); i++ {
		h := &t.holes[i]
		if !lo.LessThan(h.hi) || !hi.GreaterThan(h.lo) {
			continue
		}
		switch {
		case lo.LessThanEq(h.lo) && !hi.LessThan(h.hi): // covers it
			t.holes = append(t.holes[:i], t.holes[i+1:]...)
		case lo.LessThanEq(h.lo): // fills its start
			h.lo = hi
		default: // fills its end, or a middle part: keep the lower rest
			h.hi = lo
		}
		return true
	}
	return false
}

// DirFacts is what the judgement reads about one direction, in client /
// server terms.
type DirFacts struct {
	TTL      int // the sender's usual TTL (first segment without RST); 0: unknown
	DataSegs int
	MaxLen   int

	LossLen              int // size of the first segment lost; 0: no loss seen
	BigAfter, SmallAfter int // first transmissions after it, by size
	// WireBefore is the largest packet sent before the first loss and
	// WireFill the largest that filled a gap after it, GRO and TSO
	// undone by the sender's IPv4 IDs; 0: not known. BigCopyAcked: a
	// retransmission at least LossLen long was acknowledged, no smaller
	// copy sent since.
	WireBefore, WireFill int
	BigCopyAcked         bool

	// AckAdvance is when this side last received new data in order (its
	// cumulative ACK moved); zero if never seen moving.
	AckAdvance      time.Time
	AckAdvanceFrame int
	AckAdvanceInput int
	// Stall is the first data this side sent after that: still waiting
	// for an answer when the capture or the connection ended.
	Stall SegRef
	// Last are the latest first transmissions with payload, oldest first.
	Last []SegRef

	FIN, RST SegRef // first of each this side sent
	// FINAcked is the peer's ACK of one sequence number past this side's
	// data when the capture holds no FIN of this side's: the FIN's, so
	// the side closed and the capture lacks its FIN (a filter that kept
	// only data, a capture drop). Zero otherwise. Only Frame, Input and
	// Time are set.
	FINAcked SegRef
	RSTTTL   int       // the first RST's TTL (hop limit)
	LastSeen time.Time // this side's latest segment
	Latest   SegRef    // ... and where it is

	// RetryFirst and RetryLast are the first and the last of this side's
	// retransmissions (data or FIN; spurious ones not counted) since its
	// peer last acknowledged new data, Retries how many: unanswered to
	// the end of the capture when set.
	RetryFirst, RetryLast SegRef
	Retries               int
	// Unacked is the first transmission of the oldest data the peer had
	// not acknowledged by the end (after a partial ACK, that ACK: the
	// rest waited at least since then).
	Unacked SegRef
	// StallAcked is the peer's first segment whose ACK covered Stall:
	// the data arrived, whether or not anything answered it.
	StallAcked SegRef
	// RSTIPIDJump: the side numbers its IPv4 IDs with a counter and its
	// first RST's ID is not the next one.
	RSTIPIDJump bool

	// The handshake as this side sent it: SYNs counts its SYN segments
	// (the client's SYNs, the server's SYN-ACKs), first and latest;
	// Plain says it sent a segment without SYN or RST (the ACK that
	// completes the handshake, data, a FIN).
	SYNs              int
	FirstSYN, LastSYN SegRef
	Plain             bool
	// SYN is this side's first SYN without ACK (the client's opening
	// SYN), SYNTTL its TTL; PlainACK says the side sent an ACK without
	// SYN or RST: it took part in a connection (a prober never does).
	SYN      SegRef
	SYNAck   SegRef // the side's first SYN-ACK
	SYNTTL   int
	PlainACK bool
	// ICMP is the first ICMP error that quoted this side's SYN, and
	// ICMPError the error itself (its sender, kind); ICMP is zero
	// without one.
	ICMP      SegRef
	ICMPError decode.ICMPError
	// Rejected counts the ICMP errors that quoted this side's other
	// segments (a firewall's reject, no route): RejectedFirst and
	// RejectedLast are the first and last of them, RejectedFrom the
	// first's sender, RejectedType and RejectedCode its type and code.
	Rejected                    int
	RejectedFirst, RejectedLast SegRef
	RejectedFrom                netip.Addr
	RejectedType, RejectedCode  uint8
	RejectedV6                  bool // an ICMPv6 error
}

// HostTTL is what a capture's other connections show of one host's TTL
// at the capture point: a packet that claims to be from the host with
// another TTL was sent by a device in between. A connection refused at
// once has no packet of the server's own to compare its RST with, so the
// Report's other connections to the same server address (from the same
// client subnet: the same path) are the comparison.
type HostTTL struct {
	TTL   int  // the TTL the host's packets carry; 0: no other connection showed one
	Conns int  // the other connections that showed it
	Mixed bool // they disagree: the TTL tells nothing
}

// SegRef is one segment the judgement may cite.
type SegRef struct {
	Frame int
	Input int
	Time  time.Time
	Seq   uint32 // relative, as Event.Seq
	Len   int
}

func (m SegRef) ok() bool { return m.Frame != 0 }

// Facts is what the judgement reads about a connection beyond its
// Connection: the tracker's extra state, mapped to client and server.
type Facts struct {
	Dir [2]DirFacts // by Direction

	// Handshake timing: SYN to SYN-ACK and SYN-ACK to ACK, as the capture
	// saw them; zero when not seen.
	SYNToSYNAck, SYNAckToACK time.Duration
	// RSTGap is the silence before the first RST; negative without one.
	RSTGap time.Duration
	// Quality is what the connection says of the capture (quality.go).
	Quality Quality

	// ServerHost is the server's TTL on the Report's other connections
	// to the same server address and client subnet (set by JudgeReport;
	// zero when judged alone).
	ServerHost HostTTL
}

// Facts maps the tracker's verdict state to client and server.
func (tr *Tracker) Facts(client int, tc *tcp.Conn) *Facts {
	f := new(Facts)
	tr.FactsInto(f, client, tc)
	return f
}

// FactsInto is Facts written over f, whose slices' arrays it reuses:
// a caller that takes a million connections' facts one after the other
// (the half-open ones, package analyze) allocates them once. Clone gives
// a copy of them to keep.
func (tr *Tracker) FactsInto(f *Facts, client int, tc *tcp.Conn) {
	ct := &tr.conn
	// Every field is set, none cleared first: clearing the 2.5 KB and
	// then setting most of it again was an eighth of this (and building
	// a composite aside and copying it, more). TestFactsIntoOverwrites
	// holds it to facts made in zeroed memory, field by field.
	f.Quality = tr.qualityFacts(client, f.Quality.Inputs[:0])
	f.ServerHost = HostTTL{}
	f.RSTGap = -1
	if ct.rstSeen {
		f.RSTGap = time.Duration(ct.rstGap)
	}
	f.SYNToSYNAck, f.SYNAckToACK = 0, 0
	if client != 0 && client != 1 {
		// No side is the client: both are written as the server's
		// below, and the client's direction is left as none.
		f.Dir[model.ClientToServer] = DirFacts{}
	}
	if ct.synNS != 0 && ct.synAckNS != 0 && ct.hsAckNS != 0 {
		f.SYNToSYNAck = time.Duration(ct.synAckNS - ct.synNS)
		f.SYNAckToACK = time.Duration(ct.hsAckNS - ct.synAckNS)
	}
	for side := 0; side < 2; side++ {
		d := model.ServerToClient
		if side == client {
			d = model.ClientToServer
		}
		fl := tc.Flow(side)
		t := &tr.dir[side]
		m := func(s segMark) SegRef {
			if !s.set() {
				return SegRef{}
			}
			return SegRef{Frame: s.frame(), Input: s.input(), Time: time.Unix(0, s.ns).UTC(), Seq: fl.BaseSeq().Size(s.seq), Len: int(s.len)}
		}
		df := &f.Dir[d]
		df.TTL = 0
		if t.ttlSet {
			df.TTL = int(t.ttl)
		}
		df.DataSegs, df.MaxLen = int(t.dataSegs), int(t.maxLen)
		df.LossLen, df.BigAfter, df.SmallAfter = 0, 0, 0
		if t.lossStarted {
			df.LossLen, df.BigAfter, df.SmallAfter = int(t.lossLen), int(t.bigAfter), int(t.smallAfter)
		}
		df.WireBefore, df.WireFill, df.BigCopyAcked = int(t.wireBefore), int(t.wireFill), t.bigRetry == retryAcked
		df.AckAdvance, df.AckAdvanceFrame, df.AckAdvanceInput = time.Time{}, 0, 0
		if t.ackAdv.set() {
			df.AckAdvance, df.AckAdvanceFrame, df.AckAdvanceInput = time.Unix(0, t.ackAdvNS).UTC(), t.ackAdv.frame(), t.ackAdv.input()
		}
		df.Stall = m(t.stall)
		df.Last = df.Last[:0]
		for _, s := range t.last {
			if s.set() {
				df.Last = append(df.Last, m(s))
			}
		}
		if len(df.Last) == 0 {
			df.Last = nil // as Facts has it: none appended
		}
		df.FIN, df.RST = m(t.fin), m(t.rst)
		df.FINAcked = SegRef{}
		// plain: a segment past the handshake was seen from the side, so
		// its highest sequence number is past its SYN's (which the
		// SYN-ACK acknowledges one past, as it would a FIN).
		if p := &tr.dir[1-side]; !t.fin.set() && !t.rst.set() && t.plain && t.seenEndSet && p.maxAckSet && p.maxAck == t.seenEnd.Add(1) && p.ackAdv.set() {
			df.FINAcked = SegRef{Frame: p.ackAdv.frame(), Input: p.ackAdv.input(), Time: time.Unix(0, p.ackAdvNS).UTC()}
		}
		df.RSTTTL = 0
		if t.rst.set() {
			df.RSTTTL = int(t.rstTTL)
		}
		df.RSTIPIDJump = t.rstIPIDJump
		df.Latest = m(t.lastSeg)
		df.RetryFirst, df.RetryLast, df.Retries = m(t.retryFirst), m(t.retryLast), t.retries
		df.Unacked = m(t.unacked)
		df.StallAcked = m(t.stallAcked)
		df.SYNs, df.FirstSYN, df.LastSYN, df.Plain = t.syns, m(t.firstSYN), m(t.lastSYN), t.plain
		df.SYN, df.SYNAck, df.SYNTTL, df.PlainACK = m(t.syn), m(t.synAck), int(t.synTTL), t.plainACK
		df.ICMP, df.ICMPError = SegRef{}, decode.ICMPError{}
		if t.icmp.set() {
			df.ICMP = SegRef{Frame: t.icmp.frame(), Input: t.icmp.input(), Time: time.Unix(0, t.icmp.ns).UTC()}
			df.ICMPError = *t.icmpErr
		}
		df.Rejected, df.RejectedFirst, df.RejectedLast = 0, SegRef{}, SegRef{}
		df.RejectedFrom, df.RejectedType, df.RejectedCode, df.RejectedV6 = netip.Addr{}, 0, 0, false
		if r := t.rejected; r != nil {
			df.Rejected, df.RejectedFirst, df.RejectedLast = r.n, m(r.first), m(r.last)
			df.RejectedFrom, df.RejectedType, df.RejectedCode, df.RejectedV6 = r.from, r.typ, r.code, r.v6
		}
		df.LastSeen = time.Time{}
		if t.lastNS != 0 {
			df.LastSeen = time.Unix(0, t.lastNS).UTC()
		}
	}
}

// Clone is a copy of f that shares nothing with it.
func (f *Facts) Clone() *Facts {
	g := *f
	for d := range g.Dir {
		g.Dir[d].Last = slices.Clone(f.Dir[d].Last)
	}
	g.Quality.Inputs = slices.Clone(f.Quality.Inputs)
	return &g
}

// Marks says what the judgement will want to know of the segment side
// just sent (the one Segment took last): it filled a gap the capture never
// saw (unseen); the peer, heard from since, still had not acknowledged it
// (peerMissing); it is a SYN sent again after a SYN-ACK answered it
// (answered); its IPv4 ID is older than one its side sent before it
// (late: the side numbers its packets, so this one was sent before
// packets the capture saw first, and is no retransmission).
func (tr *Tracker) Marks(side int) (unseen, peerMissing, answered, late bool) {
	t := &tr.dir[side]
	return t.markUnseen, t.markPeerMissing, t.markAnswered, t.markLate
}

// ipv4 takes the IPv4 ID of the side's packet seen at ns (an RST's if
// rst): whether the side numbers its packets with a counter, its RST's
// jump off it, and whether the packet is late.
func (t *dirTrack) ipv4(id uint16, rst bool, ns int64) {
	step := id - t.lastIPID
	switch {
	case rst:
		// An ID of 0 says nothing: Linux sends its own RSTs for
		// closed sockets with ID 0, and so do nftables' rejects.
		if !t.rst.set() && t.ipidRun >= minIPIDRun && id != 0 && step > maxIPIDStep {
			t.rstIPIDJump = true
		}
		return
	case t.ipidSet && step > 0 && step <= maxIPIDStep:
		t.ipidRun = min(t.ipidRun+1, minIPIDRun)
		if t.ipidRun >= minIPIDRun && t.prevLen > 0 {
			// The previous segment's packets: those its sender
			// numbered before this one.
			wire := (t.prevLen + int32(step) - 1) / int32(step)
			switch t.prevKind {
			case prevBefore:
				t.wireBefore = max(t.wireBefore, wire)
			case prevFill:
				t.wireFill = max(t.wireFill, wire)
			}
		}
	default:
		t.ipidRun = 0
	}
	t.lastIPID, t.ipidSet = id, true
	t.late(id, ns)
}

// What the previous segment of a side was, for its packets' size
// (dirTrack.wireBefore).
const (
	prevOther  = iota
	prevBefore // data sent for the first time before the first loss
	prevFill   // a copy that filled a gap after it
)

// The states of dirTrack.bigRetry.
const (
	retryPending = 1 + iota
	retryAcked
)

// late sets markLate for a packet of the side with IPv4 ID id (not an
// RST), seen at ns, and keeps the newest ID. A host that numbers a
// connection's packets with a counter (Linux, Windows) gives a
// retransmission a new number; an ID behind the newest by less than
// lateIPIDWindow, within lateIPIDWithin of it, is a packet sent before
// ones already seen: delayed, reordered on the way (or in the capture),
// not sent again. An ID further behind, or later, is the counter started
// again (a server's after a long silence: a FIN retransmitted from an ID
// 3,758 below the one before it, 30 s before, in a public capture): the
// newest from then on. The newest ID again, within lateIPIDWithin, is
// the newest packet again: a copy the network or the capture made (one
// that came more than the copy check's 5 ms later; a public capture's
// packets each came twice, and again 50 ms later), not sent again. An ID
// of 0 says nothing.
func (t *dirTrack) late(id uint16, ns int64) {
	if t.ipidRun >= minIPIDRun {
		t.counter = true
	}
	if id == 0 {
		return
	}
	back := t.maxIPID - id
	switch {
	case !t.maxIPIDSet || back > 0x8000: // the first, or newer (the counter wraps)
	case back == 0:
		t.markLate = t.counter && ns-t.maxIPIDNS <= int64(lateIPIDWithin)
		return
	case back < lateIPIDWindow && ns-t.maxIPIDNS <= int64(lateIPIDWithin):
		t.markLate = t.counter
		return
	}
	t.maxIPID, t.maxIPIDNS, t.maxIPIDSet = id, ns, true
}

// What the live notices read while the capture runs (package
// analyze/notice), so that a finding printed as it happens and the
// verdict agree.

// Unconnected says whether the connection has not got past its TCP
// handshake: a client's SYN was seen, and neither side has sent anything
// but SYNs, SYN-ACKs and RSTs.
func (tr *Tracker) Unconnected() bool {
	return tr.conn.synNS != 0 && !tr.dir[0].plain && !tr.dir[1].plain
}

// GaveUpConnecting says whether side's RST, with the connection
// unconnected, answered the peer's SYN-ACK while side is the one that
// sent the SYN: its socket was gone (a dial that timed out closes in
// SYN-SENT without a packet), and its kernel rejected a SYN-ACK that
// came too late. With the time of the first SYN, Unix ns.
func (tr *Tracker) GaveUpConnecting(side int) (firstSYN int64, ok bool) {
	t, p := &tr.dir[side], &tr.dir[1-side]
	if !tr.Unconnected() || side != tr.conn.synSide || t.syns == 0 || p.syns == 0 || !t.rst.set() {
		return 0, false
	}
	// As the verdict's lateRST: a client that had waited synRTO; an RST
	// at once to a prompt SYN-ACK is a probe's or a scan's.
	if p.lastSYN.ns-t.firstSYN.ns < int64(synRTO) {
		return 0, false
	}
	return t.firstSYN.ns, true
}

// FINSent says whether side sent a FIN.
func (tr *Tracker) FINSent(side int) bool { return tr.dir[side].fin.set() }

// FirstClose says whether the segment at frame of input was the
// connection's first FIN or RST, and side sent it.
func (tr *Tracker) FirstClose(side, frame, input int) bool {
	t, p := &tr.dir[side], &tr.dir[1-side]
	if p.fin.set() || p.rst.set() {
		return false
	}
	first := func(m segMark) bool { return m.set() && m.frame() == frame && m.input() == input }
	return first(t.fin) && !t.rst.set() || first(t.rst) && !t.fin.set() || first(t.fin) && first(t.rst)
}

// TTL is side's usual TTL: that of its first segment without RST.
func (tr *Tracker) TTL(side int) (ttl uint8, ok bool) { return tr.dir[side].ttl, tr.dir[side].ttlSet }

// RSTIPIDJump says whether side numbers its IPv4 IDs with a counter and
// its first RST's ID broke the run.
func (tr *Tracker) RSTIPIDJump(side int) bool { return tr.dir[side].rstIPIDJump }

// RSTGap is the silence before the connection's first RST.
func (tr *Tracker) RSTGap() time.Duration { return time.Duration(tr.conn.rstGap) }

// AckAdvance is when side last received new data in order (Unix ns);
// false if its ACK was never seen moving.
func (tr *Tracker) AckAdvance(side int) (ns int64, ok bool) {
	return tr.dir[side].ackAdvNS, tr.dir[side].ackAdv.set()
}

// Stall is when side sent its first data after its ACK last moved, still
// unanswered (Unix ns); false if there is none.
func (tr *Tracker) Stall(side int) (ns int64, ok bool) {
	return tr.dir[side].stall.ns, tr.dir[side].stall.set()
}

// LastSent is side's latest first transmission with payload.
func (tr *Tracker) LastSent(side int) (frame, input int, ok bool) {
	m := tr.dir[side].last[len(tr.dir[side].last)-1]
	return m.frame(), m.input(), m.set()
}

// TrackerMem is what of a Tracker's memory Reuse gives the next
// connection tracked in its place.
type TrackerMem struct{ inputs []inputQual }

// Mem returns tr's memory for Reuse, before tr is cleared (see
// tcp.Conn.Mem).
func (tr *Tracker) Mem() TrackerMem {
	if cap(tr.inputs) > maxKeptInputs {
		return TrackerMem{}
	}
	return TrackerMem{inputs: tr.inputs[:0]}
}

// maxKeptInputs bounds the per-input records Mem keeps.
const maxKeptInputs = 16

// Reuse gives the zero tr the memory m of the Tracker before it.
func (tr *Tracker) Reuse(m TrackerMem) { tr.inputs = m.inputs }
