package report

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/h2pcap/h2pcap/model"
)

// headline opens the report with the across-connections answer.
func (t *text) headline(r *model.Report) {
	s := r.Summary
	if s == nil {
		return
	}
	point := capturedAt(r)
	unlisted := ""
	if n := s.HealthyNotListed; n > 0 {
		unlisted = fmt.Sprintf(" (%d healthy ones, closed during the capture, counted but not listed)", n)
	}
	if t.md {
		t.printf("\n**%s**\n\n%d connections%s, %d with problems; %s.\n", s.Headline, s.Connections, unlisted, s.ProblemConnections, point)
	} else {
		t.printf("\n%s\n%d connections%s, %d with problems; %s.\n", s.Headline, s.Connections, unlisted, s.ProblemConnections, point)
	}
}

// capturedAt says where the capture was taken: the reference point's
// place on its connections' paths (or the host whose own traffic it is);
// with several points, every point first: "capture taken at: client"
// alone would say one capture of four (multipoint-loss's client,
// router-c, router-s and server).
func capturedAt(r *model.Report) string {
	place := string(r.CapturePoint)
	if place == "" {
		place = "unknown"
	}
	if r.CaptureHost != "" {
		// One host's capture of its own traffic, as client and as server.
		place = "host " + r.CaptureHost + " (client of some connections, server of others)"
	}
	if len(r.Points) < 2 {
		return "capture taken at: " + place
	}
	names, ref := make([]string, len(r.Points)), ""
	for i, p := range r.Points {
		names[i] = p.Name
		if p.Reference {
			ref = p.Name
		}
	}
	at := fmt.Sprintf("captures taken at %d points: %s; the reference: %s", len(r.Points), strings.Join(names, ", "), ref)
	if ref != place {
		at += ", at: " + place
	}
	return at
}

// maxIncidentStreams is the most streams an incident lists in the text
// reports, and in its Wireshark filter.
const maxIncidentStreams = 30

// incidents lists the connections that failed together, each with its
// explanation, right under the headline.
func (t *text) incidents(r *model.Report) {
	if r.Summary == nil || len(r.Summary.Incidents) == 0 {
		return
	}
	t.heading("Incidents")
	for _, inc := range r.Summary.Incidents {
		label := incidentLabel(inc.Kind)
		if t.md {
			label = "**" + label + "**"
		}
		t.printf("%s%s, %s: %s\n", t.bullet(), label, inc.Server, inc.Explanation)
		indent := "    "
		if t.md {
			indent = "  "
		}
		var lists, filters []string
		for _, at := range incidentCaptures(inc) {
			list, filter := streamsText(at, maxIncidentStreams)
			lists, filters = append(lists, list), append(filters, t.code(filter))
		}
		t.printf("%sstreams %s; Wireshark: %s\n", indent, strings.Join(lists, "; "), strings.Join(filters, ", "))
	}
}

// incidentCaptures are inc's streams by capture: the reference point's
// (Point "") if any, then each other point's.
func incidentCaptures(inc model.Incident) []model.PointStreams {
	var out []model.PointStreams
	if len(inc.Connections) > 0 || len(inc.ConnectionsAt) == 0 {
		out = append(out, model.PointStreams{Streams: inc.Connections})
	}
	return append(out, inc.ConnectionsAt...)
}

// streamsText lists the streams of one capture (its point's name first
// when not the reference's), at most max of them (0: all), and the
// Wireshark filter that opens those (in that point's capture).
func streamsText(at model.PointStreams, max int) (list, filter string) {
	all := at.Streams
	if max <= 0 {
		max = len(all)
	}
	shown := all[:min(len(all), max)]
	streams := make([]string, len(shown))
	for i, s := range shown {
		streams[i] = strconv.Itoa(s)
	}
	filter = "tcp.stream in {" + strings.Join(streams, " ") + "}"
	list = strings.Join(streams, ", ")
	if more := len(all) - len(shown); more > 0 {
		list += fmt.Sprintf(" and %d more (the JSON report lists them)", more)
		filter += " (the first " + strconv.Itoa(len(shown)) + ")"
	}
	if at.Point != "" {
		list, filter = at.Point+"'s "+list, filter+" in "+at.Point+"'s capture"
	}
	return list, filter
}

// incidentLabel names an incident's kind as the reports show it: PER FLOW.
func incidentLabel(k model.IncidentKind) string {
	return strings.ToUpper(strings.ReplaceAll(string(k), "_", " "))
}

// paths is the table that shows "node -> load balancer lossy, node -> node clean".
func (t *text) paths(r *model.Report) {
	if r.Summary == nil || len(r.Summary.Paths) == 0 {
		return
	}
	t.heading("Paths")
	var rows [][]string
	for _, p := range r.Summary.Paths {
		rows = append(rows, []string{
			p.ClientNet, p.Server, strconv.Itoa(p.Connections), strconv.Itoa(p.LostPings),
			strconv.FormatFloat(100*p.RetransmissionRate, 'f', 2, 64) + " %", strconv.Itoa(p.Resets),
		})
	}
	t.fitted([]column{{"Client net", 0}, {"Server", 0}, {"Connections", 3}, {"Lost PINGs", 0}, {"Retransmitted", 2}, {"Resets", 1}}, rows)
}

// probes is the table of traceroute-style probes, counted apart from the
// connections: per prober, target and TTL, what answered.
func (t *text) probes(r *model.Report) {
	if r.Summary == nil || len(r.Summary.Probes) == 0 {
		return
	}
	t.heading("Probes")
	var rows [][]string
	for _, p := range r.Summary.Probes {
		for _, x := range p.TTLs {
			icmp := strconv.Itoa(x.ICMP)
			if len(x.Hops) > 0 {
				icmp += " from " + strings.Join(x.Hops, ", ")
			}
			rows = append(rows, []string{p.Prober, p.Target, strconv.Itoa(x.TTL), strconv.Itoa(x.Sent), icmp,
				strconv.Itoa(x.SYNAck), strconv.Itoa(x.Reset), strconv.Itoa(x.Unanswered)})
		}
	}
	t.fitted([]column{{"Prober", 0}, {"Target", 0}, {"TTL", 0}, {"Sent", 0}, {"ICMP", 1},
		{"SYN-ACK", 2}, {"RST", 3}, {"Unanswered", 0}}, rows)
	if t.md {
		t.printf("\n")
	}
	for _, p := range r.Summary.Probes {
		streams, capture := "streams", "this capture"
		if p.Point != "" {
			// Seen at another point than the reference: its streams.
			streams, capture = p.Point+"'s streams", p.Point+"'s capture"
		}
		t.printf("%s%d traceroute probes from %s to %s (%s to %s): SYNs with TTLs counting up that opened no connection, counted here and not among the connections (%s %s); TTL as %s saw them\n",
			t.bullet(), p.Probes, p.Prober, p.Target, stamp(p.Start), stamp(p.End), streams, streamList(p.Streams, 8), capture)
	}
}

// streamList is streams as "2, 3, 4, ... (80 in all)".
func streamList(streams []int, max int) string {
	var w []string
	for i, s := range streams {
		if i == max {
			return strings.Join(w, ", ") + fmt.Sprintf(", ... (%d in all)", len(streams))
		}
		w = append(w, strconv.Itoa(s))
	}
	return strings.Join(w, ", ")
}

func problem(c *model.Connection) bool {
	return c.Verdict != nil && c.Verdict.Kind != "" && c.Verdict.Kind != model.KindHealthy
}

func verdictCell(v *model.Verdict) string {
	if v == nil || v.Kind == "" {
		return "-"
	}
	s := string(v.Kind)
	if v.LossDirection != "" && v.LossDirection != model.LossNone {
		s += ", loss " + strings.ReplaceAll(string(v.LossDirection), "_to_", "->")
	}
	return s
}

// verdict writes a connection's judgement: the sentence, the suspects and
// the frames that support it.
func (t *text) verdict(c *model.Connection) {
	v := c.Verdict
	if v == nil || v.Kind == "" {
		return
	}
	label := strings.ToUpper(string(v.Kind))
	if t.md {
		label = "**" + label + "**"
	}
	t.printf("%s%s: %s\n", t.bullet(), label, v.Summary)
	if !problem(c) {
		return // the evidence of a healthy connection is its close, shown below
	}
	var facts []string
	if v.LossDirection != "" {
		facts = append(facts, "loss direction "+string(v.LossDirection))
	}
	if v.LossLocation != "" {
		facts = append(facts, "loss location "+string(v.LossLocation))
	}
	if len(v.Suspects) > 0 {
		facts = append(facts, "suspects "+joinSuspects(v.Suspects))
	}
	if len(facts) > 0 {
		t.printf("%s%s\n", t.bullet(), strings.Join(facts, "; "))
	}
	for _, e := range v.Evidence {
		t.printf("%sframe %s: %s\n", t.sub(), frameRef(e.Input, e.Frame), e.Note)
	}
	if v.Filter != "" {
		t.printf("%sWireshark: %s\n", t.sub(), t.code(v.Filter))
	}
}

// http2 writes what the HTTP/2 analysis saw: frame counts, PINGs that
// matter, GOAWAYs and RST_STREAMs.
func (t *text) http2(c *model.Connection) {
	h := c.HTTP2
	if h == nil {
		return
	}
	for _, d := range []model.Direction{model.ClientToServer, model.ServerToClient} {
		counts := h.Frames[d]
		if len(counts) == 0 {
			continue
		}
		names := make([]string, 0, len(counts))
		for name := range counts {
			names = append(names, name)
		}
		slices.Sort(names)
		parts := make([]string, len(names))
		for i, name := range names {
			parts[i] = fmt.Sprintf("%s %d", name, counts[name])
		}
		skipped := ""
		if n := h.SkippedBytes[d]; n > 0 {
			skipped = fmt.Sprintf(" (%d bytes skipped to find frame boundaries)", n)
		}
		t.printf("%sHTTP/2 %s: %s%s\n", t.bullet(), dirLabel(d), strings.Join(parts, ", "), skipped)
	}
	var answered, late, unanswered int
	for _, p := range h.Pings {
		switch {
		case p.Acked && p.Late:
			late++
			answered++
		case p.Acked:
			answered++
		default:
			unanswered++
		}
	}
	if len(h.Pings) > 0 {
		how := ""
		if h.Detected == "tls-record-sizes" {
			how = " (TLS not decrypted: inferred from record sizes and timing)"
		}
		lateNote := ""
		if late > 0 {
			lateNote = fmt.Sprintf(" (%d late)", late)
		}
		t.printf("%sPINGs: %d answered%s, %d unanswered%s\n", t.bullet(), answered, lateNote, unanswered, how)
	}
	for _, p := range h.Pings {
		if p.Acked {
			continue
		}
		if p.Inferred {
			t.printf("%sunanswered PING from the %s at frame %s, inferred: %s\n", t.sub(), p.From, frameRef(p.Input, p.Frame), p.Reason)
			continue
		}
		t.printf("%sunanswered PING from the %s at frame %s, data %s (%s)\n", t.sub(), p.From, frameRef(p.Input, p.Frame), p.Data, p.Sender)
	}
	if hc := h.HealthCheck; hc != nil {
		var parts []string
		if hc.ReadIdleTimeoutS != nil {
			parts = append(parts, fmt.Sprintf("ReadIdleTimeout about %.1f s (from %d PINGs)", *hc.ReadIdleTimeoutS, hc.IdleSamples))
		}
		if hc.PingTimeoutS != nil {
			parts = append(parts, fmt.Sprintf("PingTimeout about %.1f s (PING frame %d to close frame %d)", *hc.PingTimeoutS, hc.PingFrame, hc.CloseFrame))
		}
		if hc.ClientGoDefaults {
			parts = append(parts, "client-go's defaults (30 s / 15 s)")
		}
		if len(parts) > 0 {
			t.printf("%sclient health check: %s\n", t.bullet(), strings.Join(parts, "; "))
		}
	}
	var open []string
	for _, st := range h.Streams {
		if st.State == model.StreamClosed || st.State == model.StreamReset {
			continue
		}
		req := strings.TrimSpace(st.Method + " " + st.Path)
		if req == "" {
			req = "(headers not decoded)"
		}
		open = append(open, fmt.Sprintf("stream %d %s (%s, since frame %s)", st.ID, req, strings.ReplaceAll(st.State, "_", " "), frameRef(st.Input, st.FirstFrame)))
	}
	if len(open) > 0 {
		t.printf("%srequests still open at the end: %s\n", t.bullet(), frameList(open, 6))
	}
	t.flowStalls(h)
	for _, g := range h.Goaways {
		debug := ""
		if g.Debug != "" {
			debug = fmt.Sprintf(", debug %q", g.Debug)
		}
		t.printf("%sGOAWAY %s from the %s at frame %s, last stream %d%s\n", t.bullet(), g.Error, g.From, frameRef(g.Input, g.Frame), g.LastStreamID, debug)
	}
	if n := len(h.RSTStreams); n > 0 {
		var parts []string
		for _, r := range h.RSTStreams[:min(n, 8)] {
			parts = append(parts, fmt.Sprintf("stream %d %s by %s @%s", r.Stream, r.Error, r.From, frameRef(r.Input, r.Frame)))
		}
		more := ""
		if n > 8 {
			more = fmt.Sprintf(", ... (%d more)", n-8)
		}
		t.printf("%sRST_STREAM: %s%s\n", t.bullet(), strings.Join(parts, "; "), more)
	}
}

func joinSuspects(ss []model.Suspect) string {
	w := make([]string, len(ss))
	for i, s := range ss {
		w[i] = string(s)
	}
	return strings.Join(w, ", ")
}

// flowStallsListed is how many flow-control stalls a connection's
// findings list a line each; past it they are told a line per sender
// (the JSON lists each): a bulk transfer to a reader slower than the
// sender stalls at nearly every window, hundreds of lines of a
// millisecond each that hid the rest of the report.
const flowStallsListed = 3

// flowStalls writes h's flow-control stalls: each on its line, or, past
// flowStallsListed, a line per sender with how many, on which streams,
// how many never reopened, the longest, and their first frames.
func (t *text) flowStalls(h *model.HTTP2) {
	if len(h.FlowStalls) <= flowStallsListed && h.FlowStallsDropped == 0 {
		for _, fs := range h.FlowStalls {
			d := "never reopened"
			if fs.DurationMs != nil {
				d = fmt.Sprintf("%.0f ms", *fs.DurationMs)
			}
			t.printf("%sflow control: the %s's window on %s reached zero at frame %s (%s)\n", t.bullet(), fs.From, stallWhere(fs.Stream), frameRef(fs.Input, fs.Frame), d)
		}
		return
	}
	var senders []string
	bySender := map[string][]model.FlowStall{}
	for _, fs := range h.FlowStalls {
		if _, ok := bySender[fs.From]; !ok {
			senders = append(senders, fs.From)
		}
		bySender[fs.From] = append(bySender[fs.From], fs)
	}
	bullet, what := t.bullet(), "flow control: the"
	if h.FlowStallsDropped > 0 {
		// Past the cap the stalls are counted, not told by sender.
		t.printf("%sflow control: windows reached zero %d times; the first %d:\n", bullet, len(h.FlowStalls)+h.FlowStallsDropped, len(h.FlowStalls))
		bullet, what = t.sub(), "the"
	}
	for _, from := range senders {
		stalls := bySender[from]
		var (
			frames, streams []string
			seen            = map[uint32]bool{}
			conn            bool
			never           int
			longest         *model.FlowStall
		)
		for i := range stalls {
			fs := &stalls[i]
			frames = append(frames, frameRef(fs.Input, fs.Frame))
			switch {
			case fs.Stream == 0:
				conn = true
			case !seen[fs.Stream]:
				seen[fs.Stream] = true
				streams = append(streams, strconv.FormatUint(uint64(fs.Stream), 10))
			}
			switch {
			case fs.DurationMs == nil:
				never++
			case longest == nil || *fs.DurationMs > *longest.DurationMs:
				longest = fs
			}
		}
		var where []string
		switch len(streams) {
		case 0:
		case 1:
			where = append(where, "stream "+streams[0])
		default:
			where = append(where, "streams "+frameList(streams, 6))
		}
		if conn {
			where = append(where, "the connection")
		}
		var parts []string
		switch {
		case never == 1 && len(stalls) == 1:
			parts = append(parts, "never reopened")
		case never > 0:
			parts = append(parts, fmt.Sprintf("%d never reopened", never))
		}
		if longest != nil {
			parts = append(parts, fmt.Sprintf("the longest %.0f ms at frame %s", *longest.DurationMs, frameRef(longest.Input, longest.Frame)))
		}
		times := fmt.Sprintf("%d times", len(stalls))
		if len(stalls) == 1 {
			times = "once"
		}
		t.printf("%s%s %s's window reached zero %s, on %s (%s): frames %s\n",
			bullet, what, from, times, strings.Join(where, " and "), strings.Join(parts, "; "), frameList(frames, 6))
	}
}

// stallWhere names a stall's window: a stream's, or the connection's.
func stallWhere(stream uint32) string {
	if stream == 0 {
		return "the connection"
	}
	return fmt.Sprintf("stream %d", stream)
}
