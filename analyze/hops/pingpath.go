package hops

import (
	"fmt"
	"strings"

	"github.com/h2pcap/h2pcap/model"
)

// pingSighting is what one capture point saw of one PING: the PING's
// frame there and, if it saw one, its ACK's.
type pingSighting struct {
	point         int
	ping, ack     model.Moment
	sawPing, sawA bool
}

// pingPath tells, for a connection judged lost_ping at point home (the
// reference, or the interface live first saw it on), how far the
// unanswered PING and its ACK got along the path: "the PING (frame 45)
// reached the server (server frame 42); its ACK left the server (frame
// 43), was last seen at router-s (frame 43) and never reached router-c". Each point's own decoding of the PING (matched by
// its 8 bytes) is the evidence; a point that decoded nothing of the
// connection's HTTP/2 tells nothing.
func (res *Result) pingPath(row *model.Connection, f *FlowResult, rows []pointRows, dir0 model.Direction, home int) {
	v := row.Verdict
	if v == nil || v.Kind != model.KindLostPing || row.HTTP2 == nil {
		return
	}
	var lost *model.Ping
	for i := len(row.HTTP2.Pings) - 1; i >= 0; i-- {
		if p := &row.HTTP2.Pings[i]; p.From == model.SideClient && !p.Acked && p.Frame != 0 && p.Data != "" {
			lost = p
			break
		}
	}
	if lost == nil {
		return
	}
	// Directions along the path: c2s is the direction the PING travels.
	c2s, s2c := 0, 1
	if dir0 == model.ServerToClient {
		c2s, s2c = 1, 0
	}
	seen := map[int]pingSighting{}
	for p, st := range f.Streams {
		c := rows[p].row(st)
		if c == nil || c.HTTP2 == nil {
			continue
		}
		for _, q := range c.HTTP2.Pings {
			if q.From != model.SideClient || q.Data != lost.Data || q.Frame == 0 {
				continue
			}
			s := pingSighting{point: p, sawPing: true, ping: model.Moment{Frame: q.Frame, Input: q.Input, Time: q.Time}}
			if q.Acked && q.AckFrame != 0 {
				s.sawA = true
				s.ack = model.Moment{Frame: q.AckFrame, Input: q.AckInput}
				if q.AckTime != nil {
					s.ack.Time = *q.AckTime
				}
			}
			seen[p] = s
			break
		}
	}
	// The PING: the last point along client->server that decoded it.
	var reach, ackFrom, ackLast *pingSighting
	for _, p := range f.Path[c2s] {
		if s, ok := seen[p]; ok {
			reach = &s
		}
	}
	// Its ACK, along server->client: where it was first seen (the server
	// end) and the last point it was seen at before a point that
	// decoded the connection without it.
	var missing = -1
	for _, p := range f.Path[s2c] {
		s, ok := seen[p]
		if !ok {
			continue // this point decoded nothing of the PING: no evidence
		}
		if s.sawA {
			if ackFrom == nil {
				ackFrom = &s
			}
			ackLast = &s
			continue
		}
		if ackLast != nil {
			missing = p
			break
		}
	}
	if reach == nil || reach.point == home {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, " The PING (frame %d here) reached %s (frame %d there)", lost.Frame, res.Names[reach.point], reach.ping.Frame)
	switch {
	case ackLast != nil && missing >= 0:
		fmt.Fprintf(&b, "; its ACK left %s (frame %d there), was last seen at %s (frame %d) and never reached %s: lost between %s and %s.",
			res.Names[ackFrom.point], ackFrom.ack.Frame, res.Names[ackLast.point], ackLast.ack.Frame, res.Names[missing],
			res.Names[ackLast.point], res.Names[missing])
		v.Evidence = append(v.Evidence, model.Evidence{Frame: ackLast.ack.Frame, Input: ackLast.ack.Input,
			Note: fmt.Sprintf("the PING's ACK at %s, the last point it was seen at", res.Names[ackLast.point])})
	case ackLast == nil:
		fmt.Fprintf(&b, "; no capture point saw its ACK: the server never answered it, or the answer was lost before the first point on its way back.")
	default:
		b.WriteString(".")
	}
	v.Summary = strings.TrimSpace(v.Summary) + b.String()
}
