// Package notice is the streaming stage of the analysis, for h2pcap live:
// it tells what connections do as it happens, as model.Notices (a lost or
// late PING, a GOAWAY, an RST that ended a connection, a retransmission
// burst, a connection gone silent, a connection its client abandoned,
// told as the redial opens), so that a live capture can print a
// finding at once, count it in its metrics and save its evidence.
//
// package analyze calls a Noticer at the few places something happens (a
// connection opened or closed, a segment after the other stages took it, a
// PING ACK or GOAWAY decoded) and on Tick; time-driven findings are found
// by scanning the open connections every scanEvery of capture time. At the
// first Report, Reconcile tells what the verdicts found that no notice
// told, so that a live capture's lines and its report agree.
//
// It owns the notices and the per-connection State they need, and nothing
// else: it reads a connection only through Conn (the earlier stages'
// state through their own methods), judges a connection only through the
// verdict stage's rules (Conn.JudgeTCP), and never prints.
package notice
