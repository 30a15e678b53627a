package verdict

import (
	"net/netip"
	"slices"

	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
)

// Probe traffic: traceroute -T, tcptraceroute and the like send SYNs
// with TTL 1, 2, 3, ... (traceroute: 3 per TTL, a new source port each)
// to walk the path to a server. A router where the TTL runs out answers
// with ICMP time exceeded; a probe that reaches the server gets a SYN-ACK,
// which the prober's kernel, knowing no such connection, resets at once.
// An operator runs exactly such a loop while capturing; judged as
// connections, its probes would bury the real failures under "silent"
// SYNs and "middlebox resets" (the kernel's RST has its default TTL, the
// probe's SYN a low one). They are told apart by what they show, never by
// what the capture lacks:
//   - a SYN that opened nothing (no payload either way, the prober never
//     acknowledged the SYN-ACK) with a TTL no real SYN has (at most
//     maxProbeTTL), and
//   - one of: an ICMP error quoting that very SYN (the router's answer to
//     a probe); the prober resetting the server's SYN-ACK with a TTL other
//     than its SYN's (the kernel's RST, the program's TTL); the same host
//     sending the same server SYNs of minProbeTTLs different TTLs (a
//     prober walking the path: covers the probes nobody answered).

// FindProbes picks out the probes among conns (facts[i] belongs to
// conns[i]): probe[i] says conns[i] is one; targets counts them per
// prober and target, in order of their first probe. seen are probes
// already counted (forgotten by h2pcap live): their TTLs join the
// ladder of their prober and target.
func FindProbes(conns []*model.Connection, facts []*Facts, seen ...model.ProbeTarget) (probe []bool, targets []model.ProbeTarget) {
	probe = make([]bool, len(conns))
	type path struct{ client, server netip.Addr }
	candidate := make([]bool, len(conns))
	ttls := map[path][]int{}
	pathOf := func(c *model.Connection) path {
		cl, _ := netip.ParseAddrPort(c.Client)
		sv, _ := netip.ParseAddrPort(c.Server)
		return path{cl.Addr(), sv.Addr()}
	}
	for _, t := range seen {
		cl, _ := netip.ParseAddr(t.Prober)
		sv, _ := netip.ParseAddrPort(t.Target)
		p := path{cl, sv.Addr()}
		for _, r := range t.TTLs {
			if !slices.Contains(ttls[p], r.TTL) {
				ttls[p] = append(ttls[p], r.TTL)
			}
		}
	}
	for i, c := range conns {
		if facts[i] == nil || !probeCandidate(facts[i]) {
			continue
		}
		candidate[i] = true
		p := pathOf(c)
		if t := facts[i].Dir[model.ClientToServer].SYNTTL; !slices.Contains(ttls[p], t) {
			ttls[p] = append(ttls[p], t)
		}
	}
	index := map[[2]string]int{}
	for i, c := range conns {
		if !candidate[i] {
			continue
		}
		f := facts[i]
		cf := &f.Dir[model.ClientToServer]
		if !cf.ICMP.ok() && !proberReset(c, f) && len(ttls[pathOf(c)]) < minProbeTTLs {
			continue
		}
		probe[i] = true
		p := pathOf(c)
		k := [2]string{p.client.String(), c.Server}
		n, ok := index[k]
		if !ok {
			n = len(targets)
			index[k] = n
			targets = append(targets, model.ProbeTarget{Prober: k[0], Target: k[1], Streams: []int{}, Start: cf.SYN.Time})
		}
		t := &targets[n]
		t.Probes++
		t.Streams = append(t.Streams, c.Stream)
		if c.End.After(t.End) {
			t.End = c.End
		}
		countProbe(t, f)
	}
	for i := range targets {
		slices.SortFunc(targets[i].TTLs, func(a, b model.ProbeTTL) int { return a.TTL - b.TTL })
	}
	return probe, targets
}

// ProbeSYN says whether s opens a connection the way a probe does: a SYN
// without ACK with a TTL no real SYN has. What the connection shows next
// decides whether it was one (FindProbes); the live notices, which cannot
// wait, tell no connection such a SYN opens.
func ProbeSYN(s *decode.Segment) bool {
	return s.Flags&(decode.FlagSYN|decode.FlagACK) == decode.FlagSYN && s.TTL > 0 && s.TTL <= maxProbeTTL
}

// probeCandidate: the client's SYN opened nothing (no payload either way,
// the client never acknowledged anything) and carried a TTL no real SYN
// has.
func probeCandidate(f *Facts) bool {
	cf, sf := &f.Dir[model.ClientToServer], &f.Dir[model.ServerToClient]
	return cf.SYN.ok() && cf.SYNTTL > 0 && cf.SYNTTL <= maxProbeTTL &&
		cf.DataSegs == 0 && sf.DataSegs == 0 && !cf.PlainACK
}

// proberReset: the server's SYN-ACK was answered by the client's RST
// with a TTL other than its SYN's: the SYN's TTL was a program's choice,
// the RST's is the kernel's default (it knows no such connection).
func proberReset(c *model.Connection, f *Facts) bool {
	cf, sf := &f.Dir[model.ClientToServer], &f.Dir[model.ServerToClient]
	if !sf.SYNAck.ok() || !cf.RST.ok() || markBefore(cf.RST, sf.SYNAck) {
		return false
	}
	for _, e := range c.Events {
		if e.Kind == model.EvRST && e.Dir == model.ClientToServer && e.Frame == cf.RST.Frame && e.Input == cf.RST.Input {
			return e.TTL != 0 && e.TTL != cf.SYNTTL
		}
	}
	return false
}

// countProbe adds probe f to its TTL's row.
func countProbe(t *model.ProbeTarget, f *Facts) {
	cf, sf := &f.Dir[model.ClientToServer], &f.Dir[model.ServerToClient]
	i := slices.IndexFunc(t.TTLs, func(r model.ProbeTTL) bool { return r.TTL == cf.SYNTTL })
	if i < 0 {
		i = len(t.TTLs)
		t.TTLs = append(t.TTLs, model.ProbeTTL{TTL: cf.SYNTTL})
	}
	r := &t.TTLs[i]
	r.Sent++
	switch {
	case cf.ICMP.ok():
		r.ICMP++
		if hop := cf.ICMPError.From.String(); !slices.Contains(r.Hops, hop) {
			r.Hops = append(r.Hops, hop)
		}
	case sf.SYNAck.ok():
		r.SYNAck++
	case sf.RST.ok():
		r.Reset++
	default:
		r.Unanswered++
	}
}

// MergeProbes adds the probe counts add to into, target by target and TTL
// by TTL, and returns into: forgotten probes (h2pcap live) with those
// found at the Report.
func MergeProbes(into, add []model.ProbeTarget) []model.ProbeTarget {
	for _, t := range add {
		i := slices.IndexFunc(into, func(u model.ProbeTarget) bool { return u.Prober == t.Prober && u.Target == t.Target })
		if i < 0 {
			t.Streams = slices.Clone(t.Streams)
			t.TTLs = slices.Clone(t.TTLs)
			into = append(into, t)
			continue
		}
		u := &into[i]
		u.Probes += t.Probes
		u.Streams = append(u.Streams, t.Streams...)
		slices.Sort(u.Streams)
		if t.Start.Before(u.Start) {
			u.Start = t.Start
		}
		if t.End.After(u.End) {
			u.End = t.End
		}
		for _, r := range t.TTLs {
			j := slices.IndexFunc(u.TTLs, func(x model.ProbeTTL) bool { return x.TTL == r.TTL })
			if j < 0 {
				r.Hops = slices.Clone(r.Hops)
				u.TTLs = append(u.TTLs, r)
				continue
			}
			x := &u.TTLs[j]
			x.Sent += r.Sent
			x.ICMP += r.ICMP
			x.SYNAck += r.SYNAck
			x.Reset += r.Reset
			x.Unanswered += r.Unanswered
			for _, h := range r.Hops {
				if !slices.Contains(x.Hops, h) {
					x.Hops = append(x.Hops, h)
				}
			}
		}
		slices.SortFunc(u.TTLs, func(a, b model.ProbeTTL) int { return a.TTL - b.TTL })
	}
	return into
}
