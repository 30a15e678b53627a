package app

import (
	"fmt"
	"slices"
	"time"

	"github.com/h2pcap/h2pcap/model"
	"golang.org/x/net/http2"
)

// HTTP2 returns what the HTTP/2 analysis found on the connection, with
// client as the client's side; nil when it carries no HTTP/2. It ends the
// HTTP/2 decoding first (see h2finish).
//
// This is also the verdict's view of HTTP/2: besides the counts, the
// model holds each PING with its time, ACK and idle gap, each side's last
// frame (LastFrame: when a side last spoke), GOAWAYs with the streams they
// cut off, the inferred health-check settings and flow-control stalls.
func (st *State) HTTP2(client int) *model.HTTP2 {
	return st.HTTP2Into(nil, client)
}

// HTTP2Into is HTTP2 made in into, if not nil, whose maps and slices it
// clears and fills again rather than making new ones: a caller that
// judges a million connections one after the other and keeps none of
// their rows (package analyze's forgetting) makes them once. The result
// (into, nil, or for TLS whose HTTP/2 is only inferred a new one) is as
// HTTP2's; into is invalid once given again.
func (st *State) HTTP2Into(into *model.HTTP2, client int) *model.HTTP2 {
	return st.http2Into(into, client, true)
}

// HTTP2JudgeInto is HTTP2Into for a row made only to judge its connection
// alone and then dropped (package analyze's forgetting of healthy
// connections for a text report, which lists none of them). What that
// judging never reads is left empty: the frame counts, settings, skipped
// and gap bytes, truncated frames, last frames, flow-control stalls,
// RST_STREAMs, folded PINGs and the health-check inference, which the
// verdict's words, the other connections' steps and the report read.
// Its PINGs, GOAWAYs, streams, gRPC counts and how it was detected are
// HTTP2Into's. A TLS connection's frame counts tell a dial race's spare:
// its row is made with HTTP2Into. Building those maps was a third of
// judging each of 200k short connections. TestHTTP2JudgeView (package
// analyze) holds the verdicts judged from it to those from HTTP2Into.
func (st *State) HTTP2JudgeInto(into *model.HTTP2, client int) *model.HTTP2 {
	return st.http2Into(into, client, false)
}

// http2Into is HTTP2Into, leaving out what HTTP2JudgeInto leaves out
// unless full.
func (st *State) http2Into(into *model.HTTP2, client int, full bool) *model.HTTP2 {
	st.Finish()
	h := st.h
	if h == nil {
		return nil
	}
	cl, sv := &h.dir[client], &h.dir[1-client]
	preface := cl.preface() || sv.preface()
	found := h.mode != h2No && (h.forced || preface || cl.frames+cl.truncated+sv.frames+sv.truncated > 0)
	if !found && h.tls != nil && len(h.pings.list) > 0 {
		// TLS whose plaintext showed no HTTP/2: not decrypted, with keys
		// or without (a key log that lacks the connection's keys changes
		// nothing), or decrypted too late to find the frames (keys that
		// reached a live capture after the handshake): the PINGs inferred
		// from record sizes are what there is.
		return h.inferredHTTP2(client)
	}
	if !found {
		return nil // nothing found: not HTTP/2, or too little of it
	}
	dirOf := func(side int) model.Direction {
		if side == client {
			return model.ClientToServer
		}
		return model.ServerToClient
	}
	var old model.HTTP2             // into's maps and slices, for out's
	var oldFrames [2]map[string]int // by side: emptying old.Frames loses them
	var oldSettings [2]map[string]uint32
	var oldLast [2]*model.FrameRef
	if into != nil {
		old = *into
		for side := range h.dir {
			dir := dirOf(side)
			oldFrames[side], oldSettings[side], oldLast[side] = old.Frames[dir], old.Settings[dir], old.LastFrame[dir]
		}
	}
	frames, settings := reuseMap(old.Frames), reuseMap(old.Settings)
	out := into
	if out == nil {
		out = &model.HTTP2{}
	}
	*out = model.HTTP2{
		Frames:            frames,
		SkippedBytes:      reuseMap(old.SkippedBytes),
		GapBytes:          reuseMap(old.GapBytes),
		TruncatedFrames:   reuseMap(old.TruncatedFrames),
		LastFrame:         reuseMap(old.LastFrame),
		Settings:          settings,
		Pings:             h.pings.report(client, LatePingAfter(h.host.IRTT())),
		PingsDropped:      h.pings.dropped,
		Goaways:           reuseSlice(old.Goaways),
		RSTStreams:        reuseSlice(old.RSTStreams),
		RSTStreamsDropped: int(h.rstsDropped),
		GoawaysDropped:    int(h.goawaysDropped),
		Streams:           h.streams.reportInto(old.Streams, client),
		GRPC:              h.streams.grpcCounts(client),
		StreamsTotal:      h.streams.total,
		FlowStalls:        reuseSlice(old.FlowStalls),
	}
	if full {
		out.PingsFolded = h.pings.folded.report(client)
	}
	upgrade := false
	for side := range h.dir {
		d := &h.dir[side]
		upgrade = upgrade || d.upgrade()
		if !full {
			continue
		}
		dir := dirOf(side)
		counts := reuseMap(oldFrames[side])
		for ty, n := range d.counts {
			if n > 0 {
				counts[FrameTypeName(http2.FrameType(ty))] = n
			}
		}
		for ty, n := range d.unknown {
			counts[FrameTypeName(ty)] = n
		}
		out.Frames[dir] = counts
		out.SkippedBytes[dir] = d.skipped()
		out.GapBytes[dir] = d.gapBytes
		if d.truncated > 0 {
			out.TruncatedFrames[dir] = d.truncated
		}
		if d.hasLast {
			ref := oldLast[side]
			if ref == nil {
				ref = &model.FrameRef{}
			}
			*ref = model.FrameRef{Frame: d.last.Frame, Input: d.last.Input, Time: d.last.Time, Type: d.lastType.String()}
			out.LastFrame[dir] = ref
		}
		settings := reuseMap(oldSettings[side])
		for _, st := range d.settings {
			settings[st.ID.String()] = st.Val
		}
		out.Settings[dir] = settings
	}
	switch {
	case upgrade:
		out.Detected = "upgrade"
	case preface:
		out.Detected = "preface"
	case h.forced:
		out.Detected = "port"
	default:
		out.Detected = "frames"
	}
	for _, g := range h.goaways {
		cut := g.Cut
		if cut == nil {
			cut = []uint32{}
		}
		out.Goaways = append(out.Goaways, model.Goaway{
			Frame: g.Meta.Frame, Input: g.Meta.Input, From: SideName(g.Side, client),
			LastStreamID: g.Last, Error: g.Code.String(), Debug: g.Debug, CutStreams: cut,
			CutStreamsDropped: g.CutDropped,
		})
	}
	for _, r := range h.rsts {
		if !full {
			break
		}
		out.RSTStreams = append(out.RSTStreams, model.RSTStream{
			Frame: r.meta.Frame, Input: r.meta.Input, From: SideName(r.side, client),
			Stream: r.stream, Error: r.code.String(),
		})
	}
	// Windows are known only from both directions' first bytes on, with
	// nothing lost since.
	out.FlowControlKnown = h.flow.known && cl.atStart && sv.atStart && preface
	if out.FlowControlKnown && full {
		for _, s := range h.flow.stalls {
			fs := model.FlowStall{From: SideName(s.side, client), Stream: s.stream, Frame: s.at.Frame, Input: s.at.Input}
			if s.opened {
				fs.UpdateFrame = s.openAt.Frame
				fs.DurationMs = msPtr(s.openAt.Time.Sub(s.at.Time))
			}
			if s.resumed {
				fs.ResumedFrame = s.resumeAt.Frame
			}
			out.FlowStalls = append(out.FlowStalls, fs)
		}
		out.FlowStallsDropped = h.flow.dropped
	}
	if full {
		out.HealthCheck = h.pings.healthCheck(client, cl.closed, cl.closeAt, h.provoked(client))
	}
	return out
}

// reuseMap is m emptied, or a new map: what HTTP2Into makes each of its
// maps from.
func reuseMap[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return map[K]V{}
	}
	clear(m)
	return m
}

// reuseSlice is s emptied, or a new empty slice (never nil: the JSON has
// [] for none).
func reuseSlice[E any](s []E) []E {
	if s == nil {
		return []E{}
	}
	clear(s[:cap(s)]) // what the elements pointed to goes
	return s[:0]
}

// report lists the streams kept: the first finished ones, the last
// finished ones, and those still open, each group in its order.
func (t *streamTable) report(client int) []model.H2Stream {
	return t.reportInto(nil, client)
}

// reportInto is report appended to into emptied (reuseSlice).
func (t *streamTable) reportInto(into []model.H2Stream, client int) []model.H2Stream {
	out := reuseSlice(into)
	add := func(r *streamRec, state string) {
		s := model.H2Stream{
			ID: r.id, Method: r.method, Path: r.path, Authority: r.authority, Status: r.status,
			GRPCStatus: r.grpcStatus, Partial: r.partial,
			FirstFrame: r.first.Frame, LastFrame: r.last.Frame, Input: r.first.Input,
			State:       state,
			ClientBytes: r.bytes[client], ServerBytes: r.bytes[1-client],
		}
		if s.State == "" {
			switch {
			case r.reset:
				s.State = model.StreamReset
			case r.ended[client] && r.ended[1-client]:
				s.State = model.StreamClosed
			case r.ended[client]:
				s.State = model.StreamHalfClosedLocal
			case r.ended[1-client]:
				s.State = model.StreamHalfClosedRemote
			default:
				s.State = model.StreamOpen
			}
		}
		if r.reset {
			s.Reset = r.resetCode.String()
		}
		out = append(out, s)
	}
	for i := range t.first {
		add(&t.first[i], "")
	}
	n := min(t.nLast, KeepStreams)
	for i := t.nLast - n; i < t.nLast; i++ {
		add(&t.last[i%KeepStreams], "")
	}
	open := make([]*streamRec, 0, len(t.open))
	for _, r := range t.open {
		open = append(open, r)
	}
	slices.SortFunc(open, func(a, b *streamRec) int { return int(int64(a.id) - int64(b.id)) })
	for _, r := range open[:min(len(open), KeepStreams)] {
		add(r, "")
	}
	return out
}

// h2TypeName is the RFC 9113 name of a frame type (x/net/http2's), or
// UNKNOWN_0xNN for a type it does not define.
func FrameTypeName(ty http2.FrameType) string {
	if ty > http2.FrameContinuation {
		return fmt.Sprintf("UNKNOWN_0x%02X", uint8(ty))
	}
	return ty.String()
}

// provoked returns the time of the server's last GOAWAY or of its close
// (FIN or RST) if earlier than the client's: something other than a PING
// timeout that makes a client close. Zero if none.
func (h *Conn) provoked(client int) time.Time {
	var t time.Time
	for _, g := range h.goaways {
		if g.Side != client && g.Meta.Time.After(t) {
			t = g.Meta.Time
		}
	}
	cl, sv := &h.dir[client], &h.dir[1-client]
	if sv.closed && (!cl.closed || sv.closeAt.Time.Before(cl.closeAt.Time)) && sv.closeAt.Time.After(t) {
		t = sv.closeAt.Time
	}
	return t
}

// inferredHTTP2 is what is known of HTTP/2 in a TLS connection that was
// not decrypted: the PINGs inferred from record sizes, nothing else.
func (h *Conn) inferredHTTP2(client int) *model.HTTP2 {
	out := &model.HTTP2{
		Frames:       map[model.Direction]map[string]int{model.ClientToServer: {}, model.ServerToClient: {}},
		Pings:        h.pings.report(client, LatePingAfter(h.host.IRTT())),
		PingsDropped: h.pings.dropped,
		PingsFolded:  h.pings.folded.report(client),
		Goaways:      []model.Goaway{},
		RSTStreams:   []model.RSTStream{},
		SkippedBytes: map[model.Direction]int64{},
		Detected:     "tls-record-sizes",
		GapBytes:     map[model.Direction]int64{},
		LastFrame:    map[model.Direction]*model.FrameRef{},
		Settings:     map[model.Direction]map[string]uint32{},
		Streams:      []model.H2Stream{},
		FlowStalls:   []model.FlowStall{},
	}
	cl := &h.dir[client]
	out.HealthCheck = h.pings.healthCheck(client, cl.closed, cl.closeAt, time.Time{})
	return out
}
