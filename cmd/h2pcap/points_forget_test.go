package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

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
	cases := []struct {
		name       string
		specs      []pointSpec
		wantForgot bool // the case must forget some: it tests something
	}{
		{"multipoint-loss", lab("multipoint-loss", four...), false},
		{"multipoint-blackhole", lab("multipoint-blackhole", four...), false},
		{"multipoint-nat", lab("multipoint-nat", "client", "lb-in", "lb-out", "server"), false},
		{"multipoint-icmp", lab("multipoint-icmp", four...), false},
		{"multipoint-vxlan", lab("multipoint-vxlan", four...), false},
		{"multipoint-synproxy", lab("multipoint-synproxy", four...), false},
		{"router-capture", lab("router-capture", four...), false},
		{"synthetic", []pointSpec{{name: "a", paths: []string{a}}, {name: "b", paths: []string{b}}}, true},
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
			spilled := 0
			if fr.Spilled != nil {
				spilled = fr.Spilled.Len()
			}
			if got := tr.Summary.HealthyNotListed; got != spilled {
				t.Errorf("the table forgets %d connections, the JSON spills %d", got, spilled)
			}
			if tc.wantForgot && (spilled == 0 || len(fr.Connections) == 0) {
				t.Errorf("%d rows spilled, %d listed: want the healthy ones forgotten and the lossy ones listed", spilled, len(fr.Connections))
			}
			t.Logf("%d connections: %d listed, %d forgotten at the reference", len(wr.Connections), len(fr.Connections), spilled)
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
