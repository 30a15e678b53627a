package app

import (
	"crypto/tls"
	"fmt"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/decode/h2"
)

func TestPingInfer(t *testing.T) {
	const (
		ping13   = 39
		close13  = 24
		bigData  = 1200
		ping12   = 46
		chacha12 = 38
	)
	type want struct {
		side  int
		ms    int
		acked bool
		ackMs int
	}
	for _, tc := range []struct {
		name    string
		version uint16 // 0: handshake not seen
		suite   uint16
		recs    []inferRec
		closeMs [2]int // each side's first FIN or RST, 0 for none
		want    []want
	}{
		{
			name: "idle then PING and ACK", version: tls.VersionTLS13, suite: tls.TLS_AES_128_GCM_SHA256,
			recs: []inferRec{{0, 0, bigData}, {10, 1, bigData}, {2010, 0, ping13}, {2011, 1, ping13}},
			want: []want{{0, 2010, true, 2011}},
		},
		{
			name: "server PING answered by client",
			recs: []inferRec{{0, 0, bigData}, {10, 1, bigData}, {5010, 1, ping13}, {5040, 0, ping13}},
			want: []want{{1, 5010, true, 5040}},
		},
		{
			name: "no idle: small frames, not PINGs", version: tls.VersionTLS13, suite: tls.TLS_AES_128_GCM_SHA256,
			recs: []inferRec{{0, 0, bigData}, {10, 1, bigData}, {500, 0, ping13}, {501, 1, ping13}},
		},
		{
			name: "unanswered, sender closes after PingTimeout", version: tls.VersionTLS13, suite: tls.TLS_AES_128_GCM_SHA256,
			recs:    []inferRec{{0, 0, bigData}, {10, 1, bigData}, {2010, 0, ping13}, {3010, 0, close13}},
			closeMs: [2]int{3011, 0},
			want:    []want{{0, 2010, false, 0}},
		},
		{
			name: "GOAWAY: the peer closes at once", version: tls.VersionTLS13, suite: tls.TLS_AES_128_GCM_SHA256,
			recs:    []inferRec{{0, 0, bigData}, {10, 1, bigData}, {3000, 1, ping13}, {3001, 0, close13}},
			closeMs: [2]int{3002, 3003},
		},
		{
			name: "GOAWAY: its sender closes at once", version: tls.VersionTLS13, suite: tls.TLS_AES_128_GCM_SHA256,
			recs:    []inferRec{{0, 0, bigData}, {10, 1, bigData}, {3000, 1, ping13}, {3001, 1, close13}},
			closeMs: [2]int{0, 3002},
		},
		{
			name: "unanswered at the end of the capture", version: tls.VersionTLS13, suite: tls.TLS_AES_128_GCM_SHA256,
			recs: []inferRec{{0, 0, bigData}, {10, 1, bigData}, {2010, 0, ping13}},
			want: []want{{0, 2010, false, 0}},
		},
		{
			name: "TLS 1.2 GCM size", version: tls.VersionTLS12, suite: tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			recs: []inferRec{{0, 0, bigData}, {10, 1, bigData}, {2010, 0, ping13}, {2011, 1, ping13}, {4010, 0, ping12}, {4011, 1, ping12}},
			want: []want{{0, 4010, true, 4011}},
		},
		{
			name: "mid-connection: sizes unknown, first pair settles it",
			recs: []inferRec{{0, 0, chacha12}, {1, 1, chacha12}, {2001, 0, ping13}, {2002, 1, ping13}, {4001, 0, chacha12}, {4002, 1, chacha12}},
			want: []want{{0, 0, true, 1}, {0, 4001, true, 4002}},
		},
		{
			name: "mid-connection: the peer spoke first, no silence measured",
			recs: []inferRec{{0, 1, bigData}, {5, 0, ping13}, {6, 1, ping13}},
		},
		{
			name: "the peer answers with something else", version: tls.VersionTLS13, suite: tls.TLS_AES_128_GCM_SHA256,
			recs: []inferRec{{0, 0, bigData}, {10, 1, bigData}, {2010, 0, ping13}, {2011, 1, bigData}},
		},
		{
			name: "ACK too late to be one", version: tls.VersionTLS13, suite: tls.TLS_AES_128_GCM_SHA256,
			recs: []inferRec{{0, 0, bigData}, {10, 1, bigData}, {2010, 0, ping13}, {60000, 1, ping13}},
		},
		{
			name: "CBC: no fixed size, no inference", version: tls.VersionTLS12, suite: 0x002f, // TLS_RSA_WITH_AES_128_CBC_SHA
			recs: []inferRec{{0, 0, bigData}, {10, 1, bigData}, {2010, 0, ping13}, {2011, 1, ping13}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
			at := func(ms int) h2.Meta {
				return h2.Meta{Frame: ms + 1, Time: t0.Add(time.Duration(ms) * time.Millisecond)}
			}
			var p pingInfer
			var pings pingTracker
			if tc.version != 0 {
				p.setSuite(tc.version, tc.suite)
			}
			closed := [2]bool{}
			for _, r := range tc.recs {
				for side, ms := range tc.closeMs {
					if ms != 0 && ms <= r.ms && !closed[side] {
						closed[side] = true
						if p.hasPend && p.pend.side == side {
							p.end(true, at(ms), &pings)
						}
					}
				}
				p.record(r.side, r.size, at(r.ms), &pings)
			}
			if p.hasPend {
				s := p.pend.side
				p.end(tc.closeMs[s] != 0, at(tc.closeMs[s]), &pings)
			}
			var got []want
			for _, r := range pings.list {
				if !r.Inferred || pings.reasons[r.ID] == "" {
					t.Errorf("ping %+v: not marked inferred with a reason", r)
				}
				w := want{side: int(r.Side), ms: r.Meta().Frame - 1, acked: r.Acked}
				if r.Acked {
					w.ackMs = r.Ack().Frame - 1
				}
				got = append(got, w)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// A record sequence through pingInfer, by time in ms and side (0 or 1).
type inferRec struct {
	ms   int
	side int
	size int
}
