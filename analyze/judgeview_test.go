package analyze

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/internal/synth"
	"github.com/h2pcap/h2pcap/model"
)

// TestHTTP2JudgeView: what judgeForget decides from a row made with
// conn.reportJudgeInto (its HTTP/2 without what judging one connection
// alone never reads: app.State.HTTP2JudgeInto) is what it decides from
// the whole row, for every connection of every lab capture and a
// generated one: the verdict, whether the summary needs it listed,
// whether it may be a dial race's spare, whether it is a probe. A verdict
// rule that comes to read what the view leaves out fails this.
func TestHTTP2JudgeView(t *testing.T) {
	gen := synthCapture(t, "short", synth.Config{N: 300, Open: 16, Rate: 50})
	lab, _ := filepath.Glob(filepath.Join("..", "testdata", "pcaps", "*", "*.pcap"))
	viewed := 0
	for _, p := range append([]string{gen}, lab...) {
		for _, c := range openConns(t, p) {
			// In judgeForget's order: the view first, the whole
			// row after it for a connection kept (settle).
			judged := c.reportJudgeInto(nil, nil)
			whole := c.reportInto(nil, nil)
			if whole.HTTP2 != nil && len(whole.HTTP2.Frames) > 0 && len(judged.HTTP2.Frames) == 0 {
				viewed++
			}
			client, _ := c.Roles()
			f := c.vt.Facts(client, &c.tcp)
			point := f.CapturePoint()
			name := filepath.Base(filepath.Dir(p)) + "/" + filepath.Base(p)
			if w, j := verdict.JudgeUntold(whole, f, point, c.endTime()), verdict.JudgeUntold(judged, f, point, c.endTime()); !reflect.DeepEqual(w, j) {
				t.Errorf("%s stream %d: verdict %+v from the judging view, %+v from the whole row", name, c.stream, j, w)
			}
			if verdict.SummaryNeedsListed(whole) != verdict.SummaryNeedsListed(judged) ||
				verdict.MaybeSpare(whole, f) != verdict.MaybeSpare(judged, f) {
				t.Errorf("%s stream %d: listed or spare told apart by the judging view", name, c.stream)
			}
			wp, wt := verdict.FindProbes([]*model.Connection{whole}, []*verdict.Facts{f})
			jp, jt := verdict.FindProbes([]*model.Connection{judged}, []*verdict.Facts{f})
			if !reflect.DeepEqual(wp, jp) || !reflect.DeepEqual(wt, jt) {
				t.Errorf("%s stream %d: probes told apart by the judging view", name, c.stream)
			}
		}
	}
	if viewed < 300 {
		t.Errorf("%d connections judged from a view without their frame counts: the test does not exercise it", viewed)
	}
}

// openConns analyses capture p with the default options, kept open (no
// Report), and returns its connections that still have their trackers.
func openConns(t *testing.T, p string) []*conn {
	t.Helper()
	src, err := decode.Open(p, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	a := New(Options{})
	if _, err := a.ReadSource(src); err != nil {
		t.Fatal(err)
	}
	var conns []*conn
	for _, c := range a.all {
		if c != nil && c.connState != nil {
			conns = append(conns, c)
		}
	}
	return conns
}
