package verdict

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/h2pcap/h2pcap/internal/prose"
	"github.com/h2pcap/h2pcap/model"
)

// summarize writes verdict.summary, one sentence for a tired SRE, and the
// evidence frames behind it.
func (j *judgement) summarize() {
	c, v := j.c, &j.v
	var s string
	switch {
	case v.Kind == model.KindLostPing:
		s = j.lostPingText()
	case v.Kind == model.KindGoaway && j.goaway == nil:
		m := j.goawayRecord
		s = fmt.Sprintf("Inferred from TCP (TLS not decrypted): the client closed the connection %s after a record the server sent unasked (frame %d), the way an HTTP/2 client answers a GOAWAY from a server shutting down gracefully (benign; the key log would confirm it)",
			prose.Duration(j.cl.client.Time.Sub(m.Time)), m.Frame)
		j.evidence(m, "server record (%d bytes) nobody asked for: most likely GOAWAY", m.Len)
		j.evidence(j.cl.client, "the client closes %s later", prose.Duration(j.cl.client.Time.Sub(m.Time)))
	case v.Kind == model.KindGoaway:
		g := j.goaway
		s = fmt.Sprintf("The %s sent GOAWAY %s (frame %d)", g.From, g.Error, g.Frame)
		switch {
		case g.Error == "NO_ERROR" && g.From == "server":
			s += ": the server was shutting down gracefully (draining), which is benign; the client reconnects"
		case g.Error == "ENHANCE_YOUR_CALM" && g.Debug != "":
			s += fmt.Sprintf(" with debug %q: the server's keepalive enforcement found the client sending PINGs too often", g.Debug)
		case g.Debug != "":
			s += fmt.Sprintf(" with debug %q", g.Debug)
		}
		j.evidenceFrame(g.Frame, g.Input, "GOAWAY %s from the %s, last stream %d", g.Error, g.From, g.LastStreamID)
	case v.Kind == model.KindConnectFailed:
		m := j.cl.first
		s = fmt.Sprintf("The client's dial timed out: its SYN (frame %d) went without an answer it could use for %s (%d SYNs sent), and when the SYN-ACK came the client had given up: its kernel answered with an RST (frame %d). A failed dial, not a reset of a working connection",
			c.FirstFrame, prose.Duration(m.Time.Sub(c.Start)), 1+c.TCP.ClientToServer.Retransmissions, m.Frame)
		j.evidenceFrame(c.FirstFrame, c.FirstInput, "the client's SYN")
		j.evidence(m, "RST from the client to a SYN-ACK that came too late")
	case v.Kind == model.KindReset:
		m := j.cl.first
		switch {
		case j.refused:
			s = fmt.Sprintf("The server refused the connection: an RST (frame %d) answered the SYN (nothing listening on %s)", m.Frame, c.Server)
			j.evidence(m, "RST answering the SYN: connection refused")
		default:
			s = fmt.Sprintf("The %s reset the connection (frame %d)", senderName(j.cl.by), m.Frame)
			j.evidence(m, "RST from the %s ends the connection", senderName(j.cl.by))
		}
		if slices.Contains(v.Suspects, model.SuspectMiddleboxReset) {
			s += ", but its TTL differs from the real " + senderName(j.cl.by) + "'s packets: a firewall, NAT or load balancer in between sent it"
		}
		if slices.Contains(v.Suspects, model.SuspectIdleTimeout) {
			s += fmt.Sprintf(" after %s of silence, as a middlebox's idle timeout would", prose.Duration(j.f.RSTGap))
		}
	case v.Kind == model.KindSilent:
		if j.slowHandshake {
			s = fmt.Sprintf("The TCP handshake took %s (SYN or SYN-ACK lost and sent again) and the client gave up right after it (frame %d): its connect deadline had run out",
				prose.Duration(j.stallData.Time.Sub(c.Start)), j.cl.client.Frame)
			j.evidenceFrame(c.FirstFrame, c.FirstInput, "the client's first SYN")
			j.evidence(j.cl.client, "the client gives up")
		} else if j.setupStall {
			d := j.stallData
			s = fmt.Sprintf("The server never answered the client's first data (frame %d, %d bytes: a TLS ClientHello or the HTTP/2 preface); the client gave up %s later (frame %d): the connection's setup timed out",
				d.Frame, d.Len, prose.Duration(j.cl.client.Time.Sub(d.Time)), j.cl.client.Frame)
			j.evidence(d, "the client's first data: never answered")
			j.evidence(j.cl.client, "the client gives up")
		} else if j.synOnly {
			s = fmt.Sprintf("The client's SYN (frame %d) was never answered", c.FirstFrame)
			j.evidenceFrame(c.FirstFrame, c.FirstInput, "SYN")
		} else {
			s = fmt.Sprintf("Traffic stopped at frame %d, %s before the capture ended, with no FIN or RST", c.LastFrame, prose.Duration(j.end.Sub(c.End)))
			j.evidenceFrame(c.LastFrame, c.LastInput, "last packet: silence after it")
		}
	case v.Kind == model.KindDegraded && v.LossDirection == model.LossUnknown:
		s = "Packets were sent again and TCP recovered; " + j.unknownPhrase()
	case v.Kind == model.KindDegraded:
		s = "Packets were lost " + j.lossPhrase() + "; TCP recovered and the connection went on"
	default:
		s = "No loss"
		if m := j.cl.first; m.ok() {
			s += fmt.Sprintf("; closed by the %s", senderName(j.cl.by))
			j.evidence(m, "%s from the %s", map[bool]string{true: "RST", false: "FIN"}[j.cl.firstRST], senderName(j.cl.by))
		} else {
			s += "; still open at the end of the capture"
		}
	}
	if v.Kind != model.KindDegraded && v.Kind != model.KindHealthy {
		switch v.LossDirection {
		case model.LossNone:
		case model.LossUnknown:
			s += "; " + j.unknownPhrase()
		default:
			s += "; packets were lost " + j.lossPhrase()
		}
	}
	v.Summary = s + j.suspectsText() + "."
	j.lossEvidence()
	// Keep the first found (the ones the summary names), then show them
	// in capture order.
	if len(v.Evidence) > MaxEvidence {
		v.Evidence = v.Evidence[:MaxEvidence]
	}
	slices.SortStableFunc(v.Evidence, func(a, b model.Evidence) int {
		return cmp.Or(cmp.Compare(a.Input, b.Input), cmp.Compare(a.Frame, b.Frame))
	})
}

func (j *judgement) lostPingText() string {
	cl := j.cl
	if p := j.ping; p != nil && j.pingUnclosed {
		return j.lostPingUnclosedText(p)
	}
	if p := j.ping; p != nil {
		what := fmt.Sprintf("%s (frame %d)", pingName(p), p.Frame)
		if p.Inferred {
			// Not decrypted: say what the PING was recognised by.
			what = fmt.Sprintf("%s (frame %d, inferred from its TLS record's size: not decrypted)", pingName(p), p.Frame)
		}
		s := fmt.Sprintf("The client's %s got no ACK", what)
		if p.IdleMs != nil {
			heard := "a frame"
			if p.Inferred {
				heard = "a record"
			}
			s = fmt.Sprintf("After %s without %s from the server, the client's %s got no ACK",
				prose.Duration(time.Duration(*p.IdleMs*float64(time.Millisecond))), heard, what)
		}
		s += fmt.Sprintf(" and the client closed the connection %s later (frame %d): %s",
			prose.Duration(cl.client.Time.Sub(p.Time)), cl.client.Frame, pingError(p))
		switch {
		case p.Acked && j.ackLost(p):
			s += fmt.Sprintf("; the server answered (PING ACK, frame %d, %s after the PING) but the ACK never reached the client: the server sent it again", p.AckFrame, prose.Duration(p.AckTime.Sub(p.Time)))
		case p.Acked && p.AckTime != nil:
			s += fmt.Sprintf("; the ACK (frame %d) came %s after the PING, when the client had given up", p.AckFrame, prose.Duration(p.AckTime.Sub(p.Time)))
		}
		s += j.healthCheckText()
		note := "client PING, never ACKed"
		if p.IdleMs != nil {
			note = fmt.Sprintf("client PING after %s idle, never ACKed", prose.Duration(time.Duration(*p.IdleMs*float64(time.Millisecond))))
		}
		switch {
		case p.Acked && j.ackLost(p):
			note = strings.Replace(note, "never ACKed", "ACKed by the server, the ACK lost on the way", 1)
			j.evidenceFrame(p.AckFrame, p.AckInput, "the server's PING ACK, sent again: it never reached the client")
		case p.Acked:
			note = strings.Replace(note, "never ACKed", "ACKed only after the client closed", 1)
		}
		if p.Inferred {
			note = strings.Replace(note, "client PING", "client PING (inferred)", 1)
		}
		j.evidenceFrame(p.Frame, p.Input, "%s", note)
		j.clientRetransmissions(p.Time)
		j.evidence(cl.client, "the client closes the connection %s after the PING", prose.Duration(cl.client.Time.Sub(p.Time)))
		return s
	}
	d, cf := j.stallData, &j.f.Dir[model.ClientToServer]
	heard := cf.AckAdvance
	if heard.IsZero() {
		heard = j.c.Start
	}
	var s string
	dt := cl.client.Time.Sub(d.Time)
	switch {
	case dt <= closeBurst:
		// Seen away from the client: its data arrived only as the
		// close did (the server's answer drew the RST).
		s = fmt.Sprintf("Inferred from TCP: the client acknowledged nothing new for %s; when its data finally arrived (frame %d), the server's answer drew an RST (frame %d): the client had already closed the connection, the signature of a failed health check (`http2: client connection lost`)",
			prose.Duration(d.Time.Sub(heard)), d.Frame, cl.client.Frame)
	case cl.clientRST:
		s = fmt.Sprintf("Inferred from TCP: %s after the last new data from the server, the client's %d-byte segment (frame %d) got no answer, and the client had closed the connection by frame %d (%s later, an RST to data reaching its closed socket): the signature of a failed health check (`http2: client connection lost`)",
			prose.Duration(d.Time.Sub(heard)), d.Len, d.Frame, cl.client.Frame, prose.Duration(dt))
	default:
		s = fmt.Sprintf("Inferred from TCP: %s after the last new data from the server, the client's %d-byte segment (frame %d) got no answer, and the client closed the connection %s later (frame %d): the signature of a failed health check (`http2: client connection lost`)",
			prose.Duration(d.Time.Sub(heard)), d.Len, d.Frame, prose.Duration(dt), cl.client.Frame)
	}
	if f := cf.AckAdvanceFrame; f != 0 {
		j.evidenceFrame(f, cf.AckAdvanceInput, "the last new data from the server reached the client here; silence after")
	}
	j.evidence(d, "client data (%d bytes) that never got an answer", d.Len)
	// Seen from the server's side: its answer left and never arrived.
	for _, m := range j.f.Dir[model.ServerToClient].Last {
		if m.Time.After(d.Time) && m.Time.Before(cl.client.Time) && dt > closeBurst {
			j.evidence(m, "the server answers (%d bytes); the client never acknowledges it", m.Len)
			break
		}
	}
	j.clientRetransmissions(cf.Stall.Time)
	how := "closes (FIN)"
	if cl.clientRST {
		how = "resets: its socket was already closed"
	}
	j.evidence(cl.client, "the client %s, %s after that data", how, prose.Duration(dt))
	return s
}

// lostPingUnclosedText tells the lost PING whose close the capture never
// saw (see lostPingUnclosed).
func (j *judgement) lostPingUnclosedText(p *model.Ping) string {
	s := fmt.Sprintf("The client's %s (frame %d) ", pingName(p), p.Frame)
	if p.IdleMs != nil {
		s = fmt.Sprintf("After %s without a frame from the server, the client's %s (frame %d) ",
			prose.Duration(time.Duration(*p.IdleMs*float64(time.Millisecond))), pingName(p), p.Frame)
	}
	note := "client PING, never ACKed"
	if p.Acked {
		s += fmt.Sprintf("was answered by the server (frame %d), but the ACK never reached the client", p.AckFrame)
		note = "client PING"
	} else {
		s += "got no ACK"
	}
	s += "; the client's TCP kept sending the PING again, then the connection went quiet: the client gave up (" + pingError(p) + "), and its close never reached the capture, queued behind the unacknowledged PING"
	s += j.healthCheckText()
	j.evidenceFrame(p.Frame, p.Input, "%s", note)
	if p.Acked {
		j.evidenceFrame(p.AckFrame, p.AckInput, "the server's PING ACK: the client never acknowledges it")
	}
	since := p.Time
	if p.AckTime != nil {
		since = *p.AckTime
	}
	j.clientRetransmissions(since)
	return s
}

// suspectsText adds what the suspects say that the sentence does not.
func (j *judgement) suspectsText() string {
	var s string
	for _, x := range j.v.Suspects {
		switch x {
		case model.SuspectMTUBlackhole:
			s += "; only full-sized segments were lost while smaller packets passed: an MTU black hole (ICMP \"fragmentation needed\" blocked, or a tunnel's smaller MTU)"
		case model.SuspectCaptureDrops:
			s += "; the capture itself missed packets the receiver acknowledged (capture drops, not network loss)"
		case model.SuspectIdleTimeout:
			if j.v.Kind != model.KindReset {
				s += "; nothing at all came back after a long idle period: a load balancer, NAT or firewall may have dropped the idle flow"
			}
		case model.SuspectZeroWindow:
			s += "; a receiver advertised a zero window (it stopped reading)"
		}
	}
	return s
}

// healthCheckText says what the HTTP/2 half inferred of the client's
// health-check settings, when it did.
func (j *judgement) healthCheckText() string {
	h := j.c.HTTP2
	if h == nil || h.HealthCheck == nil {
		return ""
	}
	hc := h.HealthCheck
	var parts []string
	if hc.ReadIdleTimeoutS != nil {
		parts = append(parts, fmt.Sprintf("ReadIdleTimeout about %s", prose.Duration(time.Duration(*hc.ReadIdleTimeoutS*float64(time.Second)))))
	}
	if hc.PingTimeoutS != nil {
		parts = append(parts, fmt.Sprintf("PingTimeout about %s", prose.Duration(time.Duration(*hc.PingTimeoutS*float64(time.Second)))))
	}
	if len(parts) == 0 {
		return ""
	}
	s := " (client health check: " + strings.Join(parts, ", ")
	if hc.ClientGoDefaults {
		s += ", client-go's defaults"
	}
	return s + ")"
}

// clientRetransmissions adds the client's retransmissions since t.
func (j *judgement) clientRetransmissions(t time.Time) {
	n := 0
	for _, e := range j.c.Events {
		if e.Dir != model.ClientToServer || e.Time.Before(t) {
			continue
		}
		switch e.Kind {
		case model.EvRetransmission, model.EvFastRetransmission, model.EvSpuriousRetrans:
		default:
			continue
		}
		if n++; n > 4 {
			continue
		}
		note := "the client sends it again: no ACK reached it"
		if e.Kind == model.EvSpuriousRetrans {
			note = "the client sends again data the server already ACKed: the server's ACKs do not reach the client"
		}
		j.evidenceFrame(e.Frame, e.Input, "%s", note)
	}
}

// lossPhrase says which direction lost packets and where.
func (j *judgement) lossPhrase() string {
	v := &j.v
	var s string
	switch v.LossDirection {
	case model.LossBoth:
		s = "in both directions"
		if v.LossLocation != model.LocationUnknown {
			return s + ", " + locationPhrase(v.LossLocation)
		}
		return s + fmt.Sprintf(": client->server %s; server->client %s",
			shortLocation(v.LossLocations[model.ClientToServer]), shortLocation(v.LossLocations[model.ServerToClient]))
	case model.LossClientToServer:
		s = dirArrow(model.ClientToServer)
	case model.LossServerToClient:
		s = dirArrow(model.ServerToClient)
	default:
		return "(direction unknown)"
	}
	return s + ", " + locationPhrase(v.LossLocation)
}

func locationPhrase(loc model.LossLocation) string {
	switch loc {
	case model.BeforeCapture:
		return "before the capture point (gaps the capture never saw, filled later)"
	case model.AfterCapture:
		return "after the capture point (the capture saw the packets, then they were sent again)"
	}
	return "at an unknown place relative to the capture point"
}

func shortLocation(loc model.LossLocation) string {
	switch loc {
	case model.BeforeCapture:
		return "before the capture point"
	case model.AfterCapture:
		return "after the capture point"
	}
	return "at an unknown place"
}

// unknownPhrase says why the direction is unknown and which capture
// would tell.
func (j *judgement) unknownPhrase() string {
	switch j.point {
	case model.PointClient:
		return "from this client-side capture the direction is unknown (the client's packets or the server's answers were lost after leaving it); a capture on the server side would tell"
	case model.PointServer:
		return "from this server-side capture the direction is unknown (nothing came from the client: its packets were lost on the way, or it stopped sending); a capture on the client side would tell"
	}
	return "the direction is unknown from this capture; captures on the client and the server side would tell"
}

// lossEvidence adds the first loss events of each lossy direction.
func (j *judgement) lossEvidence() {
	for d := model.ClientToServer; d <= model.ServerToClient; d++ {
		if _, ok := j.v.LossLocations[d]; !ok {
			continue
		}
		n := 0
		for _, e := range j.c.Events {
			if e.Dir != d || n >= 3 {
				continue
			}
			var note string
			switch {
			case e.Kind == model.EvLostSegment:
				note = fmt.Sprintf("%s: a gap the capture never saw before this segment", dirArrow(d))
			case (e.Kind == model.EvRetransmission || e.Kind == model.EvFastRetransmission || e.Kind == model.EvOutOfOrder) && e.Unseen:
				note = fmt.Sprintf("%s: fills a gap: lost before the capture point", dirArrow(d))
			case e.Kind == model.EvFastRetransmission || e.Kind == model.EvRetransmission && e.PeerMissing:
				note = fmt.Sprintf("%s: sent again; the %s never got it: lost after the capture point", dirArrow(d), senderName(d.Reverse()))
			case e.Kind == model.EvSpuriousRetrans:
				note = fmt.Sprintf("%s: data already ACKed sent again: the %s's ACKs are lost", dirArrow(d), senderName(d.Reverse()))
			default:
				continue
			}
			n++
			j.evidenceFrame(e.Frame, e.Input, "%s", note)
		}
	}
}

// pingName is what a client PING is, by its sender: grpc-go's keepalive
// or (x/net's, and any other) health check.
func pingName(p *model.Ping) string {
	if p.Sender == model.PingGRPCKeepalive {
		return "grpc-go keepalive PING"
	}
	return "health-check PING"
}

// pingError is the error the client reports when the PING goes
// unanswered: grpc-go's keepalive, or x/net's health check.
func pingError(p *model.Ping) string {
	if p.Sender == model.PingGRPCKeepalive {
		return "`keepalive ping failed to receive ACK within timeout`"
	}
	return "`http2: client connection lost`"
}
