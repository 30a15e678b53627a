package analyze

import (
	"slices"
	"testing"

	"github.com/h2pcap/h2pcap/decode"
)

func TestDSACKMarks(t *testing.T) {
	blk := func(lo, hi uint32) []decode.SACKBlock { return []decode.SACKBlock{{Left: lo, Right: hi}} }
	data := []seg{
		{ms: 30, from: fromC, flags: "PA", seq: C1, ack: S1, len: 100, win: 1000},        // 4
		{ms: 31, from: fromC, flags: "PA", seq: C1 + 100, ack: S1, len: 100, win: 1000},  // 5
		{ms: 300, from: fromC, flags: "PA", seq: C1, ack: S1, len: 100, win: 1000},       // 6: retransmission
		{ms: 301, from: fromC, flags: "PA", seq: C1 + 100, ack: S1, len: 100, win: 1000}, // 7: retransmission
	}
	tests := []struct {
		name string
		more []seg
		want []int // frames of the events marked
	}{
		{"below the cumulative ACK: both copies", []seg{
			{ms: 310, from: fromS, flags: "A", seq: S1, ack: C1 + 200, win: 1000, sacks: blk(C1, C1+200)},
		}, []int{6, 7}},
		{"one segment of two", []seg{
			{ms: 310, from: fromS, flags: "A", seq: S1, ack: C1 + 200, win: 1000, sacks: blk(C1+100, C1+200)},
		}, []int{7}},
		{"inside the second block", []seg{
			{ms: 310, from: fromS, flags: "A", seq: S1, ack: C1, win: 1000,
				sacks: []decode.SACKBlock{{Left: C1 + 100, Right: C1 + 200}, {Left: C1 + 100, Right: C1 + 300}}},
		}, []int{7}},
		{"an ordinary SACK above the ACK: none", []seg{
			{ms: 310, from: fromS, flags: "A", seq: S1, ack: C1, win: 1000, sacks: blk(C1+100, C1+200)},
		}, nil},
		{"a block wider than no copy: none", []seg{
			{ms: 310, from: fromS, flags: "A", seq: S1, ack: C1 + 200, win: 1000, sacks: blk(C1+50, C1+150)},
		}, nil},
		{"a third copy: only the latest", []seg{
			{ms: 500, from: fromC, flags: "PA", seq: C1, ack: S1, len: 100, win: 1000}, // 8
			{ms: 510, from: fromS, flags: "A", seq: S1, ack: C1 + 200, win: 1000, sacks: blk(C1, C1+100)},
		}, []int{8}},
		{"too long after the copy: none", []seg{
			{ms: 4000, from: fromS, flags: "A", seq: S1, ack: C1 + 200, win: 1000, sacks: blk(C1, C1+200)},
		}, nil},
		{"the sender's own D-SACK marks nothing of its own", []seg{
			{ms: 310, from: fromC, flags: "A", seq: C1 + 200, ack: S1, win: 1000, sacks: blk(S1-1, S1)},
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			segs := withHandshake(append(slices.Clone(data), tt.more...)...)
			a, _ := run(segs)
			r := a.Report([]*decode.InputInfo{{Path: "x.pcap"}})
			var got []int
			for _, e := range r.Connections[0].Events {
				if e.DSACKed {
					got = append(got, e.Frame)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("marked frames %v, want %v (events %+v)", got, tt.want, r.Connections[0].Events)
			}
		})
	}
}
