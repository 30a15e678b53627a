package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/h2pcap/h2pcap/model"
)

// points is, in a multi-point analysis, the capture points (their inputs
// and clock offsets) and the hop table: each pair of adjacent points per
// direction with the packets lost between them. Nothing with one point.
func (t *text) points(r *model.Report) {
	if len(r.Points) == 0 {
		return
	}
	t.capturePoints(r)
	t.hops(r)
}

// capturePoints is points' table of the points (the HTML draws the hops
// as a table of its own).
func (t *text) capturePoints(r *model.Report) {
	if len(r.Points) == 0 {
		return
	}
	t.heading("Capture points")
	var rows [][]string
	for _, p := range r.Points {
		var in []string
		for _, i := range p.Inputs {
			in = append(in, strconv.Itoa(i))
		}
		offset := "unknown"
		if p.ClockOffsetMs != nil {
			offset = strconv.FormatFloat(*p.ClockOffsetMs, 'f', 3, 64) + " ms"
		}
		name := p.Name
		if p.Reference {
			name += " (reference)"
		}
		conns := strconv.Itoa(p.Connections)
		if p.NotAtReference > 0 {
			conns += " (" + strconv.Itoa(p.NotAtReference) + " not at the reference)"
		}
		rows = append(rows, []string{name, strings.Join(in, ","), offset, conns})
	}
	t.fitted([]column{{"Point", 0}, {"Inputs", 0}, {"Clock offset", 1}, {"Connections", 2}}, rows)
}

// hops is points' hop table.
func (t *text) hops(r *model.Report) {
	if r.Summary == nil || len(r.Summary.Hops) == 0 {
		return
	}
	t.heading("Hops")
	var rows [][]string
	notLost := false
	for _, h := range r.Summary.Hops {
		notLost = notLost || hopNotLost(h) != ""
	}
	for _, h := range r.Summary.Hops {
		row := []string{
			dirLabel(h.Direction), h.From, h.To, strconv.Itoa(h.PacketsUpstream), strconv.Itoa(h.PacketsLost),
			strconv.FormatFloat(100*h.LossRate, 'f', 2, 64) + " %",
		}
		if notLost {
			row = append(row, hopNotLost(h))
		}
		rows = append(rows, row)
	}
	cols := []column{{"Direction", 0}, {"From", 0}, {"To", 0}, {"Packets", 1}, {"Lost", 0}, {"Loss", 2}}
	if notLost {
		cols = append(cols, column{"Missing, not lost", 2})
	}
	t.fitted(cols, rows)
}

// hopNotLost says what of the packets that never reached a hop's To was
// not lost there, or not known to be: stopped by a box that said so
// (ICMP), refused (an RST from between), missed by To's capture, or lost
// while To was not capturing (on this hop or one past it). Empty when
// there are none.
func hopNotLost(h model.Hop) string {
	var parts []string
	if h.ICMP > 0 {
		parts = append(parts, fmt.Sprintf("%d stopped (ICMP from %s)", h.ICMP, strings.Join(h.ICMPFrom, ", ")))
	}
	if h.Refused > 0 {
		parts = append(parts, fmt.Sprintf("%d refused (RST)", h.Refused))
	}
	if h.CaptureMissed > 0 {
		whole := ""
		if h.CaptureMissedConns > 0 {
			whole = fmt.Sprintf(" (%d connections it lacks whole)", h.CaptureMissedConns)
			if h.CaptureMissedConns == 1 {
				whole = " (1 connection it lacks whole)"
			}
		}
		parts = append(parts, fmt.Sprintf("%d missed by %s's capture%s", h.CaptureMissed, h.To, whole))
	}
	if h.LostUncaptured > 0 {
		parts = append(parts, fmt.Sprintf("%d lost while %s was not capturing, here or past it", h.LostUncaptured, h.To))
	}
	return strings.Join(parts, "; ")
}
