package verdict

import (
	"fmt"
	"iter"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
)

// JudgeReport fills the judgement into a Report whose connections are
// built (facts[i] belongs to r.Connections[i]): it takes the probes
// (FindProbes) out of r.Connections into the summary, then judges each
// connection's capture point and verdict, the Report's capture point and
// the summary, to which forgotten adds the connections dropped before the
// Report (nil: none). It returns the indexes, into the connections it was
// given, of those it kept, in order.
func JudgeReport(r *model.Report, facts []*Facts, forgotten *Forgotten) (kept []int) {
	return JudgeReportPlaced(r, facts, forgotten, nil)
}

// Placer is what a multi-point analysis (package hops) does to a
// point's judged connections (conns, with their facts) before the
// summary is made of them: at the reference point, it adds to each what
// the other capture points saw (hops.Result.Place), which the summary
// then tells, and returns the connections the reference point never saw
// (elsewhere, judged at their own point) and those of them their point
// forgot (nil: none), which the summary counts too; at another point, it
// keeps the facts of those (and returns nothing).
type Placer func(conns []*model.Connection, facts []*Facts) (elsewhere []Extra, forgotten *Forgotten)

// JudgeReportPlaced is JudgeReport with place, if not nil, called on the
// judged connections before the summary is made of them (Placer).
func JudgeReportPlaced(r *model.Report, facts []*Facts, forgotten *Forgotten, place Placer) (kept []int) {
	return JudgeReportLater(r, facts, nil, forgotten, place)
}

// JudgeReportLater is JudgeReportPlaced where later, if not nil, gives
// the facts of the connections passed without them (facts[i] nil: see
// Later). Those whose facts nothing reads after their verdict (Inert)
// are left nil.
func JudgeReportLater(r *model.Report, facts []*Facts, later *Later, forgotten *Forgotten, place Placer) (kept []int) {
	var seen []model.ProbeTarget
	if forgotten != nil {
		seen = forgotten.Probes
	}
	probe, probes := FindProbes(r.Connections, facts, seen...)
	if len(seen) > 0 {
		probes = MergeProbes(slices.Clone(forgotten.Probes), probes)
	}
	conns, kf := make([]*model.Connection, 0, len(r.Connections)), make([]*Facts, 0, len(facts))
	kept = make([]int, 0, len(r.Connections))
	for i, c := range r.Connections {
		if !probe[i] {
			conns, kf = append(conns, c), append(kf, facts[i])
			kept = append(kept, i)
		}
	}
	r.Connections, facts = conns, kf
	// brief is kept connection i's Brief, nil when it has its facts.
	brief := func(i int) *Brief {
		if facts[i] != nil || later == nil {
			return nil
		}
		return &later.Briefs[kept[i]]
	}
	// names are the steps' words of kept connection i's endpoints.
	names := &pathNames{
		endpoints: func(i int) (client, server string, ok bool) {
			if c := r.Connections[i]; c != nil {
				return c.Client, c.Server, true
			}
			return "", "", false
		},
		addrs: func(i int) (client, server netip.AddrPort) { return later.Endpoints(kept[i]) },
	}
	points := make([]model.CapturePoint, len(r.Connections))
	for i, out := range r.Connections {
		if b := brief(i); b != nil {
			points[i] = b.Point()
		} else {
			points[i] = facts[i].CapturePoint()
		}
		if out != nil {
			out.CapturePoint = points[i]
		}
	}
	if forgotten != nil {
		r.CapturePoint = majorityPoint(points, forgotten.Points)
	} else {
		r.CapturePoint = MajorityPoint(points)
	}
	var near *NearHosts
	if forgotten != nil {
		near = &forgotten.Near
	}
	r.CaptureHost = captureHost(points, names.addrPort, near)
	end := CaptureEnd(r.Inputs, r.Connections)
	if later != nil && later.End.After(end) {
		end = later.End
	}
	serverHosts(len(r.Connections), names.key, func(i int) int {
		if b := brief(i); b != nil {
			return b.ServerTTL()
		}
		return facts[i].Dir[model.ServerToClient].TTL
	}, func(i int, h HostTTL) {
		if b := brief(i); b != nil && b.setHost(h) {
			return
		}
		if facts[i] == nil {
			// Too much for its Brief (a count past 2^31): its facts
			// now, then.
			facts[i] = later.Build(kept[i]).Clone()
		}
		facts[i].ServerHost = h
	}, forgotten)
	var st *settled // the rows judged final and dropped (Later.Row)
	if later != nil && later.Row != nil {
		rowless := 0
		for _, c := range r.Connections {
			if c == nil {
				rowless++
			}
		}
		st = &settled{conns: make([]settledConn, 0, rowless)}
	}
	var spare *model.Connection // the last row settled: the next one's memory
	var spareV *model.Verdict   // ... and its verdict's (settled keeps none of it)
	for i, out := range r.Connections {
		b := brief(i)
		var f *Facts
		if out == nil {
			out, f = later.Row(kept[i], spare)
			spare = nil
			out.CapturePoint = points[i]
			r.Connections[i] = out
		}
		point := points[i]
		if point == model.PointUnknown && r.CaptureHost != "" {
			// The capture host's own connection: its end is where.
			point = hostPoint(out, r.CaptureHost)
		}
		if point == model.PointUnknown {
			point = r.CapturePoint
		}
		if b == nil {
			out.Verdict = Judge(out, facts[i], point, end)
			continue
		}
		if f == nil {
			f = later.Build(kept[i])
		}
		f.ServerHost = b.host()
		var untold, settle bool
		out.Verdict, untold = later.judge(kept[i], out, f, point, end, spareV)
		if out.Verdict == spareV {
			spareV = nil
		}
		if facts[i], settle = later.judged(kept[i], out, f, untold, st); settle {
			r.Connections[i], spare, spareV = nil, out, out.Verdict
			if later.Settled != nil {
				later.Settled(kept[i])
			}
		}
	}
	if st.len() > 0 {
		// The settled rows leave the list.
		n := 0
		for i, c := range r.Connections {
			if c != nil {
				r.Connections[n], facts[n], kept[n] = c, facts[i], kept[i]
				n++
			}
		}
		clear(r.Connections[n:])
		r.Connections, facts, kept = r.Connections[:n], facts[:n], kept[:n]
		r.Unlisted = st.unlisted
	}
	for i, k := range DialRaceSpares(r.Connections, facts) {
		if k >= 0 {
			spareVerdict(r.Connections[i].Verdict, r.Connections[i], r.Connections[k], facts[i])
		}
	}
	// One index of starts serves the abandonment and the redials.
	// Without place, no verdict changes between here and the
	// redials: the index holds only what they will look up.
	starts := newStartIndexSettled(r.Connections, forgotten, st, place == nil)
	abandoned(r.Connections, facts, starts)
	own := len(facts) // the reference point's: its inputs' quality
	if place != nil {
		elsewhere, fg := place(r.Connections, facts)
		// Listed after the reference point's rows, which keep their
		// indexes (kept); the summary counts them all.
		for _, x := range elsewhere {
			r.Connections, facts = append(r.Connections, x.Row), append(facts, x.Facts)
		}
		forgotten = forgotten.merge(fg)
	}
	r.Summary = summarize(r.Connections, facts, forgotten, starts, st)
	var forgottenQuality []QualityShare
	if forgotten != nil {
		forgottenQuality = forgotten.Quality
	}
	fillCaptureQuality(r.Inputs, facts[:own], forgottenQuality)
	if len(probes) > 0 {
		r.Summary.Probes = probes
		r.Summary.Headline = strings.TrimSuffix(r.Summary.Headline, ".") + "; " + ProbesWords(probes) + "."
	}
	if w := CaptureWarning(r.Inputs); w != "" {
		r.Summary.Headline = w + " " + r.Summary.Headline
	}
	return kept
}

// pathNames makes ServerHosts' keys (client net, server host) of
// connections' endpoints, each address's words made once: a million
// attempts come from few addresses.
type pathNames struct {
	// endpoints are connection i's as its row has them, ok false when it
	// has no row yet (Later.Row): addrs are then.
	endpoints func(i int) (client, server string, ok bool)
	addrs     func(i int) (client, server netip.AddrPort)
	nets      map[netip.Addr]string     // client address -> its net
	hosts     map[netip.AddrPort]string // server endpoint -> its host
}

// addrPort is connection i's client (or server) endpoint parsed, ok
// false when a row's is not an address.
func (p *pathNames) addrPort(i int, client bool) (netip.AddrPort, bool) {
	cl, sv, row := p.endpoints(i)
	if !row {
		c, s := p.addrs(i)
		if client {
			return c, true
		}
		return s, true
	}
	ep := sv
	if client {
		ep = cl
	}
	ap, err := netip.ParseAddrPort(ep)
	return ap, err == nil
}

func (p *pathNames) key(i int) hostKey {
	client, server, row := p.endpoints(i)
	if row {
		return hostKey{model.ClientNet(client), hostOf(server)}
	}
	if p.nets == nil {
		p.nets, p.hosts = map[netip.Addr]string{}, map[netip.AddrPort]string{}
	}
	cl, sv := p.addrs(i)
	net, ok := p.nets[cl.Addr()]
	if !ok {
		net = model.ClientNet(cl.String())
		p.nets[cl.Addr()] = net
	}
	host, ok := p.hosts[sv]
	if !ok {
		host = hostOf(sv.String())
		p.hosts[sv] = host
	}
	return hostKey{net, host}
}

// ProbesWords is the headline's note on probes: "80 traceroute probes
// from 198.18.1.2 to 198.18.2.2:8080 counted apart, not as connections".
func ProbesWords(ts []model.ProbeTarget) string {
	n := 0
	for _, t := range ts {
		n += t.Probes
	}
	w := fmt.Sprintf("%d traceroute probes", n)
	if n == 1 {
		w = "1 traceroute probe"
	}
	if len(ts) == 1 {
		w += fmt.Sprintf(" from %s to %s", ts[0].Prober, ts[0].Target)
	}
	return w + " counted apart, not as connections"
}

// ServerHosts sets each connection's Facts.ServerHost: the TTL the
// server's packets carry on the other connections to the same server
// address from the same client subnet, as this capture saw them. A
// connection refused at once shows the server only in its RST; the
// other connections say whether that RST has the server's TTL. The
// healthy connections fg dropped before the Report (live --forget) count
// as their path remembers them.
func ServerHosts(conns []*model.Connection, facts []*Facts, fg *Forgotten) {
	names := &pathNames{endpoints: func(i int) (string, string, bool) { return conns[i].Client, conns[i].Server, true }}
	serverHosts(len(conns), names.key, func(i int) int { return facts[i].Dir[model.ServerToClient].TTL },
		func(i int, h HostTTL) { facts[i].ServerHost = h }, fg)
}

// hostKey is the other connections ServerHosts compares one with: those
// from the same client net to the same server host.
type hostKey struct{ net, host string }

// serverHosts is ServerHosts over n connections, connection i's key
// given by keyOf(i), its server TTL by ttlOf(i), and its HostTTL set by
// set(i, h).
func serverHosts(n int, keyOf func(i int) hostKey, ttlOf func(i int) int, set func(i int, h HostTTL), fg *Forgotten) {
	ttls := map[hostKey]map[int]int{} // TTL -> connections showing it
	count := func(k hostKey, ttl, n int) {
		if ttl == 0 {
			return
		}
		if ttls[k] == nil {
			ttls[k] = map[int]int{}
		}
		ttls[k][ttl] += n
	}
	if fg != nil {
		for _, p := range fg.Paths {
			for ttl, n := range p.ServerTTLs {
				count(hostKey{p.ClientNet, hostOf(p.Server)}, ttl, n)
			}
		}
	}
	keys := make([]hostKey, n)
	for i := range n {
		keys[i] = keyOf(i)
		count(keys[i], ttlOf(i), 1)
	}
	for i := range n {
		own := ttlOf(i)
		var h HostTTL
		for t, n := range ttls[keys[i]] {
			if t == own {
				n-- // the connection itself is no comparison
			}
			if n <= 0 {
				continue
			}
			if h.TTL != 0 {
				h.Mixed = true
			}
			h.TTL, h.Conns = t, h.Conns+n
		}
		if h.Mixed {
			h.TTL = 0
		}
		set(i, h)
	}
}

// hostOf is an endpoint's address without its port.
func hostOf(ep string) string {
	if ap, err := netip.ParseAddrPort(ep); err == nil {
		return ap.Addr().String()
	}
	return ep
}

// CaptureEnd is when the capture ended: the last input's last packet, or
// without input information the last connection's end.
func CaptureEnd(inputs []*decode.InputInfo, conns []*model.Connection) time.Time {
	var end time.Time
	for _, in := range inputs {
		if in != nil && in.Last.After(end) {
			end = in.Last
		}
	}
	for _, c := range conns {
		if c != nil && c.End.After(end) { // nil: a row built later (Later.Row)
			end = c.End
		}
	}
	return end
}

// Forgotten is what the connections dropped before the Report (h2pcap
// live's --forget: healthy, closed) add to the summary.
type Forgotten struct {
	N     int             // connections
	Paths []ForgottenPath // in first-forgotten order
	// Points count them by capture point, for the report's majority: a
	// count, not a list (16 bytes a connection).
	Points map[model.CapturePoint]int
	// Near is what the report's capture_host reads of them.
	Near NearHosts
	// Clean are their lifetimes: the connections that went on while
	// others failed (Incidents).
	Clean CleanSpans
	// Listed is how many of them the Report still lists (spilled
	// rows): those are not counted as healthy_not_listed.
	Listed int
	// Probes are the probes dropped (FindProbes on each alone): the
	// summary's probes count them with those still listed.
	Probes []model.ProbeTarget
	// Quality is their share of each input's capture quality
	// (AddQuality), by input index.
	Quality []QualityShare

	pathIndex map[[2]string]int // Paths' by client net and server (pathOf), once made
}

// CleanSpans is a list of CleanSpans in chunks of cleanChunk: one
// per forgotten connection, added one at a time by the hundred thousand.
// A slice grown by append copies its growing prefix again at each growth
// (by a quarter, once large): 200k short connections spent 0.13 CPU s in
// it, and held the old copies until a collection.
type CleanSpans struct {
	chunks [][]CleanSpan
	n      int
}

// cleanChunk: 4096 spans, 288 KB a chunk.
const cleanChunk = 4096

// Add appends sp.
func (l *CleanSpans) Add(sp CleanSpan) {
	k := len(l.chunks)
	if k == 0 || len(l.chunks[k-1]) == cleanChunk {
		l.chunks = append(l.chunks, make([]CleanSpan, 0, cleanChunk))
		k++
	}
	l.chunks[k-1] = append(l.chunks[k-1], sp)
	l.n++
}

// Len is how many spans were added.
func (l *CleanSpans) Len() int { return l.n }

// All yields each span, in the order added; the loop may change it.
func (l *CleanSpans) All() iter.Seq[*CleanSpan] {
	return func(yield func(*CleanSpan) bool) {
		for _, c := range l.chunks {
			for i := range c {
				if !yield(&c[i]) {
					return
				}
			}
		}
	}
}

// CleanSpan is a healthy connection's life on Paths[path]: when it ran
// (Incidents: it went on while others failed) and what names it as a
// failed connection's redial (its stream, client and first packet). One
// is kept per forgotten connection until the Report: 72 bytes and no
// pointer to a string of its own (times as ns, the client as an
// address), not the 120 of the fields as the row has them.
type CleanSpan struct {
	start, end int64 // UnixNano
	client     netip.AddrPort
	frame      int64
	path       int32
	stream     int32
	input      int32
	// answered: its handshake was seen and the server sent packets,
	// which says the server exists and answers (a handshake outage
	// needs that, serverIncidents).
	answered bool
}

// NewCleanSpan is the CleanSpan of connection c on Paths[path], whose
// client is client.
func NewCleanSpan(path int, c *model.Connection, client netip.AddrPort) CleanSpan {
	return CleanSpan{start: c.Start.UnixNano(), end: c.End.UnixNano(), client: client, frame: int64(c.FirstFrame),
		path: int32(path), stream: int32(c.Stream), input: int32(c.FirstInput), answered: serverAnswered(c)}
}

// Start is when the connection began (UTC, as capture times are).
func (sp *CleanSpan) Start() time.Time { return time.Unix(0, sp.start).UTC() }

// End is its last packet's time.
func (sp *CleanSpan) End() time.Time { return time.Unix(0, sp.end).UTC() }

// spans reports whether the connection went on through [lo, hi].
func (sp *CleanSpan) spans(lo, hi time.Time) bool {
	return sp.start <= lo.UnixNano() && sp.end >= hi.UnixNano()
}

// ForgottenPath is what forgotten connections add to one path.
type ForgottenPath struct {
	ClientNet, Server    string
	Conns, Retrans, Data int // connections, retransmissions, data segments
	// FirstStream is the lowest stream forgotten on the path: the table
	// lists paths in the order their first connection appeared.
	FirstStream int
	// ServerTTLs counts the connections by the server's TTL (hop limit):
	// what a refused connection's RST is compared with (ServerHosts).
	ServerTTLs map[int]int
}

// Add counts one forgotten connection on the path: its stream, its
// retransmissions and data segments (both directions), and the TTL of
// its server's packets (0: none seen).
func (p *ForgottenPath) Add(stream, retrans, data, serverTTL int) {
	p.FirstStream = min(p.FirstStream, stream)
	p.Conns++
	if serverTTL != 0 {
		if p.ServerTTLs == nil {
			p.ServerTTLs = map[int]int{}
		}
		p.ServerTTLs[serverTTL]++
	}
	p.Retrans += retrans
	p.Data += data
}

// Summarize builds the across-connections view: counts, the headline and
// the per-path table.
func Summarize(conns []*model.Connection, facts []*Facts, fg *Forgotten) *model.Summary {
	return summarize(conns, facts, fg, newStartIndex(conns, fg), nil)
}

// summarize is Summarize with the connections' index of starts (every
// connection, the forgotten and settled ones too) already made, and the
// settled connections st (nil: none) counted with conns.
func summarize(conns []*model.Connection, facts []*Facts, fg *Forgotten, starts startIndex, st *settled) *model.Summary {
	s := &model.Summary{Connections: len(conns) + st.len(), Paths: []model.Path{}}
	type pathAcc struct {
		model.Path
		data, retrans int
		first         int // the path's lowest stream: the table's order
	}
	paths := map[pathKey]*pathAcc{}
	var order []pathKey
	if fg != nil {
		// The healthy connections Options.ForgetHealthy dropped count
		// as they were when they went.
		s.Connections += fg.N
		s.HealthyNotListed = fg.N - fg.Listed
		for _, f := range fg.Paths {
			k := pathKey{f.ClientNet, f.Server}
			paths[k] = &pathAcc{Path: model.Path{ClientNet: k.net, Server: k.server, Connections: f.Conns}, data: f.Data, retrans: f.Retrans, first: f.FirstStream}
			order = append(order, k)
		}
	}
	kinds, suspects := map[model.Kind]int{}, map[model.Suspect]int{}
	var problemServers []string
	var problemDirs []model.LossDirection
	var suspectOrder []model.Suspect
	var nets clientNets
	st.each(conns, func(i int, c *model.Connection) {
		var f *Facts // nil for a settled one
		if i >= 0 && facts != nil {
			f = facts[i]
		}
		k := pathKey{nets.of(c.Client), c.Server}
		p := paths[k]
		if p == nil {
			p = &pathAcc{Path: model.Path{ClientNet: k.net, Server: k.server}, first: c.Stream}
			paths[k] = p
			order = append(order, k)
		}
		p.first = min(p.first, c.Stream)
		p.Connections++
		for d := model.ClientToServer; d <= model.ServerToClient; d++ {
			st := c.TCP.Dir(d)
			p.retrans += st.Retransmissions
			if f != nil {
				p.data += f.Dir[d].DataSegs
			}
		}
		if f == nil || !f.Quality.OneDirection {
			// A one-way capture lacks either the PINGs or their ACKs:
			// it counts none lost.
			p.LostPings += lostPings(c)
		}
		v := c.Verdict
		if v != nil && v.DialRaceSpare {
			s.DialRaceSpares++
		}
		// Connections a reset ended: counting RST packets would count
		// every Go TLS teardown, whose last RST is routine.
		if v != nil && v.Kind == model.KindReset {
			p.Resets++
		}
		if v == nil || v.Kind == model.KindHealthy {
			return
		}
		if benignGoaway(c) {
			s.BenignGoaways++
			return
		}
		s.ProblemConnections++
		kinds[v.Kind]++
		for _, x := range v.Suspects {
			if suspects[x]++; suspects[x] == 1 {
				suspectOrder = append(suspectOrder, x)
			}
		}
		if !slices.Contains(problemServers, c.Server) {
			problemServers = append(problemServers, c.Server)
		}
		if v.LossDirection != model.LossNone && !slices.Contains(problemDirs, v.LossDirection) {
			problemDirs = append(problemDirs, v.LossDirection)
		}
	})
	// In the order each path's first connection appeared, whether it is
	// listed or was forgotten.
	slices.SortStableFunc(order, func(a, b pathKey) int { return paths[a].first - paths[b].first })
	for _, k := range order {
		p := paths[k]
		if p.data > 0 {
			p.RetransmissionRate = float64(p.retrans) / float64(p.data)
		}
		s.Paths = append(s.Paths, p.Path)
	}
	s.Headline = headline(s, kinds, problemServers, problemDirs)
	if w := middleSideWords(conns, st); w != "" {
		s.Headline = strings.TrimSuffix(s.Headline, ".") + w + "."
	}
	if s.BenignGoaways > 0 {
		s.Headline = strings.TrimSuffix(s.Headline, ".") + fmt.Sprintf("; %d drained by the server (GOAWAY NO_ERROR, benign).", s.BenignGoaways)
	}
	if n := s.DialRaceSpares; n > 0 {
		w := fmt.Sprintf("%d spare connections of a dial race, closed by the client at once (benign)", n)
		if n == 1 {
			w = "1 spare connection of a dial race, closed by the client at once (benign)"
		}
		s.Headline = strings.TrimSuffix(s.Headline, ".") + "; " + w + "."
	}
	if len(suspectOrder) > 0 {
		var w []string
		for _, x := range suspectOrder {
			if n := suspects[x]; n == s.ProblemConnections {
				w = append(w, strings.ReplaceAll(string(x), "_", " "))
			} else {
				w = append(w, fmt.Sprintf("%s (%d)", strings.ReplaceAll(string(x), "_", " "), n))
			}
		}
		s.Headline = strings.TrimSuffix(s.Headline, ".") + "; suspect: " + strings.Join(w, ", ") + "."
	}
	// The incidents lead: they name the part of the path that broke,
	// the per-connection counts follow. A capture made of attempts
	// without data is said to be one first, and its failed dials are
	// not incidents.
	var words []string
	if s.Attempts = attempts(conns, st); s.Attempts != nil {
		words = []string{attemptsWords(s.Attempts)}
	} else {
		s.Incidents, words = Incidents(st.rows(conns), fg)
	}
	if len(words) > 0 {
		if len(words) > maxHeadlineIncidents {
			words = append(words[:maxHeadlineIncidents:maxHeadlineIncidents],
				fmt.Sprintf("%d more incidents (listed below)", len(words)-maxHeadlineIncidents))
		}
	}
	linkRedials(conns, starts)
	words = append(words, tooManyPingsWords(conns)...)
	// Failed gRPC calls are what the operator saw on the client side.
	if s.GRPC = GRPC(conns); len(s.GRPC) > 0 {
		if w := grpcWords(s.GRPC); w != "" {
			words = append(words, w)
		}
	}
	// An etcd leader change leads: it is what the operator saw
	// ("etcdserver: leader changed"), and the member it names is where
	// to look.
	if s.Etcd = Etcd(conns); s.Etcd != nil {
		if w := EtcdWords(s.Etcd, nil); w != "" {
			words = append([]string{w}, words...)
		}
	}
	if len(words) > 0 {
		lead := strings.Join(words, "; ")
		if !strings.HasPrefix(lead, "etcd") { // etcd is written lower-case, even first
			lead = strings.ToUpper(lead[:1]) + lead[1:]
		}
		s.Headline = lead + ". " + s.Headline
	}
	return s
}

// benignGoaway says whether a connection ended by a server draining
// (graceful shutdown, kube-apiserver's --goaway-chance): a GOAWAY
// NO_ERROR with no loss and nothing suspect is not a problem. A GOAWAY
// inferred on TLS without keys has no code to read; its verdict says it
// looks like a drain, and it counts as one.
func benignGoaway(c *model.Connection) bool {
	v := c.Verdict
	if v == nil || v.Kind != model.KindGoaway || v.LossDirection != model.LossNone || len(v.Suspects) > 0 {
		return false
	}
	if c.HTTP2 != nil {
		for _, g := range c.HTTP2.Goaways {
			if g.From == "server" && g.Error != "NO_ERROR" {
				return false
			}
		}
	}
	return true
}

// lostPings counts a connection's client PINGs that never got an ACK, or
// one for a lost ping inferred from TCP.
func lostPings(c *model.Connection) int {
	n := 0
	if h := c.HTTP2; h != nil {
		for _, p := range h.Pings {
			if p.From == "client" && !p.Acked && p.Frame != 0 && !goawayAfter(h, p) {
				n++
			}
		}
	}
	if n == 0 && c.Verdict != nil && c.Verdict.Kind == model.KindLostPing {
		n = 1
	}
	return n
}

// goawayAfter says whether the server sent a GOAWAY after PING p: a PING
// the server answered by closing (ENHANCE_YOUR_CALM, a drain) was not lost.
func goawayAfter(h *model.HTTP2, p model.Ping) bool {
	for _, g := range h.Goaways {
		if g.From == "server" && (g.Input > p.Input || g.Input == p.Input && g.Frame > p.Frame) {
			return true
		}
	}
	return false
}

// kindWords say what happened to a connection of each kind, for the headline.
var kindWords = map[model.Kind]string{
	model.KindLostPing: "lost (health-check PING unanswered)",
	// A flow whose retransmissions nothing answered to the end.
	model.KindBlackholed:    "dead (retransmissions never answered)",
	model.KindGoaway:        "ended by GOAWAY",
	model.KindReset:         "reset",
	model.KindSilent:        "went silent",
	model.KindDegraded:      "degraded (loss, recovered)",
	model.KindConnectFailed: "failed to connect (TCP handshake never completed)",
}

// headline is e.g. "2 of 14 connections lost (health-check PING
// unanswered): all to 10.0.0.100:6443, loss server->client".
func headline(s *model.Summary, kinds map[model.Kind]int, servers []string, dirs []model.LossDirection) string {
	if s.Connections == 0 {
		return "No TCP connections."
	}
	if s.ProblemConnections == 0 {
		if s.BenignGoaways > 0 {
			return fmt.Sprintf("No problem in %d connections.", s.Connections)
		}
		return fmt.Sprintf("All %d connections healthy.", s.Connections)
	}
	var parts []string
	for _, k := range []model.Kind{model.KindLostPing, model.KindBlackholed, model.KindConnectFailed, model.KindReset, model.KindSilent, model.KindGoaway, model.KindDegraded} {
		if n := kinds[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, kindWords[k]))
		}
	}
	h := fmt.Sprintf("%d of %d connections with problems: %s", s.ProblemConnections, s.Connections, strings.Join(parts, ", "))
	if len(parts) == 1 {
		h = fmt.Sprintf("%d of %d connections %s", s.ProblemConnections, s.Connections, kindWords[firstKey(kinds)])
	}
	if len(servers) == 1 {
		if s.ProblemConnections > 1 {
			h += "; all to " + servers[0]
		} else {
			h += "; to " + servers[0]
		}
	} else {
		h += fmt.Sprintf("; to %d servers", len(servers))
	}
	switch {
	case len(dirs) == 1 && dirs[0] == model.LossUnknown:
		h += "; loss direction unknown from this capture"
	case len(dirs) == 1:
		h += "; loss " + dirWords(dirs[0])
	case len(dirs) > 1:
		var w []string
		for _, d := range dirs {
			w = append(w, dirWords(d))
		}
		h += "; loss " + strings.Join(w, ", ")
	}
	return h + "."
}

func firstKey(m map[model.Kind]int) model.Kind {
	for k, n := range m {
		if n > 0 {
			return k
		}
	}
	return ""
}

func dirWords(d model.LossDirection) string {
	switch d {
	case model.LossClientToServer:
		return "client->server"
	case model.LossServerToClient:
		return "server->client"
	case model.LossBoth:
		return "both ways"
	}
	return string(d)
}

// pathKey is one row of the per-path table.
type pathKey struct{ net, server string }

// clientNets is model.ClientNet of clients by their address: a flood's
// million attempts come from few addresses, each parsed and printed once.
type clientNets map[string]string

// of is model.ClientNet(client).
func (m *clientNets) of(client string) string {
	i := strings.LastIndexByte(client, ':')
	if i <= 0 {
		return model.ClientNet(client)
	}
	addr := client[:i]
	if n, ok := (*m)[addr]; ok {
		return n
	}
	n := model.ClientNet(client)
	if n == client {
		return n // not an address and port: its own
	}
	if *m == nil {
		*m = clientNets{}
	}
	(*m)[strings.Clone(addr)] = n
	return n
}
