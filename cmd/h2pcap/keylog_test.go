package main

import (
	"fmt"
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

// The report says which key logs were read and what each decrypted: a key
// log of another capture decrypts none, said in every format and on
// stderr, and the connections are analysed as without keys. A key log
// without a single key (empty, only comments) is an input error.
func TestKeylogUse(t *testing.T) {
	t.Setenv("SSLKEYLOGFILE", "")
	own, foreign := healthyTLS+"keylog.txt", "../../testdata/pcaps/blackhole-s2c-tls12-gcm/keylog.txt"
	capture := healthyTLS + "client.pcap"
	r := analyzeJSON(t, nil, "--keylog", own, "--keylog", foreign, capture)
	if len(r.KeyLogs) != 2 {
		t.Fatalf("key_logs %+v, want two", r.KeyLogs)
	}
	tlsConns := 0
	for _, c := range r.Connections {
		if c.TLS != nil {
			tlsConns++
		}
	}
	if o := r.KeyLogs[0]; o.Path != own || o.Keys == 0 || o.Decrypted != tlsConns || o.TLSConnections != tlsConns || tlsConns == 0 {
		t.Errorf("own key log: %+v, want all %d TLS connections decrypted", o, tlsConns)
	}
	if f := r.KeyLogs[1]; f.Path != foreign || f.Keys == 0 || f.Decrypted != 0 || f.TLSConnections != tlsConns {
		t.Errorf("foreign key log: %+v, want none decrypted", f)
	}

	code, out, errOut := h2pcap(t, nil, "analyze", "--keylog", foreign, capture)
	want := fmt.Sprintf("key log %s: %d keys, decrypted 0 of %d TLS connections", foreign, r.KeyLogs[1].Keys, tlsConns)
	if code != 0 || !strings.Contains(out, want) {
		t.Errorf("exit %d; table report lacks %q:\n%s", code, want, out)
	}
	if !strings.Contains(errOut, "h2pcap: warning: key log "+foreign) || !strings.Contains(errOut, "decrypted none") {
		t.Errorf("stderr: %q", errOut)
	}
	if _, md, _ := h2pcap(t, nil, "analyze", "--format", "markdown", "--keylog", foreign, capture); !strings.Contains(md, want) {
		t.Errorf("markdown report lacks %q", want)
	}

	for _, content := range []string{"", "# only a comment\n\n"} {
		empty := filepath.Join(t.TempDir(), "empty.keys")
		os.WriteFile(empty, []byte(content), 0o644)
		code, _, errOut := h2pcap(t, nil, "analyze", "--keylog", empty, capture)
		if code != exitUsage || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, empty+": no key in it") {
			t.Errorf("key log %q: exit %d, stderr %q", content, code, errOut)
		}
	}
}
