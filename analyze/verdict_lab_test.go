package analyze

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/decode/tls"
	"github.com/h2pcap/h2pcap/model"
)

// verdictTruth is the part of a lab scenario's truth.json the verdict test reads.
type verdictTruth struct {
	Scenario string `json:"scenario"`
	// Lab is "etcd" for the etcd scenarios, which have member captures
	// and their own test (TestEtcdLab).
	Lab         string `json:"lab"`
	Connections []struct {
		Local      string  `json:"local"`
		FirstError *string `json:"first_error"`
	} `json:"connections"`
	Expect struct {
		Verdict       model.Kind          `json:"verdict"`
		LossDirection model.LossDirection `json:"loss_direction"`
		Suspects      []model.Suspect     `json:"suspects"`
	} `json:"expect"`
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
var verdictSuspects = []model.Suspect{model.SuspectMTUBlackhole, model.SuspectMiddleboxReset, model.SuspectTooManyPings}

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
	root := filepath.Join("..", "testdata", "pcaps")
	truths, _ := filepath.Glob(filepath.Join(root, "*", "truth.json"))
	if len(truths) == 0 {
		t.Skip("no lab captures")
	}
	for _, tp := range truths {
		b, err := os.ReadFile(tp)
		if err != nil {
			t.Fatal(err)
		}
		var tr verdictTruth
		if err := json.Unmarshal(b, &tr); err != nil {
			t.Fatalf("%s: %v", tp, err)
		}
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
		if !ok {
			want = verdictDefault(tr, tc.FirstError != nil)
		}
		v := c.Verdict
		if v == nil {
			t.Errorf("port %d: no verdict", port)
			continue
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
	// Loss both ways shows per connection only where a connection lost
	// packets each way; across the scenario both directions must show.
	if tr.Expect.LossDirection == model.LossBoth && !dirsSeen[model.LossBoth] &&
		!(dirsSeen[model.LossClientToServer] && dirsSeen[model.LossServerToClient]) {
		t.Errorf("loss both ways: directions seen %v", dirsSeen)
	}
	if r.Summary == nil || r.Summary.Connections != len(r.Connections) || r.Summary.Headline == "" {
		t.Errorf("summary %+v", r.Summary)
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
