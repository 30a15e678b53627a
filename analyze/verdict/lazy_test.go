package verdict

import (
	"strings"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/model"
)

// With Done, a verdict's words are made over the Later's scratch, which
// the next connection's overwrite: a row that stays listed (its facts
// not Inert: it carried data) gets words of its own, and Done sees each
// row's own words.
func TestLaterTextsOwned(t *testing.T) {
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	row := func(stream int) *model.Connection {
		return &model.Connection{Stream: stream, Client: "198.18.0.1:40000", Server: "198.19.0.1:443", Start: start, End: start.Add(time.Second)}
	}
	var seen []string
	l := &Later{Done: func(i int, c *model.Connection) bool {
		seen = append(seen, strings.Clone(c.Verdict.Filter)) // its words are valid only during the call
		return true
	}}
	st := &settled{}
	listed, lf := row(123456), &Facts{}
	lf.Dir[model.ClientToServer].DataSegs = 1
	if Inert(listed, lf) {
		t.Fatal("a connection with data is Inert: the case does not test a listed row")
	}
	v, untold := l.judge(0, listed, lf, model.PointClient, start.Add(time.Minute), nil)
	listed.Verdict = v
	filter, summary := strings.Clone(v.Filter), strings.Clone(v.Summary)
	l.judged(0, listed, lf, untold, st)
	for i, stream := range []int{7, 89} { // shorter words: in the same scratch bytes
		// A lone SYN a second before the end: connecting still.
		c, f := row(stream), &Facts{}
		c.End, c.FirstFrame, c.LastFrame = start, 3, 3
		c.TCP.ClientToServer.Packets = 1
		syn := SegRef{Frame: 3, Time: start}
		f.Dir[model.ClientToServer].SYNs, f.Dir[model.ClientToServer].FirstSYN, f.Dir[model.ClientToServer].LastSYN, f.Dir[model.ClientToServer].SYN = 1, syn, syn, syn
		c.Verdict, untold = l.judge(i+1, c, f, model.PointClient, start.Add(time.Millisecond), nil)
		l.judged(i+1, c, f, untold, st)
	}
	if v.Filter != filter || v.Summary != summary || filter != "tcp.stream eq 123456" {
		t.Errorf("the listed row's words changed under it: filter %q (was %q), summary %q (was %q)", v.Filter, filter, v.Summary, summary)
	}
	if want := []string{"tcp.stream eq 7", "tcp.stream eq 89"}; strings.Join(seen, ",") != strings.Join(want, ",") {
		t.Errorf("Done saw filters %q, want %q", seen, want)
	}
}
