package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/h2pcap/h2pcap/decode"
)

// timeOrder returns the inputs in the order to read them: the files by
// the time of their first packet. tcpdump -C names its files cap, cap1,
// ..., cap10, which a shell's glob gives as cap, cap1, cap10, cap2; read
// in that order, connections would be cut and their segments taken for
// retransmissions. An input that cannot be read twice (standard input, a
// FIFO) or whose first packets carry no time stays where it was given.
// Finding a file's first packet opens it an extra time; one that cannot
// be opened is an input error now rather than after the others were read.
func timeOrder(stop context.Context, paths []string, open opener) ([]string, error) {
	order, _, err := timeOrderFirsts(stop, paths, open)
	return order, err
}

// timeOrderFirsts is timeOrder, with the time of each input's first
// packet in the order returned (zero where timeOrder keeps it in place;
// nil for a single input).
func timeOrderFirsts(stop context.Context, paths []string, open opener) ([]string, []time.Time, error) {
	if len(paths) < 2 {
		return paths, nil, nil
	}
	firsts := make([]time.Time, len(paths))
	for i, path := range paths {
		if !rereadable([]string{path}) {
			continue
		}
		t, err := firstPacketTime(stop, path, i, open)
		if err != nil {
			return nil, nil, err
		}
		firsts[i] = t
	}
	order := orderByTime(paths, firsts)
	byOrder := make([]time.Time, len(order))
	for i, path := range order {
		byOrder[i] = firsts[slices.Index(paths, path)]
	}
	return order, byOrder, nil
}

// overlapWatch is, for each input of order (timeOrderFirsts), the time
// past which a packet of it proves that it overlaps an input read after
// it (overlap): the earliest first packet of those, or zero for none.
// Once an input's earliest packet came before that time and another
// after it, the two overlap, whatever the rest of either holds: the
// later input's range holds its first packet, which lies between.
func overlapWatch(firsts []time.Time) []time.Time {
	if len(firsts) < 2 {
		return nil
	}
	until := make([]time.Time, len(firsts))
	var next time.Time
	for i := len(firsts) - 1; i >= 0; i-- {
		until[i] = next
		if t := firsts[i]; !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	return until
}

// orderByTime orders the paths with a first time by it, keeping those
// with none (zero) in their place and the order of equal times.
func orderByTime(paths []string, firsts []time.Time) []string {
	var slots []int
	for i, t := range firsts {
		if !t.IsZero() {
			slots = append(slots, i)
		}
	}
	sorted := slices.Clone(slots)
	slices.SortStableFunc(sorted, func(a, b int) int { return firsts[a].Compare(firsts[b]) })
	out := slices.Clone(paths)
	for k, slot := range slots {
		out[slot] = paths[sorted[k]]
	}
	return out
}

// firstPacketTime returns the time of the first packet of the capture at
// path that has one (a pcapng Simple Packet Block has none), or zero if
// its first packets have none, it has none, or they cannot be read: its
// reading will say why.
func firstPacketTime(stop context.Context, path string, input int, open opener) (time.Time, error) {
	src, err := open(path, input)
	if err != nil {
		if isStop(stop, err) {
			return time.Time{}, nil // the reading will stop at once
		}
		return time.Time{}, &exitError{code: exitUsage, err: err}
	}
	defer src.Close()
	for range 64 {
		p, err := src.Next()
		if err != nil {
			return time.Time{}, nil
		}
		if !p.Time.IsZero() {
			return p.Time, nil
		}
	}
	return time.Time{}, nil
}

// rereadable reports whether every path is a regular file, which can be
// read twice: unlike standard input or a FIFO.
func rereadable(paths []string) bool {
	for _, path := range paths {
		if path == "-" {
			return false
		}
		if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
			return false
		}
	}
	return true
}

// overlap reports whether the time ranges of two inputs overlap.
func overlap(infos []*decode.InputInfo) bool {
	for j := range infos {
		if overlapped(infos, j) >= 0 {
			return true
		}
	}
	return false
}

// overlapped returns the first input read before input j whose time
// range overlaps j's, or -1. Ranges that only touch do not overlap: the
// next file of a rotation may start in the microsecond the last one ended.
func overlapped(infos []*decode.InputInfo, j int) int {
	b := infos[j]
	if b.First.IsZero() {
		return -1
	}
	for i, a := range infos[:j] {
		if !a.First.IsZero() && a.First.Before(b.Last) && b.First.Before(a.Last) {
			return i
		}
	}
	return -1
}

// warnOverlaps warns on each input whose time range overlaps that of an
// input read before it: not a part of the same capture split by rotation,
// but a capture of the same moments at another point, which the analysis
// takes as more of one capture.
func warnOverlaps(infos []*decode.InputInfo) {
	for j, in := range infos {
		i := overlapped(infos, j)
		if i < 0 {
			continue
		}
		in.Warnings = append(in.Warnings, fmt.Sprintf(
			"overlaps input %d (%s) in time: a capture of the same moments, not the next part of one capture, yet read after it as one; a connection in both has its packets twice (taken for retransmissions): analyse each capture on its own",
			i, infos[i].Path))
	}
}
