//go:build pprof

package main

// Built only with -tags pprof (bench and development): H2PCAP_CPUPROFILE and
// H2PCAP_MEMPROFILE name files the whole run's CPU profile and the heap
// profile at exit are written to. The release binary has no such hook.

import (
	"os"
	"runtime"
	"runtime/pprof"
)

func main() {
	if p := os.Getenv("H2PCAP_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil {
			pprof.StartCPUProfile(f)
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
