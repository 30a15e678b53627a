package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/h2pcap/h2pcap/model"
)

// etcd lists, under the incidents, who led the etcd cluster when, each
// election with its evidence, and the loss per member pair.
func (t *text) etcd(r *model.Report) {
	if r.Summary == nil || r.Summary.Etcd == nil {
		return
	}
	e := r.Summary.Etcd
	t.heading("etcd")
	name := func(id, addr string) string {
		if addr == "" {
			return id
		}
		return addr + " (" + id + ")"
	}
	for _, l := range e.Leaders {
		t.printf("%sterm %d: led by %s, %s to %s\n", t.bullet(), l.Term, name(l.Member, l.Address), stamp(l.First), stamp(l.Last))
	}
	for _, el := range e.Elections {
		t.printf("%sleader change at %s: term %d -> %d, %s -> %s\n", t.bullet(), stamp(el.Time), el.PreviousTerm, el.Term,
			name(el.PreviousLeader, el.PreviousLeaderAddress), name(el.Leader, el.LeaderAddress))
		for _, u := range el.Unanswered {
			switch u.Kind {
			case model.EtcdHeartbeatsUnanswered:
				t.printf("%sheartbeats %s -> %s unanswered for %.1f s before it\n", t.sub(), u.From, u.To, u.ForS)
			default:
				t.printf("%sno heartbeat %s -> %s seen for %.1f s before it\n", t.sub(), u.From, u.To, u.ForS)
			}
		}
		// One filter per input: frame numbers are each file's own (a
		// multi-point analysis's evidence comes from several).
		var inputs []int
		frames := map[int][]string{}
		for _, ev := range el.Evidence {
			t.printf("%sframe %s: %s\n", t.sub(), frameRef(ev.Input, ev.Frame), ev.Note)
			if frames[ev.Input] == nil {
				inputs = append(inputs, ev.Input)
			}
			frames[ev.Input] = append(frames[ev.Input], strconv.Itoa(ev.Frame))
		}
		var filters []string
		for _, in := range inputs {
			f := t.code("frame.number in {" + strings.Join(frames[in], " ") + "}")
			if len(inputs) > 1 {
				f += " (input " + strconv.Itoa(in) + ")"
			}
			filters = append(filters, f)
		}
		if len(filters) > 0 {
			t.printf("%sWireshark: %s\n", t.sub(), strings.Join(filters, ", "))
		}
	}
	var rows [][]string
	for _, p := range e.Pairs {
		rate := "-"
		if p.Packets > 0 {
			rate = fmt.Sprintf("%.1f%%", 100*float64(p.Retransmissions)/float64(p.Packets))
		}
		state := "clean"
		if p.Lossy {
			state = "lossy"
		}
		rows = append(rows, []string{p.Members[0] + " <-> " + p.Members[1], strconv.Itoa(p.Connections),
			strconv.Itoa(p.Packets), strconv.Itoa(p.Retransmissions), rate, strconv.Itoa(p.Problems), state})
	}
	if len(rows) > 0 {
		t.printf("\n")
		t.table([]string{"Members", "Conns", "Packets", "Retrans", "Rate", "Problems", "Pair"}, rows)
	}
	if f := e.Faulty; f != nil {
		t.printf("%severy lossy peer connection goes through %s\n", t.bullet(), name(f.ID, f.Address))
	}
}

// grpc lists the gRPC calls counted per method and outcome.
func (t *text) grpc(r *model.Report) {
	if r.Summary == nil || len(r.Summary.GRPC) == 0 {
		return
	}
	t.heading("gRPC calls")
	var rows [][]string
	for _, g := range r.Summary.GRPC {
		outcome := g.Code
		if outcome == "" && g.Reset != "" {
			outcome = "RST_STREAM " + g.Reset + " by the " + g.ResetBy
		}
		rows = append(rows, []string{g.Method, outcome, g.Message, strconv.Itoa(g.Calls)})
	}
	t.table([]string{"Method", "Outcome", "grpc-message", "Calls"}, rows)
}
