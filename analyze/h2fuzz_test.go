package analyze

import (
	"bytes"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/analyze/app"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
	"golang.org/x/net/http2"
)

// h2FuzzStreams are an h2c connection's two byte streams: the client's
// (preface, SETTINGS, requests, PINGs) and the server's.
func h2FuzzStreams() [2][]byte {
	var out [2][]byte
	var buf bytes.Buffer
	fr := http2.NewFramer(&buf, nil)
	buf.WriteString(http2.ClientPreface)
	fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1000})
	for id := uint32(1); id < 12; id += 2 {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, EndHeaders: true, EndStream: id%4 == 1, BlockFragment: []byte{0x82, 0x84}})
		fr.WritePing(id%3 == 0, [8]byte{byte(id), 1, 2, 3, 4, 5, 6, 7})
	}
	fr.WriteGoAway(11, http2.ErrCodeNo, nil)
	out[0] = bytes.Clone(buf.Bytes())
	buf.Reset()
	fr.WriteSettings(http2.Setting{ID: http2.SettingMaxFrameSize, Val: 1 << 20})
	for id := uint32(1); id < 12; id += 2 {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, EndHeaders: true, BlockFragment: []byte{0x88}})
		fr.WriteData(id, id%4 == 1, make([]byte, 300*id))
		fr.WritePing(true, [8]byte{byte(id), 1, 2, 3, 4, 5, 6, 7})
		fr.WriteRSTStream(id, http2.ErrCodeCancel)
		fr.WriteWindowUpdate(0, 1000)
	}
	fr.WriteGoAway(9, http2.ErrCodeEnhanceYourCalm, []byte("too_many_pings"))
	out[1] = bytes.Clone(buf.Bytes())
	return out
}

// FuzzH2: any segmentation of an h2c connection (overlaps, reordering,
// holes, snaplen cuts, bogus ACKs, a handshake or none) must not panic, and
// what is reported must stay within what was sent.
func FuzzH2(f *testing.F) {
	f.Add([]byte{0x04, 0, 0, 60, 0x05, 0, 0, 60, 0, 0, 60, 60, 1, 0, 60, 200, 0, 0, 120, 50})
	f.Add([]byte{0x00, 0, 0, 255, 0x01, 0, 0, 255, 0x00, 0, 200, 255, 0x03, 1, 0, 255, 0x00, 0, 100, 255})
	streams := h2FuzzStreams()
	f.Fuzz(func(t *testing.T, data []byte) {
		cl, sv := cliEP, srvEP
		isn := [2]uint32{0xFFFFFF00, 77}
		// Notices on every other input: their paths must not panic either.
		var opts Options
		if len(data) > 0 && data[0]&0x80 != 0 {
			opts.H2Ports = []uint16{443}
		}
		if len(data) > 0 && data[0]&0x40 != 0 {
			opts.OnNotice = func(n *model.Notice) {
				if n.Stream != 0 {
					t.Fatalf("notice for stream %d of one connection", n.Stream)
				}
			}
		}
		a := New(opts)
		frame := 0
		s := &decode.Segment{TTL: 64, Window: 1000, Options: decode.TCPOptions{WindowScale: -1}}
		send := func(from int, flags decode.TCPFlags, seq, ack uint32, payload []byte, wire int) {
			frame++
			s.Frame, s.Time, s.Flags = frame, t0.Add(timeMS(frame)), flags
			s.Src, s.Dst = cl, sv
			if from == fromS {
				s.Src, s.Dst = sv, cl
			}
			s.Seq, s.Ack, s.Payload, s.PayloadLen = seq, ack, payload, wire
			a.Segment(s)
		}
		if len(data) > 0 && data[0]&0x04 != 0 {
			send(fromC, decode.FlagSYN, isn[0]-1, 0, nil, 0)
			send(fromS, decode.FlagSYN|decode.FlagACK, isn[1]-1, isn[0], nil, 0)
		}
		for ; len(data) >= 4; data = data[4:] {
			from := int(data[0] & 1)
			st := streams[from]
			off := (int(data[1])<<8 | int(data[2])) * 7 % len(st)
			n := min(int(data[3])+1, len(st)-off)
			p := st[off : off+n]
			wire := n
			if data[0]&2 != 0 {
				p = p[:n/2] // a snaplen cut
			}
			ack := isn[1-from] + uint32(len(streams[1-from])/2)
			if data[0]&8 != 0 {
				ack += uint32(data[3]) << 8 // an ACK past what was seen
			}
			send(from, decode.FlagACK|decode.FlagPSH, isn[from]+uint32(off), ack, p, wire)
		}
		for _, c := range a.Report(nil).Connections {
			h := c.HTTP2
			if h == nil {
				continue
			}
			frames := 0
			for _, counts := range h.Frames {
				for _, n := range counts {
					frames += n
				}
			}
			if frames > 200 || len(h.Pings) > 20 || len(h.Streams) > 2*app.KeepStreams+app.KeepStreams {
				t.Fatalf("%d frames, %d pings, %d streams from two short streams", frames, len(h.Pings), len(h.Streams))
			}
		}
	})
}

func timeMS(n int) time.Duration { return time.Duration(n) * time.Millisecond }
