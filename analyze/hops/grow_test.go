package hops

import (
	"net/netip"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/decode"
)

// TestPlacerAddPoint: points added as they first carry a packet (h2pcap
// live learning a node's interfaces) place the same losses as points
// known from the start, whether a point appears at a flow's start or
// after its first ranges were compared (a capture that joined late).
func TestPlacerAddPoint(t *testing.T) {
	three := []hop{
		{name: "veth", ttl: [2]uint8{64, 63}},
		{name: "uplink", delay: time.Millisecond, ttl: [2]uint8{63, 64}},
		{name: "server", delay: 2 * time.Millisecond, ttl: [2]uint8{63, 64}},
	}
	// lost is each hop's, [direction][from][to] by point index: the
	// server's capture begun 4.5 s late, its first packet the server's
	// data, misses no packet and sees the losses after it began.
	for _, tc := range []struct {
		name string
		late time.Duration // the last point's capture starts this late
		lost map[[3]int]int
	}{
		{"at the start", 0, map[[3]int]int{{0, 0, 1}: 2, {0, 1, 2}: 2, {1, 2, 1}: 1, {1, 1, 0}: 1}},
		{"after sweeps", 4500 * time.Millisecond, map[[3]int]int{{0, 0, 1}: 2, {0, 1, 2}: 0, {1, 2, 1}: 1, {1, 1, 0}: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// 400 data segments each way, 10 ms apart: several sweeps;
			// losses between each pair of points, both ways.
			lost := map[int]int{3: 0, 50: 1, 290: 0, 390: 1, 450: 1, 700: 0}
			var evs []ev
			for _, e := range events(three, cli, conn(3, 400, 400, lost, nil, nil)) {
				if e.point == 2 && e.s.Time.Before(t0.Add(tc.late)) {
					continue
				}
				evs = append(evs, e)
			}
			want := feed(three, append([]ev(nil), evs...))
			got := feedGrowing(t, three, evs)
			if !reflect.DeepEqual(allFlows(got), allFlows(want)) || !reflect.DeepEqual(got.Names, want.Names) {
				t.Errorf("points added as they come:\n%+v\nknown from the start:\n%+v", flowHops(got), flowHops(want))
			}
			// The hops themselves: a point joined after the SYN the
			// others saw takes the flow's directions as they number
			// them (with its first packet's, the server's capture
			// had them swapped: its path out of order and hundreds of
			// packets "missed by the capture").
			fs := allFlows(want)
			if len(fs) != 1 {
				t.Fatalf("%d flows, want 1", len(fs))
			}
			hops := map[[3]int]int{}
			for d := range fs[0].Hops {
				for _, h := range fs[0].Hops[d] {
					hops[[3]int{d, h.From, h.To}] = h.Lost
					if h.CaptureMissed != 0 {
						t.Errorf("direction %d, %d -> %d: %d missed by the capture, want 0", d, h.From, h.To, h.CaptureMissed)
					}
				}
			}
			if !reflect.DeepEqual(hops, tc.lost) {
				t.Errorf("lost per hop %v, want %v", hops, tc.lost)
			}
		})
	}
}

// feedGrowing is feed with a Placer made with no point, each added when
// it first carries a packet (in the order of their indexes).
func feedGrowing(t *testing.T, points []hop, evs []ev) *Result {
	t.Helper()
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].s.Time.Before(evs[j].s.Time) })
	pl := New(nil)
	frames := make([]int, len(points))
	streams := make([]map[string]int, len(points))
	for _, e := range evs {
		for e.point >= len(pl.names) {
			if k := pl.AddPoint(points[len(pl.names)].name); k != len(pl.names)-1 {
				t.Fatalf("AddPoint returned %d, want %d", k, len(pl.names)-1)
			}
		}
		frames[e.point]++
		e.s.Frame, e.s.Input = frames[e.point], e.point
		c := e.s.Src
		if c == srv {
			c = e.s.Dst
		}
		if streams[e.point] == nil {
			streams[e.point] = map[string]int{}
		}
		st, ok := streams[e.point][c.String()]
		if !ok {
			st = len(streams[e.point])
			streams[e.point][c.String()] = st
		}
		pl.Segment(e.point, st, &e.s)
	}
	for i := range points {
		pl.EndPoint(i)
	}
	return pl.Finish()
}

func flowHops(r *Result) [][2][]HopResult {
	var out [][2][]HopResult
	for _, f := range r.All() {
		out = append(out, f.Hops)
	}
	return out
}

// TestPlacerSeenOnly: on a node's interfaces, a pod's server is reached
// from outside through the uplink and its veth, and by the node itself
// (a kubelet probe) on the veth alone. Without SeenOnly the probe's
// answers would be "lost" between the veth and the uplink, where its
// sibling went; with it, the probe is compared nowhere, the forwarded
// connection's loss is placed, and every clean flow is told clean.
func TestPlacerSeenOnly(t *testing.T) {
	node := []hop{
		{name: "uplink", ttl: [2]uint8{63, 64}},
		{name: "veth", delay: time.Millisecond, ttl: [2]uint8{62, 64}},
	}
	probe := netip.MustParseAddrPort("198.18.9.1:50000") // the node's own address
	build := func() []ev {
		evs := events(node, cli, conn(2, 20, 20, map[int]int{5: 0, 30: 0}, nil, nil))
		for _, e := range events(node[1:], probe, conn(1, 3, 3, nil, nil, nil)) {
			e.point = 1
			e.s.TTL = 64
			evs = append(evs, e)
		}
		return evs
	}
	lostTo := func(res *Result) map[string]int {
		out := map[string]int{}
		for _, f := range res.All() {
			for d := range f.Hops {
				for _, h := range f.Hops[d] {
					out[res.Names[h.From]+">"+res.Names[h.To]] += h.Lost
				}
			}
		}
		return out
	}
	if got := lostTo(feed(node, build())); got["veth>uplink"] <= 1 {
		t.Logf("without SeenOnly: %v (the probe's answers not placed as lost: the premise changed)", got)
	}
	var clean, dirty int
	res := feedWith(node, build(), func(p *Placer) {
		p.SeenOnly()
		// The probe's address never crosses two interfaces: the
		// node's own, compared where it was seen only.
		p.InferLocal()
		p.OnRetire(func(point, stream int, c bool) {
			if c {
				clean++
			} else {
				dirty++
			}
		})
	})
	got := lostTo(res)
	if got["uplink>veth"] != 1 || got["veth>uplink"] != 1 {
		t.Errorf("lost %v, want the forwarded connection's 1 each way, the probe's none", got)
	}
	if clean != 1 || dirty != 2 {
		t.Errorf("retired %d streams clean, %d not: want the probe's clean, the lossy connection's two not", clean, dirty)
	}
}

// allFlows is every connection of r across points, clean ones made.
func allFlows(r *Result) []*FlowResult {
	var out []*FlowResult
	for _, f := range r.All() {
		out = append(out, f)
	}
	return out
}

// TestPlacerSeenOnlyDroppedSYN: on a node's interfaces a pod's client
// reaches a server through its veth and the uplink; its next connection's
// SYN, and that SYN sent again, reach the veth only: the node dropped
// them. With the node's own addresses known (LocalAddrs), that flow seen
// at one interface alone, neither end the node's, was to be forwarded:
// placed between the veth and the uplink, where its sibling went. Without
// them (SeenOnly alone) it is not placed at all.
func TestPlacerSeenOnlyDroppedSYN(t *testing.T) {
	node := []hop{
		{name: "veth", ttl: [2]uint8{64, 63}},
		{name: "uplink", delay: time.Millisecond, ttl: [2]uint8{63, 64}},
	}
	cli2 := netip.AddrPortFrom(cli.Addr(), cli.Port()+1)
	build := func() []ev {
		evs := events(node, cli, conn(2, 20, 20, nil, nil, nil))
		syn := []pkt{
			{dir: 0, seq: 77777, flags: decode.FlagSYN, at: 20 * time.Millisecond, lostAfter: 0},
			{dir: 0, seq: 77777, flags: decode.FlagSYN, at: 1020 * time.Millisecond, lostAfter: 0},
		}
		return append(evs, events(node, cli2, syn)...)
	}
	nodeAddr := netip.MustParseAddr("198.18.9.1")
	// local: told the node's addresses (live), or inferring them from the
	// flows it forwarded (analyze of its -i any file), or neither.
	for _, local := range []string{"", "told", "inferred"} {
		res := feedWith(node, build(), func(p *Placer) {
			p.SeenOnly()
			switch local {
			case "told":
				p.LocalAddrs(func(a netip.Addr) bool { return a == nodeAddr })
			case "inferred":
				p.InferLocal()
			}
		})
		var lost, frames int
		for _, f := range res.All() {
			for d := range f.Hops {
				for _, h := range f.Hops[d] {
					if res.Names[h.From] != "veth" || res.Names[h.To] != "uplink" {
						if h.Lost > 0 {
							t.Errorf("local %v: %d lost %s -> %s", local, h.Lost, res.Names[h.From], res.Names[h.To])
						}
						continue
					}
					lost += h.Lost
					frames += len(h.Frames)
				}
			}
		}
		want := 0
		if local != "" {
			want = 2
		}
		if lost != want || frames != want {
			t.Errorf("local %v: %d lost between veth and uplink (%d frames), want %d: the dropped SYN and its retransmission", local, lost, frames, want)
		}
	}
}

// TestPlacerInferLocalReceivedSYN: a network policy drops every
// connection of one pod at the node: its address never crosses two
// interfaces, so InferLocal cannot tell it from the node's own. A capture
// that says the node received that SYN (tcpdump -i any's cooked header)
// tells it: a SYN received for a server another pod's connection reached
// through the node was to be forwarded, and is placed between the veth
// and the uplink. Without the direction it is not placed (the node's own
// SYN, seen where it leaves, looks the same).
func TestPlacerInferLocalReceivedSYN(t *testing.T) {
	node := []hop{
		{name: "veth", ttl: [2]uint8{64, 63}},
		{name: "uplink", delay: time.Millisecond, ttl: [2]uint8{63, 64}},
	}
	other := netip.MustParseAddrPort("198.18.1.3:40000") // another pod, let through
	for _, received := range []bool{true, false} {
		evs := events(node, other, conn(2, 10, 10, nil, nil, nil))
		syn := []pkt{
			{dir: 0, seq: 77777, flags: decode.FlagSYN, at: 20 * time.Millisecond, lostAfter: 0},
			{dir: 0, seq: 77777, flags: decode.FlagSYN, at: 1020 * time.Millisecond, lostAfter: 0},
		}
		for _, e := range events(node, cli, syn) {
			e.s.Received = received
			evs = append(evs, e)
		}
		res := feedWith(node, evs, func(p *Placer) {
			p.SeenOnly()
			p.InferLocal()
		})
		lost := 0
		for _, f := range res.All() {
			for d := range f.Hops {
				for _, h := range f.Hops[d] {
					if res.Names[h.From] == "veth" && res.Names[h.To] == "uplink" {
						lost += h.Lost
					} else if h.Lost > 0 {
						t.Errorf("received %v: %d lost %s -> %s", received, h.Lost, res.Names[h.From], res.Names[h.To])
					}
				}
			}
		}
		want := 0
		if received {
			want = 2
		}
		if lost != want {
			t.Errorf("received %v: %d lost between veth and uplink, want %d (the dropped SYN and its retransmission)", received, lost, want)
		}
	}
}

// TestPlacerInferLocalMasquerade: a node masquerades its pod's
// connection to a server with its own address (on the uplink), and opens
// one of its own to the same server on the uplink alone. Inferring the
// node's addresses from what it forwarded must not take its own for
// another host's (it crossed only the uplink, written there by the NAT):
// its connection is compared where it was seen, nothing "lost" before
// the veth.
func TestPlacerInferLocalMasquerade(t *testing.T) {
	nodeAddr := netip.MustParseAddrPort("198.18.9.1:61000")
	node := []hop{
		{name: "veth", ttl: [2]uint8{64, 63}},
		{name: "uplink", delay: time.Millisecond, ttl: [2]uint8{63, 64}, nat: nodeAddr},
	}
	own := netip.MustParseAddrPort("198.18.9.1:50000")
	evs := events(node, cli, conn(2, 10, 10, nil, nil, nil))
	for _, e := range events(node[1:], own, conn(1, 3, 3, nil, nil, nil)) {
		e.point = 1
		e.s.TTL = 64
		evs = append(evs, e)
	}
	res := feedWith(node, evs, func(p *Placer) {
		p.SeenOnly()
		p.InferLocal()
	})
	for _, f := range res.All() {
		for d := range f.Hops {
			for _, h := range f.Hops[d] {
				if h.Lost > 0 {
					t.Errorf("streams %v: %d lost %s -> %s, want none", f.Streams, h.Lost, res.Names[h.From], res.Names[h.To])
				}
			}
		}
	}
}

// TestPlacerOnLossAcks: the running lines (OnLoss) tell the pure ACKs a
// flow lost between two points once settled, as many as the report
// places; not those lost near a gap of the downstream point's capture
// (the report puts those within CaptureGapSpan down to the capture), but
// at the end, as the report decides them: the lines end as its hops.
func TestPlacerOnLossAcks(t *testing.T) {
	node := []hop{
		{name: "veth", ttl: [2]uint8{64, 63}},
		{name: "uplink", delay: time.Millisecond, ttl: [2]uint8{63, 64}},
	}
	// Server data 20..29: the client's ACKs of 22, 24, 26 never reach the
	// uplink (lost after point 0).
	ackLost := map[int]int{22: 0, 24: 0, 26: 0}
	later := netip.AddrPortFrom(cli.Addr(), cli.Port()+1)
	for _, tc := range []struct {
		name       string
		uncaptured map[int]int // data segments the uplink's capture misses (they got through)
		running    int         // told before the end
		report     int         // placed in the report, and told by the end
	}{
		{"lost", nil, 3, 3},
		// The uplink's capture missed server data 23 and 25: the ACKs of
		// 22 and 24, within CaptureGapSpan of those, are the capture's
		// too; that of 26, 205 ms past the last, the report counts lost.
		// The running lines, told before every gap is known, pass over
		// any ACK within ackLineSpan of one.
		{"capture gap", map[int]int{23: 1, 25: 1}, 0, 1},
		{"capture gap over all", map[int]int{23: 1, 25: 1, 27: 1}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs := events(node, cli, connMissed(2, 20, 10, nil, ackLost, nil, tc.uncaptured))
			// Another connection 8 s on, whose packets move the clock:
			// the ACKs are told once settled (ackLineDelay).
			for _, e := range events(node, later, conn(2, 5, 5, nil, nil, nil)) {
				e.s.Time = e.s.Time.Add(8 * time.Second)
				evs = append(evs, e)
			}
			running, all := 0, 0
			res := feedWith(node, evs, func(p *Placer) {
				p.SeenOnly()
				p.CapturedTogether()
				p.OnLoss(func(fr *FlowResult) {
					for _, h := range fr.Hops[0] {
						if h.From == 0 && h.To == 1 {
							all += h.Lost
							if !p.ended[0] { // before Finish
								running += h.Lost
							}
						}
					}
				})
			})
			report := 0
			for _, f := range res.All() {
				for _, h := range f.Hops[0] {
					if h.From == 0 && h.To == 1 {
						report += h.Lost
					}
				}
			}
			if running != tc.running || all != tc.report || report != tc.report {
				t.Errorf("lines told %d lost client->server veth -> uplink while running, %d by the end, the report %d; want %d, %d, %d",
					running, all, report, tc.running, tc.report, tc.report)
			}
		})
	}
}
