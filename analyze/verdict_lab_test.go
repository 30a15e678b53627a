package analyze

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/decode/tls"
	"github.com/h2pcap/h2pcap/model"
)

// verdictTruth is the part of a lab scenario's truth.json the verdict test reads.
type verdictTruth struct {
	Scenario string `json:"scenario"`
	Server   string `json:"server"`
	// Lab is "etcd" for the etcd scenarios, which have member captures
	// and their own test (TestEtcdLab).
	Lab         string `json:"lab"`
	Connections []struct {
		Local      string  `json:"local"`
		FirstError *string `json:"first_error"`
		ConnectMs  float64 `json:"connect_ms"`
	} `json:"connections"`
	ClientErrors []struct {
		Op     string `json:"op"`
		Msg    string `json:"msg"`
		Local  string `json:"local"`
		Remote string `json:"remote"`
	} `json:"client_errors"`
	Expect struct {
		Verdict       model.Kind          `json:"verdict"`
		LossDirection model.LossDirection `json:"loss_direction"`
		Suspects      []model.Suspect     `json:"suspects"`
	} `json:"expect"`
	ClientSettings struct {
		ReadIdleTimeoutS float64 `json:"read_idle_timeout_s"`
	} `json:"client_settings"`
	Faults []struct {
		Start time.Time `json:"start"`
	} `json:"faults"`
	// DeadFlows (perflow-blackhole): the flows the router dropped, each
	// with the verdicts it may get per capture.
	DeadFlows []struct {
		ClientPort uint16 `json:"client_port"`
		Idle       *bool  `json:"idle"`
		Expect     map[string][]struct {
			Verdict       model.Kind          `json:"verdict"`
			LossDirection model.LossDirection `json:"loss_direction"`
		} `json:"expect"`
	} `json:"dead_flows"`
}

// verdictWant is what one connection's verdict must say in one capture.
type verdictWant struct {
	kinds    []model.Kind          // any of
	dirs     []model.LossDirection // any of; nil: not checked
	suspects []model.Suspect       // must all be there
}

// verdictOverride states, per scenario, capture and client port, where the
// verdict must differ from what truth.json expects for the scenario, and
// why. Everything else follows the truth: connections with a client
// error get the scenario's verdict and loss direction, the others are
// healthy (degraded in the loss scenarios).
var verdictOverride = map[string]map[string]map[uint16]verdictWant{
	// The client retransmits its PING and hears nothing: the PING or the
	// server's answer was lost after leaving the client; only a
	// server-side capture tells (there the client retransmits data the
	// server ACKed: server->client).
	"blackhole-s2c-tls": {"client.pcap": {41286: {kinds: []model.Kind{model.KindLostPing}, dirs: []model.LossDirection{model.LossUnknown}}}},
	// Client side: the same ambiguity. Server side: nothing from the
	// client arrives for 7 s; whether it was lost or never sent only the
	// client-side capture tells.
	"blackhole-c2s-h2c": {
		"client.pcap": {35066: {kinds: []model.Kind{model.KindLostPing}, dirs: []model.LossDirection{model.LossUnknown}}},
		"server.pcap": {35066: {kinds: []model.Kind{model.KindLostPing}, dirs: []model.LossDirection{model.LossUnknown}}},
	},
	// The health-check PING decoded without ACK (client.pcap frame 42)
	// after which the client closed: lost_ping. From the client side the
	// direction is as ambiguous as in blackhole-s2c-tls; server.pcap
	// (the PING ACK, frame 43, sent again and again, and the client's
	// spurious retransmissions of the PING) follows the truth:
	// server_to_client. The client's FIN never reaches the wire (it
	// waits behind the unacknowledged PING, and the lost connection's
	// server->client packets stay dropped until the captures end).
	"blackhole-s2c-h2c": {"client.pcap": {34482: {kinds: []model.Kind{model.KindLostPing}, dirs: []model.LossDirection{model.LossUnknown}}}},
	// The same, captured at four points: the client's capture alone
	// cannot tell the direction; the four points together place the PING
	// ACK between router-s and router-c (cmd's TestPointsLab).
	"multipoint-blackhole": {"client.pcap": {49858: {kinds: []model.Kind{model.KindLostPing}, dirs: []model.LossDirection{model.LossUnknown}}}},
	// As blackhole-s2c-tls on the client side. The redials after the
	// fault waited for a retransmitted SYN-ACK: degraded is right.
	"midconn": {
		"client.pcap": {
			41888: {kinds: []model.Kind{model.KindLostPing}, dirs: []model.LossDirection{model.LossUnknown}},
			41902: {kinds: []model.Kind{model.KindLostPing}, dirs: []model.LossDirection{model.LossUnknown}},
			42016: {kinds: []model.Kind{model.KindHealthy, model.KindDegraded}},
			42024: {kinds: []model.Kind{model.KindHealthy, model.KindDegraded}},
		},
		"server.pcap": {
			42016: {kinds: []model.Kind{model.KindHealthy, model.KindDegraded}},
			42024: {kinds: []model.Kind{model.KindHealthy, model.KindDegraded}},
		},
	},
	// TLS 1.2 AES-128-GCM and ChaCha20-Poly1305, TLS 1.3 mid-connection:
	// with the key log the lost connection follows the truth in both
	// captures, and unlike blackhole-s2c-tls the client side can tell the
	// direction: once the fault ends, the server's dup ACKs carry a D-SACK
	// of the client's PING (client.pcap frames 95 in -gcm, 94 in -chacha,
	// 54 in midconn-tls; the server had it all along) ahead of its
	// retransmitted PING ACK. The redial during the black hole waited for
	// a retransmitted SYN-ACK: degraded is right, as in midconn.
	"blackhole-s2c-tls12-gcm": {
		"client.pcap": {51928: {kinds: []model.Kind{model.KindHealthy, model.KindDegraded}}},
		"server.pcap": {51928: {kinds: []model.Kind{model.KindHealthy, model.KindDegraded}}},
	},
	"blackhole-s2c-tls12-chacha": {
		"client.pcap": {46714: {kinds: []model.Kind{model.KindHealthy, model.KindDegraded}}},
		"server.pcap": {46714: {kinds: []model.Kind{model.KindHealthy, model.KindDegraded}}},
	},
	"midconn-tls": {
		"client.pcap": {34926: {kinds: []model.Kind{model.KindHealthy, model.KindDegraded}}},
		"server.pcap": {34926: {kinds: []model.Kind{model.KindHealthy, model.KindDegraded}}},
	},
	// Client->server packets dropped beyond the router, before the
	// server: each lost request is alone in flight, so the server never
	// sees a gap (its first copy is the retransmission), while the
	// client's ACKs lost on the same stretch make the server send its
	// answers again. At the server only those show: data or ACK lost, one
	// capture cannot tell; the client-side and the router's captures
	// (TestCaptureQualityLab) name client->server.
	"router-capture": {"server.pcap": {33848: {kinds: []model.Kind{model.KindDegraded}, dirs: []model.LossDirection{model.LossUnknown}}}},
	// multipoint-loss and multipoint-nat drop at random both ways,
	// pure ACKs included. At the server a retransmission of its own is
	// a lost segment or a lost ACK alike, and a client request lost
	// alone in flight reaches it first as its retransmission (no gap):
	// a connection whose evidence there is only that reads unknown from
	// that capture alone, rightly; the four points together
	// (TestPointsLab) place every loss.
	"multipoint-loss": {"server.pcap": {44222: {kinds: []model.Kind{model.KindDegraded}, dirs: []model.LossDirection{model.LossUnknown}}}},
	"multipoint-nat":  {"server.pcap": {42342: {kinds: []model.Kind{model.KindDegraded}, dirs: []model.LossDirection{model.LossUnknown}}}},
	// The drops hit this connection lightly: its client capture shows
	// one retransmission each way, what a healthy connection may show
	// (a tail loss probe); the four points (TestPointsLab) count them.
	"multipoint-synproxy": {"client.pcap": {38840: {kinds: []model.Kind{model.KindHealthy, model.KindDegraded}}}},
	// The first two connections end with the server's GOAWAY (no client
	// error: the client moves on). With the key log the GOAWAY is decoded;
	// without, it is inferred from the client's close right after an
	// unasked record.
	"graceful-shutdown": {
		"client.pcap": {48404: {kinds: []model.Kind{model.KindGoaway}, dirs: []model.LossDirection{model.LossNone}}, 48408: {kinds: []model.Kind{model.KindGoaway}, dirs: []model.LossDirection{model.LossNone}}},
		"server.pcap": {48404: {kinds: []model.Kind{model.KindGoaway}, dirs: []model.LossDirection{model.LossNone}}, 48408: {kinds: []model.Kind{model.KindGoaway}, dirs: []model.LossDirection{model.LossNone}}},
	},
}

// noKeys suffixes a capture's name in verdictOverride for what differs
// when its TLS is analysed without the key log.
const noKeys = " without keys"

// verdictSuspects are the suspects the verdict names; truth.json also lists
// descriptive ones (blackhole, random_loss, server_shutdown,
// midstream_capture) the verdict says in other words.
var verdictSuspects = []model.Suspect{model.SuspectMTUBlackhole, model.SuspectMiddleboxReset, model.SuspectTooManyPings, model.SuspectServerStalled}

// verdictReport analyzes one lab capture as cmd/h2pcap does.
func verdictReport(t *testing.T, path string) *model.Report {
	t.Helper()
	return verdictReportKeys(t, path, false)
}

// verdictReportKeys is verdictReport with --keylog keylog.txt (from the
// capture's directory) when withKeys.
func verdictReportKeys(t *testing.T, path string, withKeys bool) *model.Report {
	t.Helper()
	var opts Options
	if withKeys {
		keys, err := tls.ReadKeyLogFile(filepath.Join(filepath.Dir(path), "keylog.txt"))
		if err != nil {
			t.Fatal(err)
		}
		opts.Keys = keys
	}
	rep, _ := runPath(t, path, opts)
	return rep
}

func verdictClientPort(s string) uint16 {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return 0
	}
	return ap.Port()
}

// TestVerdictLab checks every lab scenario's verdicts against its
// truth.json, on the client-side and the server-side capture.
func TestVerdictLab(t *testing.T) {
	for _, lt := range readLabTruths[verdictTruth](t, "*") {
		tp, tr := lt.path, lt.truth
		if tr.Lab == "etcd" {
			continue
		}
		dir := filepath.Dir(tp)
		// A TLS scenario is judged with its key log (decrypted HTTP/2)
		// and without (TCP and record sizes alone).
		modes := []bool{false}
		if _, err := os.Stat(filepath.Join(dir, "keylog.txt")); err == nil {
			modes = []bool{true, false}
		}
		for _, capture := range []string{"client.pcap", "server.pcap"} {
			for _, withKeys := range modes {
				name := tr.Scenario + "/" + capture
				if len(modes) > 1 && !withKeys {
					name += "/nokeys"
				}
				t.Run(name, func(t *testing.T) {
					r := verdictReportKeys(t, filepath.Join(dir, capture), withKeys)
					wantPoint := model.CapturePoint(strings.TrimSuffix(capture, ".pcap"))
					if r.CapturePoint != wantPoint {
						t.Errorf("capture_point %q, want %q", r.CapturePoint, wantPoint)
					}
					checkVerdicts(t, &tr, capture, withKeys || len(modes) == 1, r)
				})
			}
		}
	}
}

// checkVerdicts compares r's verdicts with the truth. keyed is false for
// a TLS capture analysed without its key log: an override for
// capture+noKeys then comes first.
func checkVerdicts(t *testing.T, tr *verdictTruth, capture string, keyed bool, r *model.Report) {
	byPort := map[uint16]*model.Connection{}
	for _, c := range r.Connections {
		// The last connection on a port is the one the client log names
		// (a refused SYN may have used it before).
		byPort[verdictClientPort(c.Client)] = c
	}
	dirsSeen := map[model.LossDirection]bool{}
	for _, tc := range tr.Connections {
		port := verdictClientPort(tc.Local)
		c := byPort[port]
		if c == nil {
			t.Errorf("client port %d: no connection in the capture", port)
			continue
		}
		want, ok := verdictOverride[tr.Scenario][capture+noKeys][port]
		if keyed || !ok {
			want, ok = verdictOverride[tr.Scenario][capture][port]
		}
		dead := deadFlowWant(tr, capture, port)
		switch {
		case dead != nil:
			want = *dead
		case !ok:
			want = verdictDefault(tr, tc.FirstError != nil)
			// A dial that took a second or more waited for a SYN or
			// SYN-ACK sent again (lab/README.md: synack-loss-healed's
			// late connects): that loss may show as degraded, by
			// the capture's rules of evidence.
			if tc.ConnectMs >= 1000 && tc.FirstError == nil {
				want = verdictWant{kinds: []model.Kind{model.KindHealthy, model.KindDegraded}}
			}
		}
		v := c.Verdict
		if v == nil {
			t.Errorf("port %d: no verdict", port)
			continue
		}
		if dead != nil {
			checkDeadSince(t, tr, port, v)
		}
		dirsSeen[v.LossDirection] = true
		if !slices.Contains(want.kinds, v.Kind) {
			t.Errorf("port %d: kind %s, want %v; %s", port, v.Kind, want.kinds, v.Summary)
		}
		if want.dirs != nil && !slices.Contains(want.dirs, v.LossDirection) {
			t.Errorf("port %d: loss_direction %s, want %v; %s", port, v.LossDirection, want.dirs, v.Summary)
		}
		// Where the direction is known, the place follows from the
		// capture: the receiver's capture misses what was lost (before),
		// the sender's sees it go (after).
		if d := v.LossDirection; d == model.LossClientToServer || d == model.LossServerToClient {
			loc := model.BeforeCapture
			if capture == "client.pcap" == (d == model.LossClientToServer) {
				loc = model.AfterCapture
			}
			if v.LossLocation != loc {
				t.Errorf("port %d: loss_location %s, want %s; %s", port, v.LossLocation, loc, v.Summary)
			}
		}
		for _, s := range verdictSuspects {
			if w, g := slices.Contains(want.suspects, s), slices.Contains(v.Suspects, s); w != g {
				t.Errorf("port %d: suspect %s: got %v, want %v; %s", port, s, g, w, v.Summary)
			}
		}
		if v.Summary == "" || len(v.Evidence) > verdict.MaxEvidence {
			t.Errorf("port %d: summary %q, %d evidence", port, v.Summary, len(v.Evidence))
		}
		if testing.Verbose() {
			t.Logf("port %d: %s %s %s %v: %s", port, v.Kind, v.LossDirection, v.LossLocation, v.Suspects, v.Summary)
		}
	}
	checkFailedDials(t, tr, capture, byPort)
	// Loss both ways shows per connection only where a connection lost
	// packets each way; across the scenario both directions must show.
	// Not where whole flows died both ways (dead_flows): no capture of
	// one end can tell a direction there, and each flow's says so.
	if tr.Expect.LossDirection == model.LossBoth && len(tr.DeadFlows) == 0 && bothUnseen[tr.Scenario+"/"+capture] == "" && !dirsSeen[model.LossBoth] &&
		!(dirsSeen[model.LossClientToServer] && dirsSeen[model.LossServerToClient]) {
		t.Errorf("loss both ways: directions seen %v", dirsSeen)
	}
	if r.Summary == nil || r.Summary.Connections != len(r.Connections) || r.Summary.Headline == "" {
		t.Errorf("summary %+v", r.Summary)
	}
}

// bothUnseen names the captures of a scenario with loss both ways where
// one direction's loss cannot show, and why.
var bothUnseen = map[string]string{
	// As their verdictOverride says: at the server, the loss of one
	// direction reads as unknown or not at all.
	"multipoint-loss/server.pcap": "server retransmissions explained by lost segments and lost ACKs alike",
	"multipoint-nat/server.pcap":  "client->server loss of lone requests and ACKs leaves no gap at the server",
}

// deadFlowWant is what truth.json's dead_flows expects of the flow from
// client port in capture; nil when the flow is not one of them. Its
// kind and direction pairs are flattened into kinds and directions.
func deadFlowWant(tr *verdictTruth, capture string, port uint16) *verdictWant {
	for _, f := range tr.DeadFlows {
		if f.ClientPort != port || len(f.Expect[capture]) == 0 {
			continue
		}
		w := &verdictWant{}
		for _, e := range f.Expect[capture] {
			w.kinds = append(w.kinds, e.Verdict)
			w.dirs = append(w.dirs, e.LossDirection)
		}
		return w
	}
	return nil
}

// checkDeadSince holds a dead flow's verdict.since to the fault's start:
// the flow made its last progress before the router started dropping
// (plus a round trip's slack at most: the captures are one hop from the
// router), and no earlier than the last exchange it can have had: a busy
// flow's requests come every 400 ms, an idle one's PINGs every
// ReadIdleTimeout; half a second more for a loaded machine.
func checkDeadSince(t *testing.T, tr *verdictTruth, port uint16, v *model.Verdict) {
	t.Helper()
	if len(tr.Faults) == 0 {
		return
	}
	if v.Since == nil {
		t.Errorf("port %d: %s without since", port, v.Kind)
		return
	}
	start := tr.Faults[0].Start
	earliest := start.Add(-time.Duration((tr.ClientSettings.ReadIdleTimeoutS + 0.5) * float64(time.Second)))
	if v.Since.Time.After(start.Add(50*time.Millisecond)) || v.Since.Time.Before(earliest) {
		t.Errorf("port %d: since %s (frame %d), the fault started %s", port, v.Since.Time.Format(time.RFC3339Nano), v.Since.Frame, start.Format(time.RFC3339Nano))
	}
}

// checkFailedDials holds the verdicts on the dials that failed (client
// errors of op "dial" that name their client port: client --dial-every)
// to the truth:
//   - a dial that timed out (i/o timeout) is connect_failed: in
//     server.pcap, whose capture saw its SYN-ACKs go, lost server->client
//     (the scenario's direction); in client.pcap unknown (the SYN or the
//     SYN-ACK), or the scenario's direction where a SYN-ACK sent again
//     by the server came late;
//   - a dial refused (connection refused) to the scenario's server was
//     refused as the truth says (middlebox-refuse: by the router, so
//     server.pcap has no trace of it); one to any other port was refused
//     by the server host (nothing listening): reset, no suspect, in both
//     captures.
func checkFailedDials(t *testing.T, tr *verdictTruth, capture string, byPort map[uint16]*model.Connection) {
	for _, e := range tr.ClientErrors {
		port := verdictClientPort(e.Local)
		if e.Op != "dial" || port == 0 {
			continue
		}
		var want verdictWant
		absent := false
		switch {
		case strings.Contains(e.Msg, "i/o timeout"):
			want = verdictWant{kinds: []model.Kind{model.KindConnectFailed}, dirs: []model.LossDirection{tr.Expect.LossDirection}}
			if capture == "client.pcap" {
				want.dirs = append(want.dirs, model.LossUnknown)
			}
		case strings.Contains(e.Msg, "connection refused") && e.Remote == tr.Server:
			want = verdictWant{kinds: []model.Kind{tr.Expect.Verdict}, dirs: []model.LossDirection{model.LossNone}}
			if slices.Contains(tr.Expect.Suspects, model.SuspectMiddleboxReset) {
				want.suspects = []model.Suspect{model.SuspectMiddleboxReset}
				absent = capture == "server.pcap"
			}
		case strings.Contains(e.Msg, "connection refused"):
			want = verdictWant{kinds: []model.Kind{model.KindReset}, dirs: []model.LossDirection{model.LossNone}}
		default:
			t.Errorf("failed dial from port %d: %q: no rule for it", port, e.Msg)
			continue
		}
		c := byPort[port]
		switch {
		case absent && c != nil:
			t.Errorf("failed dial from port %d: in %s, where the router's refusal leaves no trace: %s %s", port, capture, c.Verdict.Kind, c.Verdict.Summary)
			continue
		case absent:
			continue
		case c == nil:
			t.Errorf("failed dial from port %d (%s): no connection in the capture", port, e.Msg)
			continue
		}
		v := c.Verdict
		if !slices.Contains(want.kinds, v.Kind) || !slices.Contains(want.dirs, v.LossDirection) {
			t.Errorf("failed dial from port %d (%s): %s %s, want %v %v; %s", port, e.Msg, v.Kind, v.LossDirection, want.kinds, want.dirs, v.Summary)
		}
		for _, s := range verdictSuspects {
			if w, g := slices.Contains(want.suspects, s), slices.Contains(v.Suspects, s); w != g {
				t.Errorf("failed dial from port %d: suspect %s: got %v, want %v; %s", port, s, g, w, v.Summary)
			}
		}
		if v.Kind == model.KindConnectFailed && (v.Since == nil || v.Since.Frame != c.FirstFrame) {
			t.Errorf("failed dial from port %d: since %+v, want the first SYN (frame %d)", port, v.Since, c.FirstFrame)
		}
		if v.Kind == model.KindReset && strings.Contains(v.Summary, "nothing listening") == (want.suspects != nil) {
			t.Errorf("failed dial from port %d: refused by the %s, but: %s", port, map[bool]string{true: "router", false: "server host"}[want.suspects != nil], v.Summary)
		}
		if testing.Verbose() {
			t.Logf("failed dial from port %d: %s %s %s %v: %s", port, v.Kind, v.LossDirection, v.LossLocation, v.Suspects, v.Summary)
		}
	}
}

// verdictDefault is the truth's expectation for one connection: failed ones
// (a client error) get the scenario's verdict; in the loss scenarios
// (degraded) every connection does; the others must be healthy.
func verdictDefault(tr *verdictTruth, failed bool) verdictWant {
	var sus []model.Suspect
	for _, s := range tr.Expect.Suspects {
		if slices.Contains(verdictSuspects, s) {
			sus = append(sus, s)
		}
	}
	e := tr.Expect
	switch {
	case e.Verdict == model.KindDegraded:
		w := verdictWant{kinds: []model.Kind{model.KindDegraded}, dirs: []model.LossDirection{e.LossDirection}, suspects: sus}
		if e.LossDirection == model.LossBoth {
			w.dirs = []model.LossDirection{model.LossBoth, model.LossClientToServer, model.LossServerToClient}
		}
		return w
	case failed:
		return verdictWant{kinds: []model.Kind{e.Verdict}, dirs: []model.LossDirection{e.LossDirection}, suspects: sus}
	}
	return verdictWant{kinds: []model.Kind{model.KindHealthy}, dirs: []model.LossDirection{model.LossNone}}
}

// TestCapturePointLab: every lab capture was taken at the client
// (client.pcap) or the server (server.pcap), and each connection with a
// handshake or TTLs from both sides says so.
func TestCapturePointLab(t *testing.T) {
	for _, name := range []string{"client", "server"} {
		paths, _ := filepath.Glob(filepath.Join("..", "testdata", "pcaps", "*", name+".pcap"))
		if len(paths) == 0 {
			t.Skip("no lab captures")
		}
		for _, p := range paths {
			r := verdictReport(t, p)
			if r.CapturePoint != model.CapturePoint(name) {
				t.Errorf("%s: capture_point %s", p, r.CapturePoint)
			}
			for _, c := range r.Connections {
				if c.CapturePoint != model.CapturePoint(name) && c.CapturePoint != model.PointUnknown {
					t.Errorf("%s stream %d: capture_point %s", p, c.Stream, c.CapturePoint)
				}
			}
		}
	}
}
