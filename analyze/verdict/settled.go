package verdict

import (
	"slices"
	"strings"
	"time"

	"github.com/h2pcap/h2pcap/model"
)

// Settled connections.
//
// A SYN flood or a scan is a million half-open attempts, each judged from
// its Brief (Later) to a row no later step changes: failed to connect,
// without data, TLS, HTTP/2 or a redial to look for. Holding each row
// (about 2 KB with its verdict) until the summary is made costs
// gigabytes; the whole-capture steps (the summary's counts, the attempts,
// the incidents, the index of starts, the text report's per-path counts)
// read a dozen of its fields. When Later.Row builds the rows as they are
// judged, such a row is settled: those fields are kept in a settledConn
// (about 100 bytes) and the row is dropped, written to the spill file
// first for a JSON report (Later.Done) or counted in Report.Unlisted for a
// text one that lists it not (Later.Texts).

// settledConn is what the steps after the verdicts read of a settled row.
type settledConn struct {
	start, end   time.Time
	client       string
	stream       int
	frame, input int32
	path         int32 // settled.paths
	retrans      int32 // both directions
	// kind, dir, loc and point index settled.names; suspects
	// settled.suspects.
	kind, dir, loc, point uint8
	suspects              uint16
	flags                 uint8
}

// settledConn.flags: what the attempts and the incidents read of its
// counters and close.
const (
	settledSeen           = 1 << iota // Handshake.Seen
	settledAnswered                   // the server sent packets
	settledData                       // bytes either way
	settledClosedByServer             // Close.By is the server
)

// settled holds the settled connections of one Report, in stream order.
type settled struct {
	conns    []settledConn
	paths    []pathKey
	pathIx   map[[2]string]int32 // by client address and server
	pathOf   map[pathKey]int32
	names    []string // kinds, loss directions and locations, points
	nameIx   map[string]uint8
	suspects [][]model.Suspect
	// unlisted counts them per path and kind for a text report, when
	// their rows are dropped without being spilled.
	unlisted []model.Unlisted
	unIx     map[[2]int32]int
	// scratch is the row each (the loops' connection), rebuilt for each.
	scratch  model.Connection
	scratchV model.Verdict
}

// settleable says whether row c, judged from its Brief with facts f and
// final (Inert, a kind no later step adds to), can be settled: nothing
// but the fields a settledConn keeps is read of it after its verdict.
func settleable(c *model.Connection) bool {
	v := c.Verdict
	if v == nil || c.HTTP2 != nil || c.TLS != nil || c.Etcd != nil || c.Redial != nil || c.Plot != nil ||
		v.DialRaceSpare || v.Abandoned != nil || redialAfter(v.Kind) || slices.Contains(v.Suspects, model.SuspectTooManyPings) {
		return false
	}
	// What the incidents read of a death (its last progress) is not
	// kept: no such kind is settled (Inert), and this says so.
	return familyOf(c) != familyDied && len(v.Suspects) < 256
}

func (s *settled) name(n string) uint8 {
	if i, ok := s.nameIx[n]; ok {
		return i
	}
	if s.nameIx == nil {
		s.nameIx = map[string]uint8{}
	}
	i := uint8(len(s.names))
	s.names = append(s.names, n)
	s.nameIx[n] = i
	return i
}

// add settles row c; unlisted says whether to count it in Unlisted.
func (s *settled) add(c *model.Connection, unlisted bool) {
	v := c.Verdict
	// The path by the client's address, its port cut: a flood's
	// million come from few addresses, ClientNet is worked out once
	// for each.
	addr := c.Client
	if i := strings.LastIndexByte(addr, ':'); i > 0 {
		addr = addr[:i]
	}
	p, ok := s.pathIx[[2]string{addr, c.Server}]
	if !ok {
		if s.pathIx == nil {
			s.pathIx, s.unIx, s.pathOf = map[[2]string]int32{}, map[[2]int32]int{}, map[pathKey]int32{}
		}
		k := pathKey{model.ClientNet(c.Client), c.Server}
		if p, ok = s.pathOf[k]; !ok {
			p = int32(len(s.paths))
			s.paths = append(s.paths, k)
			s.pathOf[k] = p
		}
		s.pathIx[[2]string{strings.Clone(addr), c.Server}] = p
	}
	k := s.paths[p]
	sus := uint16(0) // 0: none
	if len(v.Suspects) > 0 {
		sus = uint16(slices.IndexFunc(s.suspects, func(x []model.Suspect) bool { return slices.Equal(x, v.Suspects) }) + 1)
		if sus == 0 {
			s.suspects = append(s.suspects, slices.Clone(v.Suspects))
			sus = uint16(len(s.suspects))
		}
	}
	var flags uint8
	if c.Handshake.Seen {
		flags |= settledSeen
	}
	if c.TCP.ServerToClient.Packets > 0 {
		flags |= settledAnswered
	}
	if c.TCP.ClientToServer.Bytes > 0 || c.TCP.ServerToClient.Bytes > 0 {
		flags |= settledData
	}
	if c.Close.By == model.SideServer {
		flags |= settledClosedByServer
	}
	kind := s.name(string(v.Kind))
	s.conns = append(s.conns, settledConn{
		start: c.Start, end: c.End, client: c.Client, stream: c.Stream,
		frame: int32(c.FirstFrame), input: int32(c.FirstInput), path: p,
		retrans: int32(c.TCP.ClientToServer.Retransmissions + c.TCP.ServerToClient.Retransmissions),
		kind:    kind, dir: s.name(string(v.LossDirection)), loc: s.name(string(v.LossLocation)),
		point: s.name(string(c.CapturePoint)), suspects: sus, flags: flags,
	})
	if !unlisted {
		return
	}
	uk := [2]int32{p, int32(kind)}
	i, ok := s.unIx[uk]
	if !ok {
		i = len(s.unlisted)
		s.unlisted = append(s.unlisted, model.Unlisted{ClientNet: k.net, Server: k.server, Kind: v.Kind, FirstStream: c.Stream, Start: c.Start, End: c.End})
		s.unIx[uk] = i
	}
	u := &s.unlisted[i]
	u.Connections++
	if c.Start.Before(u.Start) {
		u.Start = c.Start
	}
	if c.End.After(u.End) {
		u.End = c.End
	}
}

// fits says whether add can keep what it must of c: its frame and input
// numbers fit an int32, and there are few enough distinct names.
func (s *settled) fits(c *model.Connection) bool {
	return c.FirstFrame <= 1<<31-1 && c.FirstInput <= 1<<31-1 && len(s.names) < 250 && len(s.suspects) < 1<<16-1
}

// len is the number of settled connections; s may be nil.
func (s *settled) len() int {
	if s == nil {
		return 0
	}
	return len(s.conns)
}

// row fills c and v with settled connection k as the steps after the
// verdicts read it.
func (s *settled) row(k int, c *model.Connection, v *model.Verdict) {
	e := &s.conns[k]
	*v = model.Verdict{Kind: model.Kind(s.names[e.kind]), LossDirection: model.LossDirection(s.names[e.dir]),
		LossLocation: model.LossLocation(s.names[e.loc])}
	if e.suspects > 0 {
		v.Suspects = s.suspects[e.suspects-1]
	}
	*c = model.Connection{Stream: e.stream, Client: e.client, Server: s.paths[e.path].server,
		FirstFrame: int(e.frame), FirstInput: int(e.input), Start: e.start, End: e.end,
		CapturePoint: model.CapturePoint(s.names[e.point]), Verdict: v}
	c.TCP.ClientToServer.Retransmissions = int(e.retrans)
	c.Handshake.Seen = e.flags&settledSeen != 0
	if e.flags&settledAnswered != 0 {
		c.TCP.ServerToClient.Packets = 1
	}
	if e.flags&settledData != 0 {
		c.TCP.ClientToServer.Bytes = 1
	}
	if e.flags&settledClosedByServer != 0 {
		c.Close.By = model.SideServer
	}
}

// each calls fn with every connection in stream order: conns[i] with i,
// and the settled ones with -1 as one scratch row valid during the call
// (s may be nil).
func (s *settled) each(conns []*model.Connection, fn func(i int, c *model.Connection)) {
	k := 0
	for i, c := range conns {
		for ; k < s.len() && s.conns[k].stream < c.Stream; k++ {
			s.row(k, &s.scratch, &s.scratchV)
			fn(-1, &s.scratch)
		}
		fn(i, c)
	}
	for ; k < s.len(); k++ {
		s.row(k, &s.scratch, &s.scratchV)
		fn(-1, &s.scratch)
	}
}

// rows are conns with the settled connections as rows of their own, in
// stream order: for the steps that keep the connections they read (the
// incidents).
func (s *settled) rows(conns []*model.Connection) []*model.Connection {
	if s.len() == 0 {
		return conns
	}
	out := make([]*model.Connection, 0, len(conns)+s.len())
	s.each(conns, func(i int, c *model.Connection) {
		if i >= 0 {
			out = append(out, c)
			return
		}
		own, v := new(model.Connection), new(model.Verdict)
		*own, *v = *c, *c.Verdict
		own.Verdict = v
		out = append(out, own)
	})
	return out
}
