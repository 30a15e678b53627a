package oracle

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeRunner is a runner whose tshark prints its arguments (the capture's
// content in place of its name), counting its runs.
func fakeRunner(t *testing.T, runs *atomic.Int32) *runner {
	return &runner{bin: "tshark", version: "TShark (Wireshark) 4.0.17", dir: t.TempDir(),
		exec: func(ctx context.Context, bin string, args []string) ([]byte, []byte, error) {
			runs.Add(1)
			if slices.Contains(args, "fail") {
				return nil, []byte("tshark: it failed"), errors.New("exit status 2")
			}
			b, err := os.ReadFile(args[1])
			if err != nil {
				return nil, nil, err
			}
			return []byte(string(b) + " " + strings.Join(args[2:], " ")), nil, nil
		}}
}

func writeFile(t *testing.T, path, s string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// cached lists the cache's files.
func cached(t *testing.T, r *runner) []string {
	t.Helper()
	ents, err := os.ReadDir(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestCache(t *testing.T) {
	var runs atomic.Int32
	r := fakeRunner(t, &runs)
	dir := t.TempDir()
	capture := writeFile(t, filepath.Join(dir, "a.pcap"), "one")
	keys := writeFile(t, filepath.Join(dir, "keys"), "k1")
	opts := Options{Prefs: []string{"-o", "tcp.reassemble_out_of_order:TRUE"}, KeyLog: keys, Filter: "tcp"}

	want := "one -n -o tcp.reassemble_out_of_order:TRUE -o tls.keylog_file:" + keys + " -Y tcp -q"
	step := func(name string, opts Options, wantRuns int32) {
		t.Helper()
		got, err := r.run(capture, opts, []string{"-q"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if string(got) != want {
			t.Errorf("%s: output %q, want %q", name, got, want)
		}
		if n := runs.Load(); n != wantRuns {
			t.Errorf("%s: tshark ran %d times in all, want %d", name, n, wantRuns)
		}
	}
	step("first", opts, 1)
	step("again", opts, 1)
	if files := cached(t, r); len(files) != 1 || !strings.HasPrefix(files[0], "a.pcap.") {
		t.Fatalf("cache holds %q", files)
	}

	// What the output depends on is in the key: each change runs tshark.
	writeFile(t, capture, "two")
	want = strings.Replace(want, "one", "two", 1)
	step("capture changed", opts, 2)
	step("capture changed, again", opts, 2)

	writeFile(t, keys, "k2")
	step("key log changed", opts, 3)

	opts.Filter = "http2"
	want = strings.Replace(want, "-Y tcp", "-Y http2", 1)
	step("filter changed", opts, 4)

	r.version = "TShark (Wireshark) 4.2.0"
	step("tshark changed", opts, 5)
	step("tshark changed, again", opts, 5)

	if files := cached(t, r); len(files) != 5 {
		t.Errorf("cache holds %d files, want 5: %q", len(files), files)
	}

	// The capture's name is not in the key (a generated capture is in a
	// new directory every time), its bytes are.
	moved := writeFile(t, filepath.Join(t.TempDir(), "a.pcap"), "two")
	if _, err := r.run(moved, opts, []string{"-q"}); err != nil {
		t.Fatal(err)
	}
	if n := runs.Load(); n != 5 {
		t.Errorf("the same capture elsewhere: tshark ran again (%d runs)", n)
	}
}

// A failed run fails with tshark's standard error and is not kept.
func TestCacheFailure(t *testing.T) {
	var runs atomic.Int32
	r := fakeRunner(t, &runs)
	capture := writeFile(t, filepath.Join(t.TempDir(), "a.pcap"), "one")
	for i := range 2 {
		_, err := r.run(capture, Options{}, []string{"fail"})
		if err == nil || !strings.Contains(err.Error(), "it failed") {
			t.Errorf("run %d: error %v, want tshark's standard error", i, err)
		}
	}
	if n := runs.Load(); n != 2 {
		t.Errorf("tshark ran %d times, want 2", n)
	}
	if files := cached(t, r); len(files) != 0 {
		t.Errorf("cache holds %q after failures", files)
	}
}

// Runs of one key at once (the tests of several packages share the cache)
// all read whole outputs, and leave no temporary file.
func TestCacheConcurrent(t *testing.T) {
	var runs atomic.Int32
	r := fakeRunner(t, &runs)
	capture := writeFile(t, filepath.Join(t.TempDir(), "a.pcap"), strings.Repeat("x", 1<<20))
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := r.run(capture, Options{}, []string{"-q"})
			if err != nil || len(got) != 1<<20+len(" -n -q") {
				t.Errorf("%d bytes, %v", len(got), err)
			}
		}()
	}
	wg.Wait()
	if files := cached(t, r); len(files) != 1 {
		t.Errorf("cache holds %q", files)
	}
}

func TestFields(t *testing.T) {
	var runs atomic.Int32
	r := fakeRunner(t, &runs)
	out := "1\t\t0\n2\t4" + aggregator + "1\t0" + aggregator + "1\n"
	r.exec = func(ctx context.Context, bin string, args []string) ([]byte, []byte, error) {
		runs.Add(1)
		want := []string{"-T", "fields", "-E", "separator=/t", "-E", "aggregator=" + aggregator,
			"-e", "frame.number", "-e", "http2.type", "-e", "tcp.stream"}
		if !slices.Equal(args[len(args)-len(want):], want) {
			t.Errorf("args %q", args)
		}
		return []byte(out), nil, nil
	}
	capture := writeFile(t, filepath.Join(t.TempDir(), "a.pcap"), "one")
	// Fields asked twice (the union of two tests' lists) are one column.
	tab, err := r.fields(capture, Options{}, []string{"frame.number", "http2.type", "frame.number", "tcp.stream"})
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != 2 {
		t.Fatalf("%d rows", len(tab.Rows))
	}
	r0, r1 := tab.Rows[0], tab.Rows[1]
	if r0.Get("frame.number") != "1" || r0.Values("http2.type") != nil || r0.Get("http2.type") != "" {
		t.Errorf("row 0: %q", r0.cells)
	}
	if !slices.Equal(r1.Values("http2.type"), []string{"4", "1"}) || r1.Get("tcp.stream") != "0,1" {
		t.Errorf("row 1: %q", r1.cells)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("a field not asked for: no panic")
			}
		}()
		r0.Get("tcp.seq")
	}()

	out = "1\t2\n"
	if _, err := r.fields(writeFile(t, capture, "two"), Options{}, []string{"frame.number", "http2.type", "tcp.stream"}); err == nil {
		t.Error("a line of 2 columns for 3 fields: no error")
	}
}

// The real tshark over a capture of testdata, through the exported API:
// the second Fields reads the cache.
func TestFieldsTshark(t *testing.T) {
	Tshark(t)
	dir := t.TempDir()
	t.Setenv("H2PCAP_ORACLE_CACHE", dir)
	capture := "../../testdata/pcaps/public/suricata-verify/http2-keywords.pcap"
	opts := Options{Prefs: []string{"-d", "tcp.port==3000,http2"}, Filter: "http2"}
	tab := Fields(t, capture, opts, "frame.number", "http2.type")
	if len(tab.Rows) == 0 {
		t.Fatal("no HTTP/2 frame")
	}
	files, err := filepath.Glob(filepath.Join(dir, "http2-keywords.pcap.*"))
	if err != nil || len(files) != 1 {
		t.Fatalf("cache files %q, %v", files, err)
	}
	// An entry tshark would not write: the second Fields returns it as it
	// is, without tshark.
	if err := os.WriteFile(files[0], []byte("1\t4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	again := Fields(t, capture, opts, "frame.number", "http2.type")
	if len(again.Rows) != 1 || again.Rows[0].Get("http2.type") != "4" {
		t.Errorf("second Fields ran tshark: %d rows", len(again.Rows))
	}
}
