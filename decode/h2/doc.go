// Package h2 turns one direction of a TCP connection's payload into HTTP/2
// frame events.
//
// It owns everything between the in-order TCP byte stream of one direction
// (delivered by package analyze's tracker, with the gaps the capture never
// had) and a typed frame: the client connection preface, the HTTP/1.1
// "Upgrade: h2c" exchange, the 9-byte frame header, the payloads of the
// control frames, and HPACK decoding of the header fields an explanation
// needs (:method, :path, :authority, :status, grpc-status, ...).
//
// A capture rarely holds a connection from its first byte, and loses
// segments. So a Stream finds frame boundaries again on its own: after a
// gap it stays in step when the gap's length lets it (the gap fell inside a
// frame's payload), and otherwise hunts for a chain of plausible frame
// headers (see the comment on Stream.hunt). The HPACK dynamic table is
// rebuilt the same way: fields that refer to entries added before the
// capture started, or during a gap, are reported as missing (Frame.Partial)
// rather than decoded wrongly.
//
// It does no TCP, no TLS, and no judgement: which PING went unanswered and
// why a connection died is package analyze's business. Memory per Stream is
// bounded: one frame payload of at most the peer's SETTINGS_MAX_FRAME_SIZE
// (DATA payloads are never buffered), a capped HPACK table, and a capped
// resynchronisation window.
package h2
