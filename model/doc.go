// Package model is h2pcap's JSON contract, version 1: the Report and
// everything in it (Connection, Event, Verdict, Summary, HTTP2, TLS), the
// live Notices, and the named values its string fields take (verdict
// kinds, loss directions and locations, suspects, capture points). Field
// names and JSON tags are never renamed; later versions only add.
//
// It owns the shape of the result and nothing else: it never computes a
// verdict, never reads a packet and never renders. The analysis (package
// analyze and its stages) fills it; package report and report/metrics read
// only it. It imports decode for one type, decode.InputInfo, which the
// capture sources fill and the Report lists as its inputs.
package model
