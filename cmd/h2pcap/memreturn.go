package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Giving memory back to the system (h2pcap live).
//
// A reconnect storm grows the heap by its connections; once they close
// and the analysis forgets them (--forget) the heap is free again but the
// process keeps its pages: Go's background scavenger returns them slowly,
// and only once a GC has run, which a quiet capture may not need for
// hours. A DaemonSet pod is judged by its RSS, so live looks every
// memCheckEvery and, when the pages the heap holds beyond what it uses
// exceed memSlack, runs debug.FreeOSMemory (a GC, then every free page
// back), at most once per memFreeEvery: the GC it forces costs about as
// much CPU as one the allocator would have run.
const (
	// memCheckEvery: also how soon a storm gets liveGCPercent; reading
	// the memory statistics stops the world for microseconds.
	memCheckEvery = time.Second
	memFreeEvery  = 30 * time.Second
	// memSlack: below this much held and unused, returning it is not
	// worth a forced GC.
	memSlack = 32 << 20
)

// memReturner returns the heap's unused pages to the system while done
// is open.
type memReturner struct {
	done     <-chan struct{}
	lastFree time.Time
	// live is the heap in use after the last forced GC: what a sweep
	// leaves is measured against it.
	live uint64
	// GOGC as tune set it (0: not yet), and what it saw last.
	gogc       int
	tuned      time.Time
	allocs     uint64
	samples    []metrics.Sample
	envGOGC    bool // GOGC is set in the environment: tune leaves it
	envChecked bool
}

func (m *memReturner) run() {
	t := time.NewTicker(memCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-m.done:
			return
		case now := <-t.C:
			m.check(now)
		}
	}
}

// check frees the unused pages when there are enough of them: the heap
// the process holds (in use or idle, not yet returned) beyond what is in
// use, or beyond what was in use after the last forced GC when the heap
// grew since (the garbage of forgotten connections, which only a GC
// finds).
func (m *memReturner) check(now time.Time) {
	var ms runtime.MemStats
	m.tune(now)
	if now.Sub(m.lastFree) < memFreeEvery {
		return
	}
	runtime.ReadMemStats(&ms)
	held := ms.HeapInuse + ms.HeapIdle - ms.HeapReleased
	if held < ms.HeapAlloc+memSlack && held < m.live+memSlack*2 {
		return
	}
	debug.FreeOSMemory()
	m.lastFree = now
	runtime.ReadMemStats(&ms)
	m.live = ms.HeapAlloc
}

// reportSlack is how far the heap may grow past what it held when the
// capture ended while the final report is made: the garbage of the rows
// judged and spilled one by one (ForgetClosed), which a collection finds
// before the heap doubles as it would by GOGC.
const reportSlack = 48 << 20

// capHeapForReport bounds the heap while the connections closed within
// --forget are judged and spilled at exit, the capture over (no packet
// can be dropped for the collections it costs), to what it holds now
// plus reportSlack; a GOMEMLIMIT lower still stays. The returned func
// lifts the bound.
func capHeapForReport(slack int64) (restore func()) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	prev := debug.SetMemoryLimit(-1)
	debug.SetMemoryLimit(min(prev, int64(ms.HeapInuse+ms.StackInuse+ms.GCSys)+slack))
	return func() { debug.SetMemoryLimit(prev) }
}

// Live's GOGC follows its allocation rate: the heap may grow past what
// it uses by what it allocates in gcEvery, between minGCPercent and
// liveGCPercent of what it uses. The cost of the collector per second
// is about its rate of allocation over the headroom, so a bound in time
// between collections bounds their CPU whatever the heap (about 5% of a
// core); and a capture that allocates little (thousands of idle
// connections answering PINGs) keeps its memory near what it uses
// instead of half as much again.
const (
	gcEvery = 2 * time.Second
	// liveGCPercent: the most. In a reconnect storm (bench/live.sh:
	// 50,000 connections at 4,000 a second, --forget 3s) the peak RSS is
	// 399 MB at 50 against 513 MB at Go's default 100, for 6.3 s of CPU
	// against 5.3 s and no packet dropped; 25 gave 334 MB for 8.1 s.
	liveGCPercent = 50
	// minGCPercent: the least, whatever the rate; 10% of 200 MB is a
	// collection each 20 MB allocated.
	minGCPercent = 10
	// gcRetune: a change of GOGC smaller than this is not made.
	gcRetune = 5
)

// liveGCAbove: below this much heap in use live keeps Go's default GOGC.
// A collection while live starts costs RSS (about 7 MB of its first 28
// with the small first ring), and a heap this small costs nothing to let
// grow.
const liveGCAbove = 16 << 20

// tune sets GOGC from the allocation rate since the last call (see
// gcEvery), unless GOGC is set in the environment.
func (m *memReturner) tune(now time.Time) {
	if !m.envChecked {
		_, m.envGOGC = os.LookupEnv("GOGC")
		m.envChecked = true
		m.samples = []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/heap/live:bytes"}}
	}
	if m.envGOGC {
		return
	}
	metrics.Read(m.samples)
	allocs, live := m.samples[0].Value.Uint64(), m.samples[1].Value.Uint64()
	prev, since := m.allocs, now.Sub(m.tuned)
	m.allocs, m.tuned = allocs, now
	if prev == 0 || since <= 0 || live < liveGCAbove {
		return
	}
	pct := gcPercent(float64(allocs-prev)/since.Seconds(), live)
	if m.gogc == 0 || abs(pct-m.gogc) >= gcRetune || pct != m.gogc && (pct == minGCPercent || pct == liveGCPercent) {
		debug.SetGCPercent(pct)
		m.gogc = pct
	}
}

// gcPercent is the GOGC that lets a heap of live bytes in use grow by
// what rate bytes a second allocate in gcEvery, within minGCPercent and
// liveGCPercent.
func gcPercent(rate float64, live uint64) int {
	pct := 100 * rate * gcEvery.Seconds() / float64(max(live, 1))
	return int(min(max(pct, minGCPercent), liveGCPercent))
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// halfReportSlack is reportSlack for analyze's Report of a capture made
// of half-open connections (a SYN flood or scan): while their rows are
// judged and settled, the heap holds the connections not yet settled and
// the Report's lists of them (rows, facts, briefs: about 24 bytes a
// connection). The 4-tuple index the Report frees first used to leave
// that room (100 MB for 1M tuples); it is a third of that now
// (analyze/connindex.go). On bench's syn-1m, 48 MB had the collector run
// 45 times in the Report (2 s more CPU); 128 MB 15 times, as before;
// 160 MB took 0.8 CPU s less than 128 in JSON (10.4 -> 9.6 s) for a peak
// RSS of 459-463 MB (410-451 with 128), and 192 MB 0.3 s less again for
// 476-481 MB: too near issue 15's 500 MB.
const halfReportSlack = 160 << 20
