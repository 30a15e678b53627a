package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"strings"
	"syscall"
)

// tlsOptions are the TLS version and cipher suites a lab process offers, so
// scenarios can produce TLS 1.2 (AES-GCM, ChaCha20-Poly1305) captures as
// well as Go's default TLS 1.3.
type tlsOptions struct {
	version string // "1.2", "1.3", or "" for crypto/tls's default
	suites  string // comma-separated crypto/tls names; TLS 1.2 only
}

func (o *tlsOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.version, "tls-version", "", "highest TLS version offered: 1.2 or 1.3 (default: crypto/tls's)")
	fs.StringVar(&o.suites, "cipher-suites", "", "comma-separated TLS 1.2 cipher `suites` offered, by crypto/tls name, e.g. TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 "+
		"(crypto/tls does not let TLS 1.3 suites be chosen: a client run with GODEBUG=cpu.aes=off prefers ChaCha20-Poly1305, and a Go server follows)")
}

// apply sets MaxVersion and CipherSuites on cfg.
func (o *tlsOptions) apply(cfg *tls.Config) error {
	switch o.version {
	case "":
	case "1.2":
		cfg.MaxVersion = tls.VersionTLS12
	case "1.3":
		cfg.MaxVersion = tls.VersionTLS13
	default:
		return fmt.Errorf("tls version %q: want 1.2 or 1.3", o.version)
	}
	if o.suites == "" {
		return nil
	}
	byName := map[string]uint16{}
	for _, s := range tls.CipherSuites() {
		byName[s.Name] = s.ID
	}
	for _, s := range tls.InsecureCipherSuites() {
		byName[s.Name] = s.ID
	}
	for _, name := range strings.Split(o.suites, ",") {
		id, ok := byName[strings.TrimSpace(name)]
		if !ok {
			return fmt.Errorf("cipher suite %q: not one crypto/tls knows", name)
		}
		cfg.CipherSuites = append(cfg.CipherSuites, id)
	}
	return nil
}

// tlsStateExtra is what the log says about a completed handshake, so
// truth.json can name each connection's version and cipher suite.
func tlsStateExtra(cs tls.ConnectionState) map[string]any {
	return map[string]any{
		"tls_version":  tls.VersionName(cs.Version),
		"cipher_suite": tls.CipherSuiteName(cs.CipherSuite),
	}
}

// soMaxPacingRate is SO_MAX_PACING_RATE (asm-generic/socket.h), which the
// syscall package lacks.
const soMaxPacingRate = 47

// pacedListener caps the send rate of every accepted connection with
// SO_MAX_PACING_RATE. TCP then paces its segments itself (no fq qdisc
// needed), so a large response is spread over time on the lab's fast
// veths and a capture started during it begins in the middle of a TLS
// record.
type pacedListener struct {
	net.Listener
	rate int // bytes per second
}

func (l pacedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c, nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("pacing: %w", err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, soMaxPacingRate, l.rate)
	}); err != nil || serr != nil {
		c.Close()
		return nil, fmt.Errorf("set SO_MAX_PACING_RATE %d: %w", l.rate, errors.Join(err, serr))
	}
	return c, nil
}
