package verdict

import (
	"fmt"
	"strings"

	"github.com/h2pcap/h2pcap/model"
)

// The words of a multi-point analysis (package hops): where between the
// capture points each loss happened.

// arrow is a direction as the headline writes it.
func arrow(d model.Direction) string {
	if d == model.ClientToServer {
		return "client->server"
	}
	return "server->client"
}

// WithPlacement adds to a connection's verdict summary where its losses
// happened between capture points: "Lost client->server between
// router-c and router-s: 3 packets (frames 120, 131, 140 in input 1)."
func WithPlacement(summary string, pl []model.Placement) string {
	w := placementWords(pl)
	if w == "" {
		return summary
	}
	if summary == "" {
		return "L" + w[1:]
	}
	if strings.HasSuffix(summary, ":") {
		return summary + " " + w
	}
	return strings.TrimSpace(summary) + " L" + w[1:]
}

// placementWords is "lost client->server between a and b: 3 packets
// (frames ...)." or empty without loss.
func placementWords(pl []model.Placement) string {
	var parts []string
	for _, p := range pl {
		w := fmt.Sprintf("%s between %s and %s: %s", arrow(p.Direction), p.From, p.To, plural(p.Packets, "packet"))
		if len(p.Frames) > 0 {
			w += " (" + framesWords(p.Frames, p.Packets) + ")"
		}
		parts = append(parts, w)
	}
	if len(parts) == 0 {
		return ""
	}
	return "lost " + strings.Join(parts, "; ") + "."
}

// framesWords lists the frames of lost packets at the point that last saw
// them: "frames 120, 131 of input 1 there, and 4 more".
func framesWords(fs []model.Moment, total int) string {
	var b strings.Builder
	b.WriteString("frame")
	if len(fs) > 1 {
		b.WriteString("s")
	}
	for i, f := range fs {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " %d", f.Frame)
		if i == len(fs)-1 || fs[i+1].Input != f.Input {
			fmt.Fprintf(&b, " of input %d", f.Input)
		}
	}
	b.WriteString(" there")
	if more := total - len(fs); more > 0 {
		fmt.Fprintf(&b, ", and %d more", more)
	}
	return b.String()
}

// WithHops adds the hop table's news to the headline: each hop that lost
// packets, most first, and that every other hop was clean ("Loss
// client->server between router-c and router-s: 31 of 412 packets;
// every other hop clean.").
func WithHops(headline string, hops []model.Hop) string {
	return withHops(headline, hops, nil)
}

// WithHopsAlong is WithHops for points the user put along one path
// (analyze's inputs, named in order): where the hops compared do not link
// every point to the others (no connection was matched across two of
// them: a capture of other traffic, or a box between that rewrote more
// than the matching could follow), it says what was not compared instead
// of "no packet lost between the N points". A box's own interfaces
// (live) are not one path: WithHops.
func WithHopsAlong(headline string, hops []model.Hop, points []string) string {
	return withHops(headline, hops, points)
}

func withHops(headline string, hops []model.Hop, points []string) string {
	if len(hops) == 0 {
		return headline
	}
	parts := linkedParts(hops, points)
	var lossy []model.Hop
	for _, h := range hops {
		if h.PacketsLost > 0 {
			lossy = append(lossy, h)
		}
	}
	var s string
	switch {
	case len(lossy) == 0 && len(parts) > 1:
		s = "No packet lost on the hops compared."
	case len(lossy) == 0:
		s = fmt.Sprintf("No packet lost between the %d capture points.", len(pointNames(hops)))
	default:
		var parts []string
		for _, h := range lossy {
			parts = append(parts, fmt.Sprintf("%s between %s and %s: %d of %d packets", arrow(h.Direction), h.From, h.To, h.PacketsLost, h.PacketsUpstream))
		}
		s = "Loss " + strings.Join(parts, "; ")
		if len(lossy) < len(hops) {
			s += "; every other hop clean"
		}
		s += "."
	}
	if len(parts) > 1 {
		var names []string
		for _, p := range parts {
			names = append(names, strings.Join(p, ", "))
		}
		s += fmt.Sprintf(" No connection was matched across these groups of capture points: %s; what was lost between them is not known (captures of other traffic, or a box between that rewrote more of each connection than the matching follows).", strings.Join(names, " | "))
	}
	for _, h := range hops {
		if h.Refused > 0 {
			s += fmt.Sprintf(" %s %s refused between %s and %s (an RST from between, not from the far end).", plural(h.Refused, "packet"), arrow(h.Direction), h.From, h.To)
		}
		if h.ICMP > 0 {
			s += fmt.Sprintf(" %s %s stopped between %s and %s by %s, which said so with an ICMP error: not lost.", plural(h.ICMP, "packet"), arrow(h.Direction), h.From, h.To, strings.Join(h.ICMPFrom, ", "))
		}
	}
	// What a capture missed, a sentence a pair of points: both ways in
	// one ("m2's capture lacks 91 packets client->server and 88
	// server->client that passed m1"), not the same sentence twice.
	type pair struct{ from, to string }
	var pairs []pair
	missed := map[pair][]model.Hop{}
	for _, h := range hops {
		if h.CaptureMissed > 0 {
			k := pair{h.From, h.To}
			if missed[k] == nil {
				pairs = append(pairs, k)
			}
			missed[k] = append(missed[k], h)
		}
	}
	for _, k := range pairs {
		var what []string
		conns := 0
		for i, h := range missed[k] {
			n := thousands(h.CaptureMissed)
			if i == 0 {
				n = plural(h.CaptureMissed, "packet")
			}
			what = append(what, n+" "+arrow(h.Direction))
			conns += h.CaptureMissedConns
		}
		s += fmt.Sprintf(" %s's capture lacks %s that passed %s, data the receiver acknowledged or ACKs sent while that capture was missing such data: that capture missed them, the network did not lose them.", k.to, strings.Join(what, " and "), k.from)
		if conns > 0 {
			s += fmt.Sprintf(" Of those, %s %s lacks whole, answered from past it: a capture filter there (ports, hosts), or a rewrite between the points that the matching did not follow.", plural(conns, "connection"), k.to)
		}
	}
	if headline == "" {
		return s
	}
	return strings.TrimSpace(headline) + " " + s
}

// linkedParts splits points (in their order) into the groups the hops
// link; nil without points.
func linkedParts(hops []model.Hop, points []string) [][]string {
	if len(points) == 0 {
		return nil
	}
	index := map[string]int{}
	parent := make([]int, len(points))
	for i, p := range points {
		index[p], parent[i] = i, i
	}
	find := func(i int) int {
		for parent[i] != i {
			i = parent[i]
		}
		return i
	}
	for _, h := range hops {
		a, okA := index[h.From]
		b, okB := index[h.To]
		if !okA || !okB {
			continue
		}
		if ra, rb := find(a), find(b); ra != rb {
			parent[max(ra, rb)] = min(ra, rb)
		}
	}
	var out [][]string
	at := map[int]int{}
	for i, p := range points {
		r := find(i)
		k, ok := at[r]
		if !ok {
			k = len(out)
			at[r] = k
			out = append(out, nil)
		}
		out[k] = append(out[k], p)
	}
	return out
}

func pointNames(hops []model.Hop) map[string]bool {
	out := map[string]bool{}
	for _, h := range hops {
		out[h.From], out[h.To] = true, true
	}
	return out
}

// Place adds to a connection's verdict what the other capture points of a
// multi-point analysis found: the losses placed between two adjacent
// points (pl), each direction's loss located relative to this report's
// capture point (where). A direction the capture point alone could not
// tell (unknown, or only which side) becomes the one the points show; a
// healthy verdict whose connection lost data between the points (which
// one capture may show as no more than a tail loss probe) becomes
// degraded, while one that lost only pure ACKs keeps its words (a lost
// pure ACK changes nothing of the connection's fate); the placement is
// said in the summary either way.
func Place(v *model.Verdict, pl []model.Placement, where map[model.Direction]model.LossLocation) {
	if v == nil || len(pl) == 0 {
		return
	}
	var dirs, data [2]bool
	for _, p := range pl {
		if p.Packets > 0 {
			dirs[p.Direction] = true
		}
		if p.Bytes > 0 {
			data[p.Direction] = true
		}
	}
	if v.Kind == model.KindHealthy && (data[0] || data[1]) {
		// One capture showed no more than a healthy connection may (an
		// isolated retransmission, a tail loss probe); the points show
		// data lost between them, which TCP sent again: degraded.
		v.Kind = model.KindDegraded
		v.LossDirection = model.LossUnknown
		v.LossLocation = model.LocationUnknown
		v.Summary = "Packets were lost and TCP recovered: this capture alone showed no more than a healthy connection may (an isolated retransmission); the capture points show the loss."
	}
	// Unsure: no direction, or only the side of a middle capture.
	unsure := v.LossDirection == model.LossUnknown || v.LossLocation == model.ServerSide || v.LossLocation == model.ClientSide
	if unsure && (dirs[0] || dirs[1]) {
		switch {
		case dirs[0] && dirs[1]:
			v.LossDirection = model.LossBoth
		case dirs[0]:
			v.LossDirection = model.LossClientToServer
		default:
			v.LossDirection = model.LossServerToClient
		}
		v.LossLocations = map[model.Direction]model.LossLocation{}
		loc := model.LossLocation("")
		for d, ok := range dirs {
			if !ok {
				continue
			}
			l := where[model.Direction(d)]
			if l == "" {
				l = model.LocationUnknown
			}
			v.LossLocations[model.Direction(d)] = l
			if loc == "" {
				loc = l
			} else if loc != l {
				loc = model.LocationUnknown
			}
		}
		v.LossLocation = loc
		v.Summary = strings.TrimSpace(v.Summary) + " The other capture points tell the direction:"
	}
	v.Summary = WithPlacement(v.Summary, pl)
}

// Stopped adds to a verdict the packets the capture points show were
// stopped by a box that said so (ICMP errors), and takes back the loss
// the reference capture alone inferred in a direction where the points
// show none lost, only stopped: those packets were sent again because a
// firewall rejected them (or a route was missing), not because the
// network lost them.
func Stopped(v *model.Verdict, pl []model.Placement, st []model.Stopped) {
	if v == nil || len(st) == 0 {
		return
	}
	var lost, stopped [2]bool
	for _, p := range pl {
		lost[p.Direction] = lost[p.Direction] || p.Packets > 0
	}
	var parts []string
	for _, s := range st {
		stopped[s.Direction] = true
		parts = append(parts, fmt.Sprintf("%s %s between %s and %s by %s", plural(s.Packets, "packet"), arrow(s.Direction), s.From, s.To, strings.Join(s.By, ", ")))
	}
	w := "Stopped, and said so with ICMP errors (a firewall's reject, no route, fragmentation needed): " + strings.Join(parts, "; ") + "; not lost."
	// The direction the reference capture inferred loss in, where the
	// points found only stopped packets, loses its claim.
	drop := func(d model.Direction) bool { return stopped[d] && !lost[d] }
	switch {
	case v.LossDirection == model.LossBoth && drop(model.ClientToServer) && !drop(model.ServerToClient):
		v.LossDirection = model.LossServerToClient
		delete(v.LossLocations, model.ClientToServer)
		w += " The client->server packets sent again were those."
	case v.LossDirection == model.LossBoth && drop(model.ServerToClient) && !drop(model.ClientToServer):
		v.LossDirection = model.LossClientToServer
		delete(v.LossLocations, model.ServerToClient)
		w += " The server->client packets sent again were those."
	}
	v.Summary = strings.TrimSpace(v.Summary) + " " + w
}

// MissedBy adds to a verdict the capture points whose captures lack the
// connection whole though it was answered past them (hops'
// capture_missed_connections): a filter there on ports or hosts, so
// that nothing of it is compared there and no loss is placed beside
// them. Without it the reader of the connection's row saw it at no such
// point and no word of why.
func MissedBy(v *model.Verdict, points []string) {
	if v == nil || len(points) == 0 {
		return
	}
	what := "The capture at " + joinAnd(points) + " lacks this connection, answered past it"
	if len(points) > 1 {
		what = "The captures at " + joinAnd(points) + " lack this connection, answered past them"
	}
	v.Summary = strings.TrimSpace(v.Summary) + " " + what + " (a capture filter, or a rewrite the matching did not follow): nothing of it is compared there."
}

// joinAnd is "a", "a and b", "a, b and c".
func joinAnd(xs []string) string {
	if len(xs) < 2 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}
