package tls

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// Protocol versions, as crypto/tls names them.
const (
	VersionTLS10 = 0x0301
	VersionTLS11 = 0x0302
	VersionTLS12 = 0x0303
	VersionTLS13 = 0x0304
)

// Cipher suites this package decrypts, with crypto/tls's names.
const (
	TLS_AES_128_GCM_SHA256       uint16 = 0x1301
	TLS_AES_256_GCM_SHA384       uint16 = 0x1302
	TLS_CHACHA20_POLY1305_SHA256 uint16 = 0x1303

	TLS_RSA_WITH_AES_128_GCM_SHA256               uint16 = 0x009c
	TLS_RSA_WITH_AES_256_GCM_SHA384               uint16 = 0x009d
	TLS_DHE_RSA_WITH_AES_128_GCM_SHA256           uint16 = 0x009e
	TLS_DHE_RSA_WITH_AES_256_GCM_SHA384           uint16 = 0x009f
	TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256       uint16 = 0xc02b
	TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384       uint16 = 0xc02c
	TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256         uint16 = 0xc02f
	TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384         uint16 = 0xc030
	TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256   uint16 = 0xcca8
	TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 uint16 = 0xcca9
)

type aeadKind uint8

const (
	aeadAESGCM aeadKind = iota + 1
	aeadChaCha20Poly1305
)

// suite is what decryption needs to know about a cipher suite.
type suite struct {
	id     uint16
	name   string
	aead   aeadKind
	keyLen int
	hash   func() hash.Hash // TLS 1.2 PRF hash, TLS 1.3 HKDF hash
	tls13  bool
}

// suites: the AEAD suites. In TLS 1.2 the key exchange (RSA, DHE, ECDHE,
// PSK) does not matter once the key log gives the master secret, so every
// AES-GCM and ChaCha20-Poly1305 suite decrypts the same way.
var suites = map[uint16]suite{
	TLS_AES_128_GCM_SHA256:       {TLS_AES_128_GCM_SHA256, "TLS_AES_128_GCM_SHA256", aeadAESGCM, 16, sha256.New, true},
	TLS_AES_256_GCM_SHA384:       {TLS_AES_256_GCM_SHA384, "TLS_AES_256_GCM_SHA384", aeadAESGCM, 32, sha512.New384, true},
	TLS_CHACHA20_POLY1305_SHA256: {TLS_CHACHA20_POLY1305_SHA256, "TLS_CHACHA20_POLY1305_SHA256", aeadChaCha20Poly1305, 32, sha256.New, true},

	TLS_RSA_WITH_AES_128_GCM_SHA256:               {TLS_RSA_WITH_AES_128_GCM_SHA256, "TLS_RSA_WITH_AES_128_GCM_SHA256", aeadAESGCM, 16, sha256.New, false},
	TLS_RSA_WITH_AES_256_GCM_SHA384:               {TLS_RSA_WITH_AES_256_GCM_SHA384, "TLS_RSA_WITH_AES_256_GCM_SHA384", aeadAESGCM, 32, sha512.New384, false},
	TLS_DHE_RSA_WITH_AES_128_GCM_SHA256:           {TLS_DHE_RSA_WITH_AES_128_GCM_SHA256, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", aeadAESGCM, 16, sha256.New, false},
	TLS_DHE_RSA_WITH_AES_256_GCM_SHA384:           {TLS_DHE_RSA_WITH_AES_256_GCM_SHA384, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", aeadAESGCM, 32, sha512.New384, false},
	TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:       {TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", aeadAESGCM, 16, sha256.New, false},
	TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:       {TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", aeadAESGCM, 32, sha512.New384, false},
	TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:         {TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", aeadAESGCM, 16, sha256.New, false},
	TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:         {TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", aeadAESGCM, 32, sha512.New384, false},
	TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256:   {TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", aeadChaCha20Poly1305, 32, sha256.New, false},
	TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: {TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", aeadChaCha20Poly1305, 32, sha256.New, false},
	0xccaa: {0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", aeadChaCha20Poly1305, 32, sha256.New, false},
	0xccab: {0xccab, "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256", aeadChaCha20Poly1305, 32, sha256.New, false},
	0xccac: {0xccac, "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256", aeadChaCha20Poly1305, 32, sha256.New, false},
	0xccad: {0xccad, "TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256", aeadChaCha20Poly1305, 32, sha256.New, false},
	0xccae: {0xccae, "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256", aeadChaCha20Poly1305, 32, sha256.New, false},
}

// CipherSuiteName returns the suite's IANA name, or its hex value.
func CipherSuiteName(id uint16) string {
	if s, ok := suites[id]; ok {
		return s.name
	}
	if s, ok := cbcSuites[id]; ok {
		return s.name
	}
	return fmt.Sprintf("0x%04X", id)
}

// Decryptable reports whether this package can decrypt a suite.
func Decryptable(id uint16) bool {
	_, aead := suites[id]
	_, cbc := cbcSuites[id]
	return aead || cbc
}

func (s suite) ivLen() int {
	if !s.tls13 && s.aead == aeadAESGCM {
		return 4 // TLS 1.2 GCM: the implicit part; 8 explicit bytes travel in each record
	}
	return 12
}

// explicitNonceLen is the nonce part sent in each record ahead of the
// ciphertext: 8 bytes for TLS 1.2 AES-GCM (RFC 5288), none otherwise.
func (s suite) explicitNonceLen() int {
	if !s.tls13 && s.aead == aeadAESGCM {
		return 8
	}
	return 0
}

func (s suite) newAEAD(key []byte) (cipher.AEAD, error) {
	switch s.aead {
	case aeadAESGCM:
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		return cipher.NewGCM(b)
	default:
		return chacha20poly1305.New(key)
	}
}

// recordKey decrypts the records of one direction under one key.
type recordKey struct {
	s    suite
	aead cipher.AEAD
	iv   []byte
	// noAAD: TLS 1.3 drafts before 25 authenticated no additional data.
	noAAD bool
	// secret is the TLS 1.3 traffic secret this key came from (KeyUpdate
	// derives the next one from it).
	secret []byte
	// cbc is set, and aead nil, for a CBC suite.
	cbc *cbcState
}

// prf12 is the TLS 1.2 PRF (RFC 5246 section 5), P_hash with the suite's hash.
func prf12(h func() hash.Hash, secret []byte, label string, seed []byte, n int) []byte {
	ls := append([]byte(label), seed...)
	out := make([]byte, 0, n+64)
	mac := hmac.New(h, secret)
	mac.Write(ls)
	a := mac.Sum(nil)
	for len(out) < n {
		mac.Reset()
		mac.Write(a)
		mac.Write(ls)
		out = mac.Sum(out)
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(a[:0])
	}
	return out[:n]
}

// keys12 derives both directions' keys from a TLS 1.2 master secret: the
// key block is client_write_key, server_write_key, client_write_IV,
// server_write_IV (AEAD suites have no MAC keys).
func keys12(s suite, master []byte, clientRandom, serverRandom [32]byte) (client, server *recordKey, err error) {
	seed := append(serverRandom[:], clientRandom[:]...)
	kb := prf12(s.hash, master, "key expansion", seed, 2*s.keyLen+2*s.ivLen())
	ck, sk := kb[:s.keyLen], kb[s.keyLen:2*s.keyLen]
	civ, siv := kb[2*s.keyLen:2*s.keyLen+s.ivLen()], kb[2*s.keyLen+s.ivLen():]
	ca, err := s.newAEAD(ck)
	if err != nil {
		return nil, nil, fmt.Errorf("%s client key: %w", s.name, err)
	}
	sa, err := s.newAEAD(sk)
	if err != nil {
		return nil, nil, fmt.Errorf("%s server key: %w", s.name, err)
	}
	return &recordKey{s: s, aead: ca, iv: civ}, &recordKey{s: s, aead: sa, iv: siv}, nil
}

// expandLabel is TLS 1.3's HKDF-Expand-Label (RFC 8446 section 7.1).
func expandLabel(h func() hash.Hash, secret []byte, label string, context []byte, n int) []byte {
	full := "tls13 " + label
	info := make([]byte, 0, 4+len(full)+len(context))
	info = binary.BigEndian.AppendUint16(info, uint16(n))
	info = append(info, byte(len(full)))
	info = append(info, full...)
	info = append(info, byte(len(context)))
	info = append(info, context...)
	out, err := hkdf.Expand(h, secret, string(info), n)
	if err != nil {
		panic("hkdf: " + err.Error()) // only for n > 255 hash lengths
	}
	return out
}

// key13 derives a TLS 1.3 record key from a traffic secret.
func key13(s suite, secret []byte, draft uint16) (*recordKey, error) {
	key := expandLabel(s.hash, secret, "key", nil, s.keyLen)
	iv := expandLabel(s.hash, secret, "iv", nil, 12)
	a, err := s.newAEAD(key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	return &recordKey{s: s, aead: a, iv: iv, secret: secret, noAAD: draft != 0 && draft < 25}, nil
}

// next derives the key after a KeyUpdate (RFC 8446 section 7.2).
func (k *recordKey) next() (*recordKey, error) {
	draft := uint16(0)
	if k.noAAD {
		draft = 1
	}
	return key13(k.s, expandLabel(k.s.hash, k.secret, "traffic upd", nil, len(k.secret)), draft)
}

// open decrypts one record's payload (after the 5-byte header hdr) as
// record number seq, into dst. For TLS 1.3 the result still has the inner
// content type and padding at its end.
func (k *recordKey) open(dst []byte, hdr [5]byte, payload []byte, seq uint64) ([]byte, error) {
	if k.cbc != nil {
		return k.openCBC(dst, hdr, payload, seq)
	}
	var nonce [12]byte
	en := k.s.explicitNonceLen()
	if len(payload) < en+k.aead.Overhead() {
		return nil, errShort
	}
	if en > 0 {
		copy(nonce[:], k.iv)
		copy(nonce[4:], payload[:en])
		payload = payload[en:]
	} else {
		copy(nonce[:], k.iv)
		var s [8]byte
		binary.BigEndian.PutUint64(s[:], seq)
		for i := range s {
			nonce[4+i] ^= s[i]
		}
	}
	var ad []byte
	var adBuf [13]byte
	switch {
	case k.s.tls13 && k.noAAD:
	case k.s.tls13:
		ad = hdr[:]
	default:
		// seq_num || type || version || length of the plaintext
		binary.BigEndian.PutUint64(adBuf[:], seq)
		adBuf[8], adBuf[9], adBuf[10] = hdr[0], hdr[1], hdr[2]
		binary.BigEndian.PutUint16(adBuf[11:], uint16(len(payload)-k.aead.Overhead()))
		ad = adBuf[:]
	}
	return k.aead.Open(dst[:0], nonce[:], payload, ad)
}

type constError string

func (e constError) Error() string { return string(e) }

const errShort = constError("record shorter than the AEAD overhead")
