package analyze

import (
	"reflect"
	"testing"

	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
)

// runVsegsInput is runVsegs with one input described, so the Report
// fills its capture_quality.
func runVsegsInput(t *testing.T, segs []vseg) (*decode.InputInfo, *model.Connection) {
	t.Helper()
	in := &decode.InputInfo{Path: "test.pcap"}
	_, c := runVsegsWith(t, segs, []*decode.InputInfo{in})
	return in, c
}

// TestTrackCaptureQuality: the tracker's count of what the capture lacks,
// through the Report's inputs[].capture_quality and the verdict.
func TestTrackCaptureQuality(t *testing.T) {
	request := vseg{50, false, fPA, 1, 1, 100, 64, 102}
	// data is the server's n-th 1000-byte segment of its answer.
	data := func(n int) vseg { return vseg{60 + n, true, fA, 1 + uint32(n)*1000, 101, 1000, 52, uint16(901 + n)} }
	ack := func(ms int, upTo uint32) vseg { return vseg{ms, false, fA, 101, 1 + upTo, 0, 64, 110} }
	fin := []vseg{{300, false, fF, 101, 5001, 0, 64, 120}, {301, true, fF, 5001, 102, 0, 52, 990}, {302, false, fA, 102, 5002, 0, 64, 121}}
	tests := []struct {
		name string
		segs []vseg
		want *decode.CaptureQuality
		kind model.Kind
	}{
		{"every segment held: nothing added",
			concat(vHandshake(), []vseg{request, data(0), data(1), data(2), data(3), data(4), ack(70, 5000)}, fin),
			nil, model.KindHealthy},
		{"two segments the client acknowledged never reached the capture: drops, not loss",
			concat(vHandshake(), []vseg{request, data(0), data(2), data(4), ack(70, 5000)}, fin),
			&decode.CaptureQuality{MissedBytes: 2000, MissedFraction: 0.3922}, model.KindHealthy},
		{"the acknowledgement passes data the capture never held at its end",
			concat(vHandshake(), []vseg{request, data(0), data(1), data(2), ack(70, 5000)}, fin),
			&decode.CaptureQuality{MissedBytes: 2000, MissedFraction: 0.3922}, model.KindHealthy},
		{"a gap filled by the retransmission before the ACK: loss, nothing missed",
			concat(vHandshake(), []vseg{request, data(0), data(2), data(3), data(4), {200, true, fA, 1001, 101, 1000, 52, 960}, ack(201, 5000)}, fin),
			nil, model.KindHealthy},
		{"a duplicate after real loss (D-SACK) proves no drop",
			concat(vHandshake(), []vseg{request, data(0), data(2), {150, true, fA, 1001, 101, 1000, 52, 960}, ack(151, 3000),
				{160, true, fA, 1001, 101, 1000, 52, 961}, ack(161, 3000), {300, false, fF, 101, 3001, 0, 64, 120}}),
			nil, model.KindHealthy},
		{"client->server only: one direction, no drops counted",
			[]vseg{{0, false, fS, 0, 0, 0, 64, 100}, {40, false, fA, 1, 1, 0, 64, 101}, request, ack(70, 2000), ack(80, 5000), fin[0]},
			&decode.CaptureQuality{OneDirection: "client_to_server", OneDirectionConnections: 1}, model.KindHealthy},
		{"server->client only, picked up mid-connection",
			[]vseg{data(0), data(1), {90, true, fA, 2001, 301, 0, 52, 950}},
			&decode.CaptureQuality{OneDirection: "server_to_client", OneDirectionConnections: 1}, model.KindHealthy},
		{"the client alone, never answered: no one-way capture concluded from silence",
			[]vseg{{0, false, fS, 0, 0, 0, 64, 100}, {1000, false, fS, 0, 0, 0, 64, 101}, {3000, false, fS, 0, 0, 0, 64, 102}},
			nil, model.KindConnectFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, c := runVsegsInput(t, tt.segs)
			if !reflect.DeepEqual(in.CaptureQuality, tt.want) {
				t.Errorf("capture_quality %+v, want %+v", in.CaptureQuality, tt.want)
			}
			if c.Verdict.Kind != tt.kind {
				t.Errorf("verdict %s, want %s: %s", c.Verdict.Kind, tt.kind, c.Verdict.Summary)
			}
		})
	}
}

func concat(parts ...[]vseg) []vseg {
	var out []vseg
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
