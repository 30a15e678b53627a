package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/h2pcap/h2pcap/model"
)

// TestRotationSameAnalysis: every lab capture (pcap) cut into three
// files, as tcpdump -C rotates one, gives the analysis of the file whole:
// the same connections and stream numbers, TCP counters, verdicts,
// HTTP/2 frame counts and PINGs, the decoders going on across the files.
// A router's -i any capture in parts was read as six capture points, and
// a one-way capture's headline said it once per part, before session 40.
func TestRotationSameAnalysis(t *testing.T) {
	if testing.Short() {
		t.Skip("analyses every lab capture twice")
	}
	paths, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "pcaps", "*", "*.pcap"))
	n := 0
	for _, path := range paths {
		if !isPcap(t, path) {
			continue // pcapng: splitPcap writes pcap
		}
		c := readPcap(t, path)
		if len(c.data) < 6 {
			continue
		}
		n++
		name := filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path)
		whole := analyzeJSON(t, nil, path)
		parts := analyzeJSON(t, nil, splitPcap(t, path, t.TempDir(), 3)...)
		if len(parts.Connections) != len(whole.Connections) {
			t.Errorf("%s: %d connections in parts, %d whole", name, len(parts.Connections), len(whole.Connections))
			continue
		}
		for i, w := range whole.Connections {
			p := parts.Connections[i]
			same := func(what string, a, b any) {
				ja, _ := json.Marshal(a)
				jb, _ := json.Marshal(b)
				if string(ja) != string(jb) {
					t.Errorf("%s stream %d: %s in parts %s, whole %s", name, w.Stream, what, ja, jb)
				}
			}
			same("endpoints", []any{p.Stream, p.Client, p.Server, p.App}, []any{w.Stream, w.Client, w.Server, w.App})
			same("tcp", p.TCP, w.TCP)
			same("verdict", []any{p.Verdict.Kind, p.Verdict.LossDirection, p.Verdict.LossLocation}, []any{w.Verdict.Kind, w.Verdict.LossDirection, w.Verdict.LossLocation})
			if w.HTTP2 != nil && p.HTTP2 != nil {
				same("http2 frames", p.HTTP2.Frames, w.HTTP2.Frames)
				same("pings", len(p.HTTP2.Pings), len(w.HTTP2.Pings))
			} else if (w.HTTP2 == nil) != (p.HTTP2 == nil) {
				t.Errorf("%s stream %d: HTTP/2 in parts %v, whole %v", name, w.Stream, p.HTTP2 != nil, w.HTTP2 != nil)
			}
		}
		// The headline, but for the drops of each part (per input) and
		// the points' names (after the first part).
		if strings.Contains(whole.Summary.Headline, "missed about") || len(whole.Points) > 0 {
			continue
		}
		if h := strings.ReplaceAll(parts.Summary.Headline, "inputs 0, 1 and 2 hold", "the capture holds"); h != whole.Summary.Headline {
			t.Errorf("%s: headline in parts %q, whole %q", name, parts.Summary.Headline, whole.Summary.Headline)
		}
	}
	t.Logf("%d lab captures cut in three", n)
	if n < 20 {
		t.Errorf("only %d lab captures cut", n)
	}
}

// isPcap says whether path is a pcap file (not pcapng).
func isPcap(t *testing.T, path string) bool {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = pcapgo.NewReader(f)
	return err == nil
}

// TestRotatedPointSameAnalysis: every lab scenario captured at several
// points, one capture at a time cut in three as tcpdump -C rotates it
// (client.pcap, client.pcap1, client.pcap2) and given with the other
// captures by name, gives the analysis of the captures whole: the same
// points (the parts one point, named as the capture), hops and
// placements. Before session 42 each part was a capture point of its
// own: hops from one part to the next, and the reference's rows of the
// first part alone.
func TestRotatedPointSameAnalysis(t *testing.T) {
	if testing.Short() {
		t.Skip("analyses every multi-point lab scenario once per capture")
	}
	n := 0
	for _, sc := range multiPointScenarios(t) {
		dir, paths, keys, base := sc.dir, sc.paths, sc.keys, sc.base
		for i, path := range paths {
			if !isPcap(t, path) || len(readPcap(t, path).data) < 6 {
				continue
			}
			n++
			tmp := t.TempDir()
			var args []string
			for j, p := range paths {
				if j != i {
					args = append(args, p)
					continue
				}
				for k, part := range splitPcap(t, path, tmp, 3) {
					name := filepath.Join(tmp, filepath.Base(path))
					if k > 0 {
						name += fmt.Sprint(k) // tcpdump -C: client.pcap1, client.pcap2
					}
					if err := os.Rename(part, name); err != nil {
						t.Fatal(err)
					}
					args = append(args, name)
				}
			}
			got := analyzeJSON(t, nil, append(args, keys...)...)
			name := filepath.Base(dir) + "/" + filepath.Base(path) + " in three"
			names := func(r *model.Report) (out []string) {
				for _, p := range r.Points {
					out = append(out, fmt.Sprintf("%s:%d", p.Name, p.Connections))
				}
				return out
			}
			if g, w := names(got), names(base); !slices.Equal(g, w) {
				t.Errorf("%s: points %v, whole %v", name, g, w)
				continue
			}
			same := func(what string, a, b any) {
				ja, _ := json.Marshal(a)
				jb, _ := json.Marshal(b)
				if string(ja) != string(jb) {
					t.Errorf("%s: %s %s, whole %s", name, what, ja, jb)
				}
			}
			same("hops", got.Summary.Hops, base.Summary.Hops)
			placed := func(r *model.Report) map[string][]string {
				out := map[string][]string{}
				for _, c := range r.Connections {
					for _, p := range c.Placement {
						out[c.Client+" "+c.Server] = append(out[c.Client+" "+c.Server], fmt.Sprintf("%s %s-%s %d", p.Direction, p.From, p.To, p.Packets))
					}
				}
				return out
			}
			same("placements", placed(got), placed(base))
		}
	}
	t.Logf("%d captures cut in three among their points", n)
	if n < 40 {
		t.Errorf("only %d captures cut", n)
	}
}

// TestNamedAlikeNotRotated: two points' captures named alike
// (node1.pcap, node2.pcap), the second begun a second late so that their
// first packets, which samePackets compares, hold none in common, are
// taken for one capture's rotated parts by their names, then proved not
// to be by their times as they are read (notRotatedError): two capture
// points, and nothing lost between them.
func TestNamedAlikeNotRotated(t *testing.T) {
	a, late := lateSecondPoint(t, "node1.pcap", "node2.pcap", 3000, time.Second, 0)
	if got := pointsOf([]string{a, late}, false, nil); len(got) != 1 || !got[0].rotated {
		t.Fatalf("pointsOf %+v: want the two taken for one capture's parts by their names", got)
	}
	r := analyzeJSON(t, nil, a, late)
	var names []string
	for _, p := range r.Points {
		names = append(names, p.Name)
	}
	if !slices.Equal(names, []string{"node1", "node2"}) {
		t.Fatalf("points %v, want node1 and node2", names)
	}
	for _, h := range r.Summary.Hops {
		if h.PacketsLost > 0 {
			t.Errorf("hop %+v: lost packets, none was", h)
		}
	}
}

// TestPointsOf: the capture points given files make by their names:
// files that differ in a counter or time they end in are one capture's
// parts, unless they share packets; tcpdump -C's parts among other
// captures named alike (each etcd member's m1.pcap, m2.pcap) are told by
// their whole names' counter.
func TestPointsOf(t *testing.T) {
	tests := []struct {
		name   string
		paths  []string
		shared [][2]string // pairs that hold the same packets
		want   []string    // each point: its name and files
	}{
		{"one each", []string{"client.pcap", "server.pcap"}, nil, []string{"client: client.pcap", "server: server.pcap"}},
		{"tcpdump -C", []string{"client.pcap", "client.pcap1", "client.pcap2", "server.pcap"}, nil,
			[]string{"client: client.pcap client.pcap1 client.pcap2", "server: server.pcap"}},
		{"tcpdump -G", []string{"client-20261206-0047.pcap", "client-20261206-0048.pcap"}, nil, []string{"client: client-20261206-0047.pcap client-20261206-0048.pcap"}},
		{"editcap", []string{"client_00000_20261207235805.pcap", "client_00001_20261207235808.pcap"}, nil,
			[]string{"client: client_00000_20261207235805.pcap client_00001_20261207235808.pcap"}},
		{"named alike, sharing packets", []string{"m1.pcap", "m2.pcap"}, [][2]string{{"m1.pcap", "m2.pcap"}}, []string{"m1: m1.pcap", "m2: m2.pcap"}},
		// Named alike and sharing nothing among the first packets: parts
		// until their times say otherwise (notRotatedError).
		{"named alike", []string{"node1.pcap", "node2.pcap"}, nil, []string{"node: node1.pcap node2.pcap"}},
		{"members and one's parts", []string{"m1.pcap", "m2.pcap", "m3.pcap", "m3.pcap1", "m3.pcap2"}, [][2]string{{"m1.pcap", "m2.pcap"}, {"m1.pcap", "m3.pcap"}},
			[]string{"m1: m1.pcap", "m2: m2.pcap", "m3: m3.pcap m3.pcap1 m3.pcap2"}},
		{"two members' parts", []string{"m1.pcap", "m1.pcap1", "m2.pcap", "m2.pcap1"}, [][2]string{{"m1.pcap", "m2.pcap"}},
			[]string{"m1: m1.pcap m1.pcap1", "m2: m2.pcap m2.pcap1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shared := func(a, b string) bool {
				return slices.Contains(tt.shared, [2]string{a, b}) || slices.Contains(tt.shared, [2]string{b, a})
			}
			var got []string
			for _, p := range pointsOf(tt.paths, false, shared) {
				got = append(got, p.name+": "+strings.Join(p.paths, " "))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("points %q, want %q", got, tt.want)
			}
		})
	}
}
