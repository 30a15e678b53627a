package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
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
