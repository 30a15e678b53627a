package analyze

import (
	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/model"
)

// judgeReport has the verdict stage judge a Report built from the listed
// connections (r.Connections[i] is listed[i]), each with the facts its
// verdict tracker kept, mapped to client and server as report mapped them.
// It returns the listed connections the Report kept (probes are counted
// apart), so that r.Connections[i] is still the i-th.
//
// facts[i] are listed[i]'s facts, or nil for those still to be taken from
// their trackers (a half-open connection's were taken when its row was
// made: its trackers are gone again, half.go), or given later (those
// later has a Brief of: built again from their SYN when judged).
func (a *Analyzer) judgeReport(r *model.Report, listed []*conn, facts []*verdict.Facts, later *verdict.Later, place verdict.Placer) []*conn {
	for i, c := range listed {
		if facts[i] == nil && c.connState != nil {
			client, _ := c.Roles()
			facts[i] = c.vt.Facts(client, &c.tcp)
		}
	}
	var forgotten *verdict.Forgotten
	if a.fg != nil {
		forgotten = &a.fg.forgotten
	}
	kept := verdict.JudgeReportLater(r, facts, later, forgotten, place)
	out := make([]*conn, len(kept))
	for i, k := range kept {
		out[i] = listed[k]
	}
	return out
}
