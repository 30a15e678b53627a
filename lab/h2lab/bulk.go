package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
)

// runBulk downloads large bodies over h2c on several connections with
// several streams each until a byte budget is used up: the traffic of the
// benchmark capture.
func runBulk(args []string) error {
	fs := flag.NewFlagSet("bulk", flag.ExitOnError)
	addr := fs.String("addr", "198.18.2.2:8080", "h2c server `host:port`")
	conns := fs.Int("conns", 2, "parallel connections (one Transport each)")
	streams := fs.Int("streams", 3, "concurrent downloads per connection")
	total := fs.Int64("bytes", 750<<20, "response body bytes to download in all")
	size := fs.Int64("size", 32<<20, "bytes per GET /bulk")
	maxTime := fs.Duration("max-time", 4*time.Minute, "stop after this long whatever is left")
	logPath := fs.String("log", "-", "JSON-lines log `file`")
	fs.Parse(args)

	log, err := openLog(*logPath)
	if err != nil {
		return err
	}
	defer log.Close()
	ctx, cancel := context.WithTimeout(context.Background(), *maxTime)
	defer cancel()

	var left, got atomic.Int64
	left.Store(*total)
	t0 := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < *conns; i++ {
		t := &http2.Transport{
			AllowHTTP: true,
			DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, addr) // h2c: prior knowledge, no TLS
			},
			ReadIdleTimeout: 10 * time.Second,
			PingTimeout:     5 * time.Second,
		}
		hc := &http.Client{Transport: t}
		for j := 0; j < *streams; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					n := min(*size, left.Add(-*size)+*size)
					if n <= 0 {
						return
					}
					req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/bulk?size=%d", *addr, n), nil)
					if err != nil {
						log.log(logEntry{Level: "error", Conn: intp(i), Op: "GET /bulk", Msg: err.Error()})
						return
					}
					res, err := hc.Do(req)
					if err != nil {
						log.log(logEntry{Level: "error", Conn: intp(i), Op: "GET /bulk", Msg: err.Error()})
						time.Sleep(100 * time.Millisecond)
						continue
					}
					m, err := io.Copy(io.Discard, res.Body)
					res.Body.Close()
					got.Add(m)
					if err != nil {
						log.log(logEntry{Level: "error", Conn: intp(i), Op: "GET /bulk body", Msg: err.Error()})
					}
				}
			}()
		}
	}
	wg.Wait()
	el := time.Since(t0)
	log.info("done", fmt.Sprintf("%d bytes in %v (%.1f MB/s)", got.Load(), el.Round(time.Millisecond), float64(got.Load())/el.Seconds()/1e6))
	return nil
}
