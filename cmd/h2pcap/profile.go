//go:build pprof

package main

// Built only with -tags pprof (bench and development): H2PCAP_CPUPROFILE and
// H2PCAP_MEMPROFILE name files the whole run's CPU profile and the heap
// profile at exit are written to; H2PCAP_PEAKPROFILE one the heap profile
// is written to whenever the heap in use grew a tenth past its last
// peak, so that it ends as the peak's (what a run's RSS follows, where
// the profile at exit shows what is left); H2PCAP_HEAPPROFILE_AT
// (PATH@DURATION) one written once, DURATION after the start. The
// release binary has no such hook.

import (
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"
)

func main() {
	if p := os.Getenv("H2PCAP_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil {
			pprof.StartCPUProfile(f)
		}
	}
	if p := os.Getenv("H2PCAP_PEAKPROFILE"); p != "" {
		go peakProfile(p)
	}
	if p := os.Getenv("H2PCAP_HEAPPROFILE_AT"); p != "" {
		// PATH@DURATION: the heap profile DURATION after the start (a
		// live capture's steady state, before its report).
		if path, at, ok := strings.Cut(p, "@"); ok {
			if d, err := time.ParseDuration(at); err == nil {
				time.AfterFunc(d, func() {
					if f, err := os.Create(path); err == nil {
						runtime.GC()
						pprof.WriteHeapProfile(f)
						f.Close()
					}
				})
			}
		}
	}
	code := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	pprof.StopCPUProfile()
	if p := os.Getenv("H2PCAP_MEMPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil {
			runtime.GC()
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	os.Exit(code)
}

// peakProfile writes the heap profile to path each time the heap in use
// passes its last written peak by a tenth, checked every 100 ms.
func peakProfile(path string) {
	var peak uint64
	var ms runtime.MemStats
	for range time.Tick(100 * time.Millisecond) {
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse <= peak+peak/10 {
			continue
		}
		peak = ms.HeapInuse
		if f, err := os.Create(path); err == nil {
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
}
