package app

import (
	"slices"
	"strconv"
	"strings"

	"github.com/h2pcap/h2pcap/model"

	"github.com/h2pcap/h2pcap/decode/h2"
	"golang.org/x/net/http2"
)

const (
	// keepStreams: the first and the last this many finished streams are
	// listed; the ones between are only counted.
	KeepStreams = 32
	// maxOpenStreams bounds the streams followed at once; a stream opened
	// beyond it is counted, not followed.
	maxOpenStreams = 1024
	// maxStalls bounds the flow-control stalls listed.
	maxStalls = 256
	// initialWindow is the flow-control window every connection and
	// stream starts with (RFC 9113, 6.9.2).
	initialWindow = 65535
)

// streamRec is one stream, by side.
type streamRec struct {
	id                              uint32
	method, path, authority, status string
	grpcStatus, grpcMessage         string
	grpc                            bool // content-type application/grpc, or a grpc-status
	resetSide                       int
	partial                         bool
	first, last                     h2.Meta
	ended                           [2]bool // END_STREAM sent by each side
	reset                           bool
	resetCode                       http2.ErrCode
	bytes                           [2]int64 // DATA payload sent by each side
	win                             [2]int64 // each side's send window on the stream
	stall                           [2]int   // index+1 of each side's open stall
}

// streamTable follows the streams of a connection, bounded.
type streamTable struct {
	open    map[uint32]*streamRec
	first   []streamRec // finished, in order of finishing
	last    []streamRec // a ring of keepStreams, made when first needed
	nLast   int         // finished streams beyond first, all time
	total   int
	untrack int // opened while maxOpenStreams were open

	// closed holds the ids of the last maxClosedIDs streams finished: a
	// frame still in flight on one (DATA after a RST_STREAM, a late
	// trailer) must not open it again.
	closed  []uint32
	nClosed int

	// grpc counts the finished gRPC calls per method and outcome
	// (bounded: maxGRPCKeys outcomes, the rest in grpcOther).
	grpc      map[grpcKey]int
	grpcOrder []grpcKey
	grpcOther int
	host      Host // told of each gRPC call finished

	// spare is the record of the last stream finished, copied into first
	// or last and read by nothing since: the next stream's (get).
	spare *streamRec
}

// maxKeptOpen bounds the streams a connection may have opened for its
// table's open set to serve the next connection (recycled): a map keeps
// the room of the most entries it ever held.
const maxKeptOpen = 64

// recycled is an empty streamTable that keeps t's arrays, its open set
// (unless it grew large) and its spare record, for another connection
// (newConn's spare): t is not read again.
func (t *streamTable) recycled() streamTable {
	k := streamTable{spare: t.spare}
	if t.open != nil && t.total <= maxKeptOpen {
		clear(t.open)
		k.open = t.open
	}
	clear(t.first[:cap(t.first)]) // what the records pointed to goes
	k.first, k.closed = t.first[:0], t.closed[:0]
	return k
}

// grpcKey is one way a gRPC method's calls ended.
type grpcKey struct {
	method, status, message string
	reset                   http2.ErrCode
	resetSide               int // -1: not reset
}

// maxGRPCKeys bounds the distinct (method, outcome) pairs counted per
// connection: a client calls a handful of methods, each ending a handful
// of ways.
const maxGRPCKeys = 256

// maxClosedIDs bounds the finished stream ids remembered.
const maxClosedIDs = 256

func (t *streamTable) init() { t.open = map[uint32]*streamRec{} }

// initOnce makes the open set on first use: most connections that get
// an h2conn turn out not to be HTTP/2.
func (t *streamTable) initOnce() {
	if t.open == nil {
		t.init()
	}
}

// get returns the stream id, opening it (at f) if new.
func (t *streamTable) get(id uint32, f *h2.Frame, fc *flowControl) *streamRec {
	if id == 0 {
		return nil
	}
	t.initOnce()
	if r := t.open[id]; r != nil {
		return r
	}
	if slices.Contains(t.closed, id) {
		return nil
	}
	t.total++
	if len(t.open) >= maxOpenStreams {
		t.untrack++
		return nil
	}
	r := t.spare
	if r != nil {
		t.spare = nil
		*r = streamRec{id: id, first: f.Meta, last: f.Meta}
	} else {
		r = &streamRec{id: id, first: f.Meta, last: f.Meta}
	}
	r.win = fc.initial
	t.open[id] = r
	return r
}

// headers takes a HEADERS, PUSH_PROMISE or CONTINUATION frame from side.
func (t *streamTable) headers(side int, f *h2.Frame, fc *flowControl) {
	id := f.StreamID
	if f.Type == http2.FramePushPromise {
		id = f.PromiseID // the promised request's fields
	}
	r := t.get(id, f, fc)
	if r == nil {
		return
	}
	r.last = f.Meta
	for _, hf := range f.Fields {
		switch hf.Name {
		case ":method":
			r.method = hf.Value
		case ":path":
			r.path = hf.Value
		case ":authority":
			r.authority = hf.Value
		case ":status":
			// A final status wins over an informational (1xx) one.
			if r.status == "" || len(hf.Value) == 3 && hf.Value[0] != '1' {
				r.status = hf.Value
			}
		case "grpc-status":
			r.grpcStatus, r.grpc = hf.Value, true
		case "grpc-message":
			r.grpcMessage = grpcUnescape(hf.Value)
		case "content-type":
			if strings.HasPrefix(hf.Value, "application/grpc") {
				r.grpc = true
			}
		}
	}
	if f.Partial {
		r.partial = true
	}
	if f.Type == http2.FrameHeaders && f.Flags.Has(http2.FlagHeadersEndStream) {
		t.end(r, side)
	}
}

// data takes a DATA frame from side.
func (t *streamTable) data(side int, f *h2.Frame, fc *flowControl) {
	r := t.get(f.StreamID, f, fc)
	end := f.Flags.Has(http2.FlagDataEndStream)
	fc.data(side, f, r, end)
	if r == nil {
		return
	}
	r.last = f.Meta
	r.bytes[side] += int64(f.Length)
	if end {
		t.end(r, side)
	}
}

// reset takes a RST_STREAM from side.
func (t *streamTable) reset(side int, f *h2.Frame) {
	r := t.open[f.StreamID]
	if r == nil {
		return
	}
	r.last = f.Meta
	r.reset, r.resetCode, r.resetSide = true, f.ErrCode, side
	t.done(r)
}

// end records END_STREAM from side; both ends finish the stream.
func (t *streamTable) end(r *streamRec, side int) {
	r.ended[side] = true
	if r.ended[0] && r.ended[1] {
		t.done(r)
	}
}

// done moves a finished stream out of the open set, into the first or the
// last ones kept.
func (t *streamTable) done(r *streamRec) {
	delete(t.open, r.id)
	if r.grpc || r.grpcStatus != "" {
		t.countGRPC(r)
	}
	if len(t.closed) < maxClosedIDs {
		t.closed = append(t.closed, r.id)
	} else {
		t.closed[t.nClosed%maxClosedIDs] = r.id
	}
	t.nClosed++
	if len(t.first) < KeepStreams {
		t.first = append(t.first, *r)
	} else {
		if t.last == nil {
			t.last = make([]streamRec, KeepStreams)
		}
		t.last[t.nLast%KeepStreams] = *r
		t.nLast++
	}
	// Its callers read r no more once it is done: the next stream's
	// record is made in it.
	t.spare = r
}

// countGRPC counts a finished gRPC call by method and outcome.
func (t *streamTable) countGRPC(r *streamRec) {
	k := grpcKey{method: r.path, status: r.grpcStatus, message: r.grpcMessage, resetSide: -1}
	if r.grpcStatus == "" && r.reset {
		k.reset, k.resetSide = r.resetCode, r.resetSide
	}
	if t.host != nil {
		code := ""
		switch {
		case r.grpcStatus != "":
			code = model.GRPCCodeName(r.grpcStatus)
		case r.reset:
			code = "RST_STREAM " + r.resetCode.String()
		}
		t.host.GRPCCall(r.path, code, r.last)
	}
	if t.grpc == nil {
		t.grpc = map[grpcKey]int{}
	}
	if _, ok := t.grpc[k]; !ok {
		if len(t.grpc) >= maxGRPCKeys {
			t.grpcOther++
			return
		}
		t.grpcOrder = append(t.grpcOrder, k)
	}
	t.grpc[k]++
}

// grpcUnescape decodes grpc-message's percent-encoding (gRPC over
// HTTP/2: percent-encoded UTF-8); a malformed escape is kept as it is.
func grpcUnescape(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// grpcCounts is the connection's gRPC calls counted, for the report.
func (t *streamTable) grpcCounts(client int) []model.GRPCCount {
	var out []model.GRPCCount
	for _, k := range t.grpcOrder {
		g := model.GRPCCount{Method: k.method, Status: k.status, Message: k.message, Calls: t.grpc[k]}
		if k.status != "" {
			g.Code = model.GRPCCodeName(k.status)
		}
		if k.resetSide >= 0 {
			g.Reset = k.reset.String()
			g.ResetBy = model.SideServer
			if k.resetSide == client {
				g.ResetBy = model.SideClient
			}
		}
		out = append(out, g)
	}
	return out
}

// flowControl follows the send windows of both sides, to find stalls: a
// window used up while the sender had not finished its stream.
type flowControl struct {
	known   bool     // no gap so far (the report also wants both starts seen)
	conn    [2]int64 // each side's connection send window
	initial [2]int64 // each side's initial stream send window: the peer's SETTINGS_INITIAL_WINDOW_SIZE
	stall   [2]int   // index+1 of each side's open connection stall
	stalls  []stallRec
	dropped int   // stalls past maxStalls: counted, not listed
	resume  []int // indexes of stalls opened again, waiting for the sender's next DATA
}

// stallRec is one stall of side's send window on stream (0: connection).
type stallRec struct {
	side     int
	stream   uint32
	at       h2.Meta
	opened   bool
	openAt   h2.Meta
	resumed  bool
	resumeAt h2.Meta
}

func (fc *flowControl) init() {
	fc.known = true
	fc.conn = [2]int64{initialWindow, initialWindow}
	fc.initial = fc.conn
}

// data takes a DATA frame from side on stream r (nil when not followed):
// its length, padding included, counts against both windows.
func (fc *flowControl) data(side int, f *h2.Frame, r *streamRec, end bool) {
	fc.resumed(side, f)
	n := int64(f.Length)
	fc.conn[side] -= n
	if fc.conn[side] <= 0 && fc.stall[side] == 0 && !end {
		fc.stall[side] = fc.newStall(side, 0, f.Meta)
	}
	if r == nil {
		return
	}
	r.win[side] -= n
	if r.win[side] <= 0 && r.stall[side] == 0 && !end {
		r.stall[side] = fc.newStall(side, r.id, f.Meta)
	}
}

// windowUpdate takes a WINDOW_UPDATE from side: it opens the other side's
// send window.
func (fc *flowControl) windowUpdate(side int, f *h2.Frame, t *streamTable) {
	sender := 1 - side
	if f.StreamID == 0 {
		fc.conn[sender] += int64(f.Increment)
		if fc.conn[sender] > 0 {
			fc.reopen(&fc.stall[sender], f.Meta)
		}
		return
	}
	r := t.open[f.StreamID]
	if r == nil {
		return
	}
	r.win[sender] += int64(f.Increment)
	if r.win[sender] > 0 {
		fc.reopen(&r.stall[sender], f.Meta)
	}
}

// settings takes a SETTINGS frame (not an ACK) from side: a new
// SETTINGS_INITIAL_WINDOW_SIZE moves every stream window of the other side
// by the difference (RFC 9113, 6.9.2).
func (fc *flowControl) settings(side int, f *h2.Frame, t *streamTable) {
	sender := 1 - side
	for _, st := range f.Settings {
		if st.ID != http2.SettingInitialWindowSize {
			continue
		}
		delta := int64(st.Val) - fc.initial[sender]
		fc.initial[sender] = int64(st.Val)
		for _, r := range t.open {
			r.win[sender] += delta
			if r.win[sender] > 0 {
				fc.reopen(&r.stall[sender], f.Meta)
			}
		}
	}
}

func (fc *flowControl) newStall(side int, stream uint32, at h2.Meta) int {
	if len(fc.stalls) >= maxStalls {
		fc.dropped++
		return 0
	}
	fc.stalls = append(fc.stalls, stallRec{side: side, stream: stream, at: at})
	return len(fc.stalls)
}

// reopen closes the open stall *idx (index+1; 0: none) at m.
func (fc *flowControl) reopen(idx *int, m h2.Meta) {
	if *idx == 0 {
		return
	}
	s := &fc.stalls[*idx-1]
	s.opened, s.openAt = true, m
	fc.resume = append(fc.resume, *idx-1)
	*idx = 0
}

// resumed marks the opened stalls a DATA frame from side ends: the data
// that was waiting for the window.
func (fc *flowControl) resumed(side int, f *h2.Frame) {
	keep := fc.resume[:0]
	for _, i := range fc.resume {
		s := &fc.stalls[i]
		if s.side == side && (s.stream == 0 || s.stream == f.StreamID) {
			s.resumed, s.resumeAt = true, f.Meta
			continue
		}
		keep = append(keep, i)
	}
	fc.resume = keep
}
