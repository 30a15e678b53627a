package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/h2pcap/h2pcap/analyze"
	"github.com/h2pcap/h2pcap/analyze/hops"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
)

// pointSpec is one capture point: its name and its files (one capture,
// possibly split by rotation).
type pointSpec struct {
	name  string
	paths []string
}

// pointList is the --point flag: NAME=FILE, repeatable; the same NAME
// again adds a file of that point's capture (rotated files).
type pointList []pointSpec

func (p *pointList) String() string {
	var parts []string
	for _, s := range *p {
		for _, f := range s.paths {
			parts = append(parts, s.name+"="+f)
		}
	}
	return strings.Join(parts, ",")
}

func (p *pointList) Set(v string) error {
	name, path, ok := strings.Cut(v, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" || path == "" {
		return fmt.Errorf("want NAME=FILE, as in client=client.pcap")
	}
	if path == "-" {
		return fmt.Errorf("a capture point is read alongside the others: a file, not standard input")
	}
	for i := range *p {
		if (*p)[i].name == name {
			(*p)[i].paths = append((*p)[i].paths, path)
			return nil
		}
	}
	*p = append(*p, pointSpec{name: name, paths: []string{path}})
	return nil
}

// pointsOf makes each input its own capture point, named by its file's
// base name without extension (client.pcap: client), made unique.
func pointsOf(paths []string) []pointSpec {
	seen := map[string]int{}
	out := make([]pointSpec, len(paths))
	for i, path := range paths {
		base := filepath.Base(path)
		for _, ext := range []string{".gz", ".pcapng", ".pcap", ".cap"} {
			base = strings.TrimSuffix(base, ext)
		}
		name := base
		if seen[base]++; seen[base] > 1 {
			name = fmt.Sprintf("%s#%d", base, seen[base])
		}
		out[i] = pointSpec{name: name, paths: []string{path}}
	}
	return out
}

// pointReader is one point's reading: its Analyzer, the input being read
// and the packet read from it, waiting for its turn.
type pointReader struct {
	a       *analyze.Analyzer
	paths   []string // in time order
	next    int      // the next of paths to open
	inputs  []int    // global input numbers, by paths
	src     decode.Source
	r       *analyze.InputReader
	pending *decode.Packet
	infos   []*decode.InputInfo
	done    bool
}

// analyzePoints analyses each capture point on its own Analyzer (each
// keeps Wireshark-exact counters of its own files) while a hops.Placer
// compares the points, reading all points at once in time order so that
// the comparison's memory follows the open connections. Input numbers are
// global: point 0's files first. It returns the multi-point Report and
// whether any connection was seen at two points at all.
func analyzePoints(stop context.Context, points []pointSpec, opts analyze.Options, open opener, prog *progress) (*model.Report, bool, error) {
	// A point's report must hold all its connections: rows are matched
	// across points at the end.
	opts.ForgetHealthy, opts.ForgetAbove, opts.SpillRows = 0, 0, false
	opts.ReportOnce = false
	names := make([]string, len(points))
	readers := make([]*pointReader, len(points))
	var allPaths []string
	var pointInputs [][]int
	for i, sp := range points {
		names[i] = sp.name
		order, err := timeOrder(stop, sp.paths, open)
		if err != nil {
			return nil, false, err
		}
		pr := &pointReader{a: analyze.New(opts), paths: order}
		for range order {
			pr.inputs = append(pr.inputs, len(allPaths))
			allPaths = append(allPaths, order[len(pr.inputs)-1])
		}
		pointInputs = append(pointInputs, pr.inputs)
		readers[i] = pr
	}
	prog.reading(readers[0].a)
	pl := hops.New(names)
	for i, pr := range readers {
		if err := pr.advance(stop, open, prog); err != nil {
			return nil, false, err
		}
		if pr.done {
			pl.EndPoint(i)
		}
	}
	for {
		pt := -1
		for i, pr := range readers {
			if pr.done {
				continue
			}
			if pt < 0 || pr.pending.Time.Before(readers[pt].pending.Time) {
				pt = i
			}
		}
		if pt < 0 {
			break
		}
		pr := readers[pt]
		if s := pr.r.Take(pr.pending); s != nil {
			pl.Segment(pt, pr.a.LastStream(), s)
		}
		pr.pending = nil
		if err := pr.advance(stop, open, prog); err != nil {
			return nil, false, err
		}
		if pr.done {
			pl.EndPoint(pt)
		}
	}
	if stop.Err() != nil {
		// Each point's reading stopped in the input it was reading: it
		// says so, with that point's inputs not read.
		for _, pr := range readers {
			cut, n := -1, 0
			for k, in := range pr.infos {
				if in.Format != "" {
					cut, n = k, k+1
				}
			}
			if cut < 0 {
				if len(pr.infos) == 0 {
					continue
				}
				cut, n = 0, 1
			}
			var unread []string
			for _, in := range pr.infos[n:] {
				unread = append(unread, in.Path)
			}
			pr.infos[cut].Warnings = append(pr.infos[cut].Warnings, interruptWarning(context.Cause(stop), pr.infos[cut], unread))
		}
	}
	res := pl.Finish()
	infos := make([]*decode.InputInfo, len(allPaths))
	for _, pr := range readers {
		for k, in := range pr.inputs {
			infos[in] = pr.infos[k]
		}
	}
	reports := make([]*model.Report, len(readers))
	own := func(pr *pointReader) []*decode.InputInfo {
		// The point's own report sees its inputs at their global
		// numbers, and the other points' as empty: its capture end,
		// quality and warnings are its own.
		out := make([]*decode.InputInfo, len(infos))
		for k, in := range infos {
			out[k] = &decode.InputInfo{Path: in.Path, LinkTypes: []string{}}
		}
		for _, in := range pr.inputs {
			out[in] = infos[in]
		}
		return out
	}
	for i, pr := range readers {
		if i != res.Reference {
			reports[i] = pr.a.Report(own(pr))
		}
	}
	// The reference point's rows are the report's: judged, then placed
	// by what the others saw, then summarised.
	ref := readers[res.Reference]
	reports[res.Reference] = ref.a.ReportPlaced(own(ref), func(conns []*model.Connection) { res.Place(conns, reports) })
	shared := false
	for _, f := range res.Flows {
		n := 0
		for _, st := range f.Streams {
			if st >= 0 {
				n++
			}
		}
		shared = shared || n > 1
	}
	return res.Apply(reports, infos, pointInputs), shared, nil
}

// advance reads the point's next packet, opening its next input when one
// ends; done when the last ended.
func (pr *pointReader) advance(stop context.Context, open opener, prog *progress) error {
	for {
		if pr.r == nil {
			if pr.next == len(pr.paths) {
				pr.done = true
				return nil
			}
			path, input := pr.paths[pr.next], pr.inputs[pr.next]
			pr.next++
			src, err := open(path, input)
			if err != nil {
				if isStop(stop, err) {
					pr.infos = append(pr.infos, &decode.InputInfo{Path: path, LinkTypes: []string{}})
					continue
				}
				return &exitError{code: exitUsage, err: err}
			}
			pr.src = src
			pr.r = pr.a.NewInputReader(&inputSource{Source: src, stop: stop, prog: prog})
		}
		p, err := pr.r.Next()
		if err == nil {
			pr.pending = p
			return nil
		}
		if err != io.EOF {
			return &exitError{code: exitUsage, err: err}
		}
		info := pr.r.Info()
		if cerr := pr.src.Close(); cerr != nil {
			return &exitError{code: exitUsage, err: fmt.Errorf("close %s: %w", info.Path, cerr)}
		}
		pr.infos = append(pr.infos, info)
		pr.r, pr.src = nil, nil
	}
}
