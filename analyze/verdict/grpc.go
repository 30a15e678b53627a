package verdict

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/h2pcap/h2pcap/model"
)

// GRPC sums the connections' gRPC call counts per method and outcome,
// most calls first (then by method); nil without gRPC.
func GRPC(conns []*model.Connection) []model.GRPCCount {
	type key struct{ method, status, message, reset, by string }
	idx := map[key]int{}
	var out []model.GRPCCount
	for _, c := range conns {
		if c.HTTP2 == nil {
			continue
		}
		for _, g := range c.HTTP2.GRPC {
			k := key{g.Method, g.Status, g.Message, g.Reset, g.ResetBy}
			if i, ok := idx[k]; ok {
				out[i].Calls += g.Calls
				continue
			}
			idx[k] = len(out)
			out = append(out, g)
		}
	}
	slices.SortStableFunc(out, func(a, b model.GRPCCount) int {
		return cmp.Or(cmp.Compare(b.Calls, a.Calls), strings.Compare(a.Method, b.Method))
	})
	return out
}

// grpcWords says the calls that failed, for the headline: "8 KV/Put calls
// reset by the client (CANCEL, no status: its deadline ran out or it gave
// up); 42 Watch/Watch calls failed: Unavailable, etcdserver: no leader".
// Empty when every call ended OK.
func grpcWords(gs []model.GRPCCount) string {
	var parts []string
	more := 0
	for _, g := range gs {
		if g.Code == "OK" || g.Code == "" && g.Reset == "" {
			continue
		}
		if len(parts) == maxGRPCHeadline {
			more += g.Calls
			continue
		}
		plural := "s"
		if g.Calls == 1 {
			plural = ""
		}
		m := shortMethod(g.Method)
		switch {
		case g.Code != "":
			w := fmt.Sprintf("%d %s call%s failed: %s", g.Calls, m, plural, g.Code)
			if g.Message != "" {
				w += ", " + g.Message
			}
			parts = append(parts, w)
		default:
			parts = append(parts, fmt.Sprintf("%d %s call%s reset by the %s (%s, no status)", g.Calls, m, plural, g.ResetBy, g.Reset))
		}
	}
	if more > 0 {
		parts = append(parts, fmt.Sprintf("%d more failed gRPC calls", more))
	}
	return strings.Join(parts, "; ")
}

// shortMethod is /etcdserverpb.KV/Put as KV/Put: the service without its
// package, and the method.
func shortMethod(path string) string {
	svc, m, ok := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if !ok {
		return path
	}
	if i := strings.LastIndexByte(svc, '.'); i >= 0 {
		svc = svc[i+1:]
	}
	return svc + "/" + m
}
