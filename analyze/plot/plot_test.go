package plot

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/analyze/tcp"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
)

func TestSeriesBounded(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		important func(i int) bool
	}{
		{"few", 100, func(int) bool { return false }},
		{"many", 1_000_000, func(int) bool { return false }},
		{"every tenth important", 200_000, func(i int) bool { return i%10 == 0 }},
		{"all important", 50_000, func(int) bool { return true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s series
			for i := range tt.n {
				var f uint8
				if tt.important(i) {
					f = fImportant
				}
				s.add(point{a: int64(i), flags: f}, maxSegments)
			}
			if len(s.pts) >= maxSegments {
				t.Fatalf("%d points kept, cap %d", len(s.pts), maxSegments)
			}
			if tt.n < maxSegments && len(s.pts) != tt.n {
				t.Fatalf("%d of %d points kept under the cap", len(s.pts), tt.n)
			}
			// Kept points stay in order and spread to the end: the last
			// kept is within two strides of the last offered.
			for i := 1; i < len(s.pts); i++ {
				if s.pts[i].idx <= s.pts[i-1].idx {
					t.Fatalf("points out of order at %d", i)
				}
			}
			if last := s.pts[len(s.pts)-1].idx; int(last) < tt.n-2*int(s.stride) {
				t.Fatalf("last kept point %d of %d (stride %d)", last, tt.n, s.stride)
			}
		})
	}
}

func TestUnwrap(t *testing.T) {
	var u unwrap
	steps := []struct {
		rel  uint32
		want int64
	}{
		{1, 1},
		{0xfffff000, 0xfffff000},
		{0x10, 1<<32 + 0x10},     // wrapped forward
		{0xffffff00, 0xffffff00}, // a retransmission from before the wrap
		{0x2000, 1<<32 + 0x2000}, // and on again
	}
	for i, s := range steps {
		if got := u.at(s.rel); got != s.want {
			t.Fatalf("step %d: at(%#x) = %#x, want %#x", i, s.rel, got, s.want)
		}
	}
}

// TestRecorder feeds a handshake, data, a retransmission, a SACK and a
// GOAWAY through the TCP tracker and the recorder, and reads the plot.
func TestRecorder(t *testing.T) {
	cl := netip.MustParseAddrPort("198.18.1.2:40000")
	sv := netip.MustParseAddrPort("198.18.2.2:80")
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	const ciss, siss = 1000, 5000
	segs := []struct {
		side     int
		seq, ack uint32
		flags    decode.TCPFlags
		len      int
		sack     []decode.SACKBlock
	}{
		{0, ciss, 0, decode.FlagSYN, 0, nil},
		{1, siss, ciss + 1, decode.FlagSYN | decode.FlagACK, 0, nil},
		{0, ciss + 1, siss + 1, decode.FlagACK, 0, nil},
		{0, ciss + 1, siss + 1, decode.FlagACK | decode.FlagPSH, 100, nil},
		{0, ciss + 101, siss + 1, decode.FlagACK | decode.FlagPSH, 100, nil},
		{1, siss + 1, ciss + 1, decode.FlagACK, 0, []decode.SACKBlock{{Left: ciss + 101, Right: ciss + 201}}},
		{0, ciss + 1, siss + 1, decode.FlagACK | decode.FlagPSH, 100, nil}, // the retransmission
		{1, siss + 1, ciss + 201, decode.FlagACK, 0, nil},
		{1, siss + 1, ciss + 201, decode.FlagACK | decode.FlagPSH, 17, nil}, // a GOAWAY
	}
	var tc tcp.Conn
	tc.Init()
	var r Recorder
	for i, sg := range segs {
		s := &decode.Segment{Frame: i + 1, Time: t0.Add(time.Duration(i) * time.Millisecond), Src: cl, Dst: sv,
			Seq: sg.seq, Ack: sg.ack, Flags: sg.flags, PayloadLen: sg.len, IPVersion: 4}
		s.Options.SACK = sg.sack
		if sg.side == 1 {
			s.Src, s.Dst = sv, cl
		}
		f := tc.Segment(sg.side, s)
		r.Segment(sg.side, s, f, tc.Flow(sg.side), tc.Flow(1-sg.side))
	}
	r.Goaway(1, decode.Position{Frame: 9, Time: t0.Add(8 * time.Millisecond)})
	p := r.Plot(0, t0)

	cs := p.ClientToServer
	if len(cs.Segments) != 4 || cs.SegmentsSeen != 4 {
		t.Fatalf("client segments %+v", cs.Segments)
	}
	if s := cs.Segments[0]; s.Ctl != model.CtlSYN || s.Seq != 0 {
		t.Errorf("first segment %+v, want the SYN at seq 0", s)
	}
	if s := cs.Segments[3]; !s.Retrans || s.Seq != 1 || s.Len != 100 || s.Frame != 7 || s.TimeUs != 6000 {
		t.Errorf("retransmission %+v", s)
	}
	wantAcks := []int64{1, 201}
	if len(cs.Acks) != len(wantAcks) {
		t.Fatalf("server's ACKs of the client's data %+v, want %v", cs.Acks, wantAcks)
	}
	for i, a := range cs.Acks {
		if a.Ack != wantAcks[i] {
			t.Errorf("ack %d = %d, want %d", i, a.Ack, wantAcks[i])
		}
	}
	if len(cs.SACKs) != 1 || cs.SACKs[0].Lo != 101 || cs.SACKs[0].Hi != 201 || cs.SACKs[0].Frame != 6 {
		t.Errorf("SACKs %+v, want [101,201) at frame 6", cs.SACKs)
	}
	if len(p.Goaways) != 1 || p.Goaways[0].From != model.SideServer || p.Goaways[0].TimeUs != 8000 {
		t.Errorf("goaways %+v", p.Goaways)
	}
	if sc := p.ServerToClient; len(sc.Segments) != 2 || sc.Segments[1].Len != 17 {
		t.Errorf("server segments %+v", sc.Segments)
	}
	var nilRec *Recorder
	nilRec.Segment(0, &decode.Segment{}, 0, tc.Flow(0), tc.Flow(1))
	if nilRec.Plot(0, t0) != nil {
		t.Error("a nil Recorder gave a plot")
	}
}

// A Recorder Reset after one connection records the next as a new one
// does: whether its lists' arrays were kept (a short connection's) or
// dropped (a longer one's, past keep).
func TestRecorderReset(t *testing.T) {
	cl := netip.MustParseAddrPort("198.18.1.2:40000")
	sv := netip.MustParseAddrPort("198.18.2.2:80")
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	// record gives r a connection of n data segments each way after its
	// handshake, every fifth one sent again, and a GOAWAY.
	record := func(r *Recorder, n int, iss uint32) *model.Plot {
		var tc tcp.Conn
		tc.Init()
		frame := 0
		seg := func(side int, seq, ack uint32, flags decode.TCPFlags, n int) {
			frame++
			s := &decode.Segment{Frame: frame, Time: t0.Add(time.Duration(frame) * time.Millisecond), Src: cl, Dst: sv,
				Seq: seq, Ack: ack, Flags: flags, PayloadLen: n, IPVersion: 4}
			if side == 1 {
				s.Src, s.Dst = sv, cl
			}
			f := tc.Segment(side, s)
			r.Segment(side, s, f, tc.Flow(side), tc.Flow(1-side))
		}
		seg(0, iss, 0, decode.FlagSYN, 0)
		seg(1, iss*2, iss+1, decode.FlagSYN|decode.FlagACK, 0)
		for i := range uint32(n) {
			seg(0, iss+1+100*i, iss*2+1+100*i, decode.FlagACK|decode.FlagPSH, 100)
			if i%5 == 4 {
				seg(0, iss+1+100*i, iss*2+1+100*i, decode.FlagACK|decode.FlagPSH, 100)
			}
			seg(1, iss*2+1+100*i, iss+101+100*i, decode.FlagACK|decode.FlagPSH, 100)
		}
		r.Goaway(1, decode.Position{Frame: frame, Time: t0.Add(time.Duration(frame) * time.Millisecond)})
		return r.Plot(0, t0)
	}
	for _, tc := range []struct {
		name        string
		before, now int // data segments each way of the connection before and of this one
	}{
		{"short after short", 3, 4},
		{"short after long", 300, 4},
		{"long after short", 3, 300},
		{"long after long", 3000, 2000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := record(&Recorder{}, tc.now, 7000)
			var r Recorder
			record(&r, tc.before, 1000)
			r.Reset(16)
			if got := record(&r, tc.now, 7000); !reflect.DeepEqual(got, want) {
				t.Errorf("after Reset the plot differs:\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}
