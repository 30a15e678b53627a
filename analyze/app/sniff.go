package app

import (
	"bytes"
	"net/netip"
	"slices"

	"github.com/h2pcap/h2pcap/analyze/tcp"
)

// sniff is what the first payload of one direction looks like.
type Sniff uint8

const (
	sniffUnknown        Sniff = iota
	sniffH2Preface            // HTTP/2 client connection preface: sender is the client
	sniffHTTP1Request         // HTTP/1 request line: sender is the client
	sniffHTTP1Response        // "HTTP/1.x " status line: sender is the server
	sniffTLSClientHello       // TLS handshake record with a ClientHello: sender is the client
	sniffTLSServerHello       // TLS handshake record with a ServerHello: sender is the server
	sniffTLS                  // another TLS record (e.g. application data mid-connection)
)

// h2Preface is the HTTP/2 client connection preface (RFC 9113, 3.4).
const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// minPrefaceMatch is how much of the preface must have been captured for a
// match: "PRI * HTTP/2.0" cannot be the start of anything else.
const minPrefaceMatch = len("PRI * HTTP/2.0")

var http1Methods = [...]string{
	"GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE ",
}

// sniffPayload classifies the first captured payload bytes of a direction.
func SniffPayload(p []byte) Sniff {
	if n := min(len(p), len(h2Preface)); n >= minPrefaceMatch && string(p[:n]) == h2Preface[:n] {
		return sniffH2Preface
	}
	for _, m := range http1Methods {
		if bytes.HasPrefix(p, []byte(m)) {
			return sniffHTTP1Request
		}
	}
	if bytes.HasPrefix(p, []byte("HTTP/1.")) {
		return sniffHTTP1Response
	}
	// TLS record header: content type, then version 3.x (SSL 3.0 to TLS
	// 1.3, which still says 3.1 to 3.3 on the record layer).
	if len(p) >= 3 && p[1] == 0x03 && p[2] <= 0x04 {
		switch p[0] {
		case 0x16: // handshake
			if len(p) >= 6 {
				switch p[5] {
				case 0x01:
					return sniffTLSClientHello
				case 0x02:
					return sniffTLSServerHello
				}
			}
			return sniffTLS
		case 0x17, 0x15, 0x14: // application data, alert, change cipher spec
			return sniffTLS
		}
	}
	return sniffUnknown
}

// app names the application protocol from both directions' first payloads.
func AppName(a, b Sniff) string {
	has := func(xs ...Sniff) bool { return slices.Contains(xs, a) || slices.Contains(xs, b) }
	switch {
	case has(sniffH2Preface):
		return "h2c"
	case has(sniffHTTP1Request, sniffHTTP1Response):
		return "http1"
	case has(sniffTLSClientHello, sniffTLSServerHello, sniffTLS):
		return "tls"
	}
	return "unknown"
}

// wellKnownPorts are server ports above 1023 common in Kubernetes clusters
// and service meshes.
var wellKnownPorts = map[uint16]bool{
	443: true, 80: true, 6443: true, 2379: true, 2380: true, 10250: true, 10257: true,
	10259: true, 8443: true, 8080: true, 8081: true, 8000: true, 8888: true, 50051: true,
	9443: true, 9090: true, 9091: true, 9093: true, 3000: true, 5000: true, 15010: true,
	15012: true, 15014: true, 15017: true, 15021: true, 4317: true, 4318: true,
}

func isWellKnown(p uint16) bool { return p < 1024 || wellKnownPorts[p] }

// Roles decides which side (0 or 1, as the TCP tracker numbers them) is
// the client, and by which rule: tc's handshake, then what each side's
// first payload looked like (sniffs), then the port numbers of the
// endpoints ep. The order is from strongest evidence to weakest.
func Roles(tc *tcp.Conn, sniffs [2]Sniff, ep [2]netip.AddrPort) (client int, rule string) {
	switch {
	case tc.SYNSide() >= 0:
		return tc.SYNSide(), "syn"
	case tc.SYNAckSide() >= 0:
		return 1 - tc.SYNAckSide(), "syn"
	}
	rules := [...]struct {
		s      Sniff
		client bool
		name   string
	}{
		{sniffH2Preface, true, "http2-preface"},
		{sniffHTTP1Request, true, "http1-request"},
		{sniffHTTP1Response, false, "http1-response"},
		{sniffTLSClientHello, true, "tls-client-hello"},
		{sniffTLSServerHello, false, "tls-server-hello"},
	}
	for _, r := range rules {
		for side := range 2 {
			if sniffs[side] == r.s {
				if r.client {
					return side, r.name
				}
				return 1 - side, r.name
			}
		}
	}
	pa, pb := ep[0].Port(), ep[1].Port()
	switch wa, wb := isWellKnown(pa), isWellKnown(pb); {
	case wa && !wb:
		return 1, "well-known-port"
	case wb && !wa:
		return 0, "well-known-port"
	}
	switch {
	case pa > pb:
		return 0, "ephemeral-port"
	case pb > pa:
		return 1, "ephemeral-port"
	}
	return 0, "first-seen"
}
