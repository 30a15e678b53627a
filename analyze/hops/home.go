package hops

import "github.com/h2pcap/h2pcap/model"

// PlaceHome is Place for rows that are each its connection's as one
// point saw it, a point of its own for each (h2pcap live on several
// interfaces lists each connection once, analysed on the interface it
// was first seen on): home returns flow f's row and that point, nil if
// the report does not list it. What was lost is told before or after
// that point along each direction. reports are every point's own
// Reports, for the rows' points.
func (res *Result) PlaceHome(reports []*model.Report, home func(f *FlowResult) (*model.Connection, int)) {
	rows := res.rowsOf(reports, reports[res.Reference].Connections)
	for _, f := range res.All() {
		row, pt := home(f)
		if row == nil || pt < 0 || f.Streams[pt] < 0 {
			continue
		}
		dir0 := model.ClientToServer
		if f.Sender0[pt] != row.Client {
			dir0 = model.ServerToClient
		}
		res.placeRow(row, f, rows, dir0, pt)
	}
}
