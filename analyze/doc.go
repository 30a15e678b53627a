// Package analyze runs the analysis: it finds each segment's connection,
// numbers connections as tshark's tcp.stream, runs the stages on each
// segment in order (the TCP tracker of package tcp, then the verdict's
// per-segment facts, the events, the application analysis), and builds the
// model.Report that package report renders. It never prints.
//
// An Analyzer keeps a table of connections keyed by 4-tuple; each conn
// has a tcp.Conn and, per sending side, the later stages' state. The sides are "A" (the sender of
// the first segment seen) and "B" until Report maps them to client and
// server, because the evidence for the roles (a SYN, an HTTP/2 preface, a
// port) may come later than the first segment and nothing is buffered.
//
// The TCP classification is package tcp's (Wireshark 4.0.17's
// tcp_analyze_sequence_number, rule for rule): a conn holds a tcp.Conn and
// runs the later stages after it, in order, on each segment. A SYN with a
// new ISN on a known 4-tuple starts a new tcp.stream whatever state the old
// one is in. The tests check all of it against tshark: every capture under
// testdata/pcaps (TestOracle), the hand-built cases (TestRulesAgainstTshark)
// and generated noisy conversations (TestRandomAgainstTshark).
//
// Counters are exact; events are kept up to Options.MaxEventsPerConn per
// connection, one per analysis flag (the retransmission family as its most
// specific kind), plus RST and FIN. Window updates are only counted.
//
// HTTP/2 (h2*.go) rides on the tracker without changing it: every segment
// goes on to its connection's h2conn, where a reassembler per side turns
// segments into the in-order byte stream (retransmitted bytes once, out of
// order ones held until the hole fills, bounded; holes never filled become
// gaps) for a decode/h2 Stream. A connection is HTTP/2 by its preface, an
// h2c upgrade, frame sync (a capture begun mid-connection) or
// Options.H2Ports; a connection that starts with TLS records goes through
// a tls.Conn (tls.go), whose plaintext, given Options.Keys or a pcapng's
// secrets, is judged the same way. The frames feed PING matching,
// GOAWAY and RST_STREAM records, a bounded stream table, flow-control
// windows and the health-check inference, all kept by side until Report
// builds Connection.HTTP2. TestH2FramesTshark holds the frame counts to
// tshark's on every cleartext capture.
//
// With Options.OnNotice, the analysis also tells what connections do as
// it happens (notice.go, notice_track.go): hooks at the few places
// something happens (a close, a PING ACK, a GOAWAY, a retransmission),
// and a scan of the open connections every 250 ms of capture time (on a
// segment, or on Tick when a live capture is quiet) for what only time
// shows (a PING given up on without a visible close, silence). What the
// verdicts find at the first Report that no notice told is told then, so
// that a live capture's lines and its report agree. Without OnNotice each
// hook is one nil test.
//
// With Options.ForgetHealthy (h2pcap live) a connection closed and quiet
// for that long is judged at once and, if healthy, dropped into the
// summary's counts (forget.go): memory follows the open and troubled
// connections of a capture that runs for days.
package analyze
