package notice

import (
	"fmt"
	"hash/maphash"
	"net/netip"
	"strconv"
	"time"
	"unicode"

	"github.com/h2pcap/h2pcap/analyze/app"
	"github.com/h2pcap/h2pcap/analyze/tcp"
	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/decode/h2"
	"github.com/h2pcap/h2pcap/internal/prose"
	"github.com/h2pcap/h2pcap/model"
	"golang.org/x/net/http2"
)

// How the Notices are made. The tracker and the HTTP/2 analysis call a
// connection's noticer at the few places something happens (a close, a
// PING ACK, a GOAWAY, a retransmission); time-driven findings (a PING
// given up without a close, silence) are found by scanning the open
// connections every scanEvery of capture time, on a segment or on
// Analyzer.Tick. Without Options.OnNotice there is no noticer and each
// hook is one nil test.

const (
	// scanEvery is how often, in capture time, the open connections are
	// looked at for time-driven findings: well under a second, so a live
	// line is not late, and rare enough to cost nothing per packet.
	scanEvery = 250 * time.Millisecond
	// connectGiveUp is how long a handshake that failed by the verdict's
	// rule (its SYN or SYN-ACK sent again, or synRTO gone by) must then
	// stay without a packet to be told failed while the capture runs.
	// Linux sends a SYN again 1, 3, 7 s after the first (doubling from
	// 1 s), Windows 3 and 9 s: 3 s after the last packet is past the next
	// retry of most dials that are still trying, so one that would have
	// recovered on it is rarely told failed, while an outage's failed
	// dials are told within seconds, not at LiveSilentAfter.
	connectGiveUp = 3 * time.Second
	// LiveSilentAfter is how long an open connection must carry nothing
	// to be told silent while the capture runs. HTTP/2 stacks that keep a
	// connection alive send something at least every 30 s when idle
	// (client-go's health check PINGs after 30 s; gRPC keepalive is set to
	// 10 s to a few minutes, and TCP keepalive is longer still), so a
	// minute with no packet at all means the connection is dead or idle
	// with no keepalive: both worth a line, and a healthy idle client-go
	// connection never trips it. It is longer than the report's
	// silentAfter, which judges a connection that stopped before a
	// capture's end; that verdict is told at the end (reconcile) when the
	// line was not printed before.
	LiveSilentAfter = time.Minute
	// pingGiveUp is how long a PING whose close the capture does not see
	// must stay unanswered, with the sender's TCP sending it again and
	// nothing new since, to be told lost. The sender's close queues behind
	// the PING that TCP keeps retransmitting (lostPingUnclosed), so it
	// never shows; what shows is a PING TCP cannot deliver or get answered
	// for seconds of retransmission backoff. x/net's PingTimeout is 15 s
	// by default and often set to 1 to 5 s; 2 s tells the loss while it
	// matters. Should the ACK come after all, a ping_late says so.
	pingGiveUp = 2 * time.Second
	// burstCount retransmissions of one direction within burstWindow make
	// a retransmission burst: one is a tail loss probe, a few follow any
	// congestion; five in a second is a path losing packets over and over
	// (an RTO backoff alone gives 0.2+0.4+0.8 s for three).
	burstCount  = 5
	burstWindow = time.Second
	// maxRedialScan bounds the open connections from one client host to
	// one server a new connection is compared with for an abandonment:
	// a gRPC or HTTP/2 client holds one or a few per server, so 64 is
	// every real client's, and a flood of connections costs no more than
	// 64 looks per connection opened.
	maxRedialScan = 64
)

// Noticer makes the Notices of an Analyzer.
type Noticer struct {
	on       func(*model.Notice)
	n        model.Notice // reused: OnNotice must not keep it
	open     []Conn       // connections without a close, for the scans
	lastScan time.Time
	now      time.Time // the latest capture time seen
	told     bool      // reconcile ran

	// byPair holds the open connections per client host and server
	// endpoint (pairKey), so that a connection opening finds the
	// connection its client may have abandoned without looking at every
	// open one.
	byPair map[uint64][]Conn
	seed   maphash.Seed

	// The etcd leader of the highest term seen, and its address: a
	// member leading a higher term is a leader change.
	etcdTerm       uint64
	etcdLeader     uint64
	etcdLeaderAddr netip.Addr
}

// State is a connection's notice state, kept in the connection.
//
// Every open connection of h2pcap live has one (20,000 idle ones), so it
// is kept to 112 bytes: the burst trackers, 144 bytes, are made at the
// connection's first retransmission.
type State struct {
	openIdx     int32  // index in noticer.open; -1 when not there
	pairIdx     int32  // index in noticer.byPair[pair]
	pair        uint64 // its client host and server, hashed (pairKey)
	pingsSeen   int    // PINGs of the connection's list looked at for inferred ones (app.Conn.PingsAdded)
	lostAt      int    // 1 + the lost PING's ID in the list (app.PingRec.ID); 0: none, or not listed yet
	lostFrame   int    // the lost PING's frame (0: none) and input
	lostInput   int32
	pingLost    bool
	lostAckTold bool      // its late ACK was told
	h2Told      bool      // HTTP/2 confirmed: PING ACKs and GOAWAYs are told as decoded
	goaway      bool      // a GOAWAY was told
	silent      bool      // told silent; a packet clears it
	connectFail bool      // a failed handshake was told
	abandoned   bool      // its client's abandonment was told
	healthy     time.Time // the last answered PING's time: the last moment known healthy
	lastRetrans [2]int64  // ns of each side's latest retransmission
	burst       *[2]burstTrack
}

// burstTrack finds retransmission bursts of one side.
type burstTrack struct {
	times [burstCount]int64 // the latest retransmissions' ns, circular
	next  int
	n     int
	in    bool // inside a burst already told
	last  int64
}

// retrans takes one retransmission at ns and reports whether a burst
// starts with it.
func (b *burstTrack) retrans(ns int64) bool {
	if b.in && ns-b.last > int64(burstWindow) {
		b.in = false
	}
	b.last = ns
	b.times[b.next] = ns
	b.next = (b.next + 1) % burstCount
	b.n = min(b.n+1, burstCount)
	if b.in {
		return false
	}
	// b.next is now the oldest of the last burstCount.
	if b.n == burstCount && ns-b.times[b.next] <= int64(burstWindow) {
		b.in = true
		return true
	}
	return false
}

// drop removes c from the open list.
func (nt *Noticer) Drop(c Conn) {
	i := c.Notes().openIdx
	if i < 0 {
		return
	}
	last := len(nt.open) - 1
	nt.open[i] = nt.open[last]
	nt.open[i].Notes().openIdx = i
	nt.open[last] = nil
	nt.open = nt.open[:last]
	c.Notes().openIdx = -1
	// The same in its pair's list.
	ns := c.Notes()
	l := nt.byPair[ns.pair]
	if j := int(ns.pairIdx); j < len(l) && l[j] == c {
		last := len(l) - 1
		l[j] = l[last]
		l[j].Notes().pairIdx = int32(j)
		l[last] = nil
		if last == 0 {
			delete(nt.byPair, ns.pair)
		} else {
			nt.byPair[ns.pair] = l[:last]
		}
	}
}

// pairKey hashes a connection's client host and server endpoint, the
// pair a redial shares with the connection it replaces.
func (nt *Noticer) pairKey(c Conn) uint64 {
	client, _ := c.Roles()
	return maphash.Comparable(nt.seed, struct {
		host   netip.Addr
		server netip.AddrPort
	}{c.Endpoint(client).Addr(), c.Endpoint(1 - client)})
}

// segment is run after the tracker and the HTTP/2 analysis took s; f are
// its analysis flags.
func (nt *Noticer) Segment(c Conn, s *decode.Segment, f tcp.Flags) {
	side := c.Side(s)
	ns := c.Notes()
	ns.silent = false
	now := s.Time.UnixNano()
	if f.Retransmission() {
		ns.lastRetrans[side] = now
		nt.Emit(c, model.NoticeRetrans, s.Time, s.Frame, s.Input, side, "")
		if ns.burst == nil {
			ns.burst = new([2]burstTrack)
		}
		if ns.burst[side].retrans(now) {
			n := nt.prepare(c, model.NoticeRetransBurst, s.Time, s.Frame, s.Input, side)
			n.Count = burstCount
			n.Text = fmt.Sprintf("%d retransmissions by the %s within %s", burstCount, n.From, prose.Duration(time.Duration(now-ns.burst[side].times[ns.burst[side].next])))
			nt.send()
		}
	}
	if h := c.App(); h != nil {
		if !ns.h2Told && h.Confirmed() {
			nt.h2Confirmed(c)
		}
		if h.PingsAdded() != ns.pingsSeen {
			nt.inferredPings(c)
		}
		if ns.lostAt == 0 && ns.lostFrame != 0 {
			// A PING told lost while pending in the TLS inference: find it
			// once listed. Listed answered, inferredPings just told it.
			for i := range h.Pings() {
				if r := &h.Pings()[i]; r.MetaIs(h2.Meta{Frame: ns.lostFrame, Input: int(ns.lostInput)}) {
					ns.lostAt, ns.lostAckTold = int(r.ID)+1, r.Acked
					break
				}
			}
		}
		// An inferred PING told lost whose ACK came after all, after its
		// sender's close (tlsinfer.go lists it acked late).
		if ns.lostAt > 0 && !ns.lostAckTold {
			if r := h.PingByID(ns.lostAt - 1); r != nil && r.Inferred && r.Acked {
				ns.lostAckTold = true
				nt.TellAck(c, r)
			}
		}
	}
	if s.Flags&(decode.FlagFIN|decode.FlagRST) != 0 && c.Tracker().FirstClose(side, s.Frame, s.Input) {
		// Only an RST that is the connection's first close is a finding:
		// one after a FIN is a socket closed with data unread, routine.
		if first, ok := c.Tracker().GaveUpConnecting(side); ok && s.Flags.Has(decode.FlagRST) && !c.Notes().connectFail {
			// Not a reset: the client had given up on the handshake.
			nt.connectFailed(c, s.Time, s.Frame, s.Input, fmt.Sprintf("the client's RST answers a SYN-ACK that came %s after its first SYN: it had given up connecting (its socket was gone); the TCP handshake failed, the RST is its consequence, not a reset; frame %d",
				prose.Duration(s.Time.Sub(time.Unix(0, first))), s.Frame))
		} else if s.Flags.Has(decode.FlagRST) {
			nt.reset(c, side, s)
		}
		nt.closedWithPing(c, side, s)
		nt.closedStalled(c, side, s)
	}
	nt.Clock(s.Time, false)
}

// reset tells an RST that ended the connection, unless it is the client
// closing a dial race's spare: benign, as the Report will say.
func (nt *Noticer) reset(c Conn, side int, s *decode.Segment) {
	if client, _ := c.Roles(); side == client && nt.dialRaceSpare(c, client, s.Time) {
		return
	}
	n := nt.prepare(c, model.NoticeReset, s.Time, s.Frame, s.Input, side)
	n.Text = fmt.Sprintf("RST from the %s's address", n.From)
	ttl, ttlOK := c.Tracker().TTL(side)
	switch {
	case ttlOK && ttl != s.TTL:
		n.Text += fmt.Sprintf(" with TTL %d where its other packets have %d: a middlebox may have sent it", s.TTL, ttl)
	case c.Tracker().RSTIPIDJump(side):
		n.Text += fmt.Sprintf(" with IP ID %d out of its counter's run: a middlebox may have sent it", s.IPID)
	}
	if gap := c.Tracker().RSTGap(); gap >= time.Second {
		n.Text += fmt.Sprintf(", after %s without packets", prose.Duration(gap))
	}
	nt.send()
}

// connectFailed tells a handshake that never completed, once, at frame
// of input.
func (nt *Noticer) connectFailed(c Conn, at time.Time, frame, input int, text string) {
	c.Notes().connectFail = true
	n := nt.prepare(c, model.NoticeConnectFailed, at, frame, input, -1)
	n.From = model.SideClient
	n.Text = text
	nt.send()
}

// closedWithPing tells a lost PING when side closes the connection first
// with its latest PING unanswered (what judge's lostPingDecoded finds).
func (nt *Noticer) closedWithPing(c Conn, side int, s *decode.Segment) {
	// A one-way capture lacks the PING ACKs or the PINGs: as the verdict,
	// it tells no PING lost.
	if c.Notes().pingLost || c.App() == nil || c.Tracker().OneWay() {
		return
	}
	p := c.App().UnansweredPing(side, s.Frame, s.Input)
	// A close sooner than any PingTimeout after the PING is the
	// sender's own, not a lost PING (the verdict's rule).
	if p == nil {
		return
	}
	pm := p.Meta()
	if s.Time.Sub(pm.Time) < verdict.MinPingTimeout {
		return
	}
	how := "closed (FIN)"
	if s.Flags.Has(decode.FlagRST) {
		how = "reset"
	}
	n := nt.prepare(c, model.NoticePingLost, s.Time, pm.Frame, pm.Input, side)
	n.RTT = s.Time.Sub(pm.Time)
	n.Text = fmt.Sprintf("%s PING unanswered, %s %s after %s", n.From, n.From, how, prose.Duration(n.RTT))
	nt.pingLost(c, p)
}

// closedStalled tells a lost PING seen from TCP alone (TLS without keys,
// or a PING that never left the client): the client closes first after
// hearing nothing new for a while with data unanswered. The rule is the
// verdict's (judge's lostPingInferred), so the connection is judged as
// the report will judge it; the cheap preconditions come first, as a
// judgement copies the connection's events.
func (nt *Noticer) closedStalled(c Conn, side int, s *decode.Segment) {
	client, _ := c.Roles()
	if c.Notes().pingLost || side != client {
		return
	}
	now := s.Time.UnixNano()
	heard := c.Start().UnixNano()
	if ns, ok := c.Tracker().AckAdvance(side); ok {
		heard = ns
	}
	stall, stalled := c.Tracker().Stall(side)
	if !stalled || stall >= now || time.Duration(now-heard) < verdict.MinStall {
		return
	}
	// A GOAWAY that ended the connection comes first in the verdict.
	if h := c.App(); h != nil && len(h.Goaways()) > 0 {
		if g := h.Goaways()[0]; g.Side != client || g.Code != http2.ErrCodeNo {
			return
		}
	}
	v := c.JudgeTCP(s.Time)
	if v.Kind != model.KindLostPing {
		return
	}
	frame, input := verdictFirstFrame(v, s.Frame, s.Input)
	n := nt.prepare(c, model.NoticePingLost, s.Time, frame, input, side)
	n.Inferred = true
	n.RTT = time.Duration(now - stall)
	n.Text = v.Summary
	c.Notes().pingLost = true
	nt.send()
}

// redialed tells, as c opens, each open connection from the same client
// host to the same server that its client has given up on: the report's
// abandonment (verdict's abandoned) with what is known at the redial. The
// old connection's client data has gone unanswered for at least MinStall,
// the client has sent no FIN or RST on it, and the evidence names the
// mechanism: a grpc-go keepalive PING unanswered since (keepalive_ping),
// or a gRPC client whose every frame is known that sent no PING since
// (tcp_user_timeout: grpc-go sets it to its keepalive Timeout, and the
// kernel dropped the socket without a FIN or RST). Without that evidence
// nothing is told, as the report says nothing.
func (nt *Noticer) redialed(c Conn, s *decode.Segment) {
	client, _ := c.Roles()
	host, server := c.Endpoint(client).Addr(), c.Endpoint(1-client)
	same := nt.byPair[c.Notes().pair]
	// The newest first: the connection a client replaces is its latest
	// to the server. A host holding more than maxRedialScan connections
	// to one server (a load test, a flood) is not searched further.
	for k := len(same) - 1; k >= 0 && k >= len(same)-maxRedialScan; k-- {
		o := same[k]
		if o == c || o.Notes().abandoned || o.FINSeen() || o.RSTSeen() || o.Tracker().OneWay() {
			continue
		}
		oc, _ := o.Roles()
		if o.Endpoint(oc).Addr() != host || o.Endpoint(1-oc) != server {
			continue
		}
		stallNS, ok := o.Tracker().Stall(oc)
		if !ok {
			continue
		}
		stall := time.Unix(0, stallNS)
		h := o.App()
		if h == nil || s.Time.Sub(stall) < verdict.MinStall || s.Time.Sub(o.End()) > verdict.RedialWithin {
			continue
		}
		var ping *app.PingRec
		pinged := false
		for i := len(h.Pings()) - 1; i >= 0; i-- {
			p := &h.Pings()[i]
			if int(p.Side) != oc || p.Inferred {
				continue
			}
			if pm := p.Meta(); pm.Frame == 0 || pm.Time.Before(stall) {
				continue
			}
			pinged = true
			if !p.Acked && app.PingSender(p.Data) == app.SenderGRPCKeepalive {
				ping = p
				break
			}
		}
		n := nt.prepare(o, model.NoticeAbandoned, s.Time, s.Frame, s.Input, oc)
		n.Redial = c.Stream()
		switch {
		case ping != nil:
			n.EndedBy = model.EndedKeepalivePing
			n.RTT = s.Time.Sub(ping.Meta().Time)
			n.Text = fmt.Sprintf("the client gave up on the connection: its grpc-go keepalive PING (frame %d) unanswered for %s, its keepalive Timeout; it dialled the same server again (stream %d, frame %d)",
				ping.Meta().Frame, prose.Duration(n.RTT), c.Stream(), s.Frame)
		case !pinged && h.SentPreface(oc) && h.GRPC():
			n.EndedBy = model.EndedUserTimeout
			n.RTT = s.Time.Sub(stall)
			n.Text = fmt.Sprintf("the client abandoned the connection: its data unanswered for %s with no PING sent, its socket gone without a FIN or an RST (grpc-go's keepalive Timeout as TCP_USER_TIMEOUT); it dialled the same server again (stream %d, frame %d)",
				prose.Duration(n.RTT), c.Stream(), s.Frame)
		default:
			continue
		}
		o.Notes().abandoned = true
		nt.send()
	}
}

// pingLost finishes and sends a ping_lost notice prepared in nt.n.
func (nt *Noticer) pingLost(c Conn, p *app.PingRec) {
	c.Notes().pingLost = true
	c.Notes().lostAckTold = p.Acked // answered already: nothing more to tell
	pm := p.Meta()
	c.Notes().lostFrame, c.Notes().lostInput = pm.Frame, int32(pm.Input)
	// The last healthy moment is before the lost PING: seen near the
	// peer, the lost PING itself was answered in time.
	nt.n.Since = time.Time{}
	late := app.LatePingAfter(c.IRTT())
	for i := range c.App().Pings() {
		r := &c.App().Pings()[i]
		if r == p {
			c.Notes().lostAt = int(r.ID) + 1 // p may also be a pending inferred PING, not listed yet
		}
		if !r.Acked || r.Orphan {
			continue
		}
		if rm := r.Meta(); rm.Frame != 0 && rm.Time.Before(pm.Time) && r.Ack().Time.Sub(rm.Time) <= late {
			nt.n.Since = rm.Time
		}
	}
	if p.Inferred {
		nt.n.Inferred = true
		nt.n.Text += " (a PING inferred from TLS record sizes)"
	} else if s := app.PingSender(p.Data); s != app.SenderUnknown {
		nt.n.Text += " (" + s + ")"
	}
	nt.n.Text += "; frame " + strconv.Itoa(pm.Frame)
	nt.send()
}

// tellAck tells an answered PING: a ping_ack, or a ping_late past the
// report's lateness.
func (nt *Noticer) TellAck(c Conn, r *app.PingRec) {
	m, a := r.Meta(), r.Ack()
	rtt := a.Time.Sub(m.Time)
	late := rtt > app.LatePingAfter(c.IRTT())
	kind := model.NoticePingAck
	if late {
		kind = model.NoticePingLate
	} else {
		c.Notes().healthy = m.Time
	}
	n := nt.prepare(c, kind, a.Time, a.Frame, a.Input, int(r.Side))
	n.RTT, n.Inferred = rtt, r.Inferred
	if late {
		how := ""
		if r.Inferred {
			how = ", inferred from TLS record sizes"
		}
		n.Text = fmt.Sprintf("%s PING (frame %d%s) answered after %s; frame %d", n.From, m.Frame, how, prose.Duration(rtt), a.Frame)
	}
	nt.send()
}

// inferredPings tells the PINGs inferred from TLS record sizes
// (tlsinfer.go) that were answered: they are added to the list once their
// ACK is seen.
func (nt *Noticer) inferredPings(c Conn) {
	h := c.App()
	list := h.Pings()
	ns := c.Notes()
	if h.PingsAdded() < ns.pingsSeen {
		ns.pingsSeen = 0 // the list was dropped (not HTTP/2 after all)
	}
	// The records listed since: the last ones (IDs grow along the list).
	i := len(list)
	for i > 0 && int(list[i-1].ID) >= ns.pingsSeen {
		i--
	}
	for ; i < len(list); i++ {
		if r := &list[i]; r.Inferred && r.Acked {
			nt.TellAck(c, r)
		}
	}
	ns.pingsSeen = h.PingsAdded()
}

// h2Confirmed is run once the connection is known to carry HTTP/2: the
// PING ACKs and GOAWAYs decoded while it was not (a capture begun
// mid-connection is confirmed by frame sync, after several frames) are
// told now, as the report will list them; later ones as they come.
func (nt *Noticer) h2Confirmed(c Conn) {
	h := c.App()
	c.Notes().h2Told = true
	for i := range h.Pings() {
		if r := &h.Pings()[i]; r.Acked && !r.Orphan && !r.Inferred {
			nt.TellAck(c, r)
		}
	}
	for i := range h.Goaways() {
		nt.TellGoaway(c, &h.Goaways()[i])
	}
}

func (nt *Noticer) TellGoaway(c Conn, g *app.GoawayRec) {
	c.Notes().goaway = true
	n := nt.prepare(c, model.NoticeGoaway, g.Meta.Time, g.Meta.Frame, g.Meta.Input, g.Side)
	n.Code = g.Code.String()
	if printable([]byte(g.Debug)) {
		n.Debug = g.Debug
	}
	n.Text = fmt.Sprintf("%s sent GOAWAY %s, last stream %d", n.From, n.Code, g.Last)
	if n.Debug != "" {
		n.Text += fmt.Sprintf(" %q", n.Debug)
	}
	if g.Code == http2.ErrCodeNo && n.From == model.SideServer {
		n.Text += " (a graceful drain)"
	}
	n.Text += "; frame " + strconv.Itoa(g.Meta.Frame)
	nt.send()
}

// TellRaftLeader takes a member sending, from side, leader-only raft
// messages in term: the first member seen leading a term above the
// highest so far, after another led the one before, is a leader change.
func (nt *Noticer) TellRaftLeader(c Conn, side int, member, term uint64, at h2.Meta) {
	if term <= nt.etcdTerm || member == 0 {
		return
	}
	prevTerm, prev, prevAddr := nt.etcdTerm, nt.etcdLeader, nt.etcdLeaderAddr
	addr := c.Endpoint(side).Addr()
	nt.etcdTerm, nt.etcdLeader, nt.etcdLeaderAddr = term, member, addr
	if prevTerm == 0 {
		return // the first leader seen: no change to tell
	}
	n := nt.prepare(c, model.NoticeEtcdLeaderChange, at.Time, at.Frame, at.Input, side)
	n.Term, n.Leader, n.PreviousLeader = term, strconv.FormatUint(member, 16), strconv.FormatUint(prev, 16)
	verb := "changed"
	if member == prev {
		verb = "re-elected"
	}
	n.Text = fmt.Sprintf("etcd leader %s: term %d -> %d, %s (%s) -> %s (%s); frame %d",
		verb, prevTerm, term, prevAddr, n.PreviousLeader, addr, n.Leader, at.Frame)
	nt.send()
}

// TellGRPCCall takes a gRPC call finished, for the metrics.
func (nt *Noticer) TellGRPCCall(c Conn, method, code string, at h2.Meta) {
	n := nt.prepare(c, model.NoticeGRPCCall, at.Time, at.Frame, at.Input, -1)
	n.Method, n.Code = method, code
	n.Text = fmt.Sprintf("gRPC %s ended %s; frame %d", method, code, at.Frame)
	nt.send()
}

func printable(b []byte) bool {
	if len(b) == 0 || len(b) > 256 {
		return false
	}
	for _, r := range string(b) {
		if r == unicode.ReplacementChar || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// clock moves the capture clock to t and scans the open connections when
// scanEvery has passed since the last scan (or on every tick: ticks are
// rare).
func (nt *Noticer) Clock(t time.Time, tick bool) {
	if t.Before(nt.now) {
		return
	}
	nt.now = t
	if !tick && t.Sub(nt.lastScan) < scanEvery {
		return
	}
	nt.lastScan = t
	for i := 0; i < len(nt.open); i++ {
		nt.scan(nt.open[i], t)
	}
}

// scan looks at one open connection at time now.
func (nt *Noticer) scan(c Conn, now time.Time) {
	ns := c.Notes()
	// A handshake that never completed is a failed connect, not a silent
	// connection: told once the verdict says so and the client has gone
	// quiet.
	if c.Tracker().Unconnected() {
		if !ns.connectFail && now.Sub(c.End()) >= connectGiveUp {
			if v := c.JudgeTCP(now); v.Kind == model.KindConnectFailed {
				frame, input := verdictFirstFrame(v, c.LastFrame(), c.LastInput())
				nt.connectFailed(c, now, frame, input, v.Summary)
			}
		}
		return
	}
	// As the silent verdict: a connection half closed by a FIN is ending,
	// not silent.
	if !ns.silent && !c.FINSeen() && now.Sub(c.End()) >= LiveSilentAfter {
		ns.silent = true
		n := nt.prepare(c, model.NoticeSilent, now, 0, c.LastInput(), -1)
		n.Text = fmt.Sprintf("no packet for %s, and no FIN or RST; last frame %d", prose.Duration(now.Sub(c.End())), c.LastFrame())
		nt.send()
	}
	if ns.pingLost || c.App() == nil || c.FINSeen() || c.RSTSeen() || c.Tracker().OneWay() {
		return
	}
	for side := range 2 {
		if ns.lastRetrans[side] == 0 {
			continue // the rule needs a retransmission: most connections have none to look for
		}
		p := c.App().LastPing(side)
		if pend, ok := c.App().PendingInferred(side); ok && (p == nil || p.Meta().Time.Before(pend.Time)) {
			// TLS without keys: a record taken for a PING whose answer is
			// still awaited (tlsinfer.go lists it only once decided).
			p = app.InferredPing(side, pend)
		}
		if p == nil {
			continue
		}
		pm := p.Meta()
		if now.Sub(pm.Time) < pingGiveUp || c.App().PeerGoawayBefore(side, pm) {
			continue
		}
		since := pm.Time
		if p.Acked {
			// Seen near the peer (judge's lostPingUnclosed): the peer
			// answered, and its answer is what never arrived; its data
			// from the ACK on stays unacknowledged.
			if st, ok := c.Tracker().Stall(1 - side); !ok || st > p.Ack().Time.UnixNano() {
				continue
			}
			since = p.Ack().Time
		}
		if ns.lastRetrans[side] < since.UnixNano() {
			continue
		}
		// Nothing new from the sender after its PING: it stopped.
		if frame, input, ok := c.Tracker().LastSent(side); ok &&
			(input > pm.Input || input == pm.Input && frame > pm.Frame) {
			continue
		}
		n := nt.prepare(c, model.NoticePingLost, now, pm.Frame, pm.Input, side)
		n.RTT = now.Sub(pm.Time)
		peer := model.SideServer
		if n.From == model.SideServer {
			peer = model.SideClient
		}
		if p.Acked {
			n.Text = fmt.Sprintf("%s PING answered by the %s (frame %d) but the answer never reached the %s: for %s its TCP sent the PING again, nothing new from the %s since: the %s gave up or is about to",
				n.From, peer, p.Ack().Frame, n.From, prose.Duration(n.RTT), n.From, n.From)
		} else {
			n.Text = fmt.Sprintf("%s PING unanswered for %s, its TCP sending it again, nothing new from the %s since: the %s gave up or is about to", n.From, prose.Duration(n.RTT), n.From, n.From)
		}
		nt.pingLost(c, p)
		return
	}
}

// reconcile is run once, at the first Report: a lost PING or a silence the
// verdicts find that no notice told while the capture ran (it ended
// before pingGiveUp or LiveSilentAfter went by) is told now, so that what
// was printed and the report agree.
func (nt *Noticer) Reconcile(all []Conn, r *model.Report) {
	if nt.told {
		return
	}
	nt.told = true
	end := verdict.CaptureEnd(r.Inputs, r.Connections)
	for i, c := range all {
		out := r.Connections[i]
		if out.Verdict == nil {
			continue
		}
		switch out.Verdict.Kind {
		case model.KindLostPing:
			if c.Notes().pingLost {
				continue
			}
			c.Notes().pingLost = true
			frame, input := verdictFirstFrame(out.Verdict, 0, 0)
			n := nt.prepare(c, model.NoticePingLost, end, frame, input, -1)
			n.From = model.SideClient
			n.Text = "at the end of the capture: " + out.Verdict.Summary
			nt.send()
		case model.KindGoaway:
			if c.Notes().goaway {
				continue
			}
			// A GOAWAY inferred from TLS record timing: the frame was not
			// decoded, so it is told at the end.
			c.Notes().goaway = true
			frame, input := verdictFirstFrame(out.Verdict, 0, 0)
			n := nt.prepare(c, model.NoticeGoaway, end, frame, input, -1)
			n.From, n.Inferred = model.SideServer, true
			n.Text = "at the end of the capture: " + out.Verdict.Summary
			nt.send()
		case model.KindConnectFailed:
			if c.Notes().connectFail {
				continue
			}
			frame, input := verdictFirstFrame(out.Verdict, c.LastFrame(), c.LastInput())
			nt.connectFailed(c, end, frame, input, "at the end of the capture: "+out.Verdict.Summary)
		case model.KindBlackholed:
			// Told at the end: only the end shows that nothing ever
			// answered the retransmissions (a burst of them may have been
			// told as it happened).
			frame, input := verdictFirstFrame(out.Verdict, c.LastFrame(), c.LastInput())
			n := nt.prepare(c, model.NoticeBlackholed, end, frame, input, -1)
			n.Text = "at the end of the capture: " + out.Verdict.Summary
			nt.send()
		case model.KindSilent:
			if c.Notes().silent {
				continue
			}
			c.Notes().silent = true
			n := nt.prepare(c, model.NoticeSilent, end, 0, c.LastInput(), -1)
			n.Text = "at the end of the capture: " + out.Verdict.Summary
			nt.send()
		}
	}
}

// prepare fills nt.n with what every notice of c says; side is who sent
// what it is about (-1: nobody in particular).
func (nt *Noticer) prepare(c Conn, kind model.NoticeKind, t time.Time, frame, input, side int) *model.Notice {
	client, _ := c.Roles()
	nt.n = model.Notice{
		Kind:   kind,
		Time:   t,
		Stream: c.Stream(),
		Client: c.Endpoint(client),
		Server: c.Endpoint(1 - client),
		Frame:  frame,
		Input:  input,
		Since:  c.Notes().healthy,
	}
	if side >= 0 {
		nt.n.From = app.SideName(side, client)
	}
	return &nt.n
}

func (nt *Noticer) send() { nt.on(&nt.n) }

func (nt *Noticer) Emit(c Conn, kind model.NoticeKind, t time.Time, frame, input, side int, text string) {
	nt.prepare(c, kind, t, frame, input, side).Text = text
	nt.send()
}

// verdictFirstFrame is the verdict's first evidence frame, the one a
// finding names; frame and input when it has none.
func verdictFirstFrame(v *model.Verdict, frame, input int) (int, int) {
	if len(v.Evidence) > 0 {
		return v.Evidence[0].Frame, v.Evidence[0].Input
	}
	return frame, input
}

// dialRaceSpare says whether c, whose client closes it now, is the spare
// of a dial race (verdict.SpareSoFar), from the open connections from
// the same host to the same server.
func (nt *Noticer) dialRaceSpare(c Conn, client int, now time.Time) bool {
	h := c.App()
	if h == nil {
		return false
	}
	t := h.TLS()
	if t == nil {
		return false
	}
	host, server := c.Endpoint(client).Addr(), c.Endpoint(1-client)
	var others []verdict.SpareSibling
	for _, o := range nt.open {
		if o == c {
			continue
		}
		oc, _ := o.Roles()
		oh := o.App()
		if oh == nil || o.Endpoint(oc).Addr() != host || o.Endpoint(1-oc) != server {
			continue
		}
		gap := o.Start().Sub(c.Start())
		others = append(others, verdict.SpareSibling{TLS: oh.TLS(), ClientFrames: oh.SentPreface(oc), Gap: max(gap, -gap)})
	}
	return verdict.SpareSoFar(t, h.SentPreface(client), now.Sub(c.Start()), others)
}
