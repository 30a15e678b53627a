package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"

	"github.com/h2pcap/h2pcap/analyze"
	"github.com/h2pcap/h2pcap/analyze/hops"
	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/decode/tls"
	"github.com/h2pcap/h2pcap/model"
)

// A live capture on several interfaces (-i any, a DaemonSet's default)
// on a node that forwards sees a pod's packets on the pod's veth and
// again on the uplink or a bridge port: each interface is a capture
// point, as each interface of a forwarding box's tcpdump -i any is for
// analyze --split-interfaces, and a packet seen on the veth and never on
// the uplink was lost inside the node.
//
// The connection table stays what live lists on several interfaces:
// each connection once, analysed on the interface it was first seen on
// (the primary Analyzer, with OneInterfacePerConnection: its notices,
// --save, metrics and verdicts). Beside it each interface has an
// Analyzer of its own (Wireshark-exact counters of that interface's
// packets, as tshark filtered on it counts), and a hops.Placer compares
// them: each listed connection gains its points and placement, the
// summary the hop table, exactly as analyze --split-interfaces makes
// them of what -w wrote. Points are made as interfaces first carry a
// packet the filter passed (hops.Placer.AddPoint): a node's idle veths
// cost nothing, and a pod started after the capture is a point too.
//
// Which interface is upstream of which, per connection and direction,
// comes from the packets: a router lowers the TTL, and between equal
// TTLs (a bridge) the interface that sees a packet first is nearer its
// sender (hops' sortPoints). The packet's direction on the interface
// (AF_PACKET's PACKET_OUTGOING, which gopacket's afpacket does not
// expose) is not needed for that: a veth carries both directions, and
// the same packet's copies on two interfaces order themselves.
//
// Memory: each point forgets a healthy connection once the Placer has
// compared it to its end and found nothing lost (analyze's
// ForgetPlaced), keeping about 60 bytes of it; what stays per
// connection is that, the Placer's counts of it, and its entry in home.
type livePoints struct {
	opts    analyze.Options // the points' own: no notices, no plots
	src     teeSource       // which socket each packet came from
	sockets []string        // the -i interfaces, by socket
	// The followed key logs' lines (keylogTail), given to every point
	// as they come: a point may take no packet between two looks.
	secrets decode.SecretsSource
	used    int         // secrets given so far
	keys    *tls.KeyLog // what they held, for points made later
	points  []*livePoint
	byKey   map[int64]int // interface key (ifaceKey) -> index into points
	lastKey int64
	lastPt  int
	pl      *hops.Placer
	// local are the node's own addresses (hops.Placer.LocalAddrs),
	// read again as each interface becomes a point: a pod started
	// later brings its veth, and the node may gain an address.
	local map[netip.Addr]bool
	// home is, by the primary's stream, the point and that point's
	// stream it was first analysed at (its row's point; point -1:
	// none): 8 bytes a connection.
	home []pointStream
	// homed is, per point, the primary's streams of the connections
	// analysed there, in order (primaryOf): 4 bytes a connection.
	homed       [][]int32
	lastPrimary int
}

// livePoint is one interface of a live capture read as a capture point.
type livePoint struct {
	name string
	a    *analyze.Analyzer
	r    *analyze.InputReader
	src  *livePointSource
}

type pointStream struct{ point, stream int32 }

func newLivePoints(opts analyze.Options, src teeSource, sockets []string, secrets decode.SecretsSource) *livePoints {
	tell := opts.OnNotice
	opts.OnNotice, opts.Plot = nil, false // the primary tells and draws
	opts.OneInterfacePerConnection = false
	// A healthy connection is forgotten once the Placer found nothing
	// of it to place (its rows' points are made from what is kept).
	opts.ForgetPlaced = true
	lp := &livePoints{opts: opts, src: src, sockets: sockets, secrets: secrets, keys: &tls.KeyLog{}, byKey: map[int64]int{}, lastPt: -1, lastPrimary: -1}
	lp.pl = hops.New(nil)
	// An interface that did not see a connection is not on its path: a
	// node's own connections cross one of its interfaces, a forwarded
	// one two or three of many.
	lp.pl.SeenOnly()
	// A connection seen on one interface alone, neither end the
	// node's, was to be forwarded: the node dropped it (a SYN that
	// never left), placed as its siblings went.
	lp.readLocal()
	lp.pl.LocalAddrs(func(a netip.Addr) bool { return lp.local[a.Unmap()] })
	// One capture of the node's interfaces: an interface that went
	// quiet was still watched.
	lp.pl.CapturedTogether()
	lp.pl.OnRetire(func(point, stream int, clean bool) { lp.points[point].a.Placed(stream, clean) })
	if tell != nil {
		// The running lines say where a connection's packets were
		// lost, once they were compared (hop_loss).
		lp.pl.OnLoss(func(fr *hops.FlowResult) { lp.tellLoss(fr, tell) })
	}
	return lp
}

// tellLoss tells, as hop_loss notices, each hop of connection fr that
// lost packets. Its client is the sender of its first packet (a SYN's,
// as live sees them), its stream the primary's.
func (lp *livePoints) tellLoss(fr *hops.FlowResult, tell func(*model.Notice)) {
	home, stream := lp.primaryOf(fr.Streams)
	if home < 0 {
		return
	}
	client, _ := netip.ParseAddrPort(fr.Sender0[home])
	server := fr.Receiver0(home)
	for d := range fr.Hops {
		from := "client"
		arrow := "client->server"
		if d == 1 {
			from, arrow = "server", "server->client"
		}
		for _, h := range fr.Hops[d] {
			if h.Lost == 0 {
				continue
			}
			n := &model.Notice{Kind: model.NoticeHopLoss, Stream: stream, Client: client, Server: server, From: from,
				Count: h.Lost, HopFrom: lp.points[h.From].name, HopTo: lp.points[h.To].name}
			if len(h.Frames) > 0 {
				n.Time, n.Frame, n.Input = h.Frames[0].Time, h.Frames[0].Frame, h.Frames[0].Input
			}
			what := "packets"
			if h.Lost == 1 {
				what = "packet"
			}
			n.Text = fmt.Sprintf("%d %s %s seen on %s never reached %s: lost inside this node", h.Lost, what, arrow, n.HopFrom, n.HopTo)
			tell(n)
		}
	}
}

// primaryOf returns the point a connection seen at each point as
// streams (-1: not seen) was analysed at by the primary, and the
// primary's stream of it; without one found, the first point that saw
// it and -1. A point's homed connections come in the order of both
// their streams (each got both at its first packet there), so each
// point's is found by a binary search, however old the connection.
func (lp *livePoints) primaryOf(streams []int) (point, stream int) {
	for pt, st := range streams {
		if st < 0 || pt >= len(lp.homed) {
			continue
		}
		hs := lp.homed[pt]
		k, ok := slices.BinarySearchFunc(hs, st, func(ps int32, st int) int { return cmp.Compare(int(lp.home[ps].stream), st) })
		if ok && lp.home[hs[k]] == (pointStream{int32(pt), int32(st)}) {
			return pt, int(hs[k])
		}
	}
	for pt, st := range streams {
		if st >= 0 {
			return pt, -1
		}
	}
	return -1, -1
}

// ifaceKey identifies the interface a packet crossed: the kernel's index
// (every AF_PACKET socket gives it, the any socket's packets each their
// own), else the socket's.
func ifaceKey(p *decode.Packet, socket int) int64 {
	if p.Iface.Known {
		return int64(p.Iface.ID)
	}
	return -int64(socket) - 1
}

// take gives packet p, which the primary Analyzer has just taken
// (primaryStream: its connection, -1 none), to its interface's point.
func (lp *livePoints) take(p *decode.Packet, primaryStream int) {
	lp.addKeys()
	k := ifaceKey(p, lp.src.Interface())
	i := lp.lastPt
	if k != lp.lastKey || i < 0 {
		var ok bool
		if i, ok = lp.byKey[k]; !ok {
			i = lp.addPoint(p)
			lp.byKey[k] = i
		}
		lp.lastKey, lp.lastPt = k, i
	}
	pt := lp.points[i]
	pt.src.count(p)
	s := pt.r.Take(p)
	if s == nil {
		if e := pt.r.ICMPError(); e != nil {
			lp.pl.ICMP(i, e)
		}
		return
	}
	st := pt.a.LastStream()
	lp.pl.Segment(i, st, s)
	if primaryStream >= 0 && st >= 0 && primaryStream != lp.lastPrimary {
		// The primary analyses each connection on the interface it was
		// first seen on: the first segment both took names its point.
		lp.lastPrimary = primaryStream
		for len(lp.home) <= primaryStream {
			lp.home = append(lp.home, pointStream{-1, -1})
		}
		if lp.home[primaryStream].point < 0 {
			lp.home[primaryStream] = pointStream{int32(i), int32(st)}
			for len(lp.homed) <= i {
				lp.homed = append(lp.homed, nil)
			}
			lp.homed[i] = append(lp.homed[i], int32(primaryStream))
		}
	}
}

// addKeys gives every point the key log lines followed since the last
// packet. A malformed one is said by the primary's warnings.
func (lp *livePoints) addKeys() {
	if lp.secrets == nil {
		return
	}
	all := lp.secrets.Secrets()
	for _, sec := range all[min(lp.used, len(all)):] {
		if sec.Type != tls.DSBTypeTLSKeyLog {
			continue
		}
		k := &tls.KeyLog{}
		k.AddDSB(sec.Data) // the lines before a malformed one are kept
		lp.keys.Merge(k)
		for _, pt := range lp.points {
			pt.a.AddKeys(k)
		}
	}
	lp.used = len(all)
}

// addPoint makes the point of p's interface.
func (lp *livePoints) addPoint(p *decode.Packet) int {
	name := p.Iface.Label()
	if name == "" {
		name = lp.sockets[lp.src.Interface()]
	}
	pt := &livePoint{name: name, a: analyze.New(lp.opts)}
	pt.a.AddKeys(lp.keys)
	pt.src = &livePointSource{info: decode.InputInfo{Path: lp.src.Info().Path, Format: "live", Interface: name, LinkTypes: []string{}}}
	pt.r = pt.a.NewInputReader(pt.src)
	lp.points = append(lp.points, pt)
	lp.readLocal()
	return lp.pl.AddPoint(name)
}

// readLocal reads the node's addresses into lp.local, keeping those
// read before (an address removed since may still be a connection's).
func (lp *livePoints) readLocal() {
	if lp.local == nil {
		lp.local = map[netip.Addr]bool{}
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			lp.local[p.Addr().Unmap()] = true
		}
	}
}

// report finishes the comparison and returns place, which adds to the
// primary's judged rows their points and placement (for
// Analyzer.ReportPlaced), and apply, which adds the points and the hop
// table to its report; both nil when no connection crossed two
// interfaces (a host that forwards nothing: the report is as on one).
func (lp *livePoints) report() (place verdict.Placer, apply func(*model.Report), err error) {
	for i := range lp.points {
		lp.pl.EndPoint(i)
	}
	res := lp.pl.Finish()
	if !res.Shared() {
		return nil, nil, lp.close()
	}
	res.Forgotten = make([]hops.Forgotten, len(lp.points))
	reports := make([]*model.Report, len(lp.points))
	for i, pt := range lp.points {
		if fg := pt.a.Forgotten(); fg != nil {
			res.Forgotten[i] = fg
		}
		in := pt.r.Info()
		reports[i] = pt.a.Report([]*decode.InputInfo{in})
	}
	place = func(conns []*model.Connection, _ []*verdict.Facts) ([]verdict.Extra, *verdict.Forgotten) {
		// The primary's rows are every connection's, each from the
		// interface that saw it first: none is elsewhere.
		// The listed rows by their point and stream there.
		rows := make(map[pointStream]*model.Connection, len(conns))
		for _, c := range conns {
			if c.Stream < len(lp.home) && lp.home[c.Stream].point >= 0 {
				rows[lp.home[c.Stream]] = c
			}
		}
		res.PlaceHome(reports, func(f *hops.FlowResult) (*model.Connection, int) {
			for pt, st := range f.Streams {
				if c := rows[pointStream{int32(pt), int32(st)}]; c != nil && st >= 0 {
					return c, pt
				}
			}
			return nil, -1
		})
		return nil, nil
	}
	apply = func(r *model.Report) {
		inputs := r.Inputs
		pointInputs := make([][]int, len(lp.points))
		for i := range pointInputs {
			pointInputs[i] = []int{0} // every interface is the one live input
		}
		// The hop table over every connection, as analyze makes it;
		// the rows are the primary's.
		hr := res.Apply(reports, inputs, pointInputs)
		r.Inputs = inputs
		r.Points = hr.Points
		for i := range r.Points {
			r.Points[i].Interface = lp.points[i].name
			r.Points[i].NotAtReference = 0 // every connection is listed
		}
		if r.Summary != nil && hr.Summary != nil {
			r.Summary.Hops = hr.Summary.Hops
			r.Summary.Headline = verdict.WithHops(r.Summary.Headline, r.Summary.Hops)
		}
	}
	return place, apply, nil
}

// close releases the points' Analyzers.
func (lp *livePoints) close() error {
	var errs []error
	for _, pt := range lp.points {
		errs = append(errs, pt.a.Close())
	}
	return errors.Join(errs...)
}

// livePointSource is one interface of a live capture as its point's
// InputReader sees it: the packets are given to it (livePoints.take),
// its Info counted here.
type livePointSource struct {
	info decode.InputInfo
}

func (s *livePointSource) Next() (*decode.Packet, error) {
	return nil, errors.New("an interface of a live capture is read by livePoints")
}

func (s *livePointSource) Info() *decode.InputInfo { return &s.info }
func (s *livePointSource) Close() error            { return nil }

// count records one packet of the interface, as a Source counts its own.
func (s *livePointSource) count(p *decode.Packet) {
	s.info.Count(p.Time, p.CaptureLen, p.WireLen)
}

// readLive reads the capture into the primary Analyzer a and, with lp,
// each packet into its interface's point too.
func readLive(a *analyze.Analyzer, src decode.Source, lp *livePoints) (*decode.InputInfo, error) {
	if lp == nil {
		return a.ReadSource(src)
	}
	r := a.NewInputReader(src)
	for {
		p, err := r.Next()
		if err == io.EOF {
			return r.Info(), nil
		}
		if err != nil {
			return nil, err
		}
		primary := -1
		if r.Take(p) != nil {
			primary = a.LastStream()
		}
		lp.take(p, primary)
	}
}

// reportLive is the primary's Report of info, with lp its connections'
// points and placement and the hop table.
func reportLive(a *analyze.Analyzer, info *decode.InputInfo, lp *livePoints) (*model.Report, error) {
	inputs := []*decode.InputInfo{info}
	if lp == nil {
		return a.Report(inputs), nil
	}
	place, apply, err := lp.report()
	if err != nil || place == nil {
		return a.Report(inputs), err
	}
	r := a.ReportPlaced(inputs, place)
	apply(r)
	return r, lp.close()
}
