package analyze

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
	"golang.org/x/net/http2"
)

// BenchmarkH2InOrderData: an h2c connection's server sends DATA frames, one
// per segment, in order, each ACKed by the client. Per segment the whole
// path (TCP analysis, reassembly, frame decoding, stream and flow-control
// bookkeeping) must allocate nothing.
func BenchmarkH2InOrderData(b *testing.B) { benchH2InOrderData(b, Options{}) }

// BenchmarkH2InOrderDataNotices: the same with OnNotice set, as h2pcap
// live runs: still nothing allocated per segment.
func BenchmarkH2InOrderDataNotices(b *testing.B) {
	n := 0
	benchH2InOrderData(b, Options{OnNotice: func(*model.Notice) { n++ }})
	if n == 0 {
		b.Fatal("no notice")
	}
}

func benchH2InOrderData(b *testing.B, opts Options) {
	cl := netip.MustParseAddrPort("10.0.0.1:40000")
	sv := netip.MustParseAddrPort("10.0.0.2:8080")
	a := New(opts)
	s := &decode.Segment{TTL: 64, Window: 1000, Options: decode.TCPOptions{WindowScale: -1}}
	now := t0
	frame := 0
	seq := [2]uint32{isnC, isnS}
	send := func(from int, flags decode.TCPFlags, payload []byte) {
		frame++
		now = now.Add(10 * time.Microsecond)
		s.Frame, s.Time, s.Flags = frame, now, flags
		s.Src, s.Dst = cl, sv
		if from == fromS {
			s.Src, s.Dst = sv, cl
		}
		s.Seq, s.Ack = seq[from], seq[1-from]
		s.PayloadLen, s.Payload = len(payload), payload
		a.Segment(s)
		seq[from] += uint32(len(payload))
		if flags.Has(decode.FlagSYN) {
			seq[from]++
		}
	}
	var buf bytes.Buffer
	fr := http2.NewFramer(&buf, nil)
	send(fromC, decode.FlagSYN, nil)
	send(fromS, decode.FlagSYN|decode.FlagACK, nil)
	send(fromC, decode.FlagACK, nil)
	buf.WriteString(http2.ClientPreface)
	fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1<<31 - 1})
	fr.WriteWindowUpdate(0, 1<<31-1-65535)
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, EndStream: true, BlockFragment: []byte{0x82, 0x84}})
	send(fromC, decode.FlagACK|decode.FlagPSH, bytes.Clone(buf.Bytes()))
	buf.Reset()
	fr.WriteSettings()
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, BlockFragment: []byte{0x88}})
	send(fromS, decode.FlagACK|decode.FlagPSH, bytes.Clone(buf.Bytes()))
	buf.Reset()
	fr.WriteData(1, false, make([]byte, 1439))
	data := bytes.Clone(buf.Bytes()) // 1448 bytes: one DATA frame per segment
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		send(fromS, decode.FlagACK|decode.FlagPSH, data)
		send(fromC, decode.FlagACK, nil)
	}
	b.StopTimer()
	c := a.Report(nil).Connections[0]
	if c.HTTP2 == nil || c.HTTP2.Frames[model.ServerToClient]["DATA"] < b.N {
		b.Fatalf("DATA frames not decoded: %+v", c.HTTP2)
	}
}
