package main

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/h2pcap/h2pcap/model"
)

// TestFilteredPointNotLost: one etcd member's capture filtered on ports
// (tcpdump 'not (host m1 and (port 48422 or port 34696))': two of the
// connections between m1 and m2, one each way) lacks those connections
// whole. m1's capture holds them answered both ways, and m2's other
// connections with m1 crossed both points: every packet of the two was
// counted lost between m1 and m2 (91 and 88, the hops' loss 72 % and
// 65 % where nft dropped 10-20 %). They are the capture's misses, not
// the network's: nothing of them placed, no hop losing more than with
// the whole capture, and each direction's hop from m1 to m2 says it
// lacks one connection whole.
func TestFilteredPointNotLost(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "pcaps", "etcd-leader-loss")
	m1, m2 := filepath.Join(dir, "m1.pcap"), filepath.Join(dir, "m2.pcap")
	filtered := filterPcap(t, m2, func(ip *layers.IPv4, tc *layers.TCP) bool {
		if ip.SrcIP.String() != "198.18.11.2" && ip.DstIP.String() != "198.18.11.2" {
			return false
		}
		return tc.SrcPort == 48422 || tc.DstPort == 48422 || tc.SrcPort == 34696 || tc.DstPort == 34696
	})

	base := analyzeJSON(t, nil, m1, m2)
	got := analyzeJSON(t, nil, m1, filtered)
	lost := map[string]int{}
	for _, h := range base.Summary.Hops {
		lost[fmt.Sprint(h.Direction, h.From, h.To)] = h.PacketsLost
	}
	whole := 0
	for _, h := range got.Summary.Hops {
		k := fmt.Sprint(h.Direction, h.From, h.To)
		if h.PacketsLost > lost[k] {
			t.Errorf("hop %s %s -> %s: %d of %d lost, %d with m2's whole capture", h.Direction, h.From, h.To, h.PacketsLost, h.PacketsUpstream, lost[k])
		}
		if h.From == "m1" && h.To == "m2" {
			if h.CaptureMissedConns != 1 || h.CaptureMissed == 0 {
				t.Errorf("hop %s m1 -> m2: %d connections, %d packets missed by m2's capture; want 1 connection and its packets", h.Direction, h.CaptureMissedConns, h.CaptureMissed)
			}
			whole += h.CaptureMissedConns
		}
	}
	if whole != 2 {
		t.Errorf("%d connections m2's capture lacks whole on the hops from m1, want 2 (one each way)", whole)
	}
	n := 0
	for _, conn := range got.Connections {
		if !strings.HasSuffix(conn.Client, ":48422") && !strings.HasSuffix(conn.Client, ":34696") {
			continue
		}
		n++
		if _, ok := conn.Points["m2"]; ok {
			t.Errorf("%s -> %s: at m2, whose capture was filtered to lack it", conn.Client, conn.Server)
		}
		for _, p := range conn.Placement {
			t.Errorf("%s -> %s: %d packets %s placed as lost between %s and %s", conn.Client, conn.Server, p.Packets, p.Direction, p.From, p.To)
		}
		if !strings.Contains(conn.Verdict.Summary, "The capture at m2 lacks this connection") {
			t.Errorf("%s -> %s: its verdict does not say m2's capture lacks it: %s", conn.Client, conn.Server, conn.Verdict.Summary)
		}
	}
	if n != 2 {
		t.Errorf("%d connections filtered out of m2's capture in the report, want 2", n)
	}
	if !strings.Contains(got.Summary.Headline, "m2 lacks whole") {
		t.Errorf("headline does not tell m2's capture lacks connections: %s", got.Summary.Headline)
	}
}

// TestFilteredMiddlePoint: the load balancer's server-side capture
// (lb-out) filtered to lack one of the two connections. Its packets are
// missed by that capture, and what that connection lost between the
// balancer and the server (8 of the client's, 3 of the server's) is
// placed between lb-in and the server, the points either side of lb-out
// that saw it: each direction loses in all what the whole captures say.
func TestFilteredMiddlePoint(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "pcaps", "multipoint-nat")
	paths := []string{filepath.Join(dir, "client.pcap"), filepath.Join(dir, "lb-in.pcap"), filepath.Join(dir, "lb-out.pcap"), filepath.Join(dir, "server.pcap")}
	base := analyzeJSON(t, nil, paths...)
	filtered := slices.Clone(paths)
	filtered[2] = filterPcap(t, paths[2], func(_ *layers.IPv4, tc *layers.TCP) bool {
		return tc.SrcPort == 42350 || tc.DstPort == 42350
	})
	got := analyzeJSON(t, nil, filtered...)
	if b, g := lostPerDirection(base), lostPerDirection(got); !maps.Equal(b, g) || b[model.ClientToServer] == 0 {
		t.Errorf("lost per direction %v, want %v as with the whole captures", g, b)
	}
	whole := 0
	for _, h := range got.Summary.Hops {
		if h.To == "lb-out" {
			whole += h.CaptureMissedConns
		}
		if h.CaptureMissedConns > 0 && h.To != "lb-out" {
			t.Errorf("hop %s %s -> %s: %d connections missed whole, not lb-out's", h.Direction, h.From, h.To, h.CaptureMissedConns)
		}
	}
	if whole != 2 {
		t.Errorf("%d connections lb-out lacks whole on the hops into it, want 2 (one each way)", whole)
	}
	if !strings.Contains(got.Summary.Headline, "between lb-in and server") {
		t.Errorf("headline does not place the filtered connection's losses between lb-in and the server: %s", got.Summary.Headline)
	}
}

// filterPcap writes to a temporary file the capture at path without the
// TCP packets drop says to leave out, as a tcpdump filter there would
// have, and returns its path.
func filterPcap(t *testing.T, path string, drop func(*layers.IPv4, *layers.TCP) bool) string {
	t.Helper()
	return filterPcapTuples(t, path, func(ip gopacket.NetworkLayer, tc *layers.TCP) bool {
		v4, _ := ip.(*layers.IPv4)
		return v4 != nil && drop(v4, tc)
	})
}

// filterPcapTuples is filterPcap for any link type and IP version, drop
// given each TCP segment's innermost IP header (a VXLAN packet's inner
// one).
func filterPcapTuples(t *testing.T, path string, drop func(gopacket.NetworkLayer, *layers.TCP) bool) string {
	t.Helper()
	c := readPcap(t, path)
	kept := &capture{linkType: c.linkType, snaplen: c.snaplen}
	for i, data := range c.data {
		if ip, tc := tcpOf(c.linkType, data); tc == nil || !drop(ip, tc) {
			kept.data, kept.ci = append(kept.data, data), append(kept.ci, c.ci[i])
		}
	}
	if len(kept.data) == len(c.data) {
		t.Fatalf("%s: the filter kept every packet", path)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(path))
	kept.write(t, out, 0, len(kept.data), kept.snaplen)
	return out
}

// tcpOf is a frame's TCP header and the IP header just before it, nil
// if it has none.
func tcpOf(lt layers.LinkType, data []byte) (gopacket.NetworkLayer, *layers.TCP) {
	var ip gopacket.NetworkLayer
	for _, l := range gopacket.NewPacket(data, lt, gopacket.DecodeOptions{Lazy: true, NoCopy: true}).Layers() {
		switch l := l.(type) {
		case *layers.IPv4, *layers.IPv6:
			ip = l.(gopacket.NetworkLayer)
		case *layers.TCP:
			if ip != nil {
				return ip, l
			}
		}
	}
	return nil, nil
}

// tupleKey is a TCP segment's 4-tuple, the same either way round.
func tupleKey(ip gopacket.NetworkLayer, tc *layers.TCP) string {
	a := fmt.Sprintf("%s:%d", ip.NetworkFlow().Src(), tc.SrcPort)
	b := fmt.Sprintf("%s:%d", ip.NetworkFlow().Dst(), tc.DstPort)
	if a > b {
		a, b = b, a
	}
	return a + " " + b
}

// TestFilteredCaptureNoNewLoss: every lab scenario captured at several
// points, one capture at a time filtered to lack its largest connection
// (tcpdump on ports and hosts), loses no more packets each way across
// the hops than the captures as they were, nor refuses more: what a
// capture lacks is not loss. At the start of session 42, 36 of the 101
// such filterings said more lost or refused, up to 172 packets where the
// whole captures said 14 (etcd-leader-blackhole, m1's capture lacking
// one connection of m2's). And each connection of each capture, the
// filtered one too, is listed once (listedOnce): the reference point's
// capture lacking a connection, it is listed from a point that has it.
func TestFilteredCaptureNoNewLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("analyses every multi-point lab scenario once per capture")
	}
	n := 0
	aloneOf := map[string]*model.Report{} // a capture's analysis alone, by path
	for _, sc := range multiPointScenarios(t) {
		dir, paths, keys, base := sc.dir, sc.paths, sc.keys, sc.base
		for i, path := range paths {
			// The capture's largest connection, by its packets.
			c := readPcap(t, path)
			count := map[string]int{}
			for _, data := range c.data {
				if ip, tc := tcpOf(c.linkType, data); tc != nil {
					count[tupleKey(ip, tc)]++
				}
			}
			var top string
			for k, v := range count {
				if v > count[top] || v == count[top] && k < top {
					top = k
				}
			}
			if top == "" {
				continue
			}
			n++
			args := slices.Clone(paths)
			args[i] = filterPcapTuples(t, path, func(ip gopacket.NetworkLayer, tc *layers.TCP) bool { return tupleKey(ip, tc) == top })
			got := analyzeJSON(t, nil, append(args, keys...)...)
			name := filepath.Base(dir) + "/" + filepath.Base(path) + " without " + top
			lost, was := lostPerDirection(got), lostPerDirection(base)
			refused, wasRefused := 0, 0
			for _, h := range got.Summary.Hops {
				refused += h.Refused
			}
			for _, h := range base.Summary.Hops {
				wasRefused += h.Refused
			}
			for d, v := range lost {
				if v > was[d] {
					t.Errorf("%s: %d packets lost %s, %d with the whole captures", name, v, d, was[d])
				}
			}
			if refused > wasRefused {
				t.Errorf("%s: %d packets refused, %d with the whole captures", name, refused, wasRefused)
			}
			alone := map[string]*model.Report{}
			for _, p := range got.Points {
				if p.Interface != "" || len(p.Inputs) != 1 {
					alone = nil // a point per interface of a file
					break
				}
				in := got.Inputs[p.Inputs[0]].Path
				if aloneOf[in] == nil {
					aloneOf[in] = analyzeJSON(t, nil, append([]string{in}, keys...)...)
				}
				alone[p.Name] = aloneOf[in]
			}
			if alone != nil {
				t.Run(name, func(t *testing.T) { listedOnce(t, got, alone) })
			}
		}
	}
	t.Logf("%d captures filtered", n)
	if n < 40 {
		t.Errorf("only %d captures filtered", n)
	}
}

// lostPerDirection is r's packets lost on its hops, per direction.
func lostPerDirection(r *model.Report) map[model.Direction]int {
	out := map[model.Direction]int{}
	for _, h := range r.Summary.Hops {
		out[h.Direction] += h.PacketsLost
	}
	return out
}

// multiPoint is a lab scenario captured at several points: its captures
// (pcap), its key log's flag if it has one, and their analysis.
type multiPoint struct {
	dir   string
	paths []string
	keys  []string // --keylog FILE, or none
	base  *model.Report
}

// multiPointScenarios are the lab scenarios whose captures, given
// together, are two capture points or more.
func multiPointScenarios(t *testing.T) []multiPoint {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "pcaps", "*"))
	var out []multiPoint
	for _, dir := range dirs {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
		if len(paths) < 2 || filepath.Base(dir) == "inputs" {
			continue
		}
		var keys []string
		if _, err := os.Stat(filepath.Join(dir, "keylog.txt")); err == nil {
			keys = []string{"--keylog", filepath.Join(dir, "keylog.txt")}
		}
		base := analyzeJSON(t, nil, append(slices.Clone(paths), keys...)...)
		if len(base.Points) < 2 {
			continue
		}
		out = append(out, multiPoint{dir: dir, paths: paths, keys: keys, base: base})
	}
	return out
}
