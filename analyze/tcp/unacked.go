package tcp

// MaxUnacked is Wireshark's TCP_MAX_UNACKED_SEGMENTS: a direction's list of
// unacknowledged segments stops growing at this many entries, and while it
// is full a SYN or FIN does not add its one sequence number to nextseq.
// That shows in one-sided captures (no ACKs seen): after 10000 segments a
// FIN leaves nextseq at its own seq, so tshark calls the next segment a
// lost segment rather than a retransmission.
const MaxUnacked = 10000

// unackedSet stands in for Wireshark's per-direction list of tcp_unacked_t.
// Only its length matters to the flags, so it keeps just the end (nextseq)
// of each segment, unwrapped to 64 bits, in a min-heap: an ACK removes the
// segments it covers in O(log n) instead of a walk of the list.
type unackedSet struct {
	ends   []int64 // min-heap
	ref32  Seq     // the last end added, as on the wire
	ref64  int64   // and unwrapped
	refSet bool
}

func (u *unackedSet) len() int { return len(u.ends) }

// unwrap places x in 64-bit sequence space near the last end added. The
// segments of one direction sit close together, so this orders them as
// Wireshark's wrap-aware comparisons do.
func (u *unackedSet) unwrap(x Seq) int64 {
	if !u.refSet {
		return int64(x)
	}
	return u.ref64 + int64(int32(x-u.ref32))
}

// add records a segment ending at end (seq+len, +1 for SYN/FIN).
func (u *unackedSet) add(end Seq) {
	e := u.unwrap(end)
	u.ref32, u.ref64, u.refSet = end, e, true
	u.ends = append(u.ends, e)
	for i := len(u.ends) - 1; i > 0; {
		p := (i - 1) / 2
		if u.ends[p] <= u.ends[i] {
			break
		}
		u.ends[p], u.ends[i] = u.ends[i], u.ends[p]
		i = p
	}
}

// ack removes the segments ack covers: Wireshark drops an entry when the
// ack is at or beyond its nextseq (a partial ACK only trims it).
func (u *unackedSet) ack(ack Seq) {
	if len(u.ends) == 0 {
		return
	}
	a := u.unwrap(ack)
	for len(u.ends) > 0 && u.ends[0] <= a {
		n := len(u.ends) - 1
		u.ends[0] = u.ends[n]
		u.ends = u.ends[:n]
		for i := 0; ; {
			l, r, m := 2*i+1, 2*i+2, i
			if l < n && u.ends[l] < u.ends[m] {
				m = l
			}
			if r < n && u.ends[r] < u.ends[m] {
				m = r
			}
			if m == i {
				break
			}
			u.ends[i], u.ends[m] = u.ends[m], u.ends[i]
			i = m
		}
	}
}
