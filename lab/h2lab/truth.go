package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// Truth is a scenario's truth.json: what was injected, what the client
// reported, and the verdict an analysis of the captures should reach.
type Truth struct {
	Scenario       string            `json:"scenario"`
	Description    string            `json:"description"`
	Transport      string            `json:"transport"` // tls or h2c
	Client         string            `json:"client"`
	Server         string            `json:"server"`
	ClientSettings ClientSettings    `json:"client_settings"`
	Captures       map[string]string `json:"captures,omitempty"`
	Faults         []Fault           `json:"faults"`
	ClientErrors   []ClientError     `json:"client_errors"`
	Connections    []ConnSummary     `json:"connections"`
	Expect         Expect            `json:"expect"`
	// Pings lists every HTTP/2 PING frame in the captures, as tshark
	// decrypts them with the key log (TLS scenarios that record them): the
	// truth for PINGs inferred from encrypted record sizes, and for the
	// connections a mid-connection capture cannot decrypt.
	Pings []Ping `json:"pings,omitempty"`
	// DeadFlows lists the flows a per-flow fault (perflow-blackhole)
	// dropped, as the router's nft sets recorded them, with the verdict
	// each must get per capture.
	DeadFlows []DeadFlow `json:"dead_flows,omitempty"`
	// CaptureQuality is, per capture file, what the runner measured of
	// the capture itself (scenarios about captures that lie): the
	// direction a one-way capture holds, tcpdump's own count of kernel
	// drops and what a full capture taken alongside had that this one
	// lacks, where a capture point is expected. Kept as the runner wrote
	// it: its fields differ by scenario.
	CaptureQuality map[string]json.RawMessage `json:"capture_quality,omitempty"`
	// Probes counts, per capture, the traceroute probes tshark finds
	// (traceroute-probes): the truth for summary.probes.
	Probes []ProbeCount `json:"probes,omitempty"`
}

// DeadFlow is one flow the router black-holed: its client port, the
// packets nft dropped each way, the client connection it was (none: a
// redial whose handshake never completed) and the verdicts it must get.
type DeadFlow struct {
	ClientPort            int   `json:"client_port"`
	DroppedClientToServer int   `json:"dropped_client_to_server"`
	DroppedServerToClient int   `json:"dropped_server_to_client"`
	Conn                  *int  `json:"conn"`
	Idle                  *bool `json:"idle,omitempty"` // an idle connection (health-check PINGs only)
	// Expect is the verdicts allowed per capture (any of).
	Expect map[string][]FlowExpect `json:"expect,omitempty"`
}

// FlowExpect is one verdict a flow may get in a capture.
type FlowExpect struct {
	Verdict       string `json:"verdict"`
	LossDirection string `json:"loss_direction"`
}

// ProbeCount is what tshark counts of a capture's traceroute probes: SYNs
// (without ACK) with a TTL of 30 or less, and ICMP time exceeded errors
// quoting one.
type ProbeCount struct {
	Capture      string `json:"capture"`
	SYNs         int    `json:"syns"`
	TimeExceeded int    `json:"icmp_time_exceeded"`
}

// Ping is one PING or PING ACK frame in one capture.
type Ping struct {
	Capture    string `json:"capture"` // client.pcap or server.pcap
	Frame      int    `json:"frame"`   // the frame whose TCP segment carries the record
	ClientPort int    `json:"client_port"`
	From       string `json:"from"` // client or server
	Ack        bool   `json:"ack"`
	Data       string `json:"data"` // the 8 opaque bytes, hex
}

type ClientSettings struct {
	ReadIdleTimeoutS float64 `json:"read_idle_timeout_s"`
	PingTimeoutS     float64 `json:"ping_timeout_s"`
	Conns            int     `json:"conns,omitempty"`
	PingEveryS       float64 `json:"ping_every_s,omitempty"`
	// IdleConns: the last IdleConns of Conns make no periodic requests.
	IdleConns int `json:"idle_conns,omitempty"`
}

// Fault is one nft rule on the router's forward chain, with the wall-clock
// times (UTC) right after it was added and removed.
type Fault struct {
	Start     string  `json:"start"`
	End       *string `json:"end"`
	Direction string  `json:"direction"`
	NFT       string  `json:"nft"`
	What      string  `json:"what"`
	// Packets is what the fault's rules matched (dropped or rejected),
	// from their nft counters read just before the rules were deleted;
	// absent for rules without a counter.
	Packets *int `json:"packets,omitempty"`
}

type ClientError struct {
	Time  string `json:"time"`
	Msg   string `json:"msg"`
	Op    string `json:"op,omitempty"`
	Conn  *int   `json:"conn,omitempty"`
	Local string `json:"local,omitempty"`
	// Remote is the address dialed, for the short-lived connections'
	// failed dials (client --dial-every): with Local it names the
	// failed handshake's connection in the captures.
	Remote string `json:"remote,omitempty"`
	// After is how long the dial tried before it failed (a Go duration).
	After string `json:"after,omitempty"`
}

// ConnSummary is one client TCP connection as the client log saw it, keyed
// by its local address so it can be matched to a capture's client port.
type ConnSummary struct {
	Local      string  `json:"local"`
	Conn       int     `json:"conn"`
	Connected  string  `json:"connected"`
	Closed     *string `json:"closed"`
	RequestsOK int     `json:"requests_ok"`
	Errors     int     `json:"errors"`
	FirstError *string `json:"first_error"`
	// ConnectMs is how long the dial took (TCP connect and, for TLS, the
	// handshake): a second or more means a SYN or SYN-ACK was sent again.
	ConnectMs float64 `json:"connect_ms,omitempty"`
	// What the TLS handshake negotiated (crypto/tls's names), for TLS
	// scenarios: record sizes depend on both.
	TLSVersion  string `json:"tls_version,omitempty"`
	CipherSuite string `json:"cipher_suite,omitempty"`
}

type Expect struct {
	Verdict       string   `json:"verdict"`
	LossDirection string   `json:"loss_direction"`
	Suspects      []string `json:"suspects"`
	Notes         string   `json:"notes"`
}

func runTruth(args []string) error {
	var t Truth
	fs := flag.NewFlagSet("truth", flag.ExitOnError)
	fs.StringVar(&t.Scenario, "scenario", "", "scenario name")
	fs.StringVar(&t.Description, "description", "", "what the scenario does")
	fs.StringVar(&t.Transport, "transport", "tls", "tls or h2c")
	fs.StringVar(&t.Client, "client", "198.18.1.2", "client address")
	fs.StringVar(&t.Server, "server", "198.18.2.2:8443", "server host:port")
	fs.Float64Var(&t.ClientSettings.ReadIdleTimeoutS, "read-idle-timeout", 2, "client ReadIdleTimeout in seconds")
	fs.Float64Var(&t.ClientSettings.PingTimeoutS, "ping-timeout", 1, "client PingTimeout in seconds")
	fs.IntVar(&t.ClientSettings.Conns, "conns", 1, "client parallel connections")
	fs.Float64Var(&t.ClientSettings.PingEveryS, "ping-every", 0, "explicit ClientConn.Ping period in seconds")
	faults := fs.String("faults", "", "JSON-lines `file` of faults written by run.sh")
	clientLog := fs.String("log", "", "client JSON-lines log")
	captures := fs.String("captures", "", "`name=what;...` describing each capture file")
	fs.StringVar(&t.Expect.Verdict, "verdict", "healthy", "expected verdict")
	fs.StringVar(&t.Expect.LossDirection, "loss-direction", "none", "expected loss direction")
	suspects := fs.String("suspects", "", "comma-separated expected suspects")
	verdictIfLost := fs.String("verdict-if-lost", "", "verdict instead of -verdict when the client logged \"http2: client connection lost\" (random faults differ run to run)")
	fs.StringVar(&t.Expect.Notes, "notes", "", "notes; a summary of the client's connections is appended")
	pings := fs.String("pings", "", "JSON-lines `file` of the PINGs in the captures, written by run.sh")
	fs.IntVar(&t.ClientSettings.IdleConns, "idle-conns", 0, "the last N client connections were idle")
	deadFlows := fs.String("dead-flows", "", "JSON-lines `file` of the flows a per-flow fault dropped, written by run.sh")
	expectBusy := fs.String("dead-expect-busy", "", "verdicts of a dead busy flow: `capture=kind/direction,kind/direction;...`")
	expectIdle := fs.String("dead-expect-idle", "", "verdicts of a dead idle flow, as -dead-expect-busy")
	quality := fs.String("capture-quality", "", "JSON `file`: an object of what the runner measured of each capture, by file name")
	probes := fs.String("probes", "", "JSON-lines `file` of the probe counts per capture, written by run.sh")
	out := fs.String("out", "truth.json", "output `file`")
	wantError := fs.String("want-error", "", "check: some client error must contain this text")
	wantNoErrors := fs.Bool("want-no-errors", false, "check: the client must have logged no error")
	fs.Parse(args)

	t.Expect.Suspects = []string{}
	if *suspects != "" {
		t.Expect.Suspects = strings.Split(*suspects, ",")
	}
	if *captures != "" {
		t.Captures = map[string]string{}
		for _, kv := range strings.Split(*captures, ";") {
			k, v, _ := strings.Cut(kv, "=")
			t.Captures[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	t.Faults = []Fault{}
	if *faults != "" {
		if err := readJSONLines(*faults, func(b []byte) error {
			var f Fault
			if err := json.Unmarshal(b, &f); err != nil {
				return err
			}
			t.Faults = append(t.Faults, f)
			return nil
		}); err != nil {
			return fmt.Errorf("read faults: %w", err)
		}
	}
	if *pings != "" {
		if err := readJSONLines(*pings, func(b []byte) error {
			var p Ping
			if err := json.Unmarshal(b, &p); err != nil {
				return err
			}
			t.Pings = append(t.Pings, p)
			return nil
		}); err != nil {
			return fmt.Errorf("read pings: %w", err)
		}
	}
	if *quality != "" {
		b, err := os.ReadFile(*quality)
		if err != nil {
			return fmt.Errorf("read capture quality: %w", err)
		}
		if err := json.Unmarshal(b, &t.CaptureQuality); err != nil {
			return fmt.Errorf("read capture quality %s: %w", *quality, err)
		}
	}
	if *probes != "" {
		if err := readJSONLines(*probes, func(b []byte) error {
			var p ProbeCount
			if err := json.Unmarshal(b, &p); err != nil {
				return err
			}
			t.Probes = append(t.Probes, p)
			return nil
		}); err != nil {
			return fmt.Errorf("read probes: %w", err)
		}
	}
	t.ClientErrors = []ClientError{}
	t.Connections = []ConnSummary{}
	if *clientLog != "" {
		byLocal := map[string]*ConnSummary{}
		if err := readJSONLines(*clientLog, func(b []byte) error {
			var e logEntry
			if err := json.Unmarshal(b, &e); err != nil {
				return err
			}
			cs := byLocal[e.Local]
			if e.Op == "dial" && e.Level == "info" && e.Conn != nil {
				cs = &ConnSummary{Local: e.Local, Conn: *e.Conn, Connected: e.Time}
				if d, err := time.ParseDuration(strings.TrimPrefix(e.Msg, "connected in ")); err == nil {
					cs.ConnectMs = float64(d.Microseconds()) / 1000
				}
				if x, ok := e.Extra.(map[string]any); ok {
					cs.TLSVersion, _ = x["tls_version"].(string)
					cs.CipherSuite, _ = x["cipher_suite"].(string)
				}
				byLocal[e.Local] = cs
				return nil
			}
			switch {
			case e.Level == "error":
				ce := ClientError{Time: e.Time, Msg: e.Msg, Op: e.Op, Conn: e.Conn, Local: e.Local, Remote: e.Remote}
				if x, ok := e.Extra.(map[string]any); ok {
					ce.After, _ = x["after"].(string)
				}
				t.ClientErrors = append(t.ClientErrors, ce)
				if cs != nil {
					cs.Errors++
					if cs.FirstError == nil {
						s := e.Time + " " + e.Op + ": " + e.Msg
						cs.FirstError = &s
					}
				}
			case cs != nil && e.Op == "conn" && e.Msg == "connection closed":
				tm := e.Time
				cs.Closed = &tm
			case cs != nil && strings.HasPrefix(e.Op, "GET ") && strings.HasPrefix(e.Msg, "200,"):
				cs.RequestsOK++
			}
			return nil
		}); err != nil {
			return fmt.Errorf("read client log: %w", err)
		}
		for _, cs := range byLocal {
			if cs.Local != "" {
				t.Connections = append(t.Connections, *cs)
			}
		}
		sort.Slice(t.Connections, func(i, j int) bool { return t.Connections[i].Connected < t.Connections[j].Connected })
	}
	if *verdictIfLost != "" {
		for _, e := range t.ClientErrors {
			if strings.Contains(e.Msg, "http2: client connection lost") {
				t.Expect.Verdict = *verdictIfLost
				t.Expect.Notes += " At least one connection was closed by the client's health check (PING unanswered within PingTimeout)."
				break
			}
		}
	}
	if *deadFlows != "" {
		if err := t.readDeadFlows(*deadFlows, parseExpect(*expectBusy), parseExpect(*expectIdle)); err != nil {
			return fmt.Errorf("read dead flows: %w", err)
		}
	}
	var sb strings.Builder
	sb.WriteString(t.Expect.Notes)
	if len(t.Connections) > 0 {
		sb.WriteString(" Client connections (from client.log):")
		for _, cs := range t.Connections {
			fmt.Fprintf(&sb, " %s (conn %d) connected %s", cs.Local, cs.Conn, cs.Connected)
			if cs.TLSVersion != "" {
				fmt.Fprintf(&sb, " (%s %s)", cs.TLSVersion, cs.CipherSuite)
			}
			fmt.Fprintf(&sb, ", %d requests ok", cs.RequestsOK)
			if cs.FirstError != nil {
				fmt.Fprintf(&sb, ", first error %s", *cs.FirstError)
			}
			if cs.Closed != nil {
				fmt.Fprintf(&sb, ", closed %s", *cs.Closed)
			}
			sb.WriteString(";")
		}
	}
	// The failed handshakes, by client port: the connections the
	// captures show without a dial line (client --dial-every).
	first := true
	for _, e := range t.ClientErrors {
		if e.Op != "dial" || e.Local == "" {
			continue
		}
		if first {
			sb.WriteString(" Failed dials (from client.log):")
			first = false
		}
		fmt.Fprintf(&sb, " %s -> %s failed %s after %s: %s;", e.Local, e.Remote, e.Time, e.After, e.Msg)
	}
	t.Expect.Notes = strings.TrimSpace(sb.String())

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&t); err != nil {
		return fmt.Errorf("marshal truth: %w", err)
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	// truth.json records what happened either way; the checks only tell
	// the runner that this run did not show what the scenario is for
	// (a loaded machine can shift the timing), so it can be rerun.
	if *wantNoErrors && len(t.ClientErrors) > 0 {
		return fmt.Errorf("%s: expected no client error, got %d (first: %s)", t.Scenario, len(t.ClientErrors), t.ClientErrors[0].Msg)
	}
	if *wantError != "" {
		for _, e := range t.ClientErrors {
			if strings.Contains(e.Msg, *wantError) {
				return nil
			}
		}
		return fmt.Errorf("%s: expected a client error containing %q, none logged", t.Scenario, *wantError)
	}
	return nil
}

func readJSONLines(path string, fn func([]byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		if err := fn(sc.Bytes()); err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	return sc.Err()
}

// readDeadFlows reads the flows the router dropped and ties each to the
// client connection on its port: a connection among the last IdleConns
// was idle.
func (t *Truth) readDeadFlows(path string, busy, idle map[string][]FlowExpect) error {
	byPort := map[int]*ConnSummary{}
	for i := range t.Connections {
		cs := &t.Connections[i]
		if i := strings.LastIndexByte(cs.Local, ':'); i >= 0 {
			var port int
			fmt.Sscan(cs.Local[i+1:], &port)
			byPort[port] = cs
		}
	}
	return readJSONLines(path, func(b []byte) error {
		var f DeadFlow
		if err := json.Unmarshal(b, &f); err != nil {
			return err
		}
		if cs := byPort[f.ClientPort]; cs != nil {
			conn, isIdle := cs.Conn, cs.Conn >= t.ClientSettings.Conns-t.ClientSettings.IdleConns
			f.Conn, f.Idle = &conn, &isIdle
			f.Expect = busy
			if isIdle {
				f.Expect = idle
			}
		}
		t.DeadFlows = append(t.DeadFlows, f)
		return nil
	})
}

// parseExpect reads "capture=kind/direction,kind/direction;capture=...".
func parseExpect(s string) map[string][]FlowExpect {
	if s == "" {
		return nil
	}
	m := map[string][]FlowExpect{}
	for _, kv := range strings.Split(s, ";") {
		k, v, _ := strings.Cut(kv, "=")
		for _, e := range strings.Split(strings.TrimSpace(v), ",") {
			kind, dir, _ := strings.Cut(e, "/")
			m[strings.TrimSpace(k)] = append(m[strings.TrimSpace(k)], FlowExpect{Verdict: kind, LossDirection: dir})
		}
	}
	return m
}
