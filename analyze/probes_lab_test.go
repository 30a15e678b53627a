package analyze

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/h2pcap/h2pcap/model"
)

// probesTruth is what TestProbesLab reads of a truth.json.
type probesTruth struct {
	Scenario string `json:"scenario"`
	Expect   struct {
		Verdict string `json:"verdict"`
	} `json:"expect"`
	Connections []struct {
		Local string `json:"local"`
	} `json:"connections"`
	Probes []struct {
		Capture      string `json:"capture"`
		SYNs         int    `json:"syns"`
		TimeExceeded int    `json:"icmp_time_exceeded"`
	} `json:"probes"`
}

// TestProbesLab holds the probe counting to the lab: in traceroute-probes
// and multipoint-icmp the report counts every probe tshark counts (truth.json's probes: SYNs
// with TTL 30 or less, ICMP time exceeded) in summary.probes, answered
// or not, and lists only the client's own connections (truth.json's
// connections, from client.log), whose verdicts TestVerdictLab holds; in
// every other lab capture it finds no probe at all.
func TestProbesLab(t *testing.T) {
	for _, lt := range readLabTruths[probesTruth](t, "*") {
		tp, tr := lt.path, lt.truth
		for _, capture := range []string{"client.pcap", "server.pcap"} {
			if _, err := os.Stat(filepath.Join(filepath.Dir(tp), capture)); err != nil {
				continue // the etcd scenarios capture at the members (m1.pcap...)
			}
			t.Run(tr.Scenario+"/"+capture, func(t *testing.T) {
				r := verdictReport(t, filepath.Join(filepath.Dir(tp), capture))
				syns, icmp := 0, 0
				for _, p := range tr.Probes {
					if p.Capture == capture {
						syns, icmp = p.SYNs, p.TimeExceeded
					}
				}
				var probes, answeredICMP int
				for _, p := range r.Summary.Probes {
					if p.Probes != len(p.Streams) {
						t.Errorf("%s -> %s: %d probes, %d streams", p.Prober, p.Target, p.Probes, len(p.Streams))
					}
					probes += p.Probes
					for _, x := range p.TTLs {
						if x.Sent != x.ICMP+x.SYNAck+x.Reset+x.Unanswered {
							t.Errorf("%s -> %s TTL %d: %d sent, answers %+v", p.Prober, p.Target, x.TTL, x.Sent, x)
						}
						if x.TTL > 30 {
							t.Errorf("%s -> %s: a probe with TTL %d", p.Prober, p.Target, x.TTL)
						}
						answeredICMP += x.ICMP
					}
				}
				if probes != syns || answeredICMP != icmp {
					t.Errorf("%d probes, %d answered by ICMP; tshark: %d probe SYNs, %d ICMP time exceeded", probes, answeredICMP, syns, icmp)
				}
				if syns == 0 {
					return
				}
				// Only the client's connections are listed, and counted.
				if len(r.Connections) != len(tr.Connections) || r.Summary.Connections != len(tr.Connections) {
					t.Errorf("%d connections listed, %d counted; client.log has %d", len(r.Connections), r.Summary.Connections, len(tr.Connections))
				}
				local := map[string]bool{}
				for _, c := range tr.Connections {
					local[c.Local] = true
				}
				for _, c := range r.Connections {
					if !local[c.Client] {
						t.Errorf("stream %d from %s listed: not a client connection (%s)", c.Stream, c.Client, c.Verdict.Kind)
					}
				}
				// The probes add no problem: in traceroute-probes only the
				// reset connection is one, elsewhere at most the client's.
				if most := map[bool]int{true: 1, false: len(tr.Connections)}[tr.Expect.Verdict == "reset"]; r.Summary.ProblemConnections > most {
					t.Errorf("%d problem connections, want at most %d; %s", r.Summary.ProblemConnections, most, r.Summary.Headline)
				}
				want := model.CapturePoint(capture[:len(capture)-len(".pcap")])
				if r.CapturePoint != want {
					t.Errorf("capture_point %s, want %s", r.CapturePoint, want)
				}
			})
		}
	}
}

// TestDialRaceLab holds the dial race to the lab: in dial-race, with the
// key log and without it (TLS record sizes), every connection the client
// closed without a request (truth.json's connections: requests_ok 0) is a
// dial race's spare, healthy and counted in summary.dial_race_spares, and
// the one it kept is not; no connection is a problem (the capture has a
// spare the client's RST closed first: a reset before this rule).
func TestDialRaceLab(t *testing.T) {
	dir := filepath.Join("..", "testdata", "pcaps", "dial-race")
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Skip("no dial-race capture")
	}
	var tr struct {
		Connections []struct {
			Local      string `json:"local"`
			RequestsOK int    `json:"requests_ok"`
		} `json:"connections"`
	}
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	spare := map[string]bool{}
	spares := 0
	for _, c := range tr.Connections {
		if c.RequestsOK == 0 {
			spare[c.Local] = true
			spares++
		}
	}
	if spares == 0 || spares == len(tr.Connections) {
		t.Fatalf("client.log: %d spares of %d connections: no race to test", spares, len(tr.Connections))
	}
	for _, capture := range []string{"client.pcap", "server.pcap"} {
		for _, keys := range []bool{true, false} {
			t.Run(capture+map[bool]string{true: "", false: "/nokeys"}[keys], func(t *testing.T) {
				r := verdictReportKeys(t, filepath.Join(dir, capture), keys)
				if len(r.Connections) != len(tr.Connections) || r.Summary.ProblemConnections != 0 {
					t.Errorf("%d connections, %d problems; client.log has %d: %s", len(r.Connections), r.Summary.ProblemConnections, len(tr.Connections), r.Summary.Headline)
				}
				if r.Summary.DialRaceSpares != spares {
					t.Errorf("summary.dial_race_spares %d, want %d", r.Summary.DialRaceSpares, spares)
				}
				rstFirst := 0
				for _, c := range r.Connections {
					if c.Verdict.DialRaceSpare && strings.Contains(c.Verdict.Summary, "Its RST") {
						rstFirst++
					}
					if c.Verdict.DialRaceSpare != spare[c.Client] {
						t.Errorf("stream %d (%s, client.log spare %v): dial_race_spare %v: %s", c.Stream, c.Client, spare[c.Client], c.Verdict.DialRaceSpare, c.Verdict.Summary)
					}
					if c.Verdict.Kind != model.KindHealthy {
						t.Errorf("stream %d: %s: %s", c.Stream, c.Verdict.Kind, c.Verdict.Summary)
					}
				}
				if rstFirst == 0 {
					t.Error("no spare closed by the client's RST first: the capture no longer shows the case")
				}
			})
		}
	}
}
