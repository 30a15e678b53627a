package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"flag"
	"fmt"
	stdlog "log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

type serverConfig struct {
	tlsListen     string
	h2cListen     string
	keyLog        string
	logPath       string
	gracefulAfter time.Duration
	shutdownWait  time.Duration
	watchEvery    time.Duration
	largeSize     int
	tls           tlsOptions
	pacingRate    int
}

func runServer(args []string) error {
	var c serverConfig
	fs := flag.NewFlagSet("server", flag.ExitOnError)
	fs.StringVar(&c.tlsListen, "tls-listen", ":8443", "TLS (h2) listen `address`; empty: none")
	fs.StringVar(&c.h2cListen, "h2c-listen", ":8080", "h2c listen `address`; empty: none")
	fs.StringVar(&c.keyLog, "keylog", "", "NSS key log `file`")
	fs.StringVar(&c.logPath, "log", "-", "JSON-lines log `file`")
	fs.DurationVar(&c.gracefulAfter, "graceful-after", 0, "call http.Server.Shutdown (GOAWAY NO_ERROR) after this long, then exit (0: never)")
	fs.DurationVar(&c.shutdownWait, "shutdown-wait", 3*time.Second, "how long Shutdown waits for streams before closing")
	fs.DurationVar(&c.watchEvery, "watch-every", time.Second, "default period of /watch events")
	fs.IntVar(&c.largeSize, "large-size", 64<<10, "bytes of GET /large")
	c.tls.register(fs)
	fs.IntVar(&c.pacingRate, "pacing-rate", 0, "cap each TLS connection's send rate at this many `bytes` per second (SO_MAX_PACING_RATE; 0: none)")
	fs.Parse(args)

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

	h := &labHandler{cfg: &c, log: log, shuttingDown: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/small", h.small)
	mux.HandleFunc("/large", h.large)
	mux.HandleFunc("/bulk", h.bulk)
	mux.HandleFunc("/watch", h.watch)

	var servers []*http.Server
	errc := make(chan error, 2)
	if c.tlsListen != "" {
		cert, err := selfSignedCert()
		if err != nil {
			return err
		}
		tlsCfg := &tls.Config{
			Certificates: []tls.Certificate{cert},
			KeyLogWriter: kl,
		}
		if err := c.tls.apply(tlsCfg); err != nil {
			return err
		}
		srv := &http.Server{
			Handler:   mux,
			TLSConfig: tlsCfg,
			ErrorLog:  stdlog.New(&logWriter{log: log, op: "http.Server"}, "", 0),
		}
		// ConfigureServer installs x/net/http2 (not net/http's bundled
		// copy) for ALPN "h2" and hooks Shutdown to its GOAWAY.
		if err := http2.ConfigureServer(srv, &http2.Server{}); err != nil {
			return fmt.Errorf("configure TLS server: %w", err)
		}
		ln, err := net.Listen("tcp", c.tlsListen)
		if err != nil {
			return fmt.Errorf("listen TLS: %w", err)
		}
		if c.pacingRate > 0 {
			ln = pacedListener{Listener: ln, rate: c.pacingRate}
		}
		servers = append(servers, srv)
		go func() { errc <- srv.Serve(tls.NewListener(ln, srv.TLSConfig)) }()
		log.info("listen", "TLS on "+ln.Addr().String())
	}
	if c.h2cListen != "" {
		h2s := &http2.Server{}
		srv := &http.Server{
			Handler:  h2c.NewHandler(mux, h2s),
			ErrorLog: stdlog.New(&logWriter{log: log, op: "http.Server"}, "", 0),
		}
		// Registers h2s's graceful shutdown with srv.Shutdown; without it
		// hijacked h2c connections would never see a GOAWAY.
		if err := http2.ConfigureServer(srv, h2s); err != nil {
			return fmt.Errorf("configure h2c server: %w", err)
		}
		ln, err := net.Listen("tcp", c.h2cListen)
		if err != nil {
			return fmt.Errorf("listen h2c: %w", err)
		}
		servers = append(servers, srv)
		go func() { errc <- srv.Serve(ln) }()
		log.info("listen", "h2c on "+ln.Addr().String())
	}
	if len(servers) == 0 {
		return errors.New("nothing to serve: both -tls-listen and -h2c-listen are empty")
	}
	for _, srv := range servers {
		srv.RegisterOnShutdown(h.startShutdown)
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	var graceful <-chan time.Time
	if c.gracefulAfter > 0 {
		graceful = time.After(c.gracefulAfter)
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case s := <-sig:
		log.info("stop", "signal "+s.String())
		for _, srv := range servers {
			srv.Close()
		}
		return nil
	case <-graceful:
	}

	log.info("shutdown", "http.Server.Shutdown: GOAWAY NO_ERROR to every connection")
	ctx, cancel := context.WithTimeout(context.Background(), c.shutdownWait)
	defer cancel()
	var wg sync.WaitGroup
	for _, srv := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Shutdown(ctx); err != nil {
				log.log(logEntry{Level: "error", Op: "shutdown", Msg: err.Error()})
				srv.Close()
			}
		}()
	}
	wg.Wait()
	log.info("shutdown", "server stopped")
	return nil
}

type labHandler struct {
	cfg          *serverConfig
	log          *jsonLog
	once         sync.Once
	shuttingDown chan struct{}
}

// startShutdown ends the /watch streams: Shutdown waits for active streams,
// and a real API server ends its watches when it drains.
func (h *labHandler) startShutdown() { h.once.Do(func() { close(h.shuttingDown) }) }

func (h *labHandler) small(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprintf(w, "ok %s %s\n", r.Proto, time.Now().UTC().Format(time.RFC3339Nano))
}

var filler = func() []byte {
	b := make([]byte, 64<<10)
	for i := range b {
		b[i] = "0123456789abcdef\n"[i%17]
	}
	return b
}()

// writeN writes n bytes of filler, flushing so DATA frames leave at once.
func writeN(w http.ResponseWriter, n int64) error {
	f, _ := w.(http.Flusher)
	for n > 0 {
		chunk := filler
		if int64(len(chunk)) > n {
			chunk = chunk[:n]
		}
		if _, err := w.Write(chunk); err != nil {
			return err
		}
		n -= int64(len(chunk))
	}
	if f != nil {
		f.Flush()
	}
	return nil
}

func sizeParam(r *http.Request, def int64) int64 {
	if s := r.URL.Query().Get("size"); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
			return n
		}
	}
	return def
}

func (h *labHandler) large(w http.ResponseWriter, r *http.Request) {
	n := sizeParam(r, int64(h.cfg.largeSize))
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	if err := writeN(w, n); err != nil {
		h.log.log(logEntry{Level: "error", Remote: r.RemoteAddr, Op: "GET /large", Msg: err.Error()})
	}
}

func (h *labHandler) bulk(w http.ResponseWriter, r *http.Request) {
	n := sizeParam(r, 64<<20)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	writeN(w, n) // the bulk client reports its own errors
}

func (h *labHandler) watch(w http.ResponseWriter, r *http.Request) {
	every := h.cfg.watchEvery
	if s := r.URL.Query().Get("every"); s != "" {
		if d, err := time.ParseDuration(s); err == nil && d > 0 {
			every = d
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	f := w.(http.Flusher)
	f.Flush()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for n := 1; ; n++ {
		select {
		case <-r.Context().Done():
			return
		case <-h.shuttingDown:
			return
		case <-tick.C:
		}
		if _, err := fmt.Fprintf(w, "{\"type\":\"MODIFIED\",\"n\":%d}\n", n); err != nil {
			return
		}
		f.Flush()
	}
}

// selfSignedCert makes the server's certificate at startup: ECDSA P-256
// keeps the handshake flight small and the lab needs no files.
func selfSignedCert() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generate key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "h2lab.test"},
		DNSNames:     []string{"h2lab.test"},
		IPAddresses:  []net.IP{net.ParseIP("198.18.2.2"), net.ParseIP("fd18:2::2")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// logWriter turns net/http's ErrorLog lines (TLS handshake errors and the
// like) into log entries, so they land in server.log, not on the terminal.
type logWriter struct {
	log *jsonLog
	op  string
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.log.log(logEntry{Level: "info", Op: w.op, Msg: strings.TrimSpace(string(p))})
	return len(p), nil
}
