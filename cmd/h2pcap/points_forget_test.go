package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/h2pcap/h2pcap/analyze"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/internal/synth"
	"github.com/h2pcap/h2pcap/model"
	"github.com/h2pcap/h2pcap/report"
)

// A multi-point analysis that forgets each healthy connection once the
// Placer found nothing of it to place (forgetting from the first
// connection, not past report.FoldAbove as analyze does) writes the same
// JSON report, byte for byte, as one that keeps every connection whole
// (and a table report lists the same ones):
// on the lab's multi-point captures, and on a synthetic capture of many
// connections seen at two points with packets missing at the second.
func TestPointsForgetSame(t *testing.T) {
	lab := func(scenario string, names ...string) []pointSpec {
		dir := filepath.Join("..", "..", "testdata", "pcaps", scenario)
		var specs []pointSpec
		for _, n := range names {
			specs = append(specs, pointSpec{name: n, paths: []string{filepath.Join(dir, n+".pcap")}})
		}
		return specs
	}
	four := []string{"client", "router-c", "router-s", "server"}
	a, b := twoPoints(t, 300)
	// A third of the connections go to another server, which only b
	// sees (a mesh: a is not on their path): the reference point, a,
	// never saw them, and b lists them (Connection.Point), forgotten
	// there when healthy, and spilled.
	am, bm := twoPointFiles(t, 300, 10, 97, "a", "b")
	third := func(ip *layers.IPv4, tc *layers.TCP) bool {
		return crc32.ChecksumIEEE([]byte(tupleKey(ip, tc)))%3 == 0
	}
	am, bm = filterPcap(t, am, third), moveServer(t, bm, third, net.IPv4(198, 18, 99, 2))
	cases := []struct {
		name       string
		specs      []pointSpec
		wantForgot bool // the case must forget some: it tests something
		// wantAway: some of what it forgets are connections the
		// reference point never saw, spilled at their own point.
		wantAway bool
	}{
		{"multipoint-loss", lab("multipoint-loss", four...), false, false},
		{"multipoint-blackhole", lab("multipoint-blackhole", four...), false, false},
		{"multipoint-nat", lab("multipoint-nat", "client", "lb-in", "lb-out", "server"), false, false},
		{"multipoint-icmp", lab("multipoint-icmp", four...), false, false},
		{"multipoint-vxlan", lab("multipoint-vxlan", four...), false, false},
		{"multipoint-synproxy", lab("multipoint-synproxy", four...), false, false},
		{"router-capture", lab("router-capture", four...), false, false},
		{"synthetic", []pointSpec{{name: "a", paths: []string{a}}, {name: "b", paths: []string{b}}}, true, false},
		{"synthetic-away", []pointSpec{{name: "a", paths: []string{am}}, {name: "b", paths: []string{bm}}}, true, false},
		// A router's -i any capture with its own connections on its
		// uplink (if6) only: the reference interface (if5) never saw
		// them, and their healthy ones are forgotten at if6.
		{"box-own", []pointSpec{{name: "router", paths: []string{withOwnConns(t, routerCapture(t, "multipoint-loss", true), 100, 6)}, ifaces: []string{"if5", "if6"}}}, false, true},
	}
	open := func(path string, input int) (decode.Source, error) {
		return decode.OpenContext(context.Background(), path, input)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Stat(tc.specs[0].paths[0]); err != nil {
				t.Skip("no lab capture:", err)
			}
			render := func(opts analyze.Options, format string) ([]byte, *model.Report) {
				r, _, err := analyzePoints(context.Background(), tc.specs, opts, open, nil, nil, format != "json")
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				if err := report.WriteOptions(&buf, r, format, report.Options{}); err != nil {
					t.Fatal(err)
				}
				return buf.Bytes(), r
			}
			whole, wr := render(analyze.Options{}, "json")
			forgot, fr := render(analyze.Options{ForgetHealthy: forgetQuiet, SpillRows: true}, "json")
			// A text report judges the healthy rows it forgets from a
			// view of their HTTP/2 (no spill file): it forgets the same
			// ones, and lists the same.
			_, tr := render(analyze.Options{ForgetHealthy: forgetQuiet}, "table")
			if got, want := streams(tr.Connections), streams(fr.Connections); !slices.Equal(got, want) {
				t.Errorf("the table lists streams %v, the JSON %v", got, want)
			}
			if !bytes.Equal(whole, forgot) {
				t.Errorf("JSON differs with forgetting (%d bytes, %d rows listed) from without (%d bytes, %d rows)\n%s", len(forgot), len(fr.Connections), len(whole), len(wr.Connections), firstDiff(whole, forgot))
			}
			spilled, away := 0, 0
			if fr.Spilled != nil {
				spilled = fr.Spilled.Len()
			}
			for _, pr := range fr.SpilledElsewhere {
				away += pr.Rows.Len()
			}
			if got := tr.Summary.HealthyNotListed; got != spilled+away {
				t.Errorf("the table forgets %d connections, the JSON spills %d and %d at other points", got, spilled, away)
			}
			if tc.wantForgot && (spilled == 0 || len(fr.Connections) == 0) {
				t.Errorf("%d rows spilled, %d listed: want the healthy ones forgotten and the lossy ones listed", spilled, len(fr.Connections))
			}
			if tc.wantAway != (away > 0) {
				t.Errorf("%d rows spilled at other points than the reference", away)
			}
			if wr.Summary.Connections != len(wr.Connections) {
				t.Errorf("%d connections counted, %d listed", wr.Summary.Connections, len(wr.Connections))
			}
			t.Logf("%d connections: %d listed, %d forgotten at the reference, %d at other points", len(wr.Connections), len(fr.Connections), spilled, away)
			for _, p := range wr.Points {
				if p.ClockOffsetMs != nil && *p.ClockOffsetMs != 0 {
					t.Logf("%s's clock offset %.6f ms", p.Name, *p.ClockOffsetMs)
				}
			}
		})
	}
}

// streams returns the rows' tcp.stream numbers.
func streams(conns []*model.Connection) []int {
	var out []int
	for _, c := range conns {
		out = append(out, c.Stream)
	}
	return out
}

// firstDiff shows where a and b first differ.
func firstDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-200)
	return "at byte " + strconv.Itoa(i) + ":\n--- without\n" + string(a[from:min(len(a), i+300)]) + "\n--- with\n" + string(b[from:min(len(b), i+300)])
}

// twoPoints writes n synthetic short connections (internal/synth, spread
// over n/10 seconds) as seen at two points: a near the clients, and b
// near the server, 2 µs further along both ways, which lacks one
// packet in 97 (those connections have something to place). It returns
// the two files' paths.
func twoPoints(t *testing.T, n int) (string, string) {
	return twoPointFiles(t, n, 10, 97, "a", "b")
}

// twoPointFiles writes n synthetic short connections started at rate a
// second, seen at point a (the clients' side) and at point b 2 µs further
// along both ways, which lacks one packet in missEvery (0: none), as
// a.pcap and b.pcap. It returns the two files' paths.
func twoPointFiles(t *testing.T, n int, rate float64, missEvery int, a, b string) (string, string) {
	t.Helper()
	var src bytes.Buffer
	if err := synth.Write(&src, "short", synth.Config{N: n, Open: 16, Rate: rate}, nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pa, pb := filepath.Join(dir, a+".pcap"), filepath.Join(dir, b+".pcap")
	if err := os.WriteFile(pa, src.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var second bytes.Buffer
	if err := synth.SecondPoint(&src, &second, 2*time.Microsecond, missEvery); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pb, second.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return pa, pb
}

// moveServer writes path's capture again with the connections pick
// chooses going to the server address to instead of the one they went
// to (the destination of their SYNs), checksums made anew. It returns
// the new file's path.
func moveServer(t *testing.T, path string, pick func(*layers.IPv4, *layers.TCP) bool, to net.IP) string {
	t.Helper()
	c := readPcap(t, path)
	out := &capture{linkType: c.linkType, snaplen: c.snaplen, ci: c.ci}
	moved := 0
	for _, data := range c.data {
		p := gopacket.NewPacket(data, c.linkType, gopacket.Default)
		ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tc, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if ip == nil || tc == nil || !pick(ip, tc) {
			out.data = append(out.data, data)
			continue
		}
		if tc.SYN && !tc.ACK || !tc.SYN && tc.DstPort < tc.SrcPort {
			ip.DstIP = to
		} else {
			ip.SrcIP = to
		}
		if err := tc.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		buf := gopacket.NewSerializeBuffer()
		var ls []gopacket.SerializableLayer
		for _, l := range p.Layers() {
			if sl, ok := l.(gopacket.SerializableLayer); ok {
				ls = append(ls, sl)
			}
		}
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true}, ls...); err != nil {
			t.Fatal(err)
		}
		out.data = append(out.data, slices.Clone(buf.Bytes()))
		moved++
	}
	if moved == 0 {
		t.Fatalf("%s: no packet moved", path)
	}
	dst := filepath.Join(t.TempDir(), filepath.Base(path))
	out.write(t, dst, 0, len(out.data), out.snaplen)
	return dst
}

// withOwnConns writes box's capture (LINUX_SLL2, router.pcap) again with
// n synthetic short connections of its own (internal/synth, 198.19.0.1
// their server) on interface ifindex only, from 100 ms after its first
// packet, 20 a second, merged in time order. It returns the new file's
// path.
func withOwnConns(t *testing.T, box string, n int, ifindex uint32) string {
	t.Helper()
	c := readPcap(t, box)
	var src bytes.Buffer
	if err := synth.Write(&src, "short", synth.Config{N: n, Open: 8, Rate: 20}, nil); err != nil {
		t.Fatal(err)
	}
	r, err := pcapgo.NewReader(&src)
	if err != nil {
		t.Fatal(err)
	}
	var shift time.Duration
	out := &capture{linkType: c.linkType, snaplen: c.snaplen}
	k := 0
	for {
		frame, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		if shift == 0 {
			shift = c.ci[0].Timestamp.Add(100 * time.Millisecond).Sub(ci.Timestamp)
		}
		ci.Timestamp = ci.Timestamp.Add(shift)
		for k < len(c.data) && !c.ci[k].Timestamp.After(ci.Timestamp) {
			out.data, out.ci = append(out.data, c.data[k]), append(out.ci, c.ci[k])
			k++
		}
		h := make([]byte, 20, 20+len(frame)-14)
		binary.BigEndian.PutUint16(h[0:2], uint16(layers.EthernetTypeIPv4))
		binary.BigEndian.PutUint32(h[4:8], ifindex)
		binary.BigEndian.PutUint16(h[8:10], 1) // ARPHRD_ETHER
		h[11] = 6
		sll := append(h, frame[14:]...)
		ci.CaptureLength, ci.Length = len(sll), len(sll)
		out.data, out.ci = append(out.data, sll), append(out.ci, ci)
	}
	out.data, out.ci = append(out.data, c.data[k:]...), append(out.ci, c.ci[k:]...)
	dst := filepath.Join(t.TempDir(), "router.pcap")
	out.write(t, dst, 0, len(out.data), out.snaplen)
	return dst
}
