package report

import (
	"slices"
	"strings"

	"github.com/h2pcap/h2pcap/model"
)

// foldedRow counts the connections of one path and verdict kind that the
// text reports do not list.
type foldedRow struct {
	clientNet, server string
	kind              model.Kind
	n                 int
	first             int // the lowest stream counted
}

// fold picks the connections the text reports list: all of them when
// asked or when there are at most FoldAbove; else the problem
// connections, at most MaxListed, with the rest counted per path and
// kind in first-seen order.
func fold(r *model.Report, all bool) ([]*model.Connection, []foldedRow) {
	conns := r.Connections
	listed, rows := foldConns(conns, all || len(conns)+unlisted(r) <= FoldAbove)
	// The connections the analysis dropped from the list (a flood's
	// failed attempts: Report.Unlisted) are counted with the rows not
	// listed, in the order of their first stream.
	if len(r.Unlisted) > 0 {
		for _, u := range r.Unlisted {
			i := slices.IndexFunc(rows, func(f foldedRow) bool {
				return f.clientNet == u.ClientNet && f.server == u.Server && f.kind == u.Kind
			})
			if i < 0 {
				rows = append(rows, foldedRow{clientNet: u.ClientNet, server: u.Server, kind: u.Kind, first: u.FirstStream})
				i = len(rows) - 1
			}
			rows[i].n += u.Connections
			rows[i].first = min(rows[i].first, u.FirstStream)
		}
		slices.SortStableFunc(rows, func(a, b foldedRow) int { return a.first - b.first })
	}
	// The healthy connections the analysis forgot (summary.healthy_not_listed)
	// are in the per-path counts and not in the list: fold them in too.
	if s := r.Summary; s != nil && s.HealthyNotListed > 0 {
		onPath := map[[2]string]int{}
		for _, c := range conns {
			onPath[[2]string{model.ClientNet(c.Client), c.Server}]++
		}
		for _, u := range r.Unlisted {
			onPath[[2]string{u.ClientNet, u.Server}] += u.Connections
		}
		for _, p := range s.Paths {
			extra := p.Connections - onPath[[2]string{p.ClientNet, p.Server}]
			if extra <= 0 {
				continue
			}
			i := slices.IndexFunc(rows, func(f foldedRow) bool {
				return f.clientNet == p.ClientNet && f.server == p.Server && f.kind == model.KindHealthy
			})
			if i < 0 {
				rows = append(rows, foldedRow{clientNet: p.ClientNet, server: p.Server, kind: model.KindHealthy})
				i = len(rows) - 1
			}
			rows[i].n += extra
		}
	}
	return listed, rows
}

// unlisted is how many connections r dropped from its list
// (Report.Unlisted).
func unlisted(r *model.Report) int {
	n := 0
	for _, u := range r.Unlisted {
		n += u.Connections
	}
	return n
}

func foldConns(conns []*model.Connection, all bool) ([]*model.Connection, []foldedRow) {
	if all {
		return conns, nil
	}
	var listed []*model.Connection
	var rows []foldedRow
	type key struct {
		clientNet, server string
		kind              model.Kind
	}
	index := map[key]int{}
	for _, c := range conns {
		if problem(c) && len(listed) < MaxListed {
			listed = append(listed, c)
			continue
		}
		kind := model.KindHealthy
		if c.Verdict != nil && c.Verdict.Kind != "" {
			kind = c.Verdict.Kind
		}
		k := key{model.ClientNet(c.Client), c.Server, kind}
		i, ok := index[k]
		if !ok {
			i = len(rows)
			rows = append(rows, foldedRow{clientNet: k.clientNet, server: k.server, kind: kind, first: c.Stream})
			index[k] = i
		}
		rows[i].n++
	}
	return listed, rows
}

// foldedRows says what the connections table left out, per path.
func (t *text) foldedRows() {
	if len(t.folded) == 0 {
		return
	}
	total := 0
	for _, f := range t.folded {
		total += f.n
	}
	t.printf("\n%d connections not listed (--all lists every one):\n", total)
	for _, f := range t.folded {
		t.printf("%s%d %s, %s -> %s\n", t.bullet(), f.n, strings.ReplaceAll(string(f.kind), "_", " "), f.clientNet, f.server)
	}
}
