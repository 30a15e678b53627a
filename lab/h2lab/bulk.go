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
	rate := fs.Float64("rate", 0, "cap on the total download rate in MB/s, so a slow capture keeps up (0: none)")
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
					var body io.Reader = res.Body
					if *rate > 0 {
						body = &pacedReader{r: res.Body, got: &got, t0: t0, rate: *rate * 1e6}
					}
					m, err := io.Copy(io.Discard, body)
					res.Body.Close()
					if *rate <= 0 {
						got.Add(m)
					}
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

// pacedReader sleeps whenever the bytes read by all streams together run
// ahead of rate; flow control then slows the server down, as a slow
// consumer would.
type pacedReader struct {
	r    io.Reader
	got  *atomic.Int64
	t0   time.Time
	rate float64 // bytes per second
}

func (p *pacedReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	total := p.got.Add(int64(n))
	ahead := time.Duration(float64(total)/p.rate*float64(time.Second)) - time.Since(p.t0)
	if ahead > 0 {
		time.Sleep(ahead)
	}
	return n, err
}
