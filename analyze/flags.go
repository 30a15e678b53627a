package analyze

import "github.com/h2pcap/h2pcap/model"

// SegmentFlags are the tcp.analysis flags Wireshark 4.0 gives one segment
// (the TCP_A_* bits of packet-tcp.c). Several may be set at once.
type SegmentFlags uint32

const (
	FlagRetransmission SegmentFlags = 1 << iota
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

// retransFamily are the flags for which tshark shows
// tcp.analysis.retransmission: in 4.0 fast and spurious retransmissions add
// that expert item too (tcp_sequence_number_analysis_print_retransmission).
const retransFamily = FlagRetransmission | FlagFastRetransmission | FlagSpuriousRetransmission

// Has reports whether all of x are set.
func (f SegmentFlags) Has(x SegmentFlags) bool { return f&x == x }

// Any reports whether any of x is set.
func (f SegmentFlags) Any(x SegmentFlags) bool { return f&x != 0 }

// count adds f to the counters of one direction.
func (f SegmentFlags) count(st *model.DirStats) {
	if f == 0 {
		return
	}
	if f.Any(retransFamily) {
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
	flag SegmentFlags
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

// retransKind returns the event kind of the retransmission family member in
// f, or "" when f has none.
func retransKind(f SegmentFlags) model.EventKind {
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
