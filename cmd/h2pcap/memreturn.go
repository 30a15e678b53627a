package main

import (
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
	memCheckEvery = 5 * time.Second
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
	if now.Sub(m.lastFree) < memFreeEvery {
		return
	}
	var ms runtime.MemStats
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

// capHeapForReport bounds the heap while the final report is made, the
// capture over (no packet can be dropped for the collections it costs),
// to what it holds now plus reportSlack; a GOMEMLIMIT lower still stays.
// The returned func lifts the bound.
func capHeapForReport() (restore func()) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	prev := debug.SetMemoryLimit(-1)
	debug.SetMemoryLimit(min(prev, int64(ms.HeapInuse+ms.StackInuse+ms.GCSys)+reportSlack))
	return func() { debug.SetMemoryLimit(prev) }
}
