package report

import (
	"testing"

	"github.com/h2pcap/h2pcap/model"
)

// A group's count says how many of its segments tell no loss: copies and
// delayed originals (an older or repeated IP ID), and those the receiver
// reported having (D-SACK).
func TestEventGroupNotes(t *testing.T) {
	c2s, s2c := model.ClientToServer, model.ServerToClient
	ev := func(d model.Direction, k model.EventKind, late, dsacked bool) model.Event {
		return model.Event{Dir: d, Kind: k, Frame: 1, Late: late, DSACKed: dsacked}
	}
	evs := []model.Event{
		ev(s2c, model.EvRetransmission, true, false),
		ev(s2c, model.EvRetransmission, false, true),
		ev(s2c, model.EvRetransmission, true, true),
		ev(s2c, model.EvRetransmission, false, false),
		ev(s2c, model.EvOutOfOrder, true, false),
		ev(c2s, model.EvSpuriousRetrans, false, true),
		ev(c2s, model.EvRetransmission, false, false),
	}
	want := []string{
		" (2 with an older or repeated IP ID: delayed or copied, not sent again; 2 the receiver already had: D-SACK)",
		"", // out of order: what a delayed original is called anyway
		" (1 the receiver already had: D-SACK)",
		"",
	}
	groups := groupEvents(evs)
	if len(groups) != len(want) {
		t.Fatalf("%d groups, want %d", len(groups), len(want))
	}
	for i, g := range groups {
		if got := g.notes(); got != want[i] {
			t.Errorf("%s %s: notes %q, want %q", g.dir, g.kind, got, want[i])
		}
	}
}
