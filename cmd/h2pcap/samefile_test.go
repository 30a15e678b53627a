package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSameCaptureTwice: a capture named twice, or given with a copy of
// it, is read once with a warning (every packet counted twice before,
// and the two files, overlapping and sharing every connection, made two
// capture points compared with each other: "No packet lost between the
// 2 capture points", of one capture); given as two --point, it is an
// error; a file given twice to one point is read once.
func TestSameCaptureTwice(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "pcaps", "multipoint-loss")
	client, server := filepath.Join(dir, "client.pcap"), filepath.Join(dir, "server.pcap")
	data, err := os.ReadFile(client)
	if err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(t.TempDir(), "copy.pcap")
	if err := os.WriteFile(cp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	// A file of the same size and other bytes is another capture.
	other := append([]byte(nil), data...)
	other[len(other)/2] ^= 0xff
	other[100] ^= 0xff
	otherPath := filepath.Join(t.TempDir(), "other.pcap")
	if err := os.WriteFile(otherPath, other, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := sameCaptures([]string{client, otherPath, cp, client, "-"}); got[1] != -1 || got[2] != 0 || got[3] != 0 || got[4] != -1 {
		t.Errorf("sameCaptures = %v, want [-1 -1 0 0 -1]", got)
	}

	_, alone, _ := h2pcap(t, nil, "analyze", "--format", "json", client)
	_, pair, _ := h2pcap(t, nil, "analyze", "--format", "json", client, server)
	for _, tc := range []struct {
		name string
		args []string
		want string // the report of
		warn string
	}{
		{"named twice", []string{client, client}, alone, "is the capture of " + client + " again"},
		{"a copy", []string{client, cp}, alone, cp + " is the capture of " + client + " again"},
		{"a copy among points", []string{client, cp, server}, pair, cp + " is the capture of " + client + " again"},
		{"twice to one point", []string{"--point", "c=" + client, "--point", "c=" + cp, "--point", "s=" + server}, "", "read once for point c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := h2pcap(t, nil, append([]string{"analyze", "--format", "json"}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if !strings.Contains(errOut, tc.warn) || strings.Count(errOut, "again") != 1 {
				t.Errorf("stderr %q, want one warning with %q", errOut, tc.warn)
			}
			if tc.want != "" && out != tc.want {
				t.Errorf("report differs from the capture given once")
			}
		})
	}
	code, _, errOut := h2pcap(t, nil, "analyze", "--point", "a="+client, "--point", "b="+cp)
	if code != exitUsage || !strings.Contains(errOut, "are the same capture") {
		t.Errorf("two points of one capture: exit %d, %q; want a usage error", code, errOut)
	}
}
