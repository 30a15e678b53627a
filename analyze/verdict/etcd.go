package verdict

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/h2pcap/h2pcap/model"
)

// Etcd builds summary.etcd from the etcd peer connections: the members,
// who led each term (the member sending heartbeats and appends, which
// only a leader sends), the elections, how the old leader's heartbeats
// fared before each, and the loss per member pair. Nil when no
// connection is etcd peer traffic.
func Etcd(conns []*model.Connection) *model.Etcd {
	var peers, encrypted []*model.Connection
	for _, c := range conns {
		switch {
		case c.Etcd != nil:
			peers = append(peers, c)
		case encryptedPeer(c):
			encrypted = append(encrypted, c)
		}
	}
	if len(peers) == 0 && len(encrypted) == 0 {
		return nil
	}
	e := &model.Etcd{Members: []model.EtcdMember{}, Leaders: []model.EtcdLeader{}, Elections: []model.EtcdElection{}, Pairs: []model.EtcdPair{}}
	addr := map[string]string{} // member ID -> peer IP
	seen := map[string]bool{}
	addMember := func(id, ip string) {
		if id == "" || id == "0" {
			return
		}
		if !seen[id] {
			seen[id] = true
			e.Members = append(e.Members, model.EtcdMember{ID: id})
		}
		if ip != "" && addr[id] == "" {
			addr[id] = ip
		}
	}
	type leadKey struct {
		member string
		term   uint64
	}
	leads := map[leadKey]*model.EtcdLeader{}
	leadFirst := map[leadKey]model.Moment{}
	for _, c := range peers {
		p := c.Etcd
		if e.ClusterID == "" {
			e.ClusterID = p.ClusterID
		}
		addMember(p.ClientMember, hostOf(c.Client))
		addMember(p.ServerMember, hostOf(c.Server))
		for _, r := range p.Runs {
			addMember(r.From, "")
			addMember(r.To, "")
			if !leaderType(r.Type) || r.From == "0" {
				continue
			}
			k := leadKey{r.From, r.Term}
			l := leads[k]
			if l == nil {
				l = &model.EtcdLeader{Member: r.From, Term: r.Term, First: r.First.Time, Last: r.Last.Time}
				leads[k] = l
				leadFirst[k] = r.First
			}
			if r.First.Time.Before(l.First) {
				l.First = r.First.Time
				leadFirst[k] = r.First
			}
			if r.Last.Time.After(l.Last) {
				l.Last = r.Last.Time
			}
		}
	}
	for i := range e.Members {
		e.Members[i].Address = addr[e.Members[i].ID]
	}
	for _, l := range leads {
		l.Address = addr[l.Member]
		e.Leaders = append(e.Leaders, *l)
	}
	slices.SortFunc(e.Leaders, func(a, b model.EtcdLeader) int {
		return cmp.Or(cmp.Compare(a.Term, b.Term), a.First.Compare(b.First))
	})
	for i := 1; i < len(e.Leaders) && len(e.Elections) < maxEtcdElections; i++ {
		prev, cur := e.Leaders[i-1], e.Leaders[i]
		if cur.Term == prev.Term {
			continue // two members leading one term: raft forbids it; a decoding error
		}
		el := model.EtcdElection{Term: cur.Term, Time: cur.First, Leader: cur.Member, LeaderAddress: cur.Address,
			PreviousLeader: prev.Member, PreviousLeaderAddress: prev.Address, PreviousTerm: prev.Term}
		first := leadFirst[leadKey{cur.Member, cur.Term}]
		el.Evidence = append(el.Evidence, model.Evidence{Frame: first.Frame, Input: first.Input,
			Note: fmt.Sprintf("%s's first heartbeat or append as leader of term %d", memberName(cur.Member, cur.Address), cur.Term)})
		el.Evidence = append(el.Evidence, voteEvidence(peers, cur, addr)...)
		el.Unanswered = unanswered(peers, prev, el.Time)
		for _, u := range el.Unanswered {
			if u.LastHeartbeat != nil {
				el.Evidence = append(el.Evidence, model.Evidence{Frame: u.LastHeartbeat.Frame, Input: u.LastHeartbeat.Input,
					Note: fmt.Sprintf("%s's last heartbeat to %s in term %d", memberName(u.From, addr[u.From]), memberName(u.To, addr[u.To]), prev.Term)})
			}
		}
		if len(el.Evidence) > MaxEvidence {
			el.Evidence = el.Evidence[:MaxEvidence]
		}
		e.Elections = append(e.Elections, el)
	}
	e.Encrypted = len(encrypted)
	e.Pairs = etcdPairs(append(slices.Clone(peers), encrypted...))
	e.Faulty = faultyMember(e.Pairs, addr)
	return e
}

// SummaryNeedsListed says whether the summary reads c beyond its verdict
// and path counts (summary.etcd: an etcd peer connection, decoded or
// encrypted; summary.grpc: a connection with gRPC calls), so that it must
// stay listed rather than be forgotten after its close.
func SummaryNeedsListed(c *model.Connection) bool {
	return c.Etcd != nil || encryptedPeer(c) || c.HTTP2 != nil && len(c.HTTP2.GRPC) > 0
}

// encryptedPeer: TLS not decrypted to etcd's peer port, whose handshake
// leaves HTTP/2 out (rafthttp is HTTP/1.1): etcd peer traffic, from the
// port alone, that the capture cannot read.
func encryptedPeer(c *model.Connection) bool {
	t := c.TLS
	if t == nil || t.Decrypted || c.HTTP2 != nil {
		return false
	}
	ap, err := netip.ParseAddrPort(c.Server)
	return err == nil && ap.Port() == etcdPeerPort
}

// leaderType: only a leader sends these (decode/raft.Message.IsLeader).
func leaderType(t string) bool {
	switch t {
	case "MsgApp", "MsgHeartbeat", "MsgSnap", "MsgTimeoutNow":
		return true
	}
	return false
}

// voteEvidence is the new leader's first vote request of its term and
// the first vote granted to it, as the captures show them.
func voteEvidence(peers []*model.Connection, l model.EtcdLeader, addr map[string]string) []model.Evidence {
	var ask, grant *model.RaftRun
	for _, c := range peers {
		for i := range c.Etcd.Runs {
			r := &c.Etcd.Runs[i]
			if r.Term != l.Term {
				continue
			}
			switch {
			case r.Type == "MsgVote" && r.From == l.Member:
				if ask == nil || r.First.Time.Before(ask.First.Time) {
					ask = r
				}
			case r.Type == "MsgVoteResp" && r.To == l.Member && !r.Reject && !r.First.Time.After(l.First):
				if grant == nil || r.First.Time.Before(grant.First.Time) {
					grant = r
				}
			}
		}
	}
	var ev []model.Evidence
	if ask != nil {
		ev = append(ev, model.Evidence{Frame: ask.First.Frame, Input: ask.First.Input,
			Note: fmt.Sprintf("%s asks %s for its vote in term %d", memberName(ask.From, addr[ask.From]), memberName(ask.To, addr[ask.To]), l.Term)})
	}
	if grant != nil {
		ev = append(ev, model.Evidence{Frame: grant.First.Frame, Input: grant.First.Input,
			Note: fmt.Sprintf("%s grants it", memberName(grant.From, addr[grant.From]))})
	}
	return ev
}

// unanswered finds, for each follower the previous leader sent heartbeats
// to in its term, whether they went unanswered (or stopped) for
// etcdUnanswered or longer before the election at t. It says so only
// where the captures hold both directions' streams between the two
// members: what a capture does not hold says nothing.
func unanswered(peers []*model.Connection, prev model.EtcdLeader, t time.Time) []model.EtcdUnanswered {
	// Per follower, the last heartbeat and the last response at or
	// before t (a run that spans t was going on at t).
	type last struct {
		hb, resp     *model.Moment
		hbAt, respAt time.Time
		hbFirst      time.Time
	}
	byFollower := map[string]*last{}
	var order []string
	// carries says whether a captured message stream carries from's
	// messages to to (its server is the sender).
	carries := func(from, to string) bool {
		for _, c := range peers {
			p := c.Etcd
			if p.Stream == model.EtcdStreamMessage && p.ServerMember == from && p.ClientMember == to {
				return true
			}
		}
		return false
	}
	for _, c := range peers {
		for i := range c.Etcd.Runs {
			r := &c.Etcd.Runs[i]
			if r.Term != prev.Term || r.First.Time.After(t) {
				continue
			}
			var f string
			switch {
			case r.Type == "MsgHeartbeat" && r.From == prev.Member:
				f = r.To
			case r.Type == "MsgHeartbeatResp" && r.To == prev.Member:
				f = r.From
			default:
				continue
			}
			l := byFollower[f]
			if l == nil {
				l = &last{}
				byFollower[f] = l
				order = append(order, f)
			}
			at := r.Last.Time
			if at.After(t) {
				at = t
			}
			if r.Type == "MsgHeartbeat" {
				if l.hb == nil || at.After(l.hbAt) {
					m := r.Last
					l.hb, l.hbAt = &m, at
				}
				if l.hbFirst.IsZero() || r.First.Time.Before(l.hbFirst) {
					l.hbFirst = r.First.Time
				}
			} else if l.resp == nil || at.After(l.respAt) {
				m := r.Last
				l.resp, l.respAt = &m, at
			}
		}
	}
	slices.Sort(order)
	var out []model.EtcdUnanswered
	for _, f := range order {
		l := byFollower[f]
		if l.hb == nil || !carries(prev.Member, f) || !carries(f, prev.Member) {
			continue
		}
		u := model.EtcdUnanswered{From: prev.Member, To: f, LastHeartbeat: l.hb}
		since := l.hbFirst
		if l.resp != nil {
			u.Since, since = l.resp, l.respAt
		}
		switch {
		case l.hbAt.Sub(since) >= etcdUnanswered:
			// The leader went on sending; nothing came back.
			u.Kind = model.EtcdHeartbeatsUnanswered
			u.ForS = t.Sub(since).Seconds()
		case t.Sub(l.hbAt) >= etcdUnanswered:
			// Neither way: no heartbeat passed the capture point.
			u.Kind = model.EtcdHeartbeatsStopped
			u.ForS = t.Sub(l.hbAt).Seconds()
		default:
			continue
		}
		out = append(out, u)
	}
	return out
}

// etcdPairs sums the peer connections' TCP counters per pair of member
// addresses.
func etcdPairs(peers []*model.Connection) []model.EtcdPair {
	idx := map[[2]string]int{}
	var out []model.EtcdPair
	for _, c := range peers {
		a, b := hostOf(c.Client), hostOf(c.Server)
		if b < a {
			a, b = b, a
		}
		k := [2]string{a, b}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, model.EtcdPair{Members: k, Directions: [2]model.EtcdPairDir{{From: a, To: b}, {From: b, To: a}}})
		}
		p := &out[i]
		p.Connections++
		for d := model.ClientToServer; d <= model.ServerToClient; d++ {
			st := c.TCP.Dir(d)
			p.Packets += st.Packets
			p.Retransmissions += st.Retransmissions
			// Members[0] -> Members[1] is Directions[0].
			from := hostOf(c.Client)
			if d == model.ServerToClient {
				from = hostOf(c.Server)
			}
			pd := &p.Directions[0]
			if from != k[0] {
				pd = &p.Directions[1]
			}
			pd.Packets += st.Packets
			pd.Retransmissions += st.Retransmissions
		}
		if v := c.Verdict; v != nil && v.Kind != model.KindHealthy && !benignGoaway(c) {
			p.Problems++
		}
	}
	for i := range out {
		p := &out[i]
		p.Lossy = p.Problems > 0 || p.Packets > 0 && float64(p.Retransmissions)/float64(p.Packets) > etcdPairLossy
	}
	slices.SortFunc(out, func(a, b model.EtcdPair) int {
		return cmp.Or(strings.Compare(a.Members[0], b.Members[0]), strings.Compare(a.Members[1], b.Members[1]))
	})
	return out
}

// faultyMember is the one member address every lossy pair includes and
// no clean pair does; nil when the pairs do not single one out.
func faultyMember(pairs []model.EtcdPair, addr map[string]string) *model.EtcdMember {
	var cand []string
	first := true
	clean := map[string]bool{}
	for _, p := range pairs {
		if !p.Lossy {
			clean[p.Members[0]], clean[p.Members[1]] = true, true
			continue
		}
		if first {
			cand, first = []string{p.Members[0], p.Members[1]}, false
			continue
		}
		cand = slices.DeleteFunc(cand, func(m string) bool { return m != p.Members[0] && m != p.Members[1] })
	}
	cand = slices.DeleteFunc(cand, func(m string) bool { return clean[m] })
	if len(cand) != 1 {
		return nil
	}
	m := &model.EtcdMember{Address: cand[0]}
	for id, a := range addr {
		if a == cand[0] {
			m.ID = id
		}
	}
	return m
}

// memberName is a member as the text names it: its address, and its ID.
func memberName(id, address string) string {
	if address == "" {
		return "member " + id
	}
	return address + " (" + id + ")"
}

// EtcdWords says the elections and the member at fault, for the headline:
// "etcd leader changed at 23:59:01.234 (term 7 -> 8, 198.18.12.2 -> 198.18.11.2); before it,
// 198.18.12.2's heartbeats to 198.18.11.2 went unanswered for 1.1 s; every etcd peer connection through
// 198.18.12.2 had loss (to 198.18.11.2 8% retransmitted); 198.18.11.2<->198.18.13.2 clean".
//
// pointOf names the capture point of an input, nil with one point: the
// heartbeats that stopped stopped at the point whose capture lists their
// connection, which "this capture point" does not say when there are
// several (etcd-leader-loss-mesh's three members' captures).
func EtcdWords(e *model.Etcd, pointOf func(input int) string) string {
	var parts []string
	if e.Encrypted > 0 && len(e.Leaders) == 0 {
		parts = append(parts, fmt.Sprintf("etcd peer traffic in TLS, not decrypted (%d connections to port %d): who led when cannot be read without a key log",
			e.Encrypted, etcdPeerPort))
	}
	addrOf := map[string]string{}
	for _, m := range e.Members {
		addrOf[m.ID] = m.Address
	}
	short := func(id string) string {
		if a := addrOf[id]; a != "" {
			return a
		}
		return "member " + id
	}
	for i, el := range e.Elections {
		if i == 2 {
			parts = append(parts, fmt.Sprintf("%d more etcd elections", len(e.Elections)-2))
			break
		}
		verb := "etcd leader changed"
		if el.Leader == el.PreviousLeader {
			verb = "etcd leader re-elected"
		}
		w := fmt.Sprintf("%s at %s (term %d -> %d, %s -> %s)", verb, clock(el.Time), el.PreviousTerm, el.Term,
			short(el.PreviousLeader), short(el.Leader))
		var un, st, at []string
		var unFor, stFor float64
		for _, u := range el.Unanswered {
			if u.Kind == model.EtcdHeartbeatsUnanswered {
				un, unFor = append(un, short(u.To)), max(unFor, u.ForS)
				continue
			}
			st, stFor = append(st, short(u.To)), max(stFor, u.ForS)
			if pointOf != nil && u.LastHeartbeat != nil {
				if p := pointOf(u.LastHeartbeat.Input); p != "" && !slices.Contains(at, p) {
					at = append(at, p)
				}
			}
		}
		where := "this capture point"
		switch len(at) {
		case 0:
		case 1:
			where = "capture point " + at[0]
		default:
			where = "capture points " + strings.Join(at, " and ")
		}
		if len(un) > 0 {
			w += fmt.Sprintf("; before it, %s's heartbeats to %s went unanswered for %.1f s", short(el.PreviousLeader), strings.Join(un, " and "), unFor)
		}
		if len(st) > 0 {
			w += fmt.Sprintf("; before it, no heartbeat from %s to %s passed %s for %.1f s", short(el.PreviousLeader), strings.Join(st, " and "), where, stFor)
		}
		parts = append(parts, w)
	}
	if f := e.Faulty; f != nil {
		var lossy, clean []string
		for _, p := range e.Pairs {
			if p.Lossy {
				other := p.Members[0]
				if other == f.Address {
					other = p.Members[1]
				}
				// Each way: from the faulty member, then to it.
				var ways []string
				for _, d := range []model.EtcdPairDir{p.Directions[0], p.Directions[1]} {
					if d.From != f.Address {
						continue
					}
					ways = append(ways, fmt.Sprintf("%.0f%% of its segments to %s sent again", pct(d.Retransmissions, d.Packets), other))
				}
				for _, d := range []model.EtcdPairDir{p.Directions[0], p.Directions[1]} {
					if d.To == f.Address {
						ways = append(ways, fmt.Sprintf("%.0f%% back", pct(d.Retransmissions, d.Packets)))
					}
				}
				lossy = append(lossy, strings.Join(ways, ", "))
			} else {
				clean = append(clean, p.Members[0]+"<->"+p.Members[1])
			}
		}
		w := fmt.Sprintf("every etcd peer connection through %s had loss (%s)", f.Address, strings.Join(lossy, "; "))
		if len(clean) > 0 {
			w += "; " + strings.Join(clean, ", ") + " clean"
		}
		parts = append(parts, w)
	}
	return strings.Join(parts, "; ")
}

// pct is n of total in percent, 0 when total is.
func pct(n, total int) float64 {
	if total == 0 {
		return 0
	}
	return 100 * float64(n) / float64(total)
}
