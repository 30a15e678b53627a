package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/model"
)

// TestLiveAnyForwarding: h2pcap live -i any on a node that forwards
// between a "pod" (behind a veth) and a server, routed and bridged (a
// Linux bridge in the node), sees every packet once on the pod's veth and
// once on the uplink (queued: behind a queue each way, 10 Mbit/s, so
// that the two copies of many are further apart than the copy filter's
// window). Each connection is analysed on the pod's veth, where it was
// first seen: its packets counted once, its retransmissions the real
// ones, as many as tshark counts on that interface's packets, and none is
// degraded without a retransmission on the wire (today's copies of a
// forwarded packet taken for retransmissions made every one degraded).
// What live -w wrote is then analysed as a point per interface.
func TestLiveAnyForwarding(t *testing.T) {
	needRoot(t, "ip", "tc", "tcpdump", "tshark")
	dir := t.TempDir()
	buildBinaries(t, dir, ".", "../../lab/h2lab")
	for _, tc := range []struct {
		mode   string
		queued bool
	}{{"routed", false}, {"bridged", false}, {"routed", true}, {"bridged", true}} {
		name := tc.mode
		if tc.queued {
			name += "-queued"
		}
		t.Run(name, func(t *testing.T) { liveAnyForwarding(t, dir, tc.mode, tc.queued) })
	}
}

// podNode makes a "pod" (namespace cli, eth0) behind a veth (vethpod)
// into a "node" (rtr) whose uplink (a veth) leads to a server (srv,
// eth0): routed (the node forwards between two subnets) or bridged (a
// Linux bridge br0 holds vethpod and uplink). It returns the namespaces
// and the pod's and the server's addresses.
func podNode(t *testing.T, prefix, mode string) (n *labNet, pod, server string) {
	n = namespaces(t, prefix, "pod", "node", "srv")
	n.ip("-n", n.cli, "link", "add", "eth0", "type", "veth", "peer", "name", "vethpod", "netns", n.rtr)
	n.ip("-n", n.srv, "link", "add", "eth0", "type", "veth", "peer", "name", "uplink", "netns", n.rtr)
	pod, server = "198.19.1.2", "198.19.2.2"
	links := [][2]string{{n.cli, "eth0"}, {n.rtr, "vethpod"}, {n.rtr, "uplink"}, {n.srv, "eth0"}}
	switch mode {
	case "routed":
		n.ip("-n", n.cli, "addr", "add", pod+"/24", "dev", "eth0")
		n.ip("-n", n.rtr, "addr", "add", "198.19.1.1/24", "dev", "vethpod")
		n.ip("-n", n.rtr, "addr", "add", "198.19.2.1/24", "dev", "uplink")
		n.ip("-n", n.srv, "addr", "add", server+"/24", "dev", "eth0")
		n.in(n.rtr, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	case "bridged":
		server = "198.19.1.3"
		n.ip("-n", n.rtr, "link", "add", "br0", "type", "bridge")
		n.ip("-n", n.rtr, "link", "set", "vethpod", "master", "br0")
		n.ip("-n", n.rtr, "link", "set", "uplink", "master", "br0")
		n.ip("-n", n.cli, "addr", "add", pod+"/24", "dev", "eth0")
		n.ip("-n", n.srv, "addr", "add", server+"/24", "dev", "eth0")
		links = append(links, [2]string{n.rtr, "br0"})
	}
	for _, l := range links {
		n.ip("-n", l[0], "link", "set", l[1], "up")
	}
	if mode == "routed" {
		n.ip("-n", n.cli, "route", "add", "198.19.2.0/24", "via", "198.19.1.1")
		n.ip("-n", n.srv, "route", "add", "198.19.1.0/24", "via", "198.19.2.1")
	}
	return n, pod, server
}

// ifindex is the kernel's index of interface name in namespace ns.
func (n *labNet) ifindex(ns, name string) string {
	n.t.Helper()
	out, err := exec.Command("ip", "-n", ns, "-o", "link", "show", name).Output()
	if err != nil {
		n.t.Fatal(err)
	}
	i, _, _ := strings.Cut(string(out), ":")
	return i
}

func liveAnyForwarding(t *testing.T, bin, mode string, queued bool) {
	n, pod, server := podNode(t, "h2any", mode)
	if queued {
		// Both ways a queue: the node sends at 10 Mbit/s (a token
		// bucket with room for all it is given: delay, no loss), so a
		// burst's packets leave milliseconds after they came in, and
		// TCP's timers fire now and then (real retransmissions, that
		// tshark counts too).
		for _, dev := range []string{"vethpod", "uplink"} {
			n.in(n.rtr, "tc", "qdisc", "add", "dev", dev, "root", "tbf", "rate", "10mbit", "burst", "10kb", "limit", "8mb")
		}
	}
	ifindex := func(name string) string { return n.ifindex(n.rtr, name) }

	dir := t.TempDir()
	h2lab, h2pcap := filepath.Join(bin, "h2lab"), filepath.Join(bin, "h2pcap")
	n.startH2cServer(t, dir, h2lab)
	liveJSON, tdPcap, tdErr := filepath.Join(dir, "live.json"), filepath.Join(dir, "any.pcap"), filepath.Join(dir, "tcpdump.out")
	livePcap := filepath.Join(dir, "live.pcapng")
	liveOut := filepath.Join(dir, "live.out")
	live := n.start(n.rtr, liveOut, h2pcap, "live", "-i", "any", "--port", "8080", "--format", "json", "-o", liveJSON, "-w", livePcap)
	td := n.start(n.rtr, tdErr, "tcpdump", "-n", "-U", "-Z", "root", "-s", "0", "-i", "any", "-w", tdPcap, "tcp port 8080")
	if !waitFor(5*time.Second, func() bool { b, _ := os.ReadFile(tdErr); return bytes.Contains(b, []byte("listening on")) }) {
		b, _ := os.ReadFile(tdErr)
		t.Fatalf("tcpdump did not start: %s", b)
	}
	waitListening(t, liveOut)
	client := exec.Command("ip", "netns", "exec", n.cli, h2lab, "client", "--addr", server+":8080", "--tls=false", "--conns", "4",
		"--duration", "3s", "--every", "100ms", "--large-every", "5", "--watch-every", "1s", "--log", filepath.Join(dir, "client.log"))
	if out, err := client.CombinedOutput(); err != nil {
		t.Fatalf("client: %v\n%s", err, out)
	}
	time.Sleep(1500 * time.Millisecond) // libpcap hands a ring block over up to 1 s after its first packet
	liveLog := filepath.Join(dir, "live.out")
	interrupt(t, 5*time.Second, stopped{"h2pcap live", live, liveLog}, stopped{"tcpdump", td, liveLog})

	b, err := os.ReadFile(liveJSON)
	if err != nil {
		t.Fatal(err)
	}
	var r model.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	// tshark's count of each direction's packets and retransmissions per
	// client port on the pod's veth, where the connections were first
	// seen, over that interface's packets alone: on the whole file it
	// would count every copy as a retransmission.
	count := func(iface, src string) (pkts, retrans map[string]int) {
		part := filepath.Join(dir, iface+".pcap")
		if out, err := exec.Command("tshark", "-n", "-r", tdPcap, "-Y", "sll.ifindex == "+ifindex(iface), "-w", part).CombinedOutput(); err != nil {
			t.Fatalf("tshark: %v: %s", err, out)
		}
		out, err := exec.Command("tshark", "-n", "-r", part, "-Y", "ip.src == "+src, "-T", "fields", "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.analysis.retransmission").Output()
		if err != nil {
			t.Fatalf("tshark %s: %v", part, err)
		}
		pkts, retrans = map[string]int{}, map[string]int{}
		for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
			f := strings.Split(l, "\t")
			if len(f) < 3 {
				continue
			}
			port := f[0] // the pod's port
			if port == "8080" {
				port = f[1]
			}
			pkts[port]++
			if f[2] != "" {
				retrans[port]++
			}
		}
		return pkts, retrans
	}
	c2s, c2sRetrans := count("vethpod", pod)
	s2c, s2cRetrans := count("vethpod", server)
	if len(r.Connections) != 4 {
		t.Errorf("%d connections, want the client's 4", len(r.Connections))
	}
	if len(r.Inputs) != 1 || r.Inputs[0].Decoded.OtherInterface == 0 {
		t.Errorf("inputs %+v: no packet seen on a second interface", r.Inputs)
	}
	for _, c := range r.Connections {
		_, port, _ := strings.Cut(c.Client, ":")
		if c.TCP.ClientToServer.Retransmissions != c2sRetrans[port] || c.TCP.ServerToClient.Retransmissions != s2cRetrans[port] {
			t.Errorf("stream %d (%s): %d/%d retransmissions, tshark on the pod's veth %d/%d", c.Stream, c.Client,
				c.TCP.ClientToServer.Retransmissions, c.TCP.ServerToClient.Retransmissions, c2sRetrans[port], s2cRetrans[port])
		}
		if c.Verdict.Kind == model.KindDegraded && c2sRetrans[port]+s2cRetrans[port] == 0 {
			t.Errorf("stream %d (%s): degraded without a retransmission on the wire", c.Stream, c.Client)
		}
		t.Logf("stream %d (%s): %s, %d/%d packets, %d/%d retransmissions", c.Stream, c.Client, c.Verdict.Kind,
			c.TCP.ClientToServer.Packets, c.TCP.ServerToClient.Packets, c.TCP.ClientToServer.Retransmissions, c.TCP.ServerToClient.Retransmissions)
		if c.TCP.ClientToServer.Packets != c2s[port] || c.TCP.ServerToClient.Packets != s2c[port] {
			t.Errorf("stream %d (%s): %d/%d packets, tshark on the pod's veth %d/%d", c.Stream, c.Client,
				c.TCP.ClientToServer.Packets, c.TCP.ServerToClient.Packets, c2s[port], s2c[port])
		}
	}

	// Live itself reads each interface as a capture point: healthy
	// forwarding, no loss on either hop, each connection listed once with
	// both interfaces as its points.
	var pts []string
	for _, p := range r.Points {
		pts = append(pts, p.Name+"="+p.Interface)
	}
	if strings.Join(pts, ",") != "vethpod=vethpod,uplink=uplink" {
		t.Errorf("live: points %q, want vethpod and uplink", pts)
	}
	for _, h := range r.Summary.Hops {
		if h.PacketsLost != 0 || h.PacketsUpstream == 0 {
			t.Errorf("live: hop %+v, want packets and no loss", h)
		}
	}
	if len(r.Summary.Hops) != 2 {
		t.Errorf("live: hops %+v, want one each way", r.Summary.Hops)
	}
	for _, c := range r.Connections {
		if len(c.Points) != 2 || len(c.Placement) != 0 {
			t.Errorf("live: stream %d (%s): points %v, placement %+v: want both interfaces, nothing lost", c.Stream, c.Client, c.Points, c.Placement)
		}
	}

	// What live -w wrote keeps each packet's interface (an interface
	// block each): analyze reads it as a capture point per interface,
	// the node's forwarding without loss, as live said.
	out, err := exec.Command(h2pcap, "analyze", "--format", "json", livePcap).Output()
	if err != nil {
		t.Fatalf("h2pcap analyze %s: %v", livePcap, err)
	}
	var pr model.Report
	if err := json.Unmarshal(out, &pr); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pr.Points {
		names = append(names, p.Name)
	}
	if strings.Join(names, ",") != "live:vethpod,live:uplink" {
		t.Errorf("analyze %s: points %q, want live:vethpod and live:uplink", livePcap, names)
	}
	for _, h := range pr.Summary.Hops {
		if h.PacketsLost != 0 || h.PacketsUpstream == 0 {
			t.Errorf("analyze %s: hop %+v, want packets and no loss", livePcap, h)
		}
	}
	if len(pr.Summary.Hops) != 2 {
		t.Errorf("analyze %s: hops %+v, want one each way", livePcap, pr.Summary.Hops)
	}
	for i, h := range pr.Summary.Hops {
		if i < len(r.Summary.Hops) && h.PacketsUpstream != r.Summary.Hops[i].PacketsUpstream {
			t.Errorf("hop %d: analyze %s %+v, live %+v", i, livePcap, h, r.Summary.Hops[i])
		}
	}
}
