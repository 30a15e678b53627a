package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"
)

// runDialRace is net/http's Transport with HTTP/2 over TLS
// (ForceAttemptHTTP2) firing --concurrent requests at once at its start:
// before the first connection is up each request dials its own, and once
// their TLS handshakes are done HTTP/2's connection pool
// (addConnIfNeeded) keeps one and closes the others at once, usually with
// the server's SETTINGS unread (so the kernel sends an RST). Then it GETs
// /small every --every on the connection it kept, for --duration. The
// dialer logs every connection's dial and close, so client.log names the
// spares.
func runDialRace(args []string) error {
	fs := flag.NewFlagSet("dialrace", flag.ExitOnError)
	addr := fs.String("addr", "198.18.2.2:8443", "TLS server `host:port`")
	serverName := fs.String("server-name", "h2lab.test", "TLS server name")
	keyLog := fs.String("keylog", "", "NSS key log `file`")
	logPath := fs.String("log", "-", "JSON-lines log `file`")
	concurrent := fs.Int("concurrent", 4, "requests fired at once at the start")
	every := fs.Duration("every", 500*time.Millisecond, "period of the GET /small requests after the start")
	duration := fs.Duration("duration", 4*time.Second, "how long to run")
	fs.Parse(args)

	log, err := openLog(*logPath)
	if err != nil {
		return err
	}
	defer log.Close()
	kl, err := openKeyLog(*keyLog)
	if err != nil {
		return err
	}
	if kl != nil {
		defer kl.Close()
	}
	var dials atomic.Int32
	d := &net.Dialer{Timeout: 3 * time.Second}
	tr := &http.Transport{
		ForceAttemptHTTP2: true,
		TLSClientConfig: &tls.Config{
			ServerName:         *serverName,
			InsecureSkipVerify: true, // the server's certificate is made up at its start
			KeyLogWriter:       kl,
			NextProtos:         []string{"h2"},
		},
		DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, a)
			if err != nil {
				return nil, err
			}
			n := int(dials.Add(1)) - 1
			lc := &loggedConn{Conn: c, n: n, log: log, dialed: time.Now()}
			log.log(logEntry{Level: "info", Conn: intp(n), Local: c.LocalAddr().String(), Op: "dial", Msg: "connected to " + a})
			return lc, nil
		},
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	get := func() {
		var local string
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { local = i.Conn.LocalAddr().String() }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", "https://"+*addr+"/small", nil)
		resp, err := client.Do(req)
		if err != nil {
			log.log(logEntry{Level: "error", Local: local, Op: "GET /small", Msg: err.Error()})
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		log.log(logEntry{Level: "info", Local: local, Op: "GET /small", Msg: fmt.Sprintf("%d, %d bytes, %s", resp.StatusCode, len(body), resp.Proto)})
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range *concurrent {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			get()
		}()
	}
	close(start)
	wg.Wait()
	end := time.Now().Add(*duration)
	for time.Now().Before(end) {
		time.Sleep(*every)
		get()
	}
	return nil
}

// loggedConn logs its close, with how long after its dial it came.
type loggedConn struct {
	net.Conn
	n      int
	log    *jsonLog
	dialed time.Time
	once   sync.Once
}

func (c *loggedConn) Close() error {
	c.once.Do(func() {
		c.log.log(logEntry{Level: "info", Conn: intp(c.n), Local: c.LocalAddr().String(), Op: "conn", Msg: "connection closed",
			Extra: map[string]any{"after_dial_ms": float64(time.Since(c.dialed)) / float64(time.Millisecond)}})
	})
	return c.Conn.Close()
}
