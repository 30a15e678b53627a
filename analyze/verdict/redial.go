package verdict

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/h2pcap/h2pcap/internal/prose"
	"github.com/h2pcap/h2pcap/model"
)

// linkRedials sets Connection.Redial on each failed connection the same
// client followed at once with a new connection to the same server (ix
// holds every connection, the forgotten healthy ones too).
func linkRedials(conns []*model.Connection, ix startIndex) {
	for _, c := range conns {
		v := c.Verdict
		if v == nil || !redialAfter(v.Kind) || c.Redial != nil || c.Point != "" {
			// Not failed, or tied already (abandoned), or another
			// point's row, whose redials its point looked for among
			// its own streams (ix holds the reference point's).
			continue
		}
		// The earliest start from max(c.Start, c.End-RedialWithin) on,
		// no later than RedialWithin after c's end.
		from := c.End.Add(-RedialWithin)
		if from.Before(c.Start) {
			from = c.Start
		}
		next, ok := ix.next(c, from, false)
		if ok && next.start.Sub(c.End) <= RedialWithin {
			c.Redial = &model.Redial{Stream: next.stream, Client: next.client,
				AfterMs: float64(next.start.Sub(c.End)) / float64(time.Millisecond)}
		}
	}
}

// redialAfter: the kinds after which a client redials.
func redialAfter(k model.Kind) bool {
	return slices.Contains([]model.Kind{model.KindGoaway, model.KindLostPing, model.KindSilent, model.KindReset, model.KindBlackholed}, k)
}

// keepaliveInterval is the median gap between a connection's grpc-go
// keepalive PINGs from the client; 0 with fewer than two.
func keepaliveInterval(c *model.Connection) time.Duration {
	if c.HTTP2 == nil {
		return 0
	}
	var at []time.Time
	for _, p := range c.HTTP2.Pings {
		if p.From == model.SideClient && p.Sender == model.PingGRPCKeepalive && p.Frame != 0 {
			at = append(at, p.Time)
		}
	}
	if len(at) < 2 {
		return 0
	}
	gaps := make([]time.Duration, len(at)-1)
	for i := range gaps {
		gaps[i] = at[i+1].Sub(at[i])
	}
	slices.Sort(gaps)
	return gaps[len(gaps)/2]
}

// tooManyPingsWords says, for each connection a server ended with GOAWAY
// ENHANCE_YOUR_CALM too_many_pings, the interval the client pinged at
// before and, on its redial, after: "198.18.2.2:50051 sent GOAWAY
// too_many_pings to a client pinging every 10 s; it redialled 2 ms later
// (stream 1) and pinged every 20 s there (grpc-go doubles its keepalive
// time)".
func tooManyPingsWords(conns []*model.Connection) []string {
	byStream := map[int]*model.Connection{}
	for _, c := range conns {
		byStream[c.Stream] = c
	}
	var out []string
	times := map[string]int{}
	for _, c := range conns {
		if c.Verdict != nil && slices.Contains(c.Verdict.Suspects, model.SuspectTooManyPings) {
			times[c.Server]++
		}
	}
	for _, c := range conns {
		if c.Verdict == nil || !slices.Contains(c.Verdict.Suspects, model.SuspectTooManyPings) || times[c.Server] == 0 {
			continue
		}
		// The first of a server's is told; the count says how many.
		w := c.Server + " sent GOAWAY too_many_pings"
		n := times[c.Server]
		times[c.Server] = 0
		if n > 1 {
			w += fmt.Sprintf(" %d times", n)
		}
		if d := keepaliveInterval(c); d > 0 {
			w += " to a client pinging every " + prose.Duration(d)
		}
		if r := c.Redial; r != nil {
			after := "it"
			if n > 1 {
				after = "after the first the client"
			}
			if r.AfterMs < redialAtOnce {
				w += fmt.Sprintf("; %s redialled at once (stream %d)", after, r.Stream)
			} else {
				w += fmt.Sprintf("; %s redialled %s later (stream %d)", after, prose.Duration(time.Duration(r.AfterMs*float64(time.Millisecond))), r.Stream)
			}
			if n := byStream[r.Stream]; n != nil {
				if d := keepaliveInterval(n); d > 0 {
					w += " and pinged every " + prose.Duration(d) + " there"
					if before := keepaliveInterval(c); before > 0 && d >= 2*before-before/10 {
						w += " (grpc-go doubles its keepalive time after too_many_pings)"
					}
				}
			}
		}
		out = append(out, w)
		if len(out) == maxGRPCHeadline {
			break
		}
	}
	return out
}

// abandoned finds the connections a client gave up on without a FIN or an
// RST reaching the wire, and tells how, from the evidence: its data went
// unanswered (facts' Stall), it sent nothing new after its next
// connection to the same server began, and no close of its came before
// that. The redial's first packet is the abandonment; a grpc-go keepalive
// PING left unanswered before it names the keepalive, its absence the
// TCP_USER_TIMEOUT grpc-go sets to the same timeout.
func abandoned(conns []*model.Connection, facts []*Facts, ix startIndex) {
	for i, c := range conns {
		v := c.Verdict
		if v == nil || facts == nil || facts[i] == nil || !slices.Contains([]model.Kind{model.KindLostPing, model.KindSilent, model.KindBlackholed}, v.Kind) {
			continue
		}
		cf := &facts[i].Dir[model.ClientToServer]
		if !cf.Stall.ok() {
			continue
		}
		ns, ok := ix.next(c, cf.Stall.Time, true)
		if !ok || ns.start.Sub(c.End) > RedialWithin || ns.start.Sub(cf.Stall.Time) < MinStall {
			continue
		}
		next := &model.Connection{Stream: ns.stream, Client: ns.client, Start: ns.start, FirstFrame: ns.frame, FirstInput: ns.input}
		// Nothing new from the client once the redial began, and no close
		// of its before it: the old socket was given up, not used.
		if n := len(cf.Last); n > 0 && cf.Last[n-1].Time.After(next.Start) {
			continue
		}
		if m := cf.FIN; m.ok() && m.Time.Before(next.Start) {
			continue
		}
		if m := cf.RST; m.ok() && m.Time.Before(next.Start) {
			continue
		}
		var ping *model.Ping
		if h := c.HTTP2; h != nil {
			for k := len(h.Pings) - 1; k >= 0; k-- {
				p := &h.Pings[k]
				if p.From == model.SideClient && p.Frame != 0 && p.Sender == model.PingGRPCKeepalive &&
					!p.Time.Before(cf.Stall.Time) && p.Time.Before(next.Start) && (!p.Acked || p.AckTime != nil && p.AckTime.After(next.Start)) {
					ping = p
					break
				}
			}
		}
		// The mechanism needs evidence: a keepalive PING decoded, or every
		// frame of a gRPC client known (decoded from the preface) and no
		// PING among them. Without it (TLS not decrypted, another client)
		// nothing is said.
		if ping == nil && !grpcNoPing(c, cf.Stall) {
			continue
		}
		at := model.Moment{Frame: next.FirstFrame, Input: next.FirstInput, Time: next.Start}
		v.Abandoned = &at
		c.Redial = &model.Redial{Stream: next.Stream, Client: next.Client, AfterMs: float64(next.Start.Sub(c.End)) / float64(time.Millisecond)}
		gone := fmt.Sprintf("; the client gave up on the connection at %s, when it dialled the same server again (stream %d, frame %d)",
			clock(next.Start), next.Stream, next.FirstFrame)
		switch {
		case ping != nil:
			v.EndedBy = model.EndedKeepalivePing
			v.Summary = strings.TrimSuffix(v.Summary, ".") + gone + fmt.Sprintf(
				": its grpc-go keepalive PING (frame %d) had gone unanswered for %s, its keepalive Timeout; what the old connection carried after that was its closed socket's retransmissions.",
				ping.Frame, prose.Duration(next.Start.Sub(ping.Time)))
		default:
			v.EndedBy = model.EndedUserTimeout
			v.Summary = fmt.Sprintf("The client abandoned the connection: its data went unanswered from frame %d on, and %s later, with no PING sent, its socket was gone without a FIN or an RST and it dialled the same server again (stream %d, frame %d, %s): grpc-go's keepalive Timeout, which it sets as TCP_USER_TIMEOUT, ran out",
				cf.Stall.Frame, prose.Duration(next.Start.Sub(cf.Stall.Time)), next.Stream, next.FirstFrame, clock(next.Start))
			if d := v.LossDirection; d == model.LossClientToServer || d == model.LossServerToClient || d == model.LossBoth {
				v.Summary += "; the packets were lost " + dirWords(d)
			}
			v.Summary += "."
			v.Evidence = append([]model.Evidence{{Frame: cf.Stall.Frame, Input: cf.Stall.Input, Note: "the client's first data never answered"}}, v.Evidence...)
		}
		if len(v.Evidence) < MaxEvidence {
			v.Evidence = append(v.Evidence, model.Evidence{Frame: next.FirstFrame, Input: next.FirstInput,
				Note: fmt.Sprintf("the client dials the same server again (stream %d): it has given up on this connection", next.Stream)})
		}
		if len(v.Evidence) > MaxEvidence {
			v.Evidence = v.Evidence[:MaxEvidence]
		}
	}
}

// grpcNoPing says whether the connection is a gRPC client's whose every
// frame is known (HTTP/2 decoded from its preface: gRPC calls or grpc-go's
// PINGs seen) and that sent no PING from the stall on.
func grpcNoPing(c *model.Connection, stall SegRef) bool {
	h := c.HTTP2
	if h == nil || h.Detected != "preface" {
		return false
	}
	grpc := len(h.GRPC) > 0
	for _, p := range h.Pings {
		if p.From != model.SideClient {
			continue
		}
		if p.Sender == model.PingGRPCBDP || p.Sender == model.PingGRPCKeepalive {
			grpc = true
		}
		if !p.Time.Before(stall.Time) {
			return false
		}
	}
	if !grpc {
		for _, st := range h.Streams {
			if st.GRPCStatus != "" {
				grpc = true
			}
		}
	}
	return grpc
}
