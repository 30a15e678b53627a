package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/analyze"
)

// syncBuffer is a bytes.Buffer the drawing goroutine and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestProgress(t *testing.T) {
	t.Run("shown after the delay, then cleared", func(t *testing.T) {
		var out syncBuffer
		p := startProgress(&out, 10000, 0, time.Now)
		p.reading(analyze.New(analyze.Options{}))
		for range 100 {
			p.packet(34) // 50 bytes with the record header
		}
		deadline := time.Now().Add(5 * time.Second)
		for !(strings.Contains(out.String(), "100 packets, 0 connections open") && strings.Contains(out.String(), "50%")) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		p.stop()
		s := out.String()
		if !strings.Contains(s, "100 packets, 0 connections open") || !strings.Contains(s, "50%") {
			t.Fatalf("progress line: %q", s)
		}
		// The line is cleared: the last thing written is a carriage
		// return after blanks, so the report starts on a clean line.
		last := s[strings.LastIndex(strings.TrimRight(s, "\r"), "\r")+1:]
		if strings.TrimSpace(last) != "" {
			t.Errorf("not cleared at the end: %q", last)
		}
	})
	t.Run("a quick reading shows nothing", func(t *testing.T) {
		var out syncBuffer
		p := startProgress(&out, 10000, time.Hour, time.Now)
		p.packet(100)
		time.Sleep(3 * progressEvery)
		p.stop()
		if s := out.String(); s != "" {
			t.Errorf("wrote %q before the delay", s)
		}
	})
	t.Run("nil", func(t *testing.T) {
		var p *progress // standard error is no terminal
		p.packet(10)    // a nil progress does nothing
		p.reading(nil)
		p.stop()
	})
}

func TestInputsSize(t *testing.T) {
	dir := t.TempDir()
	a, b, gz := filepath.Join(dir, "a.pcap"), filepath.Join(dir, "b.pcap"), filepath.Join(dir, "c.pcap.gz")
	os.WriteFile(a, make([]byte, 100), 0o644)
	os.WriteFile(b, make([]byte, 50), 0o644)
	os.WriteFile(gz, make([]byte, 10), 0o644)
	for _, tc := range []struct {
		paths []string
		want  int64
	}{
		{[]string{a, b}, 150},
		{[]string{a, "-"}, -1},
		{[]string{a, gz}, -1},
		{[]string{filepath.Join(dir, "missing")}, -1},
	} {
		if got := inputsSize(tc.paths); got != tc.want {
			t.Errorf("inputsSize(%v) = %d, want %d", tc.paths, got, tc.want)
		}
	}
}
