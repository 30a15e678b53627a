package tls

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"hash"
)

// CBC suites: AES-CBC with HMAC, TLS 1.0 to 1.2. Not what Kubernetes
// components negotiate, but older captures (and Wireshark's dhe1 sample)
// use them. They have no fixed overhead (padding), so no record size is
// known for them (Overhead says false).
type cbcSuite struct {
	id     uint16
	name   string
	keyLen int
	mac    func() hash.Hash
	prf    func() hash.Hash // TLS 1.2 PRF hash
}

var cbcSuites = map[uint16]cbcSuite{
	0x002f: {0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA", 16, sha1.New, sha256.New},
	0x0035: {0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", 32, sha1.New, sha256.New},
	0x0033: {0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", 16, sha1.New, sha256.New},
	0x0039: {0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", 32, sha1.New, sha256.New},
	0xc009: {0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", 16, sha1.New, sha256.New},
	0xc00a: {0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", 32, sha1.New, sha256.New},
	0xc013: {0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", 16, sha1.New, sha256.New},
	0xc014: {0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", 32, sha1.New, sha256.New},
	0x003c: {0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256", 16, sha256.New, sha256.New},
	0x003d: {0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256", 32, sha256.New, sha256.New},
	0xc023: {0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", 16, sha256.New, sha256.New},
	0xc027: {0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", 16, sha256.New, sha256.New},
	0xc024: {0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", 32, sha512.New384, sha512.New384},
	0xc028: {0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", 32, sha512.New384, sha512.New384},
}

// cbcState is the part of a recordKey for a CBC suite.
type cbcState struct {
	block  cipher.Block
	mac    func() hash.Hash
	macKey []byte
	// iv: TLS 1.0 chains records, each one's IV the last ciphertext block
	// of the one before; TLS 1.1 and later send it in each record.
	iv      []byte
	chained bool
	macBuf  []byte
}

// prf10 is the TLS 1.0 and 1.1 PRF: P_MD5 over the first half of the
// secret XORed with P_SHA1 over the second (RFC 2246 section 5).
func prf10(secret []byte, label string, seed []byte, n int) []byte {
	half := (len(secret) + 1) / 2
	a := prf12(md5.New, secret[:half], label, seed, n)
	b := prf12(sha1.New, secret[len(secret)-half:], label, seed, n)
	for i := range a {
		a[i] ^= b[i]
	}
	return a
}

// keysCBC derives both directions' keys for a CBC suite: the key block is
// the MAC keys, the encryption keys, then (TLS 1.0) the IVs.
func keysCBC(cs cbcSuite, version uint16, master []byte, clientRandom, serverRandom [32]byte) (client, server *recordKey, err error) {
	seed := append(serverRandom[:], clientRandom[:]...)
	macLen := cs.mac().Size()
	n := 2*macLen + 2*cs.keyLen + 2*aes.BlockSize
	var kb []byte
	if version >= VersionTLS12 {
		kb = prf12(cs.prf, master, "key expansion", seed, n)
	} else {
		kb = prf10(master, "key expansion", seed, n)
	}
	mk := func(mac, key, iv []byte) (*recordKey, error) {
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cs.name, err)
		}
		st := &cbcState{block: b, mac: cs.mac, macKey: mac, chained: version < VersionTLS11}
		if st.chained {
			st.iv = append([]byte(nil), iv...)
		}
		return &recordKey{s: suite{id: cs.id, name: cs.name}, cbc: st}, nil
	}
	o := 2 * macLen
	if client, err = mk(kb[:macLen], kb[o:o+cs.keyLen], kb[o+2*cs.keyLen:o+2*cs.keyLen+16]); err != nil {
		return nil, nil, err
	}
	server, err = mk(kb[macLen:2*macLen], kb[o+cs.keyLen:o+2*cs.keyLen], kb[o+2*cs.keyLen+16:])
	return client, server, err
}

// openCBC decrypts a CBC record and checks its MAC as record seq: the MAC
// is what says the sequence number was the right one.
func (k *recordKey) openCBC(dst []byte, hdr [5]byte, payload []byte, seq uint64) ([]byte, error) {
	st := k.cbc
	bs := st.block.BlockSize()
	iv := st.iv
	if !st.chained {
		if len(payload) < bs {
			return nil, errShort
		}
		iv, payload = payload[:bs], payload[bs:]
	}
	if len(payload) == 0 || len(payload)%bs != 0 {
		return nil, errShort
	}
	pt := append(dst[:0], payload...)
	cipher.NewCBCDecrypter(st.block, iv).CryptBlocks(pt, pt)
	pad := int(pt[len(pt)-1])
	macLen := st.mac().Size()
	if pad+1+macLen > len(pt) {
		return nil, errBadRecord
	}
	content := pt[:len(pt)-pad-1-macLen]
	got := pt[len(content) : len(content)+macLen]
	m := hmac.New(st.mac, st.macKey)
	var ad [13]byte
	binary.BigEndian.PutUint64(ad[:], seq)
	ad[8], ad[9], ad[10] = hdr[0], hdr[1], hdr[2]
	binary.BigEndian.PutUint16(ad[11:], uint16(len(content)))
	m.Write(ad[:])
	m.Write(content)
	if !hmac.Equal(m.Sum(st.macBuf[:0]), got) {
		return nil, errBadRecord
	}
	return content, nil
}

// endRecord advances the TLS 1.0 IV chain past a record, whether it
// decrypted or not: the next record's IV is this one's last block.
func (k *recordKey) endRecord(payload []byte) {
	if st := k.cbc; st != nil && st.chained && len(payload) >= aes.BlockSize {
		st.iv = append(st.iv[:0], payload[len(payload)-aes.BlockSize:]...)
	}
}

const errBadRecord = constError("bad record MAC")
