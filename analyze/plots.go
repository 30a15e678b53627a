package analyze

import "github.com/h2pcap/h2pcap/model"

// plots gives each listed connection with a problem its picture data
// (Options.Plot): the healthy ones are drawn folded into a count per
// path, so their points would only make the report bigger. A
// connection whose trackers went before (settled, made into its row
// with ReportOnce, half-open) has them from then (keepPlot).
func (a *Analyzer) plots(r *model.Report, listed []*conn) {
	for i, c := range listed {
		out := r.Connections[i]
		pic := a.pics[c]
		delete(a.pics, c)
		if !problemRow(out) {
			continue
		}
		if c.connState != nil {
			client, _ := c.Roles()
			pic = c.plotOf(client)
		}
		out.Plot = pic
	}
}

// problemRow says whether row out has a verdict and not a healthy one:
// a connection the pictures draw.
func problemRow(out *model.Connection) bool {
	return out.Verdict != nil && out.Verdict.Kind != "" && out.Verdict.Kind != model.KindHealthy
}

// plotOf is c's pictures' data from its recorder (Options.Plot; else
// nil), client being its client's side, taken before its trackers go:
// nothing more of it is analysed once they go, so the data is what the
// Report would take of it.
func (c *conn) plotOf(client int) *model.Plot {
	if c.connState != nil && c.plot != nil {
		return c.plot.Plot(client, c.start)
	}
	return nil
}

// keepPlot keeps pic, the pictures' data of c whose trackers go, until
// the Report gives it to c's row if the row has a problem (plots, or the
// JSON spill: verdict.Later.Done): a few hundred bytes for a short
// connection, some thousands of points at most, where the trackers are
// 3 KB and more.
func (a *Analyzer) keepPlot(c *conn, pic *model.Plot) {
	if pic == nil {
		return
	}
	if a.pics == nil {
		a.pics = map[*conn]*model.Plot{}
	}
	a.pics[c] = pic
}
