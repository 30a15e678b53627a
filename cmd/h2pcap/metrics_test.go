package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/h2pcap/h2pcap/analyze"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
)

// TestLiveMetricsAddr: an address that cannot be listened on is a usage
// error, said before anything is captured (no root needed to get there).
func TestLiveMetricsAddr(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		addr, want string
	}{
		{busy.Addr().String(), "address already in use"},
		{"127.0.0.1:no-such-port", "unknown port"},
		{"127.0.0.1:99999", "invalid port"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run([]string{"live", "-i", "lo", "--metrics-addr", tt.addr, "--duration", "1s"}, nil, &stdout, &stderr)
			if code != exitUsage {
				t.Fatalf("exit %d, want %d; stderr: %s", code, exitUsage, stderr.String())
			}
			got := stderr.String()
			if !strings.HasPrefix(got, "h2pcap: --metrics-addr: ") || !strings.Contains(got, tt.want) || strings.Count(got, "\n") != 1 {
				t.Errorf("stderr: %q, want one line with %q", got, tt.want)
			}
		})
	}
}

func TestTeeNotice(t *testing.T) {
	var got []string
	rec := func(name string) func(*model.Notice) {
		return func(n *model.Notice) { got = append(got, name+":"+string(n.Kind)) }
	}
	tests := []struct {
		name string
		a, b func(*model.Notice)
		want string
	}{
		{"both", rec("a"), rec("b"), "a:silent b:silent"},
		{"first only", rec("a"), nil, "a:silent"},
		{"second only", nil, rec("b"), "b:silent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got = nil
			teeNotice(tt.a, tt.b)(&model.Notice{Kind: model.NoticeSilent})
			if s := strings.Join(got, " "); s != tt.want {
				t.Errorf("got %q, want %q", s, tt.want)
			}
		})
	}
	if teeNotice(nil, nil) != nil {
		t.Error("teeNotice(nil, nil) is not nil")
	}
}

// TestLiveMetrics runs h2pcap live --metrics-addr in a namespace of its
// own, capturing the port its metrics are served on: each scrape is
// traffic that the next scrape counts. After SIGTERM the server is gone
// and the report is written.
func TestLiveMetrics(t *testing.T) {
	needRoot(t, "ip")
	dir := t.TempDir()
	buildBinaries(t, dir, ".")
	ns := fmt.Sprintf("h2metrics-%d", os.Getpid())
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	const addr = "198.19.200.1:9464"
	for _, args := range [][]string{
		{"netns", "add", ns},
		{"-n", ns, "link", "set", "lo", "up"},
		{"-n", ns, "addr", "add", "198.19.200.1/32", "dev", "lo"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	report := filepath.Join(dir, "report.json")
	cmd := exec.Command("ip", "netns", "exec", ns, filepath.Join(dir, "h2pcap"), "live", "-i", "lo", "--port", "9464",
		"--metrics-addr", addr, "--duration", "1m", "--format", "json", "-o", report)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	client := &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			DialContext:       func(ctx context.Context, _, addr string) (net.Conn, error) { return dialInNetns(ns, addr) },
			DisableKeepAlives: true, // a connection per scrape: each is traffic to count
		},
	}
	var first map[string]float64
	if !waitFor(5*time.Second, func() bool {
		var err error
		first, err = scrape(client, "http://"+addr+"/metrics")
		return err == nil
	}) {
		t.Fatalf("no /metrics at %s; stderr: %s", addr, stderr.String())
	}
	for _, name := range []string{`h2pcap_capture_drops_total{where="kernel"}`, `h2pcap_capture_drops_total{where="tool"}`, "process_resident_memory_bytes"} {
		if _, ok := first[name]; !ok {
			t.Errorf("no %s in the first scrape", name)
		}
	}
	// The first scrape's connection (about 10 packets) reaches the
	// capture in well under a second.
	var second map[string]float64
	if !waitFor(5*time.Second, func() bool {
		var err error
		second, err = scrape(client, "http://"+addr+"/metrics")
		return err == nil && second["h2pcap_capture_packets_total"] >= first["h2pcap_capture_packets_total"]+5
	}) {
		t.Errorf("h2pcap_capture_packets_total went from %v to %v: the scrapes were not counted",
			first["h2pcap_capture_packets_total"], second["h2pcap_capture_packets_total"])
	}
	// The scrapes are TCP connections to the metrics port: once the
	// analysis tells notices, they are counted under that server.
	const conns = `h2pcap_connections_total{server="` + addr + `"}`
	if analysisNotices(t) && second[conns] < 1 {
		t.Errorf("%s = %v after a scrape, want at least 1", conns, second[conns])
	}

	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("h2pcap live: %v; stderr: %s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("h2pcap live did not stop on SIGTERM")
	}
	if c, err := dialInNetns(ns, addr); err == nil {
		c.Close()
		t.Error("the metrics server still listens after live ended")
	}
	rep := readReport(t, report)
	if rep.Inputs[0].Packets < int(second["h2pcap_capture_packets_total"]) {
		t.Errorf("the report has %d packets, fewer than the %v scraped", rep.Inputs[0].Packets, second["h2pcap_capture_packets_total"])
	}
}

// analysisNotices says whether this build's analysis tells any notice
// about the built-in sample, which has connections opening and a lost
// PING. The notices came after the metrics (issue 5): where they are not
// told yet, the end-to-end test checks the capture's counters only.
func analysisNotices(t *testing.T) bool {
	t.Helper()
	src, err := decode.NewReader(bytes.NewReader(sample), sampleName, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if _, err := analyze.New(analyze.Options{OnNotice: func(*model.Notice) { n++ }}).ReadSource(src); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Log("the analysis tells no notices in this build: only the capture's counters are checked")
	}
	return n > 0
}

// dialInNetns connects to addr from network namespace ns: the socket is
// made on a thread moved into ns, and stays there when used from any
// other. The thread is never moved back: it stays locked and ends with
// its goroutine, so no other goroutine ever runs in ns.
func dialInNetns(ns, addr string) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(filepath.Join("/run/netns", ns))
		if err != nil {
			ch <- result{nil, err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{nil, fmt.Errorf("setns %s: %w", ns, err)}
			return
		}
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		ch <- result{c, err}
	}()
	r := <-ch
	return r.c, r.err
}

// scrape returns the samples of a text exposition by series name.
func scrape(c *http.Client, url string) (map[string]float64, error) {
	res, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		return nil, fmt.Errorf("%s: %s: %s", url, res.Status, b)
	}
	m := make(map[string]float64)
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			m[line[:i]] = v
		}
	}
	return m, sc.Err()
}
