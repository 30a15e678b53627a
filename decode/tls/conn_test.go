package tls

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	stdtls "crypto/tls"
)

// seal13 builds a TLS 1.3 record: content of type inner, encrypted under k
// as record seq.
func seal13(k *recordKey, seq uint64, inner RecordType, content []byte) []byte {
	pt := append(append([]byte(nil), content...), byte(inner))
	hdr := []byte{byte(RecordTypeApplicationData), 3, 3, 0, 0}
	binary.BigEndian.PutUint16(hdr[3:], uint16(len(pt)+k.aead.Overhead()))
	var nonce [12]byte
	copy(nonce[:], k.iv)
	var s [8]byte
	binary.BigEndian.PutUint64(s[:], seq)
	for i := range s {
		nonce[4+i] ^= s[i]
	}
	return k.aead.Seal(hdr, nonce[:], pt, hdr)
}

// TestKeyUpdate: a KeyUpdate switches the direction to the next traffic
// secret; when the record carrying it is lost, the next key is found by
// trial. The connection has no handshake in the capture: its secret is
// found in the key log.
func TestKeyUpdate(t *testing.T) {
	secret := bytes.Repeat([]byte{0x22}, 32)
	keys, err := ParseKeyLog(strings.NewReader("SERVER_TRAFFIC_SECRET_0 " + strings.Repeat("ab", 32) + " " + hex.EncodeToString(secret)))
	if err != nil {
		t.Fatal(err)
	}
	k0, _ := key13(suites[TLS_AES_128_GCM_SHA256], secret, 0)
	k1, _ := k0.next()
	keyUpdate := []byte{typeKeyUpdate, 0, 0, 1, 0}
	recs := [][]byte{
		seal13(k0, 40, RecordTypeApplicationData, pingFrame(false)),
		seal13(k0, 41, RecordTypeApplicationData, []byte("before")),
		seal13(k0, 42, RecordTypeHandshake, keyUpdate),
		seal13(k1, 0, RecordTypeApplicationData, []byte("after")),
		seal13(k1, 1, RecordTypeApplicationData, []byte("after again")),
	}
	for _, lose := range []int{-1, 2} {
		var got []string
		c := NewConn(Config{Keys: keys, AppData: func(fromClient bool, b []byte, m Meta) { got = append(got, string(b)) }})
		for i, r := range recs {
			if i == lose {
				c.Gap(false, len(r))
				continue
			}
			c.Data(false, r, Meta{Frame: i + 1})
		}
		want := "[" + string(pingFrame(false)) + " before after after again]"
		if g := "[" + strings.Join(got, " ") + "]"; g != want {
			t.Errorf("lose %d: got %q", lose, g)
		}
		if !c.Info().MidStart || c.Info().CipherSuite != TLS_AES_128_GCM_SHA256 {
			t.Errorf("info %+v", c.Info())
		}
	}
}

// TestHandshakeAcrossRecords: a ClientHello split over three records, and
// a ServerHello and other messages sharing one, parse the same.
func TestHandshakeAcrossRecords(t *testing.T) {
	events, keylog := converse(t, selfSigned(t), stdtls.VersionTLS12, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256)
	keys, err := ParseKeyLog(keylog)
	if err != nil {
		t.Fatal(err)
	}
	first := events[0].b // the ClientHello record
	if !events[0].fromClient || first[0] != byte(RecordTypeHandshake) || first[5] != typeClientHello {
		t.Fatalf("first write % x", first[:6])
	}
	msg := first[5:]
	var split []byte
	for _, part := range [][]byte{msg[:2], msg[2:40], msg[40:]} {
		h := []byte{byte(RecordTypeHandshake), 3, 1, 0, 0}
		binary.BigEndian.PutUint16(h[3:], uint16(len(part)))
		split = append(append(split, h...), part...)
	}
	var plain []byte
	var hs []uint8
	c := NewConn(Config{Keys: keys,
		AppData:   func(fromClient bool, b []byte, m Meta) { plain = append(plain, b...) },
		Handshake: func(fromClient bool, typ uint8, body []byte, m Meta) { hs = append(hs, typ) },
	})
	c.Data(true, split, Meta{})
	for _, e := range events[1:] {
		c.Data(e.fromClient, e.b, Meta{})
	}
	info := c.Info()
	ch := info.ClientHello
	if ch == nil || ch.ServerName != "h2lab.test" || len(ch.ALPN) != 1 || ch.ALPN[0] != "h2" || len(ch.SupportedVersions) == 0 {
		t.Fatalf("ClientHello %+v", ch)
	}
	if info.ServerHello == nil || info.ServerHello.SelectedVersion() != VersionTLS12 || info.ALPN != "h2" {
		t.Fatalf("ServerHello %+v, ALPN %q", info.ServerHello, info.ALPN)
	}
	if !bytes.Contains(plain, pingFrame(true)) {
		t.Fatalf("not decrypted: %q", plain)
	}
	// ClientHello, ServerHello, Certificate, ServerKeyExchange,
	// ServerHelloDone, ClientKeyExchange, then each side's Finished.
	if len(hs) < 7 || hs[0] != typeClientHello || hs[1] != typeServerHello {
		t.Fatalf("handshake messages %v", hs)
	}
}

// TestKeyless: without a key log the records and the cleartext handshake
// are still followed, the connection says it has no key, and TLS 1.3
// alerts are guessed from their size.
func TestKeyless(t *testing.T) {
	var pings39, guessed, truth, sized int
	for _, stream := range []string{"0", "2"} { // the black-holed connection, and the redial that closes cleanly
		tc, keys := labConn(t, "blackhole-s2c-tls/client.pcap", stream)
		c := NewConn(Config{
			Record: func(fromClient bool, r *Record, p *Plain) {
				if r.Type == RecordTypeApplicationData && r.WireLen() == 39 {
					pings39++
				}
			},
			Alert: func(fromClient bool, a Alert) {
				if a.Guessed {
					guessed++
				}
			},
		})
		feed(tc, c, nil)
		info := c.Info()
		if info.KeyProblem() != "no key log" || info.Version != VersionTLS13 || info.ClientHello.ServerName != "h2lab.test" {
			t.Fatalf("%q %s %+v", info.KeyProblem(), versionName(info.Version), info.ClientHello)
		}
		// With the keys: which 39-byte records are PINGs.
		c = NewConn(Config{Keys: keys, Record: func(fromClient bool, r *Record, p *Plain) {
			isPing := p.Decrypted && p.Content == RecordTypeApplicationData && len(p.Data) == PingFrameLen && p.Data[3] == 6
			if isPing {
				truth++
			}
			if isPing && r.WireLen() == 39 {
				sized++
			}
		}})
		feed(tc, c, nil)
	}
	if guessed != 2 || pings39 < truth || sized != truth || truth == 0 {
		t.Errorf("guessed alerts %d; 39-byte records %d, PING records %d, of 39 bytes %d", guessed, pings39, truth, sized)
	}
	t.Logf("keyless: %d records of 39 bytes (%d are PINGs or PING ACKs), %d alerts guessed from size", pings39, truth, guessed)
}

// TestLongGap: a gap that took more records than SeqWindow is crossed on
// the first small record after it, the search widened by the bytes lost.
func TestLongGap(t *testing.T) {
	secret := bytes.Repeat([]byte{0x33}, 32)
	keys, _ := ParseKeyLog(strings.NewReader("CLIENT_TRAFFIC_SECRET_0 " + strings.Repeat("cd", 32) + " " + hex.EncodeToString(secret)))
	k, _ := key13(suites[TLS_AES_128_GCM_SHA256], secret, 0)
	var got []string
	c := NewConn(Config{Keys: keys, AppData: func(fromClient bool, b []byte, m Meta) { got = append(got, string(b)) }})
	c.Data(true, seal13(k, 2, RecordTypeApplicationData, []byte("first")), Meta{})
	c.Data(true, seal13(k, 3, RecordTypeApplicationData, []byte("second")), Meta{})
	lost := 0
	for s := uint64(4); s < 504; s++ {
		lost += len(seal13(k, s, RecordTypeApplicationData, pingFrame(false)))
	}
	c.Gap(true, lost)
	for s := uint64(504); s < 507; s++ {
		c.Data(true, seal13(k, s, RecordTypeApplicationData, []byte(fmt.Sprint("after ", s))), Meta{})
	}
	c.End(true)
	if g := strings.Join(got, ","); g != "first,second,after 504,after 505,after 506" {
		t.Fatalf("got %q", g)
	}
}
