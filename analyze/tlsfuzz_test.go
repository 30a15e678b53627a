package analyze

import (
	"io"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/decode/tls"
)

// tlsFuzzChunk is one segment of FuzzTLSConn's input: a 4-byte head (side
// and gap flag, time step in ms, payload length) and the payload. A gap
// skips the payload's length of sequence space without the bytes: a
// segment the capture missed.
const (
	fuzzFromServer = 1
	fuzzGap        = 2
)

// tlsFuzzSeed turns the first connection of a capture into FuzzTLSConn's
// input format.
func tlsFuzzSeed(t testing.TB, rel string) []byte {
	src, err := decode.Open(filepath.Join(pcapRoot(), rel), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dec := decode.NewDecoder()
	var seg decode.Segment
	var out []byte
	var client netip.AddrPort
	var last time.Time
	for {
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ok, _ := dec.Decode(p, &seg); !ok {
			continue
		}
		if !client.IsValid() {
			client = seg.Src
		}
		if seg.Src != client && seg.Dst != client || len(seg.Payload) == 0 {
			continue
		}
		side := byte(0)
		if seg.Src != client {
			side = fuzzFromServer
		}
		dt := byte(0)
		if !last.IsZero() {
			dt = byte(min(255, seg.Time.Sub(last).Milliseconds()))
		}
		last = seg.Time
		for b := seg.Payload; len(b) > 0; {
			n := min(len(b), 255)
			out = append(out, side, dt, byte(n))
			out = append(out, b[:n]...)
			b, dt = b[n:], 0
		}
	}
	return out
}

// FuzzTLSConn feeds one TCP connection's payloads, mutated, through the
// analysis of TLS: record parsing, decryption (with the key log of the
// seed's capture, or none), PING inference and the verdict. Nothing may
// panic, and what the report says of PINGs must hold together.
func FuzzTLSConn(f *testing.F) {
	keys, err := tls.ReadKeyLogFile(filepath.Join(pcapRoot(), "blackhole-s2c-tls", "keylog.txt"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tlsFuzzSeed(f, "blackhole-s2c-tls/client.pcap"), true)
	f.Add(tlsFuzzSeed(f, "blackhole-s2c-tls/client.pcap"), false)
	// Mid-connection, keyless: PING-sized records after silence.
	ping := func(side byte, dt byte, size int) []byte {
		b := []byte{side, dt, byte(size), 23, 3, 3, 0, byte(size - 5)}
		return append(b, make([]byte, size-5)...)
	}
	var mid []byte
	for _, size := range []int{39, 46, 38} {
		mid = append(mid, ping(0, 255, size)...)
		mid = append(mid, ping(fuzzFromServer, 1, size)...)
	}
	mid = append(mid, ping(0, 255, 39)...)
	f.Add(mid, false)
	f.Fuzz(func(t *testing.T, data []byte, keyed bool) { runTLSFuzz(t, data, keyed, keys) })
}

func runTLSFuzz(t *testing.T, data []byte, keyed bool, keys *tls.KeyLog) {
	cl := netip.MustParseAddrPort("198.18.1.2:40000")
	sv := netip.MustParseAddrPort("198.18.2.2:8443")
	opts := Options{}
	if keyed {
		opts.Keys = keys
	}
	a := New(opts)
	now := t0
	var off [2]uint32
	frame := 0
	for len(data) >= 3 {
		side, dt, n := int(data[0]&fuzzFromServer), data[1], int(data[2])
		gap := data[0]&fuzzGap != 0
		data = data[3:]
		n = min(n, len(data))
		payload := data[:n]
		data = data[n:]
		now = now.Add(time.Duration(dt) * 10 * time.Millisecond)
		if gap {
			off[side] += uint32(n)
			continue
		}
		frame++
		s := &decode.Segment{Frame: frame, Time: now, Src: cl, Dst: sv, Flags: decode.FlagACK | decode.FlagPSH,
			Seq: 1000 + off[side], Ack: 5000 + off[1-side], Window: 1000, PayloadLen: n, Payload: payload}
		if side == 1 {
			s.Src, s.Dst = sv, cl
			s.Seq, s.Ack = 5000+off[side], 1000+off[1-side]
		}
		off[side] += uint32(n)
		a.Segment(s)
	}
	r := a.Report(nil)
	for _, c := range r.Connections {
		h := c.HTTP2
		if h == nil {
			continue
		}
		if !keyed && c.TLS != nil && !inferredOnly(h) {
			t.Fatalf("keyless TLS connection with HTTP/2 beyond inferred PINGs: %+v", h)
		}
		for _, p := range h.Pings {
			if p.Inferred && (p.Reason == "" || p.Data != "") {
				t.Fatalf("inferred PING without its reason, or with data: %+v", p)
			}
			if p.Frame > frame || p.AckFrame > frame {
				t.Fatalf("PING %+v names a frame past the last (%d)", p, frame)
			}
			if p.Acked && p.AckTime != nil && p.Frame != 0 && p.AckTime.Before(p.Time) {
				t.Fatalf("PING %+v ACKed before it was sent", p)
			}
		}
	}
}
