// Package analyze runs the analysis: it finds each segment's connection,
// numbers connections as tshark's tcp.stream, runs the stages on each
// segment in order (the TCP tracker of package tcp, then the verdict's
// per-segment facts, the events, the application analysis), and builds the
// model.Report that package report renders. It never prints.
//
// An Analyzer keeps a table of connections keyed by 4-tuple; each conn
// has a tcp.Conn, a verdict.Tracker and an app.State. The sides are 0 (the
// sender of the first segment seen) and 1 until Report maps them to client
// and server, because the evidence for the roles (a SYN, an HTTP/2 preface, a
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
// HTTP/2 and TLS are package app's: each conn runs an app.State after
// its TCP tracker, and is its app.Host. TestH2FramesTshark holds the frame
// counts to tshark's on every cleartext capture.
//
// With Options.OnNotice, the analysis also tells what connections do as
// it happens (package notice; model.Notice): hooks at the few places
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
//
// With Options.Workers (h2pcap analyze --workers, one by default)
// each connection's stages, the judging of the closed ones and the
// Report's rows run on that many goroutines, a connection on one, while
// the caller's goroutine decodes and keeps what is whole-capture in
// capture order (stream numbers, closes, the sweeps, the summary): the
// Report is the same bytes as with one goroutine (shard.go).
package analyze
