package main

import (
	"os"
	"runtime"
	"runtime/debug"
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
	// gcSet: liveGCPercent was applied (setLiveGC).
	gcSet bool
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
	if !m.gcSet {
		runtime.ReadMemStats(&ms)
		m.setLiveGC(ms.HeapAlloc)
	}
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
func capHeapForReport() (restore func()) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	prev := debug.SetMemoryLimit(-1)
	debug.SetMemoryLimit(min(prev, int64(ms.HeapInuse+ms.StackInuse+ms.GCSys)+reportSlack))
	return func() { debug.SetMemoryLimit(prev) }
}

// liveGCPercent is live's GOGC once its heap passes liveGCAbove, unless
// the environment sets one: the heap may grow half past what it uses
// between collections, not double. In a reconnect storm (bench/live.sh:
// 50,000 connections at 4,000 a second, --forget 3s) the peak RSS is
// 399 MB with it against 513 MB at Go's default 100, for 6.3 s of CPU
// against 5.3 s and no packet dropped; 25 gave 334 MB for 8.1 s.
const liveGCPercent = 50

// liveGCAbove: below this much heap in use live keeps Go's default GOGC.
// At 50 a collection runs while live starts (at 2 MB of heap), and its
// first collection costs about 7 MB of RSS (28 MB before the first
// packet with --small-ring instead of 21).
const liveGCAbove = 16 << 20

// setLiveGC applies liveGCPercent, once, when heap bytes are in use and
// GOGC is not set.
func (m *memReturner) setLiveGC(heap uint64) {
	if m.gcSet || heap < liveGCAbove {
		return
	}
	m.gcSet = true
	if _, ok := os.LookupEnv("GOGC"); !ok {
		debug.SetGCPercent(liveGCPercent)
	}
}
