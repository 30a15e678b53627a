package report

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/h2pcap/h2pcap/model"
)

// The HTML incident-review report: one self-contained file (styles,
// script and pictures inline, nothing fetched when it is opened) with the
// headline and the incidents first, then the timeline, the paths as a
// matrix, and per problem connection its time-sequence graphs beside the
// same words the Markdown report writes of it.

//go:embed html/page.tmpl html/style.css html/script.js
var htmlFiles embed.FS

var page = template.Must(template.New("page.tmpl").ParseFS(htmlFiles, "html/page.tmpl"))

// The bounds of the HTML's lists: with them the file stays under 2 MB
// whatever the capture (the pictures have theirs in pictures.go). The
// Markdown and JSON reports list everything.
const (
	// maxFindings is how many connections the HTML writes the findings
	// of (problem connections first).
	maxFindings = 120
	// maxRows is how many rows the HTML's connections table has
	// (problem connections first).
	maxRows = 300
	// maxSectionBytes bounds each of the text report's sections on the
	// page (textSection): an etcd cluster that flapped all day has an
	// election, eight lines, per term.
	maxSectionBytes = 64 << 10
)

type htmlPage struct {
	Style     template.CSS
	Script    template.JS
	Headline  string
	Counts    string
	Incidents []htmlIncident
	Timeline  template.HTML
	Legend    bool
	Matrix    *htmlMatrix
	// Hops is the hop table of a multi-point analysis: a row per hop and
	// direction, the lossy ones marked.
	Hops []htmlHop
	// HopsNotLost: some hop has packets missing that were not lost
	// (stopped with ICMP, refused, missed by a capture): a column of
	// its own.
	HopsNotLost bool
	Findings    []htmlFinding
	// FindingsLeft counts the connections with findings not written.
	FindingsLeft int
	Inputs       [][]string
	InputNotes   []string
	Conns        [][]string
	ConnsLeft    int
	// ConnsLeftText is the page's sentence of them (connsLeftText).
	ConnsLeftText string
	ConnHeader    []string
	// Etcd, GRPC, Points and Probes are those sections of the text
	// report, in its words and tables (textSection); empty when it has
	// none.
	Etcd, GRPC, Points, Probes []htmlBlock
}

// htmlBlock is a part of a text section: lines of text, or a table.
type htmlBlock struct {
	Text   string
	Header []string
	Rows   [][]string
}

type htmlHop struct {
	Direction, From, To  string
	Upstream, Lost, Rate string
	NotLost              string // hopNotLost
	Lossy                bool
}

type htmlIncident struct {
	ID          string
	Label       string
	Server      string
	Explanation string
	Window      string
	Streams     string
	Filter      string
}

type htmlMatrix struct {
	Servers []string
	Rows    []htmlMatrixRow
}

type htmlMatrixRow struct {
	ClientNet string
	Cells     []*htmlCell
}

type htmlCell struct {
	Text  string
	Title string
	Color string
}

type htmlFinding struct {
	Stream  string // its anchor's: laneKey
	Title   string
	Kind    string
	Problem bool
	Summary string
	Text    string // the same lines the table format writes
	Graph   template.HTML
	Filter  string
}

// writeHTML renders r as the incident-review page.
func writeHTML(w io.Writer, r *model.Report) error {
	style, err := htmlFiles.ReadFile("html/style.css")
	if err != nil {
		return fmt.Errorf("report: html style: %w", err)
	}
	script, err := htmlFiles.ReadFile("html/script.js")
	if err != nil {
		return fmt.Errorf("report: html script: %w", err)
	}
	p := &htmlPage{Style: template.CSS(style), Script: template.JS(script)}

	// The headline's two lines, as the text report writes them.
	lines := strings.Split(strings.TrimSpace(plain(func(t *text) { t.headline(r) })), "\n")
	if len(lines) >= 2 {
		p.Headline, p.Counts = lines[0], strings.Join(lines[1:], " ")
	} else if len(lines) == 1 {
		p.Headline = lines[0]
	}
	if r.Summary != nil {
		for i, inc := range r.Summary.Incidents {
			var lists, filters []string
			for _, at := range incidentCaptures(inc) {
				list, filter := streamsText(at, 0) // every stream: the page has the room
				lists, filters = append(lists, list), append(filters, filter)
			}
			p.Incidents = append(p.Incidents, htmlIncident{
				ID: fmt.Sprintf("inc-%d", i), Label: incidentLabel(inc.Kind), Server: inc.Server, Explanation: inc.Explanation,
				Window:  fmt.Sprintf("%s to %s UTC", stamp(inc.Start), inc.End.UTC().Format("15:04:05.000000")),
				Streams: strings.Join(lists, "; "),
				Filter:  strings.Join(filters, ", "),
			})
		}
	}
	lanes := laneConns(r)
	if len(lanes) > 0 {
		p.Timeline = template.HTML(timelineSVG(r, lanes))
		p.Legend = true
	}
	p.Matrix = matrix(r)
	p.Etcd, p.GRPC = textSection(func(t *text) { t.etcd(r) }), textSection(func(t *text) { t.grpc(r) })
	p.Points, p.Probes = textSection(func(t *text) { t.capturePoints(r) }), textSection(func(t *text) { t.probes(r) })
	if r.Summary != nil {
		for _, h := range r.Summary.Hops {
			p.Hops = append(p.Hops, htmlHop{Direction: dirLabel(h.Direction), From: h.From, To: h.To,
				Upstream: strconv.Itoa(h.PacketsUpstream), Lost: strconv.Itoa(h.PacketsLost),
				Rate: strconv.FormatFloat(100*h.LossRate, 'f', 2, 64) + " %", Lossy: h.PacketsLost > 0, NotLost: hopNotLost(h)})
			p.HopsNotLost = p.HopsNotLost || hopNotLost(h) != ""
		}
	}

	graphs := map[string]bool{}
	for _, c := range graphConns(lanes) {
		graphs[laneKey(c)] = true
	}
	var withFindings []*model.Connection
	withFindings = append(withFindings, lanes...)
	for _, c := range r.Connections {
		if !problem(c) && (len(groupEvents(c.Events)) > 0 || c.TCP.ClientToServer.MissingBytes+c.TCP.ServerToClient.MissingBytes > 0) {
			withFindings = append(withFindings, c)
		}
	}
	// The problem connections the analysis counted and did not list
	// (Report.Unlisted) have findings too.
	p.FindingsLeft = unlistedProblems(r, "", "")
	for i, c := range withFindings {
		if i >= maxFindings {
			p.FindingsLeft += len(withFindings) - i
			break
		}
		f := htmlFinding{
			Stream: laneKey(c), Title: fmt.Sprintf("Stream %s: %s -> %s", streamLabel(c), c.Client, c.Server),
			Problem: problem(c), Filter: fmt.Sprintf("tcp.stream eq %d%s", c.Stream, streamWhere(c)),
		}
		if c.Verdict != nil {
			f.Kind, f.Summary = string(c.Verdict.Kind), c.Verdict.Summary
		}
		f.Text = plain(func(t *text) {
			t.finding(c, groupEvents(c.Events), c.TCP.ClientToServer.MissingBytes+c.TCP.ServerToClient.MissingBytes)
		})
		if graphs[laneKey(c)] {
			f.Graph = template.HTML(seqGraphs(c))
		}
		p.Findings = append(p.Findings, f)
	}

	for i, in := range r.Inputs {
		p.Inputs = append(p.Inputs, []string{
			strconv.Itoa(i), inputFile(in), in.Format, strings.Join(in.LinkTypes, ","),
			strconv.Itoa(in.Packets), strconv.Itoa(in.Decoded.TCP), strconv.FormatInt(in.Bytes, 10),
			stamp(in.First), stamp(in.Last),
		})
	}
	notes := strings.TrimSpace(plain(func(t *text) {
		for i, in := range r.Inputs {
			for _, warn := range in.Warnings {
				t.printf("warning: input %d (%s): %s\n", i, in.Path, warn)
			}
		}
		for _, k := range r.KeyLogs {
			t.printf("key log %s: %d keys, decrypted %d of %d TLS connections\n", k.Path, k.Keys, k.Decrypted, k.TLSConnections)
		}
	}))
	if notes != "" {
		p.InputNotes = strings.Split(notes, "\n")
	}

	p.ConnHeader = []string{"Stream", "Client", "Server", "App", "Duration", "iRTT", "Packets c>s/s>c", "Retrans", "Lost seg", "Close", "Verdict"}
	rows := slices.Clone(r.Connections)
	slices.SortStableFunc(rows, func(a, b *model.Connection) int {
		pa, pb := problem(a), problem(b)
		switch {
		case pa && !pb:
			return -1
		case pb && !pa:
			return 1
		}
		return 0
	})
	// Past maxRows, and those the analysis counted and did not list:
	// problem connections it counted (Report.Unlisted), healthy ones it
	// forgot (summary.healthy_not_listed).
	leftProblems := unlistedProblems(r, "", "")
	p.ConnsLeft = unlisted(r)
	if r.Summary != nil {
		p.ConnsLeft += r.Summary.HealthyNotListed
	}
	for i, c := range rows {
		if i >= maxRows {
			p.ConnsLeft += len(rows) - i
			for _, c := range rows[i:] {
				if problem(c) {
					leftProblems++
				}
			}
			break
		}
		cs, sc := &c.TCP.ClientToServer, &c.TCP.ServerToClient
		p.Conns = append(p.Conns, []string{
			streamLabel(c), c.Client, c.Server, c.App,
			duration(c.End.Sub(c.Start)), irtt(c.IRTTms),
			pair(cs.Packets, sc.Packets), pair(cs.Retransmissions, sc.Retransmissions),
			pair(cs.LostSegments, sc.LostSegments), closeText(c.Close), verdictCell(c.Verdict),
		})
	}
	p.ConnsLeftText = connsLeftText(p.ConnsLeft, leftProblems)

	var buf bytes.Buffer
	if err := page.Execute(&buf, p); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// connsLeftText says that n connections, problems of them with a
// problem, are not in the HTML's table.
func connsLeftText(n, problems int) string {
	switch {
	case n == 1 && problems == 1:
		return "1 more connection, with a problem, is not listed here"
	case n == 1:
		return "1 more connection without a problem is not listed here"
	case problems > 0:
		return fmt.Sprintf("%d more connections are not listed here, %d of them with a problem", n, problems)
	}
	return fmt.Sprintf("%d more connections without a problem are not listed here", n)
}

// plain is what the table format's writer f writes, at full width: the
// HTML reuses the text report's sentences rather than writing its own.
func plain(f func(t *text)) string {
	var b bytes.Buffer
	t := &text{w: &b}
	f(t)
	return b.String()
}

// textSection is a section of the text report as plain writes it,
// without its heading (the page's h2 is its own) and the blank lines
// around its text, its tables as tables: everything the Markdown report
// says is on the page, in the same words (an etcd election's evidence
// was in the headline alone). Past maxSectionBytes of text and cells the
// rest is counted, not written.
func textSection(f func(t *text)) []htmlBlock {
	var (
		b    bytes.Buffer
		out  []htmlBlock
		size int
		left int // lines and rows not written
	)
	flush := func() {
		s := strings.Trim(b.String(), "\n")
		b.Reset()
		if s == "" {
			return
		}
		if left > 0 {
			left += strings.Count(s, "\n") + 1
			return
		}
		if size+len(s) > maxSectionBytes {
			cut := strings.LastIndexByte(s[:maxSectionBytes-size], '\n')
			if cut < 0 {
				cut = 0
			}
			left += strings.Count(s[cut:], "\n")
			if cut == 0 {
				left++
			}
			s = strings.TrimRight(s[:cut], "\n")
		}
		size += len(s)
		if s != "" {
			out = append(out, htmlBlock{Text: s})
		}
	}
	t := &text{w: &b, noHeadings: true}
	t.tables = func(header []string, rows [][]string) {
		flush()
		tb := htmlBlock{Header: header}
		for i, r := range rows {
			n := 0
			for _, c := range r {
				n += len(c)
			}
			if left > 0 || size+n > maxSectionBytes {
				left += len(rows) - i
				break
			}
			size += n
			tb.Rows = append(tb.Rows, r)
		}
		if len(tb.Rows) > 0 {
			out = append(out, tb)
		}
	}
	f(t)
	flush()
	if left > 0 {
		out = append(out, htmlBlock{Text: fmt.Sprintf("... %d more lines: the Markdown and JSON reports have them all", left)})
	}
	return out
}

// matrix lays the paths out as client networks by servers, each cell
// coloured by how bad the path was: red for lost PINGs or resets, and
// from green to red with the retransmission rate up to 5 %.
func matrix(r *model.Report) *htmlMatrix {
	if r.Summary == nil || len(r.Summary.Paths) == 0 {
		return nil
	}
	m := &htmlMatrix{}
	var nets []string
	for _, p := range r.Summary.Paths {
		if !slices.Contains(m.Servers, p.Server) {
			m.Servers = append(m.Servers, p.Server)
		}
		if !slices.Contains(nets, p.ClientNet) {
			nets = append(nets, p.ClientNet)
		}
	}
	for _, n := range nets {
		row := htmlMatrixRow{ClientNet: n, Cells: make([]*htmlCell, len(m.Servers))}
		for _, p := range r.Summary.Paths {
			if p.ClientNet != n {
				continue
			}
			rate := 100 * p.RetransmissionRate
			text := fmt.Sprintf("%d conns, %s %% retransmitted", p.Connections, strconv.FormatFloat(rate, 'f', 2, 64))
			if p.LostPings > 0 {
				text += fmt.Sprintf(", %d lost PINGs", p.LostPings)
			}
			if p.Resets > 0 {
				text += fmt.Sprintf(", %d resets", p.Resets)
			}
			bad := min(rate/5, 1)
			if p.LostPings > 0 || p.Resets > 0 {
				bad = 1
			}
			row.Cells[slices.Index(m.Servers, p.Server)] = &htmlCell{
				Text:  text,
				Title: fmt.Sprintf("%s -> %s: %s", p.ClientNet, p.Server, text),
				Color: fmt.Sprintf("hsl(%d, 70%%, 85%%)", int(120*(1-bad))),
			}
		}
		m.Rows = append(m.Rows, row)
	}
	return m
}
