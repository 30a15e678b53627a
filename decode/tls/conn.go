package tls

import (
	"encoding/hex"
	"fmt"
)

// Config configures a Conn. All callbacks are optional; slices they are
// given are valid only during the call.
type Config struct {
	// Keys are the secrets to decrypt with (a key log, pcapng Decryption
	// Secrets Blocks, or both merged). Nil: nothing is decrypted, records
	// and the cleartext handshake are still parsed.
	Keys *KeyLog
	// SeqWindow is how many record sequence numbers past the expected one
	// are tried when a record does not decrypt under it: after a gap that
	// took whole records the count lost is unknown. 0 means 64.
	SeqWindow int
	// MidStartWindow is how many sequence numbers are tried, for each
	// TLS 1.3 secret in Keys, on a connection whose handshake the capture
	// does not have. 0 means 256; negative disables the search.
	MidStartWindow int

	// Record is called for every record, after decryption was tried and
	// after the calls its content causes (AppData, Handshake, Alert).
	Record func(fromClient bool, r *Record, p *Plain)
	// AppData is called with the plaintext of every decrypted
	// application_data record, in order: the bytes to hand to decode/h2.
	AppData func(fromClient bool, data []byte, meta Meta)
	// AppGap is called for application data that could not be decrypted
	// (a truncated record, a record no key opens) with the plaintext
	// length it is estimated to hold, so a consumer like decode/h2 can be
	// told about a gap.
	AppGap func(fromClient bool, n int)
	// Handshake is called for every handshake message, cleartext or
	// decrypted; body is nil for messages not parsed here (Certificate...).
	Handshake func(fromClient bool, typ uint8, body []byte, meta Meta)
	// Alert is called for every alert seen or inferred.
	Alert func(fromClient bool, a Alert)
}

// Plain is what decryption made of a record.
type Plain struct {
	// Content is the record's content type: the inner one of a decrypted
	// TLS 1.3 record, else the header's.
	Content RecordType
	// Encrypted: the payload is protected. Decrypted: and was opened; Data
	// is then the plaintext (TLS 1.3's inner type and padding removed).
	// Cleartext records have Data too.
	Encrypted, Decrypted bool
	Data                 []byte
	Seq                  uint64 // record sequence number, when Decrypted
}

// Alert is an alert record: seen in cleartext or decrypted, or guessed
// from the size of an encrypted record (Guessed).
type Alert struct {
	Level, Description uint8
	// Encrypted: an encrypted alert that was not decrypted (TLS 1.2: the
	// record type says alert; Level and Description unknown).
	Encrypted bool
	// Guessed: a TLS 1.3 application_data record of exactly the size of
	// an encrypted alert (CloseNotifyRecordLen), with no key to check.
	Guessed bool
	Meta    Meta
}

// Alert descriptions used here.
const (
	AlertCloseNotify uint8 = 0
)

// KeyStatus says whether a connection could be decrypted.
type KeyStatus uint8

const (
	KeyUnknown     KeyStatus = iota // no handshake seen (yet), no secret found by search
	KeyFound                        // the key log had the secrets
	KeyMissing                      // the handshake was seen, the key log has no entry for its client random
	KeyUnsupported                  // the cipher suite is not one this package decrypts
	KeyNoLog                        // no key log was given
)

func (k KeyStatus) String() string {
	return [...]string{"unknown", "found", "missing", "unsupported", "no key log"}[k]
}

// Info is what a connection's handshake told, as far as it was seen.
type Info struct {
	ClientHello *ClientHello // nil until seen
	ServerHello *ServerHello // nil until seen (the final one, after a HelloRetryRequest)

	Version     uint16 // negotiated: from ServerHello, or learnt by decrypting without one
	CipherSuite uint16
	// ClientRandom identifies the connection in a key log: from the
	// ClientHello, or from the key log entry that decrypted it.
	ClientRandom [32]byte
	ALPN         string // selected: ServerHello (TLS 1.2) or EncryptedExtensions (TLS 1.3)

	Keys KeyStatus
	// MidStart: no handshake was seen and the secrets were found by trying
	// the key log's TLS 1.3 secrets (the capture began mid-connection).
	MidStart bool

	Records     int64    // records seen, both directions
	Alerts      int      // alerts seen, decrypted or guessed, both directions
	Decrypted   [2]int64 // records decrypted: [0] server->client, [1] client->server
	Undecrypted [2]int64 // encrypted records not decrypted
}

// KeyProblem says why the connection is not decrypted, or "".
func (i *Info) KeyProblem() string {
	if i.Records == 0 {
		return ""
	}
	switch i.Keys {
	case KeyMissing:
		return fmt.Sprintf("no key in the key log for client random %s", hex.EncodeToString(i.ClientRandom[:]))
	case KeyUnsupported:
		return fmt.Sprintf("cipher suite %s is not decrypted", CipherSuiteName(i.CipherSuite))
	case KeyNoLog:
		return "no key log"
	case KeyUnknown:
		if i.ClientHello == nil {
			return "no handshake in the capture, and no key log secret decrypts it"
		}
		return "no ServerHello in the capture"
	}
	return ""
}

// Conn follows both directions of one TLS connection: records, the
// handshake, and decryption when keys are known. Feed each direction's
// in-order TCP payload with Data, Gap and End, interleaved in capture order
// (a direction's keys come from the other's hello). Not safe for
// concurrent use.
type Conn struct {
	cfg  Config
	info Info
	half [2]*half // by fromClient: [0] server->client, [1] client->server
	// pending TLS 1.2 keys until each direction's ChangeCipherSpec.
	keys12 [2]*recordKey
	// missLen is the key log's size when the keys were found missing: a
	// log that grew since (a live capture tailing SSLKEYLOGFILE, a pcapng
	// whose Decryption Secrets Block comes later) is searched again.
	missLen int
}

// NewConn returns a Conn.
func NewConn(cfg Config) *Conn {
	if cfg.SeqWindow == 0 {
		cfg.SeqWindow = 64
	}
	if cfg.MidStartWindow == 0 {
		cfg.MidStartWindow = 256
	}
	c := &Conn{cfg: cfg}
	for i := range c.half {
		c.half[i] = &half{c: c, fromClient: i == 1, rec: NewRecords()}
	}
	if cfg.Keys == nil {
		c.info.Keys = KeyNoLog
	}
	return c
}

// Info returns what is known about the connection.
func (c *Conn) Info() *Info { return &c.info }

// RecordStats returns a direction's record layer counters.
func (c *Conn) RecordStats(fromClient bool) RecordStats { return c.h(fromClient).rec.Stats() }

func (c *Conn) h(fromClient bool) *half {
	if fromClient {
		return c.half[1]
	}
	return c.half[0]
}

// Data feeds a direction's next in-order bytes, from the segment meta.
func (c *Conn) Data(fromClient bool, b []byte, meta Meta) {
	h := c.h(fromClient)
	h.rec.Data(b, meta, h.record)
}

// Gap says n bytes of a direction were never captured.
func (c *Conn) Gap(fromClient bool, n int) {
	h := c.h(fromClient)
	h.lost += int64(max(n, 0))
	h.wide = 0
	h.rec.Gap(n, h.record)
}

// End says a direction ended.
func (c *Conn) End(fromClient bool) {
	h := c.h(fromClient)
	h.rec.End(h.record)
}

// Idle reports whether End on both directions would do nothing: each
// direction's bytes were all parsed into records (Records.Idle). A
// connection whose directions have both delivered their last byte and is
// idle can be dropped without its Ends (Info copied first).
func (c *Conn) Idle() bool { return c.half[0].rec.Idle() && c.half[1].rec.Idle() }

func idx(fromClient bool) int {
	if fromClient {
		return 1
	}
	return 0
}

// clientHello and serverHello set up keys once both are known.
func (c *Conn) clientHello(ch *ClientHello) {
	if c.info.ClientHello != nil {
		return // a second ClientHello after a HelloRetryRequest: same random
	}
	c.info.ClientHello = ch
	c.info.ClientRandom = ch.Random
	if !ch.EarlyData {
		return
	}
	sec, ok := c.cfg.Keys.Lookup(ch.Random)
	if !ok || sec.ClientEarlyTrafficSecret == nil {
		return
	}
	cl := c.half[1]
	for _, id := range ch.CipherSuites {
		s, ok := suites[id]
		if !ok || !s.tls13 || s.hash().Size() != len(sec.ClientEarlyTrafficSecret) {
			continue
		}
		if k, err := key13(s, sec.ClientEarlyTrafficSecret, 0); err == nil {
			cl.earlyCands = append(cl.earlyCands, k)
		}
	}
}

func (c *Conn) serverHello(sh *ServerHello) {
	c.info.ServerHello = sh
	c.info.Version = sh.SelectedVersion()
	c.info.CipherSuite = sh.CipherSuite
	if sh.ALPN != "" {
		c.info.ALPN = sh.ALPN
	}
	if sh.HelloRetryRequest {
		return
	}
	if c.info.ClientHello == nil {
		return // one-sided capture or lost ClientHello: no client random
	}
	if c.cfg.Keys == nil {
		return
	}
	s, ok := suites[sh.CipherSuite]
	cs, isCBC := cbcSuites[sh.CipherSuite]
	if !ok && !isCBC {
		c.info.Keys = KeyUnsupported
		return
	}
	sec, ok := c.cfg.Keys.Lookup(c.info.ClientRandom)
	tls13 := isTLS13(c.info.Version)
	switch {
	case !ok, tls13 && (sec.ClientHandshakeTrafficSecret == nil && sec.ClientTrafficSecret0 == nil && sec.ServerHandshakeTrafficSecret == nil && sec.ServerTrafficSecret0 == nil),
		!tls13 && sec.MasterSecret == nil:
		c.info.Keys = KeyMissing
		c.missLen = c.cfg.Keys.Len()
		return
	}
	c.info.Keys = KeyFound
	if tls13 {
		draft := draftOf(c.info.Version)
		mk := func(secret []byte) *recordKey {
			if secret == nil {
				return nil
			}
			k, err := key13(s, secret, draft)
			if err != nil {
				return nil
			}
			return k
		}
		cl, sv := c.half[1], c.half[0]
		cl.setKeys13(mk(sec.ClientHandshakeTrafficSecret), mk(sec.ClientTrafficSecret0))
		sv.setKeys13(mk(sec.ServerHandshakeTrafficSecret), mk(sec.ServerTrafficSecret0))
		return
	}
	var ck, sk *recordKey
	var err error
	if isCBC {
		ck, sk, err = keysCBC(cs, c.info.Version, sec.MasterSecret, c.info.ClientRandom, sh.Random)
	} else {
		ck, sk, err = keys12(s, sec.MasterSecret, c.info.ClientRandom, sh.Random)
	}
	if err != nil {
		c.info.Keys = KeyUnsupported
		return
	}
	c.keys12[1], c.keys12[0] = ck, sk
}

// retryKeys looks the connection's secrets up again, in a key log that has
// grown since they were missing: a client writes its key log line only
// once it has the ServerHello, so a live capture sees the handshake first.
// Records that went by are lost; the window search of open finds the
// sequence number the next one has.
func (c *Conn) retryKeys() {
	c.serverHello(c.info.ServerHello)
	if c.info.Keys != KeyFound || isTLS13(c.info.Version) {
		return
	}
	for i, h := range c.half {
		if h.encrypted && h.key == nil {
			// Past its ChangeCipherSpec: the sequence number counted on.
			h.key = c.keys12[i]
		}
	}
}

// half is one direction's decryption state.
type half struct {
	c          *Conn
	fromClient bool
	rec        *Records
	hs         hsReader

	// encrypted: records are protected from now on (after this
	// direction's ChangeCipherSpec in TLS 1.2, after the ServerHello in
	// TLS 1.3, where only application_data records are).
	encrypted bool
	key       *recordKey // current read key, nil when unknown
	// pending are the TLS 1.3 keys that follow key, in order: the
	// handshake key after the early data key (EndOfEarlyData), the
	// application key after the handshake key (Finished).
	pending []*recordKey
	// early: key is the client's 0-RTT key; earlyCands are the keys to
	// try for it, one per TLS 1.3 suite offered, before the ServerHello
	// says which.
	early      bool
	earlyCands []*recordKey
	seq        uint64
	seqKnown   bool

	trials int // records tried by the mid-start search
	// lost counts the bytes lost in gaps since the last record decrypted:
	// the records they held are at most lost/minRecordWire, which widens
	// the sequence number search. fails counts records in a row no key
	// opened.
	lost  int64
	wide  int // wide searches since the last gap
	fails int
	buf   []byte
	plain Plain
}

func (h *half) setKeys13(hsKey, appKey *recordKey) {
	var keys []*recordKey
	for _, k := range []*recordKey{hsKey, appKey} {
		if k != nil {
			keys = append(keys, k)
		}
	}
	if h.early && h.key != nil {
		// 0-RTT data is still coming: EndOfEarlyData ends it.
		h.pending = keys
		return
	}
	h.key, h.pending = nil, nil
	if len(keys) > 0 {
		h.key, h.pending = keys[0], keys[1:]
	}
	h.seq, h.seqKnown = 0, true
}

// nextKey moves to the next pending key (after EndOfEarlyData or Finished).
func (h *half) nextKey() {
	if len(h.pending) == 0 {
		return
	}
	h.key, h.pending = h.pending[0], h.pending[1:]
	h.early = false
	h.seq, h.seqKnown = 0, true
	h.hs.reset()
}

// record handles one record of the direction.
func (h *half) record(r *Record) {
	c := h.c
	p := &h.plain
	*p = Plain{Content: r.Type}
	c.info.Records++
	if r.Resynced {
		h.seqKnown = false
		// Handshake boundaries are lost with the bytes.
		h.hs.broken = h.hs.hn != 0 || h.hs.remaining != 0
	}
	tls13 := isTLS13(c.info.Version)
	protected := h.encrypted && (!tls13 || r.Type == RecordTypeApplicationData)
	if !protected && r.Type == RecordTypeApplicationData && c.info.ServerHello == nil {
		// Application data with no handshake seen: mid-connection start.
		protected = true
	}
	p.Encrypted = protected
	i := idx(h.fromClient)
	switch {
	case r.Truncated:
		if protected {
			h.seq++
			c.info.Undecrypted[i]++
			if r.Type == RecordTypeApplicationData && c.cfg.AppGap != nil {
				c.cfg.AppGap(h.fromClient, h.estimate(r.Length))
			}
		} else if r.Type == RecordTypeHandshake {
			h.hs.broken = true
		}
	case protected:
		if c.info.Keys == KeyMissing && c.cfg.Keys.Len() != c.missLen {
			c.retryKeys()
		}
		if h.key == nil && c.info.ServerHello == nil {
			if len(h.earlyCands) > 0 {
				h.earlyStart(r)
			} else {
				h.midStart(r)
			}
		}
		if pt, ok := h.open(r); ok {
			p.Decrypted, p.Data, p.Seq = true, pt, h.seq-1
			c.info.Decrypted[i]++
			if tls13 || (h.key != nil && h.key.s.tls13) {
				// Inner content type: the last non-zero byte.
				j := len(pt) - 1
				for j >= 0 && pt[j] == 0 {
					j--
				}
				if j < 0 {
					p.Decrypted, p.Data = false, nil
					break
				}
				p.Content, p.Data = RecordType(pt[j]), pt[:j]
			}
			h.content(r, p)
		} else {
			c.info.Undecrypted[i]++
			if r.Type == RecordTypeApplicationData && c.cfg.AppGap != nil {
				c.cfg.AppGap(h.fromClient, h.estimate(r.Length))
			}
			if r.Type == RecordTypeAlert {
				h.alert(Alert{Encrypted: true, Meta: r.Meta})
			} else if (tls13 || c.info.Version == 0) && r.Type == RecordTypeApplicationData && r.Length == closeNotify13Payload {
				// With no handshake seen, TLS 1.3 is the likely version: a
				// TLS 1.2 GCM record cannot be this short, and ChaCha20's
				// would hold 3 bytes.
				h.alert(Alert{Guessed: true, Meta: r.Meta})
			}
		}
	default:
		p.Data = r.Payload
		h.content(r, p)
		if r.Type == RecordTypeChangeCipherSpec && !tls13 {
			h.encrypted = true
			h.key = c.keys12[i]
			h.seq, h.seqKnown = 0, true
			h.hs.reset()
		}
	}
	if c.cfg.Record != nil {
		c.cfg.Record(h.fromClient, r, p)
	}
}

// Bounds of the sequence number search.
const (
	maxFails      = 16   // failed records in a row before only small ones are tried
	maxSearchLen  = 1024 // a small record
	minRecordWire = 22   // the smallest AEAD record: header, 1 byte, 16 of tag
	maxSeqSearch  = 1 << 14
	maxWide       = 4 // wide searches per gap
)

// estimate is the plaintext length of an encrypted record's payload.
func (h *half) estimate(n int) int {
	ov := 17 // TLS 1.3: tag and inner type
	if k := h.key; k != nil && k.cbc != nil {
		ov = k.cbc.mac().Size() + 1 // and the padding, unknown
		if !k.cbc.chained {
			ov += 16
		}
	} else if k != nil && !k.s.tls13 {
		ov = k.aead.Overhead() + k.s.explicitNonceLen()
	}
	return max(n-ov, 0)
}

// content handles a record's cleartext (as sent, or decrypted).
func (h *half) content(r *Record, p *Plain) {
	c := h.c
	switch p.Content {
	case RecordTypeHandshake:
		h.hs.feed(p.Data, func(typ uint8, body []byte) { h.handshake(typ, body, r.Meta) })
	case RecordTypeAlert:
		if len(p.Data) >= 2 {
			h.alert(Alert{Level: p.Data[0], Description: p.Data[1], Meta: r.Meta})
		}
	case RecordTypeApplicationData:
		if p.Decrypted && c.cfg.AppData != nil && len(p.Data) > 0 {
			c.cfg.AppData(h.fromClient, p.Data, r.Meta)
		}
	}
}

func (h *half) alert(a Alert) {
	h.c.info.Alerts++
	if h.c.cfg.Alert != nil {
		h.c.cfg.Alert(h.fromClient, a)
	}
}

func (h *half) handshake(typ uint8, body []byte, meta Meta) {
	c := h.c
	if c.cfg.Handshake != nil {
		c.cfg.Handshake(h.fromClient, typ, body, meta)
	}
	tls13Key := h.encrypted && h.key != nil && h.key.s.tls13
	switch typ {
	case typeEndOfEarlyData, typeFinished:
		if tls13Key && len(h.pending) > 0 {
			// This stage of the direction ends: the next key follows.
			h.nextKey()
		}
		return
	case typeKeyUpdate:
		if tls13Key && len(h.pending) == 0 {
			if k, err := h.key.next(); err == nil {
				h.key = k
				h.seq, h.seqKnown = 0, true
				h.hs.reset()
			}
		}
		return
	}
	if body == nil {
		return
	}
	switch typ {
	case typeClientHello:
		if ch, ok := parseClientHello(body); ok {
			c.clientHello(ch)
		}
	case typeServerHello:
		if sh, ok := parseServerHello(body); ok {
			c.serverHello(sh)
			if !sh.HelloRetryRequest && isTLS13(c.info.Version) {
				// Both directions encrypt from here: the server's next
				// records, and the client's after it reads this.
				c.half[0].encrypted, c.half[1].encrypted = true, true
			}
		}
	case typeEncryptedExtensions:
		if a := parseEncryptedExtensions(body); a != "" {
			c.info.ALPN = a
		}
	}
}

// open decrypts a protected record, finding its sequence number when it is
// not known, and the key when a Finished or KeyUpdate that switched keys
// was lost. It advances seq past the record.
func (h *half) open(r *Record) ([]byte, bool) {
	if h.key == nil {
		h.seq++
		return nil, false
	}
	defer h.key.endRecord(r.Payload)
	if cap(h.buf) < r.Length {
		h.buf = make([]byte, 0, MaxRecordPayload)
	}
	// TLS 1.2 GCM sends the nonce, but the sequence number is in the
	// additional data, so it has to be found the same way.
	w := uint64(h.c.cfg.SeqWindow)
	try := func(k *recordKey, from, n uint64) bool {
		for s := from; s < from+n; s++ {
			if pt, err := k.open(h.buf, r.Header, r.Payload, s); err == nil {
				h.buf = pt
				h.key, h.seq, h.seqKnown = k, s+1, true
				h.lost, h.fails = 0, 0
				return true
			}
		}
		return false
	}
	if h.seqKnown && try(h.key, h.seq, 1) {
		return h.buf, true
	}
	small := r.Length <= maxSearchLen
	if h.fails >= maxFails && !small {
		// Many records failed in a row (wrong key, or lost further than
		// the window): search again only on small records, which are
		// cheap to try and frequent in HTTP/2 (PING, WINDOW_UPDATE,
		// HEADERS), instead of every one of a bulk transfer.
		h.fails++
		h.seqKnown = false
		return nil, false
	}
	if small && h.lost > 0 && h.wide < maxWide {
		// Only the first few small records after a gap: each such
		// search costs up to maxSeqSearch decryptions, and records no
		// key opens (a wrong key, a fuzzed stream) must not pay it
		// every time.
		h.wide++
		// Records lost in gaps: as many as could fit in the bytes lost.
		w = max(w, min(uint64(h.lost/minRecordWire)+w, maxSeqSearch))
	}
	if try(h.key, h.seq, w+1) {
		return h.buf, true
	}
	if h.key.s.tls13 {
		// The EndOfEarlyData, Finished or a KeyUpdate went missing.
		for i, k := range h.pending {
			if try(k, 0, w+1) {
				h.pending = h.pending[i+1:]
				h.early = false
				return h.buf, true
			}
		}
		if len(h.pending) == 0 {
			if k, err := h.key.next(); err == nil && try(k, 0, w+1) {
				return h.buf, true
			}
		}
	}
	// Not advanced: a record no key opens may be one this package does
	// not decrypt (0-RTT early data) rather than a lost sequence number,
	// and the window covers the next one anyway.
	h.seqKnown = false
	h.fails++
	return nil, false
}

// earlyStart finds which offered suite the client's 0-RTT data uses: the
// PSK's, which only the ServerHello would say.
func (h *half) earlyStart(r *Record) {
	if cap(h.buf) < r.Length {
		h.buf = make([]byte, 0, MaxRecordPayload)
	}
	for _, k := range h.earlyCands {
		if _, err := k.open(h.buf, r.Header, r.Payload, 0); err == nil {
			h.key, h.early, h.seq, h.seqKnown = k, true, 0, true
			h.encrypted = true
			break
		}
	}
	h.earlyCands = nil
}

// midStart looks for the TLS 1.3 secret that opens an application_data
// record of a connection whose handshake was not captured: every secret
// of the key log, with each suite of its hash size, at sequence numbers 0
// to MidStartWindow. Only the first few records are tried, and after the
// first two only small ones, to bound the cost.
func (h *half) midStart(r *Record) {
	// The first two records are tried whatever their size (a direction
	// may carry only bulk data); then only small ones.
	const maxTrials, anySize = 16, 2
	c := h.c
	if c.cfg.Keys == nil || c.cfg.MidStartWindow < 0 || h.trials >= maxTrials || r.Length > maxSearchLen && h.trials >= anySize {
		return
	}
	h.trials++
	if cap(h.buf) < r.Length {
		h.buf = make([]byte, 0, MaxRecordPayload)
	}
	for _, cr := range c.cfg.Keys.order {
		sec := c.cfg.Keys.byRandom[cr]
		for _, secret := range [][]byte{sec.ClientTrafficSecret0, sec.ServerTrafficSecret0} {
			if secret == nil {
				continue
			}
			for _, id := range []uint16{TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256, TLS_AES_256_GCM_SHA384} {
				s := suites[id]
				if s.hash().Size() != len(secret) {
					continue
				}
				k, err := key13(s, secret, 0)
				if err != nil {
					continue
				}
				for n := uint64(0); n <= uint64(c.cfg.MidStartWindow); n++ {
					if _, err := k.open(h.buf, r.Header, r.Payload, n); err == nil {
						h.key, h.seq, h.seqKnown = k, n, true
						c.info.MidStart = true
						c.info.Keys = KeyFound
						c.info.Version = VersionTLS13
						c.info.CipherSuite = id
						c.info.ClientRandom = cr
						h.encrypted = true
						return
					}
				}
			}
		}
	}
}
