package report

import (
	"cmp"
	"fmt"
	"html"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/h2pcap/h2pcap/model"
)

// The pictures are SVG written by hand rather than by a plotting library:
// every mark carries its frame number and Wireshark filter (a tooltip,
// and data attributes the HTML page's script reads on a click), marks are
// binned to the pixel columns they fall in so the file size is bounded
// whatever the capture's, and the two shapes (one lane per connection on
// a shared time axis; a Stevens time-sequence graph with I-bars, an ACK
// step line and SACK ranges) are not charts a general library draws.
// Colours are presentation attributes, not CSS, so the same SVG stands
// alone as a file beside a Markdown report.

// The bounds that keep a report small whatever the capture's size.
const (
	// maxLanes is how many problem connections the timeline draws, a lane
	// each; the rest are counted under it (the tables list them all).
	maxLanes = 60
	// maxGraphs is how many problem connections get a time-sequence
	// graph: incidents' first, then in lane order.
	maxGraphs = 16
	// maxTitled is how many retransmissions a graph marks one by one,
	// with a tooltip; the rest are drawn binned like the other segments.
	maxTitled = 80
)

// Picture is one image of a report, for a Markdown report's directory.
type Picture struct {
	Name string // file name: timeline.svg, stream-N.svg
	SVG  []byte
}

const timelineName = "timeline.svg"

func streamName(key string) string { return "stream-" + key + ".svg" }

// laneKey names connection c in the pictures' element ids and files and
// the HTML's anchors: its stream, after its capture point's name for a
// connection the reference point never saw (m2-4: stream 4 of m2's
// capture), anything but letters, digits, '-' and '_' made '-'.
func laneKey(c *model.Connection) string {
	if c.Point == "" {
		return strconv.Itoa(c.Stream)
	}
	return pointKey(c.Point, c.Stream)
}

// pointKey is laneKey of stream of point.
func pointKey(point string, stream int) string {
	b := []byte(point + "-" + strconv.Itoa(stream))
	for i, ch := range b {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
			b[i] = '-'
		}
	}
	return string(b)
}

// incidentKeys are the laneKeys of inc's connections.
func incidentKeys(inc model.Incident) []string {
	var out []string
	for _, s := range inc.Connections {
		out = append(out, strconv.Itoa(s))
	}
	for _, at := range inc.ConnectionsAt {
		for _, s := range at.Streams {
			out = append(out, pointKey(at.Point, s))
		}
	}
	return out
}

// Pictures returns the report's images as standalone SVG files: the
// timeline (when a connection had a problem) and a time-sequence graph
// per drawn problem connection. A Markdown report written with
// Options.Pictures links these names.
func Pictures(r *model.Report) []Picture {
	lanes := laneConns(r)
	if len(lanes) == 0 {
		return nil
	}
	out := []Picture{{Name: timelineName, SVG: []byte(standalone(timelineSVG(r, lanes)))}}
	for _, c := range graphConns(lanes) {
		out = append(out, Picture{Name: streamName(laneKey(c)), SVG: []byte(standalone(seqGraphs(c)))})
	}
	return out
}

func standalone(svg string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + strings.Replace(svg, "<svg ", `<svg xmlns="http://www.w3.org/2000/svg" `, 1) + "\n"
}

// drawnSet is the connections (laneKey) Pictures draws a graph of.
func drawnSet(r *model.Report) map[string]bool {
	m := map[string]bool{}
	for _, c := range graphConns(laneConns(r)) {
		m[laneKey(c)] = true
	}
	return m
}

func (t *text) timelinePicture() string {
	if !t.timeline {
		return ""
	}
	return timelineName
}

func (t *text) streamPicture(c *model.Connection) string {
	if !t.drawn[laneKey(c)] {
		return ""
	}
	return streamName(laneKey(c))
}

// picture links a picture file in a Markdown report written with
// Options.Pictures.
func (t *text) picture(name, alt string) {
	if !t.md || t.pics == "" || name == "" {
		return
	}
	t.printf("\n![%s](%s/%s)\n", alt, t.pics, name)
}

// laneConns are the problem connections in the order the timeline draws
// them: each incident's together, in the incidents' order, then the
// others by stream.
func laneConns(r *model.Report) []*model.Connection {
	byKey := map[string]*model.Connection{}
	for _, c := range r.Connections {
		if problem(c) {
			byKey[laneKey(c)] = c
		}
	}
	var out []*model.Connection
	if r.Summary != nil {
		for _, inc := range r.Summary.Incidents {
			for _, k := range incidentKeys(inc) {
				if c := byKey[k]; c != nil {
					out = append(out, c)
					delete(byKey, k)
				}
			}
		}
	}
	// The reference point's by stream, then each other point's, in the
	// order the report lists them.
	rest := make([]*model.Connection, 0, len(byKey))
	for _, c := range r.Connections {
		if byKey[laneKey(c)] == c {
			rest = append(rest, c)
		}
	}
	slices.SortStableFunc(rest, func(a, b *model.Connection) int {
		if (a.Point == "") != (b.Point == "") {
			if a.Point == "" {
				return -1
			}
			return 1
		}
		if a.Point != "" {
			return 0
		}
		return cmp.Compare(a.Stream, b.Stream)
	})
	return append(out, rest...)
}

// graphConns are the lanes that get a time-sequence graph.
func graphConns(lanes []*model.Connection) []*model.Connection {
	var out []*model.Connection
	for _, c := range lanes {
		if c.Plot != nil && len(out) < maxGraphs {
			out = append(out, c)
		}
	}
	return out
}

// svgw accumulates an SVG document.
type svgw struct{ strings.Builder }

func (w *svgw) f(format string, args ...any) { fmt.Fprintf(w, format, args...) }

func esc(s string) string { return html.EscapeString(s) }

// num writes a coordinate with one decimal at most: enough for a pixel,
// and the file stays small.
func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

// mark is the tooltip and the click data of one frame: it ends the
// element's start tag, which carries class mk.
func mark(c *model.Connection, input, frame int, what string) string {
	filter := fmt.Sprintf("frame.number == %d", frame)
	where := ""
	if input > 0 {
		where = fmt.Sprintf(" of input %d", input)
	}
	return fmt.Sprintf(` data-s="%s" data-i="%d" data-f="%d"><title>stream %s, frame %s%s: %s. Wireshark: %s</title>`,
		laneKey(c), input, frame, esc(streamLabel(c)), frameRef(input, frame), where, esc(what), esc(filter))
}

// The palette: one colour per meaning, the same in every picture.
const (
	colC2S     = "#2b6cb0" // client -> server packets
	colS2C     = "#2f855a" // server -> client packets
	colRetrans = "#c53030"
	colPing    = "#6b46c1"
	colGoaway  = "#b7791f"
	colSince   = "#dd6b20"
	colAck     = "#38a169"
	colSACK    = "#9f7aea"
	colLane    = "#edf2f7"
	colText    = "#1a202c"
	colMuted   = "#718096"
)

// The timeline's geometry, in SVG units (the page scales it to its width).
const (
	tlWidth  = 1200
	tlLabel  = 260 // the lanes' labels, left of the plot area
	tlRight  = 12
	tlAxis   = 22 // the time axis, on top
	tlLane   = 26
	tlFolded = 18
	tlBin    = 3 // packets closer than this many units share one mark
)

// span is the capture's time range: the inputs', or the connections'.
func span(r *model.Report) (t0, t1 time.Time) {
	for _, in := range r.Inputs {
		if !in.First.IsZero() && (t0.IsZero() || in.First.Before(t0)) {
			t0 = in.First
		}
		if in.Last.After(t1) {
			t1 = in.Last
		}
	}
	for _, c := range r.Connections {
		if t0.IsZero() || c.Start.Before(t0) {
			t0 = c.Start
		}
		if c.End.After(t1) {
			t1 = c.End
		}
	}
	if !t1.After(t0) {
		t1 = t0.Add(time.Second)
	}
	return t0, t1
}

// unlistedProblems counts the problem connections of path clientNet ->
// server (every path's with "") that r counts and does not list
// (Report.Unlisted).
func unlistedProblems(r *model.Report, clientNet, server string) int {
	n := 0
	for _, u := range r.Unlisted {
		if u.Kind != model.KindHealthy && (clientNet == "" && server == "" || u.ClientNet == clientNet && u.Server == server) {
			n += u.Connections
		}
	}
	return n
}

// foldedPath is one path's healthy connections, drawn as one row.
type foldedPath struct {
	label      string
	healthy    int
	start, end time.Time
}

// folded counts each path's connections without a problem.
func folded(r *model.Report) []foldedPath {
	if r.Summary == nil {
		return nil
	}
	var out []foldedPath
	for _, p := range r.Summary.Paths {
		prefix, err := netip.ParsePrefix(strings.NewReplacer("[", "", "]", "").Replace(p.ClientNet))
		onPath := func(c *model.Connection) bool {
			if c.Server != p.Server {
				return false
			}
			ap, err2 := netip.ParseAddrPort(c.Client)
			return err == nil && err2 == nil && prefix.Contains(ap.Addr())
		}
		// The problem connections the analysis counted and did not
		// list (Report.Unlisted: a flood's failed attempts) are no
		// healthy ones either.
		fp := foldedPath{label: p.ClientNet + " -> " + p.Server, healthy: p.Connections - unlistedProblems(r, p.ClientNet, p.Server)}
		for _, c := range r.Connections {
			if !onPath(c) {
				continue
			}
			if problem(c) {
				fp.healthy--
				continue
			}
			if fp.start.IsZero() || c.Start.Before(fp.start) {
				fp.start = c.Start
			}
			if c.End.After(fp.end) {
				fp.end = c.End
			}
		}
		for _, u := range r.Unlisted {
			if u.Kind != model.KindHealthy || u.ClientNet != p.ClientNet || u.Server != p.Server || u.Start.IsZero() {
				continue
			}
			if fp.start.IsZero() || u.Start.Before(fp.start) {
				fp.start = u.Start
			}
			if u.End.After(fp.end) {
				fp.end = u.End
			}
		}
		if fp.healthy > 0 {
			out = append(out, fp)
		}
	}
	return out
}

// timelineSVG draws the capture's time on one axis: a lane per problem
// connection (client->server packets above its middle, server->client
// below), the healthy connections folded into a row per path, and the
// incidents as bands over their connections' lanes.
func timelineSVG(r *model.Report, lanes []*model.Connection) string {
	t0, t1 := span(r)
	plotW := float64(tlWidth - tlLabel - tlRight)
	x := func(t time.Time) float64 {
		return tlLabel + plotW*float64(t.Sub(t0))/float64(t1.Sub(t0))
	}
	drawn := lanes[:min(len(lanes), maxLanes)]
	fold := folded(r)
	more := len(lanes) - len(drawn) + unlistedProblems(r, "", "")
	h := tlAxis + len(drawn)*tlLane + len(fold)*tlFolded + 8
	if more > 0 {
		h += tlFolded
	}
	var w svgw
	w.f(`<svg id="timeline" class="timeline" viewBox="0 0 %d %d" width="%d" height="%d" font-family="sans-serif" font-size="11" role="img" aria-label="Timeline of the capture">`, tlWidth, h, tlWidth, h)
	w.f(`<rect width="%d" height="%d" fill="#fff"/>`, tlWidth, h)

	// The axis: ticks at round steps.
	step := niceStep(t1.Sub(t0), 8)
	w.f(`<g class="axis" fill="%s">`, colMuted)
	w.f(`<line x1="%d" y1="%d" x2="%s" y2="%d" stroke="%s"/>`, tlLabel, tlAxis-4, num(tlLabel+plotW), tlAxis-4, colMuted)
	for d := time.Duration(0); d <= t1.Sub(t0); d += step {
		xx := x(t0.Add(d))
		w.f(`<line x1="%s" y1="%d" x2="%s" y2="%d" stroke="#e2e8f0"/>`, num(xx), tlAxis-4, num(xx), h)
		w.f(`<text x="%s" y="%d" text-anchor="middle">+%s</text>`, num(xx), tlAxis-8, esc(shortDur(d)))
	}
	w.f(`<text x="4" y="%d" fill="%s">%s UTC</text>`, tlAxis-8, colText, esc(t0.UTC().Format("2006-01-02 15:04:05.000")))
	w.f(`</g>`)

	// Incidents first, so the lanes' marks are drawn over their bands.
	laneOf := map[string]int{}
	for i, c := range drawn {
		laneOf[laneKey(c)] = i
	}
	if r.Summary != nil {
		for k, inc := range r.Summary.Incidents {
			lo, hi := -1, -1
			for _, s := range incidentKeys(inc) {
				if i, ok := laneOf[s]; ok {
					if lo < 0 || i < lo {
						lo = i
					}
					hi = max(hi, i)
				}
			}
			if lo < 0 {
				continue
			}
			x0, x1 := x(inc.Start), x(inc.End)
			if x1-x0 < 2 {
				x1 = x0 + 2
			}
			y0 := tlAxis + lo*tlLane
			w.f(`<g class="incident" id="incident-%d"><title>%s incident, %s: %s</title>`, k, esc(string(inc.Kind)), esc(inc.Server), esc(inc.Explanation))
			w.f(`<rect x="%s" y="%d" width="%s" height="%d" fill="#fed7d7" fill-opacity="0.55" stroke="%s" stroke-dasharray="4 2"/>`,
				num(x0), y0, num(x1-x0), (hi-lo+1)*tlLane, colRetrans)
			w.f(`</g>`)
		}
	}

	for i, c := range drawn {
		y := float64(tlAxis + i*tlLane)
		lane(&w, c, y, x)
	}
	y := tlAxis + len(drawn)*tlLane
	if more > 0 {
		w.f(`<text class="more" x="4" y="%d" fill="%s">%d more connections with a problem, not drawn: see the tables</text>`, y+13, colMuted, more)
		y += tlFolded
	}
	for _, fp := range fold {
		w.f(`<g class="folded"><title>%d healthy connections on %s</title>`, fp.healthy, esc(fp.label))
		w.f(`<text x="4" y="%d" fill="%s">%s</text>`, y+13, colMuted, esc(truncate(fmt.Sprintf("%d healthy: %s", fp.healthy, fp.label), 44)))
		if !fp.start.IsZero() {
			x0, x1 := x(fp.start), x(fp.end)
			w.f(`<rect x="%s" y="%d" width="%s" height="6" rx="3" fill="#c6f6d5"/>`, num(x0), y+6, num(max(x1-x0, 2)))
		}
		w.f(`</g>`)
		y += tlFolded
	}
	w.f(`</svg>`)
	return w.String()
}

// lane draws one connection's row of the timeline at y.
func lane(w *svgw, c *model.Connection, y float64, x func(time.Time) float64) {
	mid := y + tlLane/2
	key := laneKey(c)
	w.f(`<g class="lane" id="lane-%s" data-s="%s">`, key, key)
	label := fmt.Sprintf("%s %s %s", streamLabel(c), c.Client, verdictCell(c.Verdict))
	w.f(`<a href="#stream-%s"><text x="4" y="%s" fill="%s">%s<title>stream %s: %s -> %s: %s</title></text></a>`,
		key, num(mid+4), colText, esc(truncate(label, 44)), esc(streamLabel(c)), esc(c.Client), esc(c.Server), esc(verdictSummary(c)))
	x0, x1 := x(c.Start), x(c.End)
	w.f(`<rect class="span" x="%s" y="%s" width="%s" height="%d" fill="%s"/>`, num(x0), num(y+3), num(max(x1-x0, 1)), tlLane-6, colLane)

	// Packets per direction, binned to columns; the retransmissions
	// drawn over them, one by one with their frames.
	if p := c.Plot; p != nil {
		for _, d := range []model.Direction{model.ClientToServer, model.ServerToClient} {
			y0, col := mid-9, colC2S
			if d == model.ServerToClient {
				y0, col = mid+1, colS2C
			}
			var cols []int
			last := -1
			for _, s := range p.Dir(d).Segments {
				b := int(x(c.Start.Add(time.Duration(s.TimeUs)*time.Microsecond))) / tlBin
				if b != last {
					cols, last = append(cols, b), b
				}
			}
			var path strings.Builder
			for _, b := range cols {
				fmt.Fprintf(&path, "M%d %sv8", b*tlBin, num(y0))
			}
			if path.Len() > 0 {
				w.f(`<path class="pkts" d="%s" stroke="%s" stroke-width="%d"><title>%s packets (%d, drawn %d)</title></path>`,
					path.String(), col, tlBin-1, dirLabel(d), p.Dir(d).SegmentsSeen, len(p.Dir(d).Segments))
			}
		}
	}
	titled := 0
	for _, e := range c.Events {
		xx := x(e.Time)
		switch e.Kind {
		case model.EvRetransmission, model.EvFastRetransmission, model.EvSpuriousRetrans:
			if titled >= maxTitled {
				continue
			}
			titled++
			yy := mid - 10
			if e.Dir == model.ServerToClient {
				yy = mid
			}
			w.f(`<rect class="mk" x="%s" y="%s" width="2" height="10" fill="%s"%s</rect>`, num(xx-1), num(yy), colRetrans,
				mark(c, e.Input, e.Frame, dirLabel(e.Dir)+" "+kindLabel(e.Kind)))
		case model.EvRST:
			w.f(`<rect class="rst mk" x="%s" y="%s" width="3" height="%d" fill="%s"%s</rect>`, num(xx-1), num(y+1), tlLane-2, colRetrans,
				mark(c, e.Input, e.Frame, "RST from the "+sideOf(e.Dir)))
		case model.EvFIN:
			w.f(`<rect class="fin mk" x="%s" y="%s" width="2" height="%d" fill="%s"%s</rect>`, num(xx-1), num(y+4), tlLane-8, colText,
				mark(c, e.Input, e.Frame, "FIN from the "+sideOf(e.Dir)))
		}
	}
	if h := c.HTTP2; h != nil {
		for _, p := range h.Pings {
			ping(w, c, p, mid, x)
		}
	}
	if p := c.Plot; p != nil {
		for _, g := range p.Goaways {
			xx := x(c.Start.Add(time.Duration(g.TimeUs) * time.Microsecond))
			w.f(`<path class="goaway mk" d="M%s %sl5 5l-5 5l-5-5z" fill="%s"%s</path>`, num(xx), num(mid-5), colGoaway,
				mark(c, g.Input, g.Frame, "GOAWAY from the "+g.From+goawayNote(c, g.Frame)))
		}
	}
	if v := c.Verdict; v != nil && v.Since != nil {
		xx := x(v.Since.Time)
		w.f(`<line class="since mk" x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2" stroke-dasharray="3 2"%s</line>`,
			num(xx), num(y), num(xx), num(y+tlLane), colSince, mark(c, v.Since.Input, v.Since.Frame, "the last progress before the connection died ("+string(v.Kind)+")"))
	}
	w.f(`</g>`)
}

// ping draws a PING and its ACK joined; an unanswered PING is an open
// circle with a dashed line to the connection's end.
func ping(w *svgw, c *model.Connection, p model.Ping, mid float64, x func(time.Time) float64) {
	if p.Frame == 0 || p.Time.IsZero() {
		return // an ACK whose PING was not captured
	}
	y0, y1 := mid-5, mid+5
	if p.From == model.SideServer {
		y0, y1 = y1, y0
	}
	xx := x(p.Time)
	what := "PING from the " + p.From
	if p.Inferred {
		what += " (inferred from TLS record sizes)"
	}
	if p.Acked && p.AckTime != nil {
		xa := x(*p.AckTime)
		w.f(`<g class="ping"><line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`, num(xx), num(y0), num(xa), num(y1), colPing)
		w.f(`<circle class="mk" cx="%s" cy="%s" r="3.5" fill="%s"%s</circle>`, num(xx), num(y0), colPing, mark(c, p.Input, p.Frame, what+", answered"))
		w.f(`<circle class="mk" cx="%s" cy="%s" r="2.5" fill="%s"%s</circle></g>`, num(xa), num(y1), colPing, mark(c, p.AckInput, p.AckFrame, "PING ACK"))
		return
	}
	end := x(c.End)
	w.f(`<g class="ping open"><line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-dasharray="3 3"/>`, num(xx), num(y0), num(max(end, xx+8)), num(y0), colRetrans)
	w.f(`<circle class="mk" cx="%s" cy="%s" r="4" fill="#fff" stroke="%s" stroke-width="2"%s</circle></g>`, num(xx), num(y0), colRetrans, mark(c, p.Input, p.Frame, what+", never answered"))
}

func goawayNote(c *model.Connection, frame int) string {
	if c.HTTP2 == nil {
		return ""
	}
	for _, g := range c.HTTP2.Goaways {
		if g.Frame == frame {
			return " (" + g.Error + ")"
		}
	}
	return ""
}

func sideOf(d model.Direction) string {
	if d == model.ClientToServer {
		return model.SideClient
	}
	return model.SideServer
}

func verdictSummary(c *model.Connection) string {
	if c.Verdict == nil {
		return ""
	}
	return c.Verdict.Summary
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// niceStep is a round step that cuts d into at most n parts.
func niceStep(d time.Duration, n int) time.Duration {
	for _, s := range []time.Duration{time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond,
		10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
		200 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second,
		10 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute,
		10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour} {
		if d/s <= time.Duration(n) {
			return s
		}
	}
	return d / time.Duration(n)
}

func shortDur(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%gs", d.Seconds())
}

// The time-sequence graph's geometry.
const (
	sgWidth  = 560
	sgHeight = 280
	sgLeft   = 64
	sgTop    = 22
	sgBottom = 30
	sgRight  = 10
)

// seqGraphs draws a connection's time-sequence graphs side by side, one
// per direction that sent data, in one SVG.
func seqGraphs(c *model.Connection) string {
	var dirs []model.Direction
	for _, d := range []model.Direction{model.ClientToServer, model.ServerToClient} {
		for _, s := range c.Plot.Dir(d).Segments {
			if s.Len > 0 {
				dirs = append(dirs, d)
				break
			}
		}
	}
	if len(dirs) == 0 {
		dirs = []model.Direction{model.ClientToServer}
	}
	var w svgw
	width := sgWidth * len(dirs)
	w.f(`<svg class="seqgraph" id="seqgraph-%s" viewBox="0 0 %d %d" width="%d" height="%d" font-family="sans-serif" font-size="11" role="img" aria-label="Stream %s: sequence numbers over time">`,
		laneKey(c), width, sgHeight, width, sgHeight, esc(streamLabel(c)))
	w.f(`<rect width="%d" height="%d" fill="#fff"/>`, width, sgHeight)
	for i, d := range dirs {
		w.f(`<g class="seqdir" transform="translate(%d 0)">`, i*sgWidth)
		seqGraph(&w, c, d)
		w.f(`</g>`)
	}
	w.f(`</svg>`)
	return w.String()
}

// seqGraph draws one direction as tcptrace and Wireshark's Stevens graph
// do: a bar from seq to seq+len at each segment's time, retransmissions
// in red, the peer's ACK as a step line under them, its SACK blocks as
// ranges above it, the PINGs of the direction's sender as lines and its
// ACKs of the peer's PINGs as dots on the top edge.
func seqGraph(w *svgw, c *model.Connection, d model.Direction) {
	pd := c.Plot.Dir(d)
	dur := c.End.Sub(c.Start)
	if dur <= 0 {
		dur = time.Millisecond
	}
	var lo, hi int64 = math.MaxInt64, math.MinInt64
	for _, s := range pd.Segments {
		lo, hi = min(lo, s.Seq), max(hi, s.Seq+int64(s.Len))
	}
	for _, a := range pd.Acks {
		lo, hi = min(lo, a.Ack), max(hi, a.Ack)
	}
	for _, s := range pd.SACKs {
		hi = max(hi, s.Hi)
	}
	if lo > hi {
		lo, hi = 0, 1
	}
	if hi == lo {
		hi = lo + 1
	}
	pw := float64(sgWidth - sgLeft - sgRight)
	ph := float64(sgHeight - sgTop - sgBottom)
	x := func(us int64) float64 { return sgLeft + pw*float64(time.Duration(us)*time.Microsecond)/float64(dur) }
	y := func(seq int64) float64 { return sgTop + ph - ph*float64(seq-lo)/float64(hi-lo) }

	w.f(`<text x="%d" y="14" fill="%s" font-weight="bold">%s: sequence number over time</text>`, sgLeft, colText, dirLabel(d))
	w.f(`<rect class="plotarea" x="%d" y="%d" width="%s" height="%s" fill="none" stroke="#cbd5e0"/>`, sgLeft, sgTop, num(pw), num(ph))
	w.f(`<g fill="%s"><text x="%d" y="%s" text-anchor="end">%d</text><text x="%d" y="%d" text-anchor="end">%d</text>`,
		colMuted, sgLeft-4, num(sgTop+ph), lo, sgLeft-4, sgTop+8, hi)
	w.f(`<text x="%d" y="%d">0</text><text x="%s" y="%d" text-anchor="end">+%s</text>`, sgLeft, sgHeight-12, num(sgLeft+pw), sgHeight-12, esc(duration(dur)))
	w.f(`<text x="%d" y="%d" font-size="10">seq (relative, bytes), %d segments%s</text></g>`, sgLeft, sgHeight-2, pd.SegmentsSeen, strideNote(pd.Stride))

	// SACK ranges first, under everything.
	if len(pd.SACKs) > 0 {
		var p strings.Builder
		for _, s := range pd.SACKs {
			fmt.Fprintf(&p, "M%s %sV%s", num(x(s.TimeUs)), num(y(s.Lo)), num(y(s.Hi)))
		}
		w.f(`<path class="sack" d="%s" stroke="%s" stroke-width="3" stroke-opacity="0.6"><title>SACKed ranges (%d)</title></path>`, p.String(), colSACK, len(pd.SACKs))
	}
	// The ACK line: a step from each ACK to the next.
	if len(pd.Acks) > 0 {
		var p strings.Builder
		for i, a := range pd.Acks {
			if i == 0 {
				fmt.Fprintf(&p, "M%s %s", num(x(a.TimeUs)), num(y(a.Ack)))
				continue
			}
			fmt.Fprintf(&p, "H%sV%s", num(x(a.TimeUs)), num(y(a.Ack)))
		}
		fmt.Fprintf(&p, "H%s", num(x(dur.Microseconds())))
		w.f(`<path class="ackline" d="%s" fill="none" stroke="%s" stroke-width="1" stroke-opacity="0.8"><title>the %s's ACK</title></path>`, p.String(), colAck, sideOf(d.Reverse()))
	}
	// Segments binned by column: a column's bars make one bar from its
	// lowest seq to its highest seq+len.
	type bin struct{ lo, hi int64 }
	bins := map[int]*bin{}
	var order []int
	titled := 0
	var retrans []model.PlotSegment
	for _, s := range pd.Segments {
		if s.Retrans && titled < maxTitled {
			retrans = append(retrans, s)
			titled++
			continue
		}
		col := int(x(s.TimeUs))
		b := bins[col]
		if b == nil {
			b = &bin{s.Seq, s.Seq + int64(s.Len)}
			bins[col] = b
			order = append(order, col)
		}
		b.lo, b.hi = min(b.lo, s.Seq), max(b.hi, s.Seq+int64(s.Len))
	}
	var p strings.Builder
	for _, col := range order {
		b := bins[col]
		y0, y1 := y(b.lo), y(b.hi)
		if y0-y1 < 1.5 {
			y1 = y0 - 1.5
		}
		fmt.Fprintf(&p, "M%d %sV%s", col, num(y0), num(y1))
	}
	col := colC2S
	if d == model.ServerToClient {
		col = colS2C
	}
	if p.Len() > 0 {
		w.f(`<path class="segs" d="%s" stroke="%s" stroke-width="2.5"><title>%s segments</title></path>`, p.String(), col, dirLabel(d))
	}
	for _, s := range retrans {
		y0, y1 := y(s.Seq), y(s.Seq+int64(s.Len))
		w.f(`<rect class="retrans mk" x="%s" y="%s" width="3" height="%s" fill="%s"%s</rect>`, num(x(s.TimeUs)-1.5), num(y1-1), num(y0-y1+2), colRetrans,
			mark(c, s.Input, s.Frame, fmt.Sprintf("%s retransmission, seq %d, len %d", dirLabel(d), s.Seq, s.Len)))
	}
	// The PINGs this direction's sender sent, and the ACKs it sent of
	// the peer's PINGs, as vertical lines.
	if h := c.HTTP2; h != nil {
		sender := sideOf(d)
		for _, pg := range h.Pings {
			if pg.From != sender && pg.Acked && pg.AckTime != nil && pg.AckFrame != 0 {
				// The sender's ACK of the peer's PING: a dot on the top edge.
				w.f(`<circle class="pingack mk" cx="%s" cy="%d" r="3" fill="%s"%s</circle>`, num(x(pg.AckTime.Sub(c.Start).Microseconds())), sgTop, colPing,
					mark(c, pg.AckInput, pg.AckFrame, "the "+sender+"'s ACK of the "+pg.From+"'s PING"))
				continue
			}
			if pg.Frame == 0 || pg.Time.IsZero() || pg.From != sender {
				continue
			}
			xx := x(pg.Time.Sub(c.Start).Microseconds())
			state, dash := "answered", ""
			if !pg.Acked {
				state, dash = "never answered", ` stroke-dasharray="4 3"`
			}
			w.f(`<line class="pingline mk" x1="%s" y1="%d" x2="%s" y2="%s" stroke="%s" stroke-width="1.5"%s%s</line>`, num(xx), sgTop, num(xx), num(sgTop+ph), colPing, dash,
				mark(c, pg.Input, pg.Frame, "PING from the "+pg.From+", "+state))
		}
	}
	if v := c.Verdict; v != nil && v.Since != nil {
		xx := x(v.Since.Time.Sub(c.Start).Microseconds())
		w.f(`<line class="since mk" x1="%s" y1="%d" x2="%s" y2="%s" stroke="%s" stroke-width="2" stroke-dasharray="3 2"%s</line>`, num(xx), sgTop, num(xx), num(sgTop+ph), colSince,
			mark(c, v.Since.Input, v.Since.Frame, "the last progress before the connection died"))
	}
}

func strideNote(stride int) string {
	if stride <= 1 {
		return ""
	}
	return fmt.Sprintf(" (one in %d drawn, every retransmission)", stride)
}
