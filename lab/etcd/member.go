package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// member runs one embedded etcd member until SIGTERM. Its log (zap JSON)
// is the truth for who led when: raft's "elected leader" lines.
// keyLogHooked says whether go.etcd.io/etcd/client/pkg/v3 is the copy
// lab/etcd/keylog.sh makes (a replaced module), whose TLS configs write
// ETCDLAB_KEYLOG.
func keyLogHooked() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, d := range bi.Deps {
		if d.Path == "go.etcd.io/etcd/client/pkg/v3" {
			return d.Replace != nil
		}
	}
	return false
}

func member(args []string) error {
	fs := flag.NewFlagSet("member", flag.ExitOnError)
	name := fs.String("name", "m1", "member name")
	ip := fs.String("ip", "", "the member's address (peer :2380, client :2379)")
	cluster := fs.String("cluster", "", "initial cluster: name=http://ip:2380,...")
	dir := fs.String("dir", "", "data directory")
	logf := fs.String("log", "", "log file (zap JSON)")
	tick := fs.Duration("heartbeat", 100*time.Millisecond, "heartbeat interval (etcd default 100 ms)")
	election := fs.Duration("election", time.Second, "election timeout (etcd default 1 s)")
	peerTLS := fs.Bool("peer-tls", false, "TLS on the peer port with etcd's self-signed certificates (--peer-auto-tls); --cluster then names https URLs")
	keyLog := fs.String("keylog", "", "NSS key log `file` of etcd's TLS connections (needs the build lab/etcd/keylog.sh makes)")
	fs.Parse(args)
	if *keyLog != "" {
		if !keyLogHooked() {
			return fmt.Errorf("--keylog: this etcdlab was built without the key log hook (build it with lab/etcd/keylog.sh, as lab/run.sh does)")
		}
		// Read once, by the hook in etcd's transport package.
		os.Setenv("ETCDLAB_KEYLOG", *keyLog)
	}

	cfg := embed.NewConfig()
	cfg.Name = *name
	cfg.Dir = *dir
	cfg.TickMs = uint(tick.Milliseconds())
	cfg.ElectionMs = uint(election.Milliseconds())
	scheme := "http://"
	if *peerTLS {
		scheme = "https://"
		cfg.PeerAutoTLS = true
		cfg.SelfSignedCertValidity = 1
		cfg.PeerTLSInfo.InsecureSkipVerify = true
	}
	peer, err := url.Parse(scheme + *ip + ":2380")
	if err != nil {
		return err
	}
	cli, err := url.Parse("http://" + *ip + ":2379")
	if err != nil {
		return err
	}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*peer}, []url.URL{*peer}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cli}, []url.URL{*cli}
	cfg.InitialCluster = *cluster
	cfg.InitialClusterToken = "h2lab"
	cfg.ClusterState = embed.ClusterStateFlagNew
	cfg.Logger = "zap"
	cfg.LogLevel = "info"
	cfg.LogOutputs = []string{*logf}
	// No metrics or other listeners: only the peer and client ports.
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return fmt.Errorf("start %s: %w", *name, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	select {
	case <-e.Server.ReadyNotify():
	case <-ctx.Done():
	case err := <-e.Err():
		return err
	}
	select {
	case <-ctx.Done():
	case err := <-e.Err():
		fmt.Fprintln(os.Stderr, "etcd:", err)
	}
	e.Close()
	return nil
}
