package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/internal/jsonrow"
	"github.com/h2pcap/h2pcap/model"
)

// spilledRows is a model.RowSource of rows encoded as a spill writes them.
type spilledRows struct{ conns []*model.Connection }

func (s spilledRows) Len() int { return len(s.conns) }

func (s spilledRows) Rows(fn func(int, []byte) error) error {
	enc := jsonrow.New()
	for _, c := range s.conns {
		b, err := enc.Encode(c)
		if err != nil {
			return err
		}
		if err := fn(c.Stream, b); err != nil {
			return err
		}
	}
	return nil
}

// TestElsewhereRows: a multi-point report's rows of connections the
// reference point never saw (Connection.Point) are named by their
// point, m2:0, in the table and findings (and m2-0 in the page's lanes
// and anchors), their Wireshark filters name their capture, an incident
// lists their streams per point, and the
// JSON writes them after the reference point's rows, each point's in
// stream order with its spilled ones.
func TestElsewhereRows(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 23, 0, 0, 0, time.UTC)
	row := func(point string, stream int, kind model.Kind) *model.Connection {
		return &model.Connection{Point: point, Stream: stream, Client: fmt.Sprintf("198.18.1.2:%d", 40000+stream), Server: "198.18.2.2:8080",
			Start: t0, End: t0.Add(time.Second), App: "h2c", Verdict: &model.Verdict{Kind: kind, Summary: string(kind) + "."}}
	}
	r := &model.Report{
		Version: 1,
		Points:  []model.Point{{Name: "m1", Reference: true}, {Name: "m2"}},
		Connections: []*model.Connection{
			row("", 0, model.KindBlackholed), row("", 2, model.KindHealthy),
			row("m2", 0, model.KindBlackholed), row("m2", 3, model.KindHealthy),
		},
		Summary: &model.Summary{Connections: 6, ProblemConnections: 2, Headline: "2 dead.", Paths: []model.Path{},
			Incidents: []model.Incident{{Kind: model.IncidentPerFlow, Server: "198.18.2.2:8080", Start: t0, End: t0,
				Connections: []int{0}, ConnectionsAt: []model.PointStreams{{Point: "m2", Streams: []int{0}}}, Explanation: "Two died."}}},
		Spilled:          spilledRows{[]*model.Connection{row("", 1, model.KindHealthy)}},
		SpilledElsewhere: []model.PointRows{{Point: "m2", Rows: spilledRows{[]*model.Connection{row("m2", 1, model.KindHealthy)}}}},
	}
	var buf bytes.Buffer
	if err := Write(&buf, r, "table"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"streams 0; m2's 0; Wireshark: tcp.stream in {0}, tcp.stream in {0} in m2's capture",
		"│ m2:0 ", "stream m2:0  198.18.1.2:40000 -> 198.18.2.2:8080  (Wireshark: tcp.stream eq 0 in m2's capture)",
		"stream 0  198.18.1.2:40000 -> 198.18.2.2:8080  (Wireshark: tcp.stream eq 0)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the table lacks %q:\n%s", want, out)
		}
	}
	// The page's timeline draws both stream 0s, each its own lane and
	// anchor, and the incident's band covers them.
	buf.Reset()
	if err := Write(&buf, r, "html"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="lane-0"`, `id="lane-m2-0"`, `id="stream-0"`, `id="stream-m2-0"`, `href="#stream-m2-0"`, `id="incident-0"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	buf.Reset()
	if err := Write(&buf, r, "json"); err != nil {
		t.Fatal(err)
	}
	var doc struct{ Connections []*model.Connection }
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range doc.Connections {
		got = append(got, fmt.Sprintf("%s:%d", c.Point, c.Stream))
	}
	if want := ":0 :1 :2 m2:0 m2:1 m2:3"; strings.Join(got, " ") != want {
		t.Errorf("JSON rows %v, want %s", got, want)
	}
}
