package analyze

import (
	"strings"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
)

// A side whose peer acknowledged one sequence number past its data, with
// no FIN in the capture, sent the FIN the capture lacks (a filter that
// kept only data, a capture drop): the connection closed, it did not go
// silent, and the summary says how it is known.
func TestTrackUnseenFIN(t *testing.T) {
	request := vseg{50, false, fPA, 1, 1, 100, 64, 102}
	answer := vseg{60, true, fPA, 1, 101, 500, 52, 901}
	tests := []struct {
		name    string
		last    vseg // the client's last ACK
		kind    model.Kind
		summary string
	}{
		{"the server's FIN acknowledged, not captured: closed", vseg{70, false, fA, 101, 502, 0, 64, 103},
			model.KindHealthy, "closed by the server: its FIN is not in the capture, but the client acknowledged it (frame 6); the capture lacks a FIN the peer acknowledged (a capture drop"},
		{"the server's data acknowledged, no more: silent", vseg{70, false, fA, 101, 501, 0, 64, 103},
			model.KindSilent, "with no FIN or RST"},
		{"two past its data: not a FIN", vseg{70, false, fA, 101, 503, 0, 64, 103},
			model.KindSilent, "with no FIN or RST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			segs := append(vHandshake(), request, answer, tt.last)
			// The capture ends a minute later: past silentAfter.
			in := &decode.InputInfo{Path: "test.pcap", Last: vt0.Add(time.Minute)}
			_, c := runVsegsWith(t, segs, []*decode.InputInfo{in})
			if v := c.Verdict; v.Kind != tt.kind || !strings.Contains(v.Summary, tt.summary) {
				t.Errorf("%s: %s; want %s, %q", v.Kind, v.Summary, tt.kind, tt.summary)
			}
		})
	}
}
