package notice

import (
	"net/netip"
	"testing"
	"time"
	"unsafe"

	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
)

// pairConn is the part of a Conn that Opened and Closed read; the rest
// of the interface is left nil (a call would panic: they must not read
// more).
type pairConn struct {
	Conn
	stream         int
	client, server netip.AddrPort
	notes          State
}

func (c *pairConn) Stream() int          { return c.stream }
func (c *pairConn) Roles() (int, string) { return 0, "syn" }
func (c *pairConn) Notes() *State        { return &c.notes }
func (c *pairConn) Endpoint(side int) netip.AddrPort {
	if side == 0 {
		return c.client
	}
	return c.server
}

// TestByPair: the open connections per client host and server stay
// indexed as connections open and close in any order, and a pair's list
// goes when its last connection does.
func TestByPair(t *testing.T) {
	nt := New(func(*model.Notice) {})
	srvA, srvB := netip.MustParseAddrPort("198.18.2.2:2379"), netip.MustParseAddrPort("198.18.2.3:2379")
	var conns []*pairConn
	for i, srv := range []netip.AddrPort{srvA, srvA, srvB, srvA} {
		c := &pairConn{stream: i, client: netip.AddrPortFrom(netip.MustParseAddr("198.18.1.2"), uint16(40000+i)), server: srv, notes: NewState()}
		conns = append(conns, c)
		// redialed looks at the connections before c of its pair: none
		// has a tracker here, so only the first's Notes say it is
		// abandoned already, and nothing more is read.
		for _, o := range nt.byPair[nt.pairKey(c)] {
			o.Notes().abandoned = true
		}
		nt.Opened(c, &decode.Segment{Time: time.Unix(0, 0)})
	}
	check := func(want map[netip.AddrPort][]int) {
		t.Helper()
		n := 0
		for _, l := range nt.byPair {
			n += len(l)
			for j, c := range l {
				if int(c.Notes().pairIdx) != j {
					t.Errorf("stream %d at %d, its pairIdx %d", c.Stream(), j, c.Notes().pairIdx)
				}
			}
		}
		total := 0
		for srv, streams := range want {
			total += len(streams)
			l := nt.byPair[nt.pairKey(&pairConn{client: netip.MustParseAddrPort("198.18.1.2:1"), server: srv})]
			got := map[int]bool{}
			for _, c := range l {
				got[c.Stream()] = true
			}
			for _, s := range streams {
				if !got[s] {
					t.Errorf("%s: stream %d missing from %v", srv, s, got)
				}
			}
			if len(l) != len(streams) {
				t.Errorf("%s: %d listed, want %v", srv, len(l), streams)
			}
		}
		if n != total || len(nt.byPair) != len(want) {
			t.Errorf("%d listed in %d pairs, want %v", n, len(nt.byPair), want)
		}
	}
	check(map[netip.AddrPort][]int{srvA: {0, 1, 3}, srvB: {2}})
	nt.Closed(conns[1], &decode.Segment{})
	check(map[netip.AddrPort][]int{srvA: {0, 3}, srvB: {2}})
	nt.Closed(conns[2], &decode.Segment{})
	check(map[netip.AddrPort][]int{srvA: {0, 3}})
	nt.Closed(conns[0], &decode.Segment{})
	nt.Closed(conns[0], &decode.Segment{}) // twice: nothing more
	check(map[netip.AddrPort][]int{srvA: {3}})
	nt.Closed(conns[3], &decode.Segment{})
	check(map[netip.AddrPort][]int{})
}

// Every open connection of h2pcap live has a State: it stays in the
// 112-byte size class (its burst trackers are made at the first
// retransmission).
func TestStateSize(t *testing.T) {
	if n := unsafe.Sizeof(State{}); n > 112 {
		t.Errorf("State is %d bytes, over 112", n)
	}
}
