package verdict

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
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
	// A failed handshake's text is put together on the stack and made a
	// string once, at the end: a flood's or a scan's million verdicts
	// made four strings each, 0.9 GB for the collector.
	var cfArr [640]byte
	var cf []byte
	switch {
	case v.Kind == model.KindConnectFailed:
		cf = j.appendConnectFailed(cfArr[:0])
	case v.Kind == model.KindLostPing:
		s = j.lostPingText()
	case v.Kind == model.KindBlackholed:
		s = j.blackholedText()
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
			s = j.refusedText(m)
		default:
			s = fmt.Sprintf("The %s reset the connection (frame %d)", senderName(j.cl.by), m.Frame)
			j.evidence(m, "RST from the %s ends the connection", senderName(j.cl.by))
		}
		if slices.Contains(v.Suspects, model.SuspectMiddleboxReset) && !j.refused {
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
	case j.synOnly:
		// A SYN that waited synRTO is a connect_failed: this one met
		// the end of the capture first.
		s = fmt.Sprintf("Still connecting when the capture ended: the client's SYN (frame %d) came %s before the end, sooner than TCP would send it again (%s); too soon to tell whether the handshake fails",
			c.FirstFrame, prose.Duration(j.end.Sub(c.Start)), prose.Duration(synRTO))
		j.evidenceFrame(c.FirstFrame, c.FirstInput, "the client's SYN, just before the end of the capture")
	default:
		s = "No loss"
		if m := j.cl.first; m.ok() {
			s += fmt.Sprintf("; closed by the %s", senderName(j.cl.by))
			j.evidence(m, "%s from the %s", map[bool]string{true: "RST", false: "FIN"}[j.cl.firstRST], senderName(j.cl.by))
		} else if m, by := j.unseenFIN(); m.ok() {
			s += fmt.Sprintf("; closed by the %s: its FIN is not in the capture, but the %s acknowledged it (frame %d)", senderName(by), senderName(by.Reverse()), m.Frame)
			j.evidence(m, "the %s acknowledges a FIN from the %s that the capture lacks", senderName(by.Reverse()), senderName(by))
		} else {
			s += "; still open at the end of the capture"
		}
	}
	if v.Kind == model.KindHealthy || v.Kind == model.KindDegraded {
		s += j.reorderedPhrase()
	}
	if p := j.ownClose; p != nil && v.Kind != model.KindLostPing {
		if cf != nil {
			s, cf = string(cf), nil
		}
		s += fmt.Sprintf("; the client closed %s after its PING (frame %d), before any answer: a close of its own, not a lost PING (a health check waits its PingTimeout, a second or more)",
			prose.Duration(j.cl.client.Time.Sub(p.Time)), p.Frame)
		j.evidenceFrame(p.Frame, p.Input, "the client's PING")
		j.evidence(j.cl.client, "the client closes %s later", prose.Duration(j.cl.client.Time.Sub(p.Time)))
		if p.Acked && p.AckFrame != 0 {
			j.evidenceFrame(p.AckFrame, p.AckInput, "the PING's ACK, after the close")
		}
	}
	// A failed handshake's text places its loss itself.
	if v.Kind != model.KindDegraded && v.Kind != model.KindHealthy && v.Kind != model.KindConnectFailed {
		switch v.LossDirection {
		case model.LossNone:
		case model.LossUnknown:
			s += "; " + j.unknownPhrase()
		default:
			s += "; packets were lost " + j.lossPhrase()
		}
	}
	if cf != nil {
		cf = append(cf, j.suspectsText()...)
		cf = append(cf, j.oneWayText()...)
		v.Summary = j.text(append(cf, '.'))
	} else {
		v.Summary = s + j.suspectsText() + j.oneWayText() + "."
	}
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

// refusedText tells a connection refused at once (an RST answering the
// SYN), by whom its TTL says: the server host (nothing listening), a
// device in between, or, with nothing of the server's to compare with,
// that it cannot be told.
func (j *judgement) refusedText(m SegRef) string {
	c, f := j.c, j.f
	h, ttl := f.ServerHost, rstTTL(f)
	switch j.refusedBy {
	case refuserServer:
		j.evidence(m, "RST answering the SYN, TTL %d as the server's other packets: connection refused by the server", ttl)
		return fmt.Sprintf("The server refused the connection: an RST (frame %d) answered the SYN with the TTL (%d) of the server's packets on its other connections here (nothing listening on %s)",
			m.Frame, ttl, c.Server)
	case refuserMiddlebox:
		// The evidence note is the suspect's.
		return fmt.Sprintf("A device in between refused the connection, not the server: the RST (frame %d) that answered the SYN carries TTL %d, where the server's packets on %d other connection(s) here carry %d; a firewall, load balancer or router is rejecting new connections to %s (this says nothing about whether the server listens)",
			m.Frame, ttl, h.Conns, h.TTL, c.Server)
	}
	j.evidence(m, "RST answering the SYN: connection refused")
	why := "the capture holds no other packet from " + hostOf(c.Server) + " to compare its TTL with"
	if h.Mixed {
		why = "the server's packets on its other connections here carry different TTLs"
	}
	return fmt.Sprintf("The connection was refused: an RST (frame %d, TTL %d) answered the SYN; whether the server sent it (nothing listening on %s) or a device in between (a firewall rejecting it) cannot be told: %s",
		m.Frame, ttl, c.Server, why)
}

// appendConnectFailed appends to b the text of a handshake that never
// completed: how often and how long the client tried, what came back,
// and where that places the loss.
func (j *judgement) appendConnectFailed(b []byte) []byte {
	v := &j.v
	cf, sf := &j.f.Dir[model.ClientToServer], &j.f.Dir[model.ServerToClient]
	j.evidence(cf.FirstSYN, "the client's SYN")
	if cf.SYNs > 1 {
		j.evidence(cf.LastSYN, "the client's SYN, sent again (%d in all)", cf.SYNs)
	}
	synAcks := ""
	if sf.SYNs > 0 {
		synAcks = fmt.Sprintf("the server sent its SYN-ACK once (frame %d)", sf.FirstSYN.Frame)
		if sf.SYNs > 1 {
			synAcks = fmt.Sprintf("the server sent its SYN-ACK %d times over %s (frames %d to %d)",
				sf.SYNs, prose.Duration(sf.LastSYN.Time.Sub(sf.FirstSYN.Time)), sf.FirstSYN.Frame, sf.LastSYN.Frame)
		}
	}
	// The client's RST: a SYN-ACK reached its socket after it gave up.
	var gaveUp string
	if cf.RST.ok() && sf.FirstSYN.ok() {
		sa := sf.FirstSYN
		if markBefore(sf.LastSYN, cf.RST) {
			sa = sf.LastSYN
		}
		gaveUp = fmt.Sprintf("; the SYN-ACK of frame %d (%s after the client's first SYN) reached the client only after it had given up, and the client's kernel answered it with an RST (frame %d): the RST is a consequence of the failed handshake, not a reset",
			sa.Frame, prose.Duration(sa.Time.Sub(cf.FirstSYN.Time)), cf.RST.Frame)
		j.evidence(sa, "a SYN-ACK that reaches the client after it gave up")
		j.evidence(cf.RST, "the client's kernel answers it with an RST: the connection attempt was already abandoned")
	}
	b = append(b, "The TCP handshake never completed: "...)
	if cf.SYNs > 1 {
		b = fmt.Appendf(b, "the client sent its SYN %d times over %s (frames %d to %d)",
			cf.SYNs, prose.Duration(cf.LastSYN.Time.Sub(cf.FirstSYN.Time)), cf.FirstSYN.Frame, cf.LastSYN.Frame)
	} else {
		b = append(b, "the client sent its SYN once (frame "...)
		b = strconv.AppendInt(b, int64(cf.FirstSYN.Frame), 10)
		b = append(b, ')')
	}
	switch {
	case sf.SYNs == 0 && j.point == model.PointServer:
		b = append(b, ", and the server never answered (no SYN-ACK): its listen queue was full, or a firewall on the server host dropped the SYN"...)
	case sf.SYNs == 0:
		b = append(b, " and got no SYN-ACK"...)
		b = j.appendStillTrying(b, cf.LastSYN)
		b = append(b, "; from this capture the SYN or the SYN-ACK was lost, unknown which: "...)
		b = append(b, j.handshakeCaptureHint()...)
	case j.lateSYNAck:
		b = append(b, " and got no SYN-ACK in time"...)
		b = append(b, gaveUp...)
		b = fmt.Appendf(b, "; the SYN-ACK of frame %d came %s after the client's last SYN, so it was the server sending its SYN-ACK again for a SYN that had reached it: the server's SYN-ACKs were lost server->client, before this capture point",
			sf.FirstSYN.Frame, prose.Duration(sf.FirstSYN.Time.Sub(cf.LastSYN.Time)))
	case v.LossDirection == model.LossServerToClient && gaveUp != "":
		b = append(b, "; "+synAcks+", never ACKed"+gaveUp+"; the SYN-ACKs were lost server->client after this capture point"...)
	case v.LossDirection == model.LossServerToClient:
		b = append(b, "; "+synAcks+", never ACKed; the client sent its SYN again after a SYN-ACK had gone by: the SYN-ACKs were lost server->client after this capture point"...)
	default:
		b = append(b, "; "+synAcks+", never ACKed"+gaveUp+"; the SYN-ACKs were lost on the way to the client or the client's ACKs on the way back, unknown which: "+j.handshakeCaptureHint()...)
	}
	if sf.SYNs > 0 && !j.lateSYNAck {
		j.evidence(sf.FirstSYN, "the server's SYN-ACK")
		if sf.SYNs > 1 {
			j.evidence(sf.LastSYN, "the server's SYN-ACK, sent again (%d in all): never ACKed", sf.SYNs)
		}
	}
	return b
}

// appendStillTrying appends to b whether the client was still sending
// SYNs when the capture ended (its next one, at twice the last gap, would
// have come after the end), or had stopped.
func (j *judgement) appendStillTrying(b []byte, last SegRef) []byte {
	cf := &j.f.Dir[model.ClientToServer]
	next := synRTO
	if cf.SYNs > 1 {
		// Backoff doubles the gap; with only first and last known, the
		// average gap is a lower bound of the last.
		next = 2 * last.Time.Sub(cf.FirstSYN.Time) / time.Duration(cf.SYNs-1)
	}
	if j.end.IsZero() || j.end.Sub(last.Time) < next {
		b = append(b, " (the capture ended "...)
		b = append(b, prose.Duration(j.end.Sub(last.Time))...)
		return append(b, " after the last SYN, too soon to tell whether the client had given up)"...)
	}
	b = append(b, ", then stopped trying (nothing more from it in the "...)
	b = append(b, prose.Duration(j.end.Sub(last.Time))...)
	return append(b, " to the end of the capture: most likely its connect timeout)"...)
}

// handshakeCaptureHint says which capture would place a failed
// handshake's loss.
func (j *judgement) handshakeCaptureHint() string {
	switch j.point {
	case model.PointClient:
		return "a capture at the server would tell (the SYN arriving there and SYN-ACKs leaving mean the SYN-ACKs were lost on the way back)"
	case model.PointServer:
		return "a capture at the client would tell (SYN-ACKs arriving there mean the client's ACKs were lost)"
	}
	return "captures at the client and at the server would tell"
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
			s += j.dropsText()
		case model.SuspectIdleTimeout:
			if j.v.Kind != model.KindReset {
				s += "; nothing at all came back after a long idle period: a load balancer, NAT or firewall may have dropped the idle flow"
			}
		case model.SuspectZeroWindow:
			s += "; a receiver advertised a zero window (it stopped reading)"
		case model.SuspectServerStalled:
			s += j.stalledText()
		case model.SuspectICMPRejected:
			s += j.rejectedText()
		}
	}
	return s
}

// blackholedText tells a dead direction: what was sent, how long and how
// often it was sent again, that nothing answered, and the last packet
// that made progress.
func (j *judgement) blackholedText() string {
	d := j.dead[0]
	df := &j.f.Dir[d]
	from := j.retryFrom(d)
	who, peer := senderName(d), senderName(d.Reverse())
	what := "its data"
	if from.Len > 0 {
		what = fmt.Sprintf("its data (frame %d, %d bytes)", from.Frame, from.Len)
	}
	upTo := "the end of the capture"
	if m := j.cl.first; m.ok() && !markBefore(m, df.RetryFirst) {
		upTo = fmt.Sprintf("the close (frame %d)", m.Frame)
	}
	s := fmt.Sprintf("The connection died, it did not recover: the %s sent %s again %d times over %s and the %s never acknowledged it, nor anything new, up to %s: %s black-holed",
		who, what, df.Retries, prose.Duration(j.retrying(d)), peer, upTo, dirArrow(d))
	if len(j.dead) == 2 {
		s += fmt.Sprintf(" (and %s: the %s's retransmissions went unanswered too)", dirArrow(j.dead[1]), senderName(j.dead[1]))
	}
	switch m, by, acked := j.progress(); {
	case acked:
		s += fmt.Sprintf("; it last made progress at frame %d, %s (the %s acknowledging new data from the %s)",
			m.Frame, m.Time.UTC().Format("15:04:05.000"), senderName(by), senderName(by.Reverse()))
		j.evidence(m, "the last packet that made progress: the %s acknowledges new data", senderName(by))
	case m.ok():
		s += fmt.Sprintf("; no packet in the capture acknowledged new data: the last from the %s was frame %d, %s", peer, m.Frame, m.Time.UTC().Format("15:04:05.000"))
		j.evidence(m, "the last packet from the %s", peer)
	}
	j.evidence(from, "the %s's data, first sent here: never acknowledged", who)
	j.evidence(df.RetryFirst, "the %s sends it again: no answer", who)
	j.evidence(df.RetryLast, "the %s's last retransmission (%d in all, over %s): still no answer", who, df.Retries, prose.Duration(j.retrying(d)))
	return s
}

// stalledText says what makes the server a stalled application: its TCP
// acknowledged the client's data, its application never answered.
func (j *judgement) stalledText() string {
	d, ack := j.stalledData, j.f.Dir[model.ClientToServer].StallAcked
	j.evidence(d, "client data (%d bytes): it arrived, and no answer ever came", d.Len)
	j.evidence(ack, "the server's TCP acknowledges it: the packets arrived")
	wait := j.end
	if m := j.cl.first; m.ok() && m.Time.After(d.Time) {
		wait = m.Time
	}
	return fmt.Sprintf("; nothing was lost on the way: the server's TCP acknowledged the client's data (frame %d, ACK in frame %d) while its HTTP/2 and TLS layers answered nothing for %s, not a PING nor a request: the server application was stalled (a stopped or hung process, an overloaded event loop), not the network",
		d.Frame, ack.Frame, prose.Duration(wait.Sub(d.Time)))
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
		if j.point == model.PointMiddle {
			// In the middle each direction's place is a side of the path.
			return s + fmt.Sprintf(": client->server %s; server->client %s",
				middlePlace(model.ClientToServer, v.LossLocations[model.ClientToServer]),
				middlePlace(model.ServerToClient, v.LossLocations[model.ServerToClient]))
		}
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
	if j.point == model.PointMiddle {
		d := model.ClientToServer
		if v.LossDirection == model.LossServerToClient {
			d = model.ServerToClient
		}
		return s + ", " + middlePlace(d, v.LossLocation) + locationWhy(v.LossLocation)
	}
	return s + ", " + locationPhrase(v.LossLocation)
}

func locationPhrase(loc model.LossLocation) string {
	switch loc {
	case model.BeforeCapture, model.AfterCapture:
		return shortLocation(loc) + locationWhy(loc)
	}
	return "at an unknown place relative to the capture point"
}

// locationWhy says what placed loss at loc: the evidence, in brackets.
func locationWhy(loc model.LossLocation) string {
	switch loc {
	case model.AfterCapture:
		return " (the capture saw the packets, then they were sent again)"
	case model.BeforeCapture:
		return " (gaps the capture never saw, filled later)"
	}
	return ""
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
	switch j.v.LossLocation {
	case model.ServerSide:
		return "packets passed this capture point toward the server and were sent again with no ACK ever coming back: they were lost between this capture point and the server (the data on its way there or the server's ACKs on their way back; a capture at the server would tell which)"
	case model.ClientSide:
		return "packets passed this capture point toward the client and were sent again with no ACK ever coming back: they were lost between this capture point and the client (the data on its way there or the client's ACKs on their way back; a capture at the client would tell which)"
	}
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
	j.sideEvidence()
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
			case e.Kind == model.EvLostSegment && j.loss[d].drops > 0:
				// The capture drops packets of this direction: a gap
				// proves nothing; retransmissions that fill one do.
				continue
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

// rejectedText tells the ICMP errors that answered a side's packets: a
// box on the path stopped them and said so.
func (j *judgement) rejectedText() string {
	var s string
	for d := model.ClientToServer; d <= model.ServerToClient; d++ {
		df := &j.f.Dir[d]
		if df.Rejected == 0 {
			continue
		}
		frames := fmt.Sprintf("frame %d", df.RejectedFirst.Frame)
		if df.Rejected > 1 {
			frames = fmt.Sprintf("frames %d to %d", df.RejectedFirst.Frame, df.RejectedLast.Frame)
		}
		s += fmt.Sprintf("; %d of the %s's packets %s answered with ICMP %s by %s (%s): a router or firewall on the path stopped them and said so, and TCP sent them again",
			df.Rejected, senderName(d), map[bool]string{true: "were", false: "was"}[df.Rejected > 1],
			icmpWords(df.RejectedV6, df.RejectedType, df.RejectedCode), df.RejectedFrom, frames)
		j.evidenceFrame(df.RejectedFirst.Frame, df.RejectedFirst.Input, "ICMP %s from %s quoting a %s packet", icmpWords(df.RejectedV6, df.RejectedType, df.RejectedCode), df.RejectedFrom, senderName(d))
	}
	return s
}

// icmpWords names an ICMP error's type and code.
func icmpWords(v6 bool, typ, code uint8) string {
	if v6 {
		switch {
		case typ == 1 && code == 1:
			return "destination unreachable (administratively prohibited)"
		case typ == 1 && code == 0:
			return "destination unreachable (no route)"
		case typ == 1 && code == 3:
			return "destination unreachable (address unreachable)"
		case typ == 1 && code == 4:
			return "destination unreachable (port unreachable)"
		case typ == 1 && (code == 5 || code == 6):
			return "destination unreachable (policy or reject route)"
		case typ == 1:
			return fmt.Sprintf("destination unreachable (code %d)", code)
		case typ == 2:
			return "packet too big"
		case typ == 3:
			return "time exceeded"
		}
		return fmt.Sprintf("type %d code %d", typ, code)
	}
	switch {
	case typ == 3 && (code == 9 || code == 10 || code == 13):
		return "destination unreachable (administratively prohibited)"
	case typ == 3 && code == 0:
		return "destination unreachable (network unreachable)"
	case typ == 3 && code == 1:
		return "destination unreachable (host unreachable)"
	case typ == 3 && code == 3:
		return "destination unreachable (port unreachable)"
	case typ == 3 && code == 4:
		return "destination unreachable (fragmentation needed)"
	case typ == 3:
		return fmt.Sprintf("destination unreachable (code %d)", code)
	case typ == 11:
		return "time exceeded"
	}
	return fmt.Sprintf("type %d code %d", typ, code)
}

// reorderedPhrase tells the late originals (Event.Late) that filled a gap
// or came after a retransmission had (dirLoss.late), per direction, with
// the first gap filled as evidence: reordering, which the loss counts
// leave out, is worth knowing of the path (an ECMP or LAG member, a
// multi-queue receiver); "" without any.
func (j *judgement) reorderedPhrase() string {
	var parts []string
	for d := model.ClientToServer; d <= model.ServerToClient; d++ {
		if n := j.loss[d].late; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, arrow(d)))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	for _, e := range j.c.Events {
		if e.Late && e.Unseen {
			j.evidenceFrame(e.Frame, e.Input, "%s: fills a gap with an IP ID older than the packets ahead of it: the original, reordered", arrow(e.Dir))
			break
		}
	}
	return fmt.Sprintf("; segments arrived behind packets their sender sent after them (older IP IDs: %s): reordered on the way or in the capture, not lost", strings.Join(parts, ", "))
}
