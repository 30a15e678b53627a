package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/http2"
)

// dialLoop opens a new short-lived connection every cfg.dialEvery to
// cfg.dialAddr, as a client that dials per request (or a fleet of
// short-lived clients) does, while the workers' connections stay up: the
// shape of a handshake outage, where new connections fail and established
// ones go on. Each dial runs on its own, so slow or failing dials
// overlap as they would; one that connects sends GET /small and closes
// (client GOAWAY, FIN).
//
// Its log lines use conn index id (after the workers'): "dial" (info on
// success, error with the dial's error on failure) names the local
// address even when the connect failed, so truth.json can name the
// client port of every failed handshake.
func dialLoop(ctx context.Context, id int, cfg *clientConfig, log *jsonLog) {
	t := &http2.Transport{AllowHTTP: true}
	tick := time.NewTicker(cfg.dialEvery)
	defer tick.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			shortConn(ctx, id, cfg, log, t)
		}()
	}
}

// shortConn dials once (within the dial timeout), and on success asks
// GET /small over h2c and closes.
func shortConn(runCtx context.Context, id int, cfg *clientConfig, log *jsonLog, t *http2.Transport) {
	ctx, cancel := context.WithTimeout(runCtx, cfg.dialTimeout)
	defer cancel()
	var mu sync.Mutex
	var local string
	// The source address the route gives: a UDP "connect" sends nothing.
	src, err := sourceAddr(cfg.dialAddr)
	if err != nil {
		log.log(logEntry{Level: "error", Conn: intp(id), Op: "dial", Msg: err.Error(), Error: err.Error()})
		return
	}
	d := net.Dialer{
		// Bind before connect so the local port is known even when the
		// connect fails (Go names it only for a connection made).
		Control: func(_, _ string, rc syscall.RawConn) error {
			var berr error
			err := rc.Control(func(fd uintptr) {
				var sa syscall.Sockaddr
				if src.Is4() {
					sa = &syscall.SockaddrInet4{Addr: src.As4()}
				} else {
					sa = &syscall.SockaddrInet6{Addr: src.As16()}
				}
				if berr = syscall.Bind(int(fd), sa); berr != nil {
					return
				}
				got, err := syscall.Getsockname(int(fd))
				if err != nil {
					berr = err
					return
				}
				mu.Lock()
				defer mu.Unlock()
				switch a := got.(type) {
				case *syscall.SockaddrInet4:
					local = net.JoinHostPort(net.IP(a.Addr[:]).String(), fmt.Sprint(a.Port))
				case *syscall.SockaddrInet6:
					local = net.JoinHostPort(net.IP(a.Addr[:]).String(), fmt.Sprint(a.Port))
				}
			})
			if err != nil {
				return fmt.Errorf("bind: %w", err)
			}
			if berr != nil {
				return fmt.Errorf("bind: %w", berr)
			}
			return nil
		},
	}
	t0 := time.Now()
	c, err := d.DialContext(ctx, "tcp", cfg.dialAddr)
	mu.Lock()
	addr := local
	mu.Unlock()
	if err != nil {
		if runCtx.Err() == nil { // else: cut short by the end of the run
			log.log(logEntry{Level: "error", Conn: intp(id), Local: addr, Remote: cfg.dialAddr, Op: "dial", Msg: err.Error(), Error: err.Error(),
				Extra: map[string]any{"after": time.Since(t0).Round(time.Microsecond).String()}})
		}
		return
	}
	log.log(logEntry{Level: "info", Conn: intp(id), Local: addr, Remote: c.RemoteAddr().String(), Op: "dial",
		Msg: fmt.Sprintf("connected in %v", time.Since(t0).Round(time.Microsecond))})
	defer log.log(logEntry{Level: "info", Conn: intp(id), Local: addr, Op: "conn", Msg: "connection closed"})
	cc, err := t.NewClientConn(&halfCloser{c.(*net.TCPConn)})
	if err != nil {
		c.Close()
		log.log(logEntry{Level: "error", Conn: intp(id), Local: addr, Op: "new client conn", Msg: err.Error(), Error: err.Error()})
		return
	}
	rctx, rcancel := context.WithTimeout(runCtx, cfg.reqTimeout)
	defer rcancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, "http://"+cfg.dialAddr+"/small", nil)
	if err != nil {
		cc.Close()
		return
	}
	res, err := cc.RoundTrip(req)
	if err != nil {
		if runCtx.Err() == nil {
			log.log(logEntry{Level: "error", Conn: intp(id), Local: addr, Op: "GET /small", Msg: err.Error(), Error: err.Error()})
		}
		cc.Close()
		return
	}
	// Read to the end: a body closed unread makes x/net reset the stream
	// and send a PING with it, which would then look like a health check.
	n, _ := io.Copy(io.Discard, res.Body)
	res.Body.Close()
	log.log(logEntry{Level: "info", Conn: intp(id), Local: addr, Op: "GET /small", Msg: fmt.Sprintf("%d, %d bytes in %v", res.StatusCode, n, time.Since(t0).Round(time.Millisecond))})
	sctx, scancel := context.WithTimeout(context.Background(), time.Second)
	defer scancel()
	if err := cc.Shutdown(sctx); err != nil {
		cc.Close()
	}
}

// sourceAddr is the local address the kernel's route picks for addr.
func sourceAddr(addr string) (netip.Addr, error) {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("source address for %s: %w", addr, err)
	}
	defer c.Close()
	ap, err := netip.ParseAddrPort(c.LocalAddr().String())
	if err != nil {
		return netip.Addr{}, fmt.Errorf("source address for %s: %w", addr, err)
	}
	return ap.Addr().Unmap(), nil
}

// halfCloser closes a short connection the way that leaves no RST: x/net
// closes right after its GOAWAY, and the server's GOAWAY in reply would
// reach a closed socket, whose kernel answers unread data with an RST.
// Close sends the FIN (CloseWrite) and lets the client's read loop take
// what the server still sends, up to its FIN; the socket itself closes
// closeAfter later.
type halfCloser struct{ *net.TCPConn }

const closeAfter = 200 * time.Millisecond

func (h *halfCloser) Close() error {
	err := h.CloseWrite()
	time.AfterFunc(closeAfter, func() { h.TCPConn.Close() })
	return err
}
