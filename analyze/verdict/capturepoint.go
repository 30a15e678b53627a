package verdict

import (
	"net/netip"
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
	return majorityPoint(points, nil)
}

// majorityPoint is MajorityPoint of points and, besides, more counted
// by point.
func majorityPoint(points []model.CapturePoint, more map[model.CapturePoint]int) model.CapturePoint {
	n := map[model.CapturePoint]int{}
	for p, k := range more {
		if p != "" && p != model.PointUnknown {
			n[p] += k
		}
	}
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

// A capture in the middle of the path still places loss on one side of
// itself. Along direction d, loss after the capture point is on the
// side d goes to, loss before it on the side d comes from; a
// retransmission of data the capture saw pass, with no ACK for it ever
// seen (ambiguous elsewhere), was lost on the side it went to as well:
// either the data on its way there or the ACK on its way back, both
// between this point and that end.

// sideOf is the side of a middle capture point that loss along d at loc
// is on: ServerSide, ClientSide, or LocationUnknown.
func sideOf(d model.Direction, loc model.LossLocation) model.LossLocation {
	toward := d == model.ClientToServer // d goes to the server
	switch loc {
	case model.AfterCapture:
	case model.BeforeCapture:
		toward = !toward
	default:
		return model.LocationUnknown
	}
	if toward {
		return model.ServerSide
	}
	return model.ClientSide
}

// middleSide is the one side of a middle capture point all loss evidence
// is on, or LocationUnknown when there is none or it is on both.
func (j *judgement) middleSide() model.LossLocation {
	side := model.LocationUnknown
	for d := model.ClientToServer; d <= model.ServerToClient; d++ {
		l := &j.loss[d]
		var found []model.LossLocation
		if l.after > 0 || l.ambiguous > 0 {
			found = append(found, sideOf(d, model.AfterCapture))
		}
		if l.before > 0 {
			found = append(found, sideOf(d, model.BeforeCapture))
		}
		for _, s := range found {
			if side != model.LocationUnknown && side != s {
				return model.LocationUnknown
			}
			side = s
		}
	}
	return side
}

// middlePlace says where, on a middle capture, loss along d at loc was.
func middlePlace(d model.Direction, loc model.LossLocation) string {
	switch sideOf(d, loc) {
	case model.ServerSide:
		return "between this capture point and the server"
	case model.ClientSide:
		return "between the client and this capture point"
	}
	return "at an unknown place relative to this capture point"
}

// CaptureHost is the address of the host a capture was taken on when its
// connections show one host at their near end in both roles: the client
// of some (captured at the client) and the server of others (at the
// server), as a node capturing its own interface sees its outgoing calls
// and the calls it serves. Empty when the near ends differ, when any
// connection was captured in the middle, or when all have one role
// (capture_point says it then).
func CaptureHost(conns []*model.Connection, points []model.CapturePoint) string {
	names := &pathNames{endpoints: func(i int) (string, string, bool) { return conns[i].Client, conns[i].Server, true }}
	return captureHost(points, names.addrPort, nil)
}

// NearHosts is what CaptureHost reads of connections no longer listed
// (Forgotten): how many were captured at their client and at their
// server, and the one address at those near ends; Mixed when the near
// ends differ or one was captured in the middle.
type NearHosts struct {
	Host               netip.Addr
	AsClient, AsServer int
	Mixed              bool
}

// Add counts a connection captured at point, between client and server.
func (h *NearHosts) Add(point model.CapturePoint, client, server netip.AddrPort) {
	var near netip.Addr
	switch point {
	case model.PointClient:
		near = client.Addr().Unmap()
		h.AsClient++
	case model.PointServer:
		near = server.Addr().Unmap()
		h.AsServer++
	case model.PointMiddle:
		h.Mixed = true
		return
	default:
		return
	}
	switch {
	case !h.Host.IsValid():
		h.Host = near
	case h.Host != near:
		h.Mixed = true
	}
}

// captureHost is CaptureHost with connection i's client (or server)
// endpoint given by endpoint(i, client), ok false when not an address,
// and the connections more (nil: none) counts beside them.
func captureHost(points []model.CapturePoint, endpoint func(i int, client bool) (netip.AddrPort, bool), more *NearHosts) string {
	var host netip.Addr
	var asClient, asServer int
	if more != nil {
		if more.Mixed {
			return ""
		}
		host, asClient, asServer = more.Host, more.AsClient, more.AsServer
	}
	for i := range points {
		var near bool // the client's end
		switch points[i] {
		case model.PointClient:
			near = true
			asClient++
		case model.PointServer:
			asServer++
		case model.PointMiddle:
			return ""
		default:
			continue
		}
		ap, ok := endpoint(i, near)
		if !ok {
			return ""
		}
		switch a := ap.Addr().Unmap(); {
		case !host.IsValid():
			host = a
		case host != a:
			return ""
		}
	}
	if asClient == 0 || asServer == 0 {
		return ""
	}
	return host.String()
}

// hostPoint is where a connection was captured when the capture is
// host's (CaptureHost): at its client or its server end, whichever is
// host; unknown when neither is.
func hostPoint(c *model.Connection, host string) model.CapturePoint {
	addr := func(ep string) string {
		ap, err := netip.ParseAddrPort(ep)
		if err != nil {
			return ""
		}
		return ap.Addr().Unmap().String()
	}
	switch host {
	case "":
	case addr(c.Client):
		return model.PointClient
	case addr(c.Server):
		return model.PointServer
	}
	return model.PointUnknown
}

// middleSideWords says, for the headline, the one side of a middle
// capture point on which every problem connection captured there that
// places its loss lost it ("; lost between the capture point and the
// server"), or "" when none does or they differ.
func middleSideWords(conns []*model.Connection, st *settled) string {
	side := model.LocationUnknown
	differ := false
	st.each(conns, func(_ int, c *model.Connection) {
		v := c.Verdict
		if differ || v == nil || c.CapturePoint != model.PointMiddle || v.Kind == model.KindHealthy {
			return
		}
		var s model.LossLocation
		switch v.LossDirection {
		case model.LossClientToServer:
			s = sideOf(model.ClientToServer, v.LossLocation)
		case model.LossServerToClient:
			s = sideOf(model.ServerToClient, v.LossLocation)
		case model.LossUnknown:
			s = v.LossLocation
		default:
			return
		}
		switch {
		case s != model.ServerSide && s != model.ClientSide:
			differ = true
		case side != model.LocationUnknown && side != s:
			differ = true
		}
		side = s
	})
	if differ {
		return ""
	}
	switch side {
	case model.ServerSide:
		return "; lost between the capture point and the server"
	case model.ClientSide:
		return "; lost between the client and the capture point"
	}
	return ""
}

// sideEvidence adds, for a middle capture that places loss on one side
// of itself without a direction (ServerSide, ClientSide), the first
// retransmissions of data seen passing toward that side.
func (j *judgement) sideEvidence() {
	toward, end := model.ClientToServer, model.SideServer
	switch j.v.LossLocation {
	case model.ServerSide:
	case model.ClientSide:
		toward, end = model.ServerToClient, model.SideClient
	default:
		return
	}
	n := 0
	for _, e := range j.loss[toward].retrans {
		if n++; n > 3 {
			break
		}
		j.evidenceFrame(e.Frame, e.Input, "%s: seen passing toward the %s, sent again, no ACK came back: lost between this capture point and the %s", dirArrow(toward), end, end)
	}
}
