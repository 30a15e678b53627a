// Package evidence keeps the last packets of a live capture in memory, in a
// ring bounded by bytes, so that when a connection goes wrong its packets
// can be written out after the fact: a capture can run for days and keep
// only what matters.
//
// It owns the ring and nothing else: it never decodes a packet, never
// decides what to keep (the live command asks for a connection's packets)
// and never writes a file.
package evidence
