package hops

import (
	"fmt"
	"maps"
	"math"
	"net/netip"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/decode"
)

// A synthetic path: each packet is given to the points that saw it, at
// the time each saw it, and the Placer is checked against what was
// dropped where.

type hop struct {
	name  string
	delay time.Duration // from the client along the path
	off   time.Duration // the point's clock offset
	ttl   [2]uint8      // TTL seen there client->server, server->client
	// nat rewrites the client's address at this point (a masquerading
	// load balancer in front of it): sequence numbers are kept.
	nat netip.AddrPort
	// shift is added to the server's sequence numbers at this point (and
	// to the client's acknowledgment numbers): a SYN proxy before it.
	shift uint32
}

type pkt struct {
	dir   int // 0 client->server
	seq   uint32
	ack   uint32
	flags decode.TCPFlags
	n     int           // payload length
	at    time.Duration // when the sender sent it
	// lostAfter is the index of the last point that saw it (-1: none,
	// len(points)-1: all); merge is set on a packet that a later point
	// sees merged with the one before it (GRO).
	lostAfter int
	merge     bool
	ipid      uint16
	// uncaptured is the index+1 of a point whose capture misses the
	// packet though it passed (0: none).
	uncaptured int
}

var (
	cli = netip.MustParseAddrPort("198.18.1.2:40000")
	srv = netip.MustParseAddrPort("198.18.2.2:8080")
	t0  = time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
)

// run feeds pkts through the points (in path order for direction 0,
// reversed for direction 1) and returns the Placer's result.
func run(t *testing.T, points []hop, order []int, pkts []pkt) *Result {
	t.Helper()
	return feed(points, events(points, cli, pkts))
}

// ev is one packet as one point saw it.
type ev struct {
	point int
	s     decode.Segment
}

// events is what each point sees of pkts, the client at client.
func events(points []hop, cli netip.AddrPort, pkts []pkt) []ev {
	var evs []ev
	for _, p := range pkts {
		last := p.lostAfter
		path := make([]int, len(points))
		for i := range path {
			path[i] = i
			if p.dir == 1 {
				path[i] = len(points) - 1 - i
			}
		}
		for k, pt := range path {
			if k > last {
				break
			}
			if p.uncaptured == pt+1 {
				continue
			}
			h := points[pt]
			d := h.delay
			if p.dir == 1 {
				d = points[len(points)-1].delay - h.delay
			}
			src, dst := cli, srv
			if h.nat.IsValid() {
				// One NAT port per client port.
				src = netip.AddrPortFrom(h.nat.Addr(), h.nat.Port()+cli.Port()-40000)
			}
			if p.dir == 1 {
				src, dst = dst, src
			}
			s := decode.Segment{Time: t0.Add(p.at + d + h.off), Src: src, Dst: dst, TTL: h.ttl[p.dir], IPVersion: 4, IPID: p.ipid, Seq: p.seq, Ack: p.ack, Flags: p.flags, PayloadLen: p.n, Payload: payloadOf(cli, p.dir, p.seq, p.n)}
			if p.dir == 1 {
				s.Seq += h.shift
			} else if s.Flags&decode.FlagACK != 0 {
				s.Ack += h.shift
			}
			if p.merge && k == len(path)-1 {
				// Merged into the previous data packet the receiver's
				// point saw.
				for i := len(evs) - 1; i >= 0; i-- {
					if evs[i].point == pt && evs[i].s.Src == src && evs[i].s.PayloadLen > 0 {
						evs[i].s.PayloadLen += p.n
						evs[i].s.Payload = append(slices.Clip(evs[i].s.Payload), payloadOf(cli, p.dir, p.seq, p.n)...)
						break
					}
				}
				continue
			}
			evs = append(evs, ev{pt, s})
		}
	}
	return evs
}

// payloadOf is the n bytes the connection of client cli sends in
// direction dir from sequence number seq (as its sender numbers them):
// the same at every point, other bytes for another connection.
func payloadOf(cli netip.AddrPort, dir int, seq uint32, n int) []byte {
	out := make([]byte, n)
	for j := range out {
		x := uint32(cli.Port())*2654435761 ^ uint32(dir)*40503 ^ (seq+uint32(j))*2246822519
		out[j] = byte(x>>24 ^ x>>13 ^ x)
	}
	return out
}

// feed gives the points' events to a Placer in time order.
func feed(points []hop, evs []ev) *Result { return feedWith(points, evs, nil) }

// feedWith is feed with setup, if not nil, called on the new Placer.
func feedWith(points []hop, evs []ev, setup func(*Placer)) *Result {
	frames := make([]int, len(points))
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].s.Time.Before(evs[j].s.Time) })
	names := make([]string, len(points))
	for i, h := range points {
		names[i] = h.name
	}
	pl := New(names)
	if setup != nil {
		setup(pl)
	}
	streams := make([]map[netip.AddrPort]int, len(points)) // per point, by client endpoint
	for i := range streams {
		streams[i] = map[netip.AddrPort]int{}
	}
	for _, e := range evs {
		frames[e.point]++
		e.s.Frame, e.s.Input = frames[e.point], e.point
		c := e.s.Src
		if c == srv {
			c = e.s.Dst
		}
		st, ok := streams[e.point][c]
		if !ok {
			st = len(streams[e.point])
			streams[e.point][c] = st
		}
		pl.Segment(e.point, st, &e.s)
	}
	for i := range points {
		pl.EndPoint(i)
	}
	return pl.Finish()
}

// conn is a connection's packets: handshake, then the client's data
// segments of 100 bytes every 10 ms, each answered by an ACK, then the
// server's; lost[i] (by the order data is sent: client's first) says
// after which point a data segment's first copy was lost (absent: seen
// everywhere); a lost copy is sent again 200 ms later. ackLost[i] says
// the same of the ACK of data segment i, which is not sent again. Each
// side numbers its packets' IP IDs one by one, as Linux does.
func conn(np int, cdata, sdata int, lost, ackLost map[int]int, merge map[int]bool) []pkt {
	return connMissed(np, cdata, sdata, lost, ackLost, merge, nil)
}

// connMissed is conn where uncaptured[i] names the point (index) whose
// capture misses data segment i, which got through.
func connMissed(np int, cdata, sdata int, lost, ackLost map[int]int, merge map[int]bool, uncaptured map[int]int) []pkt {
	ps := connPkts(np, cdata, sdata, lost, ackLost, merge, uncaptured)
	ids := [2]uint16{100, 7000}
	for i := range ps {
		if ps[i].flags&decode.FlagSYN != 0 && ps[i].flags&decode.FlagACK != 0 {
			continue // Linux sends a SYN-ACK with IP ID 0
		}
		ps[i].ipid = ids[ps[i].dir]
		ids[ps[i].dir]++
	}
	return ps
}

func connPkts(np int, cdata, sdata int, lost, ackLost map[int]int, merge map[int]bool, uncaptured map[int]int) []pkt {
	const ci, si = 1000, 5000
	all := np - 1
	ps := []pkt{
		{dir: 0, seq: ci, flags: decode.FlagSYN, lostAfter: all},
		{dir: 1, seq: si, ack: ci + 1, flags: decode.FlagSYN | decode.FlagACK, at: 2 * time.Millisecond, lostAfter: all},
		{dir: 0, seq: ci + 1, ack: si + 1, flags: decode.FlagACK, at: 4 * time.Millisecond, lostAfter: all},
	}
	at := 10 * time.Millisecond
	k := 0
	for dir, n := range []int{cdata, sdata} {
		base := uint32(ci + 1)
		peer := uint32(si + 1)
		if dir == 1 {
			base, peer = si+1, ci+1+uint32(cdata*100)
		}
		for i := range n {
			seq := base + uint32(i*100)
			l, ok := lost[k]
			if !ok {
				l = all
			}
			un := 0
			if pt, ok := uncaptured[k]; ok {
				un = pt + 1
			}
			ps = append(ps, pkt{dir: dir, seq: seq, ack: peer, flags: decode.FlagACK, n: 100, at: at, lostAfter: l, merge: merge[k], uncaptured: un})
			if ok {
				ps = append(ps, pkt{dir: dir, seq: seq, ack: peer, flags: decode.FlagACK, n: 100, at: at + 200*time.Millisecond, lostAfter: all})
			}
			al, ok := ackLost[k]
			if !ok {
				al = all
			}
			ps = append(ps, pkt{dir: 1 - dir, seq: peer, ack: seq + 100, flags: decode.FlagACK, at: at + 205*time.Millisecond, lostAfter: al})
			at += 10 * time.Millisecond
			k++
		}
	}
	return ps
}

func TestPlacer(t *testing.T) {
	three := []hop{
		{name: "client", ttl: [2]uint8{64, 62}},
		{name: "router", delay: time.Millisecond, off: 0, ttl: [2]uint8{64, 63}},
		{name: "server", delay: 2 * time.Millisecond, off: 30 * time.Millisecond, ttl: [2]uint8{63, 64}},
	}
	// A SYN proxy between the client and the router: the server's
	// sequence numbers differ by a constant past it.
	proxied := []hop{
		{name: "client", ttl: [2]uint8{64, 62}},
		{name: "router", delay: time.Millisecond, ttl: [2]uint8{64, 63}, shift: 0x9000_0000},
		{name: "server", delay: 2 * time.Millisecond, ttl: [2]uint8{63, 64}, shift: 0x9000_0000},
	}
	natted := []hop{
		{name: "client", ttl: [2]uint8{64, 63}},
		{name: "lb", delay: time.Millisecond, ttl: [2]uint8{63, 64}, nat: netip.MustParseAddrPort("198.18.3.1:61000")},
	}
	type want struct {
		dir      int
		from, to string
		lost     int
		bytes    int64
	}
	tests := []struct {
		name    string
		points  []hop
		cdata   int
		sdata   int
		lost    map[int]int
		ackLost map[int]int
		merge   map[int]bool
		// uncaptured: data segment -> the point whose capture misses it
		uncaptured map[int]int
		// ackUncaptured: data segment -> the point whose capture misses
		// its pure ACK
		ackUncaptured map[int]int
		// capMissed is, if set, per hop (as in want) the packets the
		// downstream capture missed.
		capMissed []int
		want      []want // every hop with its loss (0 too)
		// packets is, if set, the packets at the client going to the
		// server: sequence space and pure ACKs.
		packets int
	}{
		{
			// SYN, the handshake's ACK, 10 segments, 5 ACKs.
			name: "clean", points: three, cdata: 10, sdata: 5, packets: 17,
			want: []want{{0, "client", "router", 0, 0}, {0, "router", "server", 0, 0}, {1, "server", "router", 0, 0}, {1, "router", "client", 0, 0}},
		},
		{
			// As "lost both ways", the server's numbers shifted between
			// the client and the router: matched by each point's
			// handshake, nothing more lost.
			name: "sequence numbers shifted", points: proxied, cdata: 10, sdata: 5, lost: map[int]int{3: 1, 12: 0},
			want: []want{{0, "client", "router", 0, 0}, {0, "router", "server", 1, 100}, {1, "server", "router", 1, 100}, {1, "router", "client", 0, 0}},
		},
		{
			// Client data 3 lost in the router; server data 2 (k 12) lost
			// before the router.
			name: "lost both ways", points: three, cdata: 10, sdata: 5, lost: map[int]int{3: 1, 12: 0},
			want: []want{{0, "client", "router", 0, 0}, {0, "router", "server", 1, 100}, {1, "server", "router", 1, 100}, {1, "router", "client", 0, 0}},
		},
		{
			// The server's ACKs of client data 2 and 7 lost in the
			// router, the client's ACK of server data 1 (k 11) before
			// the router: pure ACKs, matched by IP ID.
			name: "acks lost", points: three, cdata: 10, sdata: 3, ackLost: map[int]int{2: 1, 7: 1, 11: 0},
			want: []want{{0, "client", "router", 1, 0}, {0, "router", "server", 0, 0}, {1, "server", "router", 0, 0}, {1, "router", "client", 2, 0}},
		},
		{
			// The server's capture misses client data 2 and 6 (tcpdump's
			// buffer) and the router's server data 1 (k 11), which got
			// through and were acknowledged: missed by those captures,
			// not lost.
			name: "capture missed", points: three, cdata: 10, sdata: 3, uncaptured: map[int]int{2: 2, 6: 2, 11: 1},
			want:      []want{{0, "client", "router", 0, 0}, {0, "router", "server", 0, 0}, {1, "server", "router", 0, 0}, {1, "router", "client", 0, 0}},
			capMissed: []int{0, 2, 1, 0},
		},
		{
			// The client's capture misses server data 1 (k 11), which
			// the client acknowledged, and, 175 ms later, the server's
			// ACK of client data 8: a pure ACK has nothing to tell a
			// capture's drop from the network's by, and the client's
			// capture was missing packets then: missed, not lost.
			name: "capture missed acks", points: three, cdata: 10, sdata: 3, uncaptured: map[int]int{11: 0}, ackUncaptured: map[int]int{8: 0},
			want:      []want{{0, "client", "router", 0, 0}, {0, "router", "server", 0, 0}, {1, "server", "router", 0, 0}, {1, "router", "client", 0, 0}},
			capMissed: []int{0, 0, 0, 2},
		},
		{
			// The server's point sees client segments 4 and 5 merged
			// (GRO): the same bytes, cut differently: no loss.
			name: "merged downstream", points: three, cdata: 10, sdata: 2, merge: map[int]bool{5: true},
			want: []want{{0, "client", "router", 0, 0}, {0, "router", "server", 0, 0}, {1, "server", "router", 0, 0}, {1, "router", "client", 0, 0}},
		},
		{
			// A masquerading load balancer: another client address at
			// the lb, same sequence numbers: one flow.
			name: "nat", points: natted, cdata: 4, sdata: 4, lost: map[int]int{1: 0},
			want: []want{{0, "client", "lb", 1, 100}, {1, "lb", "client", 0, 0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := connMissed(len(tt.points), tt.cdata, tt.sdata, tt.lost, tt.ackLost, tt.merge, tt.uncaptured)
			k := -1 // the handshake's ACK; then the ACK of data k
			for i := range ps {
				if ps[i].n == 0 && ps[i].flags == decode.FlagACK {
					if pt, ok := tt.ackUncaptured[k]; ok {
						ps[i].uncaptured = pt + 1
					}
					k++
				}
			}
			res := run(t, tt.points, nil, ps)
			if res.Len() != 1 {
				t.Fatalf("%d flows, want 1 (matched across points)", res.Len())
			}
			f := res.Flow(0)
			for pt, st := range f.Streams {
				if st != 0 {
					t.Errorf("point %d: stream %d, want 0", pt, st)
				}
			}
			var got []want
			var capMissed []int
			for d := range f.Hops {
				for _, h := range f.Hops[d] {
					capMissed = append(capMissed, h.CaptureMissed)
					got = append(got, want{d, res.Names[h.From], res.Names[h.To], h.Lost, h.Bytes})
					if h.Lost != len(h.Frames) {
						t.Errorf("hop %s->%s: %d lost, %d frames", res.Names[h.From], res.Names[h.To], h.Lost, len(h.Frames))
					}
				}
			}
			if tt.packets != 0 && f.Hops[0][0].Packets != tt.packets {
				t.Errorf("%d packets at the client to the server, want %d", f.Hops[0][0].Packets, tt.packets)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("hops %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("hop %d: %+v, want %+v", i, got[i], tt.want[i])
				}
			}
			if tt.capMissed != nil && !slices.Equal(capMissed, tt.capMissed) {
				t.Errorf("capture missed per hop %v, want %v", capMissed, tt.capMissed)
			}
			if res.Reference != 0 {
				t.Errorf("reference point %d, want 0 (the client's)", res.Reference)
			}
			for pt, h := range tt.points {
				o := res.OffsetMs[pt]
				if o == nil {
					t.Fatalf("point %s: no clock offset", h.name)
				}
				if want := float64(h.off) / float64(time.Millisecond); math.Abs(*o-want) > 0.01 {
					t.Errorf("point %s: clock offset %.3f ms, want %.3f", h.name, *o, want)
				}
			}
		})
	}
}

// TestPlacerLostFrame holds that the frame named for a loss is the copy
// that did not get through (the first), not the retransmission that did.
func TestPlacerLostFrame(t *testing.T) {
	points := []hop{
		{name: "client", ttl: [2]uint8{64, 63}},
		{name: "server", delay: time.Millisecond, ttl: [2]uint8{63, 64}},
	}
	res := run(t, points, nil, conn(2, 3, 0, map[int]int{1: 0}, nil, nil))
	h := res.Flow(0).Hops[0][0]
	if h.Lost != 1 || len(h.Frames) != 1 {
		t.Fatalf("hop %+v, want one loss", h)
	}
	want := t0.Add(20 * time.Millisecond) // data segment 1's first copy
	if got := h.Frames[0].Time; !got.Equal(want) {
		t.Errorf("lost frame at %s, want the first copy's %s", got, want)
	}
}

// TestPlacerMemory holds the Placer's memory to the open connections'
// recent packets: a long connection's ranges are compared and dropped
// once acknowledged at every point and PlaceHold old, not kept to its end
// (without TCP timestamps: TestPlacerRaceGuard has them).
func TestPlacerMemory(t *testing.T) {
	pl := New([]string{"client", "server"})
	var frames [2]int
	give := func(point int, s decode.Segment) {
		frames[point]++
		s.Frame, s.Input, s.IPVersion = frames[point], point, 4
		pl.Segment(point, 0, &s)
	}
	const n = 6000 // a minute of a segment every 10 ms
	const ci, si = 1000, 5000
	maxHeld := 0
	give(0, decode.Segment{Time: t0, Src: cli, Dst: srv, TTL: 64, IPID: 1, Seq: ci, Flags: decode.FlagSYN})
	give(1, decode.Segment{Time: t0.Add(time.Millisecond), Src: cli, Dst: srv, TTL: 63, IPID: 1, Seq: ci, Flags: decode.FlagSYN})
	give(1, decode.Segment{Time: t0.Add(2 * time.Millisecond), Src: srv, Dst: cli, TTL: 64, Seq: si, Ack: ci + 1, Flags: decode.FlagSYN | decode.FlagACK})
	give(0, decode.Segment{Time: t0.Add(3 * time.Millisecond), Src: srv, Dst: cli, TTL: 63, Seq: si, Ack: ci + 1, Flags: decode.FlagSYN | decode.FlagACK})
	for i := range n {
		at := t0.Add(10*time.Millisecond + time.Duration(i)*10*time.Millisecond)
		seq := uint32(ci + 1 + i*100)
		data := decode.Segment{Src: cli, Dst: srv, Seq: seq, Ack: si + 1, Flags: decode.FlagACK, PayloadLen: 100, IPID: uint16(2 + i)}
		ack := decode.Segment{Src: srv, Dst: cli, Seq: si + 1, Ack: seq + 100, Flags: decode.FlagACK, IPID: uint16(1 + i)}
		data.Time, data.TTL = at, 64
		give(0, data)
		data.Time, data.TTL = at.Add(time.Millisecond), 63
		give(1, data)
		ack.Time, ack.TTL = at.Add(2*time.Millisecond), 64
		give(1, ack)
		ack.Time, ack.TTL = at.Add(3*time.Millisecond), 63
		give(0, ack)
		held := 0
		for _, f := range pl.open {
			for d := range f.dir {
				held += f.dir[d].recs.len() + f.dir[d].acks.len()
			}
		}
		maxHeld = max(maxHeld, held)
	}
	// PlaceHold plus a sweep of 4 packets (2 each way, 2 points) every
	// 10 ms, and some slack.
	limit := int((verdict.PlaceHold+2*verdict.PlaceSweep)/(10*time.Millisecond)) * 4
	if maxHeld > limit {
		t.Errorf("held %d packets at most, want at most %d (of %d)", maxHeld, limit, 4*n)
	}
	t.Logf("held %d packets at most (limit %d, of %d)", maxHeld, limit, 4*n)
	res := pl.Finish()
	h := res.Flow(0).Hops[0][0]
	if h.Packets != n+1 || h.Lost != 0 {
		t.Errorf("client->server hop %+v, want %d packets, none lost", h, n+1)
	}
}

// TestPlacerAbsent holds that a connection a point never saw is lost
// before that point when the point was capturing and its sibling (to the
// same server) crossed it: SYNs that never reached the server.
func TestPlacerAbsent(t *testing.T) {
	three := []hop{
		{name: "client", ttl: [2]uint8{64, 62}},
		{name: "router", delay: time.Millisecond, ttl: [2]uint8{64, 63}},
		{name: "server", delay: 2 * time.Millisecond, ttl: [2]uint8{63, 64}},
	}
	evs := events(three, cli, conn(3, 10, 3, nil, nil, nil))
	// Another client port: its SYN, sent three times, dies in the
	// router.
	other := netip.MustParseAddrPort("198.18.1.2:40001")
	var syns []pkt
	for i, at := range []time.Duration{30, 1030, 3030} {
		syns = append(syns, pkt{dir: 0, seq: 777, flags: decode.FlagSYN, at: at * time.Millisecond, lostAfter: 1, ipid: uint16(900 + i)})
	}
	evs = append(evs, events(three, other, syns)...)
	// A third: its SYN answered by an RST "from the server" that the
	// router sent (the server's point never sees either).
	refused := netip.MustParseAddrPort("198.18.1.2:40002")
	evs = append(evs, events(three, refused, []pkt{
		{dir: 0, seq: 555, flags: decode.FlagSYN, at: 40 * time.Millisecond, lostAfter: 1, ipid: 950},
		{dir: 1, seq: 0, ack: 556, flags: decode.FlagRST | decode.FlagACK, at: 40 * time.Millisecond, lostAfter: 2, uncaptured: 3},
	})...)
	res := feed(three, evs)
	if res.Len() != 3 {
		t.Fatalf("%d flows, want 3", res.Len())
	}
	var dead, ref *FlowResult
	for _, f := range res.All() {
		switch {
		case f.Streams[2] >= 0 || len(f.Hops[0]) == 0:
		case f.Hops[0][0].Packets == 3: // the three SYNs
			dead = f
		default:
			ref = f
		}
	}
	if ref == nil || len(ref.Hops[0]) != 2 || ref.Hops[0][1].Refused != 1 || ref.Hops[0][1].Lost != 0 {
		t.Errorf("refused flow %+v, want its SYN refused between router and server, not lost", ref)
	}
	if dead == nil {
		t.Fatal("no flow missing at the server")
	}
	if len(dead.Hops[0]) != 2 {
		t.Fatalf("hops %+v, want client->router and router->server", dead.Hops[0])
	}
	h := dead.Hops[0][1]
	if res.Names[h.From] != "router" || res.Names[h.To] != "server" || h.Lost != 3 || h.Packets != 3 || len(h.Frames) != 3 {
		t.Errorf("hop %+v, want the 3 SYNs lost between router and server", h)
	}
	if h := dead.Hops[0][0]; h.Lost != 0 {
		t.Errorf("hop %+v: lost before the router", h)
	}
}

// TestPlacerAbsentAnswered: a connection the router's capture lacks
// whole (tcpdump there filtered on ports), whose data the server and the
// client acknowledged, is missed by that capture, not lost before it,
// though a sibling to the same server crossed the router: an etcd
// member's capture filtered to one peer had every packet of its
// connections with the other lost "between the members". What it lost
// past the router each way is placed between the points either side of
// the router (one packet each way). A SYN that dies in the router,
// unanswered, is still lost there (TestPlacerAbsent).
func TestPlacerAbsentAnswered(t *testing.T) {
	three := []hop{
		{name: "client", ttl: [2]uint8{64, 62}},
		{name: "router", delay: time.Millisecond, ttl: [2]uint8{64, 63}},
		{name: "server", delay: 2 * time.Millisecond, ttl: [2]uint8{63, 64}},
	}
	evs := events(three, cli, conn(3, 10, 3, nil, nil, nil))
	filtered := netip.MustParseAddrPort("198.18.1.2:40001")
	// The client's second data segment lost past the router, and the
	// server's second past the router on its way back.
	ps := conn(3, 4, 4, map[int]int{1: 1, 5: 1}, nil, nil)
	for k := range ps {
		ps[k].uncaptured = 2 // never at the router
		ps[k].at += 50 * time.Millisecond
		ps[k].seq += 3000000
		if ps[k].flags&decode.FlagACK != 0 {
			ps[k].ack += 3000000
		}
	}
	evs = append(evs, events(three, filtered, ps)...)
	evs = append(evs, events(three, netip.MustParseAddrPort("198.18.1.2:40002"), []pkt{
		{dir: 0, seq: 777, flags: decode.FlagSYN, at: 60 * time.Millisecond, lostAfter: 1, ipid: 900},
	})...)
	// A SYN seen at the client only, unanswered: the router's capture,
	// shown to lack connections to this server, shows nothing by
	// lacking it; lost between the client and the server.
	evs = append(evs, events(three, netip.MustParseAddrPort("198.18.1.2:40003"), []pkt{
		{dir: 0, seq: 888, flags: decode.FlagSYN, at: 20 * time.Millisecond, lostAfter: 0, ipid: 901},
	})...)
	res := feed(three, evs)
	if res.Len() != 4 {
		t.Fatalf("%d flows, want 4", res.Len())
	}
	var missed, dead, blind *FlowResult
	for _, f := range res.All() {
		switch {
		case f.Streams[1] < 0 && f.Streams[0] >= 0 && len(f.Hops[1]) > 0:
			missed = f
		case f.Streams[1] < 0:
			blind = f
		case f.Streams[2] < 0:
			dead = f
		}
	}
	if missed == nil || dead == nil || blind == nil {
		t.Fatalf("flows missing at the router %v and %v, at the server %v: want one each", missed, blind, dead)
	}
	if h := blind.Hops[0]; len(h) != 1 || res.Names[h[0].From] != "client" || res.Names[h[0].To] != "server" || h[0].Lost != 1 {
		t.Errorf("SYN at the client alone, hops %+v: want it lost between client and server, not before the router", h)
	}
	for d, ends := range [][2]string{{"client", "server"}, {"server", "client"}} {
		got := map[string]HopResult{}
		for _, h := range missed.Hops[d] {
			got[res.Names[h.From]+">"+res.Names[h.To]] = h
		}
		into, across := got[ends[0]+">router"], got[ends[0]+">"+ends[1]]
		if !into.MissedWhole || into.Packets == 0 || into.CaptureMissed != into.Packets || into.Lost != 0 {
			t.Errorf("direction %d %s -> router %+v: want its packets missed whole by the router's capture", d, ends[0], into)
		}
		if across.MissedWhole || across.Lost != 1 || across.Packets != into.Packets {
			t.Errorf("direction %d %s -> %s %+v: want the %d packets compared, 1 lost", d, ends[0], ends[1], across, into.Packets)
		}
		if len(got) != 2 {
			t.Errorf("direction %d hops %v: want only those two", d, got)
		}
	}
	if h := dead.Hops[0]; len(h) != 2 || h[1].Lost != 1 || h[1].MissedWhole {
		t.Errorf("unanswered SYN's hops %+v: want it lost between router and server", h)
	}
}

// TestPlacerMidStreamNAT holds that a connection whose capture behind a
// NAT began after its handshake (no SYN, another 4-tuple) is matched by
// its sequence numbers, and an unrelated connection is not.
func TestPlacerMidStreamNAT(t *testing.T) {
	natted := []hop{
		{name: "client", ttl: [2]uint8{64, 63}},
		{name: "lb", delay: time.Millisecond, ttl: [2]uint8{63, 64}, nat: netip.MustParseAddrPort("198.18.3.1:61000")},
	}
	ps := conn(2, 6, 4, map[int]int{2: 0}, nil, nil)
	for i := range ps[:3] {
		ps[i].uncaptured = 2 // the lb's capture begins after the handshake
	}
	evs := events(natted, cli, ps)
	// Another connection at the lb only, under its own numbers.
	other := netip.MustParseAddrPort("198.18.1.2:40009")
	evs = append(evs, events(natted, other, []pkt{
		{dir: 0, seq: 99999, ack: 123456, flags: decode.FlagACK, n: 100, at: 50 * time.Millisecond, lostAfter: 1, ipid: 5, uncaptured: 1},
	})...)
	res := feed(natted, evs)
	matched := 0
	for _, f := range res.All() {
		if f.Streams[0] >= 0 && f.Streams[1] >= 0 {
			matched++
			if len(f.Hops[0]) != 1 || f.Hops[0][0].Lost != 1 {
				t.Errorf("client->lb %+v, want data 2 lost", f.Hops[0])
			}
		}
	}
	if matched != 1 || res.Len() != 2 {
		t.Errorf("%d flows, %d matched at both points; want 2, 1", res.Len(), matched)
	}
}

// TestPlacerICMP: packets a box stopped and said so with an ICMP error
// quoting them are counted apart (HopResult.ICMP), not lost; a quoted pure
// ACK is told from the data with its sequence number by its IP ID, so a
// data packet lost silently with that number stays lost.
func TestPlacerICMP(t *testing.T) {
	points := []hop{
		{name: "client", ttl: [2]uint8{64, 63}},
		{name: "router", delay: time.Millisecond, ttl: [2]uint8{64, 63}},
		{name: "server", delay: 2 * time.Millisecond, ttl: [2]uint8{63, 64}},
	}
	const ci, si = 1000, 5000
	// Client data 3 stopped after the router (a firewall's reject there);
	// the server's ACK of client data 2 stopped between the router and
	// the client; server data 0 (k 10, sequence si+1, as that ACK's) lost
	// silently there.
	ps := connMissed(3, 10, 5, map[int]int{3: 1, 10: 1}, map[int]int{2: 1}, nil, nil)
	router := netip.MustParseAddr("198.18.1.1")
	var quotes []decode.ICMPError
	for _, p := range ps {
		switch {
		case p.dir == 0 && p.n > 0 && p.seq == ci+1+300 && p.lostAfter == 1:
			quotes = append(quotes, decode.ICMPError{From: router, Kind: decode.ICMPUnreachable, Src: cli, Dst: srv, Seq: p.seq, IPID: p.ipid})
		case p.dir == 1 && p.n == 0 && p.ack == ci+1+300 && p.lostAfter == 1:
			quotes = append(quotes, decode.ICMPError{From: router, Kind: decode.ICMPUnreachable, Src: srv, Dst: cli, Seq: p.seq, IPID: p.ipid})
		}
	}
	if len(quotes) != 2 {
		t.Fatalf("%d packets to quote", len(quotes))
	}
	evs := events(points, cli, ps)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].s.Time.Before(evs[j].s.Time) })
	pl := New([]string{"client", "router", "server"})
	frames := make([]int, 3)
	for _, e := range evs {
		frames[e.point]++
		e.s.Frame, e.s.Input = frames[e.point], e.point
		pl.Segment(e.point, 0, &e.s)
		// The router's capture sees its own ICMP error right after the
		// packet it stopped.
		for _, q := range quotes {
			if e.point == 1 && e.s.Src == q.Src && e.s.Seq == q.Seq && e.s.IPID == q.IPID {
				pl.ICMP(1, &q)
			}
		}
	}
	for i := range points {
		pl.EndPoint(i)
	}
	res := pl.Finish()
	if res.Len() != 1 {
		t.Fatalf("%d flows", res.Len())
	}
	type got struct {
		from, to   string
		lost, icmp int
	}
	want := [2][]got{
		{{"client", "router", 0, 0}, {"router", "server", 0, 1}},
		{{"server", "router", 0, 0}, {"router", "client", 1, 1}},
	}
	for d, hs := range res.Flow(0).Hops {
		var g []got
		for _, h := range hs {
			g = append(g, got{res.Names[h.From], res.Names[h.To], h.Lost, h.ICMP})
			if h.ICMP > 0 && !slices.Equal(h.ICMPFrom, []netip.Addr{router}) {
				t.Errorf("direction %d hop %s->%s: ICMP from %v, want %v", d, res.Names[h.From], res.Names[h.To], h.ICMPFrom, router)
			}
		}
		if !slices.Equal(g, want[d]) {
			t.Errorf("direction %d: hops %+v, want %+v", d, g, want[d])
		}
	}
}

// TestPlacerCleanPacked holds that clean connections are kept packed once
// retired (not whole until Finish) and come back from Result.Flow as a
// whole one's would: every point's stream and sender, the path each way,
// a hop per adjacent pair with the packets sent across it; a lossy one
// among them stays whole, its loss placed.
func TestPlacerCleanPacked(t *testing.T) {
	three := []hop{
		{name: "client", ttl: [2]uint8{64, 62}},
		{name: "router", delay: time.Millisecond, ttl: [2]uint8{64, 63}},
		{name: "server", delay: 2 * time.Millisecond, ttl: [2]uint8{63, 64}},
	}
	var evs []ev
	const n = 20
	for i := range n {
		var lost map[int]int
		if i == 7 {
			lost = map[int]int{3: 1} // client data 3 lost in the router
		}
		ps := conn(3, 10, 5, lost, nil, nil)
		// A FIN each way closes it; the next begins 10 s later, so
		// that the earlier ones retire while the later are read.
		end := ps[len(ps)-1].at + time.Millisecond
		ps = append(ps,
			pkt{dir: 0, seq: 1001 + 1000, ack: 5001 + 500, flags: decode.FlagFIN | decode.FlagACK, at: end, lostAfter: 2, ipid: 3000},
			pkt{dir: 1, seq: 5001 + 500, ack: 1001 + 1001, flags: decode.FlagFIN | decode.FlagACK, at: end + time.Millisecond, lostAfter: 2, ipid: 9000})
		for k := range ps {
			ps[k].at += time.Duration(i) * 10 * time.Second
		}
		c := netip.AddrPortFrom(cli.Addr(), cli.Port()+uint16(i))
		evs = append(evs, events(three, c, ps)...)
	}
	res := feed(three, evs)
	if res.Len() != n {
		t.Fatalf("%d flows, want %d", res.Len(), n)
	}
	if len(res.full) != 1 {
		t.Errorf("%d flows kept whole, want 1 (the lossy one; the clean ones packed)", len(res.full))
	}
	for i, f := range res.All() {
		for pt, st := range f.Streams {
			if st < 0 || f.Sender0[pt] == "" {
				t.Fatalf("flow %d: streams %v, senders %v: want every point", i, f.Streams, f.Sender0)
			}
		}
		if !slices.Equal(f.Path[0], []int{0, 1, 2}) || !slices.Equal(f.Path[1], []int{2, 1, 0}) {
			t.Errorf("flow %d: paths %v, want client, router, server and back", i, f.Path)
		}
		lossy := f.Sender0[0] == netip.AddrPortFrom(cli.Addr(), cli.Port()+7).String()
		for d, hs := range f.Hops {
			if len(hs) != 2 {
				t.Fatalf("flow %d direction %d: hops %+v, want 2", i, d, hs)
			}
			for k, h := range hs {
				// Client->server: SYN, the handshake's ACK, 10 data
				// (one sent twice where lost), 5 ACKs, FIN; back:
				// SYN-ACK, 5 data, 10 ACKs, FIN.
				want := [2]int{18, 17}[d]
				lost := 0
				if lossy && d == 0 {
					if k == 0 {
						want++
					} else {
						want, lost = want+1, 1
					}
				}
				if h.From != f.Path[d][k] || h.To != f.Path[d][k+1] || h.Packets != want || h.Lost != lost {
					t.Errorf("flow %d direction %d hop %d: %+v, want %d->%d, %d packets, %d lost", i, d, k, h, f.Path[d][k], f.Path[d][k+1], want, lost)
				}
			}
		}
	}
}

// TestCleanFlowsRoundTrip holds that a packed clean record gives back
// what was packed, IPv4 and IPv6 endpoints (with a zone) alike, and the
// points' streams read alone (streams, streamAt) are the ones unpacked.
func TestCleanFlowsRoundTrip(t *testing.T) {
	c := cleanFlows{np: 2}
	eps := []netip.AddrPort{
		netip.MustParseAddrPort("198.18.1.2:40000"),
		netip.MustParseAddrPort("[fd18::1%eth0]:443"),
		netip.MustParseAddrPort("[fd18::2]:65535"),
	}
	type rec struct{ chunk, off int32 }
	var recs []rec
	for i := range 3000 { // past one block
		f := &flow{syn: i%2 == 0, at: []*member{
			{stream: i, ep0: eps[i%3], ep1: eps[(i+1)%3]},
			{stream: 70000 + i, ep0: eps[(i+2)%3], ep1: eps[i%3]},
		}}
		f.res[0].packets = []int{i, 300 * i}
		if i%3 != 0 {
			f.res[1].packets = []int{1, 2}
		}
		ch, off := c.add(f, [2][]int{{0, 1}, {1}})
		recs = append(recs, rec{ch, off})
	}
	if len(c.chunks) < 2 {
		t.Fatalf("%d blocks, want the records past one", len(c.chunks))
	}
	for i, r := range recs {
		cf := c.get(r.chunk, r.off)
		if cf.syn != (i%2 == 0) || !slices.Equal(cf.streams, []int{i, 70000 + i}) ||
			cf.ep0[0] != eps[i%3] || cf.ep1[0] != eps[(i+1)%3] || cf.ep0[1] != eps[(i+2)%3] || cf.ep1[1] != eps[i%3] ||
			!slices.Equal(cf.packets[0], []int{i, 300 * i}) || (i%3 != 0) != (cf.packets[1] != nil) ||
			!slices.Equal(cf.path[0], []int{0, 1}) || !slices.Equal(cf.path[1], []int{1}) {
			t.Fatalf("record %d: %+v", i, cf)
		}
		for pt := range 3 {
			if got, want := c.streamAt(r.chunk, r.off, pt), [...]int{i, 70000 + i, -1}[pt]; got != want {
				t.Fatalf("record %d: streamAt(%d) %d, want %d", i, pt, got, want)
			}
		}
		var all []int
		c.streams(r.chunk, r.off, func(_, st int) bool { all = append(all, st); return true })
		if !slices.Equal(all, cf.streams) {
			t.Fatalf("record %d: streams %v, want %v", i, all, cf.streams)
		}
	}
	// getInto and resultInto, one cleanFlow and FlowResult for every
	// record in turn (Result.Apply), give what get and result give:
	// records with and without direction 1's packets alternate.
	var s flowScratch
	for i, r := range recs {
		c.getInto(&s.cf, r.chunk, r.off)
		s.hops = s.cf.resultInto(&s.fr, s.hops)
		want := c.get(r.chunk, r.off).result()
		if !slices.Equal(s.fr.Streams, want.Streams) || !reflect.DeepEqual(s.fr.Path, want.Path) || !reflect.DeepEqual(s.fr.Hops, want.Hops) {
			t.Fatalf("record %d made in turn: %+v, want %+v", i, s.fr, want)
		}
		for pt, w := range want.Sender0 {
			if got := string(s.fr.appendSender0(nil, pt)); got != w {
				t.Fatalf("record %d: sender at %d %q, want %q", i, pt, got, w)
			}
		}
	}
}

// TestCleanFlowsAbsentPoints holds that a record of a flow one point did
// not see (SeenOnly) gives that point stream -1 and no sender, and that a
// record packed before a point was added (AddPoint) reads back with the
// new point unseen.
func TestCleanFlowsAbsentPoints(t *testing.T) {
	c := cleanFlows{np: 2}
	ep := netip.MustParseAddrPort("198.18.1.2:40000")
	srv := netip.MustParseAddrPort("198.18.2.2:8080")
	f := &flow{at: []*member{nil, {stream: 7, ep0: ep, ep1: srv}}}
	f.res[0].packets = []int{0, 5}
	ch, off := c.add(f, [2][]int{{1}, nil})
	c.np = 3 // a point added after the record
	cf := c.get(ch, off)
	if !slices.Equal(cf.streams, []int{-1, 7, -1}) || cf.ep0[1] != ep || cf.ep1[1] != srv ||
		!slices.Equal(cf.packets[0], []int{0, 5, 0}) || !slices.Equal(cf.path[0], []int{1}) {
		t.Fatalf("record: %+v", cf)
	}
	for pt, want := range cf.streams {
		if got := c.streamAt(ch, off, pt); got != want {
			t.Errorf("streamAt(%d) %d, want %d", pt, got, want)
		}
	}
	fr := cf.result()
	if !slices.Equal(fr.Sender0, []string{"", ep.String(), ""}) {
		t.Errorf("senders %q, want only point 1's", fr.Sender0)
	}
}

// TestPlacerMidStreamProxy holds that a connection a point began
// capturing after its handshake, behind a NAT and a SYN proxy (its
// 4-tuple and the server's sequence numbers both differ there), is
// matched by its bytes, whichever point saw them first and whichever
// direction that point's first packet took, and its losses placed; an
// unrelated connection at one point stays apart.
func TestPlacerMidStreamProxy(t *testing.T) {
	// The load balancer masquerades the client and, as a SYN proxy,
	// shifts the server's sequence numbers on the client's side of it.
	points := []hop{
		{name: "client", ttl: [2]uint8{64, 63}, shift: 0x9000_0000},
		{name: "lb", delay: time.Millisecond, ttl: [2]uint8{63, 64}, nat: netip.MustParseAddrPort("198.18.3.1:61000")},
	}
	for _, tc := range []struct {
		name string
		late int // the point (index) whose capture begins late
		// from: when the late capture begins (10 ms: after the
		// handshake; 70 ms: after the client's data too, so that its
		// first packet is the server's)
		from time.Duration
		lost map[int]int
		dir  int // the direction with a loss between the points
	}{
		{"late at the lb", 1, 10 * time.Millisecond, map[int]int{2: 0}, 0},
		{"late at the client", 0, 10 * time.Millisecond, map[int]int{8: 0}, 1},
		{"late at the client, from the server's data", 0, 70 * time.Millisecond, map[int]int{8: 0}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps := conn(2, 6, 4, tc.lost, nil, nil)
			for i := range ps {
				if ps[i].at < tc.from {
					ps[i].uncaptured = tc.late + 1
				}
			}
			evs := events(points, cli, ps)
			// Another connection, at the lb only, under its own numbers.
			other := netip.MustParseAddrPort("198.18.1.2:40009")
			evs = append(evs, events(points, other, []pkt{
				{dir: 0, seq: 99999, ack: 123456, flags: decode.FlagACK, n: 100, at: 50 * time.Millisecond, lostAfter: 1, ipid: 5, uncaptured: 1},
			})...)
			res := feed(points, evs)
			if res.Len() != 2 {
				t.Fatalf("%d flows, want 2", res.Len())
			}
			matched := 0
			for _, f := range res.All() {
				if f.Streams[0] < 0 || f.Streams[1] < 0 {
					continue
				}
				matched++
				for d, hs := range f.Hops {
					want := 0
					if d == tc.dir {
						want = 1
					}
					if len(hs) != 1 || hs[0].Lost != want || hs[0].Packets == 0 {
						t.Errorf("direction %d: hops %+v, want one with %d lost", d, hs, want)
					}
				}
			}
			if matched != 1 {
				t.Errorf("%d flows matched at both points, want 1", matched)
			}
		})
	}
}

// TestPlacerContentOffset: an orphan's segment that begins inside another
// point's (its capture began mid-segment, or GRO merged it differently)
// is matched by the bytes of the other's next segment start within it.
func TestPlacerContentOffset(t *testing.T) {
	pl := New([]string{"client", "lb"})
	lbCli := netip.MustParseAddrPort("198.18.3.1:61000")
	const shift = 0x9000_0000
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	seg := func(src, dst netip.AddrPort, ms int, seq, ack uint32, flags decode.TCPFlags, payload []byte) *decode.Segment {
		return &decode.Segment{Time: at(ms), Src: src, Dst: dst, TTL: 64, IPVersion: 4, Seq: seq, Ack: ack, Flags: flags, PayloadLen: len(payload), Payload: payload}
	}
	pl.Segment(0, 0, seg(cli, srv, 0, 1000, 0, decode.FlagSYN, nil))
	pl.Segment(0, 0, seg(srv, cli, 1, 5000+shift, 1001, decode.FlagSYN|decode.FlagACK, nil))
	pl.Segment(0, 0, seg(cli, srv, 2, 1001, 5001+shift, decode.FlagACK, nil))
	for i := range 3 {
		seq := uint32(1001 + 100*i)
		pl.Segment(0, 0, seg(cli, srv, 10+i, seq, 5001+shift, decode.FlagACK, payloadOf(cli, 0, seq, 100)))
	}
	// The lb's first packet: bytes 1051 to 1251, its ACK in the server's
	// own numbers.
	pl.Segment(1, 0, seg(lbCli, srv, 13, 1051, 5001, decode.FlagACK, payloadOf(cli, 0, 1051, 200)))
	pl.Segment(1, 0, seg(srv, lbCli, 14, 5001, 1251, decode.FlagACK, nil))
	pl.EndPoint(0)
	pl.EndPoint(1)
	res := pl.Finish()
	if res.Len() != 1 {
		t.Fatalf("%d flows, want 1 (the lb's matched by the bytes at 1101 inside its segment)", res.Len())
	}
	if f := res.Flow(0); f.Streams[0] != 0 || f.Streams[1] != 0 {
		t.Errorf("streams %v", f.Streams)
	}
}

// TestPlacerMidStreamProxyPairs: four points, every capture begun after
// the handshake, a SYN proxy in the router between router-c and
// router-s: the server's sequence numbers differ across the router.
// With a masquerade there too, client and router-c share one 4-tuple,
// router-s and the server another: each pair is one flow by its 4-tuple,
// and the two are merged whole by their bytes. Without it all four
// share the 4-tuple, and a point whose numbers are far from the flow's
// is not joined to it by the 4-tuple alone: the same merge follows. The
// server->client packet lost in the router is placed between router-s
// and router-c, and nothing else is lost.
func TestPlacerMidStreamProxyPairs(t *testing.T) {
	for _, masq := range []bool{true, false} {
		t.Run(fmt.Sprintf("masquerade %v", masq), func(t *testing.T) { midStreamProxyPairs(t, masq) })
	}
}

func midStreamProxyPairs(t *testing.T, masq bool) {
	var nat netip.AddrPort
	if masq {
		nat = netip.MustParseAddrPort("198.18.3.1:61000")
	}
	points := []hop{
		{name: "client", ttl: [2]uint8{64, 63}, shift: 0x9000_0000},
		{name: "router-c", delay: time.Millisecond, ttl: [2]uint8{64, 63}, shift: 0x9000_0000},
		{name: "router-s", delay: 2 * time.Millisecond, ttl: [2]uint8{63, 64}, nat: nat},
		{name: "server", delay: 3 * time.Millisecond, ttl: [2]uint8{63, 64}, nat: nat},
	}
	var ps []pkt
	for _, p := range conn(4, 6, 4, map[int]int{8: 1}, nil, nil) {
		if p.at >= 10*time.Millisecond {
			ps = append(ps, p)
		}
	}
	res := feed(points, events(points, cli, ps))
	if res.Len() != 1 {
		t.Fatalf("%d flows, want 1: the two pairs merged", res.Len())
	}
	f := res.Flow(0)
	for pt, st := range f.Streams {
		if st < 0 {
			t.Errorf("point %s: not matched", res.Names[pt])
		}
	}
	lost := map[string]int{}
	for d, hs := range f.Hops {
		for _, h := range hs {
			lost[fmt.Sprintf("%d %s>%s", d, res.Names[h.From], res.Names[h.To])] += h.Lost
		}
	}
	want := map[string]int{"0 client>router-c": 0, "0 router-c>router-s": 0, "0 router-s>server": 0,
		"1 server>router-s": 0, "1 router-s>router-c": 1, "1 router-c>client": 0}
	if !maps.Equal(lost, want) {
		t.Errorf("lost per hop %v, want %v", lost, want)
	}
}

// TestPlacerContentNoFalseMatch: two connections seen mid-way, one at
// each point, that carry the same bytes within a second (a repeated
// health check's response) under other sequence and acknowledgment
// numbers and without TCP timestamps: nothing says they are one, and
// they are not merged. The same with one direction's numbers equal (a
// NAT and a SYN proxy) is.
func TestPlacerContentNoFalseMatch(t *testing.T) {
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	other := netip.MustParseAddrPort("198.18.3.1:61000")
	for _, tc := range []struct {
		name       string
		seq, ack   uint32 // the second point's copy's numbers
		wantMerged bool
	}{
		{"other connection", 777777, 424242, false},
		{"same client numbers", 2001, 424242, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pl := New([]string{"a", "b"})
			body := payloadOf(cli, 1, 0, 100)
			pl.Segment(0, 0, &decode.Segment{Time: at(0), Src: srv, Dst: cli, TTL: 64, IPVersion: 4, Seq: 9001, Ack: 2001, Flags: decode.FlagACK, PayloadLen: len(body), Payload: body})
			pl.Segment(1, 0, &decode.Segment{Time: at(300), Src: srv, Dst: other, TTL: 64, IPVersion: 4, Seq: tc.ack, Ack: tc.seq, Flags: decode.FlagACK, PayloadLen: len(body), Payload: body})
			pl.EndPoint(0)
			pl.EndPoint(1)
			res := pl.Finish()
			if merged := res.Len() == 1; merged != tc.wantMerged {
				t.Errorf("%d flows: merged %v, want %v", res.Len(), merged, tc.wantMerged)
			}
		})
	}
}

// TestPlacerPastMissed holds that a copy a point lacks but a point
// further along the path saw went through it: the middle point's capture
// missed it (the heavy lab runs: a retransmission at the load balancer's
// outer interface and at the client, not in the inner interface's
// capture, which dropped thousands), not lost between the points before
// it. A copy no point past it saw stays lost.
func TestPlacerPastMissed(t *testing.T) {
	three := []hop{
		{name: "client", ttl: [2]uint8{64, 62}},
		{name: "router", delay: time.Millisecond, ttl: [2]uint8{64, 63}},
		{name: "server", delay: 2 * time.Millisecond, ttl: [2]uint8{63, 64}},
	}
	tests := []struct {
		name string
		// change is done to the copy of client data segment 3 sent
		// again (its first copy got through: the second is spurious).
		change             func(p *pkt)
		lost, capMissed    int // client -> router
		lostAfter, missAft int // router -> server
		// ackChange is done to the server's pure ACK of data segment
		// 6, and ackLost, ackMissed are then server -> router's.
		ackChange          func(p *pkt)
		ackLost, ackMissed int
	}{
		{"the router's capture missed it", func(p *pkt) { p.uncaptured = 2 }, 0, 1, 0, 0, nil, 0, 0},
		{"lost before the router", func(p *pkt) { p.lostAfter = 0 }, 1, 0, 0, 0, nil, 0, 0},
		{"lost after the router", func(p *pkt) { p.lostAfter = 1 }, 0, 0, 1, 0, nil, 0, 0},
		{"an ACK the router's capture missed", func(p *pkt) {}, 0, 0, 0, 0, func(p *pkt) { p.uncaptured = 2 }, 0, 1},
		{"an ACK lost before the router", func(p *pkt) {}, 0, 0, 0, 0, func(p *pkt) { p.lostAfter = 0 }, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := conn(3, 10, 0, map[int]int{3: 2}, nil, nil)
			if tt.ackChange != nil {
				// The server's pure ACK of data segment 6 (sequence
				// numbers 1,601 to 1,700).
				for i := range ps {
					if ps[i].dir == 1 && ps[i].n == 0 && ps[i].flags == decode.FlagACK && ps[i].ack == 1000+1+7*100 {
						tt.ackChange(&ps[i])
					}
				}
			}
			seq, n := uint32(0), 0
			for i := range ps {
				if ps[i].dir == 0 && ps[i].n > 0 {
					if n == 3 {
						seq = ps[i].seq
					}
					n++
				}
			}
			found := false
			for i := range ps {
				if ps[i].dir == 0 && ps[i].n > 0 && ps[i].seq == seq && ps[i].at > 200*time.Millisecond {
					tt.change(&ps[i])
					found = true
				}
			}
			if !found {
				t.Fatal("no copy sent again")
			}
			res := run(t, three, nil, ps)
			h := res.Flow(0).Hops[0]
			if len(h) != 2 {
				t.Fatalf("hops %+v", h)
			}
			if h[0].Lost != tt.lost || h[0].CaptureMissed != tt.capMissed || len(h[0].Frames) != tt.lost {
				t.Errorf("client->router %+v, want %d lost, %d missed by the router's capture", h[0], tt.lost, tt.capMissed)
			}
			if h[1].Lost != tt.lostAfter || h[1].CaptureMissed != tt.missAft {
				t.Errorf("router->server %+v, want %d lost, %d missed", h[1], tt.lostAfter, tt.missAft)
			}
			if back := res.Flow(0).Hops[1]; len(back) != 2 || back[0].Lost != tt.ackLost || back[0].CaptureMissed != tt.ackMissed {
				t.Errorf("server->client hops %+v, want server->router %d lost, %d missed", back, tt.ackLost, tt.ackMissed)
			}
		})
	}
}

// TestPlacerReuse: a retired flow's dirLogs and blocks, and a clean
// one's flow and members once packed, are taken by the flows that come
// after (placing four points of 50,000 short connections allocated a
// third as much), and that changes nothing: connections one after another,
// each closed and quiet long enough to retire before the next few, some
// losing packets between two points, some clean, give the same result
// with every flow made new.
func TestPlacerReuse(t *testing.T) {
	three := []hop{
		{name: "client", ttl: [2]uint8{64, 62}},
		{name: "router", delay: time.Millisecond, ttl: [2]uint8{64, 63}},
		{name: "server", delay: 2 * time.Millisecond, off: 3 * time.Millisecond, ttl: [2]uint8{63, 64}},
	}
	var evs []ev
	for i := range 40 {
		var lost, ackLost map[int]int
		switch i % 4 {
		case 1:
			lost = map[int]int{i % 5: 0} // past the client, not the router
		case 3:
			ackLost = map[int]int{2: 1}
		}
		ps := conn(len(three), 5+i%3, 4, lost, ackLost, nil)
		// Both FINs, each acknowledged: the flow is done once quiet.
		var seqs [2]uint32
		for _, p := range ps {
			if p.n > 0 && p.seq+uint32(p.n) > seqs[p.dir] {
				seqs[p.dir] = p.seq + uint32(p.n)
			}
		}
		end := ps[len(ps)-1].at + 10*time.Millisecond
		ps = append(ps,
			pkt{dir: 0, seq: seqs[0], ack: seqs[1], flags: decode.FlagFIN | decode.FlagACK, at: end, lostAfter: len(three) - 1, ipid: 900},
			pkt{dir: 1, seq: seqs[1], ack: seqs[0] + 1, flags: decode.FlagFIN | decode.FlagACK, at: end + time.Millisecond, lostAfter: len(three) - 1, ipid: 8000},
			pkt{dir: 0, seq: seqs[0] + 1, ack: seqs[1] + 1, flags: decode.FlagACK, at: end + 2*time.Millisecond, lostAfter: len(three) - 1, ipid: 901})
		// Each its own numbers, as each connection's ISNs.
		off := [2]uint32{uint32(i) * 100003, uint32(i) * 7777}
		for k := range ps {
			ps[k].seq += off[ps[k].dir]
			ps[k].ack += off[1-ps[k].dir]
		}
		c := netip.AddrPortFrom(cli.Addr(), cli.Port()+uint16(i))
		for _, e := range events(three, c, ps) {
			// Two connections at a time, each started 3 s after the one
			// before: the sweeps retire them while others come.
			e.s.Time = e.s.Time.Add(time.Duration(i) * 3 * time.Second)
			evs = append(evs, e)
		}
	}
	var pl *Placer
	got := feedWith(three, slices.Clone(evs), func(p *Placer) { pl = p })
	want := feedWith(three, slices.Clone(evs), func(p *Placer) {
		p.noReuse, p.recPool.off, p.ackPool.off = true, true, true
	})
	all := func(r *Result) []*FlowResult {
		var out []*FlowResult
		for _, fr := range r.All() {
			out = append(out, fr)
		}
		return out
	}
	if !reflect.DeepEqual(all(got), all(want)) || !reflect.DeepEqual(got.OffsetMs, want.OffsetMs) {
		t.Errorf("reusing flows:\n%+v\nwant, every flow made new:\n%+v", all(got), all(want))
	}
	lost := 0
	for _, fr := range all(want) {
		for d := range fr.Hops {
			for _, h := range fr.Hops[d] {
				lost += h.Lost
			}
		}
	}
	if lost == 0 || len(all(want)) != 40 || pl.reused == 0 {
		t.Errorf("%d flows, %d packets lost, %d flows reused: the test proves nothing", len(all(want)), lost, pl.reused)
	}
}

// TestFreeEmpties: a dirLog, flow or member given back is taken again
// as a new one would be, but for the room its lists had.
func TestFreeEmpties(t *testing.T) {
	p := New([]string{"a", "b"})
	l := p.newDir()
	for i := range 100 {
		l.recs.push(rec{lo: int64(i), n: 1}, &p.recPool, recsStart*2)
		l.acks.push(arec{key: uint64(i)}, &p.ackPool, recsStart*2)
	}
	l.based, l.isn, l.isnSet, l.finEnd, l.finSet, l.ts, l.tsSeen = true, 7, true, 9, true, 3, true
	l.marks = append(l.marks, mark{rel: 5})
	l.guard, l.newest = make([]raceGuard, 2), make([]newestTS, 2)
	l.quoted = []quote{{rel: 1}}
	p.freeDir(l)
	if got := p.newDir(); got != l {
		t.Fatal("newDir did not take the dirLog given back")
	}
	if cap(l.recs.blocks) == 0 || cap(l.marks) == 0 {
		t.Error("the lists' room was not kept")
	}
	empty := *l
	empty.recs.blocks, empty.acks.blocks, empty.marks = nil, nil, nil
	if !reflect.DeepEqual(empty, dirLog{}) {
		t.Errorf("dirLog taken again: %+v, want an empty one", empty)
	}
	if p.recPool.pooled() == 0 || p.ackPool.pooled() == 0 {
		t.Error("its blocks were not pooled")
	}

	f := p.newFlow()
	m := p.newMember()
	m.stream, m.ttl, m.acked, m.ackSeen = 3, [2]int{64, 63}, [2]int64{10, 20}, [2]bool{true, true}
	f.at[1], f.syn, f.isn, f.closed, f.id, f.lost = m, true, 42, true, 7, 2
	f.told = map[[3]int]int{{0, 1, 2}: 1}
	p.freeFlow(f)
	if got := p.newFlow(); got != f || !reflect.DeepEqual(*got, flow{at: make([]*member, 2)}) {
		t.Errorf("flow taken again: %+v, want an empty one", *got)
	}
	if got := p.newMember(); got != m || !reflect.DeepEqual(*got, member{}) {
		t.Errorf("member taken again: %+v, want an empty one", *got)
	}
	// A point added since: the flow's room is too small, a new one is made.
	p.freeFlow(f)
	p.AddPoint("c")
	if got := p.newFlow(); got == f || len(got.at) != 3 {
		t.Errorf("after AddPoint: a flow with room for %d points", len(got.at))
	}
}

// TestPlacerLateCapture holds that a point whose capture began after a
// connection (seconds after the others, started by hand) is not blamed
// for it: the connections that ended before its first packet lost
// nothing on the hops beside it, however near its start, once the
// clocks' offsets are known (before, every one of the PlaceHold before
// it counted lost).
func TestPlacerLateCapture(t *testing.T) {
	two := []hop{
		{name: "client", ttl: [2]uint8{64, 63}},
		{name: "server", delay: time.Millisecond, ttl: [2]uint8{63, 64}, off: 30 * time.Millisecond},
	}
	var evs []ev
	for i := range 20 {
		c := netip.AddrPortFrom(cli.Addr(), cli.Port()+uint16(i))
		ps := conn(2, 2, 1, nil, nil, nil)
		for k := range ps {
			// Each its own ISNs, 100 ms after the one before.
			ps[k].at += time.Duration(i) * 100 * time.Millisecond
			c2s, s2c := uint32(i)*1000000, uint32(i)*1000000+500000
			if ps[k].dir == 1 {
				c2s, s2c = s2c, c2s
			}
			ps[k].seq += c2s
			if ps[k].flags&decode.FlagACK != 0 {
				ps[k].ack += s2c
			}
		}
		for _, e := range events(two, c, ps) {
			// The server's capture began at 1.5 s (its clock 30 ms
			// ahead): the connections begun before are not in it.
			if e.point == 1 && e.s.Time.Before(t0.Add(1530*time.Millisecond)) {
				continue
			}
			evs = append(evs, e)
		}
	}
	res := feed(two, evs)
	lost := 0
	for _, f := range res.All() {
		for d := range f.Hops {
			for _, h := range f.Hops[d] {
				lost += h.Lost
			}
		}
	}
	if lost != 0 {
		t.Errorf("%d packets lost, want none: the connections the server's capture lacks ended before it began", lost)
	}
	if o := res.OffsetMs[1]; o == nil || *o < 29 || *o > 31 {
		t.Errorf("server's clock offset %v ms, want 30", fmtMs(o))
	}
}

func fmtMs(o *float64) any {
	if o == nil {
		return nil
	}
	return *o
}

// TestPlacerSiblingHost: three hosts that dial each other (etcd members),
// two of them capturing. m2's own connection to m1's server crossed m2
// (its host: its packets' TTL as sent) and m1; m3's connection to the
// same server crossed m1 alone, and is lost nowhere: m2 is on no other
// client's path. Before, m2's connection made it a sibling's path, and
// every packet m1 sent m3 was "lost between m1 and m2".
func TestPlacerSiblingHost(t *testing.T) {
	points := []hop{
		{name: "m2", ttl: [2]uint8{64, 63}},
		{name: "m1", delay: time.Millisecond, ttl: [2]uint8{63, 64}},
	}
	own := netip.MustParseAddrPort("198.18.1.3:40000")   // m2's
	other := netip.MustParseAddrPort("198.18.1.4:40000") // m3's, not captured at its host
	evs := events(points, own, conn(2, 4, 4, nil, nil, nil))
	ps := conn(2, 4, 4, nil, nil, nil)
	for k := range ps {
		ps[k].uncaptured = 1 // never at m2
		ps[k].at += 50 * time.Millisecond
		ps[k].seq += 3000000
		if ps[k].flags&decode.FlagACK != 0 {
			ps[k].ack += 3000000
		}
	}
	evs = append(evs, events(points, other, ps)...)
	res := feed(points, evs)
	found := false
	for _, f := range res.All() {
		if f.Streams[0] >= 0 {
			continue // m2's own
		}
		found = true
		for d := range f.Hops {
			for _, h := range f.Hops[d] {
				if h.Lost > 0 || h.Refused > 0 {
					t.Errorf("m3's connection: %d lost, %d refused %s -> %s", h.Lost, h.Refused, res.Names[h.From], res.Names[h.To])
				}
			}
		}
	}
	if !found {
		t.Fatal("no connection seen at m1 alone")
	}
}

// TestPlacerOneWayServer: the server's capture holds only what the
// server sent (tcpdump src host), and sees its packets at the TTL the
// router's interface beside it sees too. The way back is still server,
// router, client: with no clock offset for the server (one direction
// gives none), the two are taken to agree, where reckoning the server's
// from the client's clock and the router's from its own put the router
// first, and the loss between router and client "between server and
// client".
func TestPlacerOneWayServer(t *testing.T) {
	points := []hop{
		{name: "client", ttl: [2]uint8{64, 63}},
		{name: "router", delay: time.Millisecond, off: 12 * time.Microsecond, ttl: [2]uint8{63, 64}},
		{name: "server", delay: time.Millisecond + 5*time.Microsecond, off: 13 * time.Microsecond, ttl: [2]uint8{63, 64}},
	}
	ps := conn(3, 4, 4, map[int]int{5: 1}, nil, nil) // the server's second data segment lost after the router
	for k := range ps {
		if ps[k].dir == 0 {
			ps[k].uncaptured = 3 // the server's capture holds its own packets only
		}
	}
	res := run(t, points, nil, ps)
	if res.Len() != 1 {
		t.Fatalf("%d flows, want 1", res.Len())
	}
	for _, f := range res.All() {
		names := func(pts []int) (out []string) {
			for _, pt := range pts {
				out = append(out, res.Names[pt])
			}
			return out
		}
		if got := names(f.Path[1]); !slices.Equal(got, []string{"server", "router", "client"}) {
			t.Errorf("way back %v, want server, router, client", got)
		}
		lost := map[string]int{}
		for _, h := range f.Hops[1] {
			lost[res.Names[h.From]+">"+res.Names[h.To]] += h.Lost
		}
		if lost["router>client"] != 1 || lost["server>router"] != 0 {
			t.Errorf("lost on the way back %v, want 1 between router and client", lost)
		}
	}
}
