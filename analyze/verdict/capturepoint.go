package verdict

import (
	"time"

	"github.com/h2pcap/h2pcap/model"
)

// Where a capture was taken, per connection and then for the Report.
//
// Timing: the capture sees the SYN, the SYN-ACK and the client's ACK. Next
// to the client, the SYN's round trip to the server separates SYN and
// SYN-ACK, while the client's ACK follows the SYN-ACK at once; next to the
// server it is the other way round; in between, both gaps are part of the
// round trip.
//
// TTLs: a host's own packets leave with an initial TTL (64, 128 or 255);
// packets that crossed routers arrive decremented. The client's packets
// undecremented and the server's decremented put the capture at the
// client, and so on.
//
// Both directions' TTLs already decremented put the capture on a router
// or load balancer, whatever the timing: each end's packets have crossed
// a hop before reaching it, so it is in the middle of the path (a load
// balancer next to its backends sees their SYN-ACK at once, as a server
// capture would; a node capturing its pods' routed traffic on its uplink
// is a router for them too). Else a clear timing (one gap handshakeRatio
// times the other, over a round trip of at least clearRTT) is the direct
// evidence of "near" and wins. Else the TTLs decide, when they tell; else
// a weaker timing (twice the other gap) does. A capture that holds one
// direction only (a filter on one host) has one side's TTL: undecremented,
// the capture is at that side, whose own packets they are. On sub-millisecond links the host's own turnaround is
// as long as the round trip and only TTLs tell (the lab's veths: 43 µs
// against 12 µs at the client, 18 against 17 at the server). A capture
// that began mid-connection has no handshake: TTLs only.
//
// One capture file is taken at one place, so the Report's point is the
// majority of the connections that tell; each Connection also carries its
// own, for captures that merge several interfaces.

// capturePoint infers where a connection was captured from its handshake
// timing (SYN to SYN-ACK, SYN-ACK to ACK; zero: not seen) and its two
// directions' usual TTLs (0: unknown).
func capturePoint(synToSynAck, synAckToAck time.Duration, clientTTL, serverTTL int) model.CapturePoint {
	if clientTTL != 0 && serverTTL != 0 && !initialTTL(clientTTL) && !initialTTL(serverTTL) {
		return model.PointMiddle
	}
	if synToSynAck+synAckToAck >= clearRTT {
		if p := pointFromTiming(synToSynAck, synAckToAck, handshakeRatio); p == model.PointClient || p == model.PointServer {
			return p
		}
	}
	if p := pointFromTTL(clientTTL, serverTTL); p != model.PointUnknown {
		return p
	}
	return pointFromTiming(synToSynAck, synAckToAck, 2)
}

func pointFromTiming(a, b time.Duration, ratio time.Duration) model.CapturePoint {
	if a <= 0 || b <= 0 {
		return model.PointUnknown
	}
	switch {
	case a >= minHandshakeGap && a >= ratio*b:
		return model.PointClient
	case b >= minHandshakeGap && b >= ratio*a:
		return model.PointServer
	case a >= minHandshakeGap && b >= minHandshakeGap:
		return model.PointMiddle
	}
	return model.PointUnknown
}

func pointFromTTL(clientTTL, serverTTL int) model.CapturePoint {
	switch {
	case clientTTL == 0 && serverTTL == 0:
		return model.PointUnknown
	case serverTTL == 0:
		// Only the client's packets: at the client if they have crossed
		// no router; else anywhere after one.
		if initialTTL(clientTTL) {
			return model.PointClient
		}
		return model.PointUnknown
	case clientTTL == 0:
		if initialTTL(serverTTL) {
			return model.PointServer
		}
		return model.PointUnknown
	}
	ci, si := initialTTL(clientTTL), initialTTL(serverTTL)
	switch {
	case ci && !si:
		return model.PointClient
	case si && !ci:
		return model.PointServer
	case !ci && !si:
		return model.PointMiddle
	}
	// Both undecremented: the same host, or one LAN without a router.
	return model.PointUnknown
}

// initialTTL reports whether ttl is a common initial TTL: the packet has
// crossed no router yet.
func initialTTL(ttl int) bool { return ttl == 64 || ttl == 128 || ttl == 255 }

// MajorityPoint is the Report's capture point: the most common known
// point among the connections; unknown on a tie or when none tells.
func MajorityPoint(points []model.CapturePoint) model.CapturePoint {
	n := map[model.CapturePoint]int{}
	for _, p := range points {
		if p != "" && p != model.PointUnknown {
			n[p]++
		}
	}
	best, bestN, tie := model.PointUnknown, 0, false
	for _, p := range []model.CapturePoint{model.PointClient, model.PointServer, model.PointMiddle} {
		switch {
		case n[p] > bestN:
			best, bestN, tie = p, n[p], false
		case n[p] == bestN && bestN > 0:
			tie = true
		}
	}
	if tie {
		return model.PointUnknown
	}
	return best
}

// capturePoint is where the capture was taken, as this connection's
// handshake and TTLs tell.
func (f *Facts) CapturePoint() model.CapturePoint {
	return capturePoint(f.SYNToSYNAck, f.SYNAckToACK, f.Dir[model.ClientToServer].TTL, f.Dir[model.ServerToClient].TTL)
}
