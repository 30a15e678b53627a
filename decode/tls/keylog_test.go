package tls

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	cr1 = "59b4b71f50e71bff50f88388679c0156714d158bf10edd29f1d45fb4fffb3010"
	ms1 = "750fc27332a9cc17802defc48bd5693c9278d68680ae64d9dffa1e638ebd17a7902ad69501c413571b7c63dc23a0918b"
	s32 = "3a497c91f6e130fbc18fc9f773b92bb0d538dfedc30e964cde0676396f24d0df"
	s48 = ms1
)

func TestParseKeyLog(t *testing.T) {
	good := []struct {
		name, log string
		n         int // connections
		check     func(*Secrets) bool
	}{
		{"empty", "", 0, nil},
		{"comments and blank lines", "# SSL/TLS secrets log file\n\n   \n# more\n", 0, nil},
		{"TLS 1.2", "CLIENT_RANDOM " + cr1 + " " + ms1 + "\n", 1, func(s *Secrets) bool { return len(s.MasterSecret) == 48 }},
		{"upper-case hex, CRLF, no final newline", "CLIENT_RANDOM " + strings.ToUpper(cr1) + " " + ms1 + "\r\n# x", 1,
			func(s *Secrets) bool { return len(s.MasterSecret) == 48 }},
		{"TLS 1.3 SHA-256", strings.Join([]string{
			"CLIENT_HANDSHAKE_TRAFFIC_SECRET " + cr1 + " " + s32,
			"SERVER_HANDSHAKE_TRAFFIC_SECRET " + cr1 + " " + s32,
			"CLIENT_TRAFFIC_SECRET_0 " + cr1 + " " + s32,
			"SERVER_TRAFFIC_SECRET_0 " + cr1 + " " + s32,
			"EXPORTER_SECRET " + cr1 + " " + s32,
			"CLIENT_EARLY_TRAFFIC_SECRET " + cr1 + " " + s32,
			"EARLY_EXPORTER_SECRET " + cr1 + " " + s32,
		}, "\n"), 1, func(s *Secrets) bool {
			return len(s.ClientHandshakeTrafficSecret) == 32 && len(s.ServerTrafficSecret0) == 32 && s.MasterSecret == nil
		}},
		{"TLS 1.3 SHA-384", "SERVER_TRAFFIC_SECRET_0 " + cr1 + " " + s48, 1, func(s *Secrets) bool { return len(s.ServerTrafficSecret0) == 48 }},
		{"unknown labels ignored", "RSA 0102030405060708 " + ms1 + "\nFUTURE_SECRET x y z\n", 0, nil},
	}
	for _, c := range good {
		t.Run(c.name, func(t *testing.T) {
			k, err := ParseKeyLog(strings.NewReader(c.log))
			if err != nil {
				t.Fatal(err)
			}
			if k.Len() != c.n {
				t.Fatalf("%d connections, want %d", k.Len(), c.n)
			}
			if c.check != nil {
				s, ok := k.Lookup([32]byte(mustHex(t, cr1)))
				if !ok || !c.check(s) {
					t.Fatalf("secrets %+v", s)
				}
			}
		})
	}

	bad := []struct {
		name, log string
		line      int
		msg       string
	}{
		{"bad hex in client random", "# c\n\nCLIENT_RANDOM zz" + cr1[2:] + " " + ms1, 3, "bad hex in client random"},
		{"short client random", "CLIENT_RANDOM " + cr1[2:] + " " + ms1, 1, "client random is 31 bytes, want 32"},
		{"odd client random", "CLIENT_RANDOM " + cr1[1:] + " " + ms1, 1, "bad hex in client random"},
		{"bad hex in secret", "CLIENT_RANDOM " + cr1 + " " + ms1[:94] + "g0", 1, "bad hex in secret"},
		{"master secret length", "CLIENT_RANDOM " + cr1 + " " + s32, 1, "CLIENT_RANDOM secret is 32 bytes, want [48]"},
		{"traffic secret length", "CLIENT_TRAFFIC_SECRET_0 " + cr1 + " " + s32[:40], 1, "CLIENT_TRAFFIC_SECRET_0 secret is 20 bytes, want [32 48]"},
		{"missing field", "x\nSERVER_HANDSHAKE_TRAFFIC_SECRET " + cr1, 2, "SERVER_HANDSHAKE_TRAFFIC_SECRET: want 2 fields after the label, have 1"},
		{"extra field", "CLIENT_RANDOM " + cr1 + " " + ms1 + " extra", 1, "CLIENT_RANDOM: want 2 fields after the label, have 3"},
		{"line too long", "#" + strings.Repeat("x", 5000), 1, "line longer than 4096 bytes"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseKeyLog(strings.NewReader(c.log))
			var ke *KeyLogError
			if !errors.As(err, &ke) {
				t.Fatalf("err %v, want a KeyLogError", err)
			}
			if ke.Line != c.line || ke.Msg != c.msg {
				t.Fatalf("line %d %q, want line %d %q", ke.Line, ke.Msg, c.line, c.msg)
			}
		})
	}
}

func TestReadKeyLogFileNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keylog.txt")
	log := strings.Repeat("# comment\n", 11) + "CLIENT_RANDOM xx" + cr1[2:] + " " + ms1 + "\n"
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadKeyLogFile(path)
	if err == nil || err.Error() != path+":12: bad hex in client random" {
		t.Fatalf("err %v", err)
	}
	if _, err := ReadKeyLogFile(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Fatal("no error for a missing file")
	}
}

func TestKeyLogMergeAndDSB(t *testing.T) {
	a, _ := ParseKeyLog(strings.NewReader("CLIENT_HANDSHAKE_TRAFFIC_SECRET " + cr1 + " " + s32))
	var b KeyLog
	if err := b.AddDSB([]byte("CLIENT_TRAFFIC_SECRET_0 " + cr1 + " " + s32 + "\n")); err != nil {
		t.Fatal(err)
	}
	if err := b.AddDSB([]byte("CLIENT_RANDOM " + cr1)); err == nil || !strings.Contains(err.Error(), "decryption secrets block: line 1") {
		t.Fatalf("err %v", err)
	}
	a.Merge(&b)
	s, ok := a.Lookup([32]byte(mustHex(t, cr1)))
	if !ok || s.ClientHandshakeTrafficSecret == nil || s.ClientTrafficSecret0 == nil || a.Len() != 1 {
		t.Fatalf("merged %+v", s)
	}
	var nilLog *KeyLog
	if _, ok := nilLog.Lookup([32]byte{}); ok || nilLog.Len() != 0 {
		t.Fatal("nil KeyLog")
	}
}

func mustHex(t testing.TB, s string) []byte {
	b := make([]byte, len(s)/2)
	for i := range b {
		var v byte
		for _, c := range []byte(s[2*i : 2*i+2]) {
			v <<= 4
			switch {
			case c >= '0' && c <= '9':
				v |= c - '0'
			case c >= 'a' && c <= 'f':
				v |= c - 'a' + 10
			default:
				t.Fatalf("bad hex %q", s)
			}
		}
		b[i] = v
	}
	return b
}
