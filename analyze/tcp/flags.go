package tcp

import (
	"iter"

	"github.com/h2pcap/h2pcap/model"
)

// Flags are the tcp.analysis flags Wireshark 4.0 gives one segment
// (the TCP_A_* bits of packet-tcp.c). Several may be set at once.
type Flags uint32

const (
	FlagRetransmission Flags = 1 << iota
	FlagLostSegment
	FlagAckedUnseen
	FlagKeepAlive
	FlagDupAck
	FlagZeroWindow
	FlagZeroWindowProbe
	FlagZeroWindowProbeAck
	FlagKeepAliveAck
	FlagOutOfOrder
	FlagFastRetransmission
	FlagWindowUpdate
	FlagWindowFull
	FlagReusedPorts
	FlagSpuriousRetransmission
)

// RetransFamily are the flags for which tshark shows
// tcp.analysis.retransmission: in 4.0 fast and spurious retransmissions add
// that expert item too (tcp_sequence_number_analysis_print_retransmission).
const RetransFamily = FlagRetransmission | FlagFastRetransmission | FlagSpuriousRetransmission

// Has reports whether all of x are set.
func (f Flags) Has(x Flags) bool { return f&x == x }

// Any reports whether any of x is set.
func (f Flags) Any(x Flags) bool { return f&x != 0 }

// Retransmission reports whether tshark shows tcp.analysis.retransmission
// for f: plain, fast or spurious.
func (f Flags) Retransmission() bool { return f.Any(RetransFamily) }

// count adds f to the counters of one direction.
func (f Flags) count(st *model.DirStats) {
	if f == 0 {
		return
	}
	if f.Any(RetransFamily) {
		st.Retransmissions++
	}
	if f.Any(FlagFastRetransmission) {
		st.FastRetransmissions++
	}
	if f.Any(FlagSpuriousRetransmission) {
		st.SpuriousRetransmissions++
	}
	if f.Any(FlagOutOfOrder) {
		st.OutOfOrder++
	}
	if f.Any(FlagLostSegment) {
		st.LostSegments++
	}
	if f.Any(FlagAckedUnseen) {
		st.AckedUnseen++
	}
	if f.Any(FlagDupAck) {
		st.DupAcks++
	}
	if f.Any(FlagZeroWindow) {
		st.ZeroWindows++
	}
	if f.Any(FlagZeroWindowProbe) {
		st.ZeroWindowProbes++
	}
	if f.Any(FlagWindowFull) {
		st.WindowFull++
	}
	if f.Any(FlagWindowUpdate) {
		st.WindowUpdates++
	}
	if f.Any(FlagKeepAlive) {
		st.KeepAlives++
	}
	if f.Any(FlagKeepAliveAck) {
		st.KeepAliveAcks++
	}
}

// eventKinds lists, in a fixed order, the flags that become events and
// their kinds. The retransmission family yields one event, of its most
// specific kind; window updates are counted but never stored (they are
// routine and would crowd out the events that explain a failure).
var eventKinds = [...]struct {
	flag Flags
	kind model.EventKind
}{
	{FlagLostSegment, model.EvLostSegment},
	{FlagAckedUnseen, model.EvAckedUnseen},
	{FlagOutOfOrder, model.EvOutOfOrder},
	{FlagDupAck, model.EvDupAck},
	{FlagZeroWindow, model.EvZeroWindow},
	{FlagZeroWindowProbe, model.EvZeroWindowProbe},
	{FlagWindowFull, model.EvWindowFull},
	{FlagKeepAlive, model.EvKeepAlive},
	{FlagKeepAliveAck, model.EvKeepAliveAck},
}

// EventKinds yields the kinds of the events f makes, in a fixed order:
// first the retransmission family's most specific member, then the others
// of eventKinds.
func (f Flags) EventKinds() iter.Seq[model.EventKind] {
	return func(yield func(model.EventKind) bool) {
		if f == 0 {
			return
		}
		if k := retransKind(f); k != "" && !yield(k) {
			return
		}
		for _, e := range eventKinds {
			if f.Any(e.flag) && !yield(e.kind) {
				return
			}
		}
	}
}

// retransKind returns the event kind of the retransmission family member in
// f, or "" when f has none.
func retransKind(f Flags) model.EventKind {
	switch {
	case f.Any(FlagFastRetransmission):
		return model.EvFastRetransmission
	case f.Any(FlagSpuriousRetransmission):
		return model.EvSpuriousRetrans
	case f.Any(FlagRetransmission):
		return model.EvRetransmission
	}
	return ""
}
