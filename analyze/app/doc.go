// Package app is the application stage of the analysis: a connection's
// in-order bytes per side (reassembled from the TCP segments, holes never
// filled becoming gaps) -> TLS records (decrypted with a key log, or sized
// for the keyless PING inference) -> HTTP/2 frames (decode/h2) -> PINGs
// matched to their ACKs, GOAWAYs, RST_STREAMs, streams, flow-control
// windows and the health-check inference; and which side is the client
// (Roles), from the handshake, the first payloads or the ports.
//
// A State runs per connection: Segment takes every segment after the TCP
// tracker classified it, Finish ends the decoding, HTTP2 and TLS build the
// model's sections. A connection that closed cleanly (both FINs, every
// byte before them decoded) ends its decoding at once and releases its
// decoders, keeping what the report reads of them (release.go). What it needs of the connection it asks its Host
// (which side is the client, the handshake's round trip) and it tells the
// Host of each PING ACK and GOAWAY as it is decoded; the live notices read
// its PINGs and GOAWAYs through Conn's methods.
//
// It owns the bytes and the frames and nothing else: it never changes the
// TCP tracker's state (it reads a tcp.Flow's start), never judges a
// connection and never renders. Memory is bounded per connection (see
// Conn).
package app
