package h2

import (
	"bytes"
	"strings"
)

// ClientPreface is the string every HTTP/2 client connection begins with
// (RFC 9113, section 3.4).
const ClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// Kind is what the first bytes of a direction look like.
type Kind int

const (
	// KindIncomplete: too few bytes to tell; call again with more.
	KindIncomplete Kind = iota
	// KindNone: not HTTP/2 (TLS, another protocol, garbage).
	KindNone
	// KindPreface: the client connection preface.
	KindPreface
	// KindUpgrade: an HTTP/1.1 request asking to upgrade to h2c
	// ("Upgrade: h2c" and "HTTP2-Settings"). The client's frames follow the
	// preface, which follows the request.
	KindUpgrade
	// KindSwitching: "HTTP/1.1 101 Switching Protocols" to h2c. The
	// server's frames start right after the response's header block.
	KindSwitching
	// KindHTTP1: an HTTP/1.x request or response without an h2c upgrade.
	KindHTTP1
	// KindFrames: a plausible sequence of HTTP/2 frame headers starting at
	// the first byte (a capture that began mid-connection, or a server's
	// first SETTINGS).
	KindFrames
)

var kindNames = [...]string{"incomplete", "none", "preface", "h2c-upgrade", "switching-protocols", "http1", "frames"}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(?)"
}

// maxHTTP1Header bounds how far Detect (and a Stream at its start) looks
// for the end of an HTTP/1.1 header block; upgrade requests are small.
const maxHTTP1Header = 16 << 10

var http1Methods = []string{"GET ", "POST ", "PUT ", "HEAD ", "OPTIONS ", "DELETE ", "PATCH ", "CONNECT ", "TRACE "}

// Detect tells what the first bytes of a direction are. It looks at no
// more than the first 16 KiB plus a few frame headers, and never at
// anything past an HTTP/1.1 header block.
func Detect(b []byte) Kind {
	k, _ := detect(b, minMaxFrameSize)
	return k
}

// detect is Detect, also returning for KindUpgrade and KindSwitching the
// length of the HTTP/1.1 header block, and for KindPreface the preface's.
func detect(b []byte, maxSize uint32) (Kind, int) {
	if n := min(len(b), len(ClientPreface)); string(b[:n]) == ClientPreface[:n] {
		if n < len(ClientPreface) {
			return KindIncomplete, 0
		}
		return KindPreface, len(ClientPreface)
	}
	if isRequestStart(b) || hasPrefix(b, "HTTP/1.") {
		end := bytes.Index(b[:min(len(b), maxHTTP1Header)], []byte("\r\n\r\n"))
		if end < 0 {
			if len(b) < maxHTTP1Header {
				return KindIncomplete, 0
			}
			return KindHTTP1, 0
		}
		end += 4
		return classifyHTTP1(b[:end]), end
	}
	if len(b) < frameHeaderLen {
		// Could still be a frame header, or a request line's first bytes.
		if len(b) < len("OPTIONS ") && couldBeRequestStart(b) {
			return KindIncomplete, 0
		}
		if len(b) == 0 || b[0] == 0 {
			return KindIncomplete, 0
		}
		return KindNone, 0
	}
	if chainPlausible(b, maxSize) {
		return KindFrames, 0
	}
	return KindNone, 0
}

// chainPlausible reports whether b starts with a plausible frame header and
// every frame header it leads to within b is plausible too.
func chainPlausible(b []byte, maxSize uint32) bool {
	strictness := first
	for off := 0; off+frameHeaderLen <= len(b); {
		h := parseHeader(b[off:])
		if !plausible(h, maxSize, strictness) {
			return false
		}
		strictness = chained
		off += frameHeaderLen + int(h.Length)
	}
	return true
}

func hasPrefix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[:len(s)]) == s
}

func isRequestStart(b []byte) bool {
	for _, m := range http1Methods {
		if hasPrefix(b, m) {
			return true
		}
	}
	return false
}

func couldBeRequestStart(b []byte) bool {
	prefixOf := func(m string) bool {
		n := min(len(b), len(m))
		return string(b[:n]) == m[:n]
	}
	for _, m := range http1Methods {
		if prefixOf(m) {
			return true
		}
	}
	return prefixOf("HTTP/1.")
}

// classifyHTTP1 looks at a complete HTTP/1.x header block.
func classifyHTTP1(hdr []byte) Kind {
	lines := strings.Split(string(hdr), "\r\n")
	var upgradeH2C, settings bool
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "upgrade":
			for _, p := range strings.Split(value, ",") {
				if strings.EqualFold(strings.TrimSpace(p), "h2c") {
					upgradeH2C = true
				}
			}
		case "http2-settings":
			settings = true
		}
	}
	if strings.HasPrefix(lines[0], "HTTP/1.") {
		// "HTTP/1.1 101 Switching Protocols": the status code decides; the
		// Upgrade header must name h2c, but some servers omit it.
		f := strings.Fields(lines[0])
		if len(f) >= 2 && f[1] == "101" && (upgradeH2C || !hasUpgradeHeader(lines)) {
			return KindSwitching
		}
		return KindHTTP1
	}
	if upgradeH2C && settings {
		return KindUpgrade
	}
	return KindHTTP1
}

func hasUpgradeHeader(lines []string) bool {
	for _, l := range lines[1:] {
		if name, _, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(name), "upgrade") {
			return true
		}
	}
	return false
}
