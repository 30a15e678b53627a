package analyze

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
)

// vseg is one IPv4 segment of the connection 10.0.0.1:40000 ->
// 10.0.0.100:6443 for the tracker tests; seq and ack are relative to ISNs
// 1000 (client) and 5000 (server).
type vseg struct {
	ms         int
	fromServer bool
	flags      decode.TCPFlags
	seq, ack   uint32
	n          int
	ttl        uint8
	ipid       uint16
}

func runVsegs(t *testing.T, segs []vseg) (*model.Report, *model.Connection) {
	t.Helper()
	return runVsegsWith(t, segs, nil)
}

// runVsegsWith is runVsegs with the Report given inputs.
func runVsegsWith(t *testing.T, segs []vseg, inputs []*decode.InputInfo) (*model.Report, *model.Connection) {
	t.Helper()
	cli := netip.MustParseAddrPort("10.0.0.1:40000")
	srv := netip.MustParseAddrPort("10.0.0.100:6443")
	a := New(Options{})
	for i, g := range segs {
		s := &decode.Segment{
			Frame: i + 1, Time: vt0.Add(time.Duration(g.ms) * time.Millisecond),
			Src: cli, Dst: srv, IPVersion: 4, TTL: g.ttl, IPID: g.ipid,
			Seq: 1000 + g.seq, Ack: 5000 + g.ack, Flags: g.flags, Window: 1000,
			PayloadLen: g.n, Options: decode.TCPOptions{WindowScale: -1},
		}
		if g.fromServer {
			s.Src, s.Dst = srv, cli
			s.Seq, s.Ack = 5000+g.seq, 1000+g.ack
		}
		if g.flags&decode.FlagACK == 0 {
			s.Ack = 0
		}
		a.Segment(s)
	}
	r := a.Report(inputs)
	if len(r.Connections) != 1 {
		t.Fatalf("%d connections", len(r.Connections))
	}
	return r, r.Connections[0]
}

const (
	fS  = decode.FlagSYN
	fA  = decode.FlagACK
	fPA = decode.FlagPSH | decode.FlagACK
	fR  = decode.FlagRST
	fF  = decode.FlagFIN | decode.FlagACK
)

// handshake at the client: SYN, SYN-ACK 40 ms later, ACK at once.
func vHandshake() []vseg {
	return []vseg{
		{0, false, fS, 0, 0, 0, 64, 100},
		{40, true, fS | fA, 0, 1, 0, 52, 900},
		{40, false, fA, 1, 1, 0, 64, 101},
	}
}

func TestTrackMiddleboxRSTByIPID(t *testing.T) {
	segs := vHandshake()
	// The server's IDs count up from 900; its TTL is 52 throughout.
	for i := 0; i < 6; i++ {
		segs = append(segs,
			vseg{100 + 10*i, false, fPA, 1 + uint32(i)*10, 1 + uint32(i)*20, 10, 64, uint16(102 + i)},
			vseg{120 + 10*i, true, fPA, 1 + uint32(i)*20, 11 + uint32(i)*10, 20, 52, uint16(901 + i)})
	}
	segs = append(segs, vseg{300, true, fR, 121, 0, 0, 52, 31337})
	r, c := runVsegs(t, segs)
	if r.CapturePoint != model.PointClient {
		t.Errorf("capture point %s", r.CapturePoint)
	}
	v := c.Verdict
	if v.Kind != model.KindReset || len(v.Suspects) != 1 || v.Suspects[0] != model.SuspectMiddleboxReset {
		t.Errorf("verdict %+v", v)
	}
	// The same with the server's own next ID: the server's RST.
	segs[len(segs)-1].ipid = 907
	if _, c := runVsegs(t, segs); len(c.Verdict.Suspects) != 0 {
		t.Errorf("own RST: suspects %v", c.Verdict.Suspects)
	}
	// ID 0, as Linux sends for a closed socket: no evidence either way.
	segs[len(segs)-1].ipid = 0
	if _, c := runVsegs(t, segs); len(c.Verdict.Suspects) != 0 {
		t.Errorf("ID 0: suspects %v", c.Verdict.Suspects)
	}
}

func TestTrackMarkers(t *testing.T) {
	segs := append(vHandshake(),
		// The server's 1-1000 arrives, 1001-2000 never reaches the
		// capture, 2001-3000 does: a gap.
		vseg{100, true, fA, 1, 1, 1000, 52, 901},
		vseg{101, true, fA, 2001, 1, 1000, 52, 903},
		vseg{101, false, fA, 1, 1001, 0, 64, 102},
		// The gap is filled: lost before the capture.
		vseg{150, true, fA, 1001, 1, 1000, 52, 904},
		vseg{150, false, fA, 1, 3001, 0, 64, 103},
		// The client's request, answered by an ACK that does not cover
		// it, then sent again: the data was lost.
		vseg{200, false, fPA, 1, 3001, 50, 64, 104},
		vseg{210, true, fPA, 3001, 1, 10, 52, 905},
		vseg{420, false, fPA, 1, 3011, 50, 64, 105},
	)
	_, c := runVsegs(t, segs)
	var fill, missing bool
	for _, e := range c.Events {
		switch {
		case e.Dir == model.ServerToClient && e.Seq == 1001 && e.Kind != model.EvLostSegment:
			fill = e.Unseen && !e.PeerMissing
		case e.Dir == model.ClientToServer && e.Kind == model.EvRetransmission:
			missing = e.PeerMissing && !e.Unseen
		}
		if e.TTL == 0 {
			t.Errorf("event %+v without TTL", e)
		}
	}
	if !fill || !missing {
		t.Errorf("fill %v, peer missing %v: events %+v", fill, missing, c.Events)
	}
}

// vt0 is the hand-built segments' capture start; at is ms after it.
var vt0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return vt0.Add(time.Duration(ms) * time.Millisecond) }

// TestTrackDead: the tracker's run of unanswered retransmissions, judged.
// The client's request at 1 s gets no ACK; its TCP sends it again with
// Linux's backoff (200, 400, 800, 1600 ms).
func TestTrackDead(t *testing.T) {
	base := func() []vseg {
		return append(vHandshake(),
			vseg{100, false, fPA, 1, 1, 20, 64, 102},
			vseg{110, true, fPA, 1, 21, 30, 52, 901}, // answered, ACKs it
			vseg{150, false, fA, 21, 31, 0, 64, 103}, // the client ACKs the answer: the last progress
			vseg{1000, false, fPA, 21, 31, 15, 64, 104},
			vseg{1200, false, fPA, 21, 31, 15, 64, 105},
			vseg{1600, false, fPA, 21, 31, 15, 64, 106},
			vseg{2400, false, fPA, 21, 31, 15, 64, 107},
			vseg{4000, false, fPA, 21, 31, 15, 64, 108},
		)
	}
	tests := []struct {
		name      string
		segs      func() []vseg
		kind      model.Kind
		since     int     // frame (the last packet in which the server ACKed new data); 0: none
		retrying  float64 // ms; 0: none
		retries   int
		summaryIn string
	}{
		{"unanswered to the end of the capture", base, model.KindBlackholed, 5, 3000, 4,
			"the client sent its data (frame 7, 15 bytes) again 4 times over 3.0 s and the server never acknowledged it"},
		{"answered at last: TCP recovered", func() []vseg {
			return append(base(), vseg{4010, true, fA, 31, 36, 0, 52, 902})
		}, model.KindDegraded, 0, 0, 0, "TCP recovered"},
		{"answered by the server's RST: its host was there", func() []vseg {
			return append(base(), vseg{4010, true, fR, 31, 0, 0, 52, 0})
		}, model.KindReset, 0, 0, 0, "The server reset the connection"},
		{"one retransmission the end of the capture cut off", func() []vseg {
			return base()[:len(base())-3]
		}, model.KindHealthy, 0, 0, 0, "No loss"},
		{"a second of trying is needed", func() []vseg {
			s := base()[:len(base())-2]
			return append(s, vseg{1700, false, fPA, 21, 31, 15, 64, 109})
		}, model.KindDegraded, 0, 0, 0, "TCP recovered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := runVsegs(t, tt.segs())
			v := c.Verdict
			if v.Kind != tt.kind || !strings.Contains(v.Summary, tt.summaryIn) {
				t.Fatalf("%s: %s", v.Kind, v.Summary)
			}
			if (v.Since == nil) != (tt.since == 0) || v.Since != nil && v.Since.Frame != tt.since {
				t.Errorf("since %+v, want frame %d", v.Since, tt.since)
			}
			if (v.RetryingMs == nil) != (tt.retrying == 0) || v.RetryingMs != nil && *v.RetryingMs != tt.retrying || v.Retries != tt.retries {
				t.Errorf("retrying %v ms, %d retries; want %v, %d", v.RetryingMs, v.Retries, tt.retrying, tt.retries)
			}
		})
	}
}

// TestTrackStalled: the server's TCP ACKs the client's request and a
// later segment, and nothing comes back; the client gives up. The
// segments carry no bytes a decoder recognises (neither HTTP/2 nor TLS),
// so nothing says they asked for an answer: no server_stalled, and with
// no loss either, the client's own close (healthy). The lab's
// server-stalled scenario holds the positive case, decrypted and not.
func TestTrackStalled(t *testing.T) {
	segs := append(vHandshake(),
		vseg{100, false, fPA, 1, 1, 20, 64, 102},
		vseg{110, true, fPA, 1, 21, 30, 52, 901},
		vseg{150, false, fA, 21, 31, 0, 64, 103},
		vseg{1000, false, fPA, 21, 31, 40, 64, 104}, // a request?
		vseg{1001, true, fA, 31, 61, 0, 52, 902},    // ACKed by the server's kernel
		vseg{3000, false, fPA, 61, 31, 17, 64, 105},
		vseg{3001, true, fA, 31, 78, 0, 52, 903},
		vseg{4000, false, fF, 78, 31, 0, 64, 106}, // the client gives up
		vseg{4001, true, fA, 31, 79, 0, 52, 904},
	)
	_, c := runVsegs(t, segs)
	if v := c.Verdict; v.Kind != model.KindHealthy || v.LossDirection != model.LossNone || len(v.Suspects) != 0 {
		t.Errorf("%s %s %v: %s", v.Kind, v.LossDirection, v.Suspects, v.Summary)
	}
}
