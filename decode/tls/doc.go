// Package tls follows TLS connections in a capture: the record layer of
// each direction, the cleartext handshake, and, given an NSS key log,
// decryption of TLS 1.2 and TLS 1.3 AEAD records.
//
// It owns everything between one direction's in-order TCP payload
// (delivered by package analyze's tracker, with the gaps the capture never
// had) and the plaintext decode/h2 decodes: record boundaries (found again
// by search after a gap or at a capture that began mid-connection), the
// ClientHello and ServerHello (randoms, SNI, ALPN, versions, cipher suite),
// the key log (ParseKeyLog, pcapng Decryption Secrets Blocks via AddDSB),
// key derivation (the TLS 1.2 PRF, TLS 1.3's HKDF-Expand-Label), record
// decryption with sequence number recovery, and the record sizes that let
// an analysis recognise HTTP/2 PINGs without keys (sizes.go). It does no
// TCP, no HTTP/2 and no judgement.
//
// Use, per connection:
//
//	c := tls.NewConn(tls.Config{Keys: keys, AppData: toH2, AppGap: gapH2})
//	c.Data(fromClient, payload, meta) // both directions, in capture order
//	c.Gap(fromClient, missing)
//	c.End(fromClient)
//	c.Info()                          // version, suite, SNI, ALPN, key status
//
// or only the record layer of a direction with Records (Data, Gap, End with
// an emit callback, as decode/h2's Stream).
//
// Why it is not crypto/tls: crypto/tls is an endpoint. It wants both
// private keys or to be one side of the handshake, stops at the first bad
// record, and cannot start mid-connection or skip a lost segment. A
// passive decoder gets the secrets from a key log, and must go on after
// losses: a record cut by a gap is reported Truncated and its sequence
// number counted; after a gap that took whole records, the next few
// sequence numbers (Config.SeqWindow) are tried until the AEAD tag
// verifies, and in TLS 1.3 also the next key (a lost Finished or
// KeyUpdate). A TLS 1.3 connection whose handshake the capture lacks is
// tried against every secret in the key log (Config.MidStartWindow); TLS
// 1.2 cannot be, as its keys need the ServerHello's random.
//
// Decrypted: TLS 1.2 AES-GCM and ChaCha20-Poly1305 suites (any key
// exchange: the key log gives the master secret), TLS 1.3 TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384 and
// TLS_CHACHA20_POLY1305_SHA256 (and the drafts with the "tls13 " labels).
// TLS 1.3 0-RTT early data is decrypted with CLIENT_EARLY_TRAFFIC_SECRET.
// AES-CBC suites with HMAC-SHA1/256/384 (TLS 1.0 to 1.2) are decrypted
// too, for older captures; they have no fixed record overhead. Not: RC4,
// 3DES, CCM, and other rare suites (Info.Keys says KeyUnsupported). A connection whose key is
// missing says so with its client random (Info.KeyProblem).
//
// Memory per direction is bounded: at most about two records of buffer
// (the record being completed, or a search window), one plaintext record,
// and one kept handshake message of at most 64 KiB (ClientHello,
// ServerHello, EncryptedExtensions, Finished, KeyUpdate; others are
// counted, not kept).
package tls
