// Package analyze holds the state machines and the judgement: it tracks
// each TCP connection per direction the way Wireshark 4.0 does, numbers
// connections as tshark's tcp.stream, and produces the Report that package
// report renders. It never prints.
package analyze
