package tls

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	stdtls "crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/h2pcap/h2pcap/internal/oracle"
)

func TestSizeTable(t *testing.T) {
	cases := []struct {
		version, suite  uint16
		ping, closeNote int
	}{
		{VersionTLS13, TLS_AES_128_GCM_SHA256, 39, 24},
		{VersionTLS13, TLS_AES_256_GCM_SHA384, 39, 24},
		{VersionTLS13, TLS_CHACHA20_POLY1305_SHA256, 39, 24},
		{VersionTLS12, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, 46, 31},
		{VersionTLS12, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, 46, 31},
		{VersionTLS12, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, 38, 23},
	}
	for _, c := range cases {
		p, ok := PingRecordLen(c.version, c.suite)
		cn, ok2 := CloseNotifyRecordLen(c.version, c.suite)
		if !ok || !ok2 || p != c.ping || cn != c.closeNote {
			t.Errorf("%s %s: ping %d close_notify %d, want %d %d", versionName(c.version), CipherSuiteName(c.suite), p, cn, c.ping, c.closeNote)
		}
	}
	if _, ok := PingRecordLen(VersionTLS12, TLS_AES_128_GCM_SHA256); ok {
		t.Error("a TLS 1.3 suite with TLS 1.2")
	}
	if _, ok := PingRecordLen(VersionTLS12, 0x0039); ok {
		t.Error("a CBC suite")
	}
}

// pingFrame is an HTTP/2 PING frame.
func pingFrame(ack bool) []byte {
	f := []byte{0, 0, 8, byte(http2.FramePing), 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}
	if ack {
		f[4] = byte(http2.FlagPingAck)
	}
	return f
}

// TestRecordSizes decrypts the HTTP/2 TLS captures in testdata and checks
// the wire length of every record whose plaintext is exactly one PING
// frame, and of every encrypted alert, against PingRecordLen and
// CloseNotifyRecordLen.
func TestRecordSizes(t *testing.T) {
	oracle.Tshark(t)
	for _, c := range tlsCaptures {
		if !c.h2 {
			continue
		}
		t.Run(c.name(), func(t *testing.T) {
			keys := c.keys(t)
			rows := c.tsharkRows(t)
			pings, alerts := map[string]int{}, map[string]int{}
			for _, tc := range tcpConns(t, rows) {
				var conn *Conn
				conn = NewConn(Config{Keys: keys, Record: func(fromClient bool, r *Record, p *Plain) {
					if !p.Decrypted {
						return
					}
					info := conn.Info()
					key := versionName(info.Version) + " " + CipherSuiteName(info.CipherSuite)
					switch {
					case p.Content == RecordTypeApplicationData && len(p.Data) == PingFrameLen && p.Data[3] == byte(http2.FramePing):
						want, _ := PingRecordLen(info.Version, info.CipherSuite)
						if r.WireLen() != want {
							t.Errorf("frame %d: PING record of %d bytes, want %d (%s)", r.Meta.Frame, r.WireLen(), want, key)
						}
						pings[key+" "+itoa(r.WireLen())]++
					case p.Content == RecordTypeAlert:
						want, _ := CloseNotifyRecordLen(info.Version, info.CipherSuite)
						if r.WireLen() != want {
							t.Errorf("frame %d: alert record of %d bytes, want %d (%s)", r.Meta.Frame, r.WireLen(), want, key)
						}
						alerts[key+" "+itoa(r.WireLen())]++
					}
				}})
				feed(tc, conn, nil)
			}
			t.Logf("records of one PING frame: %v; encrypted alerts: %v", pings, alerts)
		})
	}
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

// TestCryptoTLS runs crypto/tls over a pipe, for suites no capture in
// testdata has (TLS 1.2 ChaCha20-Poly1305, AES-256-GCM-SHA384), with its
// key log: the wire bytes decrypt to what was sent, a PING written alone
// is a record of PingRecordLen, and close_notify one of
// CloseNotifyRecordLen.
func TestCryptoTLS(t *testing.T) {
	cert := selfSigned(t)
	cases := []struct {
		name  string
		max   uint16
		suite uint16
	}{
		{"TLS 1.2 AES-128-GCM", stdtls.VersionTLS12, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		{"TLS 1.2 AES-256-GCM-SHA384", stdtls.VersionTLS12, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384},
		{"TLS 1.2 ChaCha20-Poly1305", stdtls.VersionTLS12, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256},
		{"TLS 1.3", stdtls.VersionTLS13, 0},
		{"TLS 1.2 AES-128-CBC-SHA", stdtls.VersionTLS12, 0xc009},
		{"TLS 1.2 AES-128-CBC-SHA256", stdtls.VersionTLS12, 0xc023},
		{"TLS 1.0 AES-256-CBC-SHA", stdtls.VersionTLS10, 0xc00a},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			events, keylog := converse(t, cert, c.max, c.suite)
			keys, err := ParseKeyLog(keylog)
			if err != nil {
				t.Fatal(err)
			}
			var got [2][]byte
			var pingLens, alertLens []int
			var conn *Conn
			conn = NewConn(Config{Keys: keys,
				AppData: func(fromClient bool, b []byte, meta Meta) { got[idx(fromClient)] = append(got[idx(fromClient)], b...) },
				Record: func(fromClient bool, r *Record, p *Plain) {
					if p.Decrypted && p.Content == RecordTypeApplicationData && len(p.Data) == PingFrameLen {
						pingLens = append(pingLens, r.WireLen())
					}
					if p.Content == RecordTypeAlert && p.Encrypted {
						alertLens = append(alertLens, r.WireLen())
					}
				}})
			for _, e := range events {
				conn.Data(e.fromClient, e.b, Meta{})
			}
			conn.End(true)
			conn.End(false)
			info := conn.Info()
			if info.KeyProblem() != "" {
				t.Fatal(info.KeyProblem())
			}
			if c.suite != 0 && info.CipherSuite != c.suite {
				t.Fatalf("suite %s", CipherSuiteName(info.CipherSuite))
			}
			if info.ALPN != "h2" || info.ClientHello.ServerName != "h2lab.test" {
				t.Errorf("ALPN %q SNI %q", info.ALPN, info.ClientHello.ServerName)
			}
			wantC := string(http2.ClientPreface) + string(pingFrame(false))
			if string(got[1]) != wantC || string(got[0]) != string(pingFrame(true)) {
				t.Fatalf("plaintext client %q server %q", got[1], got[0])
			}
			wantPing, ok := PingRecordLen(info.Version, info.CipherSuite)
			wantAlert, _ := CloseNotifyRecordLen(info.Version, info.CipherSuite)
			if !ok {
				// CBC: padding makes the size vary (and TLS 1.0 splits records
				// 1/n-1 against BEAST); decryption is what was tested.
				t.Logf("%s %s: PING records %v, alerts %v", versionName(info.Version), CipherSuiteName(info.CipherSuite), pingLens, alertLens)
				return
			}
			if len(pingLens) != 2 || pingLens[0] != wantPing || pingLens[1] != wantPing {
				t.Errorf("PING records %v, want 2 of %d", pingLens, wantPing)
			}
			if len(alertLens) != 1 || alertLens[0] != wantAlert {
				t.Errorf("alert records %v, want one of %d", alertLens, wantAlert)
			}
			t.Logf("%s %s: PING record %d bytes, close_notify %d", versionName(info.Version), CipherSuiteName(info.CipherSuite), wantPing, wantAlert)
		})
	}
}

type wireEvent struct {
	fromClient bool
	b          []byte
}

type recorder struct {
	net.Conn
	fromClient bool
	mu         *sync.Mutex
	events     *[]wireEvent
}

func (r recorder) Write(b []byte) (int, error) {
	r.mu.Lock()
	*r.events = append(*r.events, wireEvent{r.fromClient, append([]byte(nil), b...)})
	r.mu.Unlock()
	return r.Conn.Write(b)
}

type keylogBuf struct {
	mu sync.Mutex
	b  []byte
}

func (k *keylogBuf) Write(p []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.b = append(k.b, p...)
	return len(p), nil
}

// converse runs a client and a server: the client sends the preface and a
// PING, the server a PING ACK, then the client closes (close_notify).
func converse(t *testing.T, cert stdtls.Certificate, maxVersion, suite uint16) ([]wireEvent, *bytes.Reader) {
	var mu sync.Mutex
	var events []wireEvent
	cp, sp := net.Pipe()
	kl := &keylogBuf{}
	ccfg := &stdtls.Config{InsecureSkipVerify: true, ServerName: "h2lab.test", NextProtos: []string{"h2"},
		MinVersion: stdtls.VersionTLS10, MaxVersion: maxVersion, KeyLogWriter: kl}
	if suite != 0 {
		ccfg.CipherSuites = []uint16{suite}
	}
	scfg := &stdtls.Config{Certificates: []stdtls.Certificate{cert}, NextProtos: []string{"h2"}, MinVersion: stdtls.VersionTLS10, MaxVersion: maxVersion}
	if suite != 0 {
		scfg.CipherSuites = []uint16{suite}
	}
	client := stdtls.Client(recorder{cp, true, &mu, &events}, ccfg)
	server := stdtls.Server(recorder{sp, false, &mu, &events}, scfg)
	done := make(chan error, 1)
	go func() {
		defer sp.Close()
		if err := server.Handshake(); err != nil {
			done <- err
			return
		}
		buf := make([]byte, len(http2.ClientPreface)+PingFrameLen)
		if _, err := readFull(server, buf); err != nil {
			done <- err
			return
		}
		if _, err := server.Write(pingFrame(true)); err != nil {
			done <- err
			return
		}
		one := make([]byte, 1)
		server.Read(one) // close_notify: EOF
		done <- nil
	}()
	client.SetDeadline(time.Now().Add(10 * time.Second))
	if err := client.Handshake(); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Write([]byte(http2.ClientPreface)); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Write(pingFrame(false)); err != nil {
		t.Fatal(err)
	}
	ack := make([]byte, PingFrameLen)
	if _, err := readFull(client, ack); err != nil {
		t.Fatal(err)
	}
	client.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	kl.mu.Lock()
	defer kl.mu.Unlock()
	return events, bytes.NewReader(append([]byte(nil), kl.b...))
}

func readFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := c.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func selfSigned(t *testing.T) stdtls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "h2lab.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"h2lab.test"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return stdtls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
