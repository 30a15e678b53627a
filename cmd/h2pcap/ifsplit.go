package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/h2pcap/h2pcap/analyze"
	"github.com/h2pcap/h2pcap/decode"
)

// splitMinCopies is how many TCP segments of a file must repeat one
// captured just before on another interface (same IP ID, sequence and
// acknowledgement numbers, length, within 5 ms: see decode's dupWindow;
// addresses and ports may differ, rewritten by a NAT in the box)
// for the file to be read as a capture point per interface without being
// asked. Only forwarding makes such a copy (a router's or a node's
// tcpdump -i any, a bridge and its port), so a couple settle it; one
// alone might be a fluke of a crafted or merged capture.
const splitMinCopies = 2

// splitMode is the --split-interfaces flag: unset (auto) splits a file
// that shows copies across its interfaces; true splits every file whose
// packets name their interface; false never splits (one point, its
// copies dropped).
type splitMode struct {
	set, on bool
}

func (m *splitMode) String() string {
	switch {
	case !m.set:
		return "auto"
	case m.on:
		return "true"
	}
	return "false"
}

func (m *splitMode) Set(v string) error {
	if v == "auto" {
		*m = splitMode{}
		return nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("want true, false or auto")
	}
	*m = splitMode{set: true, on: b}
	return nil
}

func (m *splitMode) IsBoolFlag() bool { return true }

// splitter decides which inputs are a capture point per interface, from
// one read of each file whose packets name their interface (SLL2 of
// tcpdump -i any, pcapng of several interfaces); other files cost one
// packet. It remembers what it read, so a file is surveyed once.
type splitter struct {
	mode    splitMode
	stop    context.Context
	open    opener
	surveys map[string]*decode.InterfaceSurvey
}

func newSplitter(mode splitMode, stop context.Context, open opener) *splitter {
	return &splitter{mode: mode, stop: stop, open: open, surveys: map[string]*decode.InterfaceSurvey{}}
}

// survey reads path's interfaces; nil when it cannot be split (its
// packets name no interface, or it is not a regular file).
func (sp *splitter) survey(path string) (*decode.InterfaceSurvey, error) {
	if sv, ok := sp.surveys[path]; ok {
		return sv, nil
	}
	var sv *decode.InterfaceSurvey
	if rereadable([]string{path}) {
		src, err := sp.open(path, 0)
		if err != nil {
			if isStop(sp.stop, err) {
				return nil, nil
			}
			return nil, &exitError{code: exitUsage, err: err}
		}
		sv, err = decode.SurveyInterfaces(src)
		src.Close()
		if err != nil {
			// Damage: the reading proper says where; read unsplit.
			sv = nil
		}
	}
	sp.surveys[path] = sv
	return sv, nil
}

// along says whether path, not surveyed yet, is surveyed as it is read
// as one capture (surveyAlong) rather than first: by default (auto), a
// file that can be read again.
func (sp *splitter) along(path string) bool {
	if sp == nil || sp.mode.set || !rereadable([]string{path}) {
		return false
	}
	_, done := sp.surveys[path]
	return !done
}

// surveyAlong is the interface survey of a file taken as it is read as
// one capture (decode.Surveyor), by the analysis's own decoder.
type surveyAlong struct {
	survey    *decode.InterfaceSurvey // once read to its end: what splitter.survey would have found
	forwarded bool                    // the reading stopped at forwarded copies
}

// read is a.ReadSource(in), in reading src, surveying src's interfaces
// on the way; it stops where they show forwarded copies (forwarded).
func (al *surveyAlong) read(a *analyze.Analyzer, in decode.Source, src decode.Source) (*decode.InputInfo, error) {
	sv := decode.NewSurveyor(src)
	var dec *decode.InputDecoder
	info, err := a.ReadSourceFunc(in, func(r *analyze.InputReader, p *decode.Packet, seg *decode.Segment) bool {
		dec = r.Decoder()
		sv.Add(p, seg, dec)
		al.forwarded = sv.Forwarded(dec, splitMinCopies)
		return al.forwarded
	})
	if err == nil && !al.forwarded && dec != nil {
		al.survey = sv.Survey(dec)
	}
	return info, err
}

// forwarded reports whether any of paths shows forwarded copies (and
// would be split by plan unless the user said not to).
func (sp *splitter) forwarded(paths []string) (bool, error) {
	if sp == nil || sp.mode.set && !sp.mode.on {
		return false, nil
	}
	for _, path := range paths {
		sv, err := sp.survey(path)
		if err != nil {
			return false, err
		}
		if sv != nil && len(sv.Interfaces) > 1 && (sp.mode.on || sv.Copies+sv.Rewritten >= splitMinCopies) {
			return true, nil
		}
	}
	return false, nil
}

// plan returns specs with those to read as a point per interface split:
// with --split-interfaces every one whose files name two interfaces or
// more that carry TCP; by default those whose files show forwarded
// copies. The interfaces of a spec's files (rotated parts of one
// capture) are merged by label.
func (sp *splitter) plan(specs []pointSpec) ([]pointSpec, error) {
	if sp == nil || sp.mode.set && !sp.mode.on {
		return specs, nil
	}
	out := make([]pointSpec, len(specs))
	for i, spec := range specs {
		out[i] = spec
		var labels []string
		copies, surveyed := 0, true
		for _, path := range spec.paths {
			sv, err := sp.survey(path)
			if err != nil {
				return nil, err
			}
			if sv == nil {
				surveyed = false
				break
			}
			copies += sv.Copies + sv.Rewritten
			for _, f := range sv.Interfaces {
				if l := f.Label(); !containsLabel(labels, l) {
					labels = append(labels, l)
				}
			}
		}
		if !surveyed || len(labels) < 2 || !sp.mode.on && copies < splitMinCopies {
			continue
		}
		out[i].ifaces, out[i].copies = labels, copies
	}
	return out, nil
}

func containsLabel(labels []string, l string) bool {
	for _, x := range labels {
		if x == l {
			return true
		}
	}
	return false
}

// splitNotice says, on a split file's first input, that it was read as
// a point per interface and why.
func splitNotice(spec pointSpec, names []string) string {
	files := strings.Join(spec.paths, ", ")
	if spec.copies == 0 {
		return fmt.Sprintf("read as %d capture points, one per interface (--split-interfaces): %s", len(names), strings.Join(names, ", "))
	}
	holds := "holds packets forwarded between its interfaces"
	if len(spec.paths) > 1 {
		holds = "hold packets forwarded between their interfaces" // the rotated parts of one capture
	}
	return fmt.Sprintf("%s %s (%d TCP segments captured again on another interface, with the same IP ID and sequence numbers, their addresses rewritten or not): "+
		"read as %d capture points, one per interface, each with counters of its own, so that nothing is counted twice and a packet seen on one interface and never on the other is placed as lost inside the box: %s "+
		"(--split-interfaces=false reads it as one point, dropping the copies)",
		files, holds, spec.copies, len(names), strings.Join(names, ", "))
}

// forwardedSpecs makes the capture points of positional inputs of which
// some hold forwarded copies (sp.forwarded): one file is one capture,
// split by interface; several are each a point of its own (the client's,
// the router's -i any, the server's), except files that all hold
// forwarded copies and follow each other in time: the rotated parts of
// one box's capture. Each file is surveyed (sp.forwarded stops at the
// first that shows copies: the rotated parts of a router's -i any were
// each read as points of their own, and a loss inside the box was
// compared away across the parts).
//
// Otherwise files named as one capture's rotated parts are one point
// unless alone (pointsOf).
func forwardedSpecs(paths []string, sp *splitter, alone bool) ([]pointSpec, error) {
	specs := pointsOf(paths, alone, nil)
	if len(paths) == 1 {
		return specs, nil
	}
	var infos []*decode.InputInfo
	for _, path := range paths {
		sv, err := sp.survey(path)
		if err != nil {
			return nil, err
		}
		if sv == nil || sv.Copies+sv.Rewritten < splitMinCopies {
			return specs, nil
		}
		infos = append(infos, &decode.InputInfo{Path: path, First: sv.First, Last: sv.Last})
	}
	slices.SortStableFunc(infos, func(a, b *decode.InputInfo) int { return a.First.Compare(b.First) })
	if !followEachOther(infos) {
		return specs, nil
	}
	rotated := make([]string, len(infos))
	for i, in := range infos {
		rotated[i] = in.Path
	}
	return []pointSpec{{name: pointsOf(rotated, true, nil)[0].name, paths: rotated}}, nil
}

// rotationSlack is how much of the shorter of two consecutive files'
// time a box's rotated parts may share and still follow each other. A
// capture of several interfaces is written a little out of time order
// (dumpcap writes each interface's packets as its buffer fills: the lab
// router's pcapng runs up to 200 ms back), so its parts overlap by that
// much; two boxes' captures of the same moments overlap nearly whole.
const rotationSlack = 0.1

// followEachOther says whether infos, in the order of their first
// packets, are the rotated parts of one capture: each overlaps the next
// by at most rotationSlack of the shorter one's time.
func followEachOther(infos []*decode.InputInfo) bool {
	for i := 1; i < len(infos); i++ {
		a, b := infos[i-1], infos[i]
		shared := a.Last.Sub(b.First)
		if shared <= 0 {
			continue
		}
		span := min(a.Last.Sub(a.First), b.Last.Sub(b.First))
		if float64(shared) > rotationSlack*float64(span) || b.Last.Before(a.Last) {
			return false
		}
	}
	return true
}
