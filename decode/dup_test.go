package decode

import (
	"bytes"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// tcpIPv6 is tcpIPv4 over IPv6, which has no IP ID.
func tcpIPv6(t testing.TB, src, dst netip.AddrPort, seq, ack uint32, flags TCPFlags, payload []byte) []byte {
	ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), Seq: seq, Ack: ack,
		FIN: flags.Has(FlagFIN), SYN: flags.Has(FlagSYN), RST: flags.Has(FlagRST), PSH: flags.Has(FlagPSH), ACK: flags.Has(FlagACK),
		Window: 2000}
	tcp.SetNetworkLayerForChecksum(ip)
	return serialize(t, ip, tcp, gopacket.Payload(payload))
}

// timed is a raw IP packet and when it was captured, after the one
// before.
type timed struct {
	gap time.Duration
	ip  []byte
}

// twice gives every packet a copy gap after it, as a capture that sees
// each packet twice.
func twice(gap time.Duration, pkts []timed) []timed {
	var out []timed
	for _, p := range pkts {
		out = append(out, p, timed{gap, p.ip})
	}
	return out
}

// conversation is a connection's handshake and n requests and answers
// (of req and resp bytes) with their ACKs, 1 ms apart; IPv4 with IP IDs
// that increase per packet (as Linux's), or IPv6.
func conversation(t testing.TB, v6 bool, n, req, resp int) []timed {
	c, s := netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:443")
	if v6 {
		c, s = netip.MustParseAddrPort("[fd00::1]:40000"), netip.MustParseAddrPort("[fd00::2]:443")
	}
	cid, sid := uint16(100), uint16(0) // Linux's SYN-ACK has IP ID 0; the rest count up
	pkt := func(fromClient bool, seq, ack uint32, flags TCPFlags, payload []byte) timed {
		src, dst, id := c, s, &cid
		if !fromClient {
			src, dst, id = s, c, &sid
		}
		if v6 {
			return timed{time.Millisecond, tcpIPv6(t, src, dst, seq, ack, flags, payload)}
		}
		p := timed{time.Millisecond, tcpIPv4(t, src, dst, *id, seq, ack, flags, payload)}
		*id++
		return p
	}
	out := []timed{pkt(true, 1000, 0, FlagSYN, nil), pkt(false, 5000, 1001, FlagSYN|FlagACK, nil), pkt(true, 1001, 5001, FlagACK, nil)}
	cseq, sseq := uint32(1001), uint32(5001)
	for range n {
		out = append(out, pkt(true, cseq, sseq, FlagACK|FlagPSH, fill(req)))
		cseq += uint32(req)
		out = append(out, pkt(false, sseq, cseq, FlagACK|FlagPSH, fill(resp)))
		sseq += uint32(resp)
		out = append(out, pkt(true, cseq, sseq, FlagACK, nil))
	}
	return out
}

// decodeTimed runs an InputDecoder over raw IP packets and returns the
// frames of the segments it gives.
func decodeTimed(t testing.TB, d *InputDecoder, input int, pkts []timed) []int {
	t.Helper()
	var frames []int
	var s Segment
	at := testTime
	for i, p := range pkts {
		at = at.Add(p.gap)
		ok, err := d.Decode(&Packet{Input: input, Frame: i + 1, Time: at, LinkType: layers.LinkTypeRaw, Data: p.ip, CaptureLen: len(p.ip), WireLen: len(p.ip)}, &s)
		if err != nil {
			t.Fatalf("frame %d: %v", i+1, err)
		}
		if ok {
			frames = append(frames, s.Frame)
		}
	}
	return frames
}

func TestDuplicates(t *testing.T) {
	c, s := netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:443")
	c6, s6 := netip.MustParseAddrPort("[fd00::1]:40000"), netip.MustParseAddrPort("[fd00::2]:443")
	data := tcpIPv4(t, c, s, 7, 1, 1, FlagACK|FlagPSH, fill(100))
	routed := bytes.Clone(data)
	routed[8]-- // the TTL, one router on
	ipChecksum(routed)
	synAck := tcpIPv4(t, s, c, 0, 5000, 1001, FlagSYN|FlagACK, nil)
	ack6 := tcpIPv6(t, s6, c6, 1, 1, FlagACK, nil)
	data6 := tcpIPv6(t, c6, s6, 1, 1, FlagACK|FlagPSH, fill(100))
	constant := func(seq uint32) []byte { return tcpIPv4(t, c, s, 1, seq, 1, FlagACK|FlagPSH, fill(10)) }
	f := fragmentIPv4(tcpIPv4(t, c, s, 9, 1, 1, FlagACK|FlagPSH, fill(1000)), 504)
	us := time.Microsecond

	for _, tc := range []struct {
		name     string
		pkts     []timed
		frames   []int    // of the segments analysed
		dropped  int      // Stats().Duplicates
		warnings []string // substrings, one per warning
	}{
		{name: "copy", pkts: []timed{{0, data}, {5 * us, data}}, frames: []int{1}, dropped: 1,
			warnings: []string{"1 TCP segment repeated one captured within 5ms with the same IP ID, sequence and acknowledgement numbers, flags, length and payload, the first at frame 2 (a copy of frame 1)"}},
		{name: "copy seen on both sides of a router", pkts: []timed{{0, data}, {20 * us, routed}}, frames: []int{1}, dropped: 1,
			warnings: []string{"the first at frame 2 (a copy of frame 1)"}},
		{name: "retransmission has a new IP ID", pkts: []timed{{0, data}, {200 * us, withID(data, 8)}}, frames: []int{1, 2}},
		{name: "same IP ID, later than the window", pkts: []timed{{0, data}, {dupWindow + us, data}}, frames: []int{1, 2}},
		{name: "SYN-ACK (IP ID 0) again for a SYN sent again", pkts: []timed{{0, synAck}, {80 * us, synAck}}, frames: []int{1, 2}},
		{name: "IPv6 duplicate ACKs without SACK", pkts: slices.Repeat([]timed{{20 * us, ack6}}, 30), frames: []int{
			1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30}},
		{name: "IPv6 fast retransmission 50 µs later", pkts: []timed{{0, data6}, {50 * us, data6}}, frames: []int{1, 2}},
		{name: "sender with a constant IP ID", pkts: []timed{{0, constant(1)}, {us, constant(11)}, {us, constant(21)}, {us, constant(21)}}, frames: []int{1, 2, 3, 4}},
		{name: "fragments twice", pkts: []timed{{0, f[0]}, {3 * us, f[0]}, {us, f[1]}, {3 * us, f[1]}}, frames: []int{3},
			warnings: []string{"packets captured twice: 1 IPv4 fragment repeated one captured within 5ms"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewInputDecoder()
			frames := decodeTimed(t, d, 0, tc.pkts)
			if !slices.Equal(frames, tc.frames) {
				t.Errorf("segments at frames %v, want %v", frames, tc.frames)
			}
			if got := d.Stats().Duplicates; got != tc.dropped {
				t.Errorf("%d duplicates, want %d", got, tc.dropped)
			}
			checkWarnings(t, d.Warnings(), tc.warnings, strings.Contains)
		})
	}
}

// TestDuplicatesThroughout: a capture with every packet twice analyses as
// the capture with every packet once. Without an IP ID (IPv6), the first
// copies pass until the capture shows the pattern.
func TestDuplicatesThroughout(t *testing.T) {
	for _, tc := range []struct {
		name   string
		v6     bool
		passed int // copies analysed before the pattern shows
	}{
		{"ipv4", false, 0},
		{"ipv6", true, 10}, // SYN, SYN-ACK, ACK, then 8 repeats with data show the pattern
	} {
		t.Run(tc.name, func(t *testing.T) {
			once := conversation(t, tc.v6, 30, 100, 300)
			d := NewInputDecoder()
			frames := decodeTimed(t, d, 0, twice(10*time.Microsecond, once))
			if want := len(once) + tc.passed; len(frames) != want {
				t.Errorf("%d segments analysed, want %d", len(frames), want)
			}
			if got := d.Stats().Duplicates; got != len(once)-tc.passed {
				t.Errorf("%d duplicates, want %d", got, len(once)-tc.passed)
			}
			if w := d.Warnings(); len(w) != 1+min(tc.passed, 1) || !strings.Contains(w[0], "packets captured twice") {
				t.Errorf("warnings %q", w)
			}
		})
	}
}

// TestDuplicatesAcrossInputs: the copy of the last packet of a rotated
// file is the first of the next.
func TestDuplicatesAcrossInputs(t *testing.T) {
	pkts := twice(5*time.Microsecond, conversation(t, false, 2, 100, 300))
	d := NewInputDecoder()
	first := decodeTimed(t, d, 0, pkts[:len(pkts)-1])
	d2 := d.Next()
	var s Segment
	last := pkts[len(pkts)-1].ip
	at := testTime
	for _, p := range pkts {
		at = at.Add(p.gap)
	}
	if ok, _ := d2.Decode(&Packet{Input: 1, Frame: 1, Time: at, LinkType: layers.LinkTypeRaw, Data: last, CaptureLen: len(last), WireLen: len(last)}, &s); ok {
		t.Errorf("the copy in the next input was analysed")
	}
	if len(first) != len(pkts)/2 || d.Stats().Duplicates != len(pkts)/2-1 || d2.Stats().Duplicates != 1 {
		t.Errorf("%d segments, %d and %d duplicates", len(first), d.Stats().Duplicates, d2.Stats().Duplicates)
	}
	if w := d2.Warnings(); len(w) != 1 || !strings.Contains(w[0], "the first at frame 1 (a copy of frame 17 of input 0)") {
		t.Errorf("warnings %q", w)
	}
}

// twiceCapture is a capture that sees every packet twice, 3 to 40 µs
// apart (as `tcpdump -i any` on a bridge and its port): an IPv4 and an
// IPv6 connection, each with one real retransmission, 200 ms later, which
// is not a copy.
func twiceCapture(t testing.TB) []byte {
	var pkts []timed
	for _, v6 := range []bool{false, true} {
		conv := conversation(t, v6, 4, 20, 60)
		retrans := conv[len(conv)-2] // the last answer again
		if !v6 {
			retrans.ip = withID(retrans.ip, 999)
		}
		retrans.gap = 200 * time.Millisecond
		conv = append(conv, retrans)
		for i, p := range conv {
			pkts = append(pkts, p, timed{time.Duration(3+i%38) * time.Microsecond, p.ip})
		}
	}
	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	at := testTime
	for _, p := range pkts {
		at = at.Add(p.gap)
		typ := layers.EthernetTypeIPv4
		if p.ip[0]>>4 == 6 {
			typ = layers.EthernetTypeIPv6
		}
		frame := eth(t, typ, p.ip)
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: at, CaptureLength: len(frame), Length: len(frame)}, frame); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// TestTwiceCapture: the copies of twiceCapture are dropped, the
// retransmissions kept.
func TestTwiceCapture(t *testing.T) {
	segs, d := decodeInput(t, twiceCapture(t))
	// 16 packets per connection; the IPv6 one comes after the IPv4 one
	// has shown copies by their IP IDs.
	if len(segs) != 2*16 || d.Stats().Duplicates != 2*16 {
		t.Errorf("%d segments, %d duplicates", len(segs), d.Stats().Duplicates)
	}
}

// TestDupRefOf: a slot keeps the low bits of its frame and input, and
// refOf rebuilds them from the last segment of its input, past 2^32
// frames and across a rotation (carry), where what is older than the
// input before is forgotten.
func TestDupRefOf(t *testing.T) {
	slot := func(in, frame int) dupEntry {
		return dupEntry{sum: 1, frame: uint32(frame), input: uint16(in), iface: ifaceSlot(-1)}
	}
	tests := []struct {
		name       string
		last, prev frameRef
		e          dupEntry
		want       frameRef
	}{
		{"same input", frameRef{0, 120}, frameRef{}, slot(0, 117), frameRef{0, 117}},
		{"past 2^32 frames", frameRef{3, 1<<32 + 5}, frameRef{}, slot(3, 1<<32-2), frameRef{3, 1<<32 - 2}},
		{"input before", frameRef{7, 2}, frameRef{6, 900}, slot(6, 899), frameRef{6, 899}},
		{"input past 2^16", frameRef{1 << 16, 4}, frameRef{1<<16 - 1, 10}, slot(1<<16-1, 9), frameRef{1<<16 - 1, 9}},
	}
	for _, tt := range tests {
		d := &dupFilter{last: tt.last, prev: tt.prev}
		if got := d.refOf(&tt.e); got != tt.want {
			t.Errorf("%s: refOf = %+v, want %+v", tt.name, got, tt.want)
		}
	}
	old := &dupFilter{slots: []dupEntry{slot(4, 10), slot(5, 11), {}}, senders: []dupSender{{}}, last: frameRef{5, 12}}
	var d dupFilter
	d.carry(old)
	if d.slots[0] != (dupEntry{}) || d.slots[1] != slot(5, 11) || d.prev != (frameRef{5, 12}) {
		t.Errorf("after carry: slots %+v, prev %+v; want input 4's forgotten, input 5's kept", d.slots, d.prev)
	}
	for _, tt := range []struct {
		iface int32
		want  uint16
	}{{-1, 1}, {0, 2}, {7, 9}, {math.MaxUint16 - 2, math.MaxUint16}, {math.MaxUint16, 1}} {
		if got := ifaceSlot(tt.iface); got != tt.want {
			t.Errorf("ifaceSlot(%d) = %d, want %d", tt.iface, got, tt.want)
		}
	}
}

// TestDupNewerIPID: copyOf, which does not read the slot of a segment
// whose IP ID is newer than its direction's newest, finds the copies
// that reading every slot finds, on a random mix of 3,000 connections
// (more than the sender table's entries, so that directions take each
// other's), copies a few microseconds to 6 ms after their originals,
// reordered segments, retransmissions with new IP IDs, senders with a
// constant IP ID or none, and IP IDs wrapping.
func TestDupNewerIPID(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	type dir struct {
		src, dst netip.AddrPort
		id       uint16
		seq      uint32
		kind     int // 0 counting, 1 constant, 2 zero
	}
	dirs := make([]dir, 3000)
	for i := range dirs {
		dirs[i] = dir{
			src:  netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)}), uint16(30000+i)),
			dst:  netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 19, 0, 1}), 8080),
			id:   uint16(r.IntN(65536)),
			kind: [...]int{0, 0, 0, 0, 0, 0, 1, 2}[r.IntN(8)],
		}
	}
	type pending struct {
		at time.Time
		s  Segment
	}
	var out []pending
	now := time.Unix(1_700_000_000, 0)
	for range 60000 {
		now = now.Add(time.Duration(r.IntN(20)) * time.Microsecond)
		d := &dirs[r.IntN(len(dirs))]
		if d.kind == 0 {
			d.id += uint16(1 + r.IntN(2))
		}
		id := d.id
		if d.kind == 2 {
			id = 0
		}
		if r.IntN(50) == 0 {
			d.seq -= 100 // a retransmission: the same bytes, a new IP ID
		}
		s := Segment{Src: d.src, Dst: d.dst, IPVersion: 4, IPID: id, Seq: d.seq, Ack: 1, Flags: FlagACK, Window: 500, PayloadLen: 100, Payload: make([]byte, 100), Time: now}
		d.seq += 100
		out = append(out, pending{now, s})
		if r.IntN(3) == 0 {
			out = append(out, pending{now.Add(time.Duration(r.IntN(6000)) * time.Microsecond), s})
		}
		if r.IntN(100) == 0 && len(out) > 3 {
			k := len(out) - 1 - r.IntN(3)
			out[k], out[len(out)-1] = out[len(out)-1], out[k]
		}
	}
	slices.SortStableFunc(out, func(a, b pending) int { return a.at.Compare(b.at) })
	var fast, full dupFilter
	full.readAll = true
	copies := 0
	for i, p := range out {
		s := p.s
		s.Time, s.Frame = p.at, i+1
		a, b := fast.copyOf(&s, 0x1234, -1), full.copyOf(&s, 0x1234, -1)
		if a != b {
			t.Fatalf("segment %d (%v, IP ID %d): copy %v, reading every slot %v", i+1, s.Src, s.IPID, a, b)
		}
		if a {
			copies++
		}
	}
	if copies < 10000 {
		t.Fatalf("%d copies found: the test tests little", copies)
	}
}
