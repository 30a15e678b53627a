package app

import (
	"encoding/hex"
	"math"
	"slices"
	"time"

	"github.com/h2pcap/h2pcap/decode/h2"
	"github.com/h2pcap/h2pcap/model"
)

// PING senders, named from the 8 bytes of data.
const (
	SenderGoHealthCheck = model.PingGoHealthCheck // x/net/http2 Transport ReadIdleTimeout: 8 random bytes
	SenderGRPCKeepalive = model.PingGRPCKeepalive // grpc-go keepalive: all zeros
	SenderGRPCBDP       = model.PingGRPCBDP       // grpc-go BDP estimator
	SenderGRPCDrain     = model.PingGRPCDrain     // grpc-go graceful drain (GOAWAY handshake)
	SenderUnknown       = model.PingUnknown
)

// The constant payloads grpc-go sends (internal/transport/http2_*.go).
var (
	grpcBDPPing   = [8]byte{0x02, 0x04, 0x10, 0x10, 0x09, 0x0e, 0x07, 0x07}
	grpcDrainPing = [8]byte{0x01, 0x06, 0x01, 0x08, 0x00, 0x03, 0x03, 0x09}
)

// pingSender names who sends PINGs with this data. Go's health check uses
// crypto/rand: 8 random bytes almost always hold 5 or more distinct
// values (fewer has a probability under 1e-6), while counters, timestamps
// and ASCII tags that other implementations send do not.
func PingSender(data [8]byte) string {
	switch data {
	case [8]byte{}:
		return SenderGRPCKeepalive
	case grpcBDPPing:
		return SenderGRPCBDP
	case grpcDrainPing:
		return SenderGRPCDrain
	}
	var seen [256]bool
	distinct := 0
	for _, b := range data {
		if !seen[b] {
			seen[b] = true
			distinct++
		}
	}
	if distinct >= 5 {
		return SenderGoHealthCheck
	}
	return SenderUnknown
}

const (
	// maxPings bounds the PINGs listed per connection (a PING flood is
	// what too_many_pings is about); later ones are counted.
	maxPings = 2048
	// maxAckSearch bounds how far back an ACK looks for its PING.
	MaxAckSearch = 256
	// FoldPingsAfter: a connection that has listed this many PINGs
	// folds its oldest answered, timely one into PingsFolded (a count
	// and an RTT histogram) for each new one, so that a connection
	// pinging every few seconds for days keeps a bounded list: the
	// latest PINGs, and every unanswered or late one (up to maxPings),
	// which are what the verdicts and the notices read. The lab's
	// captures list 46 at most; a connection pinging every 5 s would
	// reach it after 5 minutes, and then cost 4 KB of PINGs however long
	// it lives (FoldPingsOlderThan folds sooner).
	FoldPingsAfter = 64
	// FoldPingsOlderThan: an answered, timely PING this much older than
	// the latest one listed is folded too, once more than
	// KeepPingsListed are listed: a connection pinging every 5 s then
	// keeps its last 90 s (18 PINGs, about 1.2 KB) instead of 64 (4 KB),
	// which is what 20,000 idle pinging connections cost in h2pcap live.
	// 90 s is past the longest of the lab's captures (76 s), whose PINGs
	// all stay listed, and past client-go's health check (a PING after
	// 30 s idle, 15 s to answer): the last exchanges before a problem are
	// listed whole.
	FoldPingsOlderThan = 90 * time.Second
	// KeepPingsListed: the fewest PINGs listed before age folds any, so
	// a connection pinging every few minutes still lists its last few.
	KeepPingsListed = 8
)

// pingRTTBounds are the upper bounds, in ms, of PingsFolded's RTT
// histogram buckets; a last bucket takes the rest.
var pingRTTBounds = []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000}

// PingRec is one PING (or an ACK whose PING was not captured), by side.
// It is kept small (64 bytes, not the 144 of two h2.Meta and a string):
// live holds the last 90 s of PINGs of every open connection (20,000
// idle connections pinging every 5 s list 18 each), so their positions
// are packed (pingAt and an input index each) and read through Meta and
// Ack.
type PingRec struct {
	Data      [8]byte
	meta, ack pingAt // the PING (zero for an ACK without its PING), its ACK
	// idle is how long the sender had received nothing from the peer
	// when it sent the PING; noIdle when unknown.
	idle          time.Duration
	metaIn, ackIn int32 // the input of meta and of ack
	// ID numbers the records in the order they were listed: an index
	// into the list that folding does not move (pingTracker.byID).
	ID     int32
	Side   int8 // the PING's sender
	Orphan bool
	Acked  bool
	// Inferred: found by TLS record size and timing (tlsinfer.go); data
	// is then unknown and pingTracker.reasons says why.
	Inferred bool
}

// noIdle is PingRec.idle when the peer's last frame before the PING is
// not known.
const noIdle = time.Duration(math.MinInt64)

// pingAt is an h2.Meta's frame and time in 16 bytes, its input kept
// beside it: the capture times of every source are UTC
// (decode.Packet.Time), so the nanoseconds give back the same
// time.Time. The frame stays 64 bits: a live capture running for days
// passes 2^31 frames. Frame 0 is the zero h2.Meta (no frame is 0).
type pingAt struct {
	frame int64
	ns    int64 // Unix nanoseconds; noTime for the zero time
}

// noTime is pingAt.ns of the zero time.Time, which has no Unix
// nanoseconds (year 1 is out of their range).
const noTime = math.MinInt64

func atOf(m h2.Meta) (pingAt, int32) {
	if m == (h2.Meta{}) {
		return pingAt{}, 0 // the zero value, as a record's unset ACK is
	}
	a := pingAt{frame: int64(m.Frame), ns: noTime}
	if !m.Time.IsZero() {
		a.ns = m.Time.UnixNano()
	}
	return a, int32(m.Input)
}

func (a pingAt) meta(in int32) h2.Meta {
	if a == (pingAt{}) && in == 0 {
		return h2.Meta{}
	}
	m := h2.Meta{Input: int(in), Frame: int(a.frame)}
	if a.ns != noTime {
		m.Time = time.Unix(0, a.ns).UTC()
	}
	return m
}

// Meta is the PING's frame; zero for an ACK without its PING.
func (r *PingRec) Meta() h2.Meta { return r.meta.meta(r.metaIn) }

// Ack is the ACK's frame; zero while unanswered.
func (r *PingRec) Ack() h2.Meta { return r.ack.meta(r.ackIn) }

func (r *PingRec) setMeta(m h2.Meta) { r.meta, r.metaIn = atOf(m) }
func (r *PingRec) setAck(m h2.Meta)  { r.ack, r.ackIn = atOf(m) }

// AckIs says whether m is the ACK's frame.
func (r *PingRec) AckIs(m h2.Meta) bool {
	return r.ack.frame == int64(m.Frame) && r.ackIn == int32(m.Input)
}

// MetaIs says whether m is the PING's frame.
func (r *PingRec) MetaIs(m h2.Meta) bool {
	return r.meta.frame == int64(m.Frame) && r.metaIn == int32(m.Input)
}

// rtt is the time from the PING to its ACK, both seen.
func (r *PingRec) rtt() time.Duration { return time.Duration(r.ack.ns - r.meta.ns) }

// InferredPing is a PING of side's at m taken for one by its TLS record
// (see PendingInferred), not listed: what a notice reads of one.
func InferredPing(side int, m h2.Meta) *PingRec {
	r := &PingRec{Side: int8(side), Inferred: true, idle: noIdle}
	r.setMeta(m)
	return r
}

// pingTracker matches PINGs and ACKs.
type pingTracker struct {
	list    []PingRec
	dropped int
	added   int // records ever listed: the next ID
	// reasons says why each inferred record was taken for a PING, by
	// ID (inferred records are never folded).
	reasons map[int32]string
	// lateAfter is when an ACK is late (LatePingAfter of the
	// handshake's RTT), for folding; 0 until a PING is listed.
	lateAfter time.Duration
	folded    pingFold
}

// pingFold is what the PINGs folded out of the list add up to.
type pingFold struct {
	n           int
	fromSide    [2]int
	rtt         []int // by pingRTTBounds, and one more
	first, last h2.Meta
}

// add lists r, folding an old record first if the list is long (see
// FoldPingsAfter); it reports false when r could not be listed.
func (p *pingTracker) add(r PingRec) bool {
	if len(p.list) >= FoldPingsAfter {
		p.fold()
	}
	if len(p.list) >= maxPings {
		return false
	}
	if r.meta.frame != 0 && r.meta.ns != noTime {
		p.foldOld(r.meta.ns - int64(FoldPingsOlderThan))
	}
	r.ID = int32(p.added)
	p.added++
	if len(p.list) == cap(p.list) {
		// By two records while the list is short, then by a quarter,
		// not by append's doubling: folding holds a connection pinging
		// every 5 s at 18-19 records, which then have 1-2 of room, not
		// 13 (doubling) or 4-5 (a quarter); 20,000 such connections in
		// live hold about 4 MB less. A list that grows long (PINGs not
		// answered) is copied a few dozen times, not once per record.
		grow := 2
		if len(p.list) == 0 {
			grow = 1 // most connections list one PING, or none
		} else if len(p.list) >= 32 {
			grow = len(p.list) / 4
		}
		l := make([]PingRec, len(p.list), len(p.list)+grow)
		copy(l, p.list)
		p.list = l
	}
	p.list = append(p.list, r)
	return true
}

// foldOld folds the answered, timely, decoded PINGs sent before cutoff (Unix
// nanoseconds) while more than KeepPingsListed are listed (FoldPingsOlderThan).
func (p *pingTracker) foldOld(cutoff int64) {
	for i := 0; i < len(p.list) && len(p.list) > KeepPingsListed; {
		r := &p.list[i]
		if r.meta.frame != 0 && r.meta.ns >= cutoff {
			return // the list is in time order past here
		}
		if !p.foldable(r) {
			i++
			continue
		}
		p.foldAt(i)
	}
}

// foldable says whether r may leave the list for the counts: answered in
// time, decoded, its PING seen.
func (p *pingTracker) foldable(r *PingRec) bool {
	return r.Acked && !r.Orphan && !r.Inferred && r.meta.frame != 0 && r.rtt() <= p.lateAfter
}

// fold takes the oldest answered, timely, decoded PING out of the list
// into the counts, if there is one before the last FoldPingsAfter/2.
func (p *pingTracker) fold() {
	for i := range p.list[:len(p.list)-FoldPingsAfter/2] {
		if p.foldable(&p.list[i]) {
			p.foldAt(i)
			return
		}
	}
}

// foldAt folds the record at i into the counts.
func (p *pingTracker) foldAt(i int) {
	r := &p.list[i]
	f := &p.folded
	if f.n == 0 {
		f.first, f.rtt = r.Meta(), make([]int, len(pingRTTBounds)+1)
	}
	f.n++
	f.fromSide[r.Side]++
	f.last = r.Meta()
	ms := float64(r.rtt()) / float64(time.Millisecond)
	b := 0
	for b < len(pingRTTBounds) && ms > pingRTTBounds[b] {
		b++
	}
	f.rtt[b]++
	p.list = slices.Delete(p.list, i, i+1)
}

// byID returns the record numbered id, nil if it was folded or dropped.
func (p *pingTracker) byID(id int) *PingRec {
	i, ok := slices.BinarySearchFunc(p.list, id, func(r PingRec, id int) int { return int(r.ID) - id })
	if !ok {
		return nil
	}
	return &p.list[i]
}

// report builds PingsFolded, with client the client's side; nil when
// nothing was folded.
func (f *pingFold) report(client int) *model.PingFold {
	if f.n == 0 {
		return nil
	}
	out := &model.PingFold{Count: f.n, FromClient: f.fromSide[client], FromServer: f.fromSide[1-client],
		FirstFrame: f.first.Frame, FirstInput: f.first.Input, LastFrame: f.last.Frame, LastInput: f.last.Input,
		RTT: make([]model.PingRTTBucket, 0, len(f.rtt))}
	for i, n := range f.rtt {
		if n == 0 {
			continue
		}
		b := model.PingRTTBucket{Count: n}
		if i < len(pingRTTBounds) {
			le := pingRTTBounds[i]
			b.LEms = &le
		}
		out.RTT = append(out.RTT, b)
	}
	return out
}

// ping takes a PING (not an ACK) from side; peer is the other direction,
// whose last frame says how long side had received nothing; lateAfter is
// when its ACK would be late.
func (p *pingTracker) ping(side int, f *h2.Frame, peer *h2dir, lateAfter time.Duration) {
	p.lateAfter = lateAfter
	r := PingRec{Side: int8(side), Data: f.PingData, idle: noIdle}
	r.setMeta(f.Meta)
	if peer.hasLast && !peer.last.Time.After(f.Meta.Time) {
		r.idle = f.Meta.Time.Sub(peer.last.Time)
	}
	if !p.add(r) {
		p.dropped++
	}
}

// ack matches a PING ACK from side to the latest unanswered PING the other
// side sent with the same data.
func (p *pingTracker) ack(side int, f *h2.Frame) {
	for i, n := len(p.list)-1, 0; i >= 0 && n < MaxAckSearch; i, n = i-1, n+1 {
		r := &p.list[i]
		if int(r.Side) == 1-side && !r.Acked && !r.Orphan && r.Data == f.PingData {
			r.Acked = true
			r.setAck(f.Meta)
			return
		}
	}
	if p.dropped > 0 || p.folded.n > 0 || len(p.list) >= maxPings {
		return // its PING may be one not listed
	}
	// The PING was not captured: record the ACK, so it is not lost.
	r := PingRec{Side: int8(1 - side), Data: f.PingData, Orphan: true, Acked: true, idle: noIdle}
	r.setAck(f.Meta)
	p.add(r)
}

// inferred adds a PING found in records that were not decrypted: from
// side at meta, answered by the peer at ack when acked.
func (p *pingTracker) inferred(side int, meta h2.Meta, acked bool, ack h2.Meta, idle time.Duration, hasIdle bool, reason string) {
	r := PingRec{Side: int8(side), Acked: acked, idle: noIdle, Inferred: true}
	if hasIdle {
		r.idle = idle
	}
	r.setMeta(meta)
	r.setAck(ack)
	if !p.add(r) {
		p.dropped++
		return
	}
	p.setReason(p.list[len(p.list)-1].ID, reason)
}

// setReason records why the inferred record id was taken for a PING.
func (p *pingTracker) setReason(id int32, reason string) {
	if p.reasons == nil {
		p.reasons = map[int32]string{}
	}
	p.reasons[id] = reason
}

// report builds the Ping list; client is the client's side, and an ACK
// more than lateAfter after its PING is late.
func (p *pingTracker) report(client int, lateAfter time.Duration) []model.Ping {
	out := make([]model.Ping, 0, len(p.list))
	for i := range p.list {
		r := &p.list[i]
		m := r.Meta()
		q := model.Ping{
			Frame:    m.Frame,
			Input:    m.Input,
			From:     SideName(int(r.Side), client),
			Data:     hex.EncodeToString(r.Data[:]),
			Sender:   PingSender(r.Data),
			Acked:    r.Acked,
			Time:     m.Time,
			Inferred: r.Inferred,
			Reason:   p.reasons[r.ID],
		}
		if r.Inferred {
			q.Data, q.Sender = "", "unknown"
		}
		if r.Acked {
			a := r.Ack()
			q.AckFrame, q.AckInput = a.Frame, a.Input
			t := a.Time
			q.AckTime = &t
			if !r.Orphan {
				rtt := a.Time.Sub(m.Time)
				q.RTTms = msPtr(rtt)
				q.Late = rtt > lateAfter
			}
		}
		if r.idle != noIdle {
			q.IdleMs = msPtr(r.idle)
		}
		out = append(out, q)
	}
	return out
}

// client-go's health-check settings (k8s.io/client-go/transport).
const (
	clientGoReadIdle    = 30 * time.Second
	clientGoPingTimeout = 15 * time.Second
	// healthTolerance: a timer fires a little late, and a capture away
	// from the client sees the peer's last frame up to an RTT earlier.
	healthTolerance = 1500 * time.Millisecond
)

// healthCheck infers the client's ReadIdleTimeout and PingTimeout from its
// health-check PINGs: the idle gap before each (x/net/http2 sends one when
// no frame was read for ReadIdleTimeout), and the time from the last
// unanswered one to the client closing the connection (it closes when no
// ACK came within PingTimeout). closeAt is the client's first FIN or RST;
// provoked is when the server gave the client another reason to close
// (its GOAWAY or its own close; zero if none): a close after it says
// nothing about PingTimeout.
func (p *pingTracker) healthCheck(client int, closed bool, closeAt h2.Meta, provoked time.Time) *model.HealthCheck {
	var idles []time.Duration
	var lastUnanswered *PingRec
	for i := range p.list {
		r := &p.list[i]
		if int(r.Side) != client || r.Orphan || PingSender(r.Data) != SenderGoHealthCheck {
			continue
		}
		if r.idle != noIdle {
			idles = append(idles, r.idle)
		}
		if !r.Acked && (!closed || !r.Meta().Time.After(closeAt.Time)) {
			lastUnanswered = r
		}
	}
	hc := &model.HealthCheck{IdleSamples: len(idles)}
	match := true
	if len(idles) > 0 {
		slices.Sort(idles)
		rit := idles[len(idles)/2]
		hc.ReadIdleTimeoutS = secPtr(rit)
		match = match && near(rit, clientGoReadIdle)
	}
	if lastUnanswered != nil && closed && (provoked.IsZero() || provoked.Before(lastUnanswered.Meta().Time)) {
		m := lastUnanswered.Meta()
		pt := closeAt.Time.Sub(m.Time)
		hc.PingTimeoutS = secPtr(pt)
		hc.PingFrame, hc.CloseFrame = m.Frame, closeAt.Frame
		match = match && near(pt, clientGoPingTimeout)
	}
	if hc.ReadIdleTimeoutS == nil && hc.PingTimeoutS == nil {
		return nil
	}
	hc.ClientGoDefaults = match
	return hc
}

func near(d, want time.Duration) bool { return d >= want-healthTolerance && d <= want+healthTolerance }

func msPtr(d time.Duration) *float64 {
	v := float64(d) / float64(time.Millisecond)
	return &v
}

func secPtr(d time.Duration) *float64 {
	v := d.Seconds()
	return &v
}

func SideName(side, client int) string {
	if side == client {
		return model.SideClient
	}
	return model.SideServer
}

// latePingAfter is when a PING ACK counts as late: after 10 round trips of
// the handshake, and at least 200 ms (timer and scheduling noise); 1 s
// when the handshake was not seen.
func LatePingAfter(irtt time.Duration) time.Duration {
	if irtt <= 0 {
		return time.Second
	}
	return max(10*irtt, 200*time.Millisecond)
}

// unansweredPing returns side's latest PING without ACK sent before the
// given frame, unless the peer's GOAWAY came before it (a drain, not a
// loss); nil if none.
func (h *Conn) UnansweredPing(side, frame, input int) *PingRec {
	for i := len(h.pings.list) - 1; i >= 0; i-- {
		r := &h.pings.list[i]
		if int(r.Side) != side || r.Acked || r.Orphan || r.meta.frame == 0 ||
			int(r.metaIn) > input || int(r.metaIn) == input && r.meta.frame > int64(frame) {
			continue
		}
		if h.PeerGoawayBefore(side, r.Meta()) {
			return nil
		}
		return r
	}
	return nil
}

// peerGoawayBefore says whether the other side of side sent a GOAWAY
// before m: a PING after it goes unanswered in a drain, not a loss.
func (h *Conn) PeerGoawayBefore(side int, m h2.Meta) bool {
	for _, g := range h.goaways {
		if g.Side != side && (g.Meta.Input < m.Input || g.Meta.Input == m.Input && g.Meta.Frame < m.Frame) {
			return true
		}
	}
	return false
}

// lastPing returns side's latest PING (not an ACK without its PING).
func (h *Conn) LastPing(side int) *PingRec {
	for i := len(h.pings.list) - 1; i >= 0; i-- {
		if r := &h.pings.list[i]; int(r.Side) == side && !r.Orphan && r.meta.frame != 0 {
			return r
		}
	}
	return nil
}

// Pings returns the PINGs and ACKs listed, in order; the slice is the
// Conn's: read it, do not keep it past the next segment. Past
// FoldPingsAfter, old answered ones leave it: find a record again by its
// ID (PingByID), and the new ones by PingsAdded.
func (h *Conn) Pings() []PingRec { return h.pings.list }

// PingsAdded is how many records were ever listed: the next one's ID.
func (h *Conn) PingsAdded() int { return h.pings.added }

// PingByID returns the listed record numbered id, nil if it left the list.
func (h *Conn) PingByID(id int) *PingRec { return h.pings.byID(id) }

// Goaways returns the GOAWAYs seen, in order (the same terms as Pings).
func (h *Conn) Goaways() []GoawayRec { return h.goaways }

// Confirmed says whether the connection is known to carry HTTP/2.
func (h *Conn) Confirmed() bool { return h.mode == h2Yes }

// PendingInferred is the record side sent that is taken for a PING while
// its answer is still awaited (TLS without keys; tlsinfer.go lists it only
// once decided).
func (h *Conn) PendingInferred(side int) (h2.Meta, bool) {
	if t := h.tls; t != nil && t.infer.hasPend && t.infer.pend.side == side {
		return t.infer.pend.meta, true
	}
	return h2.Meta{}, false
}

// GRPC says whether the connection carries gRPC: a call finished or
// open with content-type application/grpc or a grpc-status, or a grpc-go
// PING (keepalive, BDP probe).
func (h *Conn) GRPC() bool {
	if len(h.streams.grpc) > 0 || h.streams.grpcOther > 0 {
		return true
	}
	for _, r := range h.streams.open {
		if r.grpc {
			return true
		}
	}
	for i := range h.pings.list {
		if s := PingSender(h.pings.list[i].Data); s == SenderGRPCKeepalive || s == SenderGRPCBDP {
			return true
		}
	}
	return false
}

// SentPreface says whether side's bytes began with the HTTP/2 client
// preface.
func (h *Conn) SentPreface(side int) bool {
	return h.dir[side].preface()
}
