// Package tcp is the first stage of the analysis: it tracks one TCP
// connection per direction the way Wireshark 4.0 does and says what it saw
// of each segment (its tcp.analysis Flags) and of the connection (a Flow
// per side: base and next sequence numbers, the handshake's options, the
// iRTT, the counters of model.DirStats).
//
// The classification is Wireshark 4.0.17's tcp_analyze_sequence_number,
// rule for rule and in its order (rules.go), including its conventions
// where they change results: a nextseq or lastack of 0 means "unknown",
// the dup-ACK counter is unsigned (its -1 passes the fast-retransmission
// test), time differences are unsigned, the window scale is unknown (-1)
// without a SYN and off (-2) unless both SYNs carry it, and a SYN or FIN
// adds its sequence number only while fewer than MaxUnacked segments are
// unacked. Sequence numbers are a type, Seq, whose comparisons wrap as
// Wireshark's GT_SEQ and LT_SEQ do.
//
// It owns the TCP state and nothing after it: it never looks at payload
// bytes, never names a client or a server (sides are 0 and 1, as the
// caller numbers them), never keeps events and never judges. A Conn knows
// nothing of the stages that read it; package analyze runs them after it,
// in order, and they read a Flow only through its methods. One Conn per
// connection per capture point: several points never share one.
package tcp
