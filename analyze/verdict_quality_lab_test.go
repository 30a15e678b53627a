package analyze

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/h2pcap/h2pcap/model"
)

// qualityTruth is what TestCaptureQualityLab reads of a truth.json.
type qualityTruth struct {
	Scenario       string                  `json:"scenario"`
	CaptureQuality map[string]captureTruth `json:"capture_quality"`
	Expect         struct {
		Verdict       model.Kind          `json:"verdict"`
		LossDirection model.LossDirection `json:"loss_direction"`
	} `json:"expect"`
}

// captureTruth is what the lab runner measured of one capture file
// (truth.json's capture_quality): the fields differ by scenario.
type captureTruth struct {
	OneDirection string `json:"one_direction"`
	// capture-drops: tcpdump's own count, and what a full capture of the
	// same interface had that this one lacks.
	KernelDropped               *int     `json:"kernel_dropped"`
	MissedServerPayloadFraction *float64 `json:"missed_server_payload_fraction"`
	// router-capture: where the capture was and where it places loss.
	CapturePoint model.CapturePoint `json:"capture_point"`
	LossLocation string             `json:"loss_location"`
}

// maxMissedError is how far the estimate of a capture's missed share may
// be from the truth: the estimate counts sequence space the receiver
// acknowledged (payload of both directions), the truth the server's
// payload bytes a full capture had, so the two differ by the client's few
// bytes and a retransmission or two.
const maxMissedError = 0.02

// TestCaptureQualityLab holds the scenarios about captures that lie to
// what their runner measured (truth.json's capture_quality): a one-way
// capture names its direction and shows no lost PING; a capture that
// dropped packets estimates the share it missed, warns first, and finds
// no loss in its gaps; a router's capture is in the middle and places
// the loss between itself and the server. Every other lab capture is
// clean: its inputs carry no capture_quality at all.
func TestCaptureQualityLab(t *testing.T) {
	var tried int
	for _, lt := range readLabTruths[qualityTruth](t, "*") {
		tp, tr := lt.path, lt.truth
		dir := filepath.Dir(tp)
		pcaps, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
		for _, p := range pcaps {
			name := filepath.Base(p)
			ct, measured := tr.CaptureQuality[name]
			t.Run(tr.Scenario+"/"+name, func(t *testing.T) {
				r := verdictReport(t, p)
				cq := r.Inputs[0].CaptureQuality
				head := r.Summary.Headline
				if !measured || ct.OneDirection == "" && ct.KernelDropped == nil {
					if cq != nil {
						t.Errorf("a clean capture with capture_quality %+v", *cq)
					}
				}
				if !measured {
					return
				}
				tried++
				if ct.OneDirection != "" {
					if cq == nil || cq.OneDirection != ct.OneDirection || cq.MissedBytes != 0 {
						t.Fatalf("capture_quality %+v, want one_direction %s and nothing missed", cq, ct.OneDirection)
					}
					if !strings.HasPrefix(head, "One direction only:") {
						t.Errorf("headline %q does not start with the one-way capture", head)
					}
					for _, p := range r.Summary.Paths {
						if p.LostPings > 0 {
							t.Errorf("path %s -> %s: %d lost PINGs", p.ClientNet, p.Server, p.LostPings)
						}
					}
					for _, c := range r.Connections {
						if c.Verdict.Kind == model.KindLostPing {
							t.Errorf("stream %d: a lost PING on a capture without its ACK's direction: %s", c.Stream, c.Verdict.Summary)
						}
						if c.Verdict.LossDirection != model.LossNone {
							t.Errorf("stream %d: loss %s", c.Stream, c.Verdict.LossDirection)
						}
					}
				}
				if ct.KernelDropped != nil {
					if *ct.KernelDropped == 0 || ct.MissedServerPayloadFraction == nil {
						t.Fatalf("truth: the capture dropped nothing (%+v)", ct)
					}
					want := *ct.MissedServerPayloadFraction
					if cq == nil || math.Abs(cq.MissedFraction-want) > maxMissedError {
						t.Fatalf("capture_quality %+v, want missed_fraction %.4f ± %.2f", cq, want, maxMissedError)
					}
					if !strings.HasPrefix(head, "Warning: the capture missed about") || !strings.Contains(head, "tcpdump -B") {
						t.Errorf("headline %q: no warning first", head)
					}
					for _, c := range r.Connections {
						v := c.Verdict
						if v.Kind != model.KindHealthy || v.LossDirection != model.LossNone {
							t.Errorf("stream %d: loss from the capture's gaps: %s %s: %s", c.Stream, v.Kind, v.LossDirection, v.Summary)
						}
						for _, e := range v.Evidence {
							if strings.Contains(e.Note, "gap") {
								t.Errorf("stream %d: a capture gap as evidence, frame %d: %s", c.Stream, e.Frame, e.Note)
							}
						}
					}
				}
				if ct.CapturePoint != "" {
					if r.CapturePoint != ct.CapturePoint {
						t.Errorf("capture_point %s, want %s", r.CapturePoint, ct.CapturePoint)
					}
					if w := strings.Replace(ct.LossLocation, "this capture point", "the capture point", 1); !strings.Contains(head, w) {
						t.Errorf("headline %q does not say %q", head, w)
					}
					for _, c := range r.Connections {
						v := c.Verdict
						if v.Kind != tr.Expect.Verdict || v.LossDirection != tr.Expect.LossDirection ||
							v.LossLocation != model.AfterCapture || !strings.Contains(v.Summary, ct.LossLocation) {
							t.Errorf("stream %d: %s %s %s, want %s %s after_capture, %q: %s", c.Stream, v.Kind, v.LossDirection, v.LossLocation,
								tr.Expect.Verdict, tr.Expect.LossDirection, ct.LossLocation, v.Summary)
						}
					}
				}
				if testing.Verbose() {
					t.Logf("%s; capture_quality %+v", head, cq)
				}
			})
		}
	}
	if tried == 0 {
		t.Error("no lab scenario measured its captures")
	}
}

// TestCaptureHostLab: an etcd member's capture of its own interface,
// where it dials some peers and is dialled by the others (client of some
// connections, server of the others), names that member's address as
// the capture's host; a load balancer's captures (multipoint-nat: DNAT
// and masquerade, both ends' TTLs decremented) are the middle, with no
// host.
func TestCaptureHostLab(t *testing.T) {
	tried := 0
	for _, lt := range readLabTruths[etcdTruth](t, "etcd-*") {
		for _, m := range lt.truth.Members {
			path := filepath.Join(filepath.Dir(lt.path), m.Name+".pcap")
			if _, err := os.Stat(path); err != nil {
				continue // not captured at this member
			}
			r := verdictReport(t, path)
			if r.CaptureHost != m.Address {
				t.Errorf("%s: capture_host %q, want the member's %s", path, r.CaptureHost, m.Address)
			}
			tried++
		}
	}
	if tried == 0 {
		t.Error("no member capture found")
	}
	for _, f := range []string{"lb-in.pcap", "lb-out.pcap"} {
		path := filepath.Join("..", "testdata", "pcaps", "multipoint-nat", f)
		if _, err := os.Stat(path); err != nil {
			t.Fatal(err)
		}
		r := verdictReport(t, path)
		if r.CapturePoint != model.PointMiddle || r.CaptureHost != "" {
			t.Errorf("%s: capture_point %s, capture_host %q; want middle, none", f, r.CapturePoint, r.CaptureHost)
		}
	}
}
