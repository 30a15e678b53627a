package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

const usage = `usage: h2lab <command> [flags]

commands:
  client      x/net/http2 Transport client: periodic requests, a /watch stream, health-check PINGs
  server      net/http + x/net/http2 server over TLS and h2c
  pingserver  Framer-based h2c server: GOAWAY ENHANCE_YOUR_CALM "too_many_pings" after N PINGs
  pingclose   h2c load generator: GET, PING, close 7-18 ms later without waiting for the ACK
  dialrace    net/http Transport (HTTP/2 over TLS) firing concurrent requests at start: a dial race
  bulk        parallel HTTP/2 downloads of large bodies (benchmark captures)
  truth       write a scenario's truth.json from the runner's fault log and the client log
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	args := os.Args[2:]
	switch os.Args[1] {
	case "client":
		err = runClient(args)
	case "server":
		err = runServer(args)
	case "pingserver":
		err = runPingServer(args)
	case "dialrace":
		err = runDialRace(args)
	case "pingclose":
		err = runPingClose(args)
	case "bulk":
		err = runBulk(args)
	case "truth":
		err = runTruth(args)
	default:
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "h2lab %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// logEntry is one line of a JSON-lines log. The analysis side compares
// Time against capture timestamps, so it is always UTC with nanoseconds.
type logEntry struct {
	Time   string `json:"time"`
	Level  string `json:"level"`           // "error" or "info"
	Conn   *int   `json:"conn,omitempty"`  // index of the client's Transport
	Local  string `json:"local,omitempty"` // local ip:port of the TCP connection, when known
	Remote string `json:"remote,omitempty"`
	Op     string `json:"op,omitempty"` // e.g. "GET /small", "PING", "dial"
	Msg    string `json:"msg"`          // for errors: the exact error string Go produced
	Error  string `json:"error,omitempty"`
	Extra  any    `json:"extra,omitempty"`
}

// jsonLog writes logEntry lines; it is safe for concurrent use.
type jsonLog struct {
	mu sync.Mutex
	w  io.Writer
	f  *os.File
}

func openLog(path string) (*jsonLog, error) {
	if path == "" || path == "-" {
		return &jsonLog{w: os.Stderr}, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	return &jsonLog{w: f, f: f}, nil
}

func (l *jsonLog) Close() error {
	if l.f != nil {
		return l.f.Close()
	}
	return nil
}

func (l *jsonLog) log(e logEntry) {
	e.Time = time.Now().UTC().Format(time.RFC3339Nano)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep "->" in Go's error strings readable
	if err := enc.Encode(e); err != nil {
		buf.Reset()
		fmt.Fprintf(&buf, "{\"time\":%q,\"level\":\"error\",\"msg\":%q}\n", e.Time, "marshal log entry: "+err.Error())
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w.Write(buf.Bytes())
}

func (l *jsonLog) info(op, msg string) { l.log(logEntry{Level: "info", Op: op, Msg: msg}) }

func intp(i int) *int { return &i }

// openKeyLog opens an NSS key log file for crypto/tls's KeyLogWriter, so
// Wireshark (and h2pcap) can decrypt the TLS scenarios.
func openKeyLog(path string) (io.WriteCloser, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open key log: %w", err)
	}
	return f, nil
}
