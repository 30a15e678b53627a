// Package oracle gives tests the reference they check h2pcap against:
// Wireshark's tshark. It is imported only by tests.
//
// tshark is the slow part of the tests, and most of its runs repeat: the
// same captures with the same options on every `go test`. Run and Fields
// keep each run's output on disk, keyed by everything the output depends
// on, so that tshark runs once per capture and pass until a capture,
// tshark or the options change.
//
// It never changes what a test compares: a cached run is the run itself,
// byte for byte, and only a run that succeeded is kept.
package oracle
