package app

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/h2pcap/h2pcap/decode/h2"
	"github.com/h2pcap/h2pcap/decode/raft"
	"github.com/h2pcap/h2pcap/model"
)

// etcd peer traffic (rafthttp) is HTTP/1.1: a connection whose first
// request is for a rafthttp path is followed request by request, and the
// raft messages in its bodies are decoded (decode/raft). Everything else
// HTTP/1 is left as the h2HTTP1 mode leaves it.

const (
	// maxHTTP1Head bounds one request or response head (line and header
	// fields): rafthttp's are a few hundred bytes.
	maxHTTP1Head = 16 << 10
	// maxRaftRuns bounds the runs kept per connection: a run is one
	// (type, from, to, term, reject), so this is hundreds of elections.
	maxRaftRuns = 512
	// maxPendingRequests bounds the requests awaiting a response.
	maxPendingRequests = 16
	// raftRunGap is the silence that ends a run of like messages: five
	// of etcd's default 100 ms heartbeats missing. A run then tells
	// when a leader's heartbeats stopped passing and when they resumed.
	raftRunGap = 500 * time.Millisecond
)

// etcdConn is one rafthttp connection's state.
type etcdConn struct {
	host   Host
	off    bool // not rafthttp: nothing more is looked at
	client int  // the side that sent the first request
	dir    [2]http1Dir
	peer   model.EtcdPeer
	// pending are the kinds of the requests not yet answered, oldest
	// first: a response's body is read as its request's kind.
	pending []raft.Kind
	runs    []model.RaftRun
	runIdx  map[runKey]int
	counts  [2]map[string]int
	clientM uint64 // the members, as numbers, for the stream decoders
	serverM uint64
}

type runKey struct {
	typ      string
	from, to uint64
	term     uint64
	reject   bool
}

// http1Dir is one direction's HTTP/1.1 parser.
type http1Dir struct {
	state    uint8
	head     []byte
	remain   int64 // body bytes still to come (length-delimited body or chunk)
	chunked  bool
	body     *raft.Stream
	lastMeta h2.Meta
}

// http1Dir states.
const (
	h1Head      = iota // a request or response head
	h1Body             // a Content-Length body
	h1ChunkSize        // a chunk-size line
	h1ChunkData        // a chunk's data
	h1ChunkCRLF        // the CRLF after a chunk's data
	h1Trailer          // the trailer after the last chunk
	h1BodyToEOF        // a response without length: the body runs to the close
	h1Broken           // lost step: nothing more is decoded
)

// isRaftPath reports whether a request path is rafthttp's (or one of the
// peer-port endpoints a member serves to its peers).
func isRaftPath(p string) bool {
	return strings.HasPrefix(p, "/raft") || p == "/members" || p == "/version" ||
		strings.HasPrefix(p, "/members/") || strings.HasPrefix(p, "/leases")
}

// etcdData takes the next in-order bytes of one side of an HTTP/1
// connection.
func (h *Conn) etcdData(side int, b []byte, meta h2.Meta) {
	e := h.etcd
	if e == nil {
		// Only a connection whose first bytes are a rafthttp request is
		// followed.
		if !looksLikeRaftRequest(b) {
			h.etcd = &etcdConn{off: true}
			return
		}
		e = &etcdConn{host: h.host, client: side, runIdx: map[runKey]int{}}
		h.etcd = e
	}
	if e.off {
		return
	}
	d := &e.dir[side]
	for len(b) > 0 && d.state != h1Broken {
		b = e.step(side, d, b, meta)
	}
}

// looksLikeRaftRequest: the request line's path is rafthttp's.
func looksLikeRaftRequest(b []byte) bool {
	sp := bytes.IndexByte(b, ' ')
	if sp < 0 || sp > 8 {
		return false
	}
	rest := b[sp+1:]
	end := bytes.IndexByte(rest, ' ')
	if end < 0 {
		end = len(rest)
	}
	return isRaftPath(string(rest[:end]))
}

// etcdGap says n bytes of a side were never captured: the parser has lost
// its place in that direction.
func (h *Conn) etcdGap(side int, n int) {
	if e := h.etcd; e != nil && !e.off && e.dir[side].state != h1Broken {
		e.dir[side].state = h1Broken
		if e.peer.Error == "" {
			e.peer.Error = fmt.Sprintf("%d bytes missing from the capture: decoding stopped", n)
		}
	}
}

// step consumes what it can of b in d's current state and returns the rest.
func (e *etcdConn) step(side int, d *http1Dir, b []byte, meta h2.Meta) []byte {
	d.lastMeta = meta
	switch d.state {
	case h1Head:
		// The blank line may straddle two pieces: search from the end of
		// what is held.
		held := len(d.head)
		from := max(0, held-3)
		take := min(len(b), maxHTTP1Head+4-held)
		d.head = append(d.head, b[:take]...)
		if j := bytes.Index(d.head[from:], []byte("\r\n\r\n")); j >= 0 {
			end := from + j
			used := end + 4 - held
			d.head = d.head[:end]
			e.head(side, d)
			d.head = d.head[:0]
			return b[used:]
		}
		if len(d.head) > maxHTTP1Head {
			e.broken(d, "an HTTP/1 head over 16 KiB")
			return nil
		}
		return b[take:]
	case h1Body:
		n := int64(len(b))
		if n > d.remain {
			n = d.remain
		}
		e.body(side, d, b[:n], meta)
		d.remain -= n
		if d.remain == 0 {
			e.bodyEnd(side, d, meta)
		}
		return b[n:]
	case h1ChunkSize:
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			if len(d.head)+len(b) > 64 {
				e.broken(d, "a chunk-size line over 64 bytes")
				return nil
			}
			d.head = append(d.head, b...)
			return nil
		}
		d.head = append(d.head, b[:i]...)
		line := strings.TrimSpace(string(d.head))
		d.head = d.head[:0]
		if semi := strings.IndexByte(line, ';'); semi >= 0 {
			line = line[:semi]
		}
		size, err := strconv.ParseInt(line, 16, 64)
		if err != nil || size < 0 {
			e.broken(d, fmt.Sprintf("chunk size %q", line))
			return nil
		}
		if size == 0 {
			d.state = h1Trailer
		} else {
			d.remain, d.state = size, h1ChunkData
		}
		return b[i+1:]
	case h1ChunkData:
		n := int64(len(b))
		if n > d.remain {
			n = d.remain
		}
		e.body(side, d, b[:n], meta)
		d.remain -= n
		if d.remain == 0 {
			d.state = h1ChunkCRLF
			d.remain = 2
		}
		return b[n:]
	case h1ChunkCRLF:
		n := int64(len(b))
		if n > d.remain {
			n = d.remain
		}
		d.remain -= n
		if d.remain == 0 {
			d.state = h1ChunkSize
		}
		return b[n:]
	case h1Trailer:
		// No trailer fields in rafthttp: the empty line ends the body.
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return nil
		}
		e.bodyEnd(side, d, meta)
		return b[i+1:]
	case h1BodyToEOF:
		e.body(side, d, b, meta)
		return nil
	}
	return nil
}

func (e *etcdConn) broken(d *http1Dir, why string) {
	d.state = h1Broken
	if e.peer.Error == "" {
		e.peer.Error = "not HTTP/1.1 as rafthttp sends it: " + why
	}
}

// head takes a complete request or response head (without the blank line).
func (e *etcdConn) head(side int, d *http1Dir) {
	lines := strings.Split(string(d.head), "\r\n")
	first := lines[0]
	hdr := func(name string) string {
		for _, l := range lines[1:] {
			k, v, ok := strings.Cut(l, ":")
			if ok && strings.EqualFold(strings.TrimSpace(k), name) {
				return strings.TrimSpace(v)
			}
		}
		return ""
	}
	length := int64(-1)
	if cl := hdr("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
			length = n
		}
	}
	d.chunked = strings.EqualFold(hdr("Transfer-Encoding"), "chunked")
	if id := hdr("X-Etcd-Cluster-ID"); id != "" && e.peer.ClusterID == "" {
		e.peer.ClusterID = id
	}
	var kind raft.Kind
	noBody := false
	if side == e.client {
		method, rest, _ := strings.Cut(first, " ")
		path, _, _ := strings.Cut(rest, " ")
		e.peer.Requests++
		if e.peer.Path == "" {
			e.peer.Path = path
			e.peer.Stream = streamOf(method, path)
		}
		if from := hdr("X-Server-From"); from != "" && e.peer.ClientMember == "" {
			e.peer.ClientMember = from
		}
		if to := hdr("X-Raft-To"); to != "" && e.peer.ServerMember == "" {
			e.peer.ServerMember = to
		}
		if e.peer.ClientMember == "" && strings.HasPrefix(path, "/raft/stream/") {
			e.peer.ClientMember = path[strings.LastIndexByte(path, '/')+1:]
		}
		e.clientM, _ = strconv.ParseUint(e.peer.ClientMember, 16, 64)
		e.serverM, _ = strconv.ParseUint(e.peer.ServerMember, 16, 64)
		switch {
		case method == "POST" && path == "/raft":
			kind = raft.KindPipeline
		case method == "GET" && strings.HasPrefix(path, "/raft/stream/message/"):
			kind = raft.KindMessage
		case method == "GET" && strings.HasPrefix(path, "/raft/stream/msgapp/"):
			kind = raft.KindMsgApp
		}
		if len(e.pending) < maxPendingRequests {
			e.pending = append(e.pending, kind)
		}
		// A request body: the pipeline's message, from client to server.
		if kind == raft.KindPipeline {
			d.body = raft.NewStream(raft.KindPipeline, e.clientM, e.serverM)
		} else {
			d.body = nil
		}
		noBody = length <= 0 && !d.chunked
	} else {
		if len(e.pending) > 0 {
			kind, e.pending = e.pending[0], e.pending[1:]
		}
		if v := hdr("X-Server-Version"); v != "" && e.peer.Version == "" {
			e.peer.Version = v
		}
		code := 0
		if _, rest, ok := strings.Cut(first, " "); ok && len(rest) >= 3 {
			code, _ = strconv.Atoi(rest[:3])
		}
		d.body = nil
		if code == 200 && (kind == raft.KindMessage || kind == raft.KindMsgApp) {
			// The stream's messages go from the server to the member that
			// dialled.
			d.body = raft.NewStream(kind, e.serverM, e.clientM)
		}
		noBody = code == 204 || code == 304 || code/100 == 1 || length == 0
		if !noBody && length < 0 && !d.chunked {
			d.state = h1BodyToEOF
			return
		}
	}
	switch {
	case noBody:
		d.state = h1Head
	case d.chunked:
		d.state = h1ChunkSize
	default:
		d.state, d.remain = h1Body, length
	}
}

func streamOf(method, path string) model.EtcdStream {
	switch {
	case strings.HasPrefix(path, "/raft/stream/message/"):
		return model.EtcdStreamMessage
	case strings.HasPrefix(path, "/raft/stream/msgapp/"):
		return model.EtcdStreamMsgApp
	case method == "POST" && path == "/raft":
		return model.EtcdPipeline
	case strings.HasPrefix(path, "/raft/snapshot"):
		return model.EtcdSnapshot
	case strings.HasPrefix(path, "/raft/probing"):
		return model.EtcdProbing
	case strings.HasPrefix(path, "/members"):
		return model.EtcdMembers
	case path == "/version":
		return model.EtcdVersion
	}
	return model.EtcdStreamOther
}

func (e *etcdConn) body(side int, d *http1Dir, b []byte, meta h2.Meta) {
	if d.body == nil || len(b) == 0 {
		return
	}
	d.body.Data(b, meta, func(m *raft.Message, at h2.Meta) { e.message(side, m, at) })
	if err := d.body.Err(); err != nil && e.peer.Error == "" {
		e.peer.Error = err.Error()
	}
}

func (e *etcdConn) bodyEnd(side int, d *http1Dir, meta h2.Meta) {
	if d.body != nil {
		d.body.End(meta, func(m *raft.Message, at h2.Meta) { e.message(side, m, at) })
		d.body = nil
	}
	d.state = h1Head
}

// message records one decoded raft message sent by side.
func (e *etcdConn) message(side int, m *raft.Message, at h2.Meta) {
	name := m.TypeName()
	if e.counts[side] == nil {
		e.counts[side] = map[string]int{}
	}
	e.counts[side][name]++
	if m.Link {
		return
	}
	k := runKey{typ: name, from: m.From, to: m.To, term: m.Term, reject: m.Reject}
	mo := model.Moment{Frame: at.Frame, Input: at.Input, Time: at.Time}
	if i, ok := e.runIdx[k]; ok {
		if r := &e.runs[i]; at.Time.Sub(r.Last.Time) < raftRunGap {
			r.Count++
			r.Last = mo
			return
		}
	}
	if m.IsLeader() && e.host != nil {
		e.host.RaftLeader(side, m.From, m.Term, at)
	}
	if len(e.runs) >= maxRaftRuns {
		return
	}
	e.runIdx[k] = len(e.runs)
	e.runs = append(e.runs, model.RaftRun{Type: name, From: memberID(m.From), To: memberID(m.To), Term: m.Term,
		Reject: m.Reject, Count: 1, First: mo, Last: mo})
}

// memberID writes a member ID as etcd does (types.ID: lower-case hex).
func memberID(id uint64) string { return strconv.FormatUint(id, 16) }

// Etcd returns the connection's etcd peer section, nil when it is not
// rafthttp. client is the side the report takes for the client.
func (st *State) Etcd(client int) *model.EtcdPeer {
	h := st.h
	if h == nil || h.etcd == nil || h.etcd.off {
		return nil
	}
	e := h.etcd
	p := e.peer
	p.Messages = map[model.Direction]map[string]int{}
	for side, c := range e.counts {
		if len(c) == 0 {
			continue
		}
		dir := model.ClientToServer
		if side != client {
			dir = model.ServerToClient
		}
		p.Messages[dir] = c
	}
	p.Runs = append([]model.RaftRun{}, e.runs...)
	p.Idle = p.Requests > 0 && len(e.pending) == 0 && e.dir[0].state == h1Head && e.dir[1].state == h1Head
	if p.Stream == "" {
		p.Stream = model.EtcdStreamOther
	}
	return &p
}
