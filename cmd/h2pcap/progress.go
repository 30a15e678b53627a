package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/h2pcap/h2pcap/analyze"
)

const (
	// progressAfter is how long a reading runs before its progress shows:
	// a capture read in a second needs none, and a bar that flashes and
	// vanishes is noise.
	progressAfter = time.Second
	// progressEvery is how often the bar is redrawn.
	progressEvery = 200 * time.Millisecond
	// recordOverhead is what each packet costs in a capture file beyond
	// its bytes (a pcap record header), for the bytes-read estimate.
	recordOverhead = 16
)

// progress shows on a terminal's standard error how far the reading of
// the inputs has got (bytes of the files, packets, connections open,
// elapsed time and, when the files' size is known, the time left), from
// progressAfter on, and clears its line before the report is written.
// The reading goroutine only adds to counters; another draws.
type progress struct {
	out      io.Writer
	total    int64 // bytes of the inputs; -1 when unknown (standard input, gzip)
	bytes    atomic.Int64
	packets  atomic.Int64
	analyzer atomic.Pointer[analyze.Analyzer]

	stopOnce sync.Once
	done     chan struct{}
	drawn    chan struct{} // closed when the drawing goroutine has ended
	now      func() time.Time
}

// startProgress starts showing the progress of reading inputs of total
// bytes (-1: unknown) on out, a terminal, once after has passed. A nil
// *progress shows nothing: where standard error is no terminal.
func startProgress(out io.Writer, total int64, after time.Duration, now func() time.Time) *progress {
	p := &progress{out: out, total: total, done: make(chan struct{}), drawn: make(chan struct{}), now: now}
	go p.draw(after)
	return p
}

// inputsSize is the bytes the inputs hold, or -1 when that is not known
// beforehand: standard input, a FIFO, or a compressed file (whose
// packets' bytes are more than its size).
func inputsSize(paths []string) int64 {
	var total int64
	for _, path := range paths {
		fi, err := os.Stat(path)
		if path == "-" || err != nil || !fi.Mode().IsRegular() || strings.HasSuffix(path, ".gz") {
			return -1
		}
		total += fi.Size()
	}
	return total
}

// reading says which analyzer reads the inputs, for its count of open
// connections.
func (p *progress) reading(a *analyze.Analyzer) {
	if p != nil {
		p.analyzer.Store(a)
	}
}

// restart counts the reading from nothing again: the inputs are read
// anew (as capture points, after a reading as one capture found them to
// overlap).
func (p *progress) restart() {
	if p != nil {
		p.packets.Store(0)
		p.bytes.Store(0)
	}
}

// packet counts one packet read.
func (p *progress) packet(captureLen int) {
	if p != nil {
		p.packets.Add(1)
		p.bytes.Add(int64(captureLen + recordOverhead))
	}
}

// stop ends the progress and clears its line.
func (p *progress) stop() {
	if p == nil {
		return
	}
	p.stopOnce.Do(func() { close(p.done) })
	<-p.drawn
}

func (p *progress) draw(after time.Duration) {
	defer close(p.drawn)
	start := p.now()
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	var bar *progressbar.ProgressBar
	for {
		select {
		case <-p.done:
			if bar != nil {
				bar.Clear()
			}
			return
		case <-tick.C:
		}
		if bar == nil {
			if p.now().Sub(start) < after {
				continue
			}
			bar = progressbar.NewOptions64(p.total,
				progressbar.OptionSetWriter(p.out),
				progressbar.OptionShowBytes(true),
				progressbar.OptionSetWidth(20),
				progressbar.OptionSetPredictTime(p.total > 0),
				progressbar.OptionShowElapsedTimeOnFinish(),
				progressbar.OptionThrottle(progressEvery/2),
				progressbar.OptionSpinnerType(14),
				progressbar.OptionSetDescription("reading"),
			)
		}
		open := int64(0)
		if a := p.analyzer.Load(); a != nil {
			open = a.OpenConns()
		}
		read := p.bytes.Load()
		if p.total > 0 {
			read = min(read, p.total) // the estimate may pass the size
		}
		bar.Set64(read)
		bar.Describe(fmt.Sprintf("%d packets, %d connections open", p.packets.Load(), open))
	}
}
