// Command h2pcap explains why HTTP/2 connections in a packet capture died
// and where their packets were lost.
//
//	h2pcap analyze [flags] FILE...   analyse capture files (- for standard input)
//	h2pcap demo [flags]              analyse the sample capture built into the binary
//	h2pcap live -i IFACE [flags]     capture live, then report as analyze does
//	h2pcap version                   the version and commit (also --version, -V)
//
// This package is wiring only: flags, exit codes, signals, files and the
// live capture's console; it never analyses or renders anything itself.
package main
