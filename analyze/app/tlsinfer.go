package app

import (
	"fmt"
	"time"

	"github.com/h2pcap/h2pcap/decode/h2"
	"github.com/h2pcap/h2pcap/decode/tls"
	"github.com/h2pcap/h2pcap/internal/prose"
)

// Inferring PINGs without keys.
//
// An HTTP/2 PING frame is 17 bytes, and Go's, gRPC's and nghttp2's
// stacks write it in a record of its own when the connection is idle, so
// its record has a fixed length per cipher (decode/tls sizes.go: 39 bytes
// in TLS 1.3, 46 in TLS 1.2 AES-GCM, 38 in TLS 1.2 ChaCha20). Size alone
// is not proof: a GOAWAY without debug data, or a DATA frame of 8 bytes,
// is a record of the same length. So a record is taken for a PING only
// when it also behaves like one:
//
//   - it comes after its sender heard nothing for at least minInferIdle
//     (a health check or keepalive PING is sent because the peer is
//     silent), or is the first thing either side sends in the capture
//     and then answered within maxBlindAck, and silence follows the pair;
//   - then the peer's first record after it is of the same length: its
//     ACK, which a peer sends at once; or the peer sends nothing at all
//     until the end, and the sender closes no sooner than minPingWait
//     after it, or never in the capture: an unanswered PING.
//
// A GOAWAY fails the second test: the peer answers it by closing, with
// a close_notify record of another size, or its sender closes at once.

const (
	// minInferIdle is the silence before a record taken for a PING: a
	// ReadIdleTimeout or keepalive time shorter than a second would
	// flood a connection with PINGs, and none of the stacks allow it
	// by default (x/net: 0 = off, client-go 30 s, grpc-go 10 s minimum).
	minInferIdle = time.Second
	// maxInferAck bounds the wait for an ACK: past client-go's
	// PingTimeout (15 s) the connection is gone anyway.
	maxInferAck = 20 * time.Second
	// minPingWait: a client gives up on a PING after PingTimeout (x/net
	// default 15 s, seldom under 1 s); a close sooner than this after a
	// PING-sized record is the close that record announced (a GOAWAY).
	minPingWait = 500 * time.Millisecond
	// maxBlindAck bounds the answer to a PING-sized record with no
	// silence measured before it (the capture's first): a peer ACKs at
	// once, so it comes within a round trip, and one over a second is
	// rare where a slower answer to a request is not.
	maxBlindAck = time.Second
)

// pingInfer finds PINGs and PING ACKs in a TLS connection's records that
// were not decrypted, and adds them to the connection's pingTracker.
type pingInfer struct {
	size    int // the PING record length, once known; 0 while any of pingSizes
	last    [2]h2.Meta
	hasLast [2]bool
	// pend is the record taken for a PING whose answer is awaited.
	pend    inferCand
	hasPend bool
	// held is a pair found at the start of the capture, with no silence
	// measured before it: it counts once silence follows it.
	held    inferCand
	heldAck h2.Meta
	hasHeld bool
	// gaveUp is the PING listed unanswered when its sender closed
	// (its ID is gaveUpAt): an ACK may still come, too late.
	gaveUp    inferCand
	gaveUpAt  int
	hasGaveUp bool
}

type inferCand struct {
	side    int
	size    int
	meta    h2.Meta
	idle    time.Duration
	hasIdle bool
}

// setSuite fixes the PING record length from the negotiated version and
// cipher suite. A suite with no fixed overhead (CBC) leaves size -1: no
// inference.
func (p *pingInfer) setSuite(version, suite uint16) {
	if p.size != 0 {
		return
	}
	if n, ok := tls.PingRecordLen(version, suite); ok {
		p.size = n
	} else {
		p.size = -1
	}
}

// pingSize says whether a record of n bytes may hold a PING. Before the
// size is known (no handshake seen) any of the AEAD sizes may: TLS 1.2
// ChaCha20, TLS 1.3, TLS 1.2 AES-GCM.
func (p *pingInfer) pingSize(n int) bool {
	if p.size != 0 {
		return n == p.size
	}
	return n == 38 || n == 39 || n == 46
}

// record takes an application_data record from side that was not
// decrypted, of wire length n, completed by the segment meta.
func (p *pingInfer) record(side, n int, meta h2.Meta, pings *pingTracker) {
	if p.late(side, meta) {
		return
	}
	defer func() { p.last[side], p.hasLast[side] = meta, true }()
	if p.size < 0 {
		return
	}
	if p.hasGaveUp {
		p.hasGaveUp = false
		if c := &p.gaveUp; c.side != side && n == c.size && meta.Time.Sub(c.meta.Time) <= maxInferAck {
			// The ACK, after the sender had closed: listed as a
			// decoded one would be, acked late.
			if r := pings.byID(p.gaveUpAt); r != nil {
				r.Acked = true
				r.setAck(meta)
				pings.setReason(r.ID, p.reason(c, &meta))
			}
			return
		}
	}
	p.settle(meta, pings)
	if p.hasPend {
		c := &p.pend
		if c.side != side {
			// The peer's first record since the candidate: its ACK, or
			// proof the candidate was something else.
			p.hasPend = false
			wait := meta.Time.Sub(c.meta.Time)
			switch {
			case n != c.size:
			case wait > maxInferAck:
				if c.hasIdle {
					return // an answer too late to be one, and no PING either
				}
			case c.hasIdle:
				p.commit(c, meta, pings)
				return
			case wait <= maxBlindAck:
				// No silence before it: a small request and its
				// answer look the same. Silence after it will tell.
				p.held, p.heldAck, p.hasHeld = *c, meta, true
				return
			}
			// Fall through: this record may itself be a PING.
		} else {
			return // the sender goes on; its peer's answer is still awaited
		}
	}
	if !p.pingSize(n) {
		return
	}
	c := inferCand{side: side, size: n, meta: meta}
	switch {
	case p.hasLast[1-side]:
		c.idle, c.hasIdle = meta.Time.Sub(p.last[1-side].Time), true
		if c.idle < minInferIdle {
			return
		}
	case p.hasLast[side]:
		// The peer has sent nothing in the capture while this side
		// has: no silence to measure, and a reply is what is awaited.
		return
	}
	p.pend, p.hasPend = c, true
}

// spoke takes a record from side that cannot be a PING: it still ends a
// silence, and is the peer's answer to a candidate, if one is awaited.
func (p *pingInfer) spoke(side int, meta h2.Meta, pings *pingTracker) {
	if p.late(side, meta) {
		return
	}
	p.settle(meta, pings)
	if p.hasPend && p.pend.side != side {
		p.hasPend = false
	}
	p.hasGaveUp = p.hasGaveUp && p.gaveUp.side == side
	p.last[side], p.hasLast[side] = meta, true
}

// end decides the awaited candidate at the end of the connection or the
// capture: an unanswered PING, unless its sender closed right after it
// (a GOAWAY). closed and closeAt are the sender's first FIN or RST.
func (p *pingInfer) end(closed bool, closeAt h2.Meta, pings *pingTracker) {
	if p.hasHeld {
		p.hasHeld = false
		p.commit(&p.held, p.heldAck, pings)
	}
	if !p.hasPend {
		return
	}
	c := &p.pend
	p.hasPend = false
	if closed && closeAt.Time.Sub(c.meta.Time) < minPingWait {
		return
	}
	n := pings.added
	pings.inferred(c.side, c.meta, false, h2.Meta{}, c.idle, c.hasIdle, p.reason(c, nil))
	if pings.added > n {
		p.gaveUp, p.gaveUpAt, p.hasGaveUp = *c, n, true
	}
}

// late says whether a record comes out of capture order: a direction
// that searched for its first record boundary emits the records it held
// when it finds one, after records of the other direction that came later.
// Its time says nothing then of what answered what, only that its side
// spoke. (The candidates awaited are each side's last record: a record
// before them is before a last one.)
func (p *pingInfer) late(side int, meta h2.Meta) bool {
	for s := range p.last {
		if p.hasLast[s] && meta.Time.Before(p.last[s].Time) {
			if !p.hasLast[side] || !meta.Time.Before(p.last[side].Time) {
				p.last[side], p.hasLast[side] = meta, true
			}
			return true
		}
	}
	return false
}

// settle decides the held pair at the next record, at meta: it counts
// if silence came first.
func (p *pingInfer) settle(meta h2.Meta, pings *pingTracker) {
	if p.hasHeld {
		p.hasHeld = false
		if meta.Time.Sub(p.heldAck.Time) >= minInferIdle {
			p.commit(&p.held, p.heldAck, pings)
		}
	}
}

// commit adds the PING c answered by ack.
func (p *pingInfer) commit(c *inferCand, ack h2.Meta, pings *pingTracker) {
	p.size = c.size // one pair settles the suite
	pings.inferred(c.side, c.meta, true, ack, c.idle, c.hasIdle, p.reason(c, &ack))
}

// reason says why a record was taken for a PING, for Ping.Reason.
func (p *pingInfer) reason(c *inferCand, ack *h2.Meta) string {
	s := fmt.Sprintf("%d-byte TLS record, the size of a record holding one PING frame", c.size)
	if c.hasIdle {
		s += fmt.Sprintf(", sent after %s without a record from the peer", prose.Duration(c.idle))
	} else {
		s += ", the first record of the capture"
	}
	if ack != nil {
		return s + fmt.Sprintf("; the peer's next record (frame %d), %s later, has the same size: the ACK", ack.Frame, prose.Duration(ack.Time.Sub(c.meta.Time)))
	}
	return s + "; the peer sent nothing after it"
}
