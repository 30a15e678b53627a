package h2

import (
	"encoding/binary"
	"sort"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Options configure a Stream.
type Options struct {
	// Client is set for the client's direction, which starts with the
	// preface (or an h2c upgrade request); frames at its first byte mean
	// the capture began mid-connection. The preface and the upgrade
	// exchange are recognised on either side.
	Client bool
	// Sync says the first byte given is a frame header (the preface, if
	// any, was consumed elsewhere). Without it the Stream looks at the
	// first bytes (see Detect): the preface or an h2c upgrade exchange is
	// consumed, and anything else is searched for frame boundaries, as a
	// capture that begins mid-connection needs.
	Sync bool
	// MaxFrameSize is the peer's SETTINGS_MAX_FRAME_SIZE if known; 0 means
	// the initial 16384. See SetMaxFrameSize.
	MaxFrameSize uint32
	// Scratch, if not nil, is a Frame the Streams of one goroutine share
	// for their emissions: a Frame is valid only during its emit, so one
	// serves them all, and a Stream holds a pointer to it instead of its
	// own 224 bytes (an analysis of 20,000 open connections has 40,000
	// Streams). A Stream that emits while the Scratch is being emitted
	// (from inside another's emit) uses a Frame of its own.
	Scratch *Frame
	// Strings, if not nil, is the cache of decoded header strings the
	// Streams of one goroutine share.
	Strings *Strings
}

type state uint8

const (
	stStart   state = iota // looking at the first bytes (buffered)
	stHunt                 // searching for frame boundaries (buffered)
	stHeader               // in step, reading a frame header
	stPayload              // in step, reading a frame payload
)

const (
	// confirmHeaders plausible headers in a chain confirm a boundary.
	confirmHeaders = 3
	// maxHyps bounds the candidate chains followed at once while hunting.
	maxHyps = 1024
	// maxCarry bounds the bytes of one HPACK field kept across a frame
	// boundary of a header block.
	maxCarry = 64 << 10
)

// Stream decodes the HTTP/2 frames of one direction of one connection. Feed
// it the direction's payload in order with Data, tell it about missing bytes
// with Gap, and call End when the direction ends. It is not safe for
// concurrent use.
//
// Why not http2.Framer: the Framer reads whole frames from an io.Reader and
// rejects what a passive observer must get past: a CONTINUATION without its
// HEADERS (the capture began mid-block), frames larger than its limit (we
// missed the peer's SETTINGS), header blocks referring to a dynamic table it
// never saw. A rejection leaves it mid-stream with no way to step past the
// frame. It also buffers DATA payloads, and attributes nothing to segments.
// Frame headers are 9 bytes and the payloads of the control frames a few
// fields each, so the Stream parses them itself, with http2's types and
// constants, and only the payloads it needs are buffered.
type Stream struct {
	opts     Options
	st       state
	maxFrame uint32

	// pos is the stream offset of the next byte the parser (or the start
	// detection) looks at. In step and unbuffered it is also the offset of
	// the next byte Data delivers.
	pos int64

	// In-step parser.
	hdr       [frameHeaderLen]byte
	hn        int    // bytes of hdr filled
	cur       header // frame being read
	curOff    int64  // its header's offset
	first     Meta   // segment of its first byte
	remaining uint32 // payload bytes still to come
	buffering bool   // payload is copied into buf (a control frame)
	truncated bool   // a gap fell inside the payload
	buf       []byte
	frag      []byte // header block fragment of the frame being finished

	// Header block and HPACK state.
	hp     hpackState
	blk    blockState
	fields []hpack.HeaderField
	carry  []byte

	// Buffered bytes while detecting the start or hunting: hb holds the
	// bytes from stream offset hbOff, metas the segment each came from.
	hb        []byte
	hbOff     int64
	metas     []metaAt
	scan      int64 // next offset to try as a chain's first header
	hyps      []hyp // candidate chains, a min-heap on next
	huntStart int64 // where the current hunt began
	huntGap   int64 // bytes lost in gaps since
	cand      hyp   // the earliest confirmed chain, if hasCand
	hasCand   bool
	earlier   int // live chains that began before cand

	own  *Frame // the Frame emitted when Options.Scratch is nil or busy, made at the first such emit
	last Meta

	preface, upgrade bool
	// trusted: in step since the connection's start (see plausible).
	trusted bool
	stats   Stats
	// slowHunt: tests, to compare with the search that chainFromStart
	// shortens.
	slowHunt bool
}

// Stats are a Stream's counters.
type Stats struct {
	Frames  int64 // frames emitted
	Skipped int64 // bytes received but not part of any frame emitted: searched past while out of step
	Lost    int64 // bytes the capture did not have (Gap)
	Resyncs int   // times frame boundaries were found by search
	Desyncs int   // times an implausible frame header took the Stream out of step
}

type blockState struct {
	active  bool // a HEADERS or PUSH_PROMISE without END_HEADERS was seen
	stream  uint32
	broken  bool // the rest of the block cannot be decoded
	missing int  // fields that could not be decoded
}

type metaAt struct {
	off        int64
	m          Meta
	chunkStart bool // a Data call began here: frames often do
}

// hyp is a candidate chain of frame headers found while hunting.
type hyp struct {
	next     int64                 // offset where its next header should be
	n        int                   // plausible headers so far
	bounds   [confirmHeaders]int64 // their offsets
	segStart bool                  // the first one began a segment
}

// NewStream returns a Stream for one direction of a connection.
func NewStream(opts Options) *Stream {
	s := &Stream{}
	s.init(opts)
	return s
}

// maxKeptOnReset and maxKeptElemsOnReset bound what Reset keeps of a
// byte buffer and of another slice for the next connection: what a short
// connection's SETTINGS, header blocks and first segments take, not the
// 16 MiB a peer's SETTINGS_MAX_FRAME_SIZE may have grown a buffer to, nor
// a long hunt's 1024 chains.
const (
	maxKeptOnReset      = 4 << 10
	maxKeptElemsOnReset = 64
)

// Reset makes s a new Stream, as NewStream(opts) would return, keeping
// its buffers' arrays when they are small (maxKeptOnReset): an analysis
// of many short connections reuses one forgotten connection's Streams for
// the next instead of allocating and growing new ones. Frames emitted
// before are invalid from then on, as they already are after their emit.
func (s *Stream) Reset(opts Options) {
	buf, carry, hb := keptBytes(s.buf), keptBytes(s.carry), keptBytes(s.hb)
	fields, metas, hyps, ents := keptSlice(s.fields), keptSlice(s.metas), keptSlice(s.hyps), keptSlice(s.hp.ents)
	f := s.own
	*s = Stream{} // a zero composite is cleared in place, not copied from a temporary
	s.buf, s.carry, s.hb = buf, carry, hb
	s.fields, s.metas, s.hyps, s.hp.ents = fields, metas, hyps, ents
	if f != nil && cap(f.Settings) <= maxKeptElemsOnReset && cap(f.Fields) <= maxKeptElemsOnReset && cap(f.DebugData) <= maxKeptOnReset {
		f.reset()
		s.own = f
	}
	s.init(opts)
}

// Reopen readies s, Reset since it was last given anything (a pool's,
// Reset as it was put there), for a new direction with opts: what
// Reset(opts) would do, without clearing again what is clear (half the
// cost of taking a Stream for a short connection).
func (s *Stream) Reopen(opts Options) {
	s.init(opts)
}

// keptBytes is b emptied if Reset keeps it, else nil.
func keptBytes(b []byte) []byte {
	if cap(b) > maxKeptOnReset {
		return nil
	}
	return b[:0]
}

// keptSlice is s emptied and cleared (what its elements pointed to goes)
// if Reset keeps it, else nil.
func keptSlice[E any](s []E) []E {
	if cap(s) > maxKeptElemsOnReset {
		return nil
	}
	clear(s[:cap(s)])
	return s[:0]
}

// init sets what NewStream sets beside the zero Stream.
func (s *Stream) init(opts Options) {
	s.opts, s.maxFrame = opts, minMaxFrameSize
	s.hp.strs = opts.Strings
	s.SetMaxFrameSize(opts.MaxFrameSize)
	if opts.Sync {
		s.st = stHeader
		s.trusted = true
	}
}

// SetMaxFrameSize sets the largest frame the Stream expects: the
// SETTINGS_MAX_FRAME_SIZE the receiver of this direction (the peer)
// announced in the other direction. It bounds the payload buffer and what a
// plausible frame header is while searching. Values are clamped to
// [16384, 2^24-1]; it never shrinks, since a SETTINGS takes effect only when
// acknowledged and frames already sent under a larger limit may follow.
func (s *Stream) SetMaxFrameSize(n uint32) {
	n = max(min(n, maxMaxFrameSize), minMaxFrameSize)
	s.maxFrame = max(s.maxFrame, n)
}

// PeerSettings applies the settings the other direction announced (a
// SETTINGS frame from the peer), as SetMaxFrameSize does.
func (s *Stream) PeerSettings(settings []http2.Setting) {
	for _, st := range settings {
		if st.ID == http2.SettingMaxFrameSize {
			s.SetMaxFrameSize(st.Val)
		}
	}
}

// Skipped returns how many bytes were received but searched past while out
// of step, including those of a search still going on.
func (s *Stream) Skipped() int64 {
	n := s.stats.Skipped
	if s.st == stHunt {
		n += s.end() - s.huntStart - s.huntGap
	}
	return n
}

// Stats returns the Stream's counters; Skipped is as Skipped returns it.
func (s *Stream) Stats() Stats {
	st := s.stats
	st.Skipped = s.Skipped()
	return st
}

// Preface reports whether the client connection preface was seen.
func (s *Stream) Preface() bool { return s.preface }

// Upgrade reports whether an HTTP/1.1 h2c upgrade request or 101 response
// was seen.
func (s *Stream) Upgrade() bool { return s.upgrade }

// InSync reports whether the Stream knows where frames begin.
func (s *Stream) InSync() bool { return s.st == stHeader || s.st == stPayload }

// Offset returns the stream offset after the last byte received or lost.
func (s *Stream) Offset() int64 { return s.end() }

// Idle reports whether End would emit nothing and change nothing the
// Stream reports (Skipped, Preface, Upgrade): it is in step between
// frames, or searching without a candidate chain. A direction that has
// delivered its last byte and is idle can be dropped without its End.
func (s *Stream) Idle() bool {
	switch s.st {
	case stHeader:
		return true
	case stHunt:
		return !s.hasCand
	}
	return false
}

func (s *Stream) buffered() bool { return s.st == stStart || s.st == stHunt }

func (s *Stream) end() int64 {
	if s.buffered() {
		return s.hbOff + int64(len(s.hb))
	}
	return s.pos
}

// Data feeds the next in-order bytes of the direction, all from the segment
// meta describes, and calls emit for every frame they complete. The Frame
// passed to emit is valid only during the call.
func (s *Stream) Data(b []byte, meta Meta, emit func(*Frame)) {
	if len(b) == 0 {
		return
	}
	s.last = meta
	if !s.buffered() {
		// The common case: in step, parse straight from b.
		used, lost := s.parse(b, meta, emit)
		if !lost {
			return
		}
		// The header just read is not one: search from its first byte,
		// over it and the rest of b.
		s.hbOff = s.curOff
		s.hb = append(s.hb[:0], s.hdr[:]...)
		s.metas = append(s.metas[:0], metaAt{off: s.curOff, m: s.first})
		if rest := b[used:]; len(rest) > 0 {
			s.metas = append(s.metas, metaAt{off: s.curOff + frameHeaderLen, m: meta})
			s.hb = append(s.hb, rest...)
		}
		s.pos = s.curOff
		s.stats.Desyncs++
		s.startHunt(s.curOff)
	} else {
		s.metas = append(s.metas, metaAt{off: s.end(), m: meta, chunkStart: true})
		s.hb = append(s.hb, b...)
	}
	s.process(emit)
}

// Gap says n bytes of the direction were never captured, here. In step,
// the Stream stays in step when the gap ends inside the current frame or
// exactly at its end (the frame is emitted Truncated); otherwise it
// searches for frame boundaries after the gap. Frames a gap completes are
// attributed to the last segment given to Data.
func (s *Stream) Gap(n int, emit func(*Frame)) {
	if n <= 0 {
		return
	}
	s.stats.Lost += int64(n)
	if s.st == stStart {
		// The start was cut: search what we have, then apply the gap.
		s.startHunt(s.pos)
		s.process(emit)
	}
	if s.st == stHunt && s.hasCand {
		// Chains still to confirm across the gap would not be buffered.
		s.synced(s.cand)
		s.process(emit)
	}
	gap := int64(n)
	switch s.st {
	case stPayload:
		s.truncated = true
		s.buffering = false
		if r := int64(s.remaining); gap < r {
			s.remaining -= uint32(gap)
			s.pos += gap
			return
		} else {
			s.pos += r
			gap -= r
			s.remaining = 0
			s.finish(s.last, emit)
			if gap == 0 {
				return
			}
		}
		fallthrough
	case stHeader:
		// A frame header fell into the gap. Bytes of it we had are
		// skipped.
		s.stats.Skipped += int64(s.hn)
		s.pos += gap
		s.hb, s.metas, s.hbOff = s.hb[:0], s.metas[:0], s.pos
		s.startHunt(s.pos)
		s.huntGap = 0 // the gap is before the hunt's start
	case stHunt:
		s.huntGap += gap
		s.hbOff = s.end() + gap
		s.hb, s.metas = s.hb[:0], s.metas[:0]
		s.scan, s.pos = s.hbOff, s.hbOff
		// Chains whose next header is wholly after the gap live on.
		keep := s.hyps[:0]
		for _, h := range s.hyps {
			if h.next >= s.hbOff {
				keep = append(keep, h)
			}
		}
		s.hyps = keep
		heapInit(s.hyps)
	}
}

// End says the direction ended (FIN, RST, or the end of the capture). A
// search that has confirmed frame boundaries but was still waiting for an
// earlier candidate (see hunt) settles on what it has, and emits.
//
// A frame still being read is emitted Truncated: the last frames before a
// connection died matter most, and a capture may end inside one.
func (s *Stream) End(emit func(*Frame)) {
	if s.st == stPayload {
		s.truncated = true
		s.buffering = false
		s.finish(s.last, emit)
		return
	}
	if s.st == stStart {
		s.startHunt(s.pos)
		s.process(emit)
	}
	if s.st == stHunt && s.hasCand {
		s.synced(s.cand)
		s.process(emit)
	}
}

// process runs the buffered states over hb until they need more bytes, or
// the parser, in step, has used all of hb.
func (s *Stream) process(emit func(*Frame)) {
	for {
		switch s.st {
		case stStart:
			if !s.start() {
				return
			}
		case stHunt:
			if !s.hunt() {
				s.compact()
				return
			}
		default:
			// In step over what is still buffered.
			end := s.hbOff + int64(len(s.hb))
			if s.pos >= end {
				// In step: what a search grew its buffers to goes, the
				// small ones stay for the next (as Reset keeps them). A
				// long-lived connection captured mid-way searches once
				// over up to two frames of the largest size, then holds
				// its Streams for hours; a short connection's server
				// side searches from its first SETTINGS, in buffers
				// small enough to keep (dropping them too made 200,000
				// short connections 5% slower).
				s.hb, s.metas, s.hyps = keptBytes(s.hb), keptSlice(s.metas), keptSlice(s.hyps)
				s.hbOff = s.pos
				return
			}
			j := s.metaIndex(s.pos)
			limit := end
			if j+1 < len(s.metas) {
				limit = s.metas[j+1].off
			}
			if _, lost := s.parse(s.hb[s.pos-s.hbOff:limit-s.hbOff], s.metas[j].m, emit); lost {
				s.pos = s.curOff
				s.stats.Desyncs++
				s.startHunt(s.curOff)
			}
		}
	}
}

// start looks at the first bytes: it consumes the preface or an h2c
// upgrade exchange, and otherwise starts a search. It reports whether it
// decided.
func (s *Stream) start() bool {
	k, n := detect(s.hb[s.pos-s.hbOff:], s.maxFrame)
	switch k {
	case KindIncomplete:
		return false
	case KindPreface:
		s.preface, s.trusted = true, true
		s.pos += int64(n)
		s.st = stHeader
	case KindUpgrade:
		// The preface follows the request; stay in stStart.
		s.upgrade = true
		s.pos += int64(n)
		if s.pos == s.end() {
			return false
		}
	case KindSwitching:
		s.upgrade, s.trusted = true, true
		s.pos += int64(n)
		s.st = stHeader
	default:
		// Frames (a capture begun mid-connection), or not HTTP/2: the
		// search decides, with the same confirmation either way.
		s.startHunt(s.pos)
	}
	return true
}

func (s *Stream) startHunt(from int64) {
	s.st = stHunt
	s.trusted = false
	s.huntStart, s.scan, s.huntGap = from, from, 0
	s.hyps = s.hyps[:0]
	s.hasCand = false
	s.hn = 0
	s.buffering, s.truncated = false, false
	// Header blocks may have been lost, with the table insertions in them.
	s.hp.forget()
	s.blk.active = false
}

// metaIndex returns the index of the last metas entry at or before off.
func (s *Stream) metaIndex(off int64) int {
	j := sort.Search(len(s.metas), func(i int) bool { return s.metas[i].off > off })
	return max(j-1, 0)
}

// hunt searches hb for frame boundaries and reports whether it found them
// (then s.pos is the first frame's offset and the Stream is in step).
//
// Every offset is a candidate first header if the 9 bytes there are a
// plausible header of a type RFC 9113 defines (flags defined for the type,
// stream 0 or not as the type requires, the fixed lengths of PING,
// RST_STREAM, PRIORITY, WINDOW_UPDATE, SETTINGS a multiple of 6, no more
// than the maximum frame size, reserved bit clear). A candidate is followed
// to where its next header must be, which must be plausible too (unknown
// types allowed there: extensions exist), and so on. A chain is confirmed by
//
//   - confirmHeaders (3) plausible headers in a row: random bytes pass one
//     check with a probability well under 1e-3 (type, flags, stream rules,
//     a length field whose top byte is 0), so three in a row are very
//     unlikely by chance; or
//   - a chain whose last frame ends exactly where the received data ends,
//     if it has 2 headers, or 1 that began a segment. Senders write whole
//     frames, so segments usually end at frame boundaries, and an exact
//     24-bit length match is as unlikely by chance. This is what finds the
//     lone PING of an idle connection (the one that matters for "client
//     connection lost") without waiting for 3 frames that may never come.
//
// The trade-off is latency against false sync: a lower bar finds frames
// sooner but locks onto lookalike bytes inside a DATA payload more often. A
// false sync is not fatal: the next implausible header puts the Stream back
// to searching. The earliest confirmed chain wins; frames of a confirmed
// chain are emitted from its first header still buffered.
//
// Cost is linear: each offset is tested once (a few byte compares, most
// rejected on the type byte), and each chain step is a heap operation, with
// at most maxHyps chains followed at once.
func (s *Stream) hunt() bool {
	if s.scan == s.huntStart && len(s.hyps) == 0 && !s.hasCand && !s.slowHunt && s.chainFromStart() {
		return true
	}
	end := s.end()
	mi := s.metaIndex(s.scan)
	for i := s.scan; i+frameHeaderLen <= end; i++ {
		p := s.hb[i-s.hbOff:]
		landed := false
		for len(s.hyps) > 0 && s.hyps[0].next <= i {
			h := heapPop(&s.hyps)
			// Chains that meet here agree from here on: keep the one
			// that began first.
			for len(s.hyps) > 0 && s.hyps[0].next == h.next {
				o := heapPop(&s.hyps)
				if o.bounds[0] < h.bounds[0] {
					h, o = o, h
				}
				s.died(o)
			}
			if h.next < i {
				s.died(h)
				continue
			}
			fh := parseHeader(p)
			if !plausible(fh, s.maxFrame, chained) {
				s.died(h)
				continue
			}
			landed = true
			if h.n < confirmHeaders {
				h.bounds[h.n] = i
			}
			h.n++
			h.next = i + frameHeaderLen + int64(fh.Length)
			heapPush(&s.hyps, h)
			if h.n == confirmHeaders {
				s.confirmed(h)
			}
		}
		if s.hasCand && s.earlier == 0 {
			s.scan = i + 1
			s.synced(s.cand)
			return true
		}
		if landed || s.hasCand || len(s.hyps) >= maxHyps {
			// A chain already passes here, or one was confirmed and
			// only earlier ones matter.
			continue
		}
		fh := parseHeader(p)
		if !plausible(fh, s.maxFrame, first) {
			continue
		}
		for mi < len(s.metas) && s.metas[mi].off < i {
			mi++
		}
		h := hyp{next: i + frameHeaderLen + int64(fh.Length), n: 1}
		h.bounds[0] = i
		h.segStart = mi < len(s.metas) && s.metas[mi].off == i && s.metas[mi].chunkStart
		heapPush(&s.hyps, h)
	}
	s.scan = max(s.scan, end-frameHeaderLen+1)
	if len(s.hyps) > 0 && s.hyps[0].next <= end {
		for _, h := range s.hyps {
			if h.next == end && (h.n >= 2 || h.segStart) {
				s.confirmed(h)
			}
		}
	}
	if s.hasCand && (s.earlier == 0 || int64(len(s.hb)) >= 2*int64(s.maxFrame)+64) {
		// Waiting longer for an earlier chain would drop the confirmed
		// one's first frames from the buffer.
		s.synced(s.cand)
		return true
	}
	return false
}

// chainFromStart is the search's first step when the chain of headers
// from where it starts is confirmed in what is buffered: nothing can
// begin earlier, so the search would sync there, after testing every
// offset on the way and following the lookalike chains they start (on a
// server's side, whose first bytes are its SETTINGS, that was a tenth of
// an analysis of short connections). It syncs there as hunt would, with
// the same counts, and reports whether it did; else the search goes on
// as if it had not looked.
func (s *Stream) chainFromStart() bool {
	end := s.end()
	h := hyp{next: s.huntStart}
	for h.n < confirmHeaders && h.next+frameHeaderLen <= end {
		kind := chained
		if h.n == 0 {
			kind = first
		}
		fh := parseHeader(s.hb[h.next-s.hbOff:])
		if !plausible(fh, s.maxFrame, kind) {
			return false
		}
		h.bounds[h.n] = h.next
		h.n++
		h.next += frameHeaderLen + int64(fh.Length)
	}
	switch {
	case h.n == confirmHeaders:
		// hunt confirms it at its third header and syncs at once.
		s.scan = h.bounds[confirmHeaders-1] + 1
	case h.n > 0 && h.next == end:
		// hunt confirms it once it has looked at every offset, if it has
		// two headers or began a segment.
		if h.n < 2 {
			j := s.metaIndex(s.huntStart)
			if j >= len(s.metas) || s.metas[j].off != s.huntStart || !s.metas[j].chunkStart {
				return false
			}
		}
		s.scan = max(s.scan, end-frameHeaderLen+1)
	default:
		return false
	}
	s.synced(h)
	return true
}

// confirmed records that chain h passed. The earliest confirmed chain is
// the one to take, so a confirmed chain waits for live chains that began
// before it to fail or pass: a real frame sequence that begins with a large
// DATA frame is otherwise beaten by lookalike headers inside its payload.
func (s *Stream) confirmed(h hyp) {
	if s.hasCand && h.bounds[0] >= s.cand.bounds[0] {
		return
	}
	s.cand, s.hasCand, s.earlier = h, true, 0
	for _, o := range s.hyps {
		if o.bounds[0] < h.bounds[0] {
			s.earlier++
		}
	}
}

// died records that chain h failed.
func (s *Stream) died(h hyp) {
	if !s.hasCand {
		return
	}
	switch {
	case h.bounds[0] < s.cand.bounds[0]:
		s.earlier--
	case h.bounds[0] == s.cand.bounds[0]:
		// The confirmed chain itself failed later on.
		s.hasCand = false
	}
}

// synced puts the Stream in step at the first header of chain h still
// buffered.
func (s *Stream) synced(h hyp) {
	at := h.next
	for _, b := range h.bounds[:min(h.n, confirmHeaders)] {
		if b >= s.hbOff {
			at = b
			break
		}
	}
	s.stats.Skipped += at - s.huntStart - s.huntGap
	s.stats.Resyncs++
	s.hyps = s.hyps[:0]
	s.hasCand = false
	s.pos = at
	s.st = stHeader
	s.hn = 0
	// A server's direction whose first byte is a SETTINGS frame is seen
	// from its start (a mid-connection capture could begin at a SETTINGS,
	// but then also at a segment start: unlikely). A client's starts with
	// the preface.
	if at == 0 && s.hbOff == 0 && len(s.hb) >= frameHeaderLen && !s.opts.Client {
		h := parseHeader(s.hb)
		s.trusted = h.Type == http2.FrameSettings && !h.Flags.Has(http2.FlagSettingsAck)
	}
}

// compact drops buffered bytes a search can no longer use, keeping at most
// about two maximum-size frames: a chain's first frames are emitted only if
// they are still buffered when it is confirmed.
func (s *Stream) compact() {
	end := s.end()
	keep := s.scan
	if len(s.hyps) > 0 {
		keep = min(keep, end-int64(s.maxFrame)-64)
		if int64(len(s.hb)) < 2*int64(s.maxFrame)+64 {
			return
		}
	}
	if keep <= s.hbOff {
		return
	}
	s.hb = s.hb[:copy(s.hb, s.hb[keep-s.hbOff:])]
	j := s.metaIndex(keep)
	s.metas = s.metas[:copy(s.metas, s.metas[j:])]
	if len(s.metas) > 0 && s.metas[0].off < keep {
		s.metas[0].off = keep
		s.metas[0].chunkStart = false
	}
	s.hbOff = keep
}

// parse runs the in-step parser over b, all from the segment meta. It
// returns the bytes used; lost reports that the header just read (at
// s.curOff) is not plausible, and the rest of b was not looked at.
func (s *Stream) parse(b []byte, meta Meta, emit func(*Frame)) (used int, lost bool) {
	for used < len(b) {
		if s.st == stHeader {
			if s.hn == 0 {
				s.first, s.curOff = meta, s.pos
			}
			n := copy(s.hdr[s.hn:], b[used:])
			s.hn += n
			used += n
			s.pos += int64(n)
			if s.hn < frameHeaderLen {
				break
			}
			s.hn = 0
			h := parseHeader(s.hdr[:])
			strictness := inSync
			if s.trusted {
				strictness = trusted
			}
			if !plausible(h, s.maxFrame, strictness) {
				return used, true
			}
			s.begin(h)
			if h.Length == 0 {
				s.finish(meta, emit)
			}
			continue
		}
		n := len(b) - used
		if uint64(n) > uint64(s.remaining) {
			n = int(s.remaining)
		}
		if s.buffering {
			s.buf = append(s.buf, b[used:used+n]...)
		}
		used += n
		s.pos += int64(n)
		s.remaining -= uint32(n)
		if s.remaining == 0 {
			s.finish(meta, emit)
		}
	}
	return used, false
}

func (s *Stream) begin(h header) {
	s.cur = h
	s.remaining = h.Length
	s.truncated = false
	// DATA payloads are never buffered, nor those of unknown types, nor
	// oversize ones (trusted only).
	s.buffering = h.Type != http2.FrameData && h.Type <= lastKnownType && h.Length <= s.maxFrame
	s.buf = s.buf[:0]
	if s.buffering && cap(s.buf) < int(h.Length) {
		s.buf = make([]byte, 0, h.Length)
	}
	s.st = stPayload
}

// finish emits the frame just read, attributed to meta.
func (s *Stream) finish(meta Meta, emit func(*Frame)) {
	f := s.opts.Scratch
	if f == nil || f.busy {
		if s.own == nil {
			s.own = new(Frame)
		}
		f = s.own
	}
	f.reset()
	h := s.cur
	f.Type, f.Flags, f.StreamID, f.Length = h.Type, h.Flags, h.StreamID&^(1<<31), h.Length
	f.Offset, f.Meta, f.First = s.curOff, meta, s.first
	f.Truncated = s.truncated
	f.Oversize = h.Length > s.maxFrame
	s.frag = nil
	if s.buffering && !s.truncated {
		s.decodePayload(f, s.buf)
	}
	s.headerBlock(f)
	s.st = stHeader
	s.truncated, s.buffering = false, false
	s.stats.Frames++
	f.busy = true
	emit(f)
	f.busy = false
	s.buf = s.buf[:0]
}

// decodePayload fills f's content fields from p, its whole payload, and
// sets s.frag to a header block fragment.
func (s *Stream) decodePayload(f *Frame, p []byte) {
	switch f.Type {
	case http2.FrameHeaders:
		pad := 0
		if f.Flags.Has(http2.FlagHeadersPadded) {
			if len(p) < 1 {
				f.Malformed = true
				return
			}
			pad, p = int(p[0]), p[1:]
		}
		if f.Flags.Has(http2.FlagHeadersPriority) {
			if len(p) < 5 {
				f.Malformed = true
				return
			}
			f.Priority = parsePriority(p)
			p = p[5:]
		}
		if pad > len(p) {
			f.Malformed = true
			return
		}
		s.frag = p[:len(p)-pad]
	case http2.FramePriority:
		f.Priority = parsePriority(p)
	case http2.FrameRSTStream:
		f.ErrCode = http2.ErrCode(binary.BigEndian.Uint32(p))
	case http2.FrameSettings:
		for ; len(p) >= 6; p = p[6:] {
			f.Settings = append(f.Settings, http2.Setting{
				ID:  http2.SettingID(binary.BigEndian.Uint16(p)),
				Val: binary.BigEndian.Uint32(p[2:]),
			})
		}
	case http2.FramePushPromise:
		pad := 0
		if f.Flags.Has(http2.FlagPushPromisePadded) {
			pad, p = int(p[0]), p[1:]
		}
		if len(p) < 4 || pad > len(p)-4 {
			f.Malformed = true
			return
		}
		f.PromiseID = binary.BigEndian.Uint32(p) &^ (1 << 31)
		s.frag = p[4 : len(p)-pad]
	case http2.FramePing:
		copy(f.PingData[:], p)
	case http2.FrameGoAway:
		f.LastStreamID = binary.BigEndian.Uint32(p) &^ (1 << 31)
		f.ErrCode = http2.ErrCode(binary.BigEndian.Uint32(p[4:]))
		f.DebugData = p[8:]
	case http2.FrameWindowUpdate:
		f.Increment = binary.BigEndian.Uint32(p) &^ (1 << 31)
	case http2.FrameContinuation:
		s.frag = p
	}
}

func parsePriority(p []byte) http2.PriorityParam {
	v := binary.BigEndian.Uint32(p)
	return http2.PriorityParam{StreamDep: v &^ (1 << 31), Exclusive: v>>31 != 0, Weight: p[4]}
}

// headerBlock follows header blocks across HEADERS, PUSH_PROMISE and
// CONTINUATION frames, decoding fragments as they come, and sets Fields
// and Partial on the frame that ends a block.
func (s *Stream) headerBlock(f *Frame) {
	switch f.Type {
	case http2.FrameHeaders, http2.FramePushPromise:
		if s.blk.active {
			// The previous block never ended: its insertions are lost.
			s.hp.forget()
		}
		s.blk = blockState{active: true, stream: f.StreamID}
		s.fields, s.carry = s.fields[:0], s.carry[:0]
	case http2.FrameContinuation:
		if !s.blk.active || s.blk.stream != f.StreamID {
			// The block began before we were in step; the fragment may
			// begin mid-field, and the fields before it may have added
			// table entries.
			s.hp.forget()
			s.blk = blockState{active: true, stream: f.StreamID, broken: true}
			s.fields, s.carry = s.fields[:0], s.carry[:0]
		}
	default:
		if s.blk.active {
			s.hp.forget()
			s.blk.active = false
		}
		return
	}
	if f.Truncated || f.Malformed || f.Oversize {
		if !s.blk.broken {
			s.blk.broken = true
			s.hp.forget()
		}
	} else if !s.blk.broken {
		s.decodeFragment(s.frag)
	}
	// END_HEADERS is 0x4 for all three types.
	if f.Flags.Has(http2.FlagHeadersEndHeaders) {
		if !s.blk.broken && len(s.carry) > 0 {
			s.blk.missing++
			s.hp.forget()
		}
		f.Fields = s.fields
		f.Partial = s.blk.broken || s.blk.missing > 0
		s.blk.active = false
	}
}

func (s *Stream) decodeFragment(frag []byte) {
	p := frag
	if len(s.carry) > 0 {
		s.carry = append(s.carry, frag...)
		p = s.carry
	}
	used, missing, err := s.hp.decodeBlock(p, &s.fields)
	s.blk.missing += missing
	if rest := p[used:]; err != nil || len(rest) > maxCarry {
		s.blk.broken = true
		s.hp.forget()
		s.carry = s.carry[:0]
	} else {
		// rest may alias carry; append copies forward, which is safe.
		s.carry = append(s.carry[:0], rest...)
	}
}

// A min-heap of hyp on next, by hand: container/heap would box every push.

func heapPush(h *[]hyp, x hyp) {
	*h = append(*h, x)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if a[p].next <= a[i].next {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func heapPop(h *[]hyp) hyp {
	a := *h
	x := a[0]
	n := len(a) - 1
	a[0] = a[n]
	*h = a[:n]
	siftDown(a[:n], 0)
	return x
}

func siftDown(a []hyp, i int) {
	for {
		l := 2*i + 1
		if l >= len(a) {
			return
		}
		m := l
		if r := l + 1; r < len(a) && a[r].next < a[l].next {
			m = r
		}
		if a[i].next <= a[m].next {
			return
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
}

func heapInit(a []hyp) {
	for i := len(a)/2 - 1; i >= 0; i-- {
		siftDown(a, i)
	}
}
