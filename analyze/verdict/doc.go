// Package verdict is the judgement: what became of each connection, where
// its packets were lost, where the capture was taken, and the summary
// across connections.
//
// It has two halves. The Tracker runs per segment, after the TCP tracker
// (package tcp), and keeps a few fixed-size facts per side that the
// counters and events do not carry (TTLs and IP ID runs, holes the capture
// never saw, when each side's ACK last moved, the first FIN and RST). At
// Report time, Judge is a pure function of a model.Connection and those
// Facts: tests build both by hand. JudgeReport judges a whole Report and
// Summarize writes its headline and per-path table. Every threshold is in
// rules.go with the reason for its value.
//
// It owns the judgement and nothing before it: it never changes the TCP
// tracker's state (it reads a tcp.Flow through its methods), never decodes
// payload (HTTP/2 and TLS facts come in the model.Connection) and never
// renders: its sentences go into the model for package report to print.
package verdict
