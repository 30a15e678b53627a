// Package synth writes synthetic captures of many connections: the
// shapes a busy API server's node, a reconnect storm, a SYN flood or a
// scan produce, at counts a lab run cannot make in reasonable time. It
// feeds bench/gen (make bench) and the per-connection memory benchmarks.
//
// It never simulates faults the lab can make for real, and no verdict
// test rests on it: truth comes from the lab's real traffic.
//
// Every packet is Ethernet/IPv4/TCP with valid checksums. "short",
// "open", "ping" and "keepalive" (idle connections answering a PING every
// 5 s) write their HTTP/2 with x/net's Framer and HPACK
// encoder; "tls" runs a real crypto/tls + x/net/http2 client and server
// over in-memory pipes and records what each side wrote, so its TLS
// decrypts with the key log. Connections overlap (Config.Open at a time,
// started at Config.Rate a second), as on a busy node.
package synth
