package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/analyze/hops"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/internal/synth"
	"github.com/h2pcap/h2pcap/model"
)

// TestClockShiftSameAnalysis: every lab scenario captured at several
// points, one capture's clock set seconds off (its packets' times
// moved, as editcap -t does), gives the analysis of the captures as
// they were: the same hops, placements and headline, that capture's
// clock offset moved by the shift, and its lost packets' frames at its
// own times. Before session 41 a clock 3 s off placed half the packets
// as lost between that capture and the next (PlaceHold waits 2 s for a
// copy), and changed verdicts; and captures shorter than the offset,
// which then no longer overlap in time, were read as one capture split
// by rotation (ping-close: "8 of 8 connections dead").
func TestClockShiftSameAnalysis(t *testing.T) {
	if testing.Short() {
		t.Skip("analyses every multi-point lab scenario three times")
	}
	n := 0
	for _, sc := range multiPointScenarios(t) {
		dir, paths, base := sc.dir, sc.paths, sc.base
		if len(base.Summary.Hops) == 0 {
			continue
		}
		n++
		for _, tc := range []struct {
			which int // the input shifted: the first, or the second
			shift time.Duration
		}{{0, 3 * time.Second}, {1, -7500 * time.Millisecond}} {
			name := filepath.Base(dir) + "/" + filepath.Base(paths[tc.which]) + " " + tc.shift.String()
			c := readPcap(t, paths[tc.which])
			for i := range c.ci {
				c.ci[i].Timestamp = c.ci[i].Timestamp.Add(tc.shift)
			}
			shifted := filepath.Join(t.TempDir(), filepath.Base(paths[tc.which]))
			c.write(t, shifted, 0, len(c.data), c.snaplen)
			args := slices.Clone(paths)
			args[tc.which] = shifted
			got := analyzeJSON(t, nil, append(args, sc.keys...)...)
			sameClockShifted(t, name, base, got, shifted, tc.shift)
		}
	}
	t.Logf("%d multi-point lab scenarios", n)
	if n < 8 {
		t.Errorf("only %d multi-point lab scenarios", n)
	}
}

// clockTimes are the times of day in a headline: the reference point's
// clock, moved when its capture is the one shifted.
var clockTimes = regexp.MustCompile(`\d\d:\d\d:\d\d(\.\d+)?`)

// sameClockShifted compares the analysis got, of the inputs with the one
// of path shifted, to base's.
func sameClockShifted(t *testing.T, name string, base, got *model.Report, path string, shift time.Duration) {
	t.Helper()
	var inputs []int // path's: one per interface of a file split so
	for i, in := range got.Inputs {
		if in.Path == path {
			inputs = append(inputs, i)
		}
	}
	same := func(what string, a, b any) {
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			t.Errorf("%s: %s shifted %s, as it was %s", name, what, jb, ja)
		}
	}
	same("hops", base.Summary.Hops, got.Summary.Hops)
	same("headline", clockTimes.ReplaceAllString(base.Summary.Headline, "T"), clockTimes.ReplaceAllString(got.Summary.Headline, "T"))
	if len(base.Connections) != len(got.Connections) {
		t.Errorf("%s: %d connections shifted, %d as it was", name, len(got.Connections), len(base.Connections))
		return
	}
	// The frames of the shifted input are at its own (shifted) times.
	unshift := func(ps []model.Placement) []model.Placement {
		out := slices.Clone(ps)
		for i := range out {
			out[i].Frames = slices.Clone(out[i].Frames)
			for k := range out[i].Frames {
				if m := &out[i].Frames[k]; slices.Contains(inputs, m.Input) {
					m.Time = m.Time.Add(-shift)
				}
			}
		}
		return out
	}
	for i, b := range base.Connections {
		g := got.Connections[i]
		same("stream "+g.Client, []any{b.Stream, b.Verdict.Kind, b.Verdict.LossDirection, b.Points}, []any{g.Stream, g.Verdict.Kind, g.Verdict.LossDirection, g.Points})
		same("placement of "+g.Client, b.Placement, unshift(g.Placement))
	}
	// The shifted input's point's clock offset moved by the shift
	// (against the reference point's, unless that is the one shifted).
	var pt, ref int = -1, -1
	for i, p := range got.Points {
		if slices.ContainsFunc(p.Inputs, func(in int) bool { return slices.Contains(inputs, in) }) {
			pt = i
		}
		if p.Reference {
			ref = i
		}
	}
	if pt < 0 || ref < 0 || got.Points[pt].ClockOffsetMs == nil || base.Points[pt].ClockOffsetMs == nil {
		t.Errorf("%s: no clock offset for the shifted input's point", name)
		return
	}
	want := *base.Points[pt].ClockOffsetMs + float64(shift)/float64(time.Millisecond)
	if pt == ref {
		want = *base.Points[pt].ClockOffsetMs
	}
	if d := *got.Points[pt].ClockOffsetMs - want; math.Abs(d) > 2 {
		t.Errorf("%s: %s's clock offset %.3f ms, want %.3f", name, got.Points[pt].Name, *got.Points[pt].ClockOffsetMs, want)
	}
	for _, in := range got.Inputs {
		for _, w := range in.Warnings {
			if strings.Contains(w, "clock") && strings.Contains(w, "could not") {
				t.Errorf("%s: warned %q", name, w)
			}
		}
	}
}

// TestClockWarnings: a point whose clock the Placer found a second or
// more off the reference's, past what clockShifts took off before the
// reading, has its first input say so: with the editcap that moves it
// where the first packets told nothing, as a clock stepped while
// capturing where they told another offset; and so do captures whose
// offset moved within their first packets.
func TestClockWarnings(t *testing.T) {
	ms := func(v float64) *float64 { return &v }
	tests := []struct {
		name    string
		offsets []*float64 // per point (one per group), ms
		shifts  []time.Duration
		known   []bool
		steps   []hops.Step
		ref     int
		want    []string // per group: a part of its warning, "" none
	}{
		{"clocks agree", []*float64{ms(0), ms(12)}, []time.Duration{0, 0}, []bool{true, true}, nil, 0, []string{"", ""}},
		{"3 s off, not found first", []*float64{ms(0), ms(3000)}, []time.Duration{0, 0}, []bool{true, false}, nil, 0, []string{"", "b's clock is 3s off a's (estimated from the packets both saw), which was not taken off"}},
		{"3 s off, taken off", []*float64{ms(0), ms(3004)}, []time.Duration{0, 3 * time.Second}, []bool{true, true}, nil, 0, []string{"", ""}},
		{"the reference shifted", []*float64{ms(-2500), ms(0)}, []time.Duration{-2500 * time.Millisecond, 0}, []bool{true, true}, nil, 1, []string{"", ""}},
		{"-1.5 s off, the reference the second", []*float64{ms(-1500), ms(0)}, []time.Duration{0, 0}, []bool{false, true}, nil, 1, []string{"a's clock is -1.5s off b's", ""}},
		{"stepped after the first packets", []*float64{ms(0), ms(3000)}, []time.Duration{0, 0}, []bool{true, true}, nil, 0, []string{"", "b's clock is 3s off a's over all the packets both saw, but was 0s off in their first ones"}},
		{"stepped within the first packets", []*float64{ms(0), ms(1500)}, []time.Duration{0, 0}, []bool{true, false}, []hops.Step{{A: 0, B: 1, Moved: 3 * time.Second}}, 0, []string{"", "the offset between a's and b's clocks moved by 3s"}},
		{"unknown", []*float64{ms(0), nil}, []time.Duration{0, 0}, []bool{true, false}, nil, 0, []string{"", ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			specs := []pointSpec{{name: "a"}, {name: "b"}}
			var groups []*groupReader
			var points []*point
			var infos []*decode.InputInfo
			for i := range specs {
				groups = append(groups, &groupReader{points: []int{i}, shift: tc.shifts[i]})
				points = append(points, &point{name: specs[i].name, inputs: []int{i}})
				infos = append(infos, &decode.InputInfo{})
			}
			clockWarnings(specs, groups, points, infos, tc.offsets, tc.ref, clockPlan{shifts: tc.shifts, known: tc.known, steps: tc.steps})
			for i, want := range tc.want {
				got := strings.Join(infos[i].Warnings, "; ")
				if want == "" && got != "" || want != "" && !strings.Contains(got, want) {
					t.Errorf("group %d: warnings %q, want %q", i, got, want)
				}
			}
		})
	}
}

// TestClockLateBusyCapture: two points of a busy link (1,000 connections
// a second), the second capture begun 6 s after the first and its clock
// 3 s ahead. Their first packets are of other seconds and share none:
// clockShifts keys them again from the moment both were running, finds
// the 3 s, and the connections of the first 6 s, which the second never
// saw, are lost nowhere.
func TestClockLateBusyCapture(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 12,000 connections at two points")
	}
	a, late := lateSecondPoint(t, "a.pcap", "b.pcap", 12000, 6*time.Second, 3*time.Second)
	r := analyzeJSON(t, nil, "--point", "a="+a, "--point", "b="+late)
	if len(r.Points) != 2 || r.Points[1].ClockOffsetMs == nil || math.Abs(*r.Points[1].ClockOffsetMs-3000) > 1 {
		t.Fatalf("points %+v: want b's clock 3,000 ms ahead", r.Points)
	}
	for _, h := range r.Summary.Hops {
		if h.PacketsLost > 0 {
			t.Errorf("hop %+v: lost packets, none was", h)
		}
	}
	if !strings.Contains(r.Summary.Headline, "No packet lost") {
		t.Errorf("headline %q", r.Summary.Headline)
	}
}

// lateSecondPoint writes, in a temporary directory, n short connections
// (1,000 a second) as two capture points saw them (synth.SecondPoint:
// the second 2 us further along), the second point's capture begun late
// after the first's and its clock shift ahead: their paths, named
// first and second.
func lateSecondPoint(t *testing.T, first, second string, n int, late, shift time.Duration) (a, b string) {
	t.Helper()
	dir := t.TempDir()
	a, b = filepath.Join(dir, first), filepath.Join(dir, second)
	var buf bytes.Buffer
	if err := synth.Write(&buf, "short", synth.Config{N: n, Open: 64, Rate: 1000}, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(a, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var whole bytes.Buffer
	if err := synth.SecondPoint(bytes.NewReader(buf.Bytes()), &whole, 2*time.Microsecond, 0); err != nil {
		t.Fatal(err)
	}
	wholePath := filepath.Join(dir, "whole-"+second)
	if err := os.WriteFile(wholePath, whole.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	c := readPcap(t, wholePath)
	start := c.ci[0].Timestamp.Add(late)
	from := 0
	for from < len(c.ci) && c.ci[from].Timestamp.Before(start) {
		from++
	}
	for i := range c.ci {
		c.ci[i].Timestamp = c.ci[i].Timestamp.Add(shift)
	}
	c.write(t, b, from, len(c.data), c.snaplen)
	return a, b
}
