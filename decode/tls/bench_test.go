package tls

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

// BenchmarkConnDecrypt: TLS 1.3 AES-128-GCM application data in full
// records, cut in 1448-byte segments, as a bulk transfer arrives.
func BenchmarkConnDecrypt(b *testing.B) {
	secret := bytes.Repeat([]byte{0x44}, 32)
	keys, _ := ParseKeyLog(strings.NewReader("SERVER_TRAFFIC_SECRET_0 " + strings.Repeat("ef", 32) + " " + hex.EncodeToString(secret)))
	k, _ := key13(suites[TLS_AES_128_GCM_SHA256], secret, 0)
	var stream []byte
	const n = 64
	for s := uint64(0); s < n; s++ {
		stream = append(stream, seal13(k, s, RecordTypeApplicationData, make([]byte, 16384))...)
	}
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		var got int
		c := NewConn(Config{Keys: keys, AppData: func(fromClient bool, d []byte, m Meta) { got += len(d) }})
		for rest := stream; len(rest) > 0; {
			m := min(len(rest), 1448)
			c.Data(false, rest[:m], Meta{})
			rest = rest[m:]
		}
		c.End(false)
		if got != n*16384 {
			b.Fatalf("decrypted %d", got)
		}
	}
}
