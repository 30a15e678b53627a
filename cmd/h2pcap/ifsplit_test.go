package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"maps"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/h2pcap/h2pcap/analyze"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/internal/evidence"
	"github.com/h2pcap/h2pcap/model"
)

// routerCapture merges the lab's captures of a scenario's router
// interfaces (Ethernet, one file each) into one file as the router's
// tcpdump -i any would hold them (LINUX_SLL2): router-c.pcap's packets
// on ifindex 5, router-s.pcap's on ifindex 6, in time order. Every
// forwarded packet is in it twice; those the router dropped (the nft
// counters of truth.json) only on the interface they came in by. With
// forwarded false the packets of router-c.pcap alone go on ifindex 5 or
// 6 alternately: two links, no copies.
func routerCapture(t *testing.T, scenario string, forwarded bool) string {
	return boxCapture(t, scenario, "router-c.pcap", "router-s.pcap", forwarded)
}

// boxCapture is routerCapture of the box's captures in and out.
func boxCapture(t *testing.T, scenario, in, out string, forwarded bool) string {
	t.Helper()
	return boxCaptureAs(t, scenario, in, out, forwarded, nil)
}

// boxCaptureAs is boxCapture with each IPv4 packet made by conv (nil:
// kept).
func boxCaptureAs(t *testing.T, scenario, in, out string, forwarded bool, conv func(t *testing.T, ip []byte) []byte) string {
	t.Helper()
	dir := filepath.Join("..", "..", "testdata", "pcaps", scenario)
	type pkt struct {
		at      time.Time
		ifindex uint32
		ip      []byte
	}
	read := func(name string, ifindex uint32) []pkt {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Skip("no lab capture:", err)
		}
		defer f.Close()
		r, err := pcapgo.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		var out []pkt
		for {
			frame, ci, err := r.ReadPacketData()
			if err != nil {
				return out
			}
			if len(frame) > 14 && binary.BigEndian.Uint16(frame[12:14]) == uint16(layers.EthernetTypeIPv4) {
				ip := bytes.Clone(frame[14:])
				if conv != nil {
					ip = conv(t, ip)
				}
				out = append(out, pkt{ci.Timestamp, ifindex, ip})
			}
		}
	}
	pkts := read(in, 5)
	if forwarded {
		pkts = append(pkts, read(out, 6)...)
		slices.SortStableFunc(pkts, func(a, b pkt) int { return a.at.Compare(b.at) })
	} else {
		for i := range pkts {
			pkts[i].ifindex += uint32(i % 2)
		}
	}
	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeLinuxSLL2); err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		h := make([]byte, 20)
		typ := layers.EthernetTypeIPv4
		if p.ip[0]>>4 == 6 {
			typ = layers.EthernetTypeIPv6
		}
		binary.BigEndian.PutUint16(h[0:2], uint16(typ))
		binary.BigEndian.PutUint32(h[4:8], p.ifindex)
		binary.BigEndian.PutUint16(h[8:10], 1) // ARPHRD_ETHER
		h[11] = 6
		frame := append(h, p.ip...)
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: p.at, CaptureLength: len(frame), Length: len(frame)}, frame); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "router.pcap")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSplitInterfaces: a router's -i any capture is a capture point per
// interface, without being asked; the packets it never forwarded are
// placed between its interfaces, and no copy counts as a
// retransmission. --split-interfaces=false reads it as one point (the
// copies dropped); a capture of two links without copies stays one
// point unless --split-interfaces asks.
func TestSplitInterfaces(t *testing.T) {
	router := routerCapture(t, "multipoint-loss", true)
	// What the router dropped each way, by the nft counters.
	var tr struct {
		Faults []struct {
			Direction model.Direction `json:"direction"`
			Packets   int             `json:"packets"`
		} `json:"faults"`
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "pcaps", "multipoint-loss", "truth.json"))
	if err != nil {
		t.Skip(err)
	}
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	dropped := map[model.Direction]int{}
	for _, f := range tr.Faults {
		dropped[f.Direction] += f.Packets
	}
	r := analyzeJSON(t, nil, router)
	if len(r.Points) != 2 || r.Points[0].Name != "router:if5" || r.Points[1].Name != "router:if6" ||
		r.Points[0].Interface != "if5" || r.Points[1].Interface != "if6" {
		t.Fatalf("points %+v, want router:if5 and router:if6", r.Points)
	}
	if len(r.Inputs) != 2 || r.Inputs[0].Interface != "if5" || r.Inputs[1].Interface != "if6" || r.Inputs[0].Decoded.Duplicates != 0 ||
		!strings.Contains(r.Inputs[0].Warnings[0], "read as 2 capture points, one per interface") {
		t.Errorf("inputs %+v", r.Inputs)
	}
	if len(r.Summary.Hops) != 2 {
		t.Errorf("hops %+v, want one each way", r.Summary.Hops)
	}
	for _, h := range r.Summary.Hops {
		want := [2]string{"router:if5", "router:if6"}
		if h.Direction == model.ServerToClient {
			want = [2]string{"router:if6", "router:if5"}
		}
		if [2]string{h.From, h.To} != want || h.PacketsLost != dropped[h.Direction] {
			t.Errorf("hop %+v, want %s->%s with the %d dropped", h, want[0], want[1], dropped[h.Direction])
		}
	}
	if want := "client->server between router:if5 and router:if6"; !strings.Contains(r.Summary.Headline, want) {
		t.Errorf("headline %q does not say %q", r.Summary.Headline, want)
	}
	// Each interface's counters are those of its own file: a copy taken
	// for a retransmission would add hundreds.
	own := map[string]*model.Report{
		"router:if5": analyzeJSON(t, nil, filepath.Join("..", "..", "testdata", "pcaps", "multipoint-loss", "router-c.pcap")),
		"router:if6": analyzeJSON(t, nil, filepath.Join("..", "..", "testdata", "pcaps", "multipoint-loss", "router-s.pcap")),
	}
	for _, c := range r.Connections {
		for name, cp := range c.Points {
			alone := own[name].Connections[cp.Stream].TCP
			if cp.TCP.ClientToServer.Retransmissions != alone.ClientToServer.Retransmissions ||
				cp.TCP.ServerToClient.Retransmissions != alone.ServerToClient.Retransmissions ||
				cp.TCP.ClientToServer.Packets != alone.ClientToServer.Packets || cp.TCP.ServerToClient.Packets != alone.ServerToClient.Packets {
				t.Errorf("stream %d at %s: %+v, its own file alone %+v", c.Stream, name, cp.TCP, alone)
			}
		}
	}

	one := analyzeJSON(t, nil, "--split-interfaces=false", router)
	if len(one.Points) != 0 || one.Inputs[0].Decoded.CopiesAcrossInterfaces == 0 {
		t.Errorf("--split-interfaces=false: points %+v, %d copies across interfaces", one.Points, one.Inputs[0].Decoded.CopiesAcrossInterfaces)
	}

	links := routerCapture(t, "multipoint-loss", false)
	if r := analyzeJSON(t, nil, links); len(r.Points) != 0 || r.Inputs[0].Decoded.Duplicates != 0 {
		t.Errorf("two links without copies: points %+v, %d duplicates", r.Points, r.Inputs[0].Decoded.Duplicates)
	}
	if r := analyzeJSON(t, nil, "--split-interfaces", links); len(r.Points) != 2 {
		t.Errorf("--split-interfaces on two links: points %+v", r.Points)
	}
}

// TestSplitInterfacesRotated: a router's -i any capture rotated into
// three files (tcpdump -C) is two capture points, one per interface, each
// of the three files, and places the router's drops as the file whole
// does. Only the first file was surveyed: each part was read as points of
// its own, six, and the drops were compared away ("no packet lost").
func TestSplitInterfacesRotated(t *testing.T) {
	router := routerCapture(t, "multipoint-loss", true)
	whole := analyzeJSON(t, nil, router)
	parts := splitPcap(t, router, t.TempDir(), 3)
	r := analyzeJSON(t, nil, parts[2], parts[0], parts[1]) // in any order
	if len(r.Points) != 2 || r.Points[0].Interface != "if5" || r.Points[1].Interface != "if6" ||
		!slices.Equal(r.Points[0].Inputs, []int{0, 2, 4}) || !slices.Equal(r.Points[1].Inputs, []int{1, 3, 5}) {
		t.Fatalf("points %+v, want if5 and if6 of the three files", r.Points)
	}
	if len(r.Summary.Hops) != len(whole.Summary.Hops) {
		t.Fatalf("hops %+v, the whole file's %+v", r.Summary.Hops, whole.Summary.Hops)
	}
	for i, h := range r.Summary.Hops {
		w := whole.Summary.Hops[i]
		if h.Direction != w.Direction || h.PacketsUpstream != w.PacketsUpstream || h.PacketsLost != w.PacketsLost || h.PacketsLost == 0 {
			t.Errorf("hop %+v, the whole file's %+v", h, w)
		}
	}
	if !strings.Contains(r.Inputs[0].Warnings[0], "hold packets forwarded between their interfaces") {
		t.Errorf("warning %q", r.Inputs[0].Warnings[0])
	}
}

// TestFollowEachOther: a box's rotated parts follow each other even when
// a capture of several interfaces, written a little out of time order,
// makes them share a moment; two captures of the same moments do not.
func TestFollowEachOther(t *testing.T) {
	at := func(ms int) time.Time { return time.Unix(1700000000, 0).Add(time.Duration(ms) * time.Millisecond) }
	part := func(from, to int) *decode.InputInfo { return &decode.InputInfo{First: at(from), Last: at(to)} }
	tests := []struct {
		name  string
		infos []*decode.InputInfo
		want  bool
	}{
		{"touching", []*decode.InputInfo{part(0, 3000), part(3000, 6000), part(6000, 9000)}, true},
		{"apart", []*decode.InputInfo{part(0, 3000), part(5000, 6000)}, true},
		{"200 ms out of order", []*decode.InputInfo{part(0, 3500), part(3300, 6500), part(6499, 9500)}, true},
		{"the same moments", []*decode.InputInfo{part(0, 3000), part(100, 3100)}, false},
		{"half shared", []*decode.InputInfo{part(0, 3000), part(1500, 4500)}, false},
		{"one inside the other", []*decode.InputInfo{part(0, 9000), part(8500, 8900)}, false},
	}
	for _, tt := range tests {
		if got := followEachOther(tt.infos); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestSaveEvidenceAny: h2pcap live -i any --save on a router (the
// multipoint-blackhole router's interfaces as its any socket sees them:
// the PING ACK passes the server's side and is dropped before the
// client's): the connection is analysed on the interface it was first
// seen on, the lost PING is told once, and its evidence file has an
// interface block for each interface its packets crossed, so that
// analyze reads it as a capture point per interface and places the loss
// between them.
func TestSaveEvidenceAny(t *testing.T) {
	router := routerCapture(t, "multipoint-blackhole", true)
	src, err := decode.Open(router, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dir := t.TempDir()
	var out bytes.Buffer
	con := &console{findings: &out, stderr: &out}
	r := &ringTee{src: fileTee{src}, ring: evidence.NewRing(64 << 20), anyIface: 0}
	sv := &saver{ring: r.ring, dir: dir, ifaces: []string{"any"}, links: []layers.LinkType{layers.LinkTypeLinuxSLL2}, filter: "tcp", con: con, stderr: con}
	a := analyze.New(analyze.Options{OneInterfacePerConnection: true, OnNotice: func(n *model.Notice) { con.notice(n); sv.notice(n) }})
	info, err := a.ReadSource(r)
	if err != nil {
		t.Fatal(err)
	}
	if info.Decoded.OtherInterface == 0 || info.Decoded.Duplicates != 0 {
		t.Errorf("decoded %+v: want the copies left out as on another interface", info.Decoded)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*ping_lost.pcapng"))
	if len(files) != 1 || strings.Count(out.String(), " lost PING ") != 1 {
		t.Fatalf("saved %v, want one lost PING file:\n%s", files, out.String())
	}
	// Each packet keeps its direction on its interface (epb_flags), as
	// the cooked headers gave it (boxCapture writes each as received).
	saved, err := decode.Open(files[0], 0)
	if err != nil {
		t.Fatal(err)
	}
	received := 0
	for {
		p, err := saved.Next()
		if err != nil {
			break
		}
		if !p.Iface.In || p.Iface.Out {
			t.Errorf("%s frame %d: in %v, out %v; want received", files[0], p.Frame, p.Iface.In, p.Iface.Out)
		}
		received++
	}
	saved.Close()
	if received == 0 {
		t.Errorf("%s: no packet", files[0])
	}
	rep := analyzeJSON(t, nil, files[0])
	if len(rep.Points) != 2 {
		t.Fatalf("%s: points %+v, want a point per interface", files[0], rep.Points)
	}
	lost := 0
	for _, h := range rep.Summary.Hops {
		if h.Direction == model.ServerToClient && h.From == rep.Points[1].Name && h.To == rep.Points[0].Name {
			lost = h.PacketsLost
		} else if h.PacketsLost != 0 {
			t.Errorf("hop %+v: loss where the router dropped nothing", h)
		}
	}
	if lost == 0 {
		t.Errorf("no server->client loss between %s and %s: hops %+v", rep.Points[1].Name, rep.Points[0].Name, rep.Summary.Hops)
	}
	if len(rep.Connections) != 1 || rep.Connections[0].Verdict.Kind != model.KindLostPing {
		t.Errorf("%d connections (%+v); want one, its PING lost", len(rep.Connections), rep.Connections)
	}
}

// TestSplitInterfacesNAT: a load balancer's -i any (multipoint-nat's
// lb-in.pcap and lb-out.pcap as one SLL2 file): its forwarded packets
// are not exact copies (DNAT and masquerade rewrite the addresses), yet
// keep their IP ID and sequence numbers, which tell the forwarding; each
// interface is a point, every connection matched through the NAT, and no
// loss inside the box (rtb, beyond it, dropped).
func TestSplitInterfacesNAT(t *testing.T) {
	lb := boxCapture(t, "multipoint-nat", "lb-in.pcap", "lb-out.pcap", true)
	r := analyzeJSON(t, nil, lb)
	if len(r.Points) != 2 || r.Inputs[0].Decoded.Duplicates != 0 || !strings.Contains(r.Inputs[0].Warnings[0], "read as 2 capture points") {
		t.Fatalf("points %+v, inputs %+v", r.Points, r.Inputs)
	}
	if len(r.Connections) == 0 {
		t.Fatal("no connections")
	}
	for _, c := range r.Connections {
		if len(c.Points) != 2 {
			t.Errorf("stream %d matched at %d points, want 2 (through the NAT)", c.Stream, len(c.Points))
		}
	}
	for _, h := range r.Summary.Hops {
		if h.PacketsLost != 0 || h.PacketsUpstream == 0 {
			t.Errorf("hop %+v: want packets, no loss", h)
		}
	}
}

// asIPv6 is IPv4 packet ip carried over IPv6 as a dual-stack lab would
// send it: each address a (198.18.x.y) as fd18::a, the TTL as the hop
// limit, the TCP segment (options, payload) the same but for its
// checksum. No IP ID survives.
func asIPv6(t *testing.T, ip []byte) []byte {
	p := gopacket.NewPacket(ip, layers.LayerTypeIPv4, gopacket.Default)
	v4, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if v4 == nil || tcp == nil {
		t.Fatalf("not IPv4 TCP: % x", ip[:min(len(ip), 40)])
	}
	six := func(a net.IP) net.IP {
		b := make(net.IP, 16)
		b[0], b[1] = 0xfd, 0x18
		copy(b[12:], a.To4())
		return b
	}
	v6 := &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolTCP, HopLimit: v4.TTL, SrcIP: six(v4.SrcIP), DstIP: six(v4.DstIP)}
	if err := tcp.SetNetworkLayerForChecksum(v6); err != nil {
		t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, v6, tcp, gopacket.Payload(tcp.Payload)); err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(buf.Bytes())
}

// TestSplitInterfacesNATv6 is TestSplitInterfacesNAT over IPv6: the load
// balancer's -i any holds each packet in on one interface and out on the
// other, addresses and ports rewritten, with no IP ID to match the two
// copies by. They are told by what survives (TCP header but ports and
// checksum, payload, a hop limit one less): the file is split without
// being asked, every connection matched through the NAT, nothing lost.
// A capture whose second interface sees other traffic (two links) is not
// split.
func TestSplitInterfacesNATv6(t *testing.T) {
	lb := boxCaptureAs(t, "multipoint-nat", "lb-in.pcap", "lb-out.pcap", true, asIPv6)
	r := analyzeJSON(t, nil, lb)
	if len(r.Points) != 2 || r.Inputs[0].Decoded.Duplicates != 0 || !strings.Contains(r.Inputs[0].Warnings[0], "read as 2 capture points") {
		t.Fatalf("points %+v, inputs %+v", r.Points, r.Inputs)
	}
	if len(r.Connections) == 0 {
		t.Fatalf("%d connections", len(r.Connections))
	}
	for _, c := range r.Connections {
		if !strings.HasPrefix(c.Client, "[fd18::") {
			t.Fatalf("stream %d: client %s, want IPv6", c.Stream, c.Client)
		}
		if len(c.Points) != 2 {
			t.Errorf("stream %d matched at %d points, want 2 (through the NAT)", c.Stream, len(c.Points))
		}
	}
	if len(r.Summary.Hops) != 2 {
		t.Errorf("hops %+v, want one each way", r.Summary.Hops)
	}
	for _, h := range r.Summary.Hops {
		if h.PacketsLost != 0 || h.PacketsUpstream == 0 {
			t.Errorf("hop %+v: want packets, no loss", h)
		}
	}
	two := boxCaptureAs(t, "multipoint-nat", "lb-in.pcap", "", false, asIPv6)
	if r := analyzeJSON(t, nil, two); len(r.Points) != 0 {
		t.Errorf("two links split: points %+v", r.Points)
	}
}

// sectionsCapture is multipoint-loss's router as two pcapng files of
// dumpcap -i rc -i rs, one after the other in time, concatenated (a valid
// pcapng of two sections): the first describes rc as interface 0 and rs
// as 1, the second rs as 0 and rc as 1. names false leaves the
// interfaces unnamed.
func sectionsCapture(t *testing.T, names bool) string {
	t.Helper()
	dir := filepath.Join("..", "..", "testdata", "pcaps", "multipoint-loss")
	type pkt struct {
		ci    gopacket.CaptureInfo
		iface string
		data  []byte
	}
	var pkts []pkt
	for _, iface := range []string{"rc", "rs"} {
		f, err := os.Open(filepath.Join(dir, "router-"+iface[1:]+".pcap"))
		if err != nil {
			t.Skip("no lab capture:", err)
		}
		r, err := pcapgo.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		for {
			data, ci, err := r.ReadPacketData()
			if err != nil {
				break
			}
			pkts = append(pkts, pkt{ci, iface, bytes.Clone(data)})
		}
		f.Close()
	}
	slices.SortStableFunc(pkts, func(a, b pkt) int { return a.ci.Timestamp.Compare(b.ci.Timestamp) })
	var out bytes.Buffer
	half := len(pkts) / 2
	for sec, order := range [][]string{{"rc", "rs"}, {"rs", "rc"}} {
		name := func(i int) string {
			if names {
				return order[i]
			}
			return ""
		}
		var buf bytes.Buffer
		w, err := pcapgo.NewNgWriterInterface(&buf, pcapgo.NgInterface{Name: name(0), LinkType: layers.LinkTypeEthernet, SnapLength: 65535}, pcapgo.DefaultNgWriterOptions)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.AddInterface(pcapgo.NgInterface{Name: name(1), LinkType: layers.LinkTypeEthernet, SnapLength: 65535}); err != nil {
			t.Fatal(err)
		}
		part := pkts[:half]
		if sec == 1 {
			part = pkts[half:]
		}
		for _, p := range part {
			ci := p.ci
			ci.InterfaceIndex = slices.Index(order, p.iface)
			if err := w.WritePacket(ci, p.data); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		out.Write(buf.Bytes())
	}
	path := filepath.Join(t.TempDir(), "router.pcapng")
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSplitInterfacesSections: a pcapng of two sections, whose interface
// ids restart in the second (rs is 0 there, rc 1), splits into a point
// per interface named by section and id: by name, the two sections'
// rc are one point and their rs another, and the router's drops are
// placed as from the router's two files; unnamed, each section's
// interfaces are points of their own, numbered across sections as
// Wireshark's frame.interface_id.
func TestSplitInterfacesSections(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "pcaps", "multipoint-loss")
	four := analyzeJSON(t, nil, "--point", "client="+filepath.Join(dir, "client.pcap"), "--point", "router-c="+filepath.Join(dir, "router-c.pcap"),
		"--point", "router-s="+filepath.Join(dir, "router-s.pcap"), "--point", "server="+filepath.Join(dir, "server.pcap"))
	r := analyzeJSON(t, nil, "--point", "client="+filepath.Join(dir, "client.pcap"), "--point", "router="+sectionsCapture(t, true),
		"--point", "server="+filepath.Join(dir, "server.pcap"))
	var names []string
	for _, p := range r.Points {
		names = append(names, p.Name)
	}
	if !slices.Equal(names, []string{"client", "router:rc", "router:rs", "server"}) {
		t.Fatalf("points %v, want client, router:rc, router:rs, server", names)
	}
	rename := strings.NewReplacer("router:rc", "router-c", "router:rs", "router-s")
	type hop struct {
		from, to string
		dir      model.Direction
		up, lost int
	}
	hopsOf := func(r *model.Report, rn *strings.Replacer) []hop {
		var out []hop
		for _, h := range r.Summary.Hops {
			out = append(out, hop{rn.Replace(h.From), rn.Replace(h.To), h.Direction, h.PacketsUpstream, h.PacketsLost})
		}
		return out
	}
	got, want := hopsOf(r, rename), hopsOf(four, strings.NewReplacer())
	if !slices.Equal(got, want) {
		t.Errorf("hops %+v, want the four files' %+v", got, want)
	}
	lost := 0
	for _, h := range got {
		lost += h.lost
	}
	if lost == 0 {
		t.Error("no drop placed: the router dropped packets both ways")
	}
	for _, c := range r.Connections {
		if len(c.Points) != 4 {
			t.Errorf("stream %d at %d points, want 4", c.Stream, len(c.Points))
		}
	}
	r = analyzeJSON(t, nil, "--point", "client="+filepath.Join(dir, "client.pcap"), "--point", "router="+sectionsCapture(t, false),
		"--point", "server="+filepath.Join(dir, "server.pcap"))
	names = names[:0]
	for _, p := range r.Points {
		names = append(names, p.Name)
	}
	slices.Sort(names) // the interfaces in the order of their first TCP segment
	if !slices.Equal(names, []string{"client", "router:if0", "router:if1", "router:if2", "router:if3", "server"}) {
		t.Errorf("unnamed: points %v, want each section's two interfaces apart", names)
	}
}

// TestSplitInterfacesV6: multipoint-loss's router over IPv6 as one -i any
// file, no NAT: its copies (no IP ID) are told by the rest and a hop
// limit one less, the file is split without being asked, and the
// router's drops are placed between its interfaces as with its two
// files.
func TestSplitInterfacesV6(t *testing.T) {
	// The same two interfaces over IPv6 as two files (pure ACKs, with no
	// IP ID, are not compared over IPv6).
	two := analyzeJSON(t, nil, "--point", "router-c="+v6File(t, "multipoint-loss", "router-c.pcap"), "--point", "router-s="+v6File(t, "multipoint-loss", "router-s.pcap"))
	r := analyzeJSON(t, nil, boxCaptureAs(t, "multipoint-loss", "router-c.pcap", "router-s.pcap", true, asIPv6))
	if len(r.Points) != 2 || r.Inputs[0].Decoded.Duplicates != 0 {
		t.Fatalf("points %+v, inputs %+v", r.Points, r.Inputs)
	}
	if got, want := lostPerDirection(r), lostPerDirection(two); !maps.Equal(got, want) || want[model.ClientToServer] == 0 {
		t.Errorf("lost per direction %v, want the two files' %v", got, want)
	}
}

// v6File is a scenario's capture name with each packet over IPv6
// (asIPv6), as raw IP.
func v6File(t *testing.T, scenario, name string) string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "pcaps", scenario, name))
	if err != nil {
		t.Skip("no lab capture:", err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeRaw); err != nil {
		t.Fatal(err)
	}
	for {
		frame, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		if len(frame) <= 14 || binary.BigEndian.Uint16(frame[12:14]) != uint16(layers.EthernetTypeIPv4) {
			continue
		}
		ip := asIPv6(t, bytes.Clone(frame[14:]))
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ci.Timestamp, CaptureLength: len(ip), Length: len(ip)}, ip); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSurveyAlong: the survey taken as a file is read as one capture
// (surveyAlong) is the one a reading of its own finds, for a router's
// capture with forwarded copies (the reading stops at them, well before
// its end), two links without copies, pcapng and SLL2, and a file whose
// packets name no interface.
func TestSurveyAlong(t *testing.T) {
	tests := []struct {
		name      string
		path      string
		forwarded bool
	}{
		{"router SLL2", routerCapture(t, "multipoint-loss", true), true},
		{"lab router SLL2", filepath.Join("..", "..", "testdata", "pcaps", "router-any", "router.pcap"), true},
		{"lab router pcapng", filepath.Join("..", "..", "testdata", "pcaps", "router-any", "router.pcapng.gz"), true},
		{"two links", routerCapture(t, "multipoint-loss", false), false},
		{"no interfaces", filepath.Join("..", "..", "testdata", "pcaps", "multipoint-loss", "client.pcap"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := decode.Open(tt.path, 0)
			if err != nil {
				t.Fatal(err)
			}
			want, err := decode.SurveyInterfaces(src)
			src.Close()
			if err != nil {
				t.Fatal(err)
			}
			src, err = decode.Open(tt.path, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			a := analyze.New(analyze.Options{})
			defer a.Close()
			var al surveyAlong
			info, err := al.read(a, src, src)
			if err != nil {
				t.Fatal(err)
			}
			if al.forwarded != tt.forwarded {
				t.Fatalf("forwarded %v, want %v", al.forwarded, tt.forwarded)
			}
			if tt.forwarded {
				if want == nil || info.Packets >= want.Segments/2 {
					t.Errorf("stopped after %d packets, the file has %d TCP segments", info.Packets, want.Segments)
				}
				return
			}
			if !reflect.DeepEqual(al.survey, want) {
				t.Errorf("survey along %+v, survey alone %+v", al.survey, want)
			}
		})
	}
}
