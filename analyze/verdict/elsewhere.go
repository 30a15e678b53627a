package verdict

import (
	"net/netip"

	"github.com/h2pcap/h2pcap/model"
)

// What a multi-point analysis adds to the reference point's Report: the
// connections the reference point never saw (an etcd member's peer
// connections that do not cross the reference member, a node's own
// connections among several nodes' captures). The report lists each
// connection once: the reference point's row where it has one, else the
// row of the point first along its path that saw it
// (model.Connection.Point), judged there. The summary is made of them
// all.

// Extra is the row of a connection the reference point never saw, judged
// at its own point, and its facts there (nil: none kept, a half-open
// one's).
type Extra struct {
	Row   *model.Connection
	Facts *Facts
}

// ForgottenConn is what a multi-point report reads of a healthy
// connection the reference point never saw, forgotten at the point that
// saw it: Row holds its Stream, Client, Server, FirstInput, FirstFrame,
// Start, End, Handshake.Seen and TCP only.
type ForgottenConn struct {
	Row *model.Connection
	// Data are its data segments per direction, client->server first.
	Data [2]int
	// ServerTTL is the TTL (hop limit) of the server's packets, 0 if none.
	ServerTTL int
}

// AddConn counts fc among fg's connections (listed: its row is still
// in the Report, spilled), as its point's Analyzer counted it when it
// forgot it.
func (fg *Forgotten) AddConn(fc *ForgottenConn, listed bool) {
	c := fc.Row
	i := fg.pathOf(model.ClientNet(c.Client), c.Server, c.Stream)
	fg.Paths[i].Add(c.Stream, c.TCP.ClientToServer.Retransmissions+c.TCP.ServerToClient.Retransmissions, fc.Data[0]+fc.Data[1], fc.ServerTTL)
	fg.N++
	if listed {
		fg.Listed++
	}
	client, _ := netip.ParseAddrPort(c.Client)
	fg.Clean.Add(NewCleanSpan(i, c, client))
}

// pathOf returns the index in fg.Paths of the path from clientNet to
// server, added if new with first as its first stream.
func (fg *Forgotten) pathOf(clientNet, server string, first int) int {
	if fg.pathIndex == nil {
		fg.pathIndex = make(map[[2]string]int, len(fg.Paths))
		for i, p := range fg.Paths {
			fg.pathIndex[[2]string{p.ClientNet, p.Server}] = i
		}
	}
	k := [2]string{clientNet, server}
	i, ok := fg.pathIndex[k]
	if !ok {
		i = len(fg.Paths)
		fg.Paths = append(fg.Paths, ForgottenPath{ClientNet: clientNet, Server: server, FirstStream: first})
		fg.pathIndex[k] = i
	}
	fg.Paths[i].FirstStream = min(fg.Paths[i].FirstStream, first)
	return i
}

// merge adds what add counts (its connections, paths and clean spans) to
// fg, or returns add when fg is nil. Its capture points, near hosts,
// probes and quality are not: the report's capture point and host are
// the reference point's, and each point's inputs have their own quality.
func (fg *Forgotten) merge(add *Forgotten) *Forgotten {
	if add == nil || add.N == 0 {
		return fg
	}
	if fg == nil {
		return add
	}
	at := make([]int, len(add.Paths))
	for i, p := range add.Paths {
		at[i] = fg.pathOf(p.ClientNet, p.Server, p.FirstStream)
		q := &fg.Paths[at[i]]
		q.Conns += p.Conns
		q.Retrans += p.Retrans
		q.Data += p.Data
		for ttl, n := range p.ServerTTLs {
			if q.ServerTTLs == nil {
				q.ServerTTLs = map[int]int{}
			}
			q.ServerTTLs[ttl] += n
		}
	}
	for sp := range add.Clean.All() {
		s := *sp
		s.path = int32(at[s.path])
		fg.Clean.Add(s)
	}
	fg.N += add.N
	fg.Listed += add.Listed
	return fg
}
