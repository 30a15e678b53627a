package report

import (
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
	if r.Summary == nil || len(r.Summary.Hops) == 0 {
		return
	}
	t.heading("Hops")
	rows = nil
	for _, h := range r.Summary.Hops {
		rows = append(rows, []string{
			dirLabel(h.Direction), h.From, h.To, strconv.Itoa(h.PacketsUpstream), strconv.Itoa(h.PacketsLost),
			strconv.FormatFloat(100*h.LossRate, 'f', 2, 64) + " %",
		})
	}
	t.fitted([]column{{"Direction", 0}, {"From", 0}, {"To", 0}, {"Packets", 1}, {"Lost", 0}, {"Loss", 2}}, rows)
}
