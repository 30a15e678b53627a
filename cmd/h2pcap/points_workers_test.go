package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/internal/synth"
)

// TestPointsWorkersSame: with --workers 2, and by default where Go may
// use two cores, each capture point is read and analysed on a goroutine
// of its own (pointsrun.go), and the report is the same bytes as read in
// turn on one (--workers 1): every lab directory of several
// captures (a router's -i any file split per interface beside two
// single-point files among them), and a generated capture of short
// connections as two points, the second lacking one packet in 97 (247
// packets its capture missed), enough
// of them that points' analyses forget connections the Placer is done
// with while others are read; JSON and table. A point that cannot be read
// fails the same way. go test -race runs the goroutines against the
// merging one.
func TestPointsWorkersSame(t *testing.T) {
	root := filepath.Join("..", "..", "testdata", "pcaps")
	dirs, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	type input struct {
		name string
		args []string
	}
	var inputs []input
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		var files []string
		for _, ext := range []string{"*.pcap", "*.pcapng"} {
			m, _ := filepath.Glob(filepath.Join(root, d.Name(), ext))
			files = append(files, m...)
		}
		if len(files) >= 2 && !strings.HasPrefix(d.Name(), "inputs") {
			slices.Sort(files)
			inputs = append(inputs, input{d.Name(), files})
		}
	}
	if len(inputs) < 8 {
		t.Fatalf("%d directories of several captures under %s: the walk is wrong", len(inputs), root)
	}
	dir := t.TempDir()
	var first bytes.Buffer
	if err := synth.Write(&first, "short", synth.Config{N: 3000, Open: 40, Rate: 300}, nil); err != nil {
		t.Fatal(err)
	}
	a := filepath.Join(dir, "a.pcap")
	if err := os.WriteFile(a, first.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	second := func(name string, delay time.Duration) string {
		p := filepath.Join(dir, name+".pcap")
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := synth.SecondPoint(bytes.NewReader(first.Bytes()), f, delay, 97); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		return p
	}
	inputs = append(inputs, input{"synth-short", []string{"--point", "a=" + a, "--point", "b=" + second("b", 3*time.Microsecond)}},
		// Every packet at both points at the same time: ties
		// throughout.
		input{"synth-tied", []string{"--point", "a=" + a, "--point", "b=" + second("tied", 0)}})
	// b's clock 3 s ahead: read shifted among a's packets (clockShifts),
	// on every goroutine alike.
	ahead := readPcap(t, second("ahead-src", 3*time.Microsecond))
	for i := range ahead.ci {
		ahead.ci[i].Timestamp = ahead.ci[i].Timestamp.Add(3 * time.Second)
	}
	shifted := filepath.Join(dir, "ahead.pcap")
	ahead.write(t, shifted, 0, len(ahead.data), ahead.snaplen)
	inputs = append(inputs, input{"synth-clock", []string{"--point", "a=" + a, "--point", "b=" + shifted}})
	notCapture := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notCapture, []byte("not a capture\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inputs = append(inputs, input{"bad", []string{"--point", "a=" + a, "--point", "b=" + notCapture}})
	for _, in := range inputs {
		for _, format := range []string{"json", "table", "html"} {
			args := append([]string{"analyze", "--format", format}, in.args...)
			code1, out1, err1 := h2pcap(t, nil, append(args, "--workers", "1")...)
			for _, w := range [][]string{{"--workers", "2"}, nil} { // nil: the default
				code2, out2, err2 := h2pcap(t, nil, append(args, w...)...)
				if code1 != code2 || out1 != out2 || err1 != err2 {
					t.Errorf("%s --format %s: %v gives another report than --workers 1 (exit %d/%d, %d/%d bytes, stderr %q / %q)",
						in.name, format, w, code1, code2, len(out1), len(out2), err1, err2)
					l1, l2 := strings.Split(out1, "\n"), strings.Split(out2, "\n")
					for i := range min(len(l1), len(l2)) {
						if l1[i] != l2[i] {
							t.Errorf("first difference at line %d:\n1: %s\n2: %s", i+1, l1[i], l2[i])
							break
						}
					}
				}
			}
			switch {
			case in.name == "bad" && code1 != exitUsage:
				t.Errorf("a point that is no capture: exit %d, want %d", code1, exitUsage)
			case in.name == "synth-short" && format == "json" && !strings.Contains(out1, `"capture_missed": 247`):
				t.Error("synth-short: the packets b lacks are not in the hop table: the test proves little")
			case in.name == "synth-clock" && format == "json" && !strings.Contains(out1, `"capture_missed": 247`):
				t.Error("synth-clock: b 3 s ahead does not give synth-short's hop table")
			}
		}
	}
}
