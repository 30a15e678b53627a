package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/internal/jsonrow"
	"github.com/h2pcap/h2pcap/model"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Formats lists the names Write accepts.
var Formats = []string{"table", "markdown", "json", "html"}

// Options say how to render beyond the format.
type Options struct {
	// Width is the terminal's width in columns: tables drop columns and
	// text wraps to fit it (the table format only). 0 keeps the full
	// width, as pipes and files want.
	Width int
	// All lists every connection in the table and Markdown reports. By
	// default a capture of more than FoldAbove connections lists its
	// problem connections (at most MaxListed of them) and counts the rest
	// per path: a million healthy connections make a short report. The
	// JSON report always holds every connection.
	All bool
	// Pictures, for the markdown format, is the directory (relative to
	// the report) where the caller writes Pictures' files: the report
	// links them. Empty: no pictures.
	Pictures string
}

// FoldAbove is the number of connections up to which the text reports
// list every connection: a small capture's healthy connections (the
// redial after a fault, the one that worked) are context worth seeing.
const FoldAbove = 20

// MaxListed is the most problem connections the text reports list
// without All: past a few hundred rows nobody reads a table, and a SYN
// flood makes a million "problems" the summary already explains.
const MaxListed = 200

// Listed is how many problem connections format lists at most, past
// FoldAbove connections and without All: the first ones in stream order,
// whose rows the analysis must keep whole (analyze.Options.FoldTexts),
// where it may count the others per path (Report.Unlisted). 0 for a
// format that lists every connection (JSON).
func Listed(format string) int {
	switch format {
	case "table", "", "markdown", "md":
		return MaxListed
	case "html":
		// Its findings are of problem connections first (the
		// timeline's lanes), its table's rows too.
		return max(MaxListed, maxRows, maxFindings)
	}
	return 0
}

// OutBuffer is the buffer a report is written through: a JSON report of
// a million connections is gigabytes, and bufio's 4 KB made hundreds of
// thousands of write calls of it.
const OutBuffer = 1 << 20

// Write renders r to w in the named format, at full width.
func Write(w io.Writer, r *model.Report, format string) error {
	return WriteOptions(w, r, format, Options{})
}

// WriteOptions renders r to w in the named format.
func WriteOptions(w io.Writer, r *model.Report, format string, opts Options) error {
	switch format {
	case "json":
		return writeJSON(w, r)
	case "table", "":
		return writeText(w, r, false, opts)
	case "markdown", "md":
		opts.Width = 0
		return writeText(w, r, true, opts)
	case "html":
		return writeHTML(w, r)
	}
	return fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

// writeJSON writes r as json.Encoder with a two-space indent would, byte
// for byte, but one connection at a time: encoding/json marshals a whole
// document into one buffer and indents a copy of it, which for a capture
// of many connections is most of the time and memory a report takes. The
// rest of the document is marshalled once with no connections, and the
// connections are spliced in where it has its empty list, so the fields
// stay in the contract's order whatever is added to it later.
func writeJSON(w io.Writer, r *model.Report) error {
	if len(r.Connections) == 0 && (r.Spilled == nil || r.Spilled.Len() == 0) && len(r.SpilledElsewhere) == 0 {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	shell := *r
	shell.Connections = []*model.Connection{}
	doc, err := json.MarshalIndent(&shell, "", "  ")
	if err != nil {
		return err
	}
	const empty = "\n  \"connections\": []"
	at := bytes.Index(doc, []byte(empty))
	if at < 0 {
		return fmt.Errorf("report: no connections list in the JSON document")
	}
	// Large writes: a million rows are gigabytes, and 4 KB writes made
	// hundreds of thousands of system calls (1 s of a 1M-SYN report's).
	bw := bufio.NewWriterSize(w, OutBuffer)
	bw.Write(doc[:at])
	bw.WriteString("\n  \"connections\": [")
	first := true
	row := func(b []byte) {
		if !first {
			bw.WriteByte(',')
		}
		first = false
		bw.WriteString("\n    ")
		bw.Write(b)
	}
	// The rows in memory and the spilled ones, merged by stream number:
	// the reference point's, then each other point's rows of the
	// connections the reference point never saw (Connection.Point),
	// which follow them in the points' order.
	enc := jsonrow.New()
	merge := func(conns []*model.Connection, spilled model.RowSource) error {
		next := 0
		inMemory := func(upTo int) error {
			for ; next < len(conns) && conns[next].Stream < upTo; next++ {
				b, err := enc.Encode(conns[next])
				if err != nil {
					return err
				}
				row(b)
			}
			return nil
		}
		if spilled != nil {
			err := spilled.Rows(func(stream int, b []byte) error {
				if err := inMemory(stream); err != nil {
					return err
				}
				row(b)
				return nil
			})
			if err != nil {
				return fmt.Errorf("report: spilled connections: %w", err)
			}
		}
		return inMemory(math.MaxInt)
	}
	own := slices.IndexFunc(r.Connections, func(c *model.Connection) bool { return c.Point != "" })
	if own < 0 {
		own = len(r.Connections)
	}
	if err := merge(r.Connections[:own], r.Spilled); err != nil {
		return err
	}
	for _, p := range r.Points {
		held := r.Connections[own:]
		k := 0
		for k < len(held) && held[k].Point == p.Name {
			k++
		}
		var spilled model.RowSource
		for _, pr := range r.SpilledElsewhere {
			if pr.Point == p.Name {
				spilled = pr.Rows
			}
		}
		if err := merge(held[:k], spilled); err != nil {
			return err
		}
		own += k
	}
	if err := merge(r.Connections[own:], nil); err != nil { // of no point named: not made so
		return err
	}
	bw.WriteString("\n  ]")
	bw.Write(doc[at+len(empty):])
	bw.WriteByte('\n')
	return bw.Flush()
}

// text carries the state of one text rendering: the writer, the first
// error (so callers can write freely and check once) and the dialect.
type text struct {
	w        io.Writer
	md       bool
	width    int             // the terminal's; 0: no limit
	pics     string          // Options.Pictures
	drawn    map[string]bool // with pics: the connections (laneKey) Pictures draws a graph of
	timeline bool            // with pics: Pictures draws the timeline
	err      error
	// listed are the connections the table and findings show; folded
	// counts the others per path and verdict.
	listed []*model.Connection
	folded []foldedRow
	// tablewriter: every table goes through tablewriter, plain or not
	// (the tests' reference for plainTable).
	tablewriter bool
	// noHeadings: heading writes nothing (the HTML's sections, which
	// have headings of their own).
	noHeadings bool
	// tables, when set, takes every table (fitted, table) instead of
	// the writer: the HTML's sections draw them as HTML tables.
	tables func(header []string, rows [][]string)
}

func (t *text) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = io.WriteString(t.w, wrap(fmt.Sprintf(format, args...), t.width))
	}
}

// fitted writes a table fitted to the width.
func (t *text) fitted(cols []column, rows [][]string) {
	if t.err != nil {
		return
	}
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = c.name
	}
	if t.tables != nil {
		t.tables(header, rows)
		return
	}
	// Plain cells (most tables): the columns dropped by their widths,
	// the table written once, never held (plaintable.go).
	if ws, m, ok := plainWidths(header, rows); ok && !t.tablewriter {
		var keep []bool
		if !t.md {
			keep = plainFits(cols, ws, t.width)
		}
		if keep == nil || slices.Contains(keep, true) {
			t.err = plainTable(t.w, header, rows, ws, m, keep, t.md)
			return
		}
	}
	out := t.fitTable(cols, rows)
	if t.err == nil {
		_, t.err = t.w.Write(out)
	}
}

func (t *text) heading(s string) {
	if t.noHeadings {
		return
	}
	if t.md {
		t.printf("\n## %s\n\n", s)
	} else {
		t.printf("\n%s\n", strings.ToUpper(s))
	}
}

func (t *text) table(header []string, rows [][]string) {
	if t.err != nil {
		return
	}
	if t.tables != nil {
		t.tables(header, rows)
		return
	}
	if ws, m, ok := plainWidths(header, rows); ok && !t.tablewriter {
		t.err = plainTable(t.w, header, rows, ws, m, nil, t.md)
		return
	}
	opts := []tablewriter.Option{
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
	}
	if t.md {
		opts = append(opts, tablewriter.WithRenderer(renderer.NewMarkdown()))
	}
	tbl := tablewriter.NewTable(t.w, opts...)
	tbl.Header(header)
	if err := tbl.Bulk(rows); err != nil {
		t.err = err
		return
	}
	t.err = tbl.Render()
}

func writeText(w io.Writer, r *model.Report, md bool, opts Options) error {
	t := &text{w: w, md: md, width: opts.Width, pics: opts.Pictures}
	t.listed, t.folded = fold(r, opts.All)
	if t.pics != "" {
		t.drawn = drawnSet(r)
		t.timeline = len(laneConns(r)) > 0
	}
	if md {
		t.printf("# h2pcap report\n")
	} else {
		t.printf("h2pcap report\n")
	}
	t.headline(r)
	t.incidents(r)
	t.picture(t.timelinePicture(), "Timeline of the connections with a problem")
	t.etcd(r)
	t.grpc(r)
	t.inputs(r)
	t.points(r)
	t.paths(r)
	t.probes(r)
	t.connections(r)
	t.findings(r)
	return t.err
}

// inputFile names an input in the inputs table: its file, and the
// interface when the input is one interface of the file (a capture
// point per interface).
func inputFile(in *decode.InputInfo) string {
	if in.Interface != "" {
		return in.Path + " (" + in.Interface + ")"
	}
	return in.Path
}

func (t *text) inputs(r *model.Report) {
	t.heading("Inputs")
	var rows [][]string
	for i, in := range r.Inputs {
		rows = append(rows, []string{
			strconv.Itoa(i), inputFile(in), in.Format, strings.Join(in.LinkTypes, ","),
			strconv.Itoa(in.Packets), strconv.Itoa(in.Decoded.TCP), strconv.FormatInt(in.Bytes, 10),
			stamp(in.First), stamp(in.Last), strconv.Itoa(in.TruncatedPackets),
		})
	}
	t.fitted([]column{{"#", 0}, {"File", 0}, {"Format", 3}, {"Link types", 2}, {"Packets", 0}, {"TCP", 5},
		{"Bytes", 4}, {"First", 7}, {"Last", 6}, {"Snaplen-cut", 1}}, rows)
	for i, in := range r.Inputs {
		if t.md && i == 0 && (hasWarnings(r) || len(r.KeyLogs) > 0) {
			t.printf("\n")
		}
		for _, warn := range in.Warnings {
			t.printf("%swarning: input %d (%s): %s\n", t.bullet(), i, in.Path, warn)
		}
		if q := qualityText(in.CaptureQuality); q != "" {
			t.printf("%scapture quality: input %d (%s): %s\n", t.bullet(), i, in.Path, q)
		}
	}
	for _, k := range r.KeyLogs {
		t.printf("%skey log %s: %d keys, decrypted %d of %d TLS connections\n", t.bullet(), k.Path, k.Keys, k.Decrypted, k.TLSConnections)
	}
}

// streamLabel is how the reports name connection c's stream: its
// tcp.stream, after its capture point's name for a connection the
// reference point never saw (m2:4: stream 4 of m2's capture).
func streamLabel(c *model.Connection) string {
	if c.Point != "" {
		return c.Point + ":" + strconv.Itoa(c.Stream)
	}
	return strconv.Itoa(c.Stream)
}

// streamWhere is what follows a Wireshark stream filter of c: the capture
// to apply it to, for a connection the reference point never saw.
func streamWhere(c *model.Connection) string {
	if c.Point != "" {
		return " in " + c.Point + "'s capture"
	}
	return ""
}

func (t *text) connections(r *model.Report) {
	t.heading("Connections")
	if len(r.Connections) == 0 && len(r.Unlisted) == 0 && (r.Summary == nil || r.Summary.HealthyNotListed == 0) {
		// Connections the analysis forgot, healthy, are none listed
		// but counted (summary.healthy_not_listed): foldedRows says so.
		t.printf("No TCP connections.\n")
		return
	}
	if len(t.listed) == 0 {
		t.printf("No problem connections.\n")
		t.foldedRows()
		return
	}
	var rows [][]string
	for _, c := range t.listed {
		cs, sc := &c.TCP.ClientToServer, &c.TCP.ServerToClient
		rows = append(rows, []string{
			streamLabel(c), c.Client, c.Server, c.App,
			duration(c.End.Sub(c.Start)), irtt(c.IRTTms),
			pair(cs.Packets, sc.Packets),
			pair(cs.Retransmissions, sc.Retransmissions),
			pair(cs.LostSegments, sc.LostSegments),
			closeText(c.Close),
			verdictCell(c.Verdict),
		})
	}
	t.fitted([]column{{"Stream", 0}, {"Client", 0}, {"Server", 0}, {"App", 3}, {"Duration", 5}, {"iRTT", 1},
		{"Packets c>s/s>c", 4}, {"Retrans", 6}, {"Lost seg", 2}, {"Close", 7}, {"Verdict", 0}}, rows)
	t.foldedRows()
}

// findings lists, per connection with anything to look at, each kind of
// event per direction with the frames to open in Wireshark.
func (t *text) findings(r *model.Report) {
	var any bool
	for _, c := range t.listed {
		groups := groupEvents(c.Events)
		missing := c.TCP.ClientToServer.MissingBytes + c.TCP.ServerToClient.MissingBytes
		// A reset alone is no finding: Go's TLS close ends with one. A
		// reset that matters made the verdict a problem.
		if len(groups) == 0 && missing == 0 && !problem(c) {
			continue
		}
		sep := "\n"
		if !any {
			t.heading("Findings")
			any = true
			sep = ""
		}
		if t.md {
			t.printf(sep+"### Stream %s: %s -> %s\n\nWireshark filter: `tcp.stream eq %d`%s\n\n", streamLabel(c), c.Client, c.Server, c.Stream, streamWhere(c))
		} else {
			t.printf("\nstream %s  %s -> %s  (Wireshark: tcp.stream eq %d%s)\n", streamLabel(c), c.Client, c.Server, c.Stream, streamWhere(c))
		}
		t.picture(t.streamPicture(c), "Stream "+streamLabel(c)+": sequence numbers over time")
		t.finding(c, groups, missing)
	}
	if any && !t.md {
		t.printf("\n")
	}
}

// finding is the body of a connection's findings: the verdict, the
// events by kind, the close and the HTTP/2 (the HTML report shows the same
// words beside its pictures).
func (t *text) finding(c *model.Connection, groups []*eventGroup, missing int) {
	t.verdict(c)
	for _, g := range groups {
		t.printf("%s%s: %d %s%s, frames %s\n", t.bullet(), dirLabel(g.dir), len(g.frames), kindLabel(g.kind), g.notes(), frameList(g.frames, 12))
	}
	if missing > 0 {
		t.printf("%s%d payload bytes not captured (snaplen): client->server %d, server->client %d\n", t.bullet(),
			missing, c.TCP.ClientToServer.MissingBytes, c.TCP.ServerToClient.MissingBytes)
	}
	if c.Close.Kind == model.CloseRST {
		t.printf("%sRST from the %s's address at frame %s (%s)\n", t.bullet(), c.Close.By, frameRef(c.Close.Input, c.Close.Frame), t.code(fmt.Sprintf("frame.number == %d", c.Close.Frame)))
	}
	if c.EventsDropped > 0 {
		t.printf("%s%d further events not listed (counts above are complete)\n", t.bullet(), c.EventsDropped)
	}
	t.http2(c)
}

func (t *text) code(s string) string {
	if t.md {
		return "`" + s + "`"
	}
	return s
}

func hasWarnings(r *model.Report) bool {
	for _, in := range r.Inputs {
		if len(in.Warnings) > 0 || in.CaptureQuality != nil {
			return true
		}
	}
	return false
}

// qualityText says what an input lacks (decode.CaptureQuality), or "".
func qualityText(q *decode.CaptureQuality) string {
	if q == nil {
		return ""
	}
	var parts []string
	switch q.OneDirection {
	case "":
	case "mixed":
		parts = append(parts, fmt.Sprintf("only one direction of %d connections", q.OneDirectionConnections))
	default:
		parts = append(parts, fmt.Sprintf("only the %s direction of %d connections",
			strings.ReplaceAll(q.OneDirection, "_to_", "->"), q.OneDirectionConnections))
	}
	if q.MissedBytes > 0 {
		parts = append(parts, fmt.Sprintf("missed %d bytes the receivers acknowledged (%.2f%% of the data: capture drops)",
			q.MissedBytes, 100*q.MissedFraction))
	}
	return strings.Join(parts, "; ")
}

// sub is the bullet of an item under a bullet.
func (t *text) sub() string {
	if t.md {
		return "  - "
	}
	return "    "
}

func (t *text) bullet() string {
	if t.md {
		return "- "
	}
	return "  "
}

type eventGroup struct {
	dir    model.Direction
	kind   model.EventKind
	frames []string
	// dsacked counts the copies the receiver reported as duplicates
	// (model.Event.DSACKed): it had the data, so they tell no loss.
	// late counts those whose IPv4 ID their sender had used already or
	// had passed (model.Event.Late): delayed originals or copies the
	// network made, not sent again.
	dsacked, late int
}

// notes says, after a group's count, how many of its segments tell no
// loss however Wireshark flags them: " (...)", or "" for none.
func (g *eventGroup) notes() string {
	var notes []string
	if g.late > 0 && g.kind != model.EvOutOfOrder {
		// Out of order is what a delayed original is called anyway.
		notes = append(notes, fmt.Sprintf("%d with an older or repeated IP ID: delayed or copied, not sent again", g.late))
	}
	if g.dsacked > 0 {
		notes = append(notes, fmt.Sprintf("%d the receiver already had: D-SACK", g.dsacked))
	}
	if len(notes) == 0 {
		return ""
	}
	return " (" + strings.Join(notes, "; ") + ")"
}

// groupEvents keeps the order in which each (direction, kind) first
// appeared, so the first anomaly of a connection is listed first.
func groupEvents(evs []model.Event) []*eventGroup {
	var groups []*eventGroup
	for _, e := range evs {
		if e.Kind == model.EvFIN || e.Kind == model.EvRST {
			continue // the close is shown once, from Connection.Close
		}
		i := slices.IndexFunc(groups, func(g *eventGroup) bool { return g.dir == e.Dir && g.kind == e.Kind })
		if i < 0 {
			groups = append(groups, &eventGroup{dir: e.Dir, kind: e.Kind})
			i = len(groups) - 1
		}
		groups[i].frames = append(groups[i].frames, frameRef(e.Input, e.Frame))
		if e.DSACKed {
			groups[i].dsacked++
		}
		if e.Late {
			groups[i].late++
		}
	}
	return groups
}

var kindLabels = map[model.EventKind]string{
	model.EvRetransmission:     "retransmissions",
	model.EvFastRetransmission: "fast retransmissions",
	model.EvSpuriousRetrans:    "spurious retransmissions",
	model.EvOutOfOrder:         "out-of-order segments",
	model.EvLostSegment:        "previous segment not captured",
	model.EvAckedUnseen:        "ACKed unseen segment",
	model.EvDupAck:             "duplicate ACKs",
	model.EvZeroWindow:         "zero window",
	model.EvZeroWindowProbe:    "zero window probes",
	model.EvWindowFull:         "window full",
	model.EvKeepAlive:          "keep-alives",
	model.EvKeepAliveAck:       "keep-alive ACKs",
}

func kindLabel(k model.EventKind) string {
	if l, ok := kindLabels[k]; ok {
		return l
	}
	return string(k)
}

func dirLabel(d model.Direction) string {
	if d == model.ClientToServer {
		return "client->server"
	}
	return "server->client"
}

// frameRef names a frame as the user finds it: with several inputs, frames
// past the first input carry the input's index ("1:412").
func frameRef(input, frame int) string {
	if input > 0 {
		return fmt.Sprintf("%d:%d", input, frame)
	}
	return strconv.Itoa(frame)
}

func frameList(frames []string, max int) string {
	if len(frames) <= max {
		return strings.Join(frames, ", ")
	}
	return strings.Join(frames[:max], ", ") + fmt.Sprintf(", ... (%d more)", len(frames)-max)
}

func pair(a, b int) string { return strconv.Itoa(a) + " / " + strconv.Itoa(b) }

func closeText(c model.Close) string {
	switch c.Kind {
	case model.CloseFIN, model.CloseRST:
		return fmt.Sprintf("%s by %s @%s", strings.ToUpper(string(c.Kind)), c.By, frameRef(c.Input, c.Frame))
	}
	return "open"
}

func irtt(ms *float64) string {
	if ms == nil {
		return "-"
	}
	return strconv.FormatFloat(*ms, 'f', 3, 64) + " ms"
}

func duration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(time.Microsecond).String()
	}
	return d.String()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05.000000")
}
