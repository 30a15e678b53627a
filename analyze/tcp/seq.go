package tcp

// Seq is a TCP sequence number. Comparisons are Wireshark's GT_SEQ, LT_SEQ
// and LE_SEQ from packet-tcp.h: the difference is taken modulo 2^32 and
// read as signed, so a comparison stays right across a wrap of the
// sequence space. A bare < on two Seqs is a bug; these methods say which
// comparison is meant (gVisor's seqnum.Value does the same).
type Seq uint32

// LessThan reports whether s comes before t.
func (s Seq) LessThan(t Seq) bool { return int32(s-t) < 0 }

// LessThanEq reports whether s comes before t or is t.
func (s Seq) LessThanEq(t Seq) bool { return int32(s-t) <= 0 }

// GreaterThan reports whether s comes after t.
func (s Seq) GreaterThan(t Seq) bool { return int32(t-s) < 0 }

// Add returns s moved forward by n bytes.
func (s Seq) Add(n uint32) Seq { return s + Seq(n) }

// Sub returns s moved back by n bytes.
func (s Seq) Sub(n uint32) Seq { return s - Seq(n) }

// Size returns the number of bytes from s up to t.
func (s Seq) Size(t Seq) uint32 { return uint32(t - s) }

// sinceNS returns now-then as Wireshark computes a time difference into a
// guint64 in tcp_analyze_sequence_number: a negative difference (time going
// backwards in the capture) wraps to a huge value and so is never "less than"
// a threshold.
func sinceNS(now, then int64) uint64 { return uint64(now - then) }
