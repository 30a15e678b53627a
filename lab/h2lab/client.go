package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/http2"
)

type clientConfig struct {
	addr        string
	useTLS      bool
	serverName  string
	keyLog      string
	logPath     string
	conns       int
	duration    time.Duration
	readIdle    time.Duration
	pingTimeout time.Duration
	dialTimeout time.Duration
	reqTimeout  time.Duration
	every       time.Duration
	largeEvery  int
	watch       bool
	watchEvery  time.Duration
	pingEvery   time.Duration
	quietAfter  time.Duration
	quietFor    time.Duration
	maxInflight int
	idleConns   int
	dialEvery   time.Duration
	dialAddr    string
	tls         tlsOptions
}

func runClient(args []string) error {
	var c clientConfig
	fs := flag.NewFlagSet("client", flag.ExitOnError)
	fs.StringVar(&c.addr, "addr", "198.18.2.2:8443", "server `host:port`")
	fs.BoolVar(&c.useTLS, "tls", true, "use TLS (ALPN h2); false means h2c with prior knowledge")
	fs.StringVar(&c.serverName, "server-name", "h2lab.test", "TLS server name")
	fs.StringVar(&c.keyLog, "keylog", "", "NSS key log `file` (TLS)")
	fs.StringVar(&c.logPath, "log", "-", "JSON-lines log `file`")
	fs.IntVar(&c.conns, "conns", 1, "parallel connections: one http2.Transport each")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "how long to run")
	fs.DurationVar(&c.readIdle, "read-idle-timeout", 2*time.Second, "http2.Transport.ReadIdleTimeout: PING after this long without a frame")
	fs.DurationVar(&c.pingTimeout, "ping-timeout", time.Second, "http2.Transport.PingTimeout: close the connection when the PING ACK takes longer")
	fs.DurationVar(&c.dialTimeout, "dial-timeout", 3*time.Second, "TCP connect + TLS handshake timeout")
	fs.DurationVar(&c.reqTimeout, "request-timeout", 5*time.Second, "timeout of each periodic request, body included")
	fs.DurationVar(&c.every, "every", 500*time.Millisecond, "period of the GET /small requests (0: none)")
	fs.IntVar(&c.largeEvery, "large-every", 6, "every Nth periodic request is GET /large instead (0: never)")
	fs.BoolVar(&c.watch, "watch", true, "hold a GET /watch stream open on each connection")
	fs.DurationVar(&c.watchEvery, "watch-every", time.Second, "ask the server for a /watch event this often")
	fs.DurationVar(&c.pingEvery, "ping-every", 0, "also call ClientConn.Ping this often (0: only health-check PINGs)")
	fs.DurationVar(&c.quietAfter, "quiet-after", 0, "suspend the periodic requests this long after start, so the connection idles and health-check PINGs go out")
	fs.DurationVar(&c.quietFor, "quiet-for", 0, "how long the periodic requests stay suspended")
	fs.IntVar(&c.maxInflight, "max-inflight", 4, "periodic requests in flight per connection before ticks are skipped")
	fs.IntVar(&c.idleConns, "idle-conns", 0, "the last N of --conns make no periodic requests: idle but for their /watch stream and health-check PINGs")
	fs.DurationVar(&c.dialEvery, "dial-every", 0, "also open a new short-lived h2c connection this often (dial, GET /small, close), logged as conn index --conns (0: none)")
	fs.StringVar(&c.dialAddr, "dial-addr", "", "`host:port` of the short-lived connections (default: --addr)")
	c.tls.register(fs)
	fs.Parse(args)
	if c.dialAddr == "" {
		c.dialAddr = c.addr
	}

	log, err := openLog(c.logPath)
	if err != nil {
		return err
	}
	defer log.Close()
	kl, err := openKeyLog(c.keyLog)
	if err != nil {
		return err
	}
	if kl != nil {
		defer kl.Close()
	}

	// The run ends by cancellation, not a deadline, so requests cut short
	// by the end of the run are told apart from real timeouts.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	time.AfterFunc(c.duration, cancel)

	log.log(logEntry{Level: "info", Op: "start", Msg: "client started", Extra: map[string]any{
		"addr": c.addr, "tls": c.useTLS, "conns": c.conns, "duration": c.duration.String(),
		"read_idle_timeout": c.readIdle.String(), "ping_timeout": c.pingTimeout.String(),
	}})
	tlsCfg := &tls.Config{
		ServerName:         c.serverName,
		InsecureSkipVerify: true, // the server's certificate is made up at its start
		NextProtos:         []string{http2.NextProtoTLS},
	}
	if err := c.tls.apply(tlsCfg); err != nil {
		return err
	}
	var wg sync.WaitGroup
	for i := 0; i < c.conns; i++ {
		w := newClientWorker(i, &c, log, kl, tlsCfg)
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(ctx)
		}()
	}
	if c.dialEvery > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dialLoop(ctx, c.conns, &c, log)
		}()
	}
	wg.Wait()
	log.info("stop", "client stopped")
	return nil
}

// clientWorker owns one http2.Transport and therefore (at most) one live
// connection at a time, like one long-lived client process would.
type clientWorker struct {
	id   int
	cfg  *clientConfig
	log  *jsonLog
	t    *http2.Transport
	pool *singleConnPool
	hc   *http.Client
	base string
	n    atomic.Int64
	busy atomic.Int32
}

func newClientWorker(id int, cfg *clientConfig, log *jsonLog, keyLog io.Writer, base *tls.Config) *clientWorker {
	w := &clientWorker{id: id, cfg: cfg, log: log}
	tlsCfg := base.Clone()
	tlsCfg.KeyLogWriter = keyLog
	w.t = &http2.Transport{
		TLSClientConfig: tlsCfg,
		AllowHTTP:       !cfg.useTLS,
		ReadIdleTimeout: cfg.readIdle,
		PingTimeout:     cfg.pingTimeout,
		CountError: func(errType string) {
			log.log(logEntry{Level: "info", Conn: intp(id), Op: "count_error", Msg: errType})
		},
	}
	w.pool = &singleConnPool{w: w, tlsCfg: tlsCfg}
	w.t.ConnPool = w.pool
	w.hc = &http.Client{Transport: w.t}
	scheme := "https"
	if !cfg.useTLS {
		scheme = "http"
	}
	w.base = scheme + "://" + cfg.addr
	return w
}

func (w *clientWorker) run(ctx context.Context) {
	var wg sync.WaitGroup
	if w.cfg.watch {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.watchLoop(ctx)
		}()
	}
	if w.cfg.pingEvery > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.pingLoop(ctx)
		}()
	}
	start := time.Now()
	// An idle worker still dials (its /watch stream) and health-checks
	// its connection, but sends nothing else: what an idle pooled
	// connection of a busy process looks like.
	idle := w.id >= w.cfg.conns-w.cfg.idleConns
	if w.cfg.every > 0 && !idle {
		tick := time.NewTicker(w.cfg.every)
	loop:
		for {
			select {
			case <-ctx.Done():
				break loop
			case <-tick.C:
			}
			since := time.Since(start)
			if w.cfg.quietFor > 0 && since >= w.cfg.quietAfter && since < w.cfg.quietAfter+w.cfg.quietFor {
				continue
			}
			if int(w.busy.Load()) >= w.cfg.maxInflight {
				continue
			}
			n := w.n.Add(1)
			path := "/small"
			if w.cfg.largeEvery > 0 && n%int64(w.cfg.largeEvery) == 0 {
				path = "/large"
			}
			w.busy.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer w.busy.Add(-1)
				w.get(ctx, path)
			}()
		}
		tick.Stop()
	}
	wg.Wait()
	w.pool.shutdown()
}

// connInfo travels in a request's context so the pool can say which TCP
// connection served it; errors in the log then name the client port.
type connInfo struct {
	mu    sync.Mutex
	local string
}

type connInfoKey struct{}

func (ci *connInfo) get() string {
	if ci == nil {
		return ""
	}
	ci.mu.Lock()
	defer ci.mu.Unlock()
	return ci.local
}

func (w *clientWorker) newRequest(ctx context.Context, path string) (*http.Request, *connInfo, error) {
	ci := &connInfo{}
	ctx = context.WithValue(ctx, connInfoKey{}, ci)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.base+path, nil)
	return req, ci, err
}

func (w *clientWorker) logErr(op, local string, err error) {
	msg := err.Error()
	// http.Client wraps Transport errors in *url.Error ("Get \"...\": ...");
	// msg keeps the Transport's own string, the one users search for.
	var ue *url.Error
	if errors.As(err, &ue) {
		msg = ue.Err.Error()
	}
	w.log.log(logEntry{Level: "error", Conn: intp(w.id), Local: local, Op: op, Msg: msg, Error: err.Error()})
}

func (w *clientWorker) get(runCtx context.Context, path string) {
	ctx, cancel := context.WithTimeout(runCtx, w.cfg.reqTimeout)
	defer cancel()
	req, ci, err := w.newRequest(ctx, path)
	if err != nil {
		w.logErr("GET "+path, "", err)
		return
	}
	t0 := time.Now()
	res, err := w.hc.Do(req)
	if err != nil {
		if runCtx.Err() == nil { // else: cut short by the end of the run
			w.logErr("GET "+path, ci.get(), err)
		}
		return
	}
	n, err := io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if err != nil {
		if runCtx.Err() == nil {
			w.logErr("GET "+path+" body", ci.get(), err)
		}
		return
	}
	w.log.log(logEntry{Level: "info", Conn: intp(w.id), Local: ci.get(), Op: "GET " + path,
		Msg: fmt.Sprintf("%d, %d bytes in %v", res.StatusCode, n, time.Since(t0).Round(time.Millisecond))})
}

// watchLoop keeps a long streaming response open, as Kubernetes watches and
// gRPC streams do: the stream is what dies with the connection.
func (w *clientWorker) watchLoop(ctx context.Context) {
	path := fmt.Sprintf("/watch?every=%s", w.cfg.watchEvery)
	for ctx.Err() == nil {
		req, ci, err := w.newRequest(ctx, path)
		if err != nil {
			w.logErr("GET /watch", "", err)
			return
		}
		res, err := w.hc.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				w.logErr("GET /watch", ci.get(), err)
			}
			sleepCtx(ctx, 500*time.Millisecond)
			continue
		}
		w.log.log(logEntry{Level: "info", Conn: intp(w.id), Local: ci.get(), Op: "GET /watch", Msg: fmt.Sprintf("%d, watching", res.StatusCode)})
		n, err := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		switch {
		case ctx.Err() != nil:
		case err != nil:
			w.logErr("GET /watch body", ci.get(), err)
		default:
			w.log.log(logEntry{Level: "info", Conn: intp(w.id), Local: ci.get(), Op: "GET /watch", Msg: fmt.Sprintf("watch ended by server after %d bytes", n)})
		}
		sleepCtx(ctx, 200*time.Millisecond)
	}
}

func (w *clientWorker) pingLoop(ctx context.Context) {
	tick := time.NewTicker(w.cfg.pingEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		cc, local := w.pool.current()
		if cc == nil {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, w.cfg.reqTimeout)
		err := cc.Ping(pctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			w.logErr("PING", local, err)
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// singleConnPool is an http2.ClientConnPool holding one connection, so the
// worker can call ClientConn.Ping and log which client port each request
// used. Like the Transport's default pool it dials again once the
// connection can take no new request (closed, GOAWAY, lost ping).
type singleConnPool struct {
	w      *clientWorker
	tlsCfg *tls.Config

	mu    sync.Mutex
	cc    *http2.ClientConn
	local string
}

var _ http2.ClientConnPool = (*singleConnPool)(nil)

func (p *singleConnPool) current() (*http2.ClientConn, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cc, p.local
}

func (p *singleConnPool) GetClientConn(req *http.Request, addr string) (*http2.ClientConn, error) {
	ci, _ := req.Context().Value(connInfoKey{}).(*connInfo)
	// Holding mu while dialing makes concurrent requests wait for the one
	// dial instead of opening several connections.
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cc != nil && p.cc.CanTakeNewRequest() {
		ci.set(p.local)
		return p.cc, nil
	}
	c, local, err := p.dial(req.Context(), addr)
	if err != nil {
		ci.set(local)
		return nil, err
	}
	cc, err := p.w.t.NewClientConn(c)
	if err != nil {
		c.Close()
		p.w.logErr("new client conn", c.LocalAddr().String(), err)
		return nil, fmt.Errorf("http2: new client conn: %w", err)
	}
	p.cc, p.local = cc, c.LocalAddr().String()
	ci.set(p.local)
	return cc, nil
}

// shutdown ends the run's connection with a client GOAWAY, so a healthy
// capture ends cleanly rather than with a half-open connection.
func (p *singleConnPool) shutdown() {
	cc, _ := p.current()
	if cc == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := cc.Shutdown(ctx); err != nil {
		cc.Close()
	}
	// The read loop calls MarkDead (which logs the close) on its way out;
	// give it a moment so the log is complete when the process exits.
	for i := 0; i < 50; i++ {
		if c, _ := p.current(); c != cc {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (p *singleConnPool) MarkDead(cc *http2.ClientConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cc == cc {
		p.w.log.log(logEntry{Level: "info", Conn: intp(p.w.id), Local: p.local, Op: "conn", Msg: "connection closed"})
		p.cc, p.local = nil, ""
	}
}

func (ci *connInfo) set(local string) {
	if ci == nil {
		return
	}
	ci.mu.Lock()
	ci.local = local
	ci.mu.Unlock()
}

// dial opens the TCP connection and, for TLS, completes the handshake
// (ALPN h2) within the dial timeout.
//
// Failures are not logged here: the request that asked for the connection
// fails with the same error and logs it.
func (p *singleConnPool) dial(ctx context.Context, addr string) (c net.Conn, local string, err error) {
	ctx, cancel := context.WithTimeout(ctx, p.w.cfg.dialTimeout)
	defer cancel()
	var d net.Dialer
	t0 := time.Now()
	c, err = d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, "", err
	}
	local = c.LocalAddr().String()
	var extra any
	if p.w.cfg.useTLS {
		tc := tls.Client(c, p.tlsCfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, local, fmt.Errorf("tls handshake: %w", err)
		}
		if proto := tc.ConnectionState().NegotiatedProtocol; proto != http2.NextProtoTLS {
			tc.Close()
			return nil, local, fmt.Errorf("tls: negotiated protocol %q, want h2", proto)
		}
		extra = tlsStateExtra(tc.ConnectionState())
		c = tc
	}
	p.w.log.log(logEntry{Level: "info", Conn: intp(p.w.id), Local: local, Remote: c.RemoteAddr().String(), Op: "dial",
		Msg: fmt.Sprintf("connected in %v", time.Since(t0).Round(time.Microsecond)), Extra: extra})
	return c, local, nil
}
