package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/analyze"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
)

// TestLivePointsLoss: h2pcap live -i any (and -i vethpod -i uplink) on a
// node that forwards between a "pod" behind a veth and a server, routed
// and bridged, while the node drops 5% of the forwarded packets each way
// between the pod's veth and the uplink (nft, in the forward hook: after
// the packet was captured coming in, before it is captured going out).
// Each interface is a capture point: the hop table puts each way's loss
// inside the node, between vethpod and uplink, within 5% of nft's
// counter of that way, and no loss on the other hop; the headline names
// it; every connection is listed once, with both interfaces as its
// points (the node's own connection, routed, the uplink alone); and
// analyze --split-interfaces on the run's -w file makes the same hop
// table.
func TestLivePointsLoss(t *testing.T) {
	needRoot(t, "ip", "nft", "ethtool")
	dir := t.TempDir()
	buildBinaries(t, dir, ".", "../../lab/h2lab")
	for _, tc := range []struct {
		mode   string
		ifaces []string // live's -i
	}{
		{"routed", []string{"any"}},
		{"bridged", []string{"any"}},
		// A socket per interface, each packet with its link header.
		{"routed", []string{"vethpod", "uplink"}},
	} {
		t.Run(tc.mode+"-"+strings.Join(tc.ifaces, "-"), func(t *testing.T) { livePointsLoss(t, dir, tc.mode, tc.ifaces) })
	}
}

func livePointsLoss(t *testing.T, bin, mode string, ifaces []string) {
	n, pod, server := podNode(t, "h2lp", mode)
	for _, d := range [][2]string{{n.cli, "eth0"}, {n.rtr, "vethpod"}, {n.rtr, "uplink"}, {n.srv, "eth0"}} {
		// Real MTU-sized segments, as a NIC would send them: nft's
		// count is then one per packet each point sees.
		n.in(d[0], "ethtool", "-K", d[1], "tso", "off", "gso", "off", "gro", "off")
	}
	// Bridged frames cross the bridge family's forward hook, routed
	// packets the inet family's.
	family := "inet"
	if mode == "bridged" {
		family = "bridge"
	}
	rules := fmt.Sprintf(`table %[1]s h2lp {
	counter c2s {}
	counter s2c {}
	chain node {
		type filter hook forward priority 0; policy accept;
		ip saddr %[2]s tcp dport 8080 numgen random mod 100 < 5 counter name c2s drop
		ip saddr %[3]s tcp sport 8080 numgen random mod 100 < 5 counter name s2c drop
	}
}
`, family, pod, server)
	nft := exec.Command("ip", "netns", "exec", n.rtr, "nft", "-f", "-")
	nft.Stdin = strings.NewReader(rules)
	if out, err := nft.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v\n%s", err, out)
	}

	dir := t.TempDir()
	h2lab, h2pcap := filepath.Join(bin, "h2lab"), filepath.Join(bin, "h2pcap")
	n.startH2cServer(t, dir, h2lab)
	liveJSON, livePcap, liveOut := filepath.Join(dir, "live.json"), filepath.Join(dir, "live.pcapng"), filepath.Join(dir, "live.out")
	args := []string{h2pcap, "live", "--port", "8080", "--format", "json", "-o", liveJSON, "-w", livePcap}
	for _, i := range ifaces {
		args = append(args, "-i", i)
	}
	live := n.start(n.rtr, liveOut, args...)
	waitListening(t, liveOut)
	var nodeClient *exec.Cmd
	if mode == "routed" {
		// The node's own connection to the same server, on the uplink
		// alone: the other connections to that server cross the veth
		// too, yet it lost nothing there.
		nodeClient = n.start(n.rtr, filepath.Join(dir, "node-client.out"), h2lab, "client", "--addr", server+":8080", "--tls=false", "--conns", "1",
			"--duration", "3s", "--every", "50ms", "--large-every", "3", "--watch-every", "1s", "--log", filepath.Join(dir, "node-client.log"))
	}
	client := exec.Command("ip", "netns", "exec", n.cli, h2lab, "client", "--addr", server+":8080", "--tls=false", "--conns", "4",
		"--duration", "4s", "--every", "50ms", "--large-every", "3", "--watch-every", "1s", "--log", filepath.Join(dir, "client.log"))
	if out, err := client.CombinedOutput(); err != nil {
		t.Logf("client: %v\n%s", err, out) // requests may time out through the loss
	}
	if nodeClient != nil {
		nodeClient.Wait()
	}
	// The connections close and go quiet; the ring blocks are handed over.
	time.Sleep(1500 * time.Millisecond)
	interrupt(t, 10*time.Second, stopped{"h2pcap live", live, liveOut})
	dropped := map[model.Direction]int{}
	for dir, name := range map[model.Direction]string{model.ClientToServer: "c2s", model.ServerToClient: "s2c"} {
		dropped[dir] = nftCounter(t, n.rtr, family, "h2lp", name)
	}

	r := readModelReport(t, liveJSON)
	t.Logf("nft dropped %d client->server, %d server->client; headline: %s", dropped[model.ClientToServer], dropped[model.ServerToClient], r.Summary.Headline)
	for _, d := range dropped {
		if d < 20 {
			t.Fatalf("nft dropped %v: too few to judge the counts by", dropped)
		}
	}
	// A capture that itself lost packets (its ring full on a loaded
	// machine) says so (a warning), and what it lacks is counted as
	// missed by the capture, not lost: a hop may then count fewer than
	// nft dropped (a copy the network lost whose retransmission the
	// capture missed too), never more.
	capDropped := false
	for _, in := range r.Inputs {
		if q := in.CaptureQuality; q != nil && q.MissedBytes > 0 {
			t.Logf("the capture lost packets itself (%d bytes the receiver acknowledged never seen): hop counts held to at most nft's", q.MissedBytes)
			capDropped = true
		}
		for _, w := range in.Warnings {
			if strings.Contains(w, "kernel dropped") {
				t.Logf("the capture lost packets itself (%s): hop counts held to at most nft's", w)
				capDropped = true
			}
		}
	}
	var names []string
	for _, p := range r.Points {
		t.Logf("point %s: interface %s, %d connections, clock offset %v ms", p.Name, p.Interface, p.Connections, fmtOffset(p.ClockOffsetMs))
		names = append(names, p.Name+"="+p.Interface)
	}
	// In the order they first carried a packet: the node's own
	// connection may come first.
	slices.Sort(names)
	if strings.Join(names, ",") != "uplink=uplink,vethpod=vethpod" {
		t.Errorf("points %q, want vethpod and uplink, each its interface", names)
	}
	checkHops(t, "live", r.Summary.Hops, "", dropped, capDropped)
	checkHopLines(t, liveOut, r.Summary.Hops)
	if w := "between vethpod and uplink"; !strings.Contains(r.Summary.Headline, w) {
		t.Errorf("headline %q does not say %q", r.Summary.Headline, w)
	}
	want := 4
	if nodeClient != nil {
		want++
	}
	// Each connection once (nothing counted twice across interfaces); a
	// client may dial again when the loss times a request out, so the
	// clients' connections are at least want.
	seen := map[[2]string]bool{}
	for _, c := range r.Connections {
		k := [2]string{c.Client, c.Server}
		if seen[k] {
			t.Errorf("connection %s -> %s listed twice", c.Client, c.Server)
		}
		seen[k] = true
	}
	if len(r.Connections) < want {
		t.Errorf("%d connections, want at least the clients' %d, each once", len(r.Connections), want)
	}
	placed := 0
	for _, c := range r.Connections {
		if strings.HasPrefix(c.Client, "198.19.2.1:") { // the node's own
			if _, ok := c.Points["uplink"]; len(c.Points) != 1 || !ok || len(c.Placement) != 0 {
				t.Errorf("the node's own connection %s: points %v, placement %+v: want the uplink alone, nothing lost", c.Client, c.Points, c.Placement)
			}
			continue
		}
		if len(c.Points) != 2 && !lostBeforeUplink(c) {
			t.Errorf("stream %d (%s): points %v, placement %+v: want vethpod and uplink, or vethpod alone with its packets lost on the way to the uplink", c.Stream, c.Client, c.Points, c.Placement)
		}
		for _, p := range c.Placement {
			placed += p.Packets
			if !(p.From == "vethpod" && p.To == "uplink" || p.From == "uplink" && p.To == "vethpod") {
				t.Errorf("stream %d: placement %+v outside the node", c.Stream, p)
			}
		}
	}
	if placed == 0 {
		t.Errorf("no connection has a placement")
	}

	// What live -w wrote, read as a point per interface, places the same.
	wr := analyzeJSON(t, nil, "--split-interfaces", livePcap)
	checkHops(t, "analyze --split-interfaces", wr.Summary.Hops, "live:", dropped, capDropped)
	if len(wr.Summary.Hops) != len(r.Summary.Hops) {
		t.Fatalf("analyze --split-interfaces: hops %+v, live %+v", wr.Summary.Hops, r.Summary.Hops)
	}
	for i, h := range wr.Summary.Hops {
		l := r.Summary.Hops[i]
		if strings.TrimPrefix(h.From, "live:") != l.From || strings.TrimPrefix(h.To, "live:") != l.To || h.Direction != l.Direction ||
			h.PacketsUpstream != l.PacketsUpstream || h.PacketsLost != l.PacketsLost {
			t.Errorf("hop %d: analyze --split-interfaces %+v, live %+v", i, h, l)
		}
	}
}

// checkHops wants, each way, the node's hop (points named prefix+vethpod
// and prefix+uplink) to have lost within 5% of what nft dropped that
// way, and no other loss; atMost (the capture dropped packets itself):
// at most 5% more than nft dropped.
func checkHops(t *testing.T, who string, hops []model.Hop, prefix string, dropped map[model.Direction]int, atMost bool) {
	t.Helper()
	veth, uplink := prefix+"vethpod", prefix+"uplink"
	seen := map[model.Direction]bool{}
	for _, h := range hops {
		t.Logf("%s: %s %s->%s: %d of %d lost", who, h.Direction, h.From, h.To, h.PacketsLost, h.PacketsUpstream)
		want := 0
		switch {
		case h.Direction == model.ClientToServer && h.From == veth && h.To == uplink,
			h.Direction == model.ServerToClient && h.From == uplink && h.To == veth:
			want = dropped[h.Direction]
			seen[h.Direction] = true
		}
		if d := h.PacketsLost - want; d*20 > want || -d*20 > want && !atMost {
			t.Errorf("%s: hop %s %s->%s lost %d, nft dropped %d", who, h.Direction, h.From, h.To, h.PacketsLost, want)
		}
	}
	if len(seen) != 2 {
		t.Errorf("%s: hops %+v, want %s->%s client->server and back", who, hops, veth, uplink)
	}
}

func fmtOffset(ms *float64) string {
	if ms == nil {
		return "null"
	}
	return strconv.FormatFloat(*ms, 'f', 3, 64)
}

// TestLivePointsMemory: what live keeps of each connection it forgot, on
// two interfaces read as points (a node forwarding 20,000 short healthy
// connections, each seen on the pod's veth and on the uplink), against
// one point per connection (--split-interfaces=false). The points keep
// each forgotten connection's comparison counts (hops' done flows, until
// the report) and each point its forgotten row and 4-tuple: memory grows
// by that much per connection, which this holds to what was measured so
// that it grows no further (and shows when the Placer folds its done
// flows).
func TestLivePointsMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 20,000 connections")
	}
	const n = 20000
	a, b := twoPointsClean(t, n)
	retained := map[bool]float64{}
	for _, points := range []bool{false, true} {
		src := newIfaceMerge(t, a, b)
		opts := analyze.Options{OneInterfacePerConnection: true, ForgetHealthy: forgetQuiet}
		an := analyze.New(opts)
		var lp *livePoints
		if points {
			lp = newLivePoints(opts, src, []string{"any"}, nil)
		}
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		info, err := readLive(an, src, lp)
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		retained[points] = float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc)) / n
		r, err := reportLive(an, info, lp)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("points %v: %.0f bytes kept per connection; %d listed, %d points, hops %+v", points, retained[points], len(r.Connections), len(r.Points), r.Summary.Hops)
		if points {
			if len(r.Summary.Hops) != 2 {
				t.Fatalf("hops %+v, want one each way", r.Summary.Hops)
			}
			for _, h := range r.Summary.Hops {
				if h.PacketsLost != 0 || h.PacketsUpstream == 0 {
					t.Errorf("hop %+v: want packets and no loss", h)
				}
			}
		}
		runtime.KeepAlive(an)
		runtime.KeepAlive(lp)
	}
	if extra := retained[true] - retained[false]; extra > livePointsKeep {
		t.Errorf("the points keep %.0f bytes more per connection forgotten, want at most %d", extra, livePointsKeep)
	}
}

// livePointsKeep is what TestLivePointsMemory allows the points to keep
// of each forgotten connection of two interfaces: 1,114 bytes measured
// (2026-12-06: the Placer's packed record, each point's forgotten row,
// 72-byte clean span and 4-tuple tombstone; 2,220 before the records
// were packed and the spans shrunk; 845 on 2026-12-07 with each
// tombstone's ISNs, 758 without), with room.
const livePointsKeep = 1400

// twoPointsClean is twoPoints without a packet missing: n healthy
// connections seen at both points.
func twoPointsClean(t *testing.T, n int) (string, string) {
	return twoPointFiles(t, n, 100, 0, "veth", "uplink")
}

// ifaceMerge is two capture files as a live capture of two interfaces
// through the any socket: their packets merged in time order, each
// naming its file's interface (ID 1 veth, 2 uplink).
type ifaceMerge struct {
	srcs [2]decode.Source
	next [2]*decode.Packet
	info decode.InputInfo
	pkt  decode.Packet
	buf  []byte
}

func newIfaceMerge(t *testing.T, a, b string) *ifaceMerge {
	t.Helper()
	m := &ifaceMerge{info: decode.InputInfo{Path: "live:any", Format: "live"}}
	for i, path := range []string{a, b} {
		src, err := decode.Open(path, 0)
		if err != nil {
			t.Fatal(err)
		}
		m.srcs[i] = src
		m.advance(i)
	}
	return m
}

func (m *ifaceMerge) advance(i int) {
	p, err := m.srcs[i].Next()
	if err != nil {
		m.next[i] = nil
		return
	}
	c := *p
	c.Data = append([]byte(nil), p.Data...)
	c.Iface = decode.Iface{ID: int32(i + 1), Known: true, Name: [2]string{"veth", "uplink"}[i]}
	m.next[i] = &c
}

func (m *ifaceMerge) Next() (*decode.Packet, error) {
	i := 0
	if m.next[0] == nil || m.next[1] != nil && m.next[1].Time.Before(m.next[0].Time) {
		i = 1
	}
	if m.next[i] == nil {
		return nil, io.EOF
	}
	m.pkt = *m.next[i]
	m.info.Packets++
	m.pkt.Frame = m.info.Packets
	m.advance(i)
	return &m.pkt, nil
}

func (m *ifaceMerge) Info() *decode.InputInfo { return &m.info }
func (m *ifaceMerge) Close() error            { return nil }
func (m *ifaceMerge) Interface() int          { return 0 }

// TestLivePointsBlackhole: a node that black-holes everything its pod's
// server sends back (nft in its forward hook) during a health check:
// h2pcap live -i any on the node judges the pod's connection lost_ping on
// the pod's veth, and its interfaces say where: the PING reached the
// uplink, its ACK came back on the uplink and never reached the veth,
// lost inside the node; the hop table puts the loss server->client
// between uplink and vethpod, none the other way.
func TestLivePointsBlackhole(t *testing.T) {
	n, _, server, dir, h2lab, h2pcap := podNodeForward(t, "h2lpb", "")
	liveJSON, liveOut := filepath.Join(dir, "live.json"), filepath.Join(dir, "live.out")
	live, findings := n.startPiped(n.rtr, liveOut, h2pcap, "live", "-i", "any", "--port", "8080", "--format", "json", "-o", liveJSON)
	waitListening(t, liveOut)
	// As TestLiveBlackhole: requests for 1 s, then the connection idles
	// and its health-check PING goes out 1 s later, into the black hole.
	clientLog := filepath.Join(dir, "client.log")
	client := n.start(n.cli, filepath.Join(dir, "client.out"), h2lab, "client", "--addr", server+":8080", "--tls=false", "--conns", "1",
		"--duration", "5s", "--every", "200ms", "--large-every", "0", "--watch-every", "30s", "--quiet-after", "1s", "--quiet-for", "10s",
		"--read-idle-timeout", "1s", "--ping-timeout", "1s", "--dial-timeout", "1s", "--log", clientLog)
	start := clientStart(t, clientLog)
	time.Sleep(time.Until(start.Add(1400 * time.Millisecond)))
	n.in(n.rtr, "nft", "add rule inet h2lp node ip saddr "+server+" counter drop")
	if !waitFor(10*time.Second, func() bool {
		for _, l := range findings.lines() {
			if strings.Contains(l, " lost PING ") {
				return true
			}
		}
		return false
	}) {
		t.Errorf("no lost PING line while h2pcap live runs; its output so far:\n%s", strings.Join(findings.lines(), "\n"))
	}
	time.Sleep(1500 * time.Millisecond)
	interrupt(t, 10*time.Second, stopped{"h2pcap live", live, liveOut})
	client.Process.Signal(syscall.SIGTERM)
	r := readModelReport(t, liveJSON)
	var lost *model.Connection
	for _, c := range r.Connections {
		if c.Verdict.Kind == model.KindLostPing {
			lost = c
		}
	}
	if lost == nil {
		t.Fatalf("no lost_ping; headline %s", r.Summary.Headline)
	}
	t.Logf("lost_ping: %s", lost.Verdict.Summary)
	for _, w := range []string{"reached uplink", "its ACK left uplink", "never reached vethpod: lost between uplink and vethpod"} {
		if !strings.Contains(lost.Verdict.Summary, w) {
			t.Errorf("the lost PING's verdict does not say %q: %s", w, lost.Verdict.Summary)
		}
	}
	var s2c, c2s int
	for _, h := range r.Summary.Hops {
		switch {
		case h.Direction == model.ServerToClient && h.From == "uplink" && h.To == "vethpod":
			s2c = h.PacketsLost
		default:
			c2s += h.PacketsLost
		}
	}
	if s2c == 0 || c2s != 0 {
		t.Errorf("hops %+v: want loss server->client between uplink and vethpod, none elsewhere", r.Summary.Hops)
	}
	t.Logf("headline: %s", r.Summary.Headline)
}

// TestLivePointsDroppedSYN: a "pod" reaches a server through a routed
// "node" (h2pcap live -i any there) and closes; then the node drops the
// pod's SYNs to that server (nft in the forward hook, counted) and the
// pod dials again. Those connections are seen on vethpod alone, neither
// end the node's: live places their SYNs as lost between vethpod and
// uplink, where the first connection went, as many as nft dropped, and
// the connect_failed rows say so.
func TestLivePointsDroppedSYN(t *testing.T) {
	n, pod, server, dir, h2lab, h2pcap := podNodeForward(t, "h2lps", "add counter inet h2lp syn; ")
	liveJSON, liveOut, livePcap := filepath.Join(dir, "live.json"), filepath.Join(dir, "live.out"), filepath.Join(dir, "live.pcapng")
	live := n.start(n.rtr, liveOut, h2pcap, "live", "-i", "any", "--port", "8080", "--format", "json", "-o", liveJSON, "-w", livePcap)
	waitListening(t, liveOut)
	first := exec.Command("ip", "netns", "exec", n.cli, h2lab, "client", "--addr", server+":8080", "--tls=false", "--conns", "1",
		"--duration", "1s", "--every", "100ms", "--large-every", "0", "--watch-every", "1s", "--log", filepath.Join(dir, "first.log"))
	if out, err := first.CombinedOutput(); err != nil {
		t.Fatalf("first client: %v\n%s", err, out)
	}
	n.in(n.rtr, "nft", "add rule inet h2lp node ip saddr "+pod+" tcp dport 8080 tcp flags & (syn|ack) == syn counter name syn drop")
	second := exec.Command("ip", "netns", "exec", n.cli, h2lab, "client", "--addr", server+":8080", "--tls=false", "--conns", "1",
		"--duration", "3s", "--every", "100ms", "--large-every", "0", "--dial-timeout", "2s", "--log", filepath.Join(dir, "second.log"))
	if out, err := second.CombinedOutput(); err == nil {
		t.Logf("second client: exit 0 though its SYNs were dropped\n%s", out)
	}
	time.Sleep(1500 * time.Millisecond)
	interrupt(t, 10*time.Second, stopped{"h2pcap live", live, liveOut})
	dropped := nftCounter(t, n.rtr, "inet", "h2lp", "syn")
	if dropped == 0 {
		t.Fatal("nft dropped no SYN")
	}
	r := readModelReport(t, liveJSON)
	t.Logf("nft dropped %d SYNs; headline: %s", dropped, r.Summary.Headline)
	lost := 0
	for _, h := range r.Summary.Hops {
		t.Logf("hop %s %s->%s: %d of %d lost", h.Direction, h.From, h.To, h.PacketsLost, h.PacketsUpstream)
		switch {
		case h.Direction == model.ClientToServer && h.From == "vethpod" && h.To == "uplink":
			lost = h.PacketsLost
		case h.PacketsLost != 0:
			t.Errorf("hop %s %s->%s lost %d: only the SYNs were dropped, client->server in the node", h.Direction, h.From, h.To, h.PacketsLost)
		}
	}
	if lost != dropped {
		t.Errorf("%d lost between vethpod and uplink, nft dropped %d SYNs", lost, dropped)
	}
	checkHopLines(t, liveOut, r.Summary.Hops)
	// The same run's -w file, analysed without the node's addresses:
	// the pod's and the server's are known from the first connection,
	// which the node forwarded (hops.Placer.InferLocal).
	wr := analyzeJSON(t, nil, "--split-interfaces", livePcap)
	wlost := 0
	for _, h := range wr.Summary.Hops {
		if h.Direction == model.ClientToServer && strings.HasSuffix(h.From, "vethpod") && strings.HasSuffix(h.To, "uplink") {
			wlost = h.PacketsLost
		}
	}
	if wlost != dropped {
		t.Errorf("analyze --split-interfaces of the -w file: %d lost between vethpod and uplink (hops %+v), nft dropped %d SYNs", wlost, wr.Summary.Hops, dropped)
	}
	failed := 0
	for _, c := range r.Connections {
		if c.Verdict.Kind != model.KindConnectFailed {
			continue
		}
		failed++
		ok := false
		for _, p := range c.Placement {
			ok = ok || p.From == "vethpod" && p.To == "uplink" && p.Packets > 0
		}
		if !ok {
			t.Errorf("connect_failed %s: placement %+v, want its SYNs lost between vethpod and uplink", c.Client, c.Placement)
		}
	}
	if failed == 0 {
		t.Errorf("no connect_failed connection; headline %s", r.Summary.Headline)
	}
}

// TestAnyDroppedPod: a network policy drops every connection of one pod
// at the node (nft in its forward hook), while another pod's connection
// to the same server gets through. In analyze of the node's tcpdump -i
// any file the dropped pod's address never crosses two interfaces, so
// it cannot be told from the node's own by the flows (hops.InferLocal);
// the file's cooked headers say the node received those SYNs on the
// pod's veth: they were to be forwarded, and are placed between vethpod
// and uplink, as many as nft dropped. The same holds for the file h2pcap
// live -w wrote meanwhile on the node, whose packets carry the direction
// AF_PACKET gave them (pcapng epb_flags).
func TestAnyDroppedPod(t *testing.T) {
	needRoot(t, "tcpdump")
	n, pod, server, dir, h2lab, h2pcap := podNodeForward(t, "h2adp", "add counter inet h2lp syn; ")
	other := "198.19.1.5" // the other pod: a second address of the pod's namespace
	n.ip("-n", n.cli, "addr", "add", other+"/24", "dev", "eth0")
	n.in(n.rtr, "nft", "add rule inet h2lp node ip saddr "+pod+" tcp dport 8080 tcp flags & (syn|ack) == syn counter name syn drop")
	anyPcap, tdErr := filepath.Join(dir, "any.pcap"), filepath.Join(dir, "tcpdump.out")
	td := n.start(n.rtr, tdErr, "tcpdump", "-n", "-U", "-Z", "root", "-s", "0", "-i", "any", "-w", anyPcap, "tcp port 8080")
	if !waitFor(5*time.Second, func() bool { b, _ := os.ReadFile(tdErr); return bytes.Contains(b, []byte("listening on")) }) {
		b, _ := os.ReadFile(tdErr)
		t.Fatalf("tcpdump did not start: %s", b)
	}
	liveOut, livePcap := filepath.Join(dir, "live.out"), filepath.Join(dir, "live.pcapng")
	live := n.start(n.rtr, liveOut, h2pcap, "live", "-i", "any", "--port", "8080", "--format", "json", "-o", filepath.Join(dir, "live.json"), "-w", livePcap)
	waitListening(t, liveOut)
	client := func(src, name, duration string) {
		n.ip("-n", n.cli, "route", "replace", "198.19.2.0/24", "via", "198.19.1.1", "src", src)
		c := exec.Command("ip", "netns", "exec", n.cli, h2lab, "client", "--addr", server+":8080", "--tls=false", "--conns", "1",
			"--duration", duration, "--every", "100ms", "--large-every", "0", "--dial-timeout", "2s", "--log", filepath.Join(dir, name+".log"))
		if out, err := c.CombinedOutput(); err != nil && src == other {
			t.Fatalf("%s client: %v\n%s", name, err, out)
		}
	}
	client(other, "let-through", "1s")
	client(pod, "dropped", "3s")
	time.Sleep(1500 * time.Millisecond) // libpcap hands a ring block over up to 1 s after its first packet
	interrupt(t, 5*time.Second, stopped{"tcpdump", td, tdErr}, stopped{"h2pcap live", live, liveOut})
	dropped := nftCounter(t, n.rtr, "inet", "h2lp", "syn")
	if dropped == 0 {
		t.Fatal("nft dropped no SYN")
	}
	for _, c := range []struct{ file, vethpod, uplink string }{
		// A pcap of -i any names each interface by its index only.
		{anyPcap, "any:if" + n.ifindex(n.rtr, "vethpod"), "any:if" + n.ifindex(n.rtr, "uplink")},
		{livePcap, "live:vethpod", "live:uplink"},
	} {
		r := analyzeJSON(t, nil, "--split-interfaces", c.file)
		lost := 0
		for _, h := range r.Summary.Hops {
			t.Logf("%s: hop %s %s->%s: %d of %d lost", filepath.Base(c.file), h.Direction, h.From, h.To, h.PacketsLost, h.PacketsUpstream)
			switch {
			case h.Direction == model.ClientToServer && h.From == c.vethpod && h.To == c.uplink:
				lost = h.PacketsLost
			case h.PacketsLost != 0:
				t.Errorf("%s: hop %s %s->%s lost %d: only the SYNs were dropped, client->server in the node", filepath.Base(c.file), h.Direction, h.From, h.To, h.PacketsLost)
			}
		}
		if lost != dropped {
			t.Errorf("%s: %d lost between %s and %s, nft dropped %d SYNs; headline %s", filepath.Base(c.file), lost, c.vethpod, c.uplink, dropped, r.Summary.Headline)
		}
	}
}

// nftCounter returns the packets of named counter name in table family
// table, in namespace ns.
func nftCounter(t *testing.T, ns, family, table, name string) int {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", ns, "nft", "list", "counter", family, table, name).CombinedOutput()
	if err != nil {
		t.Fatalf("nft list counter %s: %v\n%s", name, err, out)
	}
	m := regexp.MustCompile(`packets (\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("nft counter %s: %s", name, out)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// checkHopLines wants live's running lines (in out) to have told the
// losses of the report's hops as they were placed: lost on hop lines
// each naming a hop of the report that lost packets, their counts adding
// up to at most its count (the lines tell a pure ACK about 5 s after it,
// and none near a gap of the capture; the report decides every one at
// its end) and to some on every lossy hop.
func checkHopLines(t *testing.T, out string, hops []model.Hop) {
	t.Helper()
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`lost on hop +\S+ -> \S+ \(stream -?\d+\) (\d+) packets? (client->server|server->client) seen on (\S+) never reached (\S+): lost inside this node`)
	told := map[string]int{}
	lines := 0
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.Contains(l, "lost on hop") {
			continue
		}
		lines++
		m := re.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("hop line not as expected: %s", l)
			continue
		}
		if strings.Contains(l, "(stream -1)") {
			t.Errorf("hop line without the connection's stream: %s", l)
		}
		k, _ := strconv.Atoi(m[1])
		told[m[2]+" "+m[3]+">"+m[4]] += k
	}
	for _, h := range hops {
		k := h.Direction.String() + " " + h.From + ">" + h.To
		k = strings.ReplaceAll(strings.ReplaceAll(k, "client_to_server", "client->server"), "server_to_client", "server->client")
		got := told[k]
		delete(told, k)
		switch {
		case h.PacketsLost > 0 && got == 0:
			t.Errorf("hop %s lost %d in the report, no running line told it", k, h.PacketsLost)
		case got > h.PacketsLost:
			t.Errorf("hop %s: running lines told %d lost, the report %d", k, got, h.PacketsLost)
		}
		t.Logf("hop %s: running lines %d, report %d", k, got, h.PacketsLost)
	}
	for k, n := range told {
		t.Errorf("running lines told %d lost on %s, a hop the report does not have", n, k)
	}
	if lines == 0 && len(hops) > 0 {
		t.Logf("no hop line")
	}
}

// readModelReport reads the JSON report at path.
func readModelReport(t *testing.T, path string) *model.Report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r model.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &r
}

// TestPrimaryOf: a connection's primary stream is found from its
// streams at the points, however many came after it (a long-lived
// connection told lossy hours in), whichever point was its home.
func TestPrimaryOf(t *testing.T) {
	lp := &livePoints{}
	next := [2]int32{}
	const n = 200000
	for ps := range n {
		pt := int32(ps % 3 % 2) // two of three at point 0
		lp.home = append(lp.home, pointStream{pt, next[pt]})
		for len(lp.homed) <= int(pt) {
			lp.homed = append(lp.homed, nil)
		}
		lp.homed[pt] = append(lp.homed[pt], int32(ps))
		next[pt]++
	}
	for _, ps := range []int{0, 1, 2, 4, 99999, n - 1} {
		h := lp.home[ps]
		streams := []int{-1, -1}
		streams[h.point] = int(h.stream)
		// Seen at the other point too, under a stream not homed there.
		streams[1-h.point] = int(next[1-h.point]) + 1000
		if pt, got := lp.primaryOf(streams); pt != int(h.point) || got != ps {
			t.Errorf("primary stream %d: got point %d stream %d", ps, pt, got)
		}
	}
	if pt, got := lp.primaryOf([]int{-1, int(next[1]) + 5}); pt != 1 || got != -1 {
		t.Errorf("unknown stream: point %d stream %d, want 1, -1", pt, got)
	}
}

// podNodeForward is a routed podNode whose node has an empty nft chain
// inet h2lp node in its forward hook for the test's faults (objs, if
// set, nft commands run first, as "add counter inet h2lp syn; "), with
// h2pcap and h2lab built into dir and the h2c server started.
func podNodeForward(t *testing.T, prefix, objs string) (n *labNet, pod, server, dir, h2lab, h2pcap string) {
	t.Helper()
	needRoot(t, "ip", "nft")
	dir = t.TempDir()
	buildBinaries(t, dir, ".", "../../lab/h2lab")
	n, pod, server = podNode(t, prefix, "routed")
	n.in(n.rtr, "nft", "add table inet h2lp; "+objs+"add chain inet h2lp node { type filter hook forward priority 0; policy accept; }")
	h2lab, h2pcap = filepath.Join(dir, "h2lab"), filepath.Join(dir, "h2pcap")
	n.startH2cServer(t, dir, h2lab)
	return n, pod, server, dir, h2lab, h2pcap
}

// lostBeforeUplink says whether pod connection c reached the vethpod
// alone, every packet of it lost on the way to the uplink (the random
// drop took a SYN and each of its retries): placed there, between the
// two points.
func lostBeforeUplink(c *model.Connection) bool {
	if _, ok := c.Points["vethpod"]; !ok || len(c.Points) != 1 {
		return false
	}
	for _, p := range c.Placement {
		if p.Direction == model.ClientToServer && p.From == "vethpod" && p.To == "uplink" && p.Packets > 0 {
			return true
		}
	}
	return false
}
