package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/model"
	"golang.org/x/net/html"
)

// sampleHTML is sample with what only the pictures show: an incident over
// the reset connection, its plot (a retransmitted run, the ACK line, a
// SACK block, a GOAWAY), the time of its unanswered PING and a server
// PING the client answered.
func sampleHTML() *model.Report {
	r := sample()
	t0 := r.Connections[0].Start
	c := r.Connections[1]
	c.HTTP2.Pings[0].Time = t0.Add(10500 * time.Millisecond)
	ackAt := t0.Add(3010 * time.Millisecond)
	c.HTTP2.Pings = append(c.HTTP2.Pings, model.Ping{Frame: 150, From: model.SideServer, Data: "0000000000000001", Sender: "unknown",
		Acked: true, AckFrame: 151, Time: t0.Add(3 * time.Second), AckTime: &ackAt})
	c.Verdict.Since = &model.Moment{Frame: 299, Time: t0.Add(10 * time.Second)}
	r.Summary.Incidents = []model.Incident{{
		Kind: model.IncidentPerFlow, Server: "[fd18:2::2]:80", Start: t0.Add(10 * time.Second), End: t0.Add(15500 * time.Millisecond),
		Connections: []int{1}, Unaffected: 1,
		Explanation: "1 of 2 connections from [fd18::]/64 to [fd18:2::2]:80 died together while 1 stayed clean: a per-flow fault.",
	}}
	plot := &model.Plot{Goaways: []model.PlotMark{{TimeUs: 9_000_000, Frame: 300, From: model.SideServer}}}
	cs := &plot.ClientToServer
	for i := range 40 {
		cs.Segments = append(cs.Segments, model.PlotSegment{TimeUs: int64(i) * 250_000, Seq: 1 + int64(i)*17, Len: 17, Frame: 10 + i})
		cs.Acks = append(cs.Acks, model.PlotAck{TimeUs: int64(i)*250_000 + 1000, Ack: 18 + int64(i)*17, Frame: 10 + i})
	}
	cs.Segments = append(cs.Segments, model.PlotSegment{TimeUs: 10_000_000, Seq: 681, Len: 17, Frame: 310, Retrans: true})
	cs.SACKs = []model.PlotSACK{{TimeUs: 10_100_000, Lo: 698, Hi: 715, Frame: 311}}
	cs.SegmentsSeen, cs.Stride, cs.AckStride, cs.SACKStride = len(cs.Segments), 1, 1, 1
	sc := &plot.ServerToClient
	sc.Segments = []model.PlotSegment{{TimeUs: 100, Seq: 1, Len: 1200, Frame: 11}, {TimeUs: 14_500_000, Seq: 1201, Ctl: model.CtlRST, Frame: 7, Input: 1}}
	sc.SegmentsSeen, sc.Stride, sc.AckStride = 2, 1, 1
	c.Plot = plot
	return r
}

// structure lists the page's landmarks: each element with an id, or one
// of the classes the reader's eye goes to, indented under its landmark
// parent, with runs of the same line counted: the golden test holds the
// page's shape, not its pixels.
func structure(t *testing.T, page []byte) string {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	classes := map[string]bool{"lane": true, "incident": true, "folded": true, "ping": true, "ping open": true, "seqgraph": true,
		"seqdir": true, "segs": true, "ackline": true, "sack": true, "retrans": true, "pingline": true, "since": true, "pkts": true,
		"conn problem": true, "conn": true, "finding": true, "matrix": true, "cell": true, "more": true, "mk": true,
		"since mk": true, "pingack mk": true, "retrans mk": true, "pingline mk": true, "rst mk": true, "fin mk": true, "goaway mk": true}
	var lines []string
	var walk func(n *html.Node, depth int)
	walk = func(n *html.Node, depth int) {
		next := depth
		if n.Type == html.ElementNode {
			var id, class string
			for _, a := range n.Attr {
				switch a.Key {
				case "id":
					id = a.Val
				case "class":
					class = a.Val
				}
			}
			if id != "" || classes[class] {
				line := strings.Repeat("  ", depth) + n.Data
				if id != "" {
					line += "#" + id
				}
				if class != "" {
					line += "." + strings.ReplaceAll(class, " ", ".")
				}
				lines = append(lines, line)
				next = depth + 1
			}
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch, next)
		}
	}
	walk(doc, 0)
	var b strings.Builder
	for i := 0; i < len(lines); {
		j := i
		for j < len(lines) && lines[j] == lines[i] {
			j++
		}
		if j-i > 1 {
			fmt.Fprintf(&b, "%s x%d\n", lines[i], j-i)
		} else {
			b.WriteString(lines[i] + "\n")
		}
		i = j
	}
	return b.String()
}

func TestHTMLStructure(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    *model.Report
	}{
		{"empty", &model.Report{Version: 1, Connections: []*model.Connection{}}},
		{"sample", sample()},
		{"sample-pictures", sampleHTML()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, tc.r, "html"); err != nil {
				t.Fatal(err)
			}
			got := structure(t, buf.Bytes())
			golden := filepath.Join("testdata", tc.name+".html.structure")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test ./report -update creates it)", err)
			}
			if got != string(want) {
				t.Errorf("structure differs from %s (go test ./report -update to accept):\n%s", golden, got)
			}
		})
	}
}

// The page says what the Markdown report says, in the same words: the
// headline, the incidents, each verdict with its evidence notes, and the
// findings' lines.
func TestHTMLSameWords(t *testing.T) {
	r := sampleHTML()
	var page, md bytes.Buffer
	if err := Write(&page, r, "html"); err != nil {
		t.Fatal(err)
	}
	if err := Write(&md, r, "table"); err != nil {
		t.Fatal(err)
	}
	text := html.UnescapeString(page.String())
	want := []string{r.Summary.Headline, r.Summary.Incidents[0].Explanation}
	for _, c := range r.Connections {
		if !problem(c) {
			continue // the Markdown report has a healthy verdict's words only in its findings
		}
		want = append(want, c.Verdict.Summary)
		for _, e := range c.Verdict.Evidence {
			want = append(want, e.Note)
		}
	}
	// Every line of the table report's findings, as it writes them.
	inFindings := false
	for _, line := range strings.Split(md.String(), "\n") {
		switch {
		case line == "FINDINGS":
			inFindings = true
		case inFindings && strings.HasPrefix(line, "  ") && !strings.HasPrefix(strings.TrimSpace(line), "stream "):
			want = append(want, strings.TrimSpace(line))
		}
	}
	if len(want) < 15 {
		t.Fatalf("only %d sentences to look for", len(want))
	}
	for _, s := range want {
		if !strings.Contains(text, s) {
			t.Errorf("the page lacks %q", s)
		}
	}
}

// Nothing is fetched when the page opens: no external script, style,
// image, font or link to another origin.
func TestHTMLSelfContained(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, sampleHTML(), "html"); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, re := range []string{`(?i)\ssrc\s*=`, `(?i)<link\b`, `(?i)@import`, `(?i)url\(`, `(?i)href\s*=\s*"(https?:)?//`, `(?i)<iframe`} {
		if m := regexp.MustCompile(re).FindString(page); m != "" {
			t.Errorf("the page refers to something outside it: %q", m)
		}
	}
}

// The file stays small however many connections had a problem: lanes,
// graphs, findings and rows are bounded.
func TestHTMLBounded(t *testing.T) {
	base := sampleHTML()
	r := *base
	r.Connections = nil
	for i := range 5000 {
		c := *base.Connections[i%2]
		c.Stream = i
		if i%2 == 1 {
			p := *c.Plot
			cs := p.ClientToServer
			cs.Segments = nil
			for j := range 1000 {
				cs.Segments = append(cs.Segments, model.PlotSegment{TimeUs: int64(j) * 10_000, Seq: int64(j) * 1448, Len: 1448, Frame: j, Retrans: j%5 == 0})
			}
			p.ClientToServer = cs
			c.Plot = &p
		}
		r.Connections = append(r.Connections, &c)
	}
	var buf bytes.Buffer
	if err := Write(&buf, &r, "html"); err != nil {
		t.Fatal(err)
	}
	if n := buf.Len(); n > 2<<20 {
		t.Errorf("page is %d bytes for 5,000 connections, over 2 MB", n)
	}
	if !strings.Contains(buf.String(), "more connections with a problem, not drawn") {
		t.Error("the timeline does not say it left lanes out")
	}
	t.Logf("5,000 connections (2,500 with a problem): %d bytes", buf.Len())
}

func TestConnsLeftText(t *testing.T) {
	for _, tc := range []struct {
		n, problems int
		want        string
	}{
		{1, 0, "1 more connection without a problem is not listed here"},
		{1, 1, "1 more connection, with a problem, is not listed here"},
		{5, 0, "5 more connections without a problem are not listed here"},
		// A flood's failed attempts past the rows listed are problems:
		// not "without a problem", as it said before.
		{999700, 994700, "999700 more connections are not listed here, 994700 of them with a problem"},
	} {
		if got := connsLeftText(tc.n, tc.problems); got != tc.want {
			t.Errorf("connsLeftText(%d, %d) = %q, want %q", tc.n, tc.problems, got, tc.want)
		}
	}
}

// TestHTMLTextSections: the sections the page has no picture of (the
// etcd elections and member pairs, the gRPC calls, the capture points,
// the traceroute probes) are on it in the text report's words, every
// line. They were in the headline alone: an etcd election's evidence
// frames were in the Markdown report and not on the page.
func TestHTMLTextSections(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 23, 58, 11, 750826000, time.UTC)
	etcd := sample()
	etcd.Summary.Etcd = &model.Etcd{
		Leaders: []model.EtcdLeader{{Member: "c7b8", Address: "198.18.11.2", Term: 2, First: t0.Add(-6 * time.Second), Last: t0.Add(4 * time.Second)},
			{Member: "1280", Address: "198.18.13.2", Term: 3, First: t0, Last: t0.Add(7 * time.Second)}},
		Elections: []model.EtcdElection{{Term: 3, Time: t0, Leader: "1280", LeaderAddress: "198.18.13.2", PreviousLeader: "c7b8",
			PreviousLeaderAddress: "198.18.11.2", PreviousTerm: 2,
			Unanswered: []model.EtcdUnanswered{{Kind: model.EtcdHeartbeatsStopped, From: "c7b8", To: "1280", ForS: 2.7}},
			Evidence:   []model.Evidence{{Frame: 571, Input: 1, Note: "198.18.13.2 (1280)'s first heartbeat or append as leader of term 3"}}}},
		Pairs:  []model.EtcdPair{{Members: [2]string{"198.18.11.2", "198.18.13.2"}, Connections: 13, Packets: 716, Retransmissions: 36, Problems: 11, Lossy: true}},
		Faulty: &model.EtcdMember{ID: "c7b8", Address: "198.18.11.2"},
	}
	etcd.Summary.GRPC = []model.GRPCCount{{Method: "/etcdserverpb.KV/Put", Code: "OK", Calls: 25}, {Method: "/etcdserverpb.KV/Put", Reset: "CANCEL", ResetBy: "client", Calls: 4}}
	b, err := os.ReadFile(filepath.Join("testdata", "multipoint-loss.json"))
	if err != nil {
		t.Fatal(err)
	}
	var points model.Report
	if err := json.Unmarshal(b, &points); err != nil {
		t.Fatal(err)
	}
	headings := map[string]bool{"INCIDENTS": true, "ETCD": true, "GRPC CALLS": true, "INPUTS": true, "CAPTURE POINTS": true,
		"HOPS": true, "PATHS": true, "PROBES": true, "CONNECTIONS": true, "FINDINGS": true}
	for _, tc := range []struct {
		name     string
		r        *model.Report
		sections []string // the text report's headings whose lines the page must have
	}{
		{"etcd and gRPC", etcd, []string{"ETCD", "GRPC CALLS", "PROBES"}},
		{"capture points", &points, []string{"CAPTURE POINTS"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var page, txt bytes.Buffer
			if err := Write(&page, tc.r, "html"); err != nil {
				t.Fatal(err)
			}
			if err := Write(&txt, tc.r, "table"); err != nil {
				t.Fatal(err)
			}
			onPage := html.UnescapeString(page.String())
			in, n := "", 0
			for _, line := range strings.Split(txt.String(), "\n") {
				if headings[line] {
					in = line
					continue
				}
				if !slices.Contains(tc.sections, in) || strings.TrimSpace(line) == "" {
					continue
				}
				n++
				switch {
				case strings.HasPrefix(line, "┌") || strings.HasPrefix(line, "├") || strings.HasPrefix(line, "└"):
					// A table's rule: the page's table has its own.
				case strings.HasPrefix(line, "│"):
					// A table's row: each cell, a cell of the page's.
					for _, cell := range strings.Split(strings.Trim(line, "│"), "│") {
						if cell = strings.TrimSpace(cell); cell != "" && !strings.Contains(onPage, "<td>"+cell+"</td>") && !strings.Contains(onPage, "<th>"+cell+"</th>") {
							t.Errorf("the page lacks %s's table cell %q (of %q)", in, cell, line)
						}
					}
				case !strings.Contains(onPage, line):
					t.Errorf("the page lacks %s's line %q", in, line)
				}
			}
			if n < 2*len(tc.sections) {
				t.Fatalf("only %d lines of %v in the text report", n, tc.sections)
			}
		})
	}
}

// TestHTMLTextSectionBounded: a text section past maxSectionBytes is cut
// at a line, or before a table's row, and says how many lines and rows
// the page leaves out.
func TestHTMLTextSectionBounded(t *testing.T) {
	line := strings.Repeat("x", 99)
	lines := 2 * maxSectionBytes / 100
	joined := func(bs []htmlBlock) (string, int) {
		var s string
		rows := 0
		for _, b := range bs {
			if b.Header != nil {
				rows += len(b.Rows)
				continue
			}
			s += b.Text + "\n"
		}
		return s, rows
	}
	got, _ := joined(textSection(func(t *text) {
		for range lines {
			t.printf("%s\n", line)
		}
	}))
	if len(got) > maxSectionBytes+100 {
		t.Errorf("section of %d bytes, the bound %d", len(got), maxSectionBytes)
	}
	want := fmt.Sprintf("... %d more lines: the Markdown and JSON reports have them all\n", lines-strings.Count(got, line))
	if !strings.HasSuffix(got, want) {
		t.Errorf("section ends %q, want %q", got[len(got)-80:], want)
	}
	// A table past the bound: its rows cut, the text after it counted.
	rows := make([][]string, lines)
	for i := range rows {
		rows[i] = []string{line}
	}
	got, kept := joined(textSection(func(t *text) {
		t.printf("before\n")
		t.table([]string{"x"}, rows)
		t.printf("after\n")
	}))
	if kept == 0 || kept >= lines {
		t.Errorf("%d rows of %d kept", kept, lines)
	}
	want = fmt.Sprintf("before\n... %d more lines: the Markdown and JSON reports have them all\n", lines-kept+1)
	if got != want {
		t.Errorf("section %q, want %q", got, want)
	}
	if short, _ := joined(textSection(func(t *text) { t.printf("\n%s\n\n", line) })); short != line+"\n" {
		t.Errorf("short section %q, want %q", short, line)
	}
}
