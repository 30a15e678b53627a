package verdict

import (
	"fmt"
	"slices"
	"time"

	"github.com/h2pcap/h2pcap/internal/prose"
	"github.com/h2pcap/h2pcap/model"
)

// linkRedials sets Connection.Redial on each failed connection the same
// client followed at once with a new connection to the same server.
func linkRedials(conns []*model.Connection) {
	for _, c := range conns {
		v := c.Verdict
		if v == nil || !redialAfter(v.Kind) {
			continue
		}
		host := hostOf(c.Client)
		var next *model.Connection
		for _, d := range conns {
			if d == c || d.Server != c.Server || hostOf(d.Client) != host || d.Start.Before(c.Start) ||
				d.Start.Sub(c.End) > redialWithin || d.Start.Sub(c.End) < -redialWithin {
				continue
			}
			if next == nil || d.Start.Before(next.Start) {
				next = d
			}
		}
		if next != nil {
			c.Redial = &model.Redial{Stream: next.Stream, Client: next.Client,
				AfterMs: float64(next.Start.Sub(c.End)) / float64(time.Millisecond)}
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
		if n := times[c.Server]; n > 1 {
			w += fmt.Sprintf(" (%d times; the first:)", n)
		}
		times[c.Server] = 0
		if d := keepaliveInterval(c); d > 0 {
			w += " to a client pinging every " + prose.Duration(d)
		}
		if r := c.Redial; r != nil {
			if r.AfterMs < redialAtOnce {
				w += fmt.Sprintf("; it redialled at once (stream %d)", r.Stream)
			} else {
				w += fmt.Sprintf("; it redialled %s later (stream %d)", prose.Duration(time.Duration(r.AfterMs*float64(time.Millisecond))), r.Stream)
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
