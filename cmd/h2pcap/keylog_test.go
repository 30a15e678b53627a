package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const healthyTLS = "../../testdata/pcaps/healthy-tls/"

// A malformed key log is an input error: exit 2, one line naming the file
// and the line.
func TestKeylogMalformed(t *testing.T) {
	t.Setenv("SSLKEYLOGFILE", "")
	bad := filepath.Join(t.TempDir(), "bad.keys")
	good := "CLIENT_RANDOM " + strings.Repeat("00", 32) + " " + strings.Repeat("11", 48) + "\n"
	os.WriteFile(bad, []byte("# a comment\n"+good+"CLIENT_RANDOM nothex\n"), 0o644)
	code, out, errOut := h2pcap(t, nil, "analyze", "--keylog", bad, healthyTLS+"client.pcap")
	if code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	if out != "" {
		t.Errorf("stdout not empty: %q", out)
	}
	if !strings.HasPrefix(errOut, "h2pcap: ") || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, bad+":3:") {
		t.Errorf("stderr = %q, want one 'h2pcap: ...' line naming %s:3", errOut, bad)
	}
	// The same from SSLKEYLOGFILE.
	t.Setenv("SSLKEYLOGFILE", bad)
	if code, _, errOut := h2pcap(t, nil, "analyze", healthyTLS+"client.pcap"); code != exitUsage || !strings.Contains(errOut, bad+":3:") {
		t.Errorf("SSLKEYLOGFILE: exit %d, stderr %q", code, errOut)
	}
	// A missing SSLKEYLOGFILE is ignored; a missing --keylog is not.
	t.Setenv("SSLKEYLOGFILE", filepath.Join(t.TempDir(), "none"))
	if code, _, errOut := h2pcap(t, nil, "analyze", healthyTLS+"client.pcap"); code != 0 {
		t.Errorf("missing SSLKEYLOGFILE: exit %d: %s", code, errOut)
	}
	if code, _, _ := h2pcap(t, nil, "analyze", "--keylog", filepath.Join(t.TempDir(), "none"), healthyTLS+"client.pcap"); code != exitUsage {
		t.Errorf("missing --keylog file: exit %d, want %d", code, exitUsage)
	}
}

// With --keylog (or SSLKEYLOGFILE) the lab's TLS capture is HTTP/2.
func TestKeylogDecrypts(t *testing.T) {
	t.Setenv("SSLKEYLOGFILE", "")
	for _, tc := range []struct {
		name string
		args []string
		env  string
	}{
		{"flag", []string{"--keylog", healthyTLS + "keylog.txt"}, ""},
		{"env", nil, healthyTLS + "keylog.txt"},
	} {
		t.Setenv("SSLKEYLOGFILE", tc.env)
		r := analyzeJSON(t, nil, append(tc.args, healthyTLS+"client.pcap")...)
		for _, c := range r.Connections {
			if c.App != "h2" || c.HTTP2 == nil || c.TLS == nil || !c.TLS.Decrypted {
				t.Errorf("%s: stream %d: app %s, http2 %v, tls %+v", tc.name, c.Stream, c.App, c.HTTP2 != nil, c.TLS)
			}
		}
	}
	t.Setenv("SSLKEYLOGFILE", "")
	for _, c := range analyzeJSON(t, nil, healthyTLS+"client.pcap").Connections {
		if c.App != "tls" || c.HTTP2 != nil || c.TLS == nil || c.TLS.Decrypted {
			t.Errorf("no keys: stream %d: app %s, http2 %v, tls %+v", c.Stream, c.App, c.HTTP2 != nil, c.TLS)
		}
	}
}
