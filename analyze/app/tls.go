package app

import (
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/h2pcap/h2pcap/decode/h2"
	"github.com/h2pcap/h2pcap/decode/tls"
	"github.com/h2pcap/h2pcap/model"
)

// KeyRef is the analyzer's key log, shared by its connections: keys added
// while the capture is read (pcapng Decryption Secrets Blocks, a live
// capture's followed key log) reach the connections already open.
type KeyRef struct{ log *tls.KeyLog }

// Any says whether any key was given.
func (r *KeyRef) Any() bool { return r.log != nil && r.log.Len() > 0 }

// Add merges k into the key log; a connection whose records wait for keys
// looks them up again once the log grows.
func (r *KeyRef) Add(k *tls.KeyLog) {
	if r.log == nil {
		r.log = &tls.KeyLog{}
	}
	r.log.Merge(k)
}

// tlsState is the TLS layer of a connection that started with TLS records:
// the reassembled directions go through a tls.Conn, and its decrypted
// application data to the HTTP/2 analysis as if it were h2c.
type tlsState struct {
	conn   *tls.Conn
	client int // the side that sent the ClientHello (or taken for the client)
	keyed  bool
	infer  pingInfer // PINGs in the records not decrypted
	// ended is conn's Info once conn is released at a clean close
	// (release.go; info).
	ended *tls.Info

	// The client's application-data records, and the last one's length
	// on the wire (model.TLS.ClientAppRecords).
	clientApp, clientAppLast int
}

// startTLS makes h a TLS connection; first is the side whose first bytes
// b were found to be TLS.
func (h *Conn) startTLS(first int, b []byte) {
	client := h.clientSide()
	if len(b) > 5 && b[0] == 0x16 {
		if b[5] == 1 { // ClientHello
			client = first
		} else if b[5] == 2 { // ServerHello
			client = 1 - first
		}
	}
	var keys *tls.KeyLog
	if h.keys != nil {
		keys = h.keys.log
	}
	t := &tlsState{client: client, keyed: keys != nil}
	t.conn = tls.NewConn(tls.Config{
		Keys: keys,
		AppData: func(fromClient bool, data []byte, meta tls.Meta) {
			h.dir[t.side(fromClient)].plain(data, meta)
		},
		AppGap: func(fromClient bool, n int) {
			h.dir[t.side(fromClient)].plainGap(n)
		},
		Record: func(fromClient bool, r *tls.Record, p *tls.Plain) {
			t.record(fromClient, r, p, &h.pings)
		},
	})
	h.tls = t
	// Ciphertext is never decoded as HTTP/2; the plaintext is judged as h2c
	// is, from its first bytes. Without keys there is none.
	h.forced = false
	h.mode = h2Maybe
	if !t.keyed {
		h.mode = h2No
	}
}

// record takes every record: the encrypted application data that was
// not decrypted goes to the PING inference.
func (t *tlsState) record(fromClient bool, r *tls.Record, p *tls.Plain, pings *pingTracker) {
	if fromClient && r.Type == tls.RecordTypeApplicationData {
		t.clientApp++
		t.clientAppLast = r.WireLen()
	}
	if p.Decrypted {
		return // its frames say what it is
	}
	if r.Type != tls.RecordTypeApplicationData || !p.Encrypted || r.Truncated {
		// Not a candidate, but the side spoke (a TLS 1.2 alert, a
		// handshake message): silence is measured from it.
		t.infer.spoke(t.side(fromClient), r.Meta, pings)
		return
	}
	if !t.mayBeH2() {
		// HTTP/1.1 over TLS (etcd's peers, a client without h2): its
		// records are no PINGs, its close_notify no GOAWAY.
		t.infer.spoke(t.side(fromClient), r.Meta, pings)
		return
	}
	if t.infer.size == 0 {
		if info := t.info(); info.CipherSuite != 0 {
			t.infer.setSuite(info.Version, info.CipherSuite)
		}
	}
	t.infer.record(t.side(fromClient), r.WireLen(), r.Meta, pings)
}

// mayBeH2 says whether the handshake leaves HTTP/2 possible: not when the
// server selected another protocol, nor when the ClientHello offered no
// h2 (no ALPN at all, or http/1.1 only).
func (t *tlsState) mayBeH2() bool {
	info := t.info()
	if info.ALPN != "" {
		return info.ALPN == "h2"
	}
	if ch := info.ClientHello; ch != nil {
		return slices.Contains(ch.ALPN, "h2")
	}
	return true
}

// decrypted says whether any record of the connection was decrypted.
func (t *tlsState) decrypted() bool {
	info := t.info()
	return info.Decrypted[0]+info.Decrypted[1] > 0
}

func (t *tlsState) side(fromClient bool) int {
	if fromClient {
		return t.client
	}
	return 1 - t.client
}

// isTLSStart says whether a direction's first bytes are TLS: the
// connection's first (atStart) must be a ClientHello or ServerHello; in a
// capture that began mid-connection a record header will do.
func isTLSStart(b []byte, atStart bool) bool {
	if ok, _ := tls.Detect(b); ok {
		return true
	}
	return !atStart && tls.IsHeader(b)
}

// maxTLSHunt is how many of a direction's first segments are searched for
// a record header when the capture began inside a record: a record is at
// most 16 KiB, a dozen full-sized segments.
const maxTLSHunt = 16

// tlsData and tlsGap feed the TLS layer one direction's bytes.
func (d *h2dir) tlsData(b []byte, meta h2.Meta) {
	t := d.h.tls
	t.conn.Data(d.side == t.client, b, meta)
}

func (d *h2dir) tlsGap(n int) {
	t := d.h.tls
	t.conn.Gap(d.side == t.client, n)
}

// tlsEnd ends a direction of the TLS layer (h2finish).
func (d *h2dir) tlsEnd() {
	if t := d.h.tls; t != nil {
		t.conn.End(d.side == t.client)
	}
}

// TLS is the TLS facts of the connection, nil when it is not TLS.
func (st *State) TLS() *model.TLS {
	if st.h == nil {
		return nil
	}
	return st.h.TLS()
}

// TLS is the TLS facts of the connection so far, nil when it is not TLS.
func (h *Conn) TLS() *model.TLS {
	if h.tls == nil {
		return nil
	}
	t := h.tls
	info := t.info()
	out := &model.TLS{
		Alerts:           info.Alerts,
		ALPN:             info.ALPN,
		Decrypted:        t.decrypted(),
		ClientAppRecords: t.clientApp,
		ClientAppLastLen: t.clientAppLast,
	}
	if info.Version != 0 {
		out.Version = tlsVersionName(info.Version)
	}
	if info.CipherSuite != 0 || info.ServerHello != nil {
		out.CipherSuite = tls.CipherSuiteName(info.CipherSuite)
	}
	if ch := info.ClientHello; ch != nil {
		out.SNI = ch.ServerName
		out.ALPNOffered = append([]string(nil), ch.ALPN...)
	}
	out.NoH2 = !t.mayBeH2()
	if t.keyed {
		out.KeyProblem = info.KeyProblem()
	}
	if info.ClientRandom != ([32]byte{}) {
		out.ClientRandom = hex.EncodeToString(info.ClientRandom[:])
	}
	return out
}

func tlsVersionName(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "TLS 1.0"
	case tls.VersionTLS10 + 1:
		return "TLS 1.1"
	case tls.VersionTLS10 + 2:
		return "TLS 1.2"
	case tls.VersionTLS10 + 3:
		return "TLS 1.3"
	case 0x0300:
		return "SSL 3.0"
	}
	if v>>8 == 0x7f {
		return fmt.Sprintf("TLS 1.3 (draft %d)", v&0xff)
	}
	return fmt.Sprintf("0x%04x", v)
}
