package tls

import (
	"bytes"
	"encoding/binary"
)

// Handshake message types, as crypto/tls names them.
const (
	typeClientHello         uint8 = 1
	typeServerHello         uint8 = 2
	typeNewSessionTicket    uint8 = 4
	typeEndOfEarlyData      uint8 = 5
	typeEncryptedExtensions uint8 = 8
	typeCertificate         uint8 = 11
	typeFinished            uint8 = 20
	typeKeyUpdate           uint8 = 24
)

// TLS extensions used here.
const (
	extensionServerName        uint16 = 0
	extensionALPN              uint16 = 16
	extensionEarlyData         uint16 = 42
	extensionSupportedVersions uint16 = 43
)

// maxHandshakeKept bounds a handshake message body kept to be parsed: a
// ClientHello with many extensions fits, and Certificate messages, which
// can be larger, are skipped without being kept.
const maxHandshakeKept = 1 << 16

// helloRetryRequestRandom marks a ServerHello that is a HelloRetryRequest
// (RFC 8446 section 4.1.3).
var helloRetryRequestRandom = [32]byte{
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
}

// hsReader reassembles handshake messages from the content of consecutive
// handshake records (cleartext, or decrypted), which may split a message or
// hold several.
type hsReader struct {
	hdr       [4]byte
	hn        int
	typ       uint8
	remaining int
	keep      bool
	body      []byte
	broken    bool // lost bytes: boundaries unknown until the next key
}

func (h *hsReader) reset() { *h = hsReader{body: h.body[:0]} }

// feed takes handshake content and calls emit for every message it ends:
// body is nil for messages not kept (see keepType).
func (h *hsReader) feed(b []byte, emit func(typ uint8, body []byte)) {
	for len(b) > 0 && !h.broken {
		if h.hn < 4 {
			n := copy(h.hdr[h.hn:], b)
			h.hn += n
			b = b[n:]
			if h.hn < 4 {
				return
			}
			h.typ = h.hdr[0]
			h.remaining = int(h.hdr[1])<<16 | int(h.hdr[2])<<8 | int(h.hdr[3])
			h.keep = keepType(h.typ) && h.remaining <= maxHandshakeKept
			h.body = h.body[:0]
		}
		n := min(len(b), h.remaining)
		if h.keep {
			h.body = append(h.body, b[:n]...)
		}
		h.remaining -= n
		b = b[n:]
		if h.remaining == 0 {
			h.hn = 0
			if h.keep {
				emit(h.typ, h.body)
			} else {
				emit(h.typ, nil)
			}
		}
	}
}

func keepType(t uint8) bool {
	switch t {
	case typeClientHello, typeServerHello, typeEncryptedExtensions, typeFinished, typeKeyUpdate:
		return true
	}
	return false
}

// reader is a bounds-checked cursor over a handshake body: a failed read
// sets bad and returns zero values, so parsers need one check at the end.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) u8() uint8 {
	if len(r.b) < 1 {
		r.bad = true
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) u16() uint16 {
	if len(r.b) < 2 {
		r.bad = true
		r.b = nil
		return 0
	}
	v := binary.BigEndian.Uint16(r.b)
	r.b = r.b[2:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if len(r.b) < n {
		r.bad = true
		r.b = nil
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) vec8() []byte  { return r.bytes(int(r.u8())) }
func (r *reader) vec16() []byte { return r.bytes(int(r.u16())) }

// extensions calls f for each extension of a block; it reports whether the
// block parsed.
func extensions(b []byte, f func(typ uint16, data []byte)) bool {
	r := reader{b: b}
	for len(r.b) > 0 && !r.bad {
		typ := r.u16()
		data := r.vec16()
		if !r.bad {
			f(typ, data)
		}
	}
	return !r.bad
}

// ClientHello is what the cleartext ClientHello tells.
type ClientHello struct {
	Version           uint16 // legacy_version
	Random            [32]byte
	CipherSuites      []uint16
	ServerName        string   // SNI
	ALPN              []string // protocols offered
	SupportedVersions []uint16 // supported_versions extension
	EarlyData         bool     // early_data extension: TLS 1.3 0-RTT data follows
}

func parseClientHello(body []byte) (*ClientHello, bool) {
	r := reader{b: body}
	ch := &ClientHello{Version: r.u16()}
	copy(ch.Random[:], r.bytes(32))
	r.vec8() // session id
	cs := reader{b: r.vec16()}
	for len(cs.b) >= 2 {
		ch.CipherSuites = append(ch.CipherSuites, cs.u16())
	}
	r.vec8() // compression methods
	if r.bad {
		return nil, false
	}
	if len(r.b) == 0 {
		return ch, true // no extensions
	}
	ok := extensions(r.vec16(), func(typ uint16, data []byte) {
		e := reader{b: data}
		switch typ {
		case extensionServerName:
			l := reader{b: e.vec16()}
			for len(l.b) > 0 && !l.bad {
				t := l.u8()
				name := l.vec16()
				if t == 0 && !l.bad && ch.ServerName == "" {
					ch.ServerName = string(name)
				}
			}
		case extensionALPN:
			l := reader{b: e.vec16()}
			for len(l.b) > 0 && !l.bad {
				if p := l.vec8(); !l.bad {
					ch.ALPN = append(ch.ALPN, string(p))
				}
			}
		case extensionEarlyData:
			ch.EarlyData = true
		case extensionSupportedVersions:
			l := reader{b: e.vec8()}
			for len(l.b) >= 2 {
				ch.SupportedVersions = append(ch.SupportedVersions, l.u16())
			}
		}
	})
	return ch, ok && !r.bad
}

// ServerHello is what the cleartext ServerHello tells.
type ServerHello struct {
	Version           uint16 // legacy_version (a draft number for early TLS 1.3 drafts)
	Random            [32]byte
	CipherSuite       uint16
	SupportedVersion  uint16 // supported_versions extension (TLS 1.3), or 0
	ALPN              string // TLS 1.2: selected protocol; TLS 1.3 sends it encrypted
	HelloRetryRequest bool
}

// SelectedVersion is the negotiated version: the supported_versions
// extension when present, else legacy_version.
func (sh *ServerHello) SelectedVersion() uint16 {
	if sh.SupportedVersion != 0 {
		return sh.SupportedVersion
	}
	return sh.Version
}

func parseServerHello(body []byte) (*ServerHello, bool) {
	r := reader{b: body}
	sh := &ServerHello{Version: r.u16()}
	copy(sh.Random[:], r.bytes(32))
	sh.HelloRetryRequest = bytes.Equal(sh.Random[:], helloRetryRequestRandom[:])
	if v := sh.Version; v >= 0x7f00 && v < 0x7f16 {
		// TLS 1.3 drafts before 22 had no session id here.
	} else {
		r.vec8()
	}
	sh.CipherSuite = r.u16()
	if !(sh.Version >= 0x7f00 && sh.Version < 0x7f16) {
		r.u8() // compression method
	}
	if r.bad {
		return nil, false
	}
	if len(r.b) == 0 {
		return sh, true
	}
	ok := extensions(r.vec16(), func(typ uint16, data []byte) {
		e := reader{b: data}
		switch typ {
		case extensionSupportedVersions:
			sh.SupportedVersion = e.u16()
		case extensionALPN:
			l := reader{b: e.vec16()}
			if p := l.vec8(); !l.bad {
				sh.ALPN = string(p)
			}
		}
	})
	return sh, ok && !r.bad
}

// parseEncryptedExtensions returns the ALPN protocol a TLS 1.3 server selected.
func parseEncryptedExtensions(body []byte) (alpn string) {
	r := reader{b: body}
	extensions(r.vec16(), func(typ uint16, data []byte) {
		if typ == extensionALPN {
			e := reader{b: data}
			l := reader{b: e.vec16()}
			if p := l.vec8(); !l.bad {
				alpn = string(p)
			}
		}
	})
	return alpn
}

// isTLS13 reports whether a negotiated version is TLS 1.3 or one of its drafts.
func isTLS13(v uint16) bool { return v == VersionTLS13 || v&0xff00 == 0x7f00 }

// draftOf returns the draft number of a TLS 1.3 draft version, or 0.
func draftOf(v uint16) uint16 {
	if v&0xff00 == 0x7f00 {
		return v & 0xff
	}
	return 0
}
