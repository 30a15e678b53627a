// Package hops compares what several capture points saw of the same TCP
// connections and places each loss between two adjacent points (issue 13:
// "which hop lost it").
//
// It owns: matching connections across points (the client's ISN, which a
// NAT keeps; else the 4-tuple; a mid-connection capture behind a NAT by
// both directions' sequence numbers and TCP timestamps; behind a NAT and
// a SYN proxy, by its bytes: content.go), ordering the
// points along each flow's path (TTLs, then which point sees a packet
// first both ways, so the clocks' offset cancels), estimating each
// point's clock offset (and, before the points are read together, a
// first estimate from their first packets, so that a capture whose clock
// is seconds off is compared on the others' clock: clock.go), and comparing the copies of each byte range (and
// pure ACKs by IPv4 ID) point by point once acknowledged everywhere, so
// TSO, GSO and GRO cutting the same bytes differently change nothing;
// telling what a point's capture missed from what the network lost
// (gaps.go; a copy a point further along the path saw went through the
// point that lacks it: pastLoss), and what was lost while a point between
// was not capturing (unplacedLoss: between the points either side of
// it); and, for one box's interfaces, which are the box's own
// connections and what it dropped, told as found (box.go).
//
// It never counts what each point saw: every point keeps its own
// analyze.Analyzer, with Wireshark's counters for its own file. It never
// renders: model.Placement and model.Hop are its results, report draws
// them. Memory follows the open connections times the points: a range is
// dropped once compared (on a busy connection with TCP timestamps, within
// a round trip of its ACK: guard.go), and a connection retired with nothing to place
// is packed in a few dozen bytes (compact.go) until Finish.
package hops
