package report

import (
	"strings"
	"testing"

	"github.com/h2pcap/h2pcap/model"
)

// The flow-control stalls of a connection's findings: a line each up to
// flowStallsListed, then a line per sender (how many, where, how many
// never reopened, the longest, the first frames), and past the analysis's
// cap the count of those not listed first.
func TestFlowStallsText(t *testing.T) {
	ms := func(v float64) *float64 { return &v }
	stall := func(from string, stream uint32, frame int, d *float64) model.FlowStall {
		return model.FlowStall{From: from, Stream: stream, Frame: frame, DurationMs: d}
	}
	tests := []struct {
		name string
		h    model.HTTP2
		want string
	}{
		{"none", model.HTTP2{}, ""},
		{"a line each", model.HTTP2{FlowStalls: []model.FlowStall{
			stall("server", 1, 250, nil),
			stall("server", 0, 260, ms(2)),
		}}, "" +
			"  flow control: the server's window on stream 1 reached zero at frame 250 (never reopened)\n" +
			"  flow control: the server's window on the connection reached zero at frame 260 (2 ms)\n"},
		{"folded per sender", model.HTTP2{FlowStalls: []model.FlowStall{
			stall("server", 3, 10, ms(1)),
			stall("client", 0, 11, nil),
			stall("server", 5, 20, ms(4)),
			stall("server", 3, 30, nil),
			{From: "server", Stream: 0, Input: 1, Frame: 40, DurationMs: ms(3)},
		}}, "" +
			"  flow control: the server's window reached zero 4 times, on streams 3, 5 and the connection (1 never reopened; the longest 4 ms at frame 20): frames 10, 20, 30, 1:40\n" +
			"  flow control: the client's window reached zero once, on the connection (never reopened): frames 11\n"},
		{"past the cap", model.HTTP2{FlowStalls: []model.FlowStall{
			stall("server", 1, 10, ms(0)),
			stall("server", 1, 20, ms(1)),
			stall("server", 3, 30, ms(0)),
			stall("server", 1, 40, ms(0)),
		}, FlowStallsDropped: 96}, "" +
			"  flow control: windows reached zero 100 times; the first 4:\n" +
			"    the server's window reached zero 4 times, on streams 1, 3 (the longest 1 ms at frame 20): frames 10, 20, 30, 40\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			tx := &text{w: &b}
			tx.flowStalls(&tt.h)
			if b.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tt.want)
			}
		})
	}
}
