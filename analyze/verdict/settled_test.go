package verdict

import (
	"encoding/json"
	"testing"

	"github.com/h2pcap/h2pcap/model"
)

// A summary made with some rows settled (their row dropped, a
// settledConn kept) is the one made of every row: counts, paths,
// attempts, the incidents the settled dials belong to, and a redial to a
// settled connection.
func TestSettledSameSummary(t *testing.T) {
	build := func() []*model.Connection {
		var cs []*model.Connection
		for i := range 8 { // established, going on
			cs = append(cs, incConn(i, cli(1, 40000+i), vip, 0, 30, model.KindHealthy))
		}
		reset := serverReset(8, cli(1, 40008), vip, 1, 5)
		reset.TCP.ClientToServer.Retransmissions = 2
		cs = append(cs, reset)
		for i := 9; i < 17; i++ { // a handshake outage: dials failing in a row
			d := dial(i, cli(2, 40000+i), vip, 5+float64(i-9)*0.5, 5.4+float64(i-9)*0.5)
			d.Verdict.LossDirection, d.Verdict.Suspects = model.LossUnknown, []model.Suspect{model.SuspectMiddleboxReset}
			d.CapturePoint = model.PointClient
			cs = append(cs, d)
		}
		still := dial(17, cli(1, 40017), vip, 5.05, 5.05) // the reset's redial, still connecting
		still.Verdict.Kind = model.KindHealthy
		return append(cs, still)
	}
	all := build()
	want := summarize(all, nil, nil, newStartIndex(all, nil), nil)
	wantRedial := all[8].Redial

	st := &settled{}
	var kept []*model.Connection
	for _, c := range build() {
		if c.TCP.ClientToServer.Bytes == 0 && settleable(c) && st.fits(c) {
			st.add(c, true)
			continue
		}
		kept = append(kept, c)
	}
	if st.len() != 9 {
		t.Fatalf("%d rows settled, want 9", st.len())
	}
	got := summarize(kept, nil, nil, newStartIndexSettled(kept, nil, st, true), st)
	wj, _ := json.Marshal(want)
	gj, _ := json.Marshal(got)
	if string(gj) != string(wj) {
		t.Errorf("summary with settled rows:\n%s\nwant\n%s", gj, wj)
	}
	t.Logf("%s", want.Headline)
	if len(want.Incidents) == 0 {
		t.Errorf("no incident: the case does not test the settled dials in one")
	}
	gotRedial := kept[8].Redial
	if wantRedial == nil || gotRedial == nil || *gotRedial != *wantRedial {
		t.Errorf("redial %+v, want %+v", gotRedial, wantRedial)
	}
	un := 0
	for _, u := range st.unlisted {
		un += u.Connections
	}
	if un != 9 || len(st.unlisted) != 2 || st.unlisted[0].FirstStream != 9 || st.unlisted[1].FirstStream != 17 {
		t.Errorf("unlisted %+v", st.unlisted)
	}
}
