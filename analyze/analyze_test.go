package analyze

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/analyze/tcp"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/decode/h2"
	"github.com/h2pcap/h2pcap/model"
)

var (
	cliEP = netip.MustParseAddrPort("10.0.0.1:40000")
	srvEP = netip.MustParseAddrPort("10.0.0.2:443")
	t0    = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
)

const (
	fromC = 0 // client to server
	fromS = 1 // server to client
)

// seg is a hand-built segment: at ms after t0, from one side.
type seg struct {
	ms       float64
	from     int
	flags    string // letters: S A F R P
	seq, ack uint32
	len      int
	win      uint16
	ws       int8 // window scale option; 0 means absent unless wsSet
	wsSet    bool
	payload  string
	sack     int // number of SACK blocks
	sacks    []decode.SACKBlock
	ttl      uint8
}

func (g seg) segment(frame int) *decode.Segment { return g.segmentFrom(frame, cliEP) }

// segmentFrom builds the segment with cli as the client's endpoint.
func (g seg) segmentFrom(frame int, cli netip.AddrPort) *decode.Segment {
	s := &decode.Segment{
		Frame:      frame,
		Time:       t0.Add(time.Duration(g.ms * float64(time.Millisecond))),
		Src:        cli,
		Dst:        srvEP,
		TTL:        g.ttl,
		Seq:        g.seq,
		Ack:        g.ack,
		Window:     g.win,
		PayloadLen: g.len,
		Options:    decode.TCPOptions{WindowScale: -1},
	}
	if g.from == fromS {
		s.Src, s.Dst = s.Dst, s.Src
	}
	if s.TTL == 0 {
		s.TTL = 64
	}
	if g.wsSet {
		s.Options.WindowScale = g.ws
	}
	if g.payload != "" {
		s.Payload = []byte(g.payload)
		if s.PayloadLen == 0 {
			s.PayloadLen = len(g.payload)
		}
	}
	for i := 0; i < g.sack; i++ {
		s.Options.SACK = append(s.Options.SACK, decode.SACKBlock{Left: 1, Right: 2})
	}
	s.Options.SACK = append(s.Options.SACK, g.sacks...)
	for _, c := range g.flags {
		switch c {
		case 'S':
			s.Flags |= decode.FlagSYN
		case 'A':
			s.Flags |= decode.FlagACK
		case 'F':
			s.Flags |= decode.FlagFIN
		case 'R':
			s.Flags |= decode.FlagRST
		case 'P':
			s.Flags |= decode.FlagPSH
		}
	}
	return s
}

// run feeds segs to a new Analyzer and returns each segment's flags.
func run(segs []seg) (*Analyzer, []tcp.Flags) {
	a := New(Options{})
	out := make([]tcp.Flags, len(segs))
	for i, g := range segs {
		out[i] = a.segment(g.segment(i + 1))
	}
	return a, out
}

// Client and server ISNs of the handshakes below.
const (
	isnC = 1000
	isnS = 5000
)

// handshake: SYN at 0 ms, SYN-ACK at 10 ms, ACK at 20 ms: iRTT 20 ms.
func handshake(wsC, wsS int8) []seg {
	return []seg{
		{ms: 0, from: fromC, flags: "S", seq: isnC, win: 65535, ws: wsC, wsSet: wsC >= 0},
		{ms: 10, from: fromS, flags: "SA", seq: isnS, ack: isnC + 1, win: 65535, ws: wsS, wsSet: wsS >= 0},
		{ms: 20, from: fromC, flags: "A", seq: isnC + 1, ack: isnS + 1, win: 1000},
	}
}

func withHandshake(segs ...seg) []seg { return append(handshake(-1, -1), segs...) }

func flagNames(f tcp.Flags) string {
	names := []string{"retrans", "lost", "acked-unseen", "keep-alive", "dup-ack", "zero-window",
		"zw-probe", "zw-probe-ack", "keep-alive-ack", "ooo", "fast", "window-update",
		"window-full", "reused-ports", "spurious"}
	var out []string
	for i, n := range names {
		if f&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, ",")
}

// First data byte of each side after the handshake.
const C1, S1 = isnC + 1, isnS + 1

// ruleTests are hand-built cases for each rule; TestRulesAgainstTshark
// checks each expectation against tshark too.
var ruleTests = []struct {
	name string
	segs []seg
	want map[int]tcp.Flags // by index in segs; every other segment must have no flag
}{
	{
		name: "clean exchange",
		segs: withHandshake(
			seg{ms: 30, from: fromC, flags: "PA", seq: C1, ack: S1, len: 100, win: 1000},
			seg{ms: 40, from: fromS, flags: "A", seq: S1, ack: C1 + 100, win: 65535},
		),
	},
	{
		name: "retransmission after the iRTT",
		segs: withHandshake(
			seg{ms: 30, from: fromC, flags: "PA", seq: C1, ack: S1, len: 100, win: 1000},
			seg{ms: 300, from: fromC, flags: "PA", seq: C1, ack: S1, len: 100, win: 1000},
		),
		want: map[int]tcp.Flags{4: tcp.FlagRetransmission},
	},
	{
		name: "retransmitted SYN",
		segs: []seg{
			{ms: 0, from: fromC, flags: "S", seq: isnC, win: 65535},
			{ms: 1000, from: fromC, flags: "S", seq: isnC, win: 65535},
		},
		want: map[int]tcp.Flags{1: tcp.FlagRetransmission},
	},
	{
		name: "fast retransmission after two duplicate ACKs",
		segs: withHandshake(
			seg{ms: 30, from: fromC, flags: "A", seq: C1, ack: S1, len: 100, win: 1000},
			seg{ms: 31, from: fromC, flags: "A", seq: C1 + 100, ack: S1, len: 100, win: 1000},
			seg{ms: 32, from: fromC, flags: "A", seq: C1 + 200, ack: S1, len: 100, win: 1000},
			seg{ms: 40, from: fromS, flags: "A", seq: S1, ack: C1 + 100, win: 65535},
			seg{ms: 41, from: fromS, flags: "A", seq: S1, ack: C1 + 100, win: 65535, sack: 1},
			seg{ms: 42, from: fromS, flags: "A", seq: S1, ack: C1 + 100, win: 65535, sack: 1},
			seg{ms: 45, from: fromC, flags: "A", seq: C1 + 100, ack: S1, len: 100, win: 1000},
		),
		want: map[int]tcp.Flags{7: tcp.FlagDupAck, 8: tcp.FlagDupAck, 9: tcp.FlagFastRetransmission},
	},
	{
		name: "not fast when 20 ms after the last dup ACK",
		segs: withHandshake(
			seg{ms: 30, from: fromC, flags: "A", seq: C1, ack: S1, len: 100, win: 1000},
			seg{ms: 31, from: fromC, flags: "A", seq: C1 + 100, ack: S1, len: 100, win: 1000},
			seg{ms: 40, from: fromS, flags: "A", seq: S1, ack: C1 + 100, win: 65535},
			seg{ms: 41, from: fromS, flags: "A", seq: S1, ack: C1 + 100, win: 65535},
			seg{ms: 42, from: fromS, flags: "A", seq: S1, ack: C1 + 100, win: 65535},
			seg{ms: 62, from: fromC, flags: "A", seq: C1 + 100, ack: S1, len: 100, win: 1000},
		),
		want: map[int]tcp.Flags{6: tcp.FlagDupAck, 7: tcp.FlagDupAck, 8: tcp.FlagRetransmission},
	},
	{
		// Wireshark stores -1 in the guint32 dup-ACK counter after an
		// ACKed-unseen report, which then passes the ">= 2 dup ACKs"
		// test of a fast retransmission.
		name: "fast retransmission after the peer's ACKed-unseen report",
		segs: withHandshake(
			seg{ms: 30, from: fromC, flags: "A", seq: C1, ack: S1, len: 100, win: 1000},
			seg{ms: 31, from: fromC, flags: "A", seq: C1 + 100, ack: S1, len: 100, win: 1000},
			seg{ms: 40, from: fromS, flags: "A", seq: S1, ack: C1 + 100, win: 65535},
			seg{ms: 41, from: fromC, flags: "A", seq: C1 + 200, ack: S1 + 500, win: 1000},
			seg{ms: 45, from: fromC, flags: "A", seq: C1 + 100, ack: S1 + 500, len: 100, win: 1000},
		),
		want: map[int]tcp.Flags{6: tcp.FlagAckedUnseen, 7: tcp.FlagFastRetransmission},
	},
	{
		name: "spurious retransmission of acknowledged data",
		segs: withHandshake(
			seg{ms: 30, from: fromC, flags: "PA", seq: C1, ack: S1, len: 100, win: 1000},
			seg{ms: 40, from: fromS, flags: "A", seq: S1, ack: C1 + 100, win: 65535},
			seg{ms: 300, from: fromC, flags: "PA", seq: C1, ack: S1, len: 100, win: 1000},
		),
		want: map[int]tcp.Flags{5: tcp.FlagSpuriousRetransmission},
	},
	{
		name: "out of order within the iRTT, after a gap",
		segs: withHandshake(
			seg{ms: 30, from: fromC, flags: "A", seq: C1 + 100, ack: S1, len: 100, win: 1000},
			seg{ms: 31, from: fromC, flags: "A", seq: C1, ack: S1, len: 100, win: 1000},
		),
		want: map[int]tcp.Flags{3: tcp.FlagLostSegment, 4: tcp.FlagOutOfOrder},
	},
	{
		name: "late filler beyond the iRTT is a retransmission",
		segs: withHandshake(
			seg{ms: 30, from: fromC, flags: "A", seq: C1 + 100, ack: S1, len: 100, win: 1000},
			seg{ms: 55, from: fromC, flags: "A", seq: C1, ack: S1, len: 100, win: 1000},
		),
		want: map[int]tcp.Flags{3: tcp.FlagLostSegment, 4: tcp.FlagRetransmission},
	},
	{
		name: "without a handshake the threshold is 3 ms: out of order",
		segs: []seg{
			{ms: 0, from: fromC, flags: "A", seq: 200, ack: 9000, len: 100, win: 1000},
			{ms: 2.9, from: fromC, flags: "A", seq: 100, ack: 9000, len: 100, win: 1000},
		},
		want: map[int]tcp.Flags{1: tcp.FlagOutOfOrder},
	},
	{
		name: "without a handshake the threshold is 3 ms: retransmission",
		segs: []seg{
			{ms: 0, from: fromC, flags: "A", seq: 200, ack: 9000, len: 100, win: 1000},
			{ms: 3, from: fromC, flags: "A", seq: 100, ack: 9000, len: 100, win: 1000},
		},
		want: map[int]tcp.Flags{1: tcp.FlagRetransmission},
	},
	{
		name: "an exact resend of the latest segment is no out-of-order",
		segs: []seg{
			{ms: 0, from: fromC, flags: "A", seq: 100, ack: 9000, len: 100, win: 1000},
			{ms: 1, from: fromC, flags: "A", seq: 100, ack: 9000, len: 100, win: 1000},
		},
		want: map[int]tcp.Flags{1: tcp.FlagRetransmission},
	},
	{
		name: "ACKed unseen segment: once per gap, then once per silent episode",
		segs: withHandshake(
			seg{ms: 30, from: fromC, flags: "A", seq: C1, ack: S1, len: 100, win: 1000},
			seg{ms: 31, from: fromC, flags: "A", seq: C1 + 200, ack: S1, len: 100, win: 1000},
			seg{ms: 40, from: fromS, flags: "A", seq: S1, ack: C1 + 300, win: 65535},
			seg{ms: 41, from: fromS, flags: "A", seq: S1, ack: C1 + 300, win: 65535},
			seg{ms: 42, from: fromS, flags: "A", seq: S1, ack: C1 + 400, win: 65535},
			seg{ms: 43, from: fromS, flags: "A", seq: S1, ack: C1 + 500, win: 65535},
		),
		want: map[int]tcp.Flags{
			4: tcp.FlagLostSegment,
			5: tcp.FlagAckedUnseen, // beyond the gap: maxSeqToBeAcked jumps
			6: tcp.FlagDupAck,
			7: tcp.FlagAckedUnseen, // beyond all the client sent
			8: 0,                   // the same episode: reported once
		},
	},
	{
		name: "duplicate ACKs count and reset when the ACK moves",
		segs: withHandshake(
			seg{ms: 30, from: fromC, flags: "A", seq: C1, ack: S1, len: 100, win: 1000},
			seg{ms: 31, from: fromC, flags: "A", seq: C1 + 100, ack: S1, len: 100, win: 1000},
			seg{ms: 40, from: fromS, flags: "A", seq: S1, ack: C1 + 100, win: 65535},
			seg{ms: 41, from: fromS, flags: "A", seq: S1, ack: C1 + 100, win: 65535},
			seg{ms: 42, from: fromS, flags: "A", seq: S1, ack: C1 + 200, win: 65535},
			seg{ms: 43, from: fromS, flags: "A", seq: S1, ack: C1 + 200, win: 65535},
			seg{ms: 44, from: fromS, flags: "A", seq: S1, ack: C1 + 200, win: 1234},
		),
		want: map[int]tcp.Flags{6: tcp.FlagDupAck, 8: tcp.FlagDupAck, 9: tcp.FlagWindowUpdate},
	},
	{
		name: "zero window, probe, probe ACK",
		segs: withHandshake(
			seg{ms: 30, from: fromS, flags: "A", seq: S1, ack: C1, win: 0},
			seg{ms: 40, from: fromC, flags: "A", seq: C1, ack: S1, len: 1, win: 1000},
			seg{ms: 50, from: fromS, flags: "A", seq: S1, ack: C1, win: 0},
			seg{ms: 60, from: fromS, flags: "A", seq: S1, ack: C1, win: 500},
		),
		want: map[int]tcp.Flags{
			3: tcp.FlagZeroWindow,
			4: tcp.FlagZeroWindowProbe,
			5: tcp.FlagZeroWindow | tcp.FlagZeroWindowProbeAck,
			6: tcp.FlagWindowUpdate,
		},
	},
	{
		name: "zero window on SYN, FIN or RST does not count",
		segs: []seg{
			{ms: 0, from: fromC, flags: "S", seq: isnC, win: 0},
			{ms: 1, from: fromS, flags: "RA", seq: 0, ack: isnC + 1, win: 0},
		},
	},
	{
		name: "window full with a negotiated scale",
		segs: append(handshake(7, 7),
			seg{ms: 25, from: fromS, flags: "A", seq: S1, ack: C1, win: 10},
			seg{ms: 30, from: fromC, flags: "A", seq: C1, ack: S1, len: 1280, win: 1000},
		),
		want: map[int]tcp.Flags{3: tcp.FlagWindowUpdate, 4: tcp.FlagWindowFull},
	},
	{
		name: "window is unscaled until the peer's first ACK",
		segs: []seg{
			{ms: 0, from: fromC, flags: "S", seq: isnC, win: 65535, ws: 7, wsSet: true},
			{ms: 10, from: fromS, flags: "SA", seq: isnS, ack: C1, win: 1000, ws: 7, wsSet: true},
			{ms: 20, from: fromC, flags: "A", seq: C1, ack: S1, win: 1000},
			{ms: 30, from: fromC, flags: "A", seq: C1, ack: S1, len: 1000, win: 1000},
		},
		want: map[int]tcp.Flags{3: tcp.FlagWindowFull},
	},
	{
		name: "scale offered by one side only is not used",
		segs: append(handshake(7, -1),
			seg{ms: 25, from: fromS, flags: "A", seq: S1, ack: C1, win: 1280},
			seg{ms: 30, from: fromC, flags: "A", seq: C1, ack: S1, len: 1280, win: 1000},
		),
		want: map[int]tcp.Flags{3: tcp.FlagWindowUpdate, 4: tcp.FlagWindowFull},
	},
	{
		name: "without a SYN the scale is unknown: no window full",
		segs: []seg{
			{ms: 0, from: fromS, flags: "A", seq: 9000, ack: 100, win: 100},
			{ms: 1, from: fromC, flags: "A", seq: 100, ack: 9000, len: 100, win: 1000},
		},
	},
	{
		name: "keep-alive and its ACK",
		segs: withHandshake(
			seg{ms: 30, from: fromC, flags: "A", seq: C1, ack: S1, len: 100, win: 1000},
			seg{ms: 40, from: fromS, flags: "A", seq: S1, ack: C1 + 100, win: 65535},
			seg{ms: 5000, from: fromC, flags: "A", seq: C1 + 99, ack: S1, len: 0, win: 1000},
			seg{ms: 5010, from: fromS, flags: "A", seq: S1, ack: C1 + 100, win: 65535},
			seg{ms: 9000, from: fromC, flags: "A", seq: C1 + 99, ack: S1, len: 1, win: 1000},
		),
		want: map[int]tcp.Flags{5: tcp.FlagKeepAlive, 6: tcp.FlagKeepAliveAck, 7: tcp.FlagKeepAlive},
	},
	{
		name: "FIN counts one sequence number",
		segs: withHandshake(
			seg{ms: 30, from: fromC, flags: "FA", seq: C1, ack: S1, win: 1000},
			seg{ms: 40, from: fromS, flags: "FA", seq: S1, ack: C1 + 1, win: 65535},
			seg{ms: 50, from: fromC, flags: "A", seq: C1 + 1, ack: S1 + 1, win: 1000},
			seg{ms: 300, from: fromC, flags: "FA", seq: C1, ack: S1 + 1, win: 1000},
		),
		want: map[int]tcp.Flags{6: tcp.FlagRetransmission},
	},
	{
		name: "RST beyond nextseq is no lost segment",
		segs: withHandshake(
			seg{ms: 30, from: fromC, flags: "RA", seq: C1 + 5000, ack: S1, win: 0},
		),
	},
	{
		name: "sequence numbers wrap",
		segs: []seg{
			{ms: 0, from: fromC, flags: "S", seq: 0xFFFFFF00, win: 65535},
			{ms: 10, from: fromS, flags: "SA", seq: 0xFFFFFFF0, ack: 0xFFFFFF01, win: 65535},
			{ms: 20, from: fromC, flags: "A", seq: 0xFFFFFF01, ack: 0xFFFFFFF1, win: 1000},
			{ms: 30, from: fromC, flags: "A", seq: 0xFFFFFF01, ack: 0xFFFFFFF1, len: 0x200, win: 1000},
			{ms: 31, from: fromC, flags: "A", seq: 0x00000201, ack: 0xFFFFFFF1, len: 100, win: 1000},
			{ms: 32, from: fromC, flags: "A", seq: 0x00000101, ack: 0xFFFFFFF1, len: 100, win: 1000},
			{ms: 40, from: fromS, flags: "A", seq: 0xFFFFFFF1, ack: 0x00000101, win: 65535},
			{ms: 300, from: fromC, flags: "A", seq: 0xFFFFFF01, ack: 0xFFFFFFF1, len: 100, win: 1000},
			{ms: 301, from: fromC, flags: "A", seq: 0x00000101, ack: 0xFFFFFFF1, len: 100, win: 1000},
		},
		want: map[int]tcp.Flags{
			4: tcp.FlagLostSegment,
			5: tcp.FlagOutOfOrder,
			7: tcp.FlagSpuriousRetransmission,
			8: tcp.FlagRetransmission,
		},
	},
}

func TestRules(t *testing.T) {
	for _, tt := range ruleTests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := run(tt.segs)
			for i, f := range got {
				if want := tt.want[i]; f != want {
					t.Errorf("segment %d: flags %s, want %s", i, flagNames(f), flagNames(want))
				}
			}
		})
	}
}

var streamTests = []struct {
	name    string
	segs    []seg
	streams []int // stream of each segment
}{
	{
		name: "new ISN on a closed 4-tuple starts a new stream",
		segs: []seg{
			{ms: 0, from: fromC, flags: "S", seq: 100, win: 1},
			{ms: 1, from: fromS, flags: "SA", seq: 900, ack: 101, win: 1},
			{ms: 2, from: fromC, flags: "FA", seq: 101, ack: 901, win: 1},
			{ms: 3, from: fromS, flags: "FA", seq: 901, ack: 102, win: 1},
			{ms: 4, from: fromC, flags: "A", seq: 102, ack: 902, win: 1},
			{ms: 5, from: fromC, flags: "S", seq: 7000, win: 1},
			{ms: 6, from: fromS, flags: "SA", seq: 8000, ack: 7001, win: 1},
		},
		streams: []int{0, 0, 0, 0, 0, 1, 1},
	},
	{
		name: "new ISN while the old connection is open also starts one",
		segs: []seg{
			{ms: 0, from: fromC, flags: "S", seq: 100, win: 1},
			{ms: 1, from: fromS, flags: "SA", seq: 900, ack: 101, win: 1},
			{ms: 5, from: fromC, flags: "S", seq: 7000, win: 1},
		},
		streams: []int{0, 0, 1},
	},
	{
		name: "same ISN is a retransmitted SYN",
		segs: []seg{
			{ms: 0, from: fromC, flags: "S", seq: 100, win: 1},
			{ms: 1000, from: fromC, flags: "S", seq: 100, win: 1},
		},
		streams: []int{0, 0},
	},
	{
		name: "a SYN-ACK with a new ISN stays in the stream",
		segs: []seg{
			{ms: 0, from: fromC, flags: "S", seq: 100, win: 1},
			{ms: 1, from: fromS, flags: "SA", seq: 900, ack: 101, win: 1},
			{ms: 2, from: fromS, flags: "SA", seq: 1900, ack: 101, win: 1},
		},
		streams: []int{0, 0, 0},
	},
}

func TestStreams(t *testing.T) {
	for _, tt := range streamTests {
		t.Run(tt.name, func(t *testing.T) {
			a := New(Options{})
			for i, g := range tt.segs {
				s := g.segment(i + 1)
				a.Segment(s)
				if got := a.conns.get(new(tupleOf(s.Src, s.Dst)), a.gone).stream; got != tt.streams[i] {
					t.Errorf("segment %d: stream %d, want %d", i, got, tt.streams[i])
				}
			}
			r := a.Report(nil)
			if want := tt.streams[len(tt.streams)-1] + 1; len(r.Connections) != want {
				t.Errorf("%d connections, want %d", len(r.Connections), want)
			}
		})
	}
}

func TestRoles(t *testing.T) {
	other := netip.MustParseAddrPort("10.0.0.9:51000")
	tests := []struct {
		name       string
		src, dst   netip.AddrPort // of the first segment
		flags      string
		payload    string
		wantClient netip.AddrPort
		wantRule   string
		wantApp    string
	}{
		{"SYN", cliEP, srvEP, "S", "", cliEP, "syn", "unknown"},
		{"SYN-ACK only", srvEP, cliEP, "SA", "", cliEP, "syn", "unknown"},
		{"HTTP/2 preface from the high port's peer", srvEP, other, "A", h2.ClientPreface + "\x00\x00", srvEP, "http2-preface", "h2c"},
		{"HTTP/2 preface cut by the snaplen", other, srvEP, "A", "PRI * HTTP/2.0\r\n", other, "http2-preface", "h2c"},
		{"HTTP/1 request", srvEP, other, "PA", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", srvEP, "http1-request", "http1"},
		{"HTTP/1 response", other, srvEP, "PA", "HTTP/1.1 200 OK\r\n", srvEP, "http1-response", "http1"},
		{"TLS ClientHello", srvEP, other, "PA", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc", srvEP, "tls-client-hello", "tls"},
		{"TLS application data: the well-known port", other, srvEP, "PA", "\x17\x03\x03\x00\x10", other, "well-known-port", "tls"},
		{"well-known port in the short list", netip.MustParseAddrPort("10.0.0.3:6443"), other, "A", "", other, "well-known-port", "unknown"},
		{"ephemeral port", netip.MustParseAddrPort("10.0.0.3:33000"), netip.MustParseAddrPort("10.0.0.4:41000"), "A", "", netip.MustParseAddrPort("10.0.0.4:41000"), "ephemeral-port", "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := New(Options{})
			s := &decode.Segment{Frame: 1, Time: t0, Src: tt.src, Dst: tt.dst, Seq: 1, Ack: 1, Window: 1,
				Options: decode.TCPOptions{WindowScale: -1}}
			seg{flags: tt.flags}.applyFlags(s)
			s.Payload = []byte(tt.payload)
			s.PayloadLen = len(tt.payload)
			a.Segment(s)
			c := a.Report(nil).Connections[0]
			if c.Client != tt.wantClient.String() || c.Roles != tt.wantRule || c.App != tt.wantApp {
				t.Errorf("client %s by %s, app %s; want %s by %s, app %s",
					c.Client, c.Roles, c.App, tt.wantClient, tt.wantRule, tt.wantApp)
			}
		})
	}
}

func (g seg) applyFlags(s *decode.Segment) {
	s.Flags = g.segment(0).Flags
}

func TestReport(t *testing.T) {
	segs := []seg{
		{ms: 0, from: fromC, flags: "S", seq: isnC, win: 65535, ws: 7, wsSet: true, ttl: 64},
		{ms: 10, from: fromS, flags: "SA", seq: isnS, ack: C1, win: 65535, ws: 9, wsSet: true, ttl: 57},
		{ms: 20, from: fromC, flags: "A", seq: C1, ack: S1, win: 1000, ttl: 64},
		{ms: 30, from: fromC, flags: "PA", seq: C1, ack: S1, payload: h2.ClientPreface, win: 1000, ttl: 64},
		{ms: 40, from: fromS, flags: "A", seq: S1, ack: C1 + 24, win: 600, sack: 2, ttl: 58},
		{ms: 300, from: fromC, flags: "PA", seq: C1, ack: S1, payload: h2.ClientPreface, len: 100, win: 1000, ttl: 64},
		{ms: 400, from: fromS, flags: "RA", seq: S1, ack: C1 + 24, win: 0, ttl: 57},
		{ms: 401, from: fromC, flags: "FA", seq: C1 + 100, ack: S1, win: 1000, ttl: 64},
	}
	a := New(Options{MaxEventsPerConn: 2})
	for i, g := range segs {
		a.Segment(g.segment(i + 1))
	}
	r := a.Report([]*decode.InputInfo{{Path: "x.pcap"}})
	if r.Version != 1 || len(r.Connections) != 1 {
		t.Fatalf("version %d, %d connections", r.Version, len(r.Connections))
	}
	c := r.Connections[0]
	if c.Client != cliEP.String() || c.Server != srvEP.String() || c.Roles != "syn" || c.App != "h2c" {
		t.Errorf("client %s server %s roles %s app %s", c.Client, c.Server, c.Roles, c.App)
	}
	if c.IRTTms == nil || *c.IRTTms != 20 {
		t.Errorf("iRTT %v, want 20 ms", c.IRTTms)
	}
	wantHS := model.Handshake{Seen: true, ClientWScale: 7, ServerWScale: 9}
	if c.Handshake != wantHS {
		t.Errorf("handshake %+v, want %+v", c.Handshake, wantHS)
	}
	if c.Close != (model.Close{Kind: "rst", By: "server", Frame: 7}) {
		t.Errorf("close %+v", c.Close)
	}
	cs, sc := c.TCP.ClientToServer, c.TCP.ServerToClient
	if cs.Packets != 5 || sc.Packets != 3 || cs.Bytes != 24+100 || cs.MissingBytes != 100-24 {
		t.Errorf("packets %d/%d bytes %d missing %d", cs.Packets, sc.Packets, cs.Bytes, cs.MissingBytes)
	}
	if cs.SpuriousRetransmissions != 0 || cs.Retransmissions != 1 || sc.Resets != 1 || cs.Fins != 1 || sc.ZeroWindows != 0 {
		t.Errorf("counters c2s %+v s2c %+v", cs, sc)
	}
	if sc.SACKBlocks != 2 || fmt.Sprint(sc.TTL) != "[57 58]" || fmt.Sprint(cs.TTL) != "[64]" {
		t.Errorf("sack %d ttl %v %v", sc.SACKBlocks, sc.TTL, cs.TTL)
	}
	// Three events (retransmission, rst, fin) with a cap of 2.
	if len(c.Events) != 2 || c.EventsDropped != 1 {
		t.Fatalf("events %+v dropped %d", c.Events, c.EventsDropped)
	}
	e := c.Events[0]
	if e.Kind != model.EvRetransmission || e.Dir != model.ClientToServer || e.Frame != 6 || e.Seq != 1 || e.Len != 100 {
		t.Errorf("event %+v", e)
	}
	if e := c.Events[1]; e.Kind != model.EvRST || e.Dir != model.ServerToClient {
		t.Errorf("event %+v", e)
	}
	if _, err := json.Marshal(r); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkAnalyzer feeds a steady bulk transfer over 64 connections: data
// one way, an ACK for every second segment back.
func BenchmarkAnalyzer(b *testing.B) {
	const conns = 64
	a := New(Options{})
	var cl, sv [conns]netip.AddrPort
	var seqC, seqS [conns]uint32
	for i := range conns {
		cl[i] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), uint16(40000+i))
		sv[i] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 2, 0, 1}), 443)
		seqC[i], seqS[i] = uint32(i)*1000003, uint32(i)*7919
	}
	payload := make([]byte, 1448)
	s := &decode.Segment{TTL: 64, Window: 1000, Options: decode.TCPOptions{WindowScale: -1}}
	now := t0
	b.ReportAllocs()
	b.ResetTimer()
	for n := range b.N {
		i := n % conns
		now = now.Add(10 * time.Microsecond)
		s.Frame, s.Time = n+1, now
		if n/conns%3 != 2 {
			s.Src, s.Dst = cl[i], sv[i]
			s.Seq, s.Ack, s.Flags = seqC[i], seqS[i], decode.FlagACK|decode.FlagPSH
			s.PayloadLen, s.Payload = len(payload), payload
			seqC[i] += uint32(len(payload))
		} else {
			s.Src, s.Dst = sv[i], cl[i]
			s.Seq, s.Ack, s.Flags = seqS[i], seqC[i], decode.FlagACK
			s.PayloadLen, s.Payload = 0, nil
		}
		a.Segment(s)
	}
}

// The app is sniffed from the first in-order payload: a segment that
// overtook the connection's first bytes is not it.
func TestAppFromInOrderPayload(t *testing.T) {
	segs := withHandshake(
		seg{ms: 30, from: fromC, flags: "PA", seq: C1 + 24, ack: S1, payload: "\x00\x00\x12\x04\x00\x00\x00\x00\x00", win: 1000},
		seg{ms: 31, from: fromC, flags: "PA", seq: C1, ack: S1, payload: h2.ClientPreface, win: 1000},
	)
	a, flags := run(segs)
	if flags[3] != tcp.FlagLostSegment || flags[4] != tcp.FlagOutOfOrder {
		t.Fatalf("flags %s, %s", flagNames(flags[3]), flagNames(flags[4]))
	}
	if c := a.Report(nil).Connections[0]; c.App != "h2c" {
		t.Errorf("app %s, want h2c", c.App)
	}
}
