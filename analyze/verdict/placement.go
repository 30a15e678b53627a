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
	var parts []string
	for _, p := range pl {
		w := fmt.Sprintf("%s between %s and %s: %s", arrow(p.Direction), p.From, p.To, plural(p.Packets, "packet"))
		if len(p.Frames) > 0 {
			w += " (" + framesWords(p.Frames, p.Packets) + ")"
		}
		parts = append(parts, w)
	}
	if len(parts) == 0 {
		return summary
	}
	s := "Lost " + strings.Join(parts, "; ") + "."
	if summary == "" {
		return s
	}
	return strings.TrimSpace(summary) + " " + s
}

// framesWords lists the frames of lost packets at the point that last saw
// them: "frames 120, 131 of input 1, and 4 more".
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
	if more := total - len(fs); more > 0 {
		fmt.Fprintf(&b, ", and %d more", more)
	}
	b.WriteString(" there")
	return b.String()
}

// WithHops adds the hop table's news to the headline: each hop that lost
// packets, most first, and that every other hop was clean ("Loss
// client->server between router-c and router-s: 31 of 412 packets;
// every other hop clean.").
func WithHops(headline string, hops []model.Hop) string {
	if len(hops) == 0 {
		return headline
	}
	var lossy []model.Hop
	for _, h := range hops {
		if h.PacketsLost > 0 {
			lossy = append(lossy, h)
		}
	}
	var s string
	switch {
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
	if headline == "" {
		return s
	}
	return strings.TrimSpace(headline) + " " + s
}

func pointNames(hops []model.Hop) map[string]bool {
	out := map[string]bool{}
	for _, h := range hops {
		out[h.From], out[h.To] = true, true
	}
	return out
}
