package analyze

import "github.com/h2pcap/h2pcap/model"

// plots gives each listed connection with a problem its picture data
// (Options.Plot): the healthy ones are drawn folded into a count per
// path, so their points would only make the report bigger. A
// connection whose trackers went before (settled, made into its row
// with ReportOnce, half-open) has them from then (keepPlot).
func plots(r *model.Report, listed []*conn) {
	for i, c := range listed {
		out := r.Connections[i]
		pic := c.pic
		c.pic = nil
		if !problemRow(out) {
			continue
		}
		switch {
		case c.connState != nil && c.plot != nil:
			client, _ := c.Roles()
			out.Plot = c.plot.Plot(client, c.start)
		case pic != nil:
			out.Plot = pic
		}
	}
}

// problemRow says whether row out has a verdict and not a healthy one:
// a connection the pictures draw.
func problemRow(out *model.Connection) bool {
	return out.Verdict != nil && out.Verdict.Kind != "" && out.Verdict.Kind != model.KindHealthy
}

// keepPlot takes c's pictures' data from its recorder (Options.Plot)
// before its trackers go, client being its client's side: nothing more
// of it is analysed once they go, so the data is what the Report would
// take of it. The trackers' 3 KB and more go; the data (a few hundred
// bytes for a short connection, some thousands of points at most)
// stays until the Report gives it to the row, if the row has a problem.
func (c *conn) keepPlot(client int) {
	if c.connState != nil && c.plot != nil {
		c.pic = c.plot.Plot(client, c.start)
	}
}
