package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/h2pcap/h2pcap/analyze"
	"github.com/h2pcap/h2pcap/decode/live"
	"github.com/h2pcap/h2pcap/model"
	"github.com/h2pcap/h2pcap/report/metrics"
)

// metricsServer serves h2pcap live's Prometheus metrics (--metrics-addr)
// at /metrics. A nil *metricsServer is no server, so that live's flow
// reads the same with and without the flag.
type metricsServer struct {
	ln     net.Listener
	srv    *http.Server
	done   chan struct{}
	stderr io.Writer
}

// listenMetrics binds addr before the capture opens, so a port already in
// use is said at once (exit 2) rather than after packets were taken.
func listenMetrics(addr string, stderr io.Writer) (*metricsServer, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("--metrics-addr: %w", err)}
	}
	return &metricsServer{ln: ln, stderr: stderr}, nil
}

// serve starts serving the counters of src and the notices of the
// analysis opts configures; an OnNotice already in opts still gets every
// notice. It is called before the first packet is read.
func (s *metricsServer) serve(src *live.Source, opts *analyze.Options) {
	if s == nil {
		return
	}
	m := metrics.New(metrics.Options{
		Runtime: true,
		Capture: func() metrics.CaptureStats {
			st := src.Stats()
			return metrics.CaptureStats{Packets: st.Packets, KernelDrops: st.KernelDrops, ToolDrops: st.QueueDrops}
		},
	})
	opts.OnNotice = teeNotice(opts.OnNotice, m.Notice)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
			// The capture goes on: metrics are a view of it, not its purpose.
			fmt.Fprintf(s.stderr, "h2pcap: --metrics-addr: %s; the capture goes on without metrics\n", oneLine(err.Error()))
		}
	}()
}

// close stops the server, letting a scrape under way finish (briefly).
func (s *metricsServer) close() {
	if s == nil {
		return
	}
	if s.srv == nil {
		s.ln.Close()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		s.srv.Close()
	}
	<-s.done
}

// teeNotice returns a callback that calls both, either of which may be nil.
func teeNotice(a, b func(*model.Notice)) func(*model.Notice) {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return func(n *model.Notice) {
		a(n)
		b(n)
	}
}
