package verdict

import (
	"fmt"
	"net/netip"

	"github.com/h2pcap/h2pcap/model"
)

// attempts describes the connections that never carried data, when they
// are what the capture is made of: a million SYNs are a flood or a scan to
// be named as such, not a million "silent" connections to be read one by
// one. Nil below the thresholds (rules.go).
// The settled connections st (nil: none) count with conns.
func attempts(conns []*model.Connection, st *settled) *model.Attempts {
	a := &model.Attempts{}
	servers := map[string]int{}
	clients := map[netip.Addr]struct{}{}
	for _, c := range conns {
		if c.TCP.ClientToServer.Bytes > 0 || c.TCP.ServerToClient.Bytes > 0 {
			continue
		}
		a.Connections++
		if c.TCP.ServerToClient.Packets > 0 {
			a.Answered++
		}
		servers[c.Server]++
		if ap, err := netip.ParseAddrPort(c.Client); err == nil {
			clients[ap.Addr()] = struct{}{}
		}
	}
	for k := range st.len() {
		e := &st.conns[k]
		if e.flags&settledData != 0 {
			continue
		}
		a.Connections++
		if e.flags&settledAnswered != 0 {
			a.Answered++
		}
		servers[st.paths[e.path].server]++
		if ap, err := netip.ParseAddrPort(e.client); err == nil {
			clients[ap.Addr()] = struct{}{}
		}
	}
	if a.Connections < minAttempts || float64(a.Connections) < attemptShare*float64(len(conns)+st.len()) {
		return nil
	}
	a.Servers, a.Clients = len(servers), len(clients)
	for s, n := range servers {
		if n > a.TopCount || n == a.TopCount && s < a.Top {
			a.Top, a.TopCount = s, n
		}
	}
	return a
}

// attemptsWords is the headline's sentence for a.
func attemptsWords(a *model.Attempts) string {
	share := 100 * float64(a.Answered) / float64(a.Connections)
	what := "a SYN flood or a scan"
	if a.Servers == 1 {
		what = "a flood, or clients redialling a server that does not answer"
	}
	return fmt.Sprintf("%s connection attempts without data to %s from %s, %s answered: %s, not an application's traffic",
		thousands(a.Connections), plural(a.Servers, "server"), plural(a.Clients, "client address"), percent(share), what)
}

func percent(p float64) string {
	switch {
	case p == 0:
		return "none"
	case p < 0.1:
		return fmt.Sprintf("%.2f%%", p)
	case p < 10:
		return fmt.Sprintf("%.1f%%", p)
	}
	return fmt.Sprintf("%.0f%%", p)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	if what[len(what)-1] == 's' {
		return thousands(n) + " " + what + "es"
	}
	return thousands(n) + " " + what + "s"
}

// thousands writes n with commas: 1,000,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
