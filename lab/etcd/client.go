package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// logLine is one JSON line of the client's log.
type logLine struct {
	Time  time.Time `json:"time"`
	Level string    `json:"level"`
	Op    string    `json:"op"`
	Msg   string    `json:"msg,omitempty"`
	Code  string    `json:"grpc_code,omitempty"`
	Error string    `json:"error,omitempty"`
	// Client names the log (truth.json's client_errors hold several
	// clients' errors).
	Client string `json:"client,omitempty"`
}

type jsonLog struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func (l *jsonLog) write(op string, err error, msg string) {
	line := logLine{Time: time.Now().UTC(), Level: "info", Op: op, Msg: msg}
	if err != nil {
		line.Level, line.Error = "error", err.Error()
		// A call its deadline cut is a context error, not a gRPC status:
		// on the wire it is the client's RST_STREAM CANCEL.
		// clientv3 turns a server's status into an rpctypes.EtcdError
		// ("etcdserver: no leader"): its code and message are the
		// grpc-status and grpc-message the member sent.
		var ee rpctypes.EtcdError
		if errors.As(err, &ee) {
			line.Code, line.Msg = ee.Code().String(), ee.Error()
		} else {
			s, ok := status.FromError(err)
			if !ok {
				s = status.FromContextError(err)
			}
			line.Code, line.Msg = s.Code().String(), s.Message()
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.enc.Encode(line)
}

// client puts a key every --every through clientv3 for --duration and
// keeps a watch open: the gRPC traffic on 2379. Every error is logged
// with its gRPC code and message (the truth for the statuses counted).
func client(args []string) error {
	fs := flag.NewFlagSet("client", flag.ExitOnError)
	endpoints := fs.String("endpoints", "", "comma-separated client URLs")
	duration := fs.Duration("duration", 10*time.Second, "how long to run")
	every := fs.Duration("every", 100*time.Millisecond, "put interval")
	timeout := fs.Duration("timeout", time.Second, "per-request timeout")
	logf := fs.String("log", "", "log file (JSON lines)")
	kaTime := fs.Duration("keepalive-time", 0, "DialKeepAliveTime (0: no keepalive, clientv3's default)")
	kaTimeout := fs.Duration("keepalive-timeout", 0, "DialKeepAliveTimeout")
	idle := fs.Bool("idle", false, "only the watch: no puts (an idle client whose keepalive PINGs are all it sends)")
	requireLeader := fs.Bool("require-leader", false, "every call with clientv3.WithRequireLeader; a watch the member ends is started again after 1 s")
	fs.Parse(args)
	f, err := os.Create(*logf)
	if err != nil {
		return err
	}
	defer f.Close()
	l := &jsonLog{enc: json.NewEncoder(f)}
	// Each connection's local address, so a capture's client port maps
	// to this client.
	dial := func(ctx context.Context, a string) (net.Conn, error) {
		a = strings.TrimPrefix(strings.TrimPrefix(a, "http://"), "https://")
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", a)
		if err != nil {
			l.write("dial", err, a)
			return nil, err
		}
		l.write("dial", nil, c.LocalAddr().String()+" -> "+a)
		return c, nil
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(*endpoints, ","), DialTimeout: 2 * time.Second,
		DialKeepAliveTime: *kaTime, DialKeepAliveTimeout: *kaTimeout,
		DialOptions: []grpc.DialOption{grpc.WithContextDialer(dial)}})
	if err != nil {
		return fmt.Errorf("clientv3: %w", err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	// With --require-leader every call says so (clientv3.WithRequireLeader:
	// the gRPC metadata hasleader=true): a member without a leader refuses
	// it at once with Unavailable "etcdserver: no leader" instead of
	// holding it. clientv3 retries neither that Put (not idempotent) nor
	// that Watch (it ends the watch), so each refusal is one grpc-status
	// on the wire and one error in the log.
	rctx := ctx
	// A Put runs to its answer or its own deadline, the run's end does
	// not cancel it: every call the client resets is one it logs
	// (DeadlineExceeded); only the watch is cancelled when the run ends.
	pctx := context.Background()
	if *requireLeader {
		rctx = clientv3.WithRequireLeader(ctx)
		pctx = clientv3.WithRequireLeader(pctx)
	}
	go func() {
		for ctx.Err() == nil {
			for wr := range c.Watch(rctx, "h2lab/", clientv3.WithPrefix()) {
				if err := wr.Err(); err != nil && ctx.Err() == nil {
					l.write("watch", err, "")
				}
			}
			if !*requireLeader {
				return
			}
			// A watch the member ended (no leader): watch again, as an
			// apiserver's reflector does.
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
	t := time.NewTicker(*every)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if *idle {
			continue
		}
		tctx, rcancel := context.WithTimeout(pctx, *timeout)
		_, err := c.Put(tctx, fmt.Sprintf("h2lab/%d", i%10), time.Now().String())
		rcancel()
		if err != nil {
			l.write("put", err, "")
		}
	}
}

// status prints which member leads, and every member's ID, as JSON.
func statusCmd(args []string) error {
	fs := flag.NewFlagSet("status", flag.ExitOnError)
	endpoints := fs.String("endpoints", "", "comma-separated client URLs")
	fs.Parse(args)
	c, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(*endpoints, ","), DialTimeout: 2 * time.Second})
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	ml, err := c.MemberList(ctx)
	if err != nil {
		return fmt.Errorf("member list: %w", err)
	}
	out := struct {
		Leader string            `json:"leader"`
		Term   uint64            `json:"term"`
		IDs    map[string]string `json:"ids"`
		Peers  map[string]string `json:"peers"`
	}{IDs: map[string]string{}, Peers: map[string]string{}}
	for _, m := range ml.Members {
		out.IDs[m.Name] = fmt.Sprintf("%x", m.ID)
		if len(m.PeerURLs) > 0 {
			out.Peers[m.Name] = m.PeerURLs[0]
		}
	}
	for _, ep := range strings.Split(*endpoints, ",") {
		st, err := c.Status(ctx, ep)
		if err != nil {
			continue
		}
		for _, m := range ml.Members {
			if m.ID == st.Leader {
				out.Leader, out.Term = m.Name, st.RaftTerm
			}
		}
		break
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}
