package tls

import (
	stdtls "crypto/tls"
	"io"
	"testing"

	"golang.org/x/net/http2"
)

// Keys that reach the key log after the handshake went by (a live capture
// reading SSLKEYLOGFILE as the client writes it) still decrypt what
// follows: the Conn looks again once the log has grown.
func TestLateKeys(t *testing.T) {
	cert := selfSigned(t)
	for _, c := range []struct {
		name  string
		max   uint16
		suite uint16
	}{
		{"TLS 1.3", stdtls.VersionTLS13, 0},
		{"TLS 1.2 AES-128-GCM", stdtls.VersionTLS12, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		{"TLS 1.2 ChaCha20-Poly1305", stdtls.VersionTLS12, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256},
		{"TLS 1.2 AES-128-CBC-SHA", stdtls.VersionTLS12, 0xc009},
	} {
		t.Run(c.name, func(t *testing.T) {
			events, keylog := converse(t, cert, c.max, c.suite)
			b, err := io.ReadAll(keylog)
			if err != nil {
				t.Fatal(err)
			}
			keys := &KeyLog{}
			var got [2][]byte
			conn := NewConn(Config{Keys: keys,
				AppData: func(fromClient bool, b []byte, meta Meta) { got[idx(fromClient)] = append(got[idx(fromClient)], b...) },
			})
			added := false
			for _, e := range events {
				conn.Data(e.fromClient, e.b, Meta{})
				if !e.fromClient && !added {
					// The ServerHello went by with no key for it.
					if st := conn.Info().Keys; st != KeyMissing {
						t.Fatalf("after the ServerHello: keys %v, want missing", st)
					}
					if err := keys.AddDSB(b); err != nil {
						t.Fatal(err)
					}
					added = true
				}
			}
			conn.End(true)
			conn.End(false)
			if p := conn.Info().KeyProblem(); p != "" {
				t.Fatal(p)
			}
			wantC := string(http2.ClientPreface) + string(pingFrame(false))
			if string(got[1]) != wantC || string(got[0]) != string(pingFrame(true)) {
				t.Fatalf("plaintext client %q server %q", got[1], got[0])
			}
		})
	}
}
