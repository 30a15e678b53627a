package tcp

import (
	"math"
	"time"

	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
)

// Wireshark's window scale sentinels (tcp_flow_t.win_scale).
const (
	wscaleUnknown  = -1 // no SYN seen: the window-full check is skipped
	wscaleDisabled = -2 // scaling not negotiated: windows are taken as is
)

// dupAckUnseen is the dup-ACK count after an ACKed-unseen report. The C
// code stores -1 in a guint32, so it also passes the "at least 2 dup ACKs"
// test of a fast retransmission; tshark shows that, and so must we.
const dupAckUnseen = math.MaxUint32

const (
	// fastRetransWindow is how soon after the last duplicate ACK a
	// retransmission counts as fast (20 ms in tcp_analyze_sequence_number).
	fastRetransWindow = 20 * time.Millisecond
	// defaultOOOThreshold is the out-of-order threshold while the iRTT is
	// unknown (3 ms in tcp_analyze_sequence_number).
	defaultOOOThreshold = 3 * time.Millisecond
)

// Flow is one direction of a connection: the segments one side sends.
// The first block mirrors Wireshark's tcp_flow_t and
// tcp_analyze_seq_flow_info_t, with their conventions kept on purpose (a
// nextSeq or lastAck of 0 means "not known yet", as the C code tests them
// for truth), because agreeing with tshark on odd captures depends on them.
type Flow struct {
	base            seqBase // tcp.seq is Seq-base.seq
	nextSeq         Seq     // highest seq+len seen (+1 for SYN/FIN); 0: unknown
	nextSeqNS       int64
	lastAck         Seq
	lastAckNS       int64 // time of this side's last segment
	window          uint32
	maxSeqToBeAcked Seq
	dupAckNum       uint32 // dupAckUnseen: an ACKed-unseen was reported, no dup ACK since
	lastFlags       Flags
	winScale        int
	isFirstAck      bool // a SYN was sent and no ACK since: the window is unscaled
	unacked         unackedSet

	// Handshake options from this side's SYN or SYN-ACK.
	sentSYN    bool // pure SYN
	sentSYNAck bool
	mss        int
	wscaleOpt  int
	sackPerm   bool

	start      Seq // first byte of the stream (ISN+1), once a SYN was seen
	startKnown bool

	stats model.DirStats
}

func (d *Flow) init() {
	// init_tcp_conversation_data: the window starts at G_MAXUINT32 so the
	// first segment is never a duplicate ACK; the scale is unknown until a
	// SYN says otherwise (packet.c sets src/dst_win_scale to -1).
	d.window = math.MaxUint32
	d.winScale = wscaleUnknown
	d.wscaleOpt = -1
}

// BaseSeq is the sequence number tshark's relative tcp.seq counts from:
// the ISN with a SYN, else one before the first byte seen.
func (d *Flow) BaseSeq() Seq { return d.base.seq }

// Relative returns seq as tshark's relative tcp.seq.
func (d *Flow) Relative(seq uint32) uint32 { return uint32(Seq(seq) - d.base.seq) }

// NextSeqNS is when the highest sequence number sent last moved (Unix ns).
func (d *Flow) NextSeqNS() int64 { return d.nextSeqNS }

// LastAck is the ack field of this side's latest segment; 0: unknown.
func (d *Flow) LastAck() Seq { return d.lastAck }

// LastAckNS is the time of this side's latest segment (Unix ns).
func (d *Flow) LastAckNS() int64 { return d.lastAckNS }

// SentSYN and SentSYNAck say whether this side sent a pure SYN or a SYN-ACK.
func (d *Flow) SentSYN() bool    { return d.sentSYN }
func (d *Flow) SentSYNAck() bool { return d.sentSYNAck }

// MSS, WScaleOption and SACKPermitted are what this side's SYN or SYN-ACK
// offered (WScaleOption -1: none).
func (d *Flow) MSS() int            { return d.mss }
func (d *Flow) WScaleOption() int   { return d.wscaleOpt }
func (d *Flow) SACKPermitted() bool { return d.sackPerm }

// Start is the stream's first byte (ISN+1), known once a SYN was seen.
func (d *Flow) Start() (Seq, bool) { return d.start, d.startKnown }

// Stats returns a copy of the direction's counters.
func (d *Flow) Stats() model.DirStats { return d.stats.Clone() }

// Conn is one TCP connection's tracker: the state of Wireshark's struct
// tcp_analysis for one conversation, and a Flow per side. Sides are 0 and
// 1 as the caller numbers them; the caller says which side sent each
// segment.
type Conn struct {
	flow [2]Flow

	mruSYNNS   int64 // ts_mru_syn: time of the latest pure SYN; 0: none
	firstRTTNS int64 // ts_first_rtt, the iRTT; 0: not known

	synSide    int // side that sent the first pure SYN, or -1
	synAckSide int // side that sent the first SYN-ACK, or -1
}

// Init readies c for a new conversation.
func (c *Conn) Init() {
	*c = Conn{} // a zero composite is cleared in place, not copied from a temporary
	c.synSide, c.synAckSide = -1, -1
	c.flow[0].init()
	c.flow[1].init()
}

// Flow returns side's direction.
func (c *Conn) Flow(side int) *Flow { return &c.flow[side] }

// SYNSide and SYNAckSide are the sides that sent the first pure SYN and the
// first SYN-ACK, or -1.
func (c *Conn) SYNSide() int    { return c.synSide }
func (c *Conn) SYNAckSide() int { return c.synAckSide }

// IRTT is the handshake's round trip (tcp.analysis.initial_rtt): from the
// latest SYN to the first ACK without SYN; 0 while unknown.
func (c *Conn) IRTT() time.Duration { return time.Duration(c.firstRTTNS) }

// SYN takes a pure SYN from side on a connection already tracked, before
// Segment. dissect_tcp: a SYN whose ISN differs from the base sequence
// number already known for its direction starts a new conversation,
// whatever state the old one is in (no FIN or RST needed): SYN reports
// true and the caller starts a new Conn. The same ISN is a retransmitted
// SYN: nextseq goes back to the last contiguous byte (issue 17616, an RST
// may have moved it).
func (c *Conn) SYN(side int, seq uint32) (newConversation bool) {
	fwd := &c.flow[side]
	if !fwd.base.set {
		return false
	}
	if Seq(seq) != fwd.base.seq {
		return true
	}
	fwd.nextSeq = fwd.maxSeqToBeAcked
	return false
}

// Forget drops what only the flags of later segments need (the unacked
// lists): the conversation can no longer be found.
func (c *Conn) Forget() {
	c.flow[0].unacked, c.flow[1].unacked = unackedSet{}, unackedSet{}
}

// Segment takes one segment side sent, in capture order, and returns its
// analysis flags; it also counts the segment in the side's Stats. It
// follows dissect_tcp's order of work: base sequence numbers, then
// tcp_analyze_sequence_number, then the SYN/ACK bookkeeping (iRTT,
// is_first_ack), then the options (window scale), so that each rule sees
// the state Wireshark's would.
func (c *Conn) Segment(side int, s *decode.Segment) Flags {
	fwd, rev := &c.flow[side], &c.flow[1-side]
	now := s.Time.UnixNano()

	syn := s.Flags.Has(decode.FlagSYN)
	ack := s.Flags.Has(decode.FlagACK)

	moveBases(&fwd.base, &rev.base, s)

	f := c.analyze(fwd, rev, s, now)

	// After the analysis, as in dissect_tcp: a pure SYN restarts the iRTT
	// clock; the first segment with ACK and without SYN ends it.
	if syn {
		if ack {
			if c.synAckSide < 0 {
				c.synAckSide = side
			}
			if !fwd.sentSYNAck {
				fwd.sentSYNAck = true
				fwd.handshakeOptions(s)
			}
		} else {
			if c.synSide < 0 {
				c.synSide = side
			}
			if !fwd.sentSYN {
				fwd.sentSYN = true
				fwd.handshakeOptions(s)
			}
			c.mruSYNNS = now
		}
		fwd.isFirstAck = true
	}
	if ack && !syn {
		if c.mruSYNNS != 0 && c.firstRTTNS == 0 {
			c.firstRTTNS = now - c.mruSYNNS
		}
		fwd.isFirstAck = false
	}

	// Options are dissected after the analysis. Wireshark stores a window
	// scale option from any segment, clamped to 14 (RFC 1323), and then on
	// a SYN checks that both sides offered it (verify_tcp_window_scaling).
	if ws := int(s.Options.WindowScale); ws >= 0 {
		fwd.winScale = min(ws, 14)
	}
	if syn {
		if fwd.winScale == wscaleUnknown {
			fwd.winScale, rev.winScale = wscaleDisabled, wscaleDisabled
		} else if ack && rev.winScale == wscaleDisabled {
			fwd.winScale = wscaleDisabled
		}
		if !fwd.startKnown {
			fwd.start, fwd.startKnown = Seq(s.Seq)+1, true
		}
	}
	fwd.count(s, f)
	return f
}

// handshakeOptions records what a SYN or SYN-ACK offered.
func (d *Flow) handshakeOptions(s *decode.Segment) {
	d.mss = int(s.Options.MSS)
	d.wscaleOpt = int(s.Options.WindowScale)
	d.sackPerm = s.Options.SACKPermitted
}

// count updates the counters for a classified segment.
func (d *Flow) count(s *decode.Segment, f Flags) {
	st := &d.stats
	st.Packets++
	st.Bytes += int64(s.PayloadLen)
	if m := s.Missing(); m > 0 {
		st.MissingBytes += m
	}
	st.SACKBlocks += len(s.Options.SACK)
	if ttl := int(s.TTL); !containsInt(st.TTL, ttl) {
		st.TTL = append(st.TTL, ttl)
	}
	f.count(st)
	if s.Flags.Has(decode.FlagRST) {
		st.Resets++
	}
	if s.Flags.Has(decode.FlagFIN) {
		st.Fins++
	}
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// SACKPermitted says whether SACK was negotiated: both handshake segments
// must offer it; with only one of them seen, that one's offer is all there
// is.
func SACKPermitted(cl, sv *Flow) bool {
	cs, ss := cl.sentSYN || cl.sentSYNAck, sv.sentSYN || sv.sentSYNAck
	switch {
	case cs && ss:
		return cl.sackPerm && sv.sackPerm
	case cs:
		return cl.sackPerm
	case ss:
		return sv.sackPerm
	}
	return false
}

// seqBase is one direction's base sequence number: tcp.seq counts from it.
type seqBase struct {
	seq Seq
	set bool // TCP_S_BASE_SEQ_SET
}

// moveBases is dissect_tcp's bookkeeping of the base sequence numbers,
// before the analysis of s, sent by the side whose base is fwd.
func moveBases(fwd, rev *seqBase, s *decode.Segment) {
	seq, ackNo := Seq(s.Seq), Seq(s.Ack)
	syn, ack := s.Flags.Has(decode.FlagSYN), s.Flags.Has(decode.FlagACK)
	// A SYN-ACK with a new ISN on a known conversation moves the base
	// (issue 16944 in dissect_tcp); it does not start a new stream.
	if syn && ack && fwd.set && seq != fwd.seq {
		fwd.seq = seq
	}
	// Base sequence numbers: the ISN from a SYN, else seq-1 so the first
	// byte seen is relative 1; the other side's from the first ACK.
	if !fwd.set {
		if syn {
			fwd.seq = seq
		} else {
			fwd.seq = seq - 1
		}
		fwd.set = true
	}
	if !rev.set && ack {
		rev.seq = ackNo - 1
		rev.set = true
	}
}

// Bases are a conversation's base sequence numbers per side, kept as a
// Conn keeps them, and no more: what decides whether a pure SYN starts a
// new conversation (Conn.SYN). A sharded analysis numbers tcp.streams in
// the goroutine that reads the capture, before the connection's own
// tracker (in another goroutine) has seen the segment: it keeps Bases
// beside each connection and gives them every segment the Conn gets.
type Bases [2]seqBase

// Segment takes a segment side sent, as Conn.Segment does.
func (b *Bases) Segment(side int, s *decode.Segment) { moveBases(&b[side], &b[1-side], s) }

// NewConversation says whether a pure SYN from side with seq starts a new
// conversation: Conn.SYN's answer, without its effect on the tracker.
func (b *Bases) NewConversation(side int, seq uint32) bool {
	return b[side].set && Seq(seq) != b[side].seq
}

// Bases returns c's base sequence numbers per side, for the answer of
// Conn.SYN once c itself is gone (an analysis that forgets closed
// connections keeps only these of each).
func (c *Conn) Bases() Bases { return Bases{c.flow[0].base, c.flow[1].base} }

// Swapped is b with its sides exchanged.
func (b Bases) Swapped() Bases { return Bases{b[1], b[0]} }

// Mem is what of a Conn's memory Reuse gives the next connection
// tracked in its place.
type Mem struct{ ends [2][]int64 }

// maxKeptEnds bounds the unacknowledged-segment heaps Mem keeps: a short
// connection's few, not a bulk transfer's window.
const maxKeptEnds = 64

// Mem returns c's memory for Reuse, before c is cleared: a scratch
// tracker replays one connection after another (a SYN scan's million),
// and each would allocate its sets again.
func (c *Conn) Mem() Mem {
	var m Mem
	for i := range m.ends {
		if e := c.flow[i].unacked.ends; cap(e) <= maxKeptEnds {
			m.ends[i] = e[:0]
		}
	}
	return m
}

// Reuse gives the freshly initialised c the memory m of the Conn before
// it.
func (c *Conn) Reuse(m Mem) {
	for i := range m.ends {
		c.flow[i].unacked.ends = m.ends[i]
	}
}
