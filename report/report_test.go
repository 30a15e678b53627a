package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// sample is a fixed report covering every part the renderers show: a
// warning, a clean connection, one with loss events in both directions
// and a reset, and one seen in a second input.
func sample() *model.Report {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	irtt := 1.25
	rtt := 0.31
	return &model.Report{
		Version:      1,
		CapturePoint: "client",
		Summary: &model.Summary{
			Connections: 2, ProblemConnections: 1,
			Headline: "1 of 2 connections reset: [fd18:2::2]:80, loss client->server",
			Paths: []model.Path{
				{ClientNet: "198.18.1.0/24", Server: "198.18.2.2:8443", Connections: 1},
				{ClientNet: "[fd18::]/64", Server: "[fd18:2::2]:80", Connections: 1, LostPings: 1, RetransmissionRate: 0.06, Resets: 1},
			},
			Probes: []model.ProbeTarget{{Prober: "198.18.1.2", Target: "198.18.2.2:8443", Probes: 6, Streams: []int{2, 3, 4, 5, 6, 7},
				Start: t0.Add(2 * time.Second), End: t0.Add(2*time.Second + 3*time.Millisecond),
				TTLs: []model.ProbeTTL{
					{TTL: 1, Sent: 3, ICMP: 2, Hops: []string{"198.18.1.1"}, Unanswered: 1},
					{TTL: 2, Sent: 3, SYNAck: 3},
				}}},
		},
		Inputs: []*decode.InputInfo{
			{Path: "client.pcap", Format: "pcap", LinkTypes: []string{"EN10MB"}, Packets: 420, Bytes: 123456,
				First: t0, Last: t0.Add(15 * time.Second), Warnings: []string{},
				Decoded: decode.DecodeStats{Packets: 420, TCP: 410, NonTCP: 10}},
			{Path: "client-2.pcapng", Format: "pcapng", LinkTypes: []string{"LINUX_SLL2", "EN10MB"}, Packets: 10, Bytes: 900,
				First: t0.Add(15 * time.Second), Last: t0.Add(16 * time.Second), TruncatedPackets: 3,
				Warnings:       []string{"capture cut off mid-packet at offset 880 after 10 packets", "2 packets skipped as malformed (IPv4 header length 3 < 5), the first at frame 4"},
				Decoded:        decode.DecodeStats{Packets: 10, TCP: 8, Malformed: 2},
				CaptureQuality: &decode.CaptureQuality{MissedBytes: 2896, MissedFraction: 0.0412}},
		},
		Connections: []*model.Connection{
			{
				Stream: 0, Client: "198.18.1.2:40000", Server: "198.18.2.2:8443", FirstFrame: 1, LastFrame: 200,
				Start: t0, End: t0.Add(4 * time.Second), App: "h2", IRTTms: &irtt, Roles: "syn",
				TCP: model.TCPStats{
					ClientToServer: model.DirStats{Packets: 100, Bytes: 5000, Fins: 1},
					ServerToClient: model.DirStats{Packets: 98, Bytes: 90000, Fins: 1},
				},
				Close:   model.Close{Kind: "fin", By: "client", Frame: 197},
				Events:  []model.Event{},
				Verdict: &model.Verdict{Kind: "healthy", LossDirection: "none", LossLocation: "unknown", Suspects: []model.Suspect{}, Summary: "No loss; closed normally by the client.", Evidence: []model.Evidence{}},
				HTTP2: &model.HTTP2{
					Frames: map[model.Direction]map[string]int{
						model.ClientToServer: {"HEADERS": 3, "SETTINGS": 2, "PING": 1, "WINDOW_UPDATE": 1},
						model.ServerToClient: {"HEADERS": 3, "DATA": 6, "SETTINGS": 2, "PING": 1},
					},
					Pings:        []model.Ping{{Frame: 40, From: "client", Data: "8a3f0011c2d4e5f6", Sender: "go-health-check", Acked: true, AckFrame: 41, RTTms: &rtt}},
					Goaways:      []model.Goaway{},
					RSTStreams:   []model.RSTStream{},
					SkippedBytes: map[model.Direction]int64{model.ClientToServer: 0, model.ServerToClient: 0},
				},
			},
			{
				Stream: 1, Client: "[fd18::2]:40002", Server: "[fd18:2::2]:80", FirstFrame: 5, LastFrame: 410, LastInput: 1,
				Start: t0.Add(time.Second), End: t0.Add(15500 * time.Millisecond), App: "h2c", Roles: "http2-preface",
				TCP: model.TCPStats{
					ClientToServer: model.DirStats{Packets: 50, Bytes: 3000, Retransmissions: 3, DupAcks: 2},
					ServerToClient: model.DirStats{Packets: 60, Bytes: 70000, LostSegments: 1, Resets: 1, MissingBytes: 4096},
				},
				Close: model.Close{Kind: "rst", By: "server", Frame: 7, Input: 1},
				Verdict: &model.Verdict{Kind: "reset", LossDirection: "client_to_server", LossLocation: "after_capture",
					Suspects: []model.Suspect{model.SuspectMiddleboxReset},
					Summary:  "The client's PING went unanswered while its retransmissions went unacknowledged; then a reset with another TTL than the server's closed the connection.",
					Evidence: []model.Evidence{
						{Frame: 305, Note: "client PING (go-health-check)"},
						{Frame: 310, Note: "PING retransmitted: loss after the capture point"},
						{Input: 1, Frame: 7, Note: "RST with TTL 64; the server's packets have 63"},
					},
					Filter: "frame.number in {305 310}"},
				HTTP2: &model.HTTP2{
					Frames: map[model.Direction]map[string]int{
						model.ClientToServer: {"HEADERS": 1, "PING": 1},
						model.ServerToClient: {"GOAWAY": 1, "RST_STREAM": 1},
					},
					Pings:        []model.Ping{{Frame: 305, From: "client", Data: "0000000000000000", Sender: "grpc-keepalive"}},
					Goaways:      []model.Goaway{{Frame: 300, From: "server", LastStreamID: 5, Error: "ENHANCE_YOUR_CALM", Debug: "too_many_pings"}},
					RSTStreams:   []model.RSTStream{{Frame: 299, From: "server", Stream: 7, Error: "CANCEL"}},
					SkippedBytes: map[model.Direction]int64{model.ClientToServer: 0, model.ServerToClient: 120},
					HealthCheck:  &model.HealthCheck{ReadIdleTimeoutS: ptr(30.2), IdleSamples: 3, PingTimeoutS: ptr(15.0), PingFrame: 305, CloseFrame: 330, ClientGoDefaults: true},
					Streams: []model.H2Stream{
						{ID: 1, Method: "GET", Path: "/api/v1/pods?watch=1", State: "open", FirstFrame: 12},
						{ID: 3, Method: "GET", Path: "/healthz", State: "closed", FirstFrame: 20},
					},
					FlowStalls: []model.FlowStall{{From: "server", Stream: 1, Frame: 250}},
				},
				Events: []model.Event{
					{Frame: 300, Time: t0.Add(10 * time.Second), Dir: model.ServerToClient, Kind: model.EvLostSegment, Len: 1448},
					{Frame: 301, Time: t0.Add(10 * time.Second), Dir: model.ClientToServer, Kind: model.EvDupAck},
					{Frame: 302, Time: t0.Add(10 * time.Second), Dir: model.ClientToServer, Kind: model.EvDupAck},
					{Frame: 310, Time: t0.Add(11 * time.Second), Dir: model.ClientToServer, Kind: model.EvRetransmission, Len: 17},
					{Frame: 320, Time: t0.Add(12 * time.Second), Dir: model.ClientToServer, Kind: model.EvRetransmission, Len: 17},
					{Input: 1, Frame: 2, Time: t0.Add(15 * time.Second), Dir: model.ClientToServer, Kind: model.EvRetransmission, Len: 17},
					{Input: 1, Frame: 7, Time: t0.Add(15500 * time.Millisecond), Dir: model.ServerToClient, Kind: model.EvRST},
				},
			},
		},
	}
}

func ptr[T any](v T) *T { return &v }

func TestGolden(t *testing.T) {
	for _, tc := range []struct{ format, file string }{
		{"table", "sample.txt"},
		{"markdown", "sample.md"},
		{"json", "sample.json"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, sample(), tc.format); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./report -update to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s output differs from %s (go test ./report -update to accept):\n%s", tc.format, golden, buf.String())
			}
		})
	}
}

// The JSON contract's names are promised to users: check them directly,
// not only through a golden file that -update would silently rewrite.
func TestJSONContract(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, sample(), "json"); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["version"] != float64(1) {
		t.Errorf("version = %v, want 1", doc["version"])
	}
	in := doc["inputs"].([]any)[0].(map[string]any)
	for _, k := range []string{"path", "format", "link_types", "packets", "bytes", "first", "last", "truncated_packets", "warnings"} {
		if _, ok := in[k]; !ok {
			t.Errorf("inputs[0] lacks %q", k)
		}
	}
	// capture_quality: absent from a clean input, named on one that lacks
	// what the network carried.
	if _, ok := in["capture_quality"]; ok {
		t.Errorf("inputs[0] (clean) has capture_quality")
	}
	cq, _ := doc["inputs"].([]any)[1].(map[string]any)["capture_quality"].(map[string]any)
	if cq["missed_bytes"] != float64(2896) || cq["missed_fraction"] != 0.0412 {
		t.Errorf("inputs[1].capture_quality = %v", cq)
	}
	c := doc["connections"].([]any)[1].(map[string]any)
	for _, k := range []string{"stream", "client", "server", "first_frame", "last_frame", "start", "end", "app", "irtt_ms", "tcp", "close", "events"} {
		if _, ok := c[k]; !ok {
			t.Errorf("connection lacks %q", k)
		}
	}
	if c["client"] != "[fd18::2]:40002" {
		t.Errorf("client = %v", c["client"])
	}
	dir := c["tcp"].(map[string]any)["client_to_server"].(map[string]any)
	for _, k := range []string{"packets", "bytes", "retransmissions", "fast_retransmissions", "spurious_retransmissions",
		"out_of_order", "lost_segments", "acked_unseen", "dup_acks", "zero_windows", "keep_alives", "resets", "fins"} {
		if _, ok := dir[k]; !ok {
			t.Errorf("tcp.client_to_server lacks %q", k)
		}
	}
	cl := c["close"].(map[string]any)
	if cl["kind"] != "rst" || cl["by"] != "server" || cl["frame"] != float64(7) {
		t.Errorf("close = %v", cl)
	}
	ev := c["events"].([]any)[0].(map[string]any)
	if ev["dir"] != "server_to_client" || ev["kind"] != "lost_segment" || ev["frame"] != float64(300) {
		t.Errorf("events[0] = %v", ev)
	}
	if _, err := time.Parse(time.RFC3339Nano, ev["time"].(string)); err != nil {
		t.Errorf("event time: %v", err)
	}
	ev5 := c["events"].([]any)[5].(map[string]any)
	if ev5["input"] != float64(1) {
		t.Errorf("events[5] should name input 1: %v", ev5)
	}
}

func TestUnknownFormat(t *testing.T) {
	err := Write(&bytes.Buffer{}, sample(), "xml")
	if err == nil || !strings.Contains(err.Error(), "xml") {
		t.Fatalf("err = %v", err)
	}
}
