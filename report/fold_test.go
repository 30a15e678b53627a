package report

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/model"
)

func foldReport(healthy, problems int) *model.Report {
	r := &model.Report{Summary: &model.Summary{Headline: "x"}}
	t0 := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	for i := range healthy + problems {
		kind := model.KindHealthy
		if i%2 == 1 && problems > 0 {
			kind = model.KindLostPing
			problems--
		}
		r.Connections = append(r.Connections, &model.Connection{Stream: i, Client: fmt.Sprintf("10.1.%d.7:%d", i%2, 40000+i),
			Server: "10.0.0.100:6443", Start: t0, End: t0.Add(time.Second), Verdict: &model.Verdict{Kind: kind}})
	}
	return r
}

func TestFold(t *testing.T) {
	tests := []struct {
		name              string
		healthy, problems int
		all               bool
		rows              int      // connection rows listed
		notListed         []string // lines of the folded list
	}{
		{name: "small capture: every connection", healthy: 15, problems: 3, rows: 18},
		{name: "large: the problems, the rest per path", healthy: 30, problems: 3, rows: 3,
			notListed: []string{"30 connections not listed", "17 healthy, 10.1.0.0/24 -> 10.0.0.100:6443", "13 healthy, 10.1.1.0/24 -> 10.0.0.100:6443"}},
		{name: "--all", healthy: 30, problems: 3, all: true, rows: 33},
		{name: "more problems than MaxListed", healthy: MaxListed + 50, problems: MaxListed + 50, rows: MaxListed,
			notListed: []string{fmt.Sprintf("%d connections not listed", MaxListed+100), "50 lost ping, 10.1.1.0/24"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := foldReport(tc.healthy, tc.problems)
			var b strings.Builder
			if err := WriteOptions(&b, r, "markdown", Options{All: tc.all}); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			// Markdown table rows of the connections table start with a
			// stream number cell.
			rows := 0
			for _, line := range strings.Split(out, "\n") {
				var n int
				if _, err := fmt.Sscanf(line, "| %d ", &n); err == nil && strings.Contains(line, "10.0.0.100:6443 |") {
					rows++
				}
			}
			if rows != tc.rows {
				t.Errorf("%d connection rows, want %d", rows, tc.rows)
			}
			for _, want := range tc.notListed {
				if !strings.Contains(out, want) {
					t.Errorf("no %q in\n%s", want, out[strings.Index(out, "## Connections"):])
				}
			}
			if tc.notListed == nil && strings.Contains(out, "not listed") {
				t.Errorf("folded though it should not")
			}
		})
	}
}
