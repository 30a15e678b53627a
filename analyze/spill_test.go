package analyze

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/internal/synth"
	"github.com/h2pcap/h2pcap/model"
	"github.com/h2pcap/h2pcap/report"
)

// jsonOf analyzes path with opts and returns its JSON report.
func jsonOf(t *testing.T, path string, opts Options) ([]byte, int) {
	return jsonOfEnd(t, path, opts, -1)
}

// jsonOfEnd is jsonOf, calling ForgetClosed(above) before the Report
// unless above is negative.
func jsonOfEnd(t *testing.T, path string, opts Options, above int) ([]byte, int) {
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
	if above >= 0 {
		a.ForgetClosed(above)
	}
	r := a.Report([]*decode.InputInfo{info})
	spilled := 0
	if r.Spilled != nil {
		spilled = r.Spilled.Len()
	}
	var b bytes.Buffer
	if err := report.Write(&b, r, "json"); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), spilled
}

// With SpillRows the JSON report is byte for byte the one that keeps
// every connection in memory: the spilled rows are judged as the Report
// would judge them and merged back in stream order.
func TestSpillRowsSameJSON(t *testing.T) {
	gen := filepath.Join(t.TempDir(), "short.pcap")
	f, err := os.Create(gen)
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.Write(f, "short", synth.Config{N: 400, Open: 16, Rate: 50}, nil); err != nil {
		t.Fatal(err)
	}
	f.Close()
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

// ForgetClosed at the capture's end (h2pcap live's report) spills the
// rows of the connections closed within ForgetHealthy, and the JSON
// report stays byte for byte the one that keeps them in memory, with the
// notices on as live has them. Below its threshold it leaves a lab
// capture's report alone (a dial race's spare is judged with its twin).
func TestForgetClosedSameJSON(t *testing.T) {
	gen := filepath.Join(t.TempDir(), "short.pcap")
	f, err := os.Create(gen)
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.Write(f, "short", synth.Config{N: 400, Open: 16, Rate: 50}, nil); err != nil {
		t.Fatal(err)
	}
	f.Close()
	opts := Options{ForgetHealthy: time.Hour, OnNotice: func(*model.Notice) {}}
	cases := []struct {
		path       string
		above      int
		minSpilled int
	}{
		{gen, 0, 380},
		{filepath.Join("..", "testdata", "pcaps", "dial-race", "client.pcap"), 100, 0},
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
