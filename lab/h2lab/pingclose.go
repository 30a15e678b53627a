package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"time"

	"golang.org/x/net/http2"
)

// runPingClose is a load generator that closes its connections for its
// own reasons right after a PING: each round dials one h2c connection
// with x/net's http2.Transport (prior knowledge), GETs /small, sends a
// PING (ClientConn.Ping, as a keepalive or BDP estimate would) and 7 to
// 18 ms later closes the connection (ClientConn.Close) without waiting
// for the PING's ACK. Nothing is lost: the client simply stopped
// listening. Against a server whose PING ACK takes longer than that (a
// far or busy one; pingserver --ack-delay) the ACK arrives after the close.
func runPingClose(args []string) error {
	fs := flag.NewFlagSet("pingclose", flag.ExitOnError)
	addr := fs.String("addr", "198.18.2.2:8080", "h2c server `host:port`")
	logPath := fs.String("log", "-", "JSON-lines log `file`")
	rounds := fs.Int("rounds", 10, "connections, one after another")
	every := fs.Duration("every", 300*time.Millisecond, "pause between rounds")
	minDelay := fs.Duration("min-delay", 7*time.Millisecond, "shortest time from the PING to the close")
	maxDelay := fs.Duration("max-delay", 18*time.Millisecond, "longest time from the PING to the close")
	fs.Parse(args)

	log, err := openLog(*logPath)
	if err != nil {
		return err
	}
	defer log.Close()
	for i := range *rounds {
		if err := pingCloseRound(i, *addr, *minDelay+rand.N(*maxDelay-*minDelay+1), log); err != nil {
			log.log(logEntry{Level: "error", Conn: intp(i), Op: "round", Msg: err.Error()})
		}
		time.Sleep(*every)
	}
	return nil
}

// pingCloseRound is one connection: dial, GET, PING, close delay later.
func pingCloseRound(i int, addr string, delay time.Duration, log *jsonLog) error {
	conn, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	local := conn.LocalAddr().String()
	log.log(logEntry{Level: "info", Conn: intp(i), Local: local, Op: "dial", Msg: "connected to " + addr})
	tr := &http2.Transport{AllowHTTP: true}
	cc, err := tr.NewClientConn(conn)
	if err != nil {
		conn.Close()
		return fmt.Errorf("new client conn: %w", err)
	}
	req, err := http.NewRequest("GET", "http://"+addr+"/small", nil)
	if err != nil {
		cc.Close()
		return err
	}
	resp, err := cc.RoundTrip(req)
	if err != nil {
		cc.Close()
		return fmt.Errorf("GET /small: %w", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	log.log(logEntry{Level: "info", Conn: intp(i), Local: local, Op: "GET /small", Msg: fmt.Sprintf("%d, %d bytes", resp.StatusCode, len(body))})
	pinged := make(chan error, 1)
	go func() { pinged <- cc.Ping(context.Background()) }()
	time.Sleep(delay)
	// Close, not Shutdown: the generator is done with the connection and
	// does not wait for the PING's answer.
	cc.Close()
	msg := "PING answered before the close"
	if err := <-pinged; err != nil {
		msg = "PING not answered before the close: " + err.Error()
	}
	log.log(logEntry{Level: "info", Conn: intp(i), Local: local, Op: "PING", Msg: msg})
	log.log(logEntry{Level: "info", Conn: intp(i), Local: local, Op: "conn", Msg: "connection closed",
		Extra: map[string]any{"close_after_ping_ms": float64(delay) / float64(time.Millisecond)}})
	return nil
}
