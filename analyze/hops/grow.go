package hops

import (
	"time"
)

// AddPoint adds a capture point named name, after those the Placer was
// made with, and returns its index. A live capture on every interface of
// a node (h2pcap live -i any) learns its points as they carry traffic:
// a pod started after the capture brings a veth, and a point made for
// each interface that exists would cost each connection's comparison a
// row and a column for every idle one. The flows already open or done
// gain an empty place for it; only flows it sees from now on are
// compared there.
func (p *Placer) AddPoint(name string) int {
	p.names = append(p.names, name)
	p.byStream = append(p.byStream, streamFlows{})
	p.first = append(p.first, time.Time{})
	p.last = append(p.last, time.Time{})
	p.ended = append(p.ended, false)
	p.votes = append(p.votes, 0)
	p.guesses = append(p.guesses, 0)
	p.gaps = append(p.gaps, nil)
	if p.shiftNS != nil {
		p.shiftNS = append(p.shiftNS, 0)
	}
	np := len(p.names)
	for d, old := range p.samples {
		// By pair of points, a*np+b: laid out again for the new np.
		laid := make([][]int64, np*np)
		for a := range np - 1 {
			copy(laid[a*np:a*np+np-1], old[a*(np-1):(a+1)*(np-1)])
		}
		p.samples[d] = laid
	}
	p.clean.np = np // records unpack to every point, those packed before included
	for _, f := range p.open {
		f.grow(np)
	}
	for _, f := range p.done {
		// Their results are complete: Finish only reads which points
		// saw them.
		f.at = grown(f.at, np)
	}
	return np - 1
}

// grow makes room in f for np points.
func (f *flow) grow(np int) {
	f.at = grown(f.at, np)
	for d := range f.res {
		f.res[d].grow(np)
	}
}

// grow makes room in r, once compared at all, for np points.
func (r *dirResult) grow(np int) {
	if r.packets == nil {
		return // init makes it at the right size
	}
	r.packets = grown(r.packets, np)
	r.delta = grownSquare(r.delta, np)
	r.hasDelta = grownSquare(r.hasDelta, np)
	if l := r.lossResult; l != nil {
		l.missing = grownSquare(l.missing, np)
		l.missBytes = grownSquare(l.missBytes, np)
		l.capMissed = grownSquare(l.capMissed, np)
		l.stopped = grownSquare(l.stopped, np)
		l.quotedAt = grown(l.quotedAt, np)
		l.first = grown(l.first, np)
		l.frames = grownSquare(l.frames, np)
	}
}

// grown returns s with zero values appended up to length n.
func grown[T any](s []T, n int) []T {
	if len(s) >= n {
		return s
	}
	return append(s, make([]T, n-len(s))...)
}

// grownSquare returns the n x n matrix holding m in its top left corner.
func grownSquare[T any](m [][]T, n int) [][]T {
	if len(m) >= n {
		return m
	}
	out := square[T](n)
	for i, row := range m {
		copy(out[i], row)
	}
	return out
}
