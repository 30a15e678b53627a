package tls

// Record sizes for inference without keys.
//
// An AEAD adds a fixed number of bytes to what it protects, so a record
// carrying a fixed-size message has a fixed length on the wire. An HTTP/2
// PING (and PING ACK) frame is always 17 bytes (9 of header, 8 of data),
// and the Go, gRPC and nghttp2 stacks send it in a record of its own after
// an idle period: its record length says "PING" without the key.
//
//	TLS 1.3, any AEAD suite:  5 header + 17 + 1 inner type + 16 tag      = 39
//	TLS 1.2 AES-GCM:          5 header + 8 explicit nonce + 17 + 16 tag  = 46
//	TLS 1.2 ChaCha20-Poly1305: 5 header + 17 + 16 tag                     = 38
//
// A TLS 1.3 alert (2 bytes) is 5 + 2 + 1 + 16 = 24 bytes on the wire: a
// close_notify at the end of a connection is an application_data record of
// payload length 19. These assume no TLS 1.3 record padding, which Go's
// crypto/tls, BoringSSL and OpenSSL do not add by default.
//
// Measured (TestRecordSizes decrypts every HTTP/2 TLS capture in testdata
// and checks the wire length of every record whose plaintext is exactly
// one PING frame, and of every alert; TestCryptoTLS does the same over
// crypto/tls for the suites no capture has):
//
//	TLS 1.3 TLS_AES_128_GCM_SHA256 (lab, Go): PING records 39 (blackhole-s2c-tls 4, mtu-blackhole 1), alerts 24
//	TLS 1.3 TLS_CHACHA20_POLY1305_SHA256 (lab midconn-tls, no handshake): PING records 39 (8), alerts 24
//	TLS 1.2 ECDHE_ECDSA_AES_128_GCM_SHA256 (lab blackhole-s2c-tls12-gcm): PING records 46 (8), alerts 31
//	TLS 1.2 ECDHE_ECDSA_CHACHA20_POLY1305_SHA256 (lab blackhole-s2c-tls12-chacha): PING records 38 (8), alerts 23
//	TLS 1.2 ECDHE_RSA_AES_128_GCM_SHA256 (http2_follow_multistream, Cloudflare): PING records 46 (6), alert 31
//	TLS 1.2 AES-256-GCM-SHA384, ChaCha20-Poly1305 (crypto/tls): 46 and 38, alerts 31 and 23
//
// Every PING and PING ACK frame in these captures is alone in its record.
// The size alone is not proof: a GOAWAY without debug data is also 17
// bytes (9 + last stream ID + error code), and each lab connection that
// ends with GOAWAY has one record of PING size that is not a PING
// (graceful-shutdown: 4, healthy-tls: 2, blackhole-s2c-tls: 1). An
// inference must also use what follows: a PING ACK of the same size from
// the peer about one RTT later, where a GOAWAY is followed by the end of
// the connection.

const (
	// PingFrameLen is the length of an HTTP/2 PING frame: 9 header + 8 data.
	PingFrameLen = 17
	// closeNotify13Payload is the payload length of an encrypted TLS 1.3 alert.
	closeNotify13Payload = 2 + 1 + 16
)

// Overhead returns how many bytes a record of the version and suite adds
// to its plaintext, header included, and false when the suite is not an
// AEAD suite known here.
func Overhead(version, cipherSuite uint16) (int, bool) {
	s, ok := suites[cipherSuite]
	if !ok {
		return 0, false
	}
	if isTLS13(version) != s.tls13 {
		return 0, false
	}
	n := recordHeaderLen + 16 + s.explicitNonceLen()
	if s.tls13 {
		n++ // inner content type
	}
	return n, true
}

// WireLen returns the on-the-wire length (header included) of a record
// carrying n bytes of plaintext, without padding.
func WireLen(version, cipherSuite uint16, n int) (int, bool) {
	ov, ok := Overhead(version, cipherSuite)
	return n + ov, ok
}

// PingRecordLen returns the on-the-wire length of a record carrying exactly
// one HTTP/2 PING frame: 39 for TLS 1.3, 46 for TLS 1.2 AES-GCM, 38 for
// TLS 1.2 ChaCha20-Poly1305.
func PingRecordLen(version, cipherSuite uint16) (int, bool) {
	return WireLen(version, cipherSuite, PingFrameLen)
}

// CloseNotifyRecordLen returns the on-the-wire length of an encrypted
// alert record (24 in TLS 1.3, 31 in TLS 1.2 AES-GCM, 23 in TLS 1.2
// ChaCha20-Poly1305).
func CloseNotifyRecordLen(version, cipherSuite uint16) (int, bool) {
	return WireLen(version, cipherSuite, 2)
}
