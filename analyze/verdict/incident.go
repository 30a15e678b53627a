package verdict

// Incidents: connections that failed the same way at the same time,
// compared with the ones on the same path that did not. One dead flow
// says little; three dying together while nine beside them go on says
// "a device that picks flows by their hash", and every flow on the path
// dying says "the path". This runs once per report on the judged
// connections, never per packet.

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/h2pcap/h2pcap/model"
)

// failFamily is how a connection failed, for grouping: only failures of
// one family are grouped together.
type failFamily int

const (
	familyNone      failFamily = iota
	familyDied                 // blackholed, lost_ping, silent: went on sending into silence
	familyHandshake            // connect_failed: never connected
	familyReset                // reset by the server's side (not a refusal, not a middlebox)
)

// failure is one failed connection: when it can have died.
type failure struct {
	c      *model.Connection
	family failFamily
	// lo is its last progress (verdict.since), hi the first sign of
	// trouble after it (a retransmission, the unanswered PING): the
	// fault that killed it struck between the two. An idle connection
	// has a wide window, a busy one a narrow one.
	lo, hi time.Time
	path   pathKey
}

func familyOf(c *model.Connection) failFamily {
	v := c.Verdict
	if v == nil {
		return familyNone
	}
	switch v.Kind {
	case model.KindBlackholed, model.KindLostPing:
		return familyDied
	case model.KindSilent:
		// A setup that never got an answer is a failed connect in all
		// but name; a connection that just stopped is a death.
		if c.TCP.ServerToClient.Packets == 0 {
			return familyHandshake
		}
		return familyDied
	case model.KindConnectFailed:
		return familyHandshake
	case model.KindReset:
		if c.Close.By == model.SideServer && !slices.Contains(v.Suspects, model.SuspectMiddleboxReset) &&
			(c.TCP.ClientToServer.Bytes > 0 || c.TCP.ServerToClient.Bytes > 0) {
			return familyReset
		}
	}
	return familyNone
}

// failureOf places c's death in time.
func failureOf(c *model.Connection, fam failFamily) failure {
	f := failure{c: c, family: fam, path: pathKey{model.ClientNet(c.Client), c.Server}}
	switch fam {
	case familyHandshake:
		f.lo, f.hi = c.Start, c.End
		return f
	case familyReset:
		f.lo, f.hi = c.End, c.End
		return f
	}
	f.lo, f.hi = c.Verdict.Since.Time, c.End
	for _, e := range c.Events {
		if e.Time.Before(f.lo) {
			continue
		}
		switch e.Kind {
		case model.EvRetransmission, model.EvFastRetransmission, model.EvSpuriousRetrans, model.EvLostSegment:
			if e.Time.Before(f.hi) {
				f.hi = e.Time
			}
		}
	}
	if h := c.HTTP2; h != nil {
		for _, p := range h.Pings {
			if p.From == model.SideClient && !p.Acked && !p.Time.Before(f.lo) && p.Time.Before(f.hi) {
				f.hi = p.Time
			}
		}
	}
	return f
}

// group is failures that fit one moment: the intersection of their
// windows, widened by incidentSlack, is not empty. Every member's window
// must meet every other's: deaths that each come within the slack of the
// one before, one by one, over a minute, are not one moment.
type group struct {
	members []failure
	lo, hi  time.Time // the intersection: the fault struck in [lo, hi]
	// minHi is the earliest of the members' hi: hi is raised to lo when
	// the windows meet only within the slack, and fits compares with
	// minHi, not that moment.
	minHi time.Time
}

func (g *group) fits(f failure) bool {
	lo, hi := later(g.lo, f.lo), earlier(g.minHi, f.hi)
	return !lo.After(hi.Add(incidentSlack))
}

func (g *group) add(f failure) {
	if len(g.members) == 0 {
		g.lo, g.hi, g.minHi = f.lo, f.hi, f.hi
	} else {
		g.lo, g.hi, g.minHi = later(g.lo, f.lo), earlier(g.hi, f.hi), earlier(g.minHi, f.hi)
		if g.hi.Before(g.lo) {
			g.hi = g.lo // within the slack: the moment is the later bound
		}
	}
	g.members = append(g.members, f)
}

// found is an incident with its headline words.
type found struct {
	model.Incident
	words string
	// Of a death incident (deathIncident), for merging waves: its
	// flows' paths, the earliest start of its flows, the connections to
	// the server from other paths that stayed clean, its dead named, the
	// dials that failed in its window, and whether the server stalled.
	paths    map[pathKey]bool
	opened   time.Time
	toServer int
	dead     []string
	dials    int
	stalled  bool
}

// Incidents groups conns' failures (conns must be judged) and says each
// as the headline leads with it.
// fg adds the healthy connections forgotten before the Report (nil:
// none) as clean ones.
func Incidents(conns []*model.Connection, fg *Forgotten) ([]model.Incident, []string) {
	byServer := map[string][]failure{}
	var servers []string
	for _, c := range conns {
		fam := familyOf(c)
		if fam == familyNone {
			continue
		}
		if fam == familyDied && (c.Verdict.Since == nil || c.Verdict.Since.Time.IsZero()) {
			// Without its last progress a death cannot be placed in
			// time: its window would be its whole life.
			continue
		}
		if _, ok := byServer[c.Server]; !ok {
			servers = append(servers, c.Server)
		}
		byServer[c.Server] = append(byServer[c.Server], failureOf(c, fam))
	}
	var all []found
	for _, srv := range servers {
		all = append(all, serverIncidents(srv, byServer[srv], conns, fg)...)
	}
	slices.SortStableFunc(all, func(a, b found) int { return a.Start.Compare(b.Start) })
	var out []model.Incident
	var words []string
	for _, f := range all {
		out = append(out, f.Incident)
		words = append(words, f.words)
	}
	return out, words
}

func serverIncidents(srv string, fails []failure, conns []*model.Connection, fg *Forgotten) []found {
	peers := peersOf(srv, conns, fg)
	var died, dials, resets []failure
	for _, f := range fails {
		switch f.family {
		case familyDied:
			died = append(died, f)
		case familyHandshake:
			dials = append(dials, f)
		case familyReset:
			resets = append(resets, f)
		}
	}
	var out []found
	usedDial := make([]bool, len(dials))
	for _, g := range momentGroups(died) {
		if len(g.members) < minIncident {
			continue
		}
		// Dials that failed while the flows were dying belong to it.
		var joined []failure
		end := g.hi
		for _, m := range g.members {
			end = later(end, m.c.End)
		}
		for i, d := range dials {
			if !usedDial[i] && !d.lo.Before(g.lo.Add(-incidentSlack)) && !d.lo.After(end) {
				usedDial[i] = true
				joined = append(joined, d)
			}
		}
		out = append(out, deathIncident(srv, g, joined, end, peers))
	}
	out = mergeWaves(srv, out, peers)
	// A handshake outage needs a server that answers at other times: one
	// that never completed a handshake in the capture may not exist (a
	// scan, a flood, a wrong address), and the verdicts say so.
	answers := false
	for _, c := range conns {
		if c.Server == srv && serverAnswered(c) && familyOf(c) != familyHandshake {
			answers = true
			break
		}
	}
	if !answers && fg != nil {
		// Or a healthy one the analysis forgot (the rows of a large
		// capture, or those live's report spilled at exit).
		for sp := range fg.Clean.All() {
			if sp.answered && fg.Paths[sp.path].Server == srv {
				answers = true
				break
			}
		}
	}
	var rest []failure
	for i, d := range dials {
		if !usedDial[i] && answers {
			rest = append(rest, d)
		}
	}
	for _, run := range dialRuns(rest) {
		if len(run) >= minIncident {
			out = append(out, handshakeIncident(srv, run, peers))
		}
	}
	for _, g := range momentGroups(resets) {
		if len(g.members) < minIncident {
			continue
		}
		if inc, ok := resetIncident(srv, g, peers); ok {
			out = append(out, inc)
		}
	}
	return out
}

// momentGroups groups failures whose windows meet, taken in order of
// their first sign of trouble (hi), each into the first group it fits.
// So a group's minHi is its first member's hi, the groups are in order
// of minHi, and a failure fits exactly the groups whose minHi is within
// incidentSlack before its lo or after it (a group's lo never passes its
// minHi by more): the first is found by binary search, not by trying
// each of a long capture's thousands of groups in turn.
func momentGroups(fails []failure) []*group {
	slices.SortStableFunc(fails, func(a, b failure) int { return a.hi.Compare(b.hi) })
	var gs []*group
	for _, f := range fails {
		i, _ := slices.BinarySearchFunc(gs, f.lo.Add(-incidentSlack), func(g *group, t time.Time) int { return g.minHi.Compare(t) })
		for i < len(gs) && !gs[i].fits(f) {
			i++ // not expected: the order above says the first is a fit
		}
		if i < len(gs) {
			gs[i].add(f)
			continue
		}
		g := &group{}
		g.add(f)
		gs = append(gs, g)
	}
	return gs
}

// dialRuns chains failed dials that follow one another: a dial that
// failed starts within incidentSlack of the previous one's end (a client
// redials at once or on its next request).
func dialRuns(dials []failure) [][]failure {
	slices.SortStableFunc(dials, func(a, b failure) int { return a.lo.Compare(b.lo) })
	var runs [][]failure
	var end time.Time
	for _, d := range dials {
		if n := len(runs); n > 0 && !d.lo.After(end.Add(incidentSlack)) {
			runs[n-1] = append(runs[n-1], d)
		} else {
			runs = append(runs, []failure{d})
		}
		end = later(end, d.hi)
	}
	return runs
}

// clean says whether c went on through [lo, hi]: open before the moment,
// heard from after it, and not failed.
func clean(c *model.Connection, lo, hi time.Time) bool {
	return familyOf(c) == familyNone && c.Verdict != nil && c.Verdict.Kind != model.KindConnectFailed &&
		!c.Start.After(lo) && !c.End.Before(hi)
}

// peers are what one server's incidents compare its failures with: the
// connections to it that did not fail, listed (clean's test of the kind
// passed) and forgotten, picked once per server. Each incident used to go
// through every connection of the capture: a capture of 100k lost PINGs
// one by one (500 incidents) spent 3 s there.
type peers struct {
	srv   string
	all   []*model.Connection // every connection, until picked
	fg    *Forgotten
	ready bool // picked: conns and spans hold the server's
	conns []*model.Connection
	spans []CleanSpan
}

// peersOf are srv's peers, picked from conns and fg when an incident
// first asks (a flood's servers have none, and each would go through the
// million connections).
func peersOf(srv string, conns []*model.Connection, fg *Forgotten) *peers {
	return &peers{srv: srv, all: conns, fg: fg}
}

func (p *peers) pick() {
	if p.ready {
		return
	}
	p.ready = true
	for _, c := range p.all {
		if c.Server == p.srv && familyOf(c) == familyNone && c.Verdict != nil && c.Verdict.Kind != model.KindConnectFailed {
			p.conns = append(p.conns, c)
		}
	}
	p.all = nil
	if p.fg != nil {
		for sp := range p.fg.Clean.All() {
			if p.fg.Paths[sp.path].Server == p.srv {
				p.spans = append(p.spans, *sp)
			}
		}
	}
}

// clean are the listed connections to the server that went on through
// [lo, hi] (clean).
func (p *peers) clean(lo, hi time.Time) []*model.Connection {
	p.pick()
	var out []*model.Connection
	for _, c := range p.conns {
		if clean(c, lo, hi) {
			out = append(out, c)
		}
	}
	return out
}

// forgotten are the forgotten healthy connections to the server that
// went on through [lo, hi].
func (p *peers) forgotten(lo, hi time.Time) []CleanSpan {
	p.pick()
	var out []CleanSpan
	for _, sp := range p.spans {
		if sp.spans(lo, hi) {
			out = append(out, sp)
		}
	}
	return out
}

// healthyOn says whether a connection to the server on one of paths
// that did not fail was open at some time in [lo, hi]: then the path
// was not failing the whole time.
func (p *peers) healthyOn(paths map[pathKey]bool, lo, hi time.Time) bool {
	p.pick()
	for _, c := range p.conns {
		if paths[pathKey{model.ClientNet(c.Client), c.Server}] && !c.Start.After(hi) && !c.End.Before(lo) {
			return true
		}
	}
	if p.fg != nil {
		for _, sp := range p.spans {
			if paths[pathKey{p.fg.Paths[sp.path].ClientNet, p.srv}] && sp.start <= hi.UnixNano() && sp.end >= lo.UnixNano() {
				return true
			}
		}
	}
	return false
}

// withStreams returns inc with the streams of the failures fs: the
// reference point's in Connections, those of connections it never saw
// (a multi-point analysis's rows of other points) per point in
// ConnectionsAt, numbered as their own captures number them.
func withStreams(inc model.Incident, fs ...[]failure) model.Incident {
	inc.Connections = []int{}
	for _, f := range fs {
		for _, m := range f {
			inc = addStreams(inc, m.c.Point, m.c.Stream)
		}
	}
	return sortStreams(inc)
}

// addStreams adds streams of point (the reference's: "") to inc.
func addStreams(inc model.Incident, point string, streams ...int) model.Incident {
	if point == "" {
		inc.Connections = append(inc.Connections, streams...)
		return inc
	}
	k := slices.IndexFunc(inc.ConnectionsAt, func(ps model.PointStreams) bool { return ps.Point == point })
	if k < 0 {
		k = len(inc.ConnectionsAt)
		inc.ConnectionsAt = append(inc.ConnectionsAt, model.PointStreams{Point: point})
	}
	inc.ConnectionsAt[k].Streams = append(inc.ConnectionsAt[k].Streams, streams...)
	return inc
}

// sortStreams sorts inc's streams, and its points by name.
func sortStreams(inc model.Incident) model.Incident {
	slices.Sort(inc.Connections)
	for _, ps := range inc.ConnectionsAt {
		slices.Sort(ps.Streams)
	}
	slices.SortFunc(inc.ConnectionsAt, func(a, b model.PointStreams) int { return strings.Compare(a.Point, b.Point) })
	return inc
}

func deathIncident(srv string, g *group, dials []failure, end time.Time, peers *peers) found {
	paths := map[pathKey]bool{}
	for _, m := range g.members {
		paths[m.path] = true
	}
	// Unaffected: clean connections on the paths that lost flows, and on
	// any path to the same server.
	onPath, toServer := 0, 0
	for _, c := range peers.clean(g.lo, g.hi) {
		toServer++
		if paths[pathKey{model.ClientNet(c.Client), c.Server}] {
			onPath++
		}
	}
	for _, sp := range peers.forgotten(g.lo, g.hi) {
		toServer++
		if paths[pathKey{peers.fg.Paths[sp.path].ClientNet, srv}] {
			onPath++
		}
	}
	inc := withStreams(model.Incident{Server: srv, Start: g.lo, End: end, Unaffected: onPath}, g.members, dials)
	n := len(g.members)
	var dead []string
	for _, m := range g.members {
		dead = append(dead, m.c.Client+" -> "+m.c.Server)
	}
	slices.Sort(dead)
	spread := g.hi.Sub(g.lo)
	together := fmt.Sprintf("%d flows to %s died together at %s", n, srv, clock(g.lo))
	if spread > time.Millisecond {
		together = fmt.Sprintf("%d flows to %s died together between %s and %s", n, srv, clock(g.lo), clock(g.hi))
	}
	stalled := 0
	for _, m := range g.members {
		if slices.Contains(m.c.Verdict.Suspects, model.SuspectServerStalled) {
			stalled++
		}
	}
	var b strings.Builder
	switch {
	case stalled == n:
		// Its TCP acknowledged what they sent: the packets got there,
		// the server's application did not answer.
		inc.Kind = model.IncidentServerOutage
		fmt.Fprintf(&b, "%s: on every one the server's TCP acknowledged what the client sent and its application answered nothing: the server stalled, not the path.", together)
	case onPath > 0:
		inc.Kind = model.IncidentPerFlow
		fmt.Fprintf(&b, "%d of %d flows to %s died together at %s; %d on the same path, open across that moment, stayed clean: "+
			"a fault that picks flows by their hash (an ECMP or LAG member, one switch port, one node behind a VIP). "+
			"Random loss does not look like this: it slows every flow and kills none outright.",
			n, n+onPath, srv, clock(g.lo), onPath)
	case toServer == 0 && len(paths) > 1:
		inc.Kind = model.IncidentServerOutage
		fmt.Fprintf(&b, "%s: every connection to it, from %d client networks, stopped being answered: the server, not one path.", together, len(paths))
	default:
		inc.Kind = model.IncidentPathOutage
		fmt.Fprintf(&b, "%s: every flow on the path open at that moment died.", together)
		if toServer > 0 {
			fmt.Fprintf(&b, " %d connections to the same server from other client networks stayed clean: the fault is on this path.", toServer)
		} else {
			b.WriteString(" The capture holds no other path to this server, so a server that stopped answering looks the same; a capture of another client of it would tell.")
		}
	}
	writeDead(&b, dead, len(dials), "window")
	inc.Explanation = b.String()
	opened := g.members[0].c.Start
	for _, m := range g.members {
		opened = earlier(opened, m.c.Start)
	}
	var words string
	switch inc.Kind {
	case model.IncidentPerFlow:
		words = fmt.Sprintf("%d of %d flows to %s died together at %s, %d on the same path stayed clean: a per-flow path fault",
			n, n+onPath, srv, clock(g.lo), onPath)
	case model.IncidentServerOutage:
		words = fmt.Sprintf("%d connections to %s died together at %s: the server stopped answering", n, srv, clock(g.lo))
		if stalled == n {
			words = fmt.Sprintf("%d connections to %s died together at %s: the server stalled (its TCP acknowledged, its application answered nothing)", n, srv, clock(g.lo))
		}
	default:
		words = fmt.Sprintf("all %d flows on the path to %s died together at %s", n, srv, clock(g.lo))
	}
	return found{Incident: inc, words: words, paths: paths, opened: opened, toServer: toServer, dead: dead, dials: len(dials), stalled: stalled == n}
}

// mergeWaves tells as one failure each run of minWaves or more path or
// server outages of srv (incs, deathIncident's, in order of time) that
// follow one another: the same kind on the same paths, the flows of
// each open before the one before died or opened within incidentSlack
// after it, and no connection on those paths healthy anywhere between
// the first and the last. Each alone says "every flow open at that
// moment died", true but one line per health check interval; together
// they say the path (or the server) failed the whole time.
func mergeWaves(srv string, incs []found, peers *peers) []found {
	var out []found
	for i := 0; i < len(incs); {
		j := i + 1
		for j < len(incs) && incs[j].Start.After(incs[j-1].Start) && sameWave(incs[j-1], incs[j]) &&
			!incs[j].opened.After(incs[j-1].End.Add(incidentSlack)) && !peers.healthyOn(incs[i].paths, incs[i].Start, incs[j].End) {
			j++
		}
		if j-i >= minWaves {
			out = append(out, waves(srv, incs[i:j]))
		} else {
			out = append(out, incs[i:j]...)
		}
		i = j
	}
	return out
}

// sameWave says whether b may follow a as the same steady failure.
func sameWave(a, b found) bool {
	switch {
	case a.Kind != b.Kind || a.stalled != b.stalled || a.Unaffected > 0 || b.Unaffected > 0:
		return false
	case a.Kind != model.IncidentPathOutage && a.Kind != model.IncidentServerOutage:
		return false
	case len(a.paths) != len(b.paths):
		return false
	}
	for p := range a.paths {
		if !b.paths[p] {
			return false
		}
	}
	return true
}

// waves is the one incident of the run ws (mergeWaves).
func waves(srv string, ws []found) found {
	first, last := ws[0], ws[len(ws)-1]
	inc := model.Incident{Kind: first.Kind, Server: srv, Start: first.Start, End: first.End, Waves: len(ws), Connections: []int{}}
	var dead []string
	toServer, dials := 0, 0
	for _, w := range ws {
		inc.Connections = append(inc.Connections, w.Connections...)
		for _, ps := range w.ConnectionsAt {
			inc = addStreams(inc, ps.Point, ps.Streams...)
		}
		inc.End = later(inc.End, w.End)
		dead = append(dead, w.dead...)
		toServer = max(toServer, w.toServer)
		dials += w.dials
	}
	inc = sortStreams(inc)
	slices.Sort(dead)
	n := len(dead)
	every := last.Start.Sub(first.Start) / time.Duration(len(ws)-1)
	span := fmt.Sprintf("%d flows to %s died in %d waves from %s to %s, one about every %s, and none on their path was healthy in between",
		n, srv, len(ws), clock(first.Start), clock(last.Start), every.Round(time.Millisecond))
	var b strings.Builder
	var words string
	switch {
	case first.stalled:
		fmt.Fprintf(&b, "%s: on every one the server's TCP acknowledged what the client sent and its application answered nothing: the server stalled the whole time, not the path.", span)
		words = fmt.Sprintf("%d connections to %s died in %d waves from %s to %s: the server stalled the whole time (its TCP acknowledged, its application answered nothing)", n, srv, len(ws), clock(first.Start), clock(last.Start))
	case first.Kind == model.IncidentServerOutage:
		fmt.Fprintf(&b, "%s: every connection to it, from %d client networks, went unanswered the whole time: the server, not one path.", span, len(first.paths))
		words = fmt.Sprintf("%d connections to %s died in %d waves from %s to %s: the server stopped answering for the whole span", n, srv, len(ws), clock(first.Start), clock(last.Start))
	default:
		fmt.Fprintf(&b, "%s: at each of those moments every flow on the path then open died, and each next one's flows opened as the last died: the path failed the whole time, not at one moment.", span)
		if toServer > 0 {
			fmt.Fprintf(&b, " Connections to the same server from other client networks stayed clean (%d at one moment): the fault is on this path.", toServer)
		} else {
			b.WriteString(" The capture holds no other path to this server, so a server that stopped answering looks the same; a capture of another client of it would tell.")
		}
		words = fmt.Sprintf("all %d flows on the path to %s died, in %d waves from %s to %s: the path failed the whole time", n, srv, len(ws), clock(first.Start), clock(last.Start))
	}
	writeDead(&b, dead, dials, "windows")
	inc.Explanation = b.String()
	return found{Incident: inc, words: words}
}

// writeDead ends an explanation with the dead flows (sorted), named up to
// maxIncidentDeadNamed and the rest counted, and the dials that failed
// in the same window (or windows).
func writeDead(b *strings.Builder, dead []string, dials int, window string) {
	if len(dead) > maxIncidentDeadNamed {
		fmt.Fprintf(b, " Dead: %s and %d more.", strings.Join(dead[:maxIncidentDeadNamed], ", "), len(dead)-maxIncidentDeadNamed)
	} else {
		fmt.Fprintf(b, " Dead: %s.", strings.Join(dead, ", "))
	}
	if dials > 0 {
		fmt.Fprintf(b, " %d new connections failed in the same %s.", dials, window)
	}
}

// serverAnswered says whether c's handshake was seen and its server sent
// packets: the server exists and answers.
func serverAnswered(c *model.Connection) bool {
	return c.Handshake.Seen && c.TCP.ServerToClient.Packets > 0
}

func handshakeIncident(srv string, run []failure, peers *peers) found {
	lo, hi := run[0].lo, run[0].hi
	for _, d := range run {
		lo, hi = earlier(lo, d.lo), later(hi, d.hi)
	}
	// Established: open when the first dial failed and still carrying
	// packets after it, not failed (they need not outlast the last
	// dial's retries).
	established := len(peers.forgotten(lo, lo.Add(time.Nanosecond))) + len(peers.clean(lo, lo.Add(time.Nanosecond)))
	inc := withStreams(model.Incident{Kind: model.IncidentHandshakeOutage, Server: srv, Start: lo, End: hi}, run)
	inc.Unaffected = established
	w := fmt.Sprintf("%d new connections to %s failed to connect from %s to %s", len(run), srv, clock(lo), clock(hi))
	if established > 0 {
		inc.Explanation = w + fmt.Sprintf(", while %d established connections to it went on: the path passes packets of open flows and loses handshakes (a stateful firewall or load balancer that stopped admitting flows, or a return path losing SYN-ACKs).", established)
	} else {
		inc.Explanation = w + "; no established connection to it was open to compare with."
	}
	words := fmt.Sprintf("%d new connections to %s failed from %s to %s", len(run), srv, clock(lo), clock(hi))
	if established > 0 {
		words += fmt.Sprintf(" while %d established ones went on", established)
	}
	return found{Incident: inc, words: words}
}

func resetIncident(srv string, g *group, peers *peers) (found, bool) {
	lo, hi := g.members[0].lo, g.members[0].hi
	for _, m := range g.members {
		lo, hi = earlier(lo, m.lo), later(hi, m.hi)
	}
	if len(peers.clean(lo, hi)) > 0 || len(peers.forgotten(lo, hi)) > 0 {
		return found{}, false // some went on: not the server
	}
	inc := withStreams(model.Incident{
		Kind: model.IncidentServerOutage, Server: srv, Start: lo, End: hi,
		Explanation: fmt.Sprintf("%s reset all %d connections open to it between %s and %s, and none went on: the server's side closed them (a crash or restart).",
			srv, len(g.members), clock(lo), clock(hi)),
	}, g.members)
	return found{Incident: inc, words: fmt.Sprintf("%s reset all %d connections open to it at %s: a server outage", srv, len(g.members), clock(lo))}, true
}

// clock is a time of day to the millisecond, UTC, as the report writes it.
func clock(t time.Time) string { return t.UTC().Format("15:04:05.000") }

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
