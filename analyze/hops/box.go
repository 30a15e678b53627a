package hops

import (
	"net/netip"
	"time"
)

// One box's interfaces as points (h2pcap live -i any, or analyze of such
// a capture): which flows are compared where they were seen only, which
// addresses are the box's own, how long each interface was watched, and
// the losses told as they are found (live's running lines).

// SeenOnly makes the Placer compare each flow at the points that saw it
// only: a point that never saw a flow is not on its path, whatever other
// flows to the same server crossed it (absentOnPath), and a flow whose
// packets all reached every point that saw it is clean (OnRetire). A
// node's interfaces (h2pcap live -i any) are such points: a forwarded
// connection crosses two or three of them, the node's own connections
// (a kubelet probe to a pod, the node's own to the API server) one,
// though the same server's other connections cross more; without it each
// would be "lost" before the interfaces it never had to cross, and none
// forgotten. A connection the node drops at its first packet (a SYN that
// never leaves) is then not placed: the analysis of the interface it
// came in by tells it (connect_failed, lost after that capture point).
func (p *Placer) SeenOnly() { p.seenOnly = true }

// LocalAddrs tells a SeenOnly Placer which addresses are the capturing
// box's own (h2pcap live: the node's interfaces'). A flow seen at one of
// its interfaces alone with neither end the box's own was to be
// forwarded and never left: a SYN the node dropped. Such a flow is
// placed as without SeenOnly, along the path its siblings (the same
// server's other flows) took: lost between the interface it came in by
// and the one they went out by.
func (p *Placer) LocalAddrs(local func(netip.Addr) bool) { p.isLocal = local }

// InferLocal is LocalAddrs for a SeenOnly Placer whose box's addresses
// are not known (analyze of a node's tcpdump -i any file): an address is
// taken as another host's once a flow crossed two of the box's
// interfaces with it unchanged, as a pod's or a server's do; the box's
// own never cross two, and one it masquerades its pods' connections
// with is on one side of the box only. A flow seen at one interface
// alone between two such addresses was to be forwarded. So was one whose
// client's SYN the box received (the capture says so: a Linux cooked
// header's direction, as tcpdump -i any writes, or the epb_flags of
// live -w) for a server that is
// another host's: a pod whose every connection a network policy drops at
// the node, its address never forwarded. An address whose flows the box
// dropped from their first packet and never forwarded, without the
// capture saying the box received them (a plain pcap of -i any, a
// pcapng without epb_flags), is taken as the box's: those are not
// placed, as without it.
func (p *Placer) InferLocal() {
	p.inferLocal = true
	p.forwarded = map[netip.Addr]bool{}
}

// OnLoss sets fn to be told of packets a flow lost between points, as
// its packets are compared (each sweep) and when it is retired: its
// result (streams, path and hops) as Finish will give it, each hop's
// Lost what it lost since it was last told (a pure ACK once its fate is
// all but settled, about 5 s after it, and only far from any gap of the
// downstream point's capture: lineAcks; Finish decides them all again
// and tells the rest, so the lines end as the report's hops), with the
// points' clocks taken as one
// (h2pcap live's interfaces of one node, whose running lines say where a
// connection's packets were lost seconds after, not only in the report
// at exit).
func (p *Placer) OnLoss(fn func(*FlowResult)) { p.onLoss = fn }

// lostNow is how many packets flow f was found to lose so far, between
// any two points, its packets compared.
func (f *flow) lostNow() int {
	n := 0
	for d := range f.res {
		l := f.res[d].lossResult
		if l == nil {
			continue
		}
		for a := range l.missing {
			for _, k := range l.missing[a] {
				n += k
			}
		}
		for _, e := range l.past {
			n += e.n // lost or missed by a capture: told once the path says
		}
	}
	return n
}

// tellLoss tells onLoss what flow f lost since it was last told, if
// anything.
func (p *Placer) tellLoss(f *flow) {
	np := len(p.names)
	same := func(a, b int) int64 { return 0 }
	fr := f.result(np, same)
	// The pure ACKs lineAcks found lost count in the lines' hops, not in
	// the flow's own counts (settleAcks decides those at Finish).
	acks := func(sign int) {
		for k, n := range f.ackLost {
			f.res[k[0]].loss(np).missing[k[1]][k[2]] += sign * n
		}
	}
	acks(1)
	absent := p.absentPath(f, -1, func(off int32) [2][]int { return p.done[off].result(np, same).Path })
	p.noteBlind(f, absent)
	p.hopsOf(f, fr, absent, nil, nil)
	acks(-1)
	f.lost = f.lostNow()
	news := false
	for d := range fr.Hops {
		for i := range fr.Hops[d] {
			h := &fr.Hops[d][i]
			k := [3]int{d, h.From, h.To}
			before := f.told[k]
			if h.Lost > before {
				if f.told == nil {
					f.told = map[[3]int]int{}
				}
				f.told[k] = h.Lost
				news = true
			}
			h.Lost -= min(before, h.Lost)
		}
	}
	if news {
		p.onLoss(fr)
	}
}

// CapturedTogether says every point was capturing from its first packet
// to the end of the capture, whatever it last carried: one capture of a
// box's interfaces (h2pcap live -i any), where an interface that went
// quiet was still watched. A flow begun after a point's last packet is
// then one it would have seen.
func (p *Placer) CapturedTogether() { p.together = true }

// lastOf is when point pt's capture ended: its last packet's time, or
// with CapturedTogether the last packet's anywhere.
func (p *Placer) lastOf(pt int) time.Time {
	if p.together {
		return p.now
	}
	return p.last[pt]
}

// forwardedAlone reports whether flow f is one LocalAddrs names: seen at
// one point only, neither end local.
func (p *Placer) forwardedAlone(f *flow) bool {
	local := p.isLocal
	if local == nil && p.inferLocal {
		local = func(a netip.Addr) bool { return !p.forwarded[a] }
	}
	if !p.seenOnly || local == nil {
		return false
	}
	var seen *member
	for _, m := range f.at {
		if m == nil {
			continue
		}
		if seen != nil {
			return false
		}
		seen = m
	}
	if seen == nil {
		return false
	}
	if !local(seen.ep0.Addr()) && !local(seen.ep1.Addr()) {
		return true
	}
	// The box received the client's SYN for another host's server: it
	// was to forward it.
	return p.inferLocal && seen.synIn && p.forwarded[seen.ep1.Addr()]
}

// seenOnlyFor is whether flow f is compared where it was seen only.
func (p *Placer) seenOnlyFor(f *flow) bool { return p.seenOnly && !p.forwardedAlone(f) }

// markForwarded notes as other hosts' (InferLocal) the addresses flow f
// shows unchanged at two points or more: it crossed the box with them.
// An address a NAT wrote at one point only (the box's own, that it
// masquerades its pods' connections with) is not one of them.
func (p *Placer) markForwarded(f *flow) {
	seen := map[netip.Addr]int{}
	for _, o := range f.at {
		if o == nil {
			continue
		}
		seen[o.ep0.Addr()]++
		if o.ep1.Addr() != o.ep0.Addr() {
			seen[o.ep1.Addr()]++
		}
	}
	for a, n := range seen {
		if n > 1 {
			p.forwarded[a] = true
		}
	}
}
