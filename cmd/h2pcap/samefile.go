package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// sameHead is how much of two files of one size sameCaptures compares: a
// capture file's header and its first packets, with their times to the
// microsecond or nanosecond, which no two captures share.
const sameHead = 64 << 10

// sameCaptures returns, per path, the index of an earlier path holding
// the same capture, else -1: the file named twice (a shell glob that
// matched it twice, a link to it) or a copy of it (the same size, the
// same first sameHead bytes). Read twice, every packet of it is counted
// twice; as two capture points, it is compared with itself and says
// nothing was lost between them. Standard input, and a file that cannot
// be read, are never the same as another (opening it reports the error).
func sameCaptures(paths []string) []int {
	out := make([]int, len(paths))
	infos := make([]os.FileInfo, len(paths))
	heads := make([][]byte, len(paths))
	head := func(i int) []byte {
		if heads[i] == nil {
			heads[i] = readHead(paths[i])
		}
		return heads[i]
	}
	for i, p := range paths {
		out[i] = -1
		if p == "-" {
			continue
		}
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		infos[i] = fi
		for j := range i {
			if infos[j] == nil || out[j] >= 0 {
				continue
			}
			if os.SameFile(fi, infos[j]) || fi.Size() == infos[j].Size() && fi.Size() > 0 && head(i) != nil && bytes.Equal(head(i), head(j)) {
				out[i] = j
				break
			}
		}
	}
	return out
}

// readHead is path's first sameHead bytes (fewer in a smaller file), nil
// if it cannot be read.
func readHead(path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	b := make([]byte, sameHead)
	n, err := io.ReadFull(f, b)
	if err != nil && err != io.ErrUnexpectedEOF {
		return nil
	}
	return b[:n]
}

// onceEach drops from paths every file sameCaptures finds a capture
// given before, warning on stderr for each.
func onceEach(paths []string, warn func(format string, args ...any)) []string {
	dup := sameCaptures(paths)
	out := paths[:0:0]
	for i, p := range paths {
		if j := dup[i]; j >= 0 {
			warn("%s is the capture of %s again (the same file, or a copy): read once", p, paths[j])
			continue
		}
		out = append(out, p)
	}
	return out
}

// samePointCaptures checks that no capture is given to two points (an
// error: compared with itself, it would show nothing lost between them)
// and drops, with a warning, a file given twice to one point.
func samePointCaptures(points pointList, warn func(format string, args ...any)) (pointList, error) {
	var all []string
	var of []int // the point of each of all
	for i, sp := range points {
		for _, p := range sp.paths {
			all, of = append(all, p), append(of, i)
		}
	}
	dup := sameCaptures(all)
	out := make(pointList, len(points))
	for i, sp := range points {
		out[i] = sp
		out[i].paths = nil
	}
	for k, p := range all {
		j := dup[k]
		switch {
		case j < 0:
			out[of[k]].paths = append(out[of[k]].paths, p)
		case of[j] != of[k]:
			return nil, usageError("analyze: --point %s=%s and --point %s=%s are the same capture (the same file, or a copy): a capture compared with itself shows nothing lost between the two", points[of[j]].name, all[j], points[of[k]].name, p)
		default:
			warn("%s is the capture of %s again (the same file, or a copy): read once for point %s", p, all[j], points[of[k]].name)
		}
	}
	return out, nil
}

// warnf writes a warning line to w as h2pcap's others are.
func warnf(w io.Writer) func(format string, args ...any) {
	return func(format string, args ...any) {
		fmt.Fprintf(w, "h2pcap: warning: "+format+"\n", args...)
	}
}
