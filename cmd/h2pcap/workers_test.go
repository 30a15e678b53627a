package main

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/h2pcap/h2pcap/internal/synth"
)

// --workers N must not change a byte of the report: every lab and public
// capture, and a generated capture of each case large enough that healthy
// connections are judged and forgotten while it is read (past
// report.FoldAbove, over several seconds of capture time), in JSON and as
// a table, with one worker and with four. go test -race runs the workers
// against the reader.
func TestWorkersSameReport(t *testing.T) {
	var files []string
	root := filepath.Join("..", "..", "testdata", "pcaps")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng") || strings.HasSuffix(p, ".gz")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 50 {
		t.Fatalf("found %d captures under %s: the walk is wrong", len(files), root)
	}
	type input struct {
		name string
		args []string
	}
	var inputs []input
	for _, f := range files {
		inputs = append(inputs, input{f, []string{f}})
	}
	dir := t.TempDir()
	for _, kind := range synth.Cases {
		p := filepath.Join(dir, kind+".pcap")
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		var keys *os.File
		args := []string{p}
		if kind == "tls" {
			if keys, err = os.Create(filepath.Join(dir, "tls.keys")); err != nil {
				t.Fatal(err)
			}
			args = append(args, "--keylog", keys.Name())
		}
		n := 600
		switch kind {
		case "tls":
			n = 120 // a handshake each: slower to make
		case "syn", "open":
			// Never closed, so listed: past analyze's parallelRowsAbove,
			// the Report's rows are made on the workers too.
			n = 5000
		}
		var kw io.Writer // nil, not a nil *os.File, without keys
		if keys != nil {
			kw = keys
		}
		err = synth.Write(f, kind, synth.Config{N: n, Open: 40, Rate: 60}, kw)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if keys != nil {
			if err := keys.Close(); err != nil {
				t.Fatal(err)
			}
		}
		inputs = append(inputs, input{"synth-" + kind, args})
	}
	for _, in := range inputs {
		for _, format := range []string{"json", "table"} {
			args := append([]string{"analyze", "--format", format}, in.args...)
			code1, out1, err1 := h2pcap(t, nil, append(args, "--workers", "1")...)
			code4, out4, err4 := h2pcap(t, nil, append(args, "--workers", "4")...)
			if code1 != code4 || out1 != out4 || err1 != err4 {
				t.Errorf("%s --format %s: --workers 4 gives another report than --workers 1 (exit %d/%d, %d/%d bytes, stderr %q / %q)",
					in.name, format, code1, code4, len(out1), len(out4), err1, err4)
				if out1 != out4 {
					l1, l4 := strings.Split(out1, "\n"), strings.Split(out4, "\n")
					for i := range min(len(l1), len(l4)) {
						if l1[i] != l4[i] {
							t.Errorf("first difference at line %d:\n1: %s\n4: %s", i+1, l1[i], l4[i])
							break
						}
					}
				}
			}
		}
	}
}

func TestWorkersFlag(t *testing.T) {
	code, _, errOut := h2pcap(t, nil, "analyze", "--workers", "0", retransPcap)
	if code != exitUsage || !strings.Contains(errOut, "--workers 0: want 1 or more") {
		t.Errorf("--workers 0: exit %d, %q; want a usage error", code, errOut)
	}
}
