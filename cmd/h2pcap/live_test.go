package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/h2pcap/h2pcap/analyze"
	"github.com/h2pcap/h2pcap/decode"
)

// needRoot skips a test that needs root (namespaces, packet sockets),
// except in CI, where make test runs as root and a skip would hide a
// broken live capture.
func needRoot(t *testing.T, tools ...string) {
	t.Helper()
	fail := t.Skipf
	if os.Getenv("CI") == "true" {
		fail = t.Fatalf
	}
	if os.Geteuid() != 0 {
		fail("needs root (network namespaces, packet sockets)")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			fail("needs %s: %v (make deps installs it)", tool, err)
		}
	}
}

// buildBinaries builds h2pcap and the lab's h2lab into dir.
func buildBinaries(t *testing.T, dir string, which ...string) {
	t.Helper()
	for _, pkg := range which {
		name := filepath.Base(pkg)
		if pkg == "." {
			name = "h2pcap"
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
}

// TestLivePermission runs h2pcap live without CAP_NET_RAW: as nobody,
// with every capability dropped from the inheritable and bounding sets.
func TestLivePermission(t *testing.T) {
	needRoot(t, "setpriv")
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	buildBinaries(t, dir, ".")
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
		filepath.Join(dir, "h2pcap"), "live", "-i", "lo", "--duration", "1s")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitUsage {
		t.Fatalf("exit: %v, want code %d; stderr: %s", err, exitUsage, stderr.String())
	}
	want := "h2pcap: capturing on lo needs CAP_NET_RAW (run as root or grant it with setcap cap_net_raw+ep)\n"
	if stderr.String() != want {
		t.Errorf("stderr:\n%q\nwant\n%q", stderr.String(), want)
	}
}

// TestLiveUnknownInterface: one line that lists the interfaces there are.
func TestLiveUnknownInterface(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"live", "-i", "h2pcap-no-such0"}, nil, &stdout, &stderr)
	if code != exitUsage {
		t.Fatalf("exit %d, want %d; stderr: %s", code, exitUsage, stderr.String())
	}
	got := stderr.String()
	if !strings.HasPrefix(got, `h2pcap: no interface "h2pcap-no-such0" (interfaces: `) || !strings.Contains(got, "lo") || strings.Count(got, "\n") != 1 {
		t.Errorf("stderr: %q", got)
	}
}

// labNet is a client -- router -- server topology in namespaces of its
// own, on 198.19.0.0/24 addresses (the lab uses 198.18).
type labNet struct {
	t             *testing.T
	cli, rtr, srv string
}

const (
	liveClient = "198.19.1.2"
	liveServer = "198.19.2.2"
)

// namespaces makes the three namespaces of a labNet, named prefix-PID-
// and cli, rtr, srv, with lo up and IPv6 off (no router solicitations in
// the captures); they are deleted at the end of the test.
func namespaces(t *testing.T, prefix, cli, rtr, srv string) *labNet {
	n := &labNet{t: t}
	base := fmt.Sprintf("%s-%d", prefix, os.Getpid())
	n.cli, n.rtr, n.srv = base+"-"+cli, base+"-"+rtr, base+"-"+srv
	t.Cleanup(func() {
		for _, ns := range []string{n.cli, n.rtr, n.srv} {
			exec.Command("ip", "netns", "del", ns).Run()
		}
	})
	for _, ns := range []string{n.cli, n.rtr, n.srv} {
		n.ip("netns", "add", ns)
		n.ip("-n", ns, "link", "set", "lo", "up")
		n.in(ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
	}
	return n
}

func newLabNet(t *testing.T) *labNet {
	n := namespaces(t, "h2live", "cli", "rtr", "srv")
	// Made inside the namespaces: no name ever exists in the root one.
	n.ip("-n", n.cli, "link", "add", "c0", "type", "veth", "peer", "name", "rc", "netns", n.rtr)
	n.ip("-n", n.srv, "link", "add", "s0", "type", "veth", "peer", "name", "rs", "netns", n.rtr)
	n.ip("-n", n.cli, "addr", "add", liveClient+"/24", "dev", "c0")
	n.ip("-n", n.rtr, "addr", "add", "198.19.1.1/24", "dev", "rc")
	n.ip("-n", n.rtr, "addr", "add", "198.19.2.1/24", "dev", "rs")
	n.ip("-n", n.srv, "addr", "add", liveServer+"/24", "dev", "s0")
	for _, d := range [][2]string{{n.cli, "c0"}, {n.rtr, "rc"}, {n.rtr, "rs"}, {n.srv, "s0"}} {
		// Real MTU-sized segments, as a NIC would send them.
		if _, err := exec.LookPath("ethtool"); err == nil {
			exec.Command("ip", "netns", "exec", d[0], "ethtool", "-K", d[1], "tso", "off", "gso", "off", "gro", "off").Run()
		}
		n.ip("-n", d[0], "link", "set", d[1], "up")
	}
	n.ip("-n", n.cli, "route", "add", "198.19.2.0/24", "via", "198.19.1.1")
	n.ip("-n", n.srv, "route", "add", "198.19.1.0/24", "via", "198.19.2.1")
	n.in(n.rtr, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	n.in(n.rtr, "nft", "add table inet h2live; add chain inet h2live faults { type filter hook forward priority 0; policy accept; }")
	return n
}

func (n *labNet) ip(args ...string) {
	n.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		n.t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (n *labNet) in(ns string, args ...string) {
	n.t.Helper()
	if out, err := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...).CombinedOutput(); err != nil {
		n.t.Fatalf("%s in %s: %v\n%s", strings.Join(args, " "), ns, err, out)
	}
}

// start runs a command in a namespace; it is killed at the end of the
// test if still running.
func (n *labNet) start(ns, logPath string, args ...string) *exec.Cmd {
	n.t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
	f, err := os.Create(logPath)
	if err != nil {
		n.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		n.t.Fatalf("start %s: %v", args[0], err)
	}
	n.t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		f.Close()
	})
	return cmd
}

// waitFor polls cond every 20 ms for up to d.
func waitFor(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// TestLiveBlackhole is the end-to-end test: the lab's h2c client and
// server in namespaces, h2pcap live and tcpdump on the client's interface,
// a server->client black hole. The live report must find the lost PING and
// count every connection's packets exactly as analyze counts tcpdump's.
func TestLiveBlackhole(t *testing.T) { liveBlackhole(t, false, false) }

// TestLiveBlackholeTLS is TestLiveBlackhole over TLS without keys: the
// lost PING is one inferred from its record's size.
func TestLiveBlackholeTLS(t *testing.T) { liveBlackhole(t, true, false) }

// TestLiveBlackholeTLSKeyLog is TestLiveBlackhole over TLS with --keylog:
// the client writes its key log while h2pcap live follows it, so the keys
// come after the handshakes they open; the lost PING is a decrypted one.
func TestLiveBlackholeTLSKeyLog(t *testing.T) { liveBlackhole(t, true, true) }

func liveBlackhole(t *testing.T, useTLS, keyed bool) {
	needRoot(t, "ip", "nft", "tcpdump")
	port, listen := "8080", []string{"--tls-listen", "", "--h2c-listen", ":8080"}
	if useTLS {
		port, listen = "8443", []string{"--tls-listen", ":8443", "--h2c-listen", ""}
	}
	dir := t.TempDir()
	buildBinaries(t, dir, ".", "../../lab/h2lab")
	n := newLabNet(t)
	h2lab, h2pcap := filepath.Join(dir, "h2lab"), filepath.Join(dir, "h2pcap")

	n.start(n.srv, filepath.Join(dir, "server.out"), append(append([]string{h2lab, "server"}, listen...), "--log", filepath.Join(dir, "server.log"))...)
	if !waitFor(5*time.Second, func() bool {
		out, _ := exec.Command("ip", "netns", "exec", n.srv, "ss", "-Htln", "sport = :"+port).Output()
		return len(bytes.TrimSpace(out)) > 0
	}) {
		t.Fatalf("the server does not listen on :%s", port)
	}

	livePcap, liveJSON, tdPcap := filepath.Join(dir, "live.pcapng"), filepath.Join(dir, "live.json"), filepath.Join(dir, "tcpdump.pcap")
	liveOut, saveDir := filepath.Join(dir, "live.out"), filepath.Join(dir, "evidence")
	// With -o the findings come on standard output: read through a pipe
	// while h2pcap live runs.
	liveArgs := []string{h2pcap, "live", "-i", "c0", "--port", port, "--host", liveServer, "-w", livePcap,
		"--ring", "16MB", "--save", saveDir, "--format", "json", "-o", liveJSON}
	var clientKeys []string
	keylog := filepath.Join(dir, "keylog.txt")
	if keyed {
		// Empty when h2pcap live starts: every key comes later.
		if err := os.WriteFile(keylog, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		liveArgs = append(liveArgs, "--keylog", keylog)
		clientKeys = []string{"--keylog", keylog}
	}
	live, findings := n.startPiped(n.cli, liveOut, liveArgs...)
	tdErr := filepath.Join(dir, "tcpdump.out")
	td := n.start(n.cli, tdErr, "tcpdump", "-n", "-U", "-Z", "root", "-s", "0", "-i", "c0", "-w", tdPcap, "tcp port "+port)
	if !waitFor(5*time.Second, func() bool { b, _ := os.ReadFile(tdErr); return bytes.Contains(b, []byte("listening on")) }) {
		b, _ := os.ReadFile(tdErr)
		t.Fatalf("tcpdump did not start: %s", b)
	}
	waitListening(t, liveOut)

	// Requests every 200 ms for 1 s, then only the /watch stream, whose
	// next event is 30 s away: the connection idles, and the health-check
	// PING goes out 1 s (ReadIdleTimeout) after the last frame.
	t0 := time.Now()
	client := n.start(n.cli, filepath.Join(dir, "client.out"), append([]string{h2lab, "client", "--addr", liveServer + ":" + port, fmt.Sprintf("--tls=%v", useTLS), "--conns", "1",
		"--duration", "5s", "--every", "200ms", "--large-every", "0", "--watch-every", "30s", "--quiet-after", "1s", "--quiet-for", "10s",
		"--read-idle-timeout", "1s", "--ping-timeout", "1s", "--dial-timeout", "1s", "--log", filepath.Join(dir, "client.log")}, clientKeys...)...)
	// The quiet period counts from the client's start, which a loaded
	// machine may delay: the times are taken from the client's log.
	start := clientStart(t, filepath.Join(dir, "client.log"))
	time.Sleep(time.Until(start.Add(1400 * time.Millisecond)))
	// The black hole starts with nothing in flight, or the connection
	// would be lost to more than the PING.
	if !waitFor(time.Second, func() bool {
		out, _ := exec.Command("ip", "netns", "exec", n.srv, "ss", "-Htn", "state", "established", "( sport = :"+port+" )").Output()
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if f := strings.Fields(l); len(f) > 1 && f[1] != "0" {
				return false
			}
		}
		return true
	}) {
		t.Log("data still in flight when the black hole started")
	}
	n.in(n.rtr, "nft", "add rule inet h2live faults ip saddr "+liveServer+" drop")
	// The PING goes out at about 2 s and is given up 1 s later; h2pcap
	// live tells it when it has been unanswered for 2 s: at 4 to 5 s.
	time.Sleep(time.Until(start.Add(4 * time.Second)))
	var lostLine string
	if !waitFor(6*time.Second, func() bool {
		for _, l := range findings.lines() {
			if strings.Contains(l, " lost PING ") {
				lostLine = l
				return true
			}
		}
		return false
	}) {
		t.Errorf("no lost PING line while h2pcap live runs; its output so far:\n%s", strings.Join(findings.lines(), "\n"))
	} else if live.ProcessState != nil {
		t.Errorf("the lost PING line came after h2pcap live ended")
	} else {
		t.Logf("while running: %s", lostLine)
	}
	// Silence the client before the captures stop, so that both stop on
	// the same last packet: its output to the server is dropped before it
	// reaches c0, where both capture.
	n.in(n.cli, "nft", "add table inet h2live; add chain inet h2live silence { type filter hook output priority 0; policy accept; }; add rule inet h2live silence ip daddr "+liveServer+" drop")
	// libpcap hands a ring block over up to 1 s after its first packet.
	time.Sleep(1500 * time.Millisecond)
	interrupt(t, 5*time.Second, stopped{"h2pcap live", live, liveOut}, stopped{"tcpdump", td, liveOut})
	client.Process.Signal(syscall.SIGTERM)
	t.Logf("took %v", time.Since(t0).Round(time.Millisecond))

	liveRep := readReport(t, liveJSON)
	tdRep := analyzeFile(t, tdPcap)
	wRep := analyzeFile(t, livePcap)
	if t.Failed() {
		return
	}

	if keyed && (len(liveRep.KeyLogs) != 1 || liveRep.KeyLogs[0].Decrypted == 0) {
		t.Errorf("key_logs %+v: want the followed key log, having decrypted the connections", liveRep.KeyLogs)
	}
	lost := 0
	for _, c := range liveRep.Connections {
		if c.Verdict.Kind == "lost_ping" {
			lost++
			if keyed && (c.TLS == nil || !c.TLS.Decrypted || c.HTTP2 == nil || len(c.HTTP2.Pings) == 0) {
				t.Errorf("connection %s: not decrypted live with the key log it followed: tls %+v http2 %+v", c.Client, c.TLS, c.HTTP2)
			}
			if keyed && c.HTTP2 != nil && len(c.HTTP2.Pings) > 0 && c.HTTP2.Pings[0].Inferred {
				// On a loaded machine the keys can reach the capture after
				// the records that would have shown the HTTP/2 frames:
				// the PING is then inferred, and the verdict the same.
				t.Logf("connection %s: keys came too late to decode its HTTP/2; its PINGs were inferred", c.Client)
			}
			// The comparison below is worth something only if there is
			// loss to count: the client's TCP sends the PING again.
			var tcp struct {
				C2S struct {
					Retransmissions int `json:"retransmissions"`
				} `json:"client_to_server"`
			}
			json.Unmarshal(c.TCP, &tcp)
			if tcp.C2S.Retransmissions == 0 {
				t.Errorf("connection %s: lost PING but no client->server retransmission: %s", c.Client, c.TCP)
			}
		}
	}
	if lost == 0 {
		b, _ := os.ReadFile(liveJSON)
		t.Errorf("no lost_ping verdict in the live report:\n%s", b)
	}
	drops := len(liveRep.Inputs) > 0 && len(liveRep.Inputs[0].Warnings) > 0
	t.Logf("live: %d packets, %d connections, %d lost_ping; tcpdump: %d packets; warnings %v",
		liveRep.Inputs[0].Packets, len(liveRep.Connections), lost, tdRep.Inputs[0].Packets, liveRep.Inputs[0].Warnings)
	compareReports(t, "tcpdump", tdRep, liveRep, drops)
	compareReports(t, "-w", wRep, liveRep, false)

	// The lost PING printed names the connection the report calls
	// lost_ping, and its evidence file analyses to the same verdict.
	saved, _ := filepath.Glob(filepath.Join(saveDir, "*-ping_lost.pcapng"))
	if len(saved) == 0 {
		all, _ := os.ReadDir(saveDir)
		t.Fatalf("no ping_lost evidence saved; %s holds %v; output:\n%s", saveDir, all, strings.Join(findings.lines(), "\n"))
	}
	for _, f := range saved {
		ev := analyzeFile(t, f)
		if len(ev.Connections) != 1 {
			t.Errorf("%s: %d connections, want the one", filepath.Base(f), len(ev.Connections))
			continue
		}
		c := ev.Connections[0]
		if !strings.Contains(filepath.Base(f), fileAddr(netip.MustParseAddrPort(c.Client))) {
			t.Errorf("%s holds %s -> %s", filepath.Base(f), c.Client, c.Server)
		}
		if !strings.Contains(lostLine, c.Client+" -> "+c.Server) {
			t.Errorf("the lost PING line %q is not about %s", lostLine, c.Client)
		}
		for _, w := range liveRep.Connections {
			if w.Client == c.Client && w.Verdict.Kind != c.Verdict.Kind {
				t.Errorf("%s: verdict %s, the live report says %s", filepath.Base(f), c.Verdict.Kind, w.Verdict.Kind)
			}
		}
		if c.Verdict.Kind != "lost_ping" {
			t.Errorf("%s: verdict %s, want lost_ping", filepath.Base(f), c.Verdict.Kind)
		}
	}
}

// waitListening waits up to 10 s for h2pcap live's "listening on" line
// in its standard error, out: every socket is bound and filtered by then.
func waitListening(t *testing.T, out string) {
	t.Helper()
	if !waitFor(10*time.Second, func() bool { b, _ := os.ReadFile(out); return bytes.Contains(b, []byte("h2pcap: listening on ")) }) {
		b, _ := os.ReadFile(out)
		t.Fatalf("h2pcap live did not say it was listening within 10 s: %s", b)
	}
}

// clientStart waits up to 5 s for the lab client's first log line (op
// start) in clientLog and returns its time.
func clientStart(t *testing.T, clientLog string) time.Time {
	t.Helper()
	var start time.Time
	if !waitFor(5*time.Second, func() bool {
		b, _ := os.ReadFile(clientLog)
		line, _, _ := bytes.Cut(b, []byte("\n"))
		var e struct {
			Time string `json:"time"`
			Op   string `json:"op"`
		}
		if json.Unmarshal(line, &e) != nil || e.Op != "start" {
			return false
		}
		start, _ = time.Parse(time.RFC3339Nano, e.Time)
		return !start.IsZero()
	}) {
		t.Fatal("the client did not start")
	}
	return start
}

// lineLog collects a command's output lines as they come.
type lineLog struct {
	mu  sync.Mutex
	all []string
}

func (l *lineLog) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.all)
}

// startH2cServer starts the lab's h2c server on :8080 in n's server
// namespace, its output and log in dir, and waits until it listens.
func (n *labNet) startH2cServer(t *testing.T, dir, h2lab string) {
	t.Helper()
	n.start(n.srv, filepath.Join(dir, "server.out"), h2lab, "server", "--tls-listen", "", "--h2c-listen", ":8080", "--log", filepath.Join(dir, "server.log"))
	if !waitFor(5*time.Second, func() bool {
		out, _ := exec.Command("ip", "netns", "exec", n.srv, "ss", "-Htln", "sport = :8080").Output()
		return len(bytes.TrimSpace(out)) > 0
	}) {
		t.Fatal("the server does not listen on :8080")
	}
}

// stopped is a command a test interrupts (interrupt): its name in a
// failure, and the file its output went to.
type stopped struct {
	name string
	cmd  *exec.Cmd
	log  string
}

// interrupt sends SIGINT to every command, then waits up to wait for each
// to exit; one that fails fails t with its output, one that goes on fails t.
func interrupt(t *testing.T, wait time.Duration, cmds ...stopped) {
	t.Helper()
	for _, c := range cmds {
		c.cmd.Process.Signal(syscall.SIGINT)
	}
	for _, c := range cmds {
		done := make(chan error, 1)
		go func() { done <- c.cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				b, _ := os.ReadFile(c.log)
				t.Fatalf("%s: %v\n%s", c.name, err, b)
			}
		case <-time.After(wait):
			t.Fatalf("%s did not stop on SIGINT", c.name)
		}
	}
}

// startPiped is start with standard output read line by line through a
// pipe (standard error goes to logPath).
func (n *labNet) startPiped(ns, logPath string, args ...string) (*exec.Cmd, *lineLog) {
	n.t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
	f, err := os.Create(logPath)
	if err != nil {
		n.t.Fatal(err)
	}
	cmd.Stderr = f
	// An os.Pipe rather than StdoutPipe: the test Waits for the command
	// while the lines are still being read.
	out, w, err := os.Pipe()
	if err != nil {
		n.t.Fatal(err)
	}
	cmd.Stdout = w
	err = cmd.Start()
	w.Close()
	if err != nil {
		n.t.Fatalf("start %s: %v", args[0], err)
	}
	l := &lineLog{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			l.mu.Lock()
			l.all = append(l.all, sc.Text())
			l.mu.Unlock()
		}
	}()
	n.t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		<-done
		out.Close()
		f.Close()
	})
	return cmd, l
}

// liveReport is the part of the JSON report the test compares.
type liveReport struct {
	KeyLogs []struct {
		Path      string `json:"path"`
		Decrypted int    `json:"decrypted"`
	} `json:"key_logs"`
	Inputs []struct {
		Packets  int      `json:"packets"`
		Warnings []string `json:"warnings"`
	} `json:"inputs"`
	Connections []struct {
		Client  string          `json:"client"`
		Server  string          `json:"server"`
		End     time.Time       `json:"end"`
		TCP     json.RawMessage `json:"tcp"`
		Verdict struct {
			Kind string `json:"kind"`
		} `json:"verdict"`
		TLS *struct {
			Decrypted bool `json:"decrypted"`
		} `json:"tls"`
		HTTP2 *struct {
			Pings []struct {
				Frame    int  `json:"frame"`
				Inferred bool `json:"inferred"`
			} `json:"pings"`
		} `json:"http2"`
	} `json:"connections"`
}

func readReport(t *testing.T, path string) *liveReport {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r liveReport
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &r
}

func analyzeFile(t *testing.T, path string) *liveReport {
	t.Helper()
	out := path + ".json"
	var stdout, stderr bytes.Buffer
	if code := run([]string{"analyze", "--format", "json", "-o", out, path}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("analyze %s: exit %d: %s", path, code, stderr.String())
	}
	return readReport(t, out)
}

// compareReports requires the same connections with the same TCP counters
// and verdicts. With drops, live may have fewer packets, not more.
func compareReports(t *testing.T, name string, want, got *liveReport, drops bool) {
	t.Helper()
	if drops {
		if got.Inputs[0].Packets > want.Inputs[0].Packets {
			t.Errorf("%s: live has %d packets, more than %d", name, got.Inputs[0].Packets, want.Inputs[0].Packets)
		}
		return // counts may differ: the capture says it lost packets
	}
	if got.Inputs[0].Packets != want.Inputs[0].Packets {
		t.Errorf("%s: %d packets, live %d", name, want.Inputs[0].Packets, got.Inputs[0].Packets)
	}
	if len(got.Connections) != len(want.Connections) {
		t.Fatalf("%s: %d connections, live %d", name, len(want.Connections), len(got.Connections))
	}
	for i, w := range want.Connections {
		g := got.Connections[i]
		if g.Client != w.Client || g.Server != w.Server {
			t.Errorf("%s: connection %d is %s -> %s, live %s -> %s", name, i, w.Client, w.Server, g.Client, g.Server)
			continue
		}
		var wt, gt any
		json.Unmarshal(w.TCP, &wt)
		json.Unmarshal(g.TCP, &gt)
		if !reflect.DeepEqual(wt, gt) {
			t.Errorf("%s: connection %s: TCP counters differ:\n%s: %s\nlive: %s", name, w.Client, name, w.TCP, g.TCP)
		}
		if g.Verdict.Kind != w.Verdict.Kind {
			t.Errorf("%s: connection %s: verdict %s, live %s", name, w.Client, w.Verdict.Kind, g.Verdict.Kind)
		}
	}
}

// fileTee is a capture file as a teeSource, for the -w tests.
type fileTee struct{ decode.Source }

func (fileTee) Interface() int { return 0 }

// TestLiveTeeFullDisk: -w on a full disk (/dev/full) is reported once on
// stderr and the analysis goes on with every packet.
func TestLiveTeeFullDisk(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	src, err := decode.Open("../../testdata/pcaps/blackhole-s2c-h2c/client.pcap", 0)
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	tee, err := newPcapTee(fileTee{src}, "/dev/full", []string{"c0"}, []layers.LinkType{layers.LinkTypeEthernet}, "tcp", 0, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	a := analyze.New(analyze.Options{})
	info, err := a.ReadSource(tee)
	tee.close()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := decode.Open("../../testdata/pcaps/blackhole-s2c-h2c/client.pcap", 0)
	n := 0
	for ; ; n++ {
		if _, err := want.Next(); err != nil {
			break
		}
	}
	if info.Packets != n {
		t.Errorf("analysed %d packets, the capture has %d", info.Packets, n)
	}
	msg := stderr.String()
	if strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "h2pcap: -w /dev/full: ") || !strings.Contains(msg, "no space left on device") || !strings.Contains(msg, "capture goes on") {
		t.Errorf("stderr: %q", msg)
	}
}

// TestLiveTeeRoundTrip: what -w writes reads back packet for packet.
func TestLiveTeeRoundTrip(t *testing.T) {
	const in = "../../testdata/pcaps/blackhole-s2c-h2c/client.pcap"
	src, err := decode.Open(in, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "w.pcapng")
	var stderr bytes.Buffer
	tee, err := newPcapTee(fileTee{src}, out, []string{"c0"}, []layers.LinkType{layers.LinkTypeEthernet}, "tcp", 0, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := analyze.New(analyze.Options{}).ReadSource(tee); err != nil {
		t.Fatal(err)
	}
	tee.close()
	if stderr.Len() > 0 {
		t.Fatalf("stderr: %s", stderr.String())
	}
	a, _ := decode.Open(in, 0)
	b, err := decode.Open(out, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; ; i++ {
		p, errA := a.Next()
		q, errB := b.Next()
		if errA != nil || errB != nil {
			if errA != errB {
				t.Fatalf("packet %d: %v vs %v", i, errA, errB)
			}
			break
		}
		if !p.Time.Equal(q.Time) || !bytes.Equal(p.Data, q.Data) || p.WireLen != q.WireLen || p.LinkType != q.LinkType {
			t.Fatalf("packet %d differs after -w", i)
		}
	}
	if b.Info().Format != "pcapng" {
		t.Errorf("format %s", b.Info().Format)
	}
}
