package oracle

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Tshark returns the path of tshark. Without it a test skips, except in
// CI (CI=true), where the oracle must be there: .ci/run installs it, and a
// skipped comparison would pass for a green one.
func Tshark(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("tshark")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("tshark is the oracle and CI=true, but: %v (make deps installs it)", err)
		}
		t.Skipf("tshark not installed: %v", err)
	}
	return path
}

// Options are what a pass of tshark over a capture depends on besides the
// capture and the output format. Tests of one package that read the same
// captures with the same Options should ask Fields for the union of their
// fields: then tshark runs once per capture.
type Options struct {
	// Prefs are preference and decode-as options, in order:
	// "-o", "tcp.reassemble_out_of_order:TRUE", "-d", "tcp.port==8080,http2".
	Prefs []string
	// KeyLog is a TLS key log file for tls.keylog_file. Its content, not
	// only its name, is part of the cache key: a new key log decrypts more.
	KeyLog string
	// Filter is a display filter (-Y): only the frames it matches are rows.
	Filter string
}

// args are the command line of opts. -n always: the output must not
// depend on the machine's resolver.
func (o Options) args() []string {
	args := append([]string{"-n"}, o.Prefs...)
	if o.KeyLog != "" {
		args = append(args, "-o", "tls.keylog_file:"+o.KeyLog)
	}
	if o.Filter != "" {
		args = append(args, "-Y", o.Filter)
	}
	return args
}

// Run returns tshark's standard output for `tshark -r capture` with opts
// and then out, the output options ("-q", "-z", "follow,tls,raw,0"): from
// the cache when tshark already ran so over the same bytes, else by
// running tshark and keeping what it printed. The test fails where tshark
// fails, with its standard error.
func Run(t testing.TB, capture string, opts Options, out ...string) []byte {
	t.Helper()
	r := newRunner(t)
	b, err := r.run(capture, opts, out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Fields runs tshark -T fields over capture for fields (duplicates asked
// once) and returns its rows: one per frame, or per frame opts.Filter
// matches.
func Fields(t testing.TB, capture string, opts Options, fields ...string) *Table {
	t.Helper()
	r := newRunner(t)
	tab, err := r.fields(capture, opts, fields)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// aggregator separates the occurrences of a field in a frame (a field of
// several headers, or of a tunnel's two TCP layers). tshark's default is
// ",", which header values hold, as they may "|"; tshark 4.0 escapes only
// \\, \n, \r and \t in what it prints, so a value could still hold
// this one, the ASCII unit separator, but text does not.
const aggregator = "\x1f"

// Table is tshark's -T fields output.
type Table struct {
	Rows []Row
}

// Row is one frame of a Table.
type Row struct {
	index map[string]int // column of each field
	cells []string
}

// Values are the occurrences of field in the frame, in tshark's order:
// none where the frame has no such field.
func (r Row) Values(field string) []string {
	c := r.cell(field)
	if c == "" {
		return nil
	}
	return strings.Split(c, aggregator)
}

// Get is field as tshark prints it by default: its occurrences joined by
// commas, "" where the frame has none.
func (r Row) Get(field string) string {
	return strings.ReplaceAll(r.cell(field), aggregator, ",")
}

func (r Row) cell(field string) string {
	i, ok := r.index[field]
	if !ok {
		// A test reading a field it did not ask for: a bug in the test,
		// not a difference from tshark.
		panic(fmt.Sprintf("oracle: field %q was not asked of tshark", field))
	}
	return r.cells[i]
}

// runner runs tshark through a cache directory.
type runner struct {
	bin     string // tshark
	version string // the first line of tshark --version: part of every key
	dir     string // the cache; "" runs tshark every time
	// exec runs bin with args; tests of the cache count runs with it.
	exec func(ctx context.Context, bin string, args []string) (stdout, stderr []byte, err error)
}

// timeout bounds one tshark run: a hung tshark fails its test, not the
// whole go test binary much later.
const timeout = 5 * time.Minute

func newRunner(t testing.TB) *runner {
	t.Helper()
	bin := Tshark(t)
	v, err := version(bin)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := cacheDir()
	if err != nil {
		// Slower, not wrong: every run goes to tshark.
		t.Logf("tshark output not cached: %v", err)
		dir = ""
	}
	return &runner{bin: bin, version: v, dir: dir, exec: execTshark}
}

// cacheDir is where tshark's outputs are kept: $H2PCAP_ORACLE_CACHE, else
// h2pcap-oracle in the user's cache directory. Removing it costs only
// time.
func cacheDir() (string, error) {
	if d := os.Getenv("H2PCAP_ORACLE_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("oracle cache directory (set H2PCAP_ORACLE_CACHE): %w", err)
	}
	return filepath.Join(d, "h2pcap-oracle"), nil
}

// versions memoises version per tshark binary: it takes tshark about a
// second to say, and every Run needs it.
var versions sync.Map // path -> func() (string, error)

// version returns the first line of `bin --version`.
func version(bin string) (string, error) {
	f, _ := versions.LoadOrStore(bin, sync.OnceValues(func() (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, stderr, err := execTshark(ctx, bin, []string{"--version"})
		if err != nil {
			return "", fmt.Errorf("%s --version: %w: %s", bin, err, stderr)
		}
		first, _, _ := strings.Cut(string(out), "\n")
		if first == "" {
			return "", fmt.Errorf("%s --version: no version in %q", bin, out)
		}
		return first, nil
	}))
	return f.(func() (string, error))()
}

func execTshark(ctx context.Context, bin string, args []string) ([]byte, []byte, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	return out, stderr.Bytes(), err
}

func (r *runner) fields(capture string, opts Options, fields []string) (*Table, error) {
	index := map[string]int{}
	var cols []string
	for _, f := range fields {
		if _, ok := index[f]; !ok {
			index[f] = len(cols)
			cols = append(cols, f)
		}
	}
	out := []string{"-T", "fields", "-E", "separator=/t", "-E", "aggregator=" + aggregator}
	for _, f := range cols {
		out = append(out, "-e", f)
	}
	b, err := r.run(capture, opts, out)
	if err != nil {
		return nil, err
	}
	tab := &Table{}
	text := strings.TrimSuffix(string(b), "\n")
	if text == "" {
		return tab, nil
	}
	for i, line := range strings.Split(text, "\n") {
		cells := strings.Split(line, "\t")
		if len(cells) != len(cols) {
			return nil, fmt.Errorf("tshark %s: line %d has %d columns, not %d: %q", capture, i+1, len(cells), len(cols), line)
		}
		tab.Rows = append(tab.Rows, Row{index, cells})
	}
	return tab, nil
}

// run returns the output of tshark -r capture with opts and out, from the
// cache if it is there.
func (r *runner) run(capture string, opts Options, out []string) ([]byte, error) {
	args := append(opts.args(), out...)
	var path string
	if r.dir != "" {
		key, err := r.key(capture, opts, args)
		if err != nil {
			return nil, err
		}
		path = filepath.Join(r.dir, filepath.Base(capture)+"."+key)
		if b, err := os.ReadFile(path); err == nil {
			return b, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("tshark cache: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	full := append([]string{"-r", capture}, args...)
	b, stderr, err := r.exec(ctx, r.bin, full)
	if err != nil {
		return nil, fmt.Errorf("tshark %q: %w\n%s", full, err, stderr)
	}
	if path != "" {
		if err := writeAtomic(path, b); err != nil {
			return nil, fmt.Errorf("tshark cache: %w", err)
		}
	}
	return b, nil
}

// key identifies tshark's output: the capture's bytes (not its name: the
// generated captures are in a new temporary directory every time), the
// key log's bytes, tshark's version and the arguments.
func (r *runner) key(capture string, opts Options, args []string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "h2pcap-oracle 1\x00%s\x00", r.version)
	for _, a := range args {
		fmt.Fprintf(h, "%d:%s\x00", len(a), a)
	}
	files := []string{capture}
	if opts.KeyLog != "" {
		files = append(files, opts.KeyLog)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("tshark cache key: %w", err)
		}
		sum := sha256.Sum256(b)
		h.Write(sum[:])
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writeAtomic writes b to path through a temporary file and a rename: the
// tests of several packages run at once, and a reader must never see half
// an output. Two writers of one key write the same bytes; the last rename
// wins.
func writeAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
