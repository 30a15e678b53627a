package analyze

// Sequence-space comparisons, exactly as Wireshark's packet-tcp.h defines
// GT_SEQ, LT_SEQ and LE_SEQ: the difference is taken modulo 2^32 and read as
// signed, so a comparison stays right across a wrap of the sequence space.

func seqGT(x, y uint32) bool { return int32(y-x) < 0 }
func seqLT(x, y uint32) bool { return int32(x-y) < 0 }
func seqLE(x, y uint32) bool { return int32(x-y) <= 0 }

// sinceNS returns now-then as Wireshark computes a time difference into a
// guint64 in tcp_analyze_sequence_number: a negative difference (time going
// backwards in the capture) wraps to a huge value and so is never "less than"
// a threshold.
func sinceNS(now, then int64) uint64 { return uint64(now - then) }
