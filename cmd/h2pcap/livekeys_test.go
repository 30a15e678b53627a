package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/analyze"
	"github.com/h2pcap/h2pcap/decode"
)

// countSource gives n empty packets.
type countSource struct{ n int }

func (s *countSource) Next() (*decode.Packet, error) {
	if s.n == 0 {
		return nil, io.EOF
	}
	s.n--
	return &decode.Packet{}, nil
}
func (s *countSource) Info() *decode.InputInfo { return &decode.InputInfo{} }
func (s *countSource) Close() error            { return nil }

const (
	line1 = "CLIENT_RANDOM 0000000000000000000000000000000000000000000000000000000000000001 " +
		"000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001\n"
	line2 = "CLIENT_RANDOM 0000000000000000000000000000000000000000000000000000000000000002 " +
		"000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000002\n"
)

// A live capture follows its key log: lines appended while it runs reach
// the analysis as secrets, whole lines only, and a truncated file is read
// again from its start.
func TestKeylogTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.log")
	if err := os.WriteFile(path, []byte(line1), 0o600); err != nil {
		t.Fatal(err)
	}
	tail, err := newKeylogTail(&countSource{n: 100}, []string{path})
	if err != nil {
		t.Fatal(err)
	}
	if keys := tail.initial; keys.Len() != 1 {
		t.Fatalf("initial keys %d, want 1", keys.Len())
	}
	now := time.Unix(1000, 0)
	tail.now = func() time.Time { return now }
	tail.next = now
	step := func() {
		t.Helper()
		if _, err := tail.Next(); err != nil {
			t.Fatal(err)
		}
		now = now.Add(keylogPoll)
	}
	appendTo := func(s string) {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(s)
		f.Close()
	}
	step()
	if n := len(tail.Secrets()); n != 0 {
		t.Fatalf("%d secrets before anything was appended", n)
	}
	appendTo(line2[:50]) // a line being written
	step()
	if n := len(tail.Secrets()); n != 0 {
		t.Fatalf("%d secrets from half a line", n)
	}
	appendTo(line2[50:])
	step()
	s := tail.Secrets()
	if len(s) != 1 || string(s[0].Data) != line2 {
		t.Fatalf("secrets %+v, want the appended line", s)
	}
	if err := os.WriteFile(path, []byte(line1), 0o600); err != nil { // truncated: rotated
		t.Fatal(err)
	}
	step()
	s = tail.Secrets()
	if len(s) != 2 || s[0].Data != nil || string(s[1].Data) != line1 {
		t.Fatalf("after truncation: secrets %+v", s)
	}
}

// The tail's secrets reach the analysis (analyze.ReadSource), and a
// malformed appended line is a warning, not the end of the capture.
func TestKeylogTailAnalysis(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.log")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tail, err := newKeylogTail(&countSource{n: 3}, []string{path})
	if err != nil {
		t.Fatal(err)
	}
	keys := tail.initial
	now := time.Unix(1000, 0)
	tail.now = func() time.Time { now = now.Add(keylogPoll); return now }
	tail.next = now
	if err := os.WriteFile(path, []byte(line1+"CLIENT_RANDOM zz\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := analyze.New(analyze.Options{Keys: keys})
	info, err := a.ReadSource(tail)
	if err != nil {
		t.Fatal(err)
	}
	// countSource's packets are empty, which are warned about as
	// malformed too.
	var keyWarnings []string
	for _, w := range info.Warnings {
		if strings.Contains(w, "key log") {
			keyWarnings = append(keyWarnings, w)
		}
	}
	if len(keyWarnings) != 1 || !strings.Contains(keyWarnings[0], "line 2") {
		t.Errorf("warnings %q, want one on the key log, for line 2", info.Warnings)
	}
}

// A malformed line already in the key log at the start is an input
// error naming file and line, as for analyze.
func TestKeylogTailBadStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.log")
	if err := os.WriteFile(path, []byte(line1+"CLIENT_RANDOM zz\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := newKeylogTail(&countSource{}, []string{path})
	if err == nil || !strings.Contains(err.Error(), path+":2:") {
		t.Fatalf("error %v, want one naming %s:2", err, path)
	}
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitUsage {
		t.Errorf("error %v: not exit code %d", err, exitUsage)
	}
}
