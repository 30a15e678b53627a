package analyze

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/internal/synth"
	"github.com/h2pcap/h2pcap/model"
	"github.com/h2pcap/h2pcap/report"
)

// synthCapture writes internal/synth's capture of kind with cfg to a
// temporary file and returns its path.
func synthCapture(t *testing.T, kind string, cfg synth.Config) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), kind+".pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.Write(f, kind, cfg, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// jsonOf analyzes path with opts and returns its JSON report and the
// number of rows spilled.
func jsonOf(t *testing.T, path string, opts Options) ([]byte, int) {
	return jsonOfEnd(t, path, opts, -1)
}

// jsonOfEnd is jsonOf, calling ForgetClosed(above) before the Report
// unless above is negative.
func jsonOfEnd(t *testing.T, path string, opts Options, above int) ([]byte, int) {
	t.Helper()
	return reportOfEnd(t, path, "json", opts, nil, above)
}

// jsonOfWith is jsonOf calling after, if not nil, with the Analyzer once
// its Report is made.
func jsonOfWith(t *testing.T, path string, opts Options, after func(*Analyzer)) ([]byte, int) {
	t.Helper()
	return reportOf(t, path, "json", opts, after)
}

// reportOf is jsonOfWith in the given format.
func reportOf(t *testing.T, path, format string, opts Options, after func(*Analyzer)) ([]byte, int) {
	t.Helper()
	return reportOfEnd(t, path, format, opts, after, -1)
}

// reportOfEnd is reportOf, calling ForgetClosed(above) before the Report
// unless above is negative.
func reportOfEnd(t *testing.T, path, format string, opts Options, after func(*Analyzer), above int) ([]byte, int) {
	t.Helper()
	var end func(*Analyzer)
	if above >= 0 {
		end = func(a *Analyzer) { a.ForgetClosed(above) }
	}
	b, spilled, _ := reportOfFile(t, path, format, opts, end, after)
	return b, spilled
}

// reportOfFile analyzes path with opts and returns its Report written in
// format (before the Analyzer closes its spill file), the number of rows
// it spilled, and the Report, calling end, if not nil, before the Report
// and after, if not nil, once it is made.
func reportOfFile(t *testing.T, path, format string, opts Options, end, after func(*Analyzer)) ([]byte, int, *model.Report) {
	t.Helper()
	src, err := decode.Open(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	a := New(opts)
	defer a.Close()
	info, err := a.ReadSource(src)
	if err != nil {
		t.Fatal(err)
	}
	if end != nil {
		end(a)
	}
	r := a.Report([]*decode.InputInfo{info})
	if after != nil {
		after(a)
	}
	spilled := 0
	if r.Spilled != nil {
		spilled = r.Spilled.Len()
	}
	var b bytes.Buffer
	if err := report.Write(&b, r, format); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), spilled, r
}

// With SpillRows the JSON report is byte for byte the one that keeps
// every connection in memory: the spilled rows are judged as the Report
// would judge them and merged back in stream order.
func TestSpillRowsSameJSON(t *testing.T) {
	gen := synthCapture(t, "short", synth.Config{N: 400, Open: 16, Rate: 50})
	lab, _ := filepath.Glob(filepath.Join("..", "testdata", "pcaps", "*", "*.pcap"))
	paths := append([]string{gen}, lab...)
	total := 0
	defer func() {
		if total == 0 {
			t.Error("no lab capture spilled a row")
		}
	}()
	for _, p := range paths {
		t.Run(filepath.Base(filepath.Dir(p))+"/"+filepath.Base(p), func(t *testing.T) {
			want, _ := jsonOf(t, p, Options{})
			got, spilled := jsonOf(t, p, Options{ForgetHealthy: time.Second, SpillRows: true})
			t.Logf("%d rows spilled", spilled)
			if p != gen {
				total += spilled
			}
			if p == gen && spilled < 300 {
				t.Errorf("only %d of 400 rows spilled", spilled)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("spilled JSON differs (%d vs %d bytes, %d rows spilled)", len(got), len(want), spilled)
			}
		})
	}
}

// With ReportOnce (h2pcap analyze) the half-open connections' facts are
// built again when each is judged instead of held for all (verdict.Later),
// and with SpillRows their rows are spilled as they are judged: the JSON
// report is byte for byte the one that holds them, alone and with the
// forgetting and spilling analyze adds.
func TestReportOnceSameJSON(t *testing.T) {
	gen := synthCapture(t, "syn", synth.Config{N: 3000, Open: 16, Rate: 500})
	lab, _ := filepath.Glob(filepath.Join("..", "testdata", "pcaps", "*", "*.pcap"))
	for _, p := range append([]string{gen}, lab...) {
		t.Run(filepath.Base(filepath.Dir(p))+"/"+filepath.Base(p), func(t *testing.T) {
			want, _ := jsonOf(t, p, Options{})
			for _, opts := range []Options{
				{ReportOnce: true},
				{ReportOnce: true, ForgetHealthy: time.Second, ForgetAbove: 200, SpillRows: true},
			} {
				var later, settled int
				got, spilled := jsonOfWith(t, p, opts, func(a *Analyzer) { later, settled = a.later, a.settled })
				if p == gen && later < 2000 {
					t.Errorf("%+v: %d of 3000 half-open connections judged with their facts built again", opts, later)
				}
				if p == gen && opts.SpillRows && settled < 2000 {
					t.Errorf("%+v: %d of 3000 rows settled once spilled", opts, settled)
				}
				if p == gen && opts.SpillRows && spilled < 2000 {
					t.Errorf("%+v: %d of 3000 rows spilled (as judged)", opts, spilled)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%+v: JSON differs (%d vs %d bytes, %d facts built again)", opts, len(got), len(want), later)
				}
			}
		})
	}
}

// With FoldTexts (h2pcap analyze's table) the half-open connections past
// those the table lists get no verdict text: the table is byte for byte
// the one whose every connection has its text.
func TestFoldTextsSameTable(t *testing.T) {
	gen := synthCapture(t, "syn", synth.Config{N: 3000, Open: 16, Rate: 500})
	lab, _ := filepath.Glob(filepath.Join("..", "testdata", "pcaps", "*", "*.pcap"))
	base := Options{ReportOnce: true, ForgetHealthy: time.Second, ForgetAbove: report.FoldAbove}
	folding := base
	folding.FoldTexts.Above, folding.FoldTexts.Listed = report.FoldAbove, report.MaxListed
	for _, p := range append([]string{gen}, lab...) {
		t.Run(filepath.Base(filepath.Dir(p))+"/"+filepath.Base(p), func(t *testing.T) {
			want, _ := reportOf(t, p, "table", base, nil)
			var untold, settled, half, all int
			got, _ := reportOf(t, p, "table", folding, func(a *Analyzer) {
				untold, settled = a.untold, a.settled
				half, all = a.HalfOpen()
			})
			if p == gen && (half < 2000 || all < 3000) {
				t.Errorf("HalfOpen: %d of %d connections, want most of 3000", half, all)
			}
			if p == gen && untold < 2000 {
				t.Errorf("%d of 3000 half-open connections judged without text", untold)
			}
			if p == gen && settled < 2000 {
				t.Errorf("%d of 3000 half-open connections' rows settled (counted in Report.Unlisted)", settled)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("table differs (%d vs %d bytes, %d verdicts without text)", len(got), len(want), untold)
			}
		})
	}
}

// The HTML and the Markdown (its pictures too) fold as the table does
// (FoldTexts with report.Listed): a flood's half-open connections past
// those listed are counted per path (Report.Unlisted), their rows and
// texts never held, and each report is byte for byte the one whose every
// connection has its row and text: the counts of what is not listed, the
// timeline's rows of healthy connections per path and its lanes.
func TestFoldTextsSamePictures(t *testing.T) {
	gen := synthCapture(t, "syn", synth.Config{N: 3000, Open: 16, Rate: 500})
	lab, _ := filepath.Glob(filepath.Join("..", "testdata", "pcaps", "*", "*.pcap"))
	for _, format := range []string{"html", "markdown"} {
		base := Options{ReportOnce: true, ForgetHealthy: time.Second, ForgetAbove: report.FoldAbove, Plot: true}
		folding := base
		folding.FoldTexts.Above, folding.FoldTexts.Listed = report.FoldAbove, report.Listed(format)
		for _, p := range append([]string{gen}, lab...) {
			t.Run(format+"/"+filepath.Base(filepath.Dir(p))+"/"+filepath.Base(p), func(t *testing.T) {
				want, _, wr := reportOfFile(t, p, format, base, nil, nil)
				var settled int
				got, _, r := reportOfFile(t, p, format, folding, nil, func(a *Analyzer) { settled = a.settled })
				if p == gen && (settled < 2000 || len(r.Unlisted) == 0) {
					t.Errorf("%d of 3000 half-open connections' rows settled, %d unlisted counts", settled, len(r.Unlisted))
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs (%d vs %d bytes, %d rows settled)", format, len(got), len(want), settled)
				}
				if format != "markdown" {
					return
				}
				gp, wp := report.Pictures(r), report.Pictures(wr)
				if len(gp) != len(wp) {
					t.Fatalf("%d pictures, want %d", len(gp), len(wp))
				}
				for i := range gp {
					if gp[i].Name != wp[i].Name || !bytes.Equal(gp[i].SVG, wp[i].SVG) {
						t.Errorf("picture %s differs from %s", gp[i].Name, wp[i].Name)
					}
				}
			})
		}
	}
}

// ForgetClosed at the capture's end (h2pcap live's report) spills the
// rows of the connections closed within ForgetHealthy, and the JSON
// report stays byte for byte the one that keeps them in memory, with the
// notices on as live has them (and as analyze --format json has it).
// Below its threshold it leaves a lab capture's report alone (a dial
// race's spare is judged with its twin).
func TestForgetClosedSameJSON(t *testing.T) {
	gen := synthCapture(t, "short", synth.Config{N: 400, Open: 16, Rate: 50})
	opts := Options{ForgetHealthy: time.Hour, OnNotice: func(*model.Notice) {}}
	cases := []struct {
		path       string
		above      int
		minSpilled int
	}{
		{gen, 0, 380},
		{filepath.Join("..", "testdata", "pcaps", "dial-race", "client.pcap"), 100, 0},
		// A handshake outage beside established connections, all of
		// those spilled: the incident still finds them (CleanSpan).
		{filepath.Join("..", "testdata", "pcaps", "synack-loss-unhealed", "client.pcap"), 20, 4},
	}
	for _, tc := range cases {
		t.Run(filepath.Base(filepath.Dir(tc.path))+"/"+filepath.Base(tc.path), func(t *testing.T) {
			want, _ := jsonOf(t, tc.path, opts)
			got, spilled := jsonOfEnd(t, tc.path, opts, tc.above)
			if spilled < tc.minSpilled || tc.minSpilled == 0 && spilled != 0 {
				t.Errorf("%d rows spilled, want at least %d", spilled, tc.minSpilled)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("JSON differs after ForgetClosed (%d vs %d bytes, %d rows spilled)", len(got), len(want), spilled)
			}
		})
	}
}

// TestRowSpillBlocks: rows spilled over many compressed blocks, in an
// order far from the streams' (more blocks apart than Rows keeps
// decompressed), come back in stream order, each byte for byte, one of
// them larger than a block.
func TestRowSpillBlocks(t *testing.T) {
	s, err := newRowSpill()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 30000
	rowOf := func(stream int) []byte {
		size := 700 + stream%300
		if stream == 1234 {
			size = spillBlock + 100
		}
		b := bytes.Repeat([]byte(fmt.Sprintf("{\"stream\": %d}", stream)), size/12+1)
		return b[:size]
	}
	// Every 7th stream is spilled at the end: its block is far from
	// its neighbours'.
	var late []int
	for st := range n {
		if st%7 == 0 {
			late = append(late, st)
			continue
		}
		s.addRow(st, rowOf(st))
	}
	for _, st := range late {
		s.addRow(st, rowOf(st))
	}
	if s.Len() != n {
		t.Fatalf("Len %d, want %d", s.Len(), n)
	}
	if len(s.blocks) < 3*spillCache {
		t.Fatalf("%d blocks: too few to test the cache", len(s.blocks))
	}
	next := 0
	err = s.Rows(func(stream int, row []byte) error {
		if stream != next {
			return fmt.Errorf("stream %d, want %d", stream, next)
		}
		if !bytes.Equal(row, rowOf(stream)) {
			return fmt.Errorf("stream %d: row differs", stream)
		}
		next++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if next != n {
		t.Errorf("%d rows, want %d", next, n)
	}
	if s.off >= int64(n*700/4) {
		t.Errorf("%d bytes in the file for %d rows of 700-1000 repetitive bytes: not compressed", s.off, n)
	}
}

// ForgetClosedUnlisted at the capture's end (h2pcap analyze's table and
// Markdown) forgets the healthy connections closed within ForgetHealthy
// without keeping their rows: the table is the one made without it but
// for the count of those forgotten, and folds every connection into its
// path's count (not "No TCP connections", with none left listed).
func TestForgetClosedUnlisted(t *testing.T) {
	gen := synthCapture(t, "short", synth.Config{N: 400, Open: 16, Rate: 50})
	opts := Options{ForgetHealthy: time.Hour}
	table := func(end bool) (string, *model.Report) {
		var forget func(*Analyzer)
		if end {
			forget = func(a *Analyzer) { a.ForgetClosedUnlisted(0) }
		}
		b, _, r := reportOfFile(t, gen, "table", opts, forget, nil)
		return string(b), r
	}
	want, kept := table(false)
	got, r := table(true)
	if len(kept.Connections) == 0 {
		t.Fatalf("without ForgetClosedUnlisted no connection is listed: the test shows nothing")
	}
	if len(r.Connections) != 0 || r.Spilled != nil || r.Summary.HealthyNotListed != 400 {
		t.Errorf("after ForgetClosedUnlisted: %d listed, spilled %v, %d healthy not listed; want 0, nil, 400",
			len(r.Connections), r.Spilled != nil, r.Summary.HealthyNotListed)
	}
	if kept.Summary.HealthyNotListed != 0 {
		t.Fatalf("%d connections forgotten before the end: the test shows less", kept.Summary.HealthyNotListed)
	}
	want = strings.Replace(want, "400 connections, 0 with problems", "400 connections (400 healthy ones, closed during the capture, counted but not listed), 0 with problems", 1)
	if got != want {
		t.Errorf("table differs beyond the count of forgotten connections:\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(got, "400 connections not listed") || strings.Contains(got, "No TCP connections") {
		t.Errorf("the forgotten connections are not folded:\n%s", got)
	}
}

// TestRowSpillIndexChunks: past spillIdxChunk rows the index is kept in
// chunks, put together to be sorted when the rows are read: every row
// comes back once, in stream order, whatever chunk it was filed in.
func TestRowSpillIndexChunks(t *testing.T) {
	s, err := newRowSpill()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 2*spillIdxChunk + 123
	rowOf := func(stream int) []byte { return []byte(fmt.Sprintf("{%d}", stream)) }
	for k := range n {
		st := (k * 7919) % n // every stream once, far from its order (7919 is prime, n is not its multiple)
		s.addRow(st, rowOf(st))
	}
	if s.Len() != n || len(s.full) != 2 {
		t.Fatalf("Len %d, %d full chunks; want %d, 2", s.Len(), len(s.full), n)
	}
	next := 0
	err = s.Rows(func(stream int, row []byte) error {
		if stream != next || !bytes.Equal(row, rowOf(stream)) {
			return fmt.Errorf("stream %d (%q), want %d", stream, row, next)
		}
		next++
		return nil
	})
	if err != nil || next != n || s.Len() != n {
		t.Errorf("%d rows read, Len %d, want %d: %v", next, s.Len(), n, err)
	}
}
