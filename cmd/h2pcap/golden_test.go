package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/h2pcap/h2pcap/analyze"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/report"
)

// The reports users paste into incident reviews, on real lab captures:
// go test ./cmd/h2pcap -update rewrites them after a deliberate change.
func TestGoldenReports(t *testing.T) {
	for _, scenario := range []string{"too-many-pings", "middlebox-reset", "mtu-blackhole", "blackhole-s2c-tls", "midconn-tls"} {
		for _, format := range []string{"table", "markdown"} {
			name := scenario + "." + map[string]string{"table": "txt", "markdown": "md"}[format]
			t.Run(name, func(t *testing.T) {
				src := filepath.Join("..", "..", "testdata", "pcaps", scenario, "client.pcap")
				code, out, errOut := h2pcap(t, nil, "analyze", "--format", format, src)
				if code != 0 {
					t.Fatalf("exit %d: %s", code, errOut)
				}
				checkGolden(t, name, out)
			})
		}
	}
}

// The multi-point report of the four-point lab capture: the capture
// points and hop tables, the headline and findings placing each loss.
func TestGoldenPoints(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "pcaps", "multipoint-loss")
	var args []string
	for _, p := range []string{"client", "router-c", "router-s", "server"} {
		args = append(args, "--point", p+"="+filepath.Join(dir, p+".pcap"))
	}
	for _, format := range []string{"table", "markdown"} {
		name := "multipoint-loss." + map[string]string{"table": "txt", "markdown": "md"}[format]
		t.Run(name, func(t *testing.T) {
			code, out, errOut := h2pcap(t, nil, append([]string{"analyze", "--format", format}, args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			checkGolden(t, name, out)
		})
	}
	// The JSON report with its pictures' data is what the HTML report's
	// browser test opens as its multi-point case (package report cannot
	// run the points' analyses itself).
	t.Run("multipoint-loss.json", func(t *testing.T) {
		code, out, errOut := h2pcap(t, nil, append([]string{"analyze", "--format", "json", "--plot-data"}, args...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		checkGoldenAt(t, filepath.Join("..", "..", "report", "testdata", "multipoint-loss.json"), out)
	})
}

// checkGolden compares out with testdata/name, which -update rewrites.
func checkGolden(t *testing.T, name, out string) {
	t.Helper()
	checkGoldenAt(t, filepath.Join("testdata", name), out)
}

// checkGoldenAt compares out with the file golden, which -update rewrites.
func checkGoldenAt(t *testing.T, golden, out string) {
	t.Helper()
	if *update {
		os.MkdirAll(filepath.Dir(golden), 0o755)
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test ./cmd/h2pcap -update creates it)", err)
	}
	if !bytes.Equal([]byte(out), want) {
		t.Errorf("report differs from %s (go test ./cmd/h2pcap -update to accept):\n%s", golden, diffLines(string(want), out))
	}
}

// diffLines shows the first lines that differ, enough to see what changed.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)) && b.Len() < 2000; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("- " + wl + "\n+ " + gl + "\n")
		}
	}
	return b.String()
}

// At 80 and 120 columns (a terminal) the table report drops columns in
// its stated order and wraps its text: no line is wider than the
// terminal, unless one word is.
func TestGoldenWidths(t *testing.T) {
	for _, scenario := range []string{"mtu-blackhole", "blackhole-s2c-tls"} {
		src := filepath.Join("..", "..", "testdata", "pcaps", scenario, "client.pcap")
		r := analyzeJSON(t, nil, src)
		for _, width := range []int{80, 120} {
			name := fmt.Sprintf("%s-%d.txt", scenario, width)
			t.Run(name, func(t *testing.T) {
				var b bytes.Buffer
				if err := report.WriteOptions(&b, r, "table", report.Options{Width: width}); err != nil {
					t.Fatal(err)
				}
				out := b.String()
				for i, line := range strings.Split(out, "\n") {
					if n := utf8.RuneCountInString(line); n > width && strings.Contains(strings.TrimSpace(line), " ") {
						t.Errorf("line %d is %d columns wide: %q", i+1, n, line)
					}
				}
				checkGolden(t, name, out)
			})
		}
	}
}

// A pipe or a file is no terminal: the report keeps its full width, even
// with COLUMNS set.
func TestTerminalWidthNotATerminal(t *testing.T) {
	t.Setenv("COLUMNS", "80")
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, w, _ := os.Pipe()
	defer r.Close()
	defer w.Close()
	for _, out := range []io.Writer{f, w, &bytes.Buffer{}} {
		if n := terminalWidth(out); n != 0 {
			t.Errorf("%T: width %d, want 0", out, n)
		}
	}
}

// The JSON report is written a connection at a time (report.writeJSON);
// it must equal, byte for byte, what json.Encoder writes of the whole
// Report, on every capture in testdata.
func TestJSONStreamedEqualsEncoder(t *testing.T) {
	var paths []string
	filepath.WalkDir("../../testdata/pcaps", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng")) {
			paths = append(paths, p)
		}
		return nil
	})
	if len(paths) < 20 {
		t.Fatalf("only %d captures found", len(paths))
	}
	compared := 0
	for _, p := range paths {
		src, err := decode.Open(p, 0)
		if err != nil {
			continue // the damaged ones are another test's
		}
		a := analyze.New(analyze.Options{})
		info, err := a.ReadSource(src)
		src.Close()
		if err != nil {
			continue
		}
		r := a.Report([]*decode.InputInfo{info})
		var streamed, whole bytes.Buffer
		if err := report.Write(&streamed, r, "json"); err != nil {
			t.Fatal(err)
		}
		enc := json.NewEncoder(&whole)
		enc.SetIndent("", "  ")
		enc.Encode(r)
		if !bytes.Equal(streamed.Bytes(), whole.Bytes()) {
			t.Errorf("%s: streamed JSON differs from json.Encoder's:\n%s", p, diffLines(whole.String(), streamed.String()))
		}
		compared++
	}
	if compared < 20 {
		t.Errorf("only %d captures compared", compared)
	}
}
