package analyze

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/h2pcap/h2pcap/analyze/app"
	"github.com/h2pcap/h2pcap/model"
)

// The lab's too-many-pings scenario: each connection that sends a 6th
// PING gets GOAWAY ENHANCE_YOUR_CALM "too_many_pings" from the server;
// 5 PINGs are answered, the 6th is not.
func TestH2LabTooManyPings(t *testing.T) {
	for _, file := range []string{"too-many-pings/client.pcap", "too-many-pings/server.pcap"} {
		t.Run(file, func(t *testing.T) {
			rep := analyzeCapture(t, file, Options{})
			calm := 0
			for _, c := range rep.Connections {
				h := c.HTTP2
				if h == nil || c.App != "h2c" || h.Detected != "preface" {
					t.Fatalf("stream %d: app %s, http2 %v", c.Stream, c.App, h)
				}
				if len(h.Goaways) == 0 || h.Goaways[0].From != "server" {
					continue // the last connection, ended by the client
				}
				calm++
				g := h.Goaways[0]
				if g.Error != "ENHANCE_YOUR_CALM" || g.Debug != "too_many_pings" {
					t.Errorf("stream %d: GOAWAY %+v", c.Stream, g)
				}
				acked, unanswered := 0, 0
				for _, p := range h.Pings {
					if p.From != "client" || p.Sender != app.SenderGoHealthCheck || p.Inferred {
						t.Errorf("stream %d: PING %+v", c.Stream, p)
					}
					if p.Acked {
						acked++
						if p.RTTms == nil || p.AckFrame <= p.Frame {
							t.Errorf("stream %d: acked PING %+v", c.Stream, p)
						}
					} else {
						unanswered++
						if p.Frame >= g.Frame {
							t.Errorf("stream %d: unanswered PING frame %d after the GOAWAY %d", c.Stream, p.Frame, g.Frame)
						}
					}
				}
				if acked != 5 || unanswered != 1 || h.Frames[model.ClientToServer]["PING"] != 6 || h.Frames[model.ServerToClient]["PING"] != 5 {
					t.Errorf("stream %d: %d PINGs acked, %d not; frames %v", c.Stream, acked, unanswered, h.Frames)
				}
				// The client closes because of the GOAWAY, not a PING timeout.
				if hc := h.HealthCheck; hc != nil && hc.PingTimeoutS != nil {
					t.Errorf("stream %d: ping timeout %v s inferred from a close after GOAWAY", c.Stream, *hc.PingTimeoutS)
				}
			}
			if calm != 3 {
				t.Errorf("%d connections with ENHANCE_YOUR_CALM, want 3", calm)
			}
		})
	}
}

// Captures that begin mid-connection decode without any port option: by
// frame sync, the app is h2c.
func TestH2LabMidConnection(t *testing.T) {
	for _, file := range []string{"midconn/client.pcap", "midconn/server.pcap", "public/derived/dns_over_https-midconn-frames11-25.pcap"} {
		t.Run(file, func(t *testing.T) {
			for _, opts := range []Options{{}, {H2Ports: []uint16{8080, 80}}} {
				rep := analyzeCapture(t, file, opts)
				mid := 0
				for _, c := range rep.Connections {
					if c.Handshake.Seen {
						continue
					}
					mid++
					h := c.HTTP2
					if h == nil || c.App != "h2c" {
						t.Fatalf("stream %d (%v): app %s, no HTTP/2", c.Stream, opts.H2Ports, c.App)
					}
					want := "frames"
					if opts.H2Ports != nil {
						want = "port"
					}
					if h.Detected != want || h.Frames[model.ServerToClient]["DATA"] == 0 || h.Frames[model.ClientToServer]["HEADERS"] == 0 {
						t.Errorf("stream %d: detected %s, frames %v", c.Stream, h.Detected, h.Frames)
					}
					if h.FlowControlKnown {
						t.Errorf("stream %d: flow-control windows cannot be known mid-connection", c.Stream)
					}
				}
				if mid == 0 {
					t.Errorf("no connection without a handshake")
				}
			}
		})
	}
}

// The connection that died in blackhole-c2s-h2c: the client's requests
// from frame 43 on are retransmitted and never answered. Its health-check
// PING is not in the capture: with every segment lost the client's TCP is
// in retransmission backoff and sends only the first unacknowledged
// segment again (frames 44-85, 15 bytes at seq 237); the PING written
// after it never leaves the socket before the client closes.
func TestH2LabBlackhole(t *testing.T) {
	rep := analyzeCapture(t, "blackhole-c2s-h2c/client.pcap", Options{})
	c := rep.Connections[0]
	h := c.HTTP2
	if h == nil || !strings.HasSuffix(c.Client, ":35066") {
		t.Fatalf("stream 0: %s, http2 %v", c.Client, h)
	}
	if lf := h.LastFrame[model.ClientToServer]; lf == nil || lf.Frame != 43 || lf.Type != "HEADERS" {
		t.Errorf("client's last frame %+v, want the HEADERS of frame 43", lf)
	}
	if lf := h.LastFrame[model.ServerToClient]; lf == nil || lf.Frame != 86 {
		t.Errorf("server's last frame %+v, want frame 86 (the answer after the fault)", lf)
	}
	if len(h.Pings) != 0 || h.GapBytes[model.ClientToServer] != 0 {
		t.Errorf("pings %+v, gaps %v", h.Pings, h.GapBytes)
	}
}

// Without keys TLS is not decoded: no HTTP/2 from ciphertext but the PINGs
// inferred from record sizes (tlsinfer_test.go). (The
// pcapngs with Decryption Secrets Blocks are decrypted: tls_test.go.)
func TestH2LabTLSNotDecoded(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(pcapRoot(), "*", "*.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	tls := []string{"public/wireshark-4.0.17/http2-data-reassembly.pcap", "public/arkime/tls-alpn-h2.pcap", "public/nDPI/doh.pcapng"}
	for _, f := range files {
		rel, _ := filepath.Rel(pcapRoot(), f)
		rel = filepath.ToSlash(rel)
		if labTransport(t, filepath.Dir(f)) == "tls" {
			tls = append(tls, rel)
		}
	}
	for _, file := range tls {
		rep := analyzeCapture(t, file, Options{H2Ports: []uint16{443, 8443}})
		for _, c := range rep.Connections {
			if c.HTTP2 != nil && !inferredOnly(c.HTTP2) {
				t.Errorf("%s stream %d (%s): HTTP/2 %v from TLS", file, c.Stream, c.App, c.HTTP2.Frames)
			}
		}
	}
}

// How HTTP/2 is found, on captures that show each way.
func TestH2Detected(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"public/suricata-verify/http2-range__http2-range.pcap", "upgrade"}, // HTTP/1.1 Upgrade: h2c, 101
		{"public/nDPI/http2.pcapng", "preface"},
		{"public/wireshark-4.0.17/grpc_person_search_protobuf_with_image-missing_headers.pcapng.gz", "frames"},
		{"public/derived/dns_over_https-midconn-frames11-25.pcap", "frames"},
		{"public/suricata-verify/http2-errorcode.pcap", "preface"}, // after an HTTP/1.1 CONNECT
	} {
		rep := analyzeCapture(t, tc.file, Options{})
		found := false
		for _, c := range rep.Connections {
			if c.HTTP2 != nil {
				found = true
				if c.HTTP2.Detected != tc.want || c.App != "h2c" {
					t.Errorf("%s stream %d: detected %s, app %s; want %s, h2c", tc.file, c.Stream, c.HTTP2.Detected, c.App, tc.want)
				}
			}
		}
		if !found {
			t.Errorf("%s: no HTTP/2", tc.file)
		}
	}
}
