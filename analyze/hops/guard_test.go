package hops

import (
	"slices"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/decode"
)

func TestRaceGuard(t *testing.T) {
	type step struct {
		ack    bool // onAck(rel, ts), else onEcho(ts)
		rel    int64
		ts     uint32
		safe   int64 // after it; -1: none proven
		reason string
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"echo of the same tick proves nothing", []step{
			{ack: true, rel: 1000, ts: 7, safe: -1},
			{ts: 7, safe: -1, reason: "the sender may have taken in an earlier ACK of tick 7"},
			{ts: 8, safe: 1000},
		}},
		{"one watched at a time", []step{
			{ack: true, rel: 1000, ts: 7, safe: -1},
			{ack: true, rel: 2000, ts: 9, safe: -1, reason: "waits for the first"},
			{ts: 10, safe: 1000, reason: "the first proven, the second was not watched"},
			{ack: true, rel: 3000, ts: 10, safe: 1000},
			{ts: 11, safe: 3000},
		}},
		{"an ACK of what is proven is not watched", []step{
			{ack: true, rel: 1000, ts: 7, safe: -1},
			{ts: 8, safe: 1000},
			{ack: true, rel: 1000, ts: 8, safe: 1000},
			{ack: true, rel: 1500, ts: 8, safe: 1000},
			{ts: 9, safe: 1500},
		}},
		{"timestamps wrap", []step{
			{ack: true, rel: 1000, ts: 0xffff_fffe, safe: -1},
			{ts: 0xffff_fff0, safe: -1, reason: "older"},
			{ts: 1, safe: 1000},
		}},
		{"no ACK, no proof", []step{
			{ts: 100, safe: -1},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g raceGuard
			for i, s := range tt.steps {
				if s.ack {
					g.onAck(s.rel, s.ts)
				} else {
					g.onEcho(s.ts)
				}
				got := int64(-1)
				if g.safeSet {
					got = g.safe
				}
				if got != s.safe {
					t.Fatalf("step %d: safe %d, want %d %s", i, got, s.safe, s.reason)
				}
			}
		})
	}
}

// TestPlacerRaceGuard holds that a busy transfer compared early, before
// PlaceHold, keeps what PlaceHold was for: a copy on its way when the
// range was acknowledged everywhere (a retransmission whose timer fired
// just before the ACK reached the sender) is not lost between the points,
// while a copy that was lost between them still is; the same for pure
// ACKs.
func TestPlacerRaceGuard(t *testing.T) {
	const (
		n       = 3000                  // data segments of 1,000 bytes, client -> server
		gap     = 20 * time.Microsecond // between them
		delay   = time.Millisecond      // client's point -> server's point (the server's)
		lost    = 1000                  // lost between the points, sent again 3 ms later
		ackLost = 700                   // the server's ACK lost between the points
		raced   = 2500                  // sent again just before its ACK reached the client
		ci      = 1000                  // the client's ISN, the server's
		si      = 5000
	)
	for _, tc := range []struct {
		name  string
		ts    bool          // the hosts send TCP timestamps
		ahead time.Duration // the server's point's clock ahead of the client's
		early bool          // compared early
		// shift is what a box between the points adds to the server's
		// TSvals (the client echoes what it got): the points number the
		// server's timestamps apart.
		shift     uint32
		earlyAcks bool // the pure ACKs compared early
	}{
		{"timestamps", true, 0, true, 0, true},
		{"no timestamps", false, 0, false, 0, false},
		// The server's point sees the flow 50 ms later in the merged
		// order: nothing is compared early without it.
		{"a point's clock ahead", true, 50 * time.Millisecond, true, 0, true},
		// The data's guard holds at each point in its own numbers; the
		// pure ACKs' proof sets one point's against the other's, and is
		// not used.
		{"timestamps rewritten between the points", true, 0, true, 100000, false},
	} {
		ts := tc.ts
		t.Run(tc.name, func(t *testing.T) {
			type send struct {
				at   time.Duration
				seg  int
				lost bool
			}
			var sends []send
			for i := range n {
				sends = append(sends, send{at: time.Duration(i) * gap, seg: i, lost: i == lost})
			}
			sends = append(sends, send{at: lost*gap + 3*time.Millisecond, seg: lost})
			// The server's point is the server: it acknowledges every
			// second segment in order, at once one out of order or
			// filling a hole; an ACK reaches the client's point delay
			// later.
			type ackPkt struct {
				at    time.Duration // at the server
				ack   uint32
				tsval uint32
				tsecr uint32
			}
			tsOf := func(base uint32, at time.Duration) uint32 { return base + uint32(at/time.Millisecond) }
			arrivals := slices.Clone(sends)
			slices.SortStableFunc(arrivals, func(a, b send) int { return int(a.at - b.at) })
			var acks []ackPkt
			next, inOrder, recent := 0, 0, uint32(0)
			held := map[int]bool{}
			for _, s := range arrivals {
				if s.lost {
					continue
				}
				at := s.at + delay
				hole := len(held) > 0
				if s.seg == next {
					recent = tsOf(1000, s.at)
					next++
					for held[next] {
						delete(held, next)
						next++
					}
					inOrder++
				} else {
					held[s.seg] = true
				}
				if s.seg != next-1 || hole || inOrder%2 == 0 {
					acks = append(acks, ackPkt{at: at, ack: uint32(ci + 1 + next*1000), tsval: tsOf(5000, at), tsecr: recent})
				}
			}
			// The copy racing the ACK of segment raced, sent a
			// microsecond before that ACK reaches the client.
			for _, a := range acks {
				if a.ack >= uint32(ci+1+(raced+1)*1000) {
					sends = append(sends, send{at: a.at + delay - time.Microsecond, seg: raced})
					break
				}
			}
			slices.SortStableFunc(sends, func(a, b send) int { return int(a.at - b.at) })
			// Each point's packets: data at the client's point when sent
			// (echoing the newest server TSval that reached the client),
			// at the server's delay later unless lost; ACKs at the
			// server's when sent, at the client's delay later.
			var evs []ev
			k, echo := 0, uint32(0)
			for i, s := range sends {
				for k < len(acks) && acks[k].at+delay <= s.at {
					if k != ackLost {
						echo = acks[k].tsval
					}
					k++
				}
				seg := decode.Segment{Src: cli, Dst: srv, IPVersion: 4, IPID: uint16(100 + i), Seq: uint32(ci + 1 + s.seg*1000), Ack: si + 1, Flags: decode.FlagACK, PayloadLen: 1000}
				seg.Options.Timestamp, seg.Options.TSVal, seg.Options.TSEcr = ts, tsOf(1000, s.at), echo+tc.shift
				seg.Time, seg.TTL = t0.Add(s.at), 64
				evs = append(evs, ev{0, seg})
				if !s.lost {
					seg.Options.TSEcr = echo
					seg.Time, seg.TTL = t0.Add(s.at+delay+tc.ahead), 63
					evs = append(evs, ev{1, seg})
				}
			}
			for i, a := range acks {
				seg := decode.Segment{Src: srv, Dst: cli, IPVersion: 4, IPID: uint16(7000 + i), Seq: si + 1, Ack: a.ack, Flags: decode.FlagACK}
				seg.Options.Timestamp, seg.Options.TSVal, seg.Options.TSEcr = ts, a.tsval, a.tsecr
				seg.Time, seg.TTL = t0.Add(a.at+tc.ahead), 64
				evs = append(evs, ev{1, seg})
				if i != ackLost {
					seg.Options.TSVal += tc.shift
					seg.Time, seg.TTL = t0.Add(a.at+delay), 63
					evs = append(evs, ev{0, seg})
				}
			}
			var pl *Placer
			res := feedWith([]hop{{name: "client"}, {name: "server"}}, evs, func(p *Placer) {
				// Compared as often as the guards allow, so that a
				// comparison falls while the raced copy is on its way.
				p.batch = 8
				pl = p
			})
			if (pl.early > 0) != tc.early || (pl.earlyAcks > 0) != tc.earlyAcks {
				t.Fatalf("%d comparisons early, %d of ACKs, want some: %v, %v", pl.early, pl.earlyAcks, tc.early, tc.earlyAcks)
			}
			if h := res.Flow(0).Hops[1][0]; h.Lost != 1 {
				t.Errorf("server->client %+v, want the one ACK lost", h)
			}
			h := res.Flow(0).Hops[0][0]
			if h.Lost != 1 || len(h.Frames) != 1 {
				t.Fatalf("client->server %+v, want one loss (segment %d's first copy), not the raced copy", h, lost)
			}
			if want := t0.Add(lost * gap); !h.Frames[0].Time.Equal(want) {
				t.Errorf("lost frame at %s, want %s", h.Frames[0].Time, want)
			}
			if h.Packets != n+2 {
				t.Errorf("%d packets at the client, want %d", h.Packets, n+2)
			}
		})
	}
}
