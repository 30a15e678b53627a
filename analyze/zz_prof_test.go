package analyze

import (
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/model"
)

func TestZZProf(t *testing.T) {
	kind := os.Getenv("ZZKIND")
	if kind == "" {
		t.Skip()
	}
	opts := Options{OnNotice: func(*model.Notice) {}}
	rate := 0.0
	if kind == "short" {
		opts.ForgetHealthy = 3 * time.Second
		rate = 5000
	}
	runtime.MemProfileRate = 512
	per := connMemory(t, kind, 20000, rate, opts)
	t.Logf("%s: %.0f B/conn", kind, per)
	f, _ := os.Create("/tmp/zz-" + kind + ".prof")
	pprof.WriteHeapProfile(f)
	f.Close()
}
