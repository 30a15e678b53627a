package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/analyze"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
)

func TestOrderByTime(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 11, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	var none time.Time
	for _, tc := range []struct {
		name   string
		paths  []string
		firsts []time.Time
		want   []string
	}{
		{"in order", []string{"a", "b", "c"}, []time.Time{at(1), at(2), at(3)}, []string{"a", "b", "c"}},
		{"glob order of tcpdump -C", []string{"cap", "cap1", "cap10", "cap2"}, []time.Time{at(0), at(1), at(10), at(2)}, []string{"cap", "cap1", "cap2", "cap10"}},
		{"reversed", []string{"c", "b", "a"}, []time.Time{at(3), at(2), at(1)}, []string{"a", "b", "c"}},
		{"stdin stays", []string{"c", "-", "a", "b"}, []time.Time{at(3), none, at(1), at(2)}, []string{"a", "-", "b", "c"}},
		{"no time stays", []string{"b", "empty", "a"}, []time.Time{at(2), none, at(1)}, []string{"a", "empty", "b"}},
		{"equal times keep their order", []string{"x", "y", "a"}, []time.Time{at(2), at(2), at(1)}, []string{"a", "x", "y"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := orderByTime(tc.paths, tc.firsts); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// splitRotated writes src as n files named as tcpdump -C names them:
// cap, cap1, ..., cap<n-1>, in time order.
func splitRotated(t *testing.T, src, dir string, n int) []string {
	t.Helper()
	c := readPcap(t, src)
	var paths []string
	per := (len(c.data) + n - 1) / n
	for i := 0; i < n; i++ {
		p := filepath.Join(dir, "cap")
		if i > 0 {
			p += fmt.Sprint(i)
		}
		c.write(t, p, i*per, min((i+1)*per, len(c.data)), c.snaplen)
		paths = append(paths, p)
	}
	return paths
}

// withoutWarnings is the report as JSON, without the inputs' warnings
// and, if paths, without their paths.
func withoutWarnings(t *testing.T, r *model.Report, paths bool) string {
	t.Helper()
	for _, in := range r.Inputs {
		in.Warnings = nil
		if paths {
			in.Path = ""
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Rotation files given out of order are read in time order: the report
// equals the report of the files in order, and says what it did.
func TestRotationOrder(t *testing.T) {
	const src = "../../testdata/pcaps/blackhole-s2c-h2c/client.pcap"
	three := splitRotated(t, src, t.TempDir(), 3)
	eleven := splitRotated(t, src, t.TempDir(), 11)
	globbed := slices.Clone(eleven)
	slices.Sort(globbed) // cap, cap1, cap10, cap2, ...

	for _, tc := range []struct {
		name    string
		inOrder []string
		given   []string
	}{
		{"three shuffled", three, []string{three[2], three[0], three[1]}},
		{"three reversed", three, []string{three[2], three[1], three[0]}},
		{"eleven in glob order", eleven, globbed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := analyzeJSON(t, nil, tc.inOrder...)
			for i, in := range want.Inputs {
				if len(in.Warnings) != 0 {
					t.Errorf("in order: input %d has warnings %q", i, in.Warnings)
				}
			}
			got := analyzeJSON(t, nil, tc.given...)
			for i, in := range got.Inputs {
				if in.Path != tc.inOrder[i] {
					t.Errorf("input %d is %s, want %s: the report lists the inputs in the order read", i, in.Path, tc.inOrder[i])
				}
			}
			note := "inputs read in time order: " + strings.Join(tc.inOrder, ", ")
			if w := got.Inputs[0].Warnings; len(w) != 1 || w[0] != note {
				t.Errorf("warnings %q, want %q", w, note)
			}
			if a, b := withoutWarnings(t, got, false), withoutWarnings(t, want, false); a != b {
				t.Errorf("report differs from the report of the files in order:\n%s", diffLines(b, a))
			}
		})
	}

	// Standard input cannot be read twice: it stays where it was given,
	// the files are ordered around it.
	t.Run("stdin stays", func(t *testing.T) {
		f, err := os.Open(three[0])
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		got := analyzeJSON(t, f, "-", three[2], three[1])
		if got.Inputs[0].Path != "-" || got.Inputs[1].Path != three[1] || got.Inputs[2].Path != three[2] {
			t.Fatalf("inputs read %s, %s, %s", got.Inputs[0].Path, got.Inputs[1].Path, got.Inputs[2].Path)
		}
		want := analyzeJSON(t, nil, three...)
		if a, b := withoutWarnings(t, got, true), withoutWarnings(t, want, true); a != b {
			t.Errorf("report differs from the report of the files in order:\n%s", diffLines(b, a))
		}
	})
}

// Captures whose times overlap and that saw the same connections are
// captures of the same moments at two points, not a rotation: each is a
// capture point named by its file, analysed on its own (its counters are
// those of the file alone: no packet counted twice), in the order given;
// the rows are the client's point's.
func TestOverlappingInputs(t *testing.T) {
	const dir = "../../testdata/pcaps/blackhole-s2c-h2c/"
	client, server := dir+"client.pcap", dir+"server.pcap" // the client's capture starts first
	alone := map[string]*model.Report{"client": analyzeJSON(t, nil, client), "server": analyzeJSON(t, nil, server)}
	for _, given := range [][]string{{client, server}, {server, client}} {
		t.Run(filepath.Base(given[0])+" first", func(t *testing.T) {
			r := analyzeJSON(t, nil, given...)
			if r.Inputs[0].Path != given[0] || r.Inputs[1].Path != given[1] {
				t.Fatalf("inputs read %s, %s; want the order given", r.Inputs[0].Path, r.Inputs[1].Path)
			}
			for i, in := range r.Inputs {
				for _, w := range in.Warnings {
					if strings.HasPrefix(w, "overlaps input ") {
						t.Errorf("input %d warns %q: it is a capture point, not more of one capture", i, w)
					}
				}
			}
			if len(r.Points) != 2 {
				t.Fatalf("points %+v, want client and server", r.Points)
			}
			for i, p := range r.Points {
				name := strings.TrimSuffix(filepath.Base(given[i]), ".pcap")
				if p.Name != name || !slices.Equal(p.Inputs, []int{i}) || p.Reference != (name == "client") {
					t.Errorf("point %d: %+v, want %s on input %d, the reference if the client's", i, p, name, i)
				}
			}
			if want := alone["client"]; len(r.Connections) != len(want.Connections) {
				t.Fatalf("%d connections, want the client capture's %d", len(r.Connections), len(want.Connections))
			}
			for _, c := range r.Connections {
				if len(c.Points) != 2 {
					t.Errorf("stream %d seen at %d points, want both", c.Stream, len(c.Points))
				}
				for name, cp := range c.Points {
					var own *model.Connection
					for _, o := range alone[name].Connections {
						if o.Stream == cp.Stream {
							own = o
						}
					}
					if own == nil {
						t.Fatalf("stream %d: %s's stream %d not in %s analysed alone", c.Stream, name, cp.Stream, name)
					}
					if own.TCP.ClientToServer.Retransmissions != cp.TCP.ClientToServer.Retransmissions ||
						own.TCP.ServerToClient.Retransmissions != cp.TCP.ServerToClient.Retransmissions ||
						own.TCP.ClientToServer.Packets != cp.TCP.ClientToServer.Packets {
						t.Errorf("stream %d at %s: counters %+v, want the file's own %+v", c.Stream, name, cp.TCP, own.TCP)
					}
				}
			}
		})
	}
}

// Captures of the same moments that share no connection (two hosts'
// captures, say) are not points of one path: read as given as one
// capture, as before, with the warning that they overlap.
func TestOverlappingInputsApart(t *testing.T) {
	c := readPcap(t, "../../testdata/pcaps/multipoint-loss/client.pcap")
	// Each file takes the packets of one client port (Ethernet, IPv4).
	dir := t.TempDir()
	byPort := map[uint16][]int{}
	var ports []uint16
	for i, data := range c.data {
		if len(data) < 14+20+4 || data[12] != 0x08 || data[13] != 0x00 {
			continue
		}
		ihl := int(data[14]&0x0f) * 4
		tcp := data[14+ihl:]
		sport, dport := uint16(tcp[0])<<8|uint16(tcp[1]), uint16(tcp[2])<<8|uint16(tcp[3])
		port := min(sport, dport) // the client's: the server's is 8080
		if port == 8080 {
			port = max(sport, dport)
		}
		if byPort[port] == nil {
			ports = append(ports, port)
		}
		byPort[port] = append(byPort[port], i)
	}
	if len(ports) != 2 {
		t.Fatalf("client ports %v, want the scenario's two", ports)
	}
	var paths []string
	for _, p := range ports {
		sub := &capture{linkType: c.linkType, snaplen: c.snaplen}
		for _, i := range byPort[p] {
			sub.data, sub.ci = append(sub.data, c.data[i]), append(sub.ci, c.ci[i])
		}
		path := filepath.Join(dir, fmt.Sprintf("port%d.pcap", p))
		sub.write(t, path, 0, len(sub.data), sub.snaplen)
		paths = append(paths, path)
	}
	r := analyzeJSON(t, nil, paths...)
	if len(r.Points) != 0 || r.Summary.Hops != nil {
		t.Errorf("points %+v, hops %+v: want none, no connection is in both", r.Points, r.Summary.Hops)
	}
	if len(r.Connections) != 2 {
		t.Errorf("%d connections, want both files' (one each)", len(r.Connections))
	}
	// The reading as one capture that found them to overlap stopped
	// early (readInputs' watch): the one reported is read anew, whole.
	for i, p := range ports {
		if got := r.Inputs[i].Packets; got != len(byPort[p]) {
			t.Errorf("input %d: %d packets, want its %d", i, got, len(byPort[p]))
		}
	}
	if w := r.Inputs[1].Warnings; !slices.ContainsFunc(w, func(s string) bool { return strings.HasPrefix(s, "overlaps input 0 ") }) {
		t.Errorf("input 1 warnings %q, want that it overlaps input 0", w)
	}
}

func TestOverlapWatch(t *testing.T) {
	at := func(s int) time.Time { return time.Unix(1_700_000_000+int64(s), 0) }
	var none time.Time
	for _, tc := range []struct {
		name          string
		firsts, until []time.Time
	}{
		{"one input", []time.Time{at(0)}, nil},
		{"in time order", []time.Time{at(0), at(5), at(9)}, []time.Time{at(5), at(9), none}},
		// An input whose first packet has no time (kept in place by
		// timeOrder) proves nothing; the one after it still counts.
		{"a first time unknown", []time.Time{at(0), none, at(9)}, []time.Time{at(9), at(9), none}},
		// The earliest of those read later, wherever it stands.
		{"left in place", []time.Time{at(0), at(9), none, at(4)}, []time.Time{at(4), at(4), at(4), none}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := overlapWatch(tc.firsts); !slices.EqualFunc(got, tc.until, time.Time.Equal) || len(got) != len(tc.until) {
				t.Errorf("overlapWatch = %v, want %v", got, tc.until)
			}
		})
	}
}

// Inputs that overlap in time are read as one capture only until a
// packet proves it: the reading stops there (not at the inputs' ends, to
// be thrown away), and the overlap it proved is the one overlap finds
// when every packet is read.
func TestReadInputsOverlapEarly(t *testing.T) {
	const dir = "../../testdata/pcaps/blackhole-s2c-h2c/"
	paths := []string{dir + "client.pcap", dir + "server.pcap"}
	ctx := context.Background()
	open := func(path string, input int) (decode.Source, error) { return decode.OpenContext(ctx, path, input) }
	order, firsts, err := timeOrderFirsts(ctx, paths, open)
	if err != nil || !slices.Equal(order, paths) {
		t.Fatalf("timeOrderFirsts = %v, %v; want the client's capture first", order, err)
	}
	whole, infos, early, err := readInputs(ctx, order, analyze.Options{}, open, nil, nil, nil)
	if err != nil || early {
		t.Fatalf("readInputs without a watch: early %v, %v", early, err)
	}
	whole.Close()
	if !overlap(infos) {
		t.Fatal("the two captures read whole do not overlap: the case tests nothing")
	}
	a, part, early, err := readInputs(ctx, order, analyze.Options{}, open, nil, overlapWatch(firsts), nil)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	if !early || len(part) != 1 {
		t.Fatalf("with the watch: early %v after %d inputs, want it to stop in the first", early, len(part))
	}
	if part[0].Packets >= infos[0].Packets {
		t.Errorf("read %d of the client's %d packets before stopping, want fewer", part[0].Packets, infos[0].Packets)
	}
	if !part[0].Last.After(firsts[1]) || !part[0].First.Before(firsts[1]) {
		t.Errorf("stopped with the client's packets from %v to %v, the server's first at %v: no overlap proved", part[0].First, part[0].Last, firsts[1])
	}
}

// In a multi-point analysis a connection judged healthy at one point may
// be made a problem by what the others saw (a packet lost between
// them): its verdict keeps its evidence in every format, the HTML too,
// which lists more connections than FoldAbove (it forgets no healthy
// one at the end), where its text was once left unmade as a healthy
// one past those listed (analyze.Options.FoldTexts).
func TestPointsFindingsKeepEvidence(t *testing.T) {
	const dir = "../../testdata/pcaps/synack-loss-unhealed/"
	for _, format := range []string{"table", "html"} {
		code, out, errOut := h2pcap(t, nil, "analyze", "--format", format, dir+"client.pcap", dir+"server.pcap")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", format, code, errOut)
		}
		// Each finding placed by the points: its verdict line, its loss
		// line, then its evidence frames and their Wireshark filter.
		lines := strings.Split(out, "\n")
		placed := 0
		for k, l := range lines {
			if !strings.Contains(l, "  DEGRADED: ") || !strings.Contains(l, "the capture points show the loss") {
				continue
			}
			placed++
			if k+3 >= len(lines) || !strings.Contains(lines[k+2], "frame ") || !strings.Contains(lines[k+3], "Wireshark: frame.number in") {
				t.Errorf("%s: a finding placed by the capture points without its evidence:\n%s", format, strings.Join(lines[k:min(len(lines), k+4)], "\n"))
			}
		}
		if placed < 2 {
			t.Fatalf("%s: %d findings placed by the capture points, want the two SYN-ACKs lost: the case tests nothing", format, placed)
		}
	}
}
