package analyze

import (
	"slices"
	"testing"

	"github.com/h2pcap/h2pcap/model"
)

// An MTU black hole needs every full-sized packet lost after the first
// loss. At a receiver whose capture shows GRO's merged segments, the
// sizes are told per packet by the sender's IPv4 IDs: gaps filled by
// segments of packets as large as those before the loss are no black
// hole, gaps filled only by smaller packets (a sender that lowered its
// segment size) are.
func TestTrackMTUWireSizes(t *testing.T) {
	// fill builds the server's stream at the client: pre-loss segments of
	// 2 packets of 1000 bytes (IDs step 2), then twice a gap of 2 packets
	// filled by one segment of fillPkts packets of fillLen bytes.
	build := func(fillLen, fillPkts int) []vseg {
		segs := vHandshake()
		segs = append(segs, vseg{50, false, fPA, 1, 1, 100, 64, 102})
		id, seq, ms, cid := uint16(901), uint32(1), 60, uint16(103)
		send := func(n, pkts int) {
			segs = append(segs, vseg{ms, true, fPA, seq, 101, n, 52, id})
			id += uint16(pkts)
			ms += 2
		}
		ack := func(upto uint32) {
			segs = append(segs, vseg{ms, false, fA, 101, upto, 0, 64, cid})
			cid++
			ms += 2
		}
		for range 6 {
			send(2000, 2)
			seq += 2000
			ack(seq)
		}
		for range 2 {
			gap := seq
			id += 2 // the gap's 2 packets, lost before the capture
			seq += 2000
			send(2000, 2) // beyond the gap
			seq += 2000
			ack(gap)
			// A small packet passes: the server acknowledges a request.
			segs = append(segs, vseg{ms, false, fPA, 101, gap, 20, 64, cid})
			cid++
			ms += 2
			segs = append(segs, vseg{ms, true, fA, seq, 121, 0, 52, id})
			id++
			ms += 2
			// The gap filled, then the stream goes on in small packets.
			for off := 0; off < 2000; off += fillLen * fillPkts {
				n := min(fillLen*fillPkts, 2000-off)
				segs = append(segs, vseg{ms, true, fPA, gap + uint32(off), 121, n, 52, id})
				id += uint16((n + fillLen - 1) / fillLen)
				ms += 2
			}
			ack(seq)
			segs = append(segs, vseg{ms, true, fPA, seq, 121, 300, 52, id})
			id++
			seq += 300
			ms += 2
			ack(seq)
		}
		return segs
	}
	tests := []struct {
		name              string
		fillLen, fillPkts int
		want              bool
	}{
		{"gaps filled by merged full-sized packets: no black hole", 1000, 2, false},
		{"gaps filled by one full-sized packet at a time", 1000, 1, false},
		{"gaps filled only by smaller packets, merged: a black hole", 500, 4, true},
		{"gaps filled only by smaller packets, one at a time", 500, 1, false}, // each under minMTULossLen: no black hole is blamed
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := runVsegs(t, build(tt.fillLen, tt.fillPkts))
			v := c.Verdict
			if v.LossDirection != model.LossServerToClient {
				t.Fatalf("loss %s (%s): %s", v.LossDirection, v.Kind, v.Summary)
			}
			if got := slices.Contains(v.Suspects, model.SuspectMTUBlackhole); got != tt.want {
				t.Errorf("MTU black hole %v, want %v: %s", got, tt.want, v.Summary)
			}
		})
	}
}

// At the sender: a retransmission as big as the first segment lost that
// the peer acknowledged passed, no black hole; one the sender sent again
// in smaller pieces before the ACK came tells nothing (the ACK may be the
// pieces').
func TestTrackMTUBigCopyAcked(t *testing.T) {
	build := func(smaller bool) []vseg {
		segs := []vseg{
			{0, false, fS, 0, 0, 0, 52, 100},
			{1, true, fS | fA, 0, 1, 0, 64, 900},
			{40, false, fA, 1, 1, 0, 52, 101},
			{50, false, fPA, 1, 1, 100, 52, 102},
		}
		id, cid, ms := uint16(901), uint16(103), 60
		srv := func(seq uint32, n int) {
			segs = append(segs, vseg{ms, true, fPA, seq, 101, n, 64, id})
			id++
			ms++
		}
		cli := func(seq, ack uint32, n int) {
			segs = append(segs, vseg{ms, false, fPA, seq, ack, n, 52, cid})
			cid++
			ms += 2
		}
		cseq, seq := uint32(101), uint32(1)
		for range 2 {
			// Both of two full-sized segments lost after the capture.
			lost := seq
			srv(seq, 1448)
			srv(seq+1448, 1448)
			seq += 2 * 1448
			cli(cseq, lost, 0)
			cli(cseq, lost, 0)
			ms += 200
			srv(lost, 1448) // sent again, as big, on a timer
			srv(lost+1448, 1448)
			if smaller {
				ms += 200
				for off := uint32(0); off < 2*1448; off += 724 {
					srv(lost+off, 724) // and again, in pieces
				}
			}
			cli(cseq, seq, 0)  // all of it acknowledged
			cli(cseq, seq, 30) // the client goes on talking
			cseq += 30
			srv(seq, 0)
		}
		return segs
	}
	for _, tt := range []struct {
		name    string
		smaller bool
		want    bool
	}{
		{"the big copy acknowledged: no black hole", false, false},
		{"sent again smaller before the ACK: a black hole", true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, c := runVsegs(t, build(tt.smaller))
			v := c.Verdict
			if v.LossDirection != model.LossServerToClient {
				t.Fatalf("loss %s (%s, at %s): %s %+v", v.LossDirection, v.Kind, c.CapturePoint, v.Summary, c.Events)
			}
			if got := slices.Contains(v.Suspects, model.SuspectMTUBlackhole); got != tt.want {
				t.Errorf("MTU black hole %v, want %v: %s", got, tt.want, v.Summary)
			}
		})
	}
}
