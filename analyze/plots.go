package analyze

import "github.com/h2pcap/h2pcap/model"

// plots gives each listed connection with a problem its picture data
// (Options.Plot): the healthy ones are drawn folded into a count per
// path, so their points would only make the report bigger.
func plots(r *model.Report, listed []*conn) {
	for i, c := range listed {
		out := r.Connections[i]
		if c.connState == nil || c.plot == nil || out.Verdict == nil || out.Verdict.Kind == "" || out.Verdict.Kind == model.KindHealthy {
			continue
		}
		client, _ := c.Roles()
		out.Plot = c.plot.Plot(client, c.start)
	}
}
