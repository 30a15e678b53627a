package verdict

import (
	"cmp"
	"slices"
	"time"

	"github.com/h2pcap/h2pcap/model"
)

// connStart is one connection as the redial rules look for it: a client
// host's next connection to the same server.
type connStart struct {
	start        time.Time
	stream       int
	client       string
	frame, input int // its first packet
}

// startIndex holds every connection, listed and forgotten, by client host
// and server, in order of start: finding a failed connection's redial is
// then a search, not a scan of every connection (a reconnect storm or a
// SYN flood has a million failed ones).
type startIndex map[[2]string][]connStart

func newStartIndex(conns []*model.Connection, fg *Forgotten) startIndex {
	return newStartIndexSettled(conns, fg, nil)
}

// newStartIndexSettled is newStartIndex with the settled connections
// too (st may be nil).
func newStartIndexSettled(conns []*model.Connection, fg *Forgotten, st *settled) startIndex {
	ix := startIndex{}
	for _, c := range conns {
		k := [2]string{hostOf(c.Client), c.Server}
		ix[k] = append(ix[k], connStart{start: c.Start, stream: c.Stream, client: c.Client, frame: c.FirstFrame, input: c.FirstInput})
	}
	for k := range st.len() {
		e := &st.conns[k]
		key := [2]string{hostOf(e.client), st.paths[e.path].server}
		ix[key] = append(ix[key], connStart{start: e.start, stream: e.stream, client: e.client, frame: int(e.frame), input: int(e.input)})
	}
	if fg != nil {
		for _, sp := range fg.Clean {
			srv := fg.Paths[sp.Path].Server
			k := [2]string{hostOf(sp.Client), srv}
			ix[k] = append(ix[k], connStart{start: sp.Start, stream: sp.Stream, client: sp.Client, frame: sp.Frame, input: sp.Input})
		}
	}
	for k, l := range ix {
		slices.SortStableFunc(l, func(a, b connStart) int {
			if c := a.start.Compare(b.start); c != 0 {
				return c
			}
			return cmp.Compare(a.stream, b.stream)
		})
		ix[k] = l
	}
	return ix
}

// next is the earliest connection of c's client host to c's server, other
// than c, that starts at after or later (strictly later when strict); ok
// false without one.
func (ix startIndex) next(c *model.Connection, after time.Time, strict bool) (connStart, bool) {
	l := ix[[2]string{hostOf(c.Client), c.Server}]
	i, _ := slices.BinarySearchFunc(l, after, func(e connStart, t time.Time) int { return e.start.Compare(t) })
	for ; i < len(l); i++ {
		e := l[i]
		if e.stream == c.Stream || strict && !e.start.After(after) {
			continue
		}
		return e, true
	}
	return connStart{}, false
}
