package verdict

import (
	"cmp"
	"slices"
	"strings"
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
	return newStartIndexSettled(conns, fg, nil, false)
}

// newStartIndexSettled is newStartIndex with the settled connections
// too (st may be nil). With asked, it holds only the client hosts and
// servers of the connections among conns whose verdict a redial may
// follow (redialAfter: the only ones linkRedials and abandoned look
// up): a flood's million failed attempts are looked up by none.
func newStartIndexSettled(conns []*model.Connection, fg *Forgotten, st *settled, asked bool) startIndex {
	ix := startIndex{}
	var want map[[2]string]bool
	if asked {
		want = map[[2]string]bool{}
		for _, c := range conns {
			if v := c.Verdict; v != nil && redialAfter(v.Kind) {
				want[[2]string{hostOf(c.Client), c.Server}] = true
			}
		}
	}
	add := func(k [2]string, e connStart) {
		if want == nil || want[k] {
			ix[k] = append(ix[k], e)
		}
	}
	for _, c := range conns {
		add([2]string{hostOf(c.Client), c.Server}, connStart{start: c.Start, stream: c.Stream, client: c.Client, frame: c.FirstFrame, input: c.FirstInput})
	}
	hosts := map[string]string{} // a settled client's address (its port cut) -> its host
	for k := range st.len() {
		if want != nil && len(want) == 0 {
			break
		}
		e := &st.conns[k]
		addr := e.client
		if i := strings.LastIndexByte(addr, ':'); i > 0 {
			addr = addr[:i]
		}
		host, ok := hosts[addr]
		if !ok {
			host = hostOf(e.client)
			hosts[addr] = host
		}
		add([2]string{host, st.paths[e.path].server}, connStart{start: e.start, stream: e.stream, client: e.client, frame: int(e.frame), input: int(e.input)})
	}
	if fg != nil && (want == nil || len(want) > 0) {
		// The forgotten ones too, but with asked only those of a client
		// host and server asked for: 200,000 healthy connections, none
		// failed, are indexed for no lookup (two strings and an entry
		// each, 0.14 of the report's CPU seconds).
		var servers map[string]bool
		if want != nil {
			servers = map[string]bool{}
			for k := range want {
				servers[k[1]] = true
			}
		}
		for sp := range fg.Clean.All() {
			srv := fg.Paths[sp.path].Server
			if servers != nil && !servers[srv] {
				continue
			}
			k := [2]string{sp.client.Addr().String(), srv}
			if want != nil && !want[k] {
				continue
			}
			ix[k] = append(ix[k], connStart{start: sp.Start(), stream: int(sp.stream), client: sp.client.String(), frame: int(sp.frame), input: int(sp.input)})
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
