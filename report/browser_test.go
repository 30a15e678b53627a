package report

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/analyze"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
)

// browserCases are the reports the browser opens: lab captures of the
// failures the page is for, and the sample. Add a scenario here as the
// lab gains it.
var browserCases = []struct {
	name     string
	captures []string // testdata/pcaps paths, one capture split by rotation
	sample   func() *model.Report
	// report is a JSON report in testdata (one the points' analysis
	// wrote: cmd/h2pcap's TestGoldenPoints keeps it current).
	report string
}{
	// A lost PING: the server's answers blackholed.
	{name: "lost-ping", captures: []string{"blackhole-s2c-h2c/client.pcap"}},
	// Some flows dying together while the others on the path go on: a
	// per_flow incident.
	{name: "per-flow", captures: []string{"perflow-blackhole/client.pcap"}},
	// Every flow on the path: a path_outage.
	{name: "midconn", captures: []string{"midconn/client.pcap"}},
	{name: "random-loss", captures: []string{"random-loss-both/server.pcap"}},
	// Four capture points (client, the router's two interfaces, server):
	// the hop table, the loss placed between router-c and router-s.
	{name: "multi-point", report: "multipoint-loss.json"},
	{name: "sample-incident", sample: sampleHTML},
}

// selfcheck is what the page's script writes into it when opened with
// #selfcheck: the script errors it caught and the boxes of what it drew.
type selfcheck struct {
	Errors   []string `json:"errors"`
	Viewport [2]int   `json:"viewport"`
	Boxes    []struct {
		ID     string `json:"id"`
		Class  string `json:"cls"`
		Top    int    `json:"top"`
		Bottom int    `json:"bottom"`
		Width  int    `json:"width"`
		Height int    `json:"height"`
	} `json:"boxes"`
}

// TestBrowser opens each report in headless Chromium with no network, at
// a 13-inch laptop's 1280x800, and checks that the page ran without
// script errors, that the timeline, its lanes and the graphs were drawn
// with a size, and that the headline, the incidents and the timeline's
// first lane are on the first screen. The screenshots are kept in
// $H2PCAP_ARTIFACTS (default report/testdata/browser-out, gitignored).
func TestBrowser(t *testing.T) {
	bin := chromium()
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium not installed: CI runs .ci/deps.sh, which installs it")
		}
		t.Skip("chromium not installed (.ci/deps.sh installs it): the HTML report is not checked in a browser")
	}
	if testing.Short() {
		t.Skip("-short: no browser")
	}
	out := os.Getenv("H2PCAP_ARTIFACTS")
	if out == "" {
		out = filepath.Join("testdata", "browser-out")
	}
	out, _ = filepath.Abs(out)
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range browserCases {
		t.Run(tc.name, func(t *testing.T) {
			var r *model.Report
			switch {
			case tc.sample != nil:
				r = tc.sample()
			case tc.report != "":
				b, err := os.ReadFile(filepath.Join("testdata", tc.report))
				if err != nil {
					t.Fatal(err)
				}
				r = &model.Report{}
				if err := json.Unmarshal(b, r); err != nil {
					t.Fatal(err)
				}
			default:
				r = analyzeCaptures(t, tc.captures)
			}
			var page bytes.Buffer
			if err := Write(&page, r, "html"); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(out, tc.name+".html")
			if err := os.WriteFile(file, page.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			// One run both dumps the DOM the script wrote its check into
			// and takes the screenshot (the check goes at the page's end,
			// out of the first screen).
			png := filepath.Join(out, tc.name+".png")
			os.Remove(png)
			dom, log := runChromium(t, bin, "--screenshot="+png, "--dump-dom", "file://"+file+"#selfcheck")
			if m := regexp.MustCompile(`(?i)uncaught|ERR_[A-Z_]+.*https?:`).FindString(log); m != "" {
				t.Errorf("browser log: %s", m)
			}
			m := regexp.MustCompile(`<pre id="selfcheck">(.*?)</pre>`).FindStringSubmatch(dom)
			if m == nil {
				t.Fatalf("the page's script did not run (no #selfcheck in the DOM); log:\n%s", tail(log))
			}
			var sc selfcheck
			if err := json.Unmarshal([]byte(htmlUnescape(m[1])), &sc); err != nil {
				t.Fatalf("selfcheck: %v: %s", err, m[1])
			}
			if len(sc.Errors) > 0 {
				t.Errorf("script errors: %v", sc.Errors)
			}
			screen := sc.Viewport[1] // the first screen: what shows without scrolling
			if screen <= 0 || screen > 800 {
				t.Fatalf("viewport %v", sc.Viewport)
			}
			var lanes, graphs int
			seen := map[string]bool{}
			for _, b := range sc.Boxes {
				seen[b.ID] = true
				if b.Width <= 0 || b.Height <= 0 {
					t.Errorf("%s (%s) drawn with no size: %+v", b.ID, b.Class, b)
				}
				switch {
				case b.Class == "lane":
					if lanes == 0 && b.Bottom > screen {
						t.Errorf("the timeline's first lane ends at %d px, below the first screen (%d px)", b.Bottom, screen)
					}
					lanes++
				case b.Class == "seqgraph":
					graphs++
				case b.ID == "headline" || b.ID == "incidents":
					if b.Bottom > screen {
						t.Errorf("%s ends at %d px, below the first screen (%d px)", b.ID, b.Bottom, screen)
					}
				case b.ID == "timeline-wrap":
					if b.Top >= screen-60 {
						t.Errorf("the timeline starts at %d px, not on the first screen (%d px)", b.Top, screen)
					}
				}
			}
			problems, plotted := 0, 0
			for _, c := range r.Connections {
				if problem(c) {
					problems++
					if c.Plot != nil {
						plotted++
					}
				}
			}
			for _, id := range []string{"headline", "timeline", "timeline-wrap", "path-matrix"} {
				if !seen[id] {
					t.Errorf("no #%s drawn", id)
				}
			}
			if r.Summary != nil && len(r.Summary.Hops) > 0 && !seen["hop-table"] {
				t.Error("no #hop-table drawn for a multi-point report")
			}
			if r.Summary != nil && len(r.Summary.Incidents) > 0 && !seen["incidents"] {
				t.Error("no #incidents drawn")
			}
			if want := min(problems, maxLanes); lanes != want {
				t.Errorf("%d lanes drawn, want %d (the problem connections)", lanes, want)
			}
			if want := min(plotted, maxGraphs); graphs != want || graphs == 0 {
				t.Errorf("%d time-sequence graphs drawn, want %d (and at least one)", graphs, want)
			}

			if fi, err := os.Stat(png); err != nil || fi.Size() < 10_000 {
				t.Errorf("no screenshot: %v", err)
			}
			t.Logf("screenshot %s", png)
		})
	}
}

func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// runChromium runs headless Chromium at 1280x800 with the network off:
// in a network namespace of its own when the test runs as root, and in
// any case with a proxy that goes nowhere and no name resolution, so a
// page that tried to fetch anything would fail visibly.
func runChromium(t *testing.T, bin string, args ...string) (stdout, log string) {
	t.Helper()
	profile := t.TempDir()
	all := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
		"--window-size=1280,800", "--virtual-time-budget=3000", "--enable-logging=stderr", "--v=0",
		"--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
		"--user-data-dir=" + profile}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var cmd *exec.Cmd
	if unshare, err := exec.LookPath("unshare"); err == nil && os.Geteuid() == 0 {
		cmd = exec.CommandContext(ctx, unshare, append([]string{"--net", "--", bin}, all...)...)
	} else {
		cmd = exec.CommandContext(ctx, bin, all...)
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	cmd.Env = append(os.Environ(), "HOME="+profile)
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, tail(e.String()))
	}
	return o.String(), e.String()
}

// analyzeCaptures analyses lab captures with the picture data on, as the
// CLI does for --format html.
func analyzeCaptures(t *testing.T, captures []string) *model.Report {
	t.Helper()
	a := analyze.New(analyze.Options{Plot: true})
	var infos []*decode.InputInfo
	for i, p := range captures {
		src, err := decode.Open(filepath.Join("..", "testdata", "pcaps", p), i)
		if err != nil {
			t.Fatal(err)
		}
		info, err := a.ReadSource(src)
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
		infos = append(infos, info)
	}
	return a.Report(infos)
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&quot;", `"`, "&lt;", "<", "&gt;", ">", "&#39;", "'", "&amp;", "&").Replace(s)
}

func tail(s string) string {
	if len(s) > 2000 {
		return s[len(s)-2000:]
	}
	return s
}
