package plot

import (
	"time"

	"github.com/h2pcap/h2pcap/analyze/tcp"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
)

// The caps on points kept per direction. A time-sequence graph is about
// 700 pixels wide: a thousand segments already put more than one in each
// column, and the ACK line and the SACK ranges need fewer. With 40 bytes
// a point a connection holds at most about 140 KB, and a JSON report
// lists about 1,800 points per direction at worst.
const (
	maxSegments = 1024
	maxAcks     = 512
	maxSACKs    = 256
)

// point is one kept point of a series, in the fewest bytes that keep it:
// the recorder lives beside every connection of a capture.
type point struct {
	ns    int64 // capture time, Unix ns
	a, b  int64 // segment: seq, len; ack: ack; SACK: lo, hi
	frame int32
	input int32
	idx   uint32 // the point's number among all those offered
	flags uint8
}

const (
	fImportant uint8 = 1 << iota // kept over the stride: a retransmission, SYN, FIN or RST
	fRetrans
	fSYN
	fFIN
	fRST
)

// series is a decimated list: it keeps one point in stride, and every
// important one; when full it doubles the stride and drops the points the
// new stride skips (and one important point in two while they alone fill
// half of it), so what is kept stays spread over the whole connection.
type series struct {
	pts    []point
	n      uint32 // points offered
	stride uint32
}

func (s *series) add(p point, max int) {
	p.idx = s.n
	s.n++
	if s.stride == 0 {
		s.stride = 1
	}
	if p.flags&fImportant == 0 && p.idx%s.stride != 0 {
		return
	}
	s.pts = append(s.pts, p)
	for len(s.pts) >= max {
		s.compact(max)
	}
}

func (s *series) compact(max int) {
	s.stride *= 2
	important := 0
	for _, p := range s.pts {
		if p.flags&fImportant != 0 {
			important++
		}
	}
	thin := important > max/2
	kept := s.pts[:0]
	seen := 0
	for _, p := range s.pts {
		if p.flags&fImportant != 0 {
			seen++
			if thin && seen%2 == 0 {
				continue
			}
			kept = append(kept, p)
		} else if p.idx%s.stride == 0 {
			kept = append(kept, p)
		}
	}
	s.pts = kept
}

// unwrap counts relative sequence numbers on past 4 GiB: a bulk transfer
// wraps, and a graph wants a line that keeps rising.
type unwrap struct {
	set  bool
	last int64
}

func (u *unwrap) at(rel uint32) int64 {
	if !u.set {
		u.set, u.last = true, int64(rel)
		return int64(rel)
	}
	// The value nearest the last one with these low 32 bits.
	v := u.last&^0xffffffff | int64(rel)
	switch {
	case v < u.last-1<<31:
		v += 1 << 32
	case v > u.last+1<<31 && v >= 1<<32:
		v -= 1 << 32
	}
	if v > u.last {
		u.last = v
	}
	return v
}

// dir is one sending side's points: its segments, and the peer's ACKs
// and SACK blocks of its data.
type dir struct {
	segs, acks, sacks series
	seq, ack          unwrap
	lastAck           int64
	lastAckSet        bool
	lastSACK          [2]int64 // the first block of the last SACK recorded
}

// Recorder is one connection's picture data, by the tracker's side
// numbers. The zero value is ready; a nil *Recorder records nothing, so
// the analysis calls it whether pictures were asked for or not.
type Recorder struct {
	dir     [2]dir
	goaways []point // b: the side that sent it
}

// Reset makes r a zero Recorder again, keeping the arrays of those of its
// lists that held at most keep points: trackers given to one short
// connection after another (package analyze's free list) then record
// each in the same memory, where a new Recorder's lists grew anew for
// every one (200k short connections: 273 MB allocated, a third of the
// analysis's). Plot copies what it gives, so nothing else holds them.
func (r *Recorder) Reset(keep int) {
	old := *r
	*r = Recorder{goaways: reuse(old.goaways, keep)}
	for i := range r.dir {
		d, o := &r.dir[i], &old.dir[i]
		d.segs.pts, d.acks.pts, d.sacks.pts = reuse(o.segs.pts, keep), reuse(o.acks.pts, keep), reuse(o.sacks.pts, keep)
	}
}

// reuse is pts emptied, or nil where its array is over keep points.
func reuse(pts []point, keep int) []point {
	if cap(pts) > keep {
		return nil
	}
	return pts[:0]
}

// Segment records one segment side sent, after the TCP tracker classified
// it (f); fwd and rev are the tracker's Flows of side and its peer.
func (r *Recorder) Segment(side int, s *decode.Segment, f tcp.Flags, fwd, rev *tcp.Flow) {
	if r == nil {
		return
	}
	now := s.Time.UnixNano()
	d := &r.dir[side]
	var flags uint8
	switch {
	case s.Flags.Has(decode.FlagRST):
		flags = fRST | fImportant
	case s.Flags.Has(decode.FlagSYN):
		flags = fSYN | fImportant
	case s.Flags.Has(decode.FlagFIN):
		flags = fFIN | fImportant
	}
	if f.Retransmission() {
		flags |= fRetrans | fImportant
	}
	if s.PayloadLen > 0 || flags != 0 {
		d.segs.add(point{ns: now, a: d.seq.at(fwd.Relative(s.Seq)), b: int64(s.PayloadLen),
			frame: int32(s.Frame), input: int32(s.Input), flags: flags}, maxSegments)
	}
	if !s.Flags.Has(decode.FlagACK) {
		return
	}
	// The ACK and SACK blocks are about the peer's data: its direction's
	// relative numbers.
	p := &r.dir[1-side]
	ack := p.ack.at(rev.Relative(s.Ack))
	if !p.lastAckSet || ack > p.lastAck {
		p.lastAck, p.lastAckSet = ack, true
		p.acks.add(point{ns: now, a: ack, frame: int32(s.Frame), input: int32(s.Input)}, maxAcks)
	}
	for i, b := range s.Options.SACK {
		lo, hi := p.ack.at(rev.Relative(b.Left)), p.ack.at(rev.Relative(b.Right))
		if i == 0 {
			if lo == p.lastSACK[0] && hi == p.lastSACK[1] {
				break // the same blocks again (a run of duplicate ACKs)
			}
			p.lastSACK = [2]int64{lo, hi}
		}
		p.sacks.add(point{ns: now, a: lo, b: hi, frame: int32(s.Frame), input: int32(s.Input)}, maxSACKs)
	}
}

// Goaway records a GOAWAY frame side sent, completed in segment m.
func (r *Recorder) Goaway(side int, m decode.Position) {
	if r == nil {
		return
	}
	r.goaways = append(r.goaways, point{ns: m.Time.UnixNano(), b: int64(side), frame: int32(m.Frame), input: int32(m.Input)})
}

// Plot returns the points with side client as the client, times counted
// from start (the connection's first packet). Nil for a nil Recorder.
func (r *Recorder) Plot(client int, start time.Time) *model.Plot {
	if r == nil {
		return nil
	}
	t0 := start.UnixNano()
	us := func(ns int64) int64 { return (ns - t0) / int64(time.Microsecond) }
	out := &model.Plot{
		ClientToServer: r.dir[client].report(us),
		ServerToClient: r.dir[1-client].report(us),
	}
	for _, g := range r.goaways {
		from := model.SideServer
		if int(g.b) == client {
			from = model.SideClient
		}
		out.Goaways = append(out.Goaways, model.PlotMark{TimeUs: us(g.ns), Frame: int(g.frame), Input: int(g.input), From: from})
	}
	return out
}

func (d *dir) report(us func(int64) int64) model.PlotDir {
	out := model.PlotDir{
		Segments:     make([]model.PlotSegment, len(d.segs.pts)),
		Acks:         make([]model.PlotAck, len(d.acks.pts)),
		SegmentsSeen: int(d.segs.n),
		Stride:       max(int(d.segs.stride), 1),
		AckStride:    max(int(d.acks.stride), 1),
	}
	for i, p := range d.segs.pts {
		seg := model.PlotSegment{TimeUs: us(p.ns), Seq: p.a, Len: int(p.b), Frame: int(p.frame), Input: int(p.input), Retrans: p.flags&fRetrans != 0}
		switch {
		case p.flags&fRST != 0:
			seg.Ctl = model.CtlRST
		case p.flags&fSYN != 0:
			seg.Ctl = model.CtlSYN
		case p.flags&fFIN != 0:
			seg.Ctl = model.CtlFIN
		}
		out.Segments[i] = seg
	}
	for i, p := range d.acks.pts {
		out.Acks[i] = model.PlotAck{TimeUs: us(p.ns), Ack: p.a, Frame: int(p.frame), Input: int(p.input)}
	}
	for _, p := range d.sacks.pts {
		out.SACKs = append(out.SACKs, model.PlotSACK{TimeUs: us(p.ns), Lo: p.a, Hi: p.b, Frame: int(p.frame), Input: int(p.input)})
	}
	if len(out.SACKs) > 0 {
		out.SACKStride = max(int(d.sacks.stride), 1)
	}
	return out
}
