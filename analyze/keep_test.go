package analyze

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/internal/synth"
	"github.com/h2pcap/h2pcap/model"
	"github.com/h2pcap/h2pcap/report"
)

// With KeepRows (h2pcap analyze --all as text) the healthy connections
// are forgotten as they close, their rows held: the Report, as JSON and
// as --all's table and Markdown, is byte for byte the one that keeps
// every connection whole until it.
//
// etcd-leader-loss-mesh's m1.pcap holds a dial whose client reset a
// SYN-ACK that came late, the RST lost on its lossy link: the server sent
// its SYN-ACK again 6.3 s later, after ReportOnce had settled the row
// 3 s after the close, which lacked those segments until such a
// connection was kept longer (verdict.SYNAckAgainWithin).
func TestKeepRowsSameReport(t *testing.T) {
	gen := synthCapture(t, "short", synth.Config{N: 400, Open: 16, Rate: 50})
	lab, _ := filepath.Glob(filepath.Join("..", "testdata", "pcaps", "*", "*.pcap"))
	total := 0
	for _, p := range append([]string{gen}, lab...) {
		t.Run(filepath.Base(filepath.Dir(p))+"/"+filepath.Base(p), func(t *testing.T) {
			for _, tt := range []struct{ base, opts Options }{
				// As h2pcap analyze --all has it; and forgetting
				// every connection a second after its close, with no
				// troubled one's row made then (ReportOnce settles
				// those: a FIN sent again after that second would
				// miss it, by design).
				{Options{ReportOnce: true}, Options{ReportOnce: true, ForgetHealthy: 3 * time.Second, ForgetAbove: report.FoldAbove, KeepRows: true}},
				{Options{}, Options{ForgetHealthy: time.Second, KeepRows: true}},
			} {
				want, _ := allReportsOf(t, p, tt.base)
				opts := tt.opts
				got, kept := allReportsOf(t, p, opts)
				if p != gen {
					total += kept
				} else if kept < 150 {
					t.Errorf("%v, %d: only %d of 400 rows kept as forgotten", opts.ForgetHealthy, opts.ForgetAbove, kept)
				}
				for f := range want {
					if !bytes.Equal(got[f], want[f]) {
						t.Errorf("%v, %d: %s differs with KeepRows (%d vs %d bytes, %d rows kept)", opts.ForgetHealthy, opts.ForgetAbove, f, len(got[f]), len(want[f]), kept)
					}
				}
			}
		})
	}
	if total == 0 {
		t.Error("no lab capture forgot a row")
	}
}

// allReportsOf is path's Report with opts written as JSON, and as the
// table and Markdown with every connection listed (--all), and the
// number of rows KeepRows held.
func allReportsOf(t *testing.T, path string, opts Options) (map[string][]byte, int) {
	t.Helper()
	kept := 0
	b, _, r := reportOfFile(t, path, "json", opts, func(a *Analyzer) { kept = len(a.kept) }, nil)
	out := map[string][]byte{"json": b}
	for _, f := range []string{"table", "markdown"} {
		var b bytes.Buffer
		if err := report.WriteOptions(&b, r, f, report.Options{All: true}); err != nil {
			t.Fatal(err)
		}
		out[f] = b.Bytes()
	}
	return out, kept
}

// mergeKept puts the held rows among the listed ones by stream, however
// they were forgotten.
func TestMergeKept(t *testing.T) {
	rows := func(streams ...int) []*model.Connection {
		var out []*model.Connection
		for _, s := range streams {
			out = append(out, &model.Connection{Stream: s})
		}
		return out
	}
	tests := []struct {
		name       string
		rows, kept []int
		want       []int
	}{
		{"none listed", nil, []int{3, 1, 2}, []int{1, 2, 3}},
		{"interleaved", []int{0, 4, 5, 9}, []int{7, 1, 2, 8}, []int{0, 1, 2, 4, 5, 7, 8, 9}},
		{"after", []int{0, 1}, []int{3, 2}, []int{0, 1, 2, 3}},
		{"before", []int{5, 6}, []int{1}, []int{1, 5, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mergeKept(rows(tt.rows...), rows(tt.kept...))
			var streams []int
			for _, c := range got {
				streams = append(streams, c.Stream)
			}
			if len(streams) != len(tt.want) {
				t.Fatalf("got %v, want %v", streams, tt.want)
			}
			for i := range streams {
				if streams[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", streams, tt.want)
				}
			}
		})
	}
}

// FuzzKeepRows: the rows KeepRows holds give the JSON report that the
// rows SpillRows writes to its file give, the forgetting being the same:
// each row made, judged and put back in stream order alike, whatever
// the connections and their timing.
func FuzzKeepRows(f *testing.F) {
	// fuzzTwoShort, then lone SYNs, quiet between.
	f.Add([]byte(fuzzTwoShort + "\x02\x02\x00\x00\x00\x00\x00\xff" + "\x03\x02\x00\x00\x00\x00\x00\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		spilled := fuzzJSON(t, data, Options{ForgetHealthy: 100 * time.Millisecond, ReportOnce: true, SpillRows: true}, nil)
		kept := fuzzJSON(t, data, Options{ForgetHealthy: 100 * time.Millisecond, ReportOnce: true, KeepRows: true}, nil)
		if !bytes.Equal(kept, spilled) {
			t.Fatalf("with the rows kept, the report differs:\n%s\nspilled\n%s", kept, spilled)
		}
	})
}
