package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/grpclog"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
)

// grpcServer serves grpc-go's health service on --addr with a keepalive
// enforcement policy (--min-time): a client pinging more often gets
// GOAWAY ENHANCE_YOUR_CALM "too_many_pings" after grpc-go's two strikes.
func grpcServer(args []string) error {
	fs := flag.NewFlagSet("grpcserver", flag.ExitOnError)
	addr := fs.String("addr", ":50051", "listen address")
	minTime := fs.Duration("min-time", 5*time.Minute, "keepalive.EnforcementPolicy.MinTime (grpc-go's default 5 min)")
	fs.Parse(args)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	s := grpc.NewServer(grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: *minTime, PermitWithoutStream: true}))
	healthpb.RegisterHealthServer(s, health.NewServer())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() { <-ctx.Done(); s.Stop() }()
	return s.Serve(ln)
}

// h2labLog writes client.log lines in lab/h2lab's format (conn, local,
// op, msg), so h2lab's truth reads them: a "dial" line per connection,
// errors attributed to the connection open when they happened.
type h2labLog struct {
	mu    sync.Mutex
	enc   *json.Encoder
	conn  int
	local string
}

func (l *h2labLog) line(level, op, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.enc.Encode(map[string]any{"time": time.Now().UTC().Format(time.RFC3339Nano), "level": level, "conn": 0,
		"local": l.local, "op": op, "msg": msg})
}

func (l *h2labLog) dialed(local string) {
	l.mu.Lock()
	l.local = local
	l.mu.Unlock()
	l.line("info", "dial", "connected")
}

// grpclog hook: grpc-go tells of a GOAWAY and of a keepalive failure only
// in its log; each becomes an error line of the connection open then.
func (l *h2labLog) Info(args ...any)                    { l.log(fmt.Sprint(args...)) }
func (l *h2labLog) Infoln(args ...any)                  { l.log(fmt.Sprintln(args...)) }
func (l *h2labLog) Infof(format string, args ...any)    { l.log(fmt.Sprintf(format, args...)) }
func (l *h2labLog) Warning(args ...any)                 { l.log(fmt.Sprint(args...)) }
func (l *h2labLog) Warningln(args ...any)               { l.log(fmt.Sprintln(args...)) }
func (l *h2labLog) Warningf(format string, args ...any) { l.log(fmt.Sprintf(format, args...)) }
func (l *h2labLog) Error(args ...any)                   { l.log(fmt.Sprint(args...)) }
func (l *h2labLog) Errorln(args ...any)                 { l.log(fmt.Sprintln(args...)) }
func (l *h2labLog) Errorf(format string, args ...any)   { l.log(fmt.Sprintf(format, args...)) }
func (l *h2labLog) Fatal(args ...any)                   { l.log(fmt.Sprint(args...)); os.Exit(1) }
func (l *h2labLog) Fatalln(args ...any)                 { l.log(fmt.Sprintln(args...)); os.Exit(1) }
func (l *h2labLog) Fatalf(format string, args ...any) {
	l.log(fmt.Sprintf(format, args...))
	os.Exit(1)
}
func (l *h2labLog) V(int) bool { return true }

func (l *h2labLog) log(s string) {
	s = strings.TrimSpace(s)
	switch {
	case strings.Contains(s, "GoAway") || strings.Contains(s, "too_many_pings"):
		l.line("error", "transport", s)
	case strings.Contains(s, "keepalive"):
		l.line("error", "transport", s)
	}
}

// grpcClient connects to --addr with keepalive parameters, calls the
// health service once, then stays idle (pinging), reconnecting at once
// whenever the channel falls idle (after a GOAWAY), for --duration.
func grpcClient(args []string) error {
	fs := flag.NewFlagSet("grpcclient", flag.ExitOnError)
	addr := fs.String("addr", "", "server address")
	kaTime := fs.Duration("keepalive-time", 10*time.Second, "keepalive.ClientParameters.Time (grpc-go raises it to at least 10 s)")
	kaTimeout := fs.Duration("keepalive-timeout", 2*time.Second, "keepalive.ClientParameters.Timeout")
	duration := fs.Duration("duration", time.Minute, "how long to run")
	logf := fs.String("log", "", "log file (lab/h2lab's client.log format)")
	fs.Parse(args)
	f, err := os.Create(*logf)
	if err != nil {
		return err
	}
	defer f.Close()
	l := &h2labLog{enc: json.NewEncoder(f)}
	grpclog.SetLoggerV2(l)
	dial := func(ctx context.Context, a string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", a)
		if err != nil {
			l.line("error", "dial", err.Error())
			return nil, err
		}
		l.dialed(c.LocalAddr().String())
		return c, nil
	}
	cc, err := grpc.NewClient("passthrough:///"+*addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(dial),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: *kaTime, Timeout: *kaTimeout, PermitWithoutStream: true}))
	if err != nil {
		return err
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	hc := healthpb.NewHealthClient(cc)
	check := func() {
		rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
		defer rcancel()
		if _, err := hc.Check(rctx, &healthpb.HealthCheckRequest{}); err != nil && ctx.Err() == nil {
			l.line("error", "Check", err.Error())
		} else if err == nil {
			l.line("info", "Check", "SERVING")
		}
	}
	check()
	for {
		st := cc.GetState()
		if st == connectivity.Idle {
			cc.Connect()
		}
		if !cc.WaitForStateChange(ctx, st) {
			return nil
		}
	}
}
