// Package h2 turns one direction of a TCP connection's payload into HTTP/2
// frame events.
//
// It owns everything between the in-order TCP byte stream of one direction
// (delivered by package analyze's tracker, with the gaps the capture never
// had) and a typed frame: the client connection preface, the HTTP/1.1
// "Upgrade: h2c" exchange, the 9-byte frame header, the payloads of the
// control frames, and HPACK decoding of the header fields an explanation
// needs (:method, :path, :authority, :status, grpc-status, ...). It does no
// TCP, no TLS, and no judgement: which PING went unanswered and why a
// connection died is package analyze's business.
//
// Use, per direction of a connection:
//
//	s := h2.NewStream(h2.Options{Client: fromClient})
//	s.Data(payload, h2.Meta{Input: in, Frame: n, Time: t}, emit) // bytes that became in order, with the segment that delivered them
//	s.Gap(missing, emit)                                           // bytes the capture never had
//	s.End(emit)                                                    // FIN, RST or end of capture
//
// and when a direction's SETTINGS frame (not an ACK) is emitted, pass it to
// the other direction's Stream: other.PeerSettings(f.Settings). A peer's
// SETTINGS_MAX_FRAME_SIZE is what bounds the frames sent to it.
//
// Frames are attributed to the segment whose bytes complete them (Meta), as
// Wireshark shows a reassembled PDU in its last segment, and to the segment
// holding their first byte (First). To agree with tshark's
// reassemble_out_of_order, bytes that waited for a retransmission to fill
// a hole should be delivered with the Meta of the segment that filled it.
//
// A capture rarely holds a connection from its first byte, and loses
// segments. So a Stream finds frame boundaries again on its own: after a
// gap it stays in step when the gap's length lets it (the gap fell inside a
// frame), and otherwise searches for a chain of plausible frame headers
// (see the hunt method for the rules and the trade-off between latency and
// false sync). Skipped counts the bytes searched past. The HPACK dynamic
// table is rebuilt the same way: fields that refer to entries added before
// the capture began, or in a gap, are reported missing (Frame.Partial)
// rather than decoded wrongly.
//
// Memory per Stream is bounded: one control-frame payload of at most the
// peer's SETTINGS_MAX_FRAME_SIZE (16 KiB unless told, at most 16 MiB; DATA
// payloads are never buffered), a search window of about two such frames
// and 1024 candidate chains, an HPACK table capped at 64 KiB, and at most 16
// kept header fields per block. In step, a DATA frame costs no allocation.
package h2
