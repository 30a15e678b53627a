package decode

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/h2pcap/h2pcap/internal/oracle"
)

var writeInputs = flag.Bool("write-inputs", false, "rewrite the captures under testdata/pcaps/inputs")

// inputsDir holds captures made by these tests, for the analysis' oracle
// test (analyze/oracle_test.go) to check against tshark as well.
const inputsDir = "../testdata/pcaps/inputs"

// tcpIPv4 returns an IPv4 packet with IP ID id carrying one TCP segment.
func tcpIPv4(t testing.TB, src, dst netip.AddrPort, id uint16, seq, ack uint32, flags TCPFlags, payload []byte) []byte {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: id, Flags: layers.IPv4DontFragment, Protocol: layers.IPProtocolTCP,
		SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), Seq: seq, Ack: ack,
		FIN: flags.Has(FlagFIN), SYN: flags.Has(FlagSYN), RST: flags.Has(FlagRST), PSH: flags.Has(FlagPSH), ACK: flags.Has(FlagACK),
		Window: 2000}
	tcp.SetNetworkLayerForChecksum(ip)
	return serialize(t, ip, tcp, gopacket.Payload(payload))
}

// fragmentIPv4 splits an IPv4 packet (with a 20-byte header) into
// fragments at the given offsets of its payload (multiples of 8), as a
// router on a small-MTU path does.
func fragmentIPv4(ip []byte, cuts ...int) [][]byte {
	payload := ip[20:]
	var out [][]byte
	for i, start := 0, 0; i <= len(cuts); i++ {
		end := len(payload)
		if i < len(cuts) {
			end = cuts[i]
		}
		f := cat(ip[:20], payload[start:end])
		binary.BigEndian.PutUint16(f[2:4], uint16(len(f)))
		off := uint16(start / 8)
		if end < len(payload) {
			off |= 0x2000 // more fragments
		}
		binary.BigEndian.PutUint16(f[6:8], off)
		ipChecksum(f)
		out = append(out, f)
		start = end
	}
	return out
}

// ipChecksum sets an IPv4 header's checksum.
func ipChecksum(ip []byte) {
	hl := int(ip[0]&0xf) * 4
	ip[10], ip[11] = 0, 0
	var sum uint32
	for i := 0; i < hl; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(ip[10:12], ^uint16(sum))
}

// withID sets an IPv4 packet's IP ID.
func withID(ip []byte, id uint16) []byte {
	ip = bytes.Clone(ip)
	binary.BigEndian.PutUint16(ip[4:6], id)
	ipChecksum(ip)
	return ip
}

func fill(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// fragmentsCapture is a TCP connection over a path that fragments, with
// what reassembly must get right, frame by frame (1 ms apart):
//
//	1-3    handshake
//	4-6    1000 bytes client->server in three fragments, in order: the segment is at 6
//	7      ACK
//	8-10   900 bytes server->client, fragments last, first, middle: at 10
//	11     ACK
//	12-13  300 bytes client->server, the TCP header split over two fragments: at 13
//	14     ACK
//	15     the first fragment of 500 bytes server->client, whose rest is lost
//	16     the same 500 bytes sent again whole (a new IP ID): tshark sees them first here
//	17     ACK
//	18-19  the 300 bytes of 12-13 sent again, fragmented anew: a (spurious) retransmission at 19
//	20-21  a second connection's segment inside VXLAN, the outer UDP datagram fragmented: at 21
//	22-24  FIN, FIN, ACK
func fragmentsCapture(t testing.TB) []byte {
	c, s := netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:80")
	const ack, pa = FlagACK, FlagACK | FlagPSH
	var ips [][]byte
	add := func(pkts ...[]byte) { ips = append(ips, pkts...) }
	add(tcpIPv4(t, c, s, 100, 1000, 0, FlagSYN, nil),
		tcpIPv4(t, s, c, 0, 5000, 1001, FlagSYN|FlagACK, nil),
		tcpIPv4(t, c, s, 101, 1001, 5001, ack, nil))
	add(fragmentIPv4(tcpIPv4(t, c, s, 102, 1001, 5001, pa, fill(1000)), 400, 800)...)
	add(tcpIPv4(t, s, c, 200, 5001, 2001, ack, nil))
	f := fragmentIPv4(tcpIPv4(t, s, c, 201, 5001, 2001, pa, fill(900)), 304, 608)
	add(f[2], f[0], f[1])
	add(tcpIPv4(t, c, s, 103, 2001, 5901, ack, nil))
	add(fragmentIPv4(tcpIPv4(t, c, s, 104, 2001, 5901, pa, fill(300)), 16)...)
	add(tcpIPv4(t, s, c, 202, 5901, 2301, ack, nil))
	add(fragmentIPv4(tcpIPv4(t, s, c, 203, 5901, 2301, pa, fill(500)), 256)[0])
	add(tcpIPv4(t, s, c, 204, 5901, 2301, pa, fill(500)))
	add(tcpIPv4(t, c, s, 105, 2301, 6401, ack, nil))
	add(fragmentIPv4(tcpIPv4(t, c, s, 106, 2001, 6401, pa, fill(300)), 160)...)
	inner := eth(t, layers.EthernetTypeIPv4, tcpIPv4(t, netip.MustParseAddrPort("10.1.0.1:40002"), netip.MustParseAddrPort("10.1.0.2:8080"), 7, 777, 888, pa, fill(600)))
	outer := withID(outerUDP(t, portVXLAN, vxlan(inner))[14:], 4242)
	add(fragmentIPv4(outer, 304)...)
	add(tcpIPv4(t, c, s, 107, 2301, 6401, FlagFIN|ack, nil),
		tcpIPv4(t, s, c, 205, 6401, 2302, FlagFIN|ack, nil),
		tcpIPv4(t, c, s, 108, 2302, 6402, ack, nil))

	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for i, ip := range ips {
		frame := eth(t, layers.EthernetTypeIPv4, ip)
		ci := gopacket.CaptureInfo{Timestamp: testTime.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(frame), Length: len(frame)}
		if err := w.WritePacket(ci, frame); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// TestInputCaptures keeps the captures under testdata/pcaps/inputs the
// ones these tests make (go test ./decode -run TestInputCaptures
// -write-inputs rewrites them).
func TestInputCaptures(t *testing.T) {
	for name, data := range map[string][]byte{
		"fragments.pcap": fragmentsCapture(t),
		"twice.pcap":     twiceCapture(t),
	} {
		path := filepath.Join(inputsDir, name)
		if *writeInputs {
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(old, data) {
			t.Errorf("%s is not what the test makes (%v): go test ./decode -run TestInputCaptures -write-inputs", path, err)
		}
	}
}

// inputSegment is one segment as a comparison with tshark sees it.
type inputSegment struct {
	frame, stream, len int
	seq                uint32
}

// decodeInput runs an InputDecoder over a capture.
func decodeInput(t testing.TB, data []byte) ([]inputSegment, *InputDecoder) {
	t.Helper()
	src, err := NewReader(bytes.NewReader(data), "mem", 0)
	if err != nil {
		t.Fatal(err)
	}
	d := NewInputDecoder()
	streams := map[[2]netip.AddrPort]int{}
	var out []inputSegment
	var s Segment
	for {
		p, err := src.Next()
		if err != nil {
			break
		}
		ok, err := d.Decode(p, &s)
		if err != nil {
			t.Fatalf("frame %d: %v", p.Frame, err)
		}
		if !ok {
			continue
		}
		k := [2]netip.AddrPort{s.Src, s.Dst}
		if s.Dst.Addr().Less(s.Src.Addr()) || s.Dst.Addr() == s.Src.Addr() && s.Dst.Port() < s.Src.Port() {
			k = [2]netip.AddrPort{s.Dst, s.Src}
		}
		n, ok := streams[k]
		if !ok {
			n = len(streams)
			streams[k] = n
		}
		out = append(out, inputSegment{frame: s.Frame, stream: n, len: s.PayloadLen, seq: s.Seq})
	}
	return out, d
}

// TestFragmentsAgainstTshark: the segments of fragmentsCapture are the
// ones tshark reassembles, at the same frames, with the same lengths,
// sequence numbers and streams.
func TestFragmentsAgainstTshark(t *testing.T) {
	data := fragmentsCapture(t)
	ours, d := decodeInput(t, data)
	want := []inputSegment{
		{1, 0, 0, 1000}, {2, 0, 0, 5000}, {3, 0, 0, 1001},
		{6, 0, 1000, 1001}, {7, 0, 0, 5001}, {10, 0, 900, 5001}, {11, 0, 0, 2001},
		{13, 0, 300, 2001}, {14, 0, 0, 5901}, {16, 0, 500, 5901}, {17, 0, 0, 2301},
		{19, 0, 300, 2001}, {21, 1, 600, 777}, {22, 0, 0, 2301}, {23, 0, 0, 6401}, {24, 0, 0, 2302},
	}
	if !slices.Equal(ours, want) {
		t.Errorf("segments\n got %v\nwant %v", ours, want)
	}
	if st := d.Stats(); st.Reassembled != 5 || st.TCP != 16 || st.Fragments != 8 {
		t.Errorf("stats %+v: want 5 reassembled of 16 TCP, 8 fragments held", st)
	}
	wantWarn := []string{"IPv4 datagrams incomplete at the end of the input: 1 (1 fragment), the first at frame 15; their TCP segments are not analysed, as in Wireshark"}
	if w := d.Warnings(); !slices.Equal(w, wantWarn) {
		t.Errorf("warnings %q, want %q", w, wantWarn)
	}

	bin := oracle.Tshark(t)
	path := writeFile(t, "fragments.pcap", data)
	out, err := exec.Command(bin, "-n", "-r", path, "-Y", "tcp", "-T", "fields", "-E", "separator=|",
		"-e", "frame.number", "-e", "tcp.stream", "-e", "tcp.len", "-e", "tcp.seq_raw").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var theirs []inputSegment
	for line := range strings.Lines(string(out)) {
		var v [4]int
		for i, f := range strings.Split(strings.TrimSpace(line), "|") {
			v[i], _ = strconv.Atoi(f)
		}
		theirs = append(theirs, inputSegment{v[0], v[1], v[2], uint32(v[3])})
	}
	if !slices.Equal(ours, theirs) {
		t.Errorf("segments differ from tshark's\n ours   %v\n tshark %v", ours, theirs)
	}
}

// rawCapture writes raw IPv4 packets into a pcap, the i-th at gaps[i]
// after the one before (1 ms when gaps is short).
func rawCapture(t testing.TB, ips [][]byte, gaps ...time.Duration) []byte {
	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	w.WriteFileHeader(65535, layers.LinkTypeRaw)
	at := testTime
	for i, ip := range ips {
		if i < len(gaps) {
			at = at.Add(gaps[i])
		} else {
			at = at.Add(time.Millisecond)
		}
		w.WritePacket(gopacket.CaptureInfo{Timestamp: at, CaptureLength: len(ip), Length: len(ip)}, ip)
	}
	return buf.Bytes()
}

func TestDefragment(t *testing.T) {
	c, s := netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:80")
	seg := tcpIPv4(t, c, s, 9, 1, 1, FlagACK|FlagPSH, fill(1000))
	f := fragmentIPv4(seg, 400, 800)
	overlap := fragmentIPv4(seg, 392)[1] // bytes 392-1020 against 0-400
	icmp := outerIP(t, false, layers.IPProtocolICMPv4, fill(1000))
	icmpFrags := fragmentIPv4(icmp, 400)
	cut := bytes.Clone(f[1][:100]) // fragment cut by a snap length
	inner := fragmentIPv4(seg, 504)
	tunnelled := [][]byte{outerIP(t, false, layers.IPProtocolIPv4, inner[0]), outerIP(t, false, layers.IPProtocolIPv4, inner[1])}
	for _, tc := range []struct {
		name     string
		ips      [][]byte
		gaps     []time.Duration
		wireLen  map[int]int // frame (1-based) -> length on the wire, when cut
		frames   []int       // frames of the segments
		warnings []string    // substrings, one per warning
	}{
		{name: "in order", ips: f, frames: []int{3}},
		{name: "reversed", ips: [][]byte{f[2], f[1], f[0]}, frames: []int{3}},
		{name: "repeated fragment ignored", ips: [][]byte{f[0], f[0], f[1], f[2]}, frames: []int{4}},
		{name: "overlap drops the datagram", ips: [][]byte{f[0], overlap, f[1], f[2]},
			warnings: []string{"IPv4 fragments not reassembled (fragment overlaps another one): 2, the first at frame 1",
				"IPv4 datagrams incomplete at the end of the input: 1 (2 fragments), the first at frame 3"}},
		{name: "cut by the snap length", ips: [][]byte{f[0], cut, f[2]}, wireLen: map[int]int{2: len(f[1])},
			warnings: []string{"IPv4 fragments not reassembled (cut by the snap length): 1, the first at frame 2",
				"IPv4 datagrams incomplete at the end of the input: 1 (2 fragments), the first at frame 1"}},
		{name: "rest too late", ips: f, gaps: []time.Duration{0, time.Millisecond, fragTimeout + time.Second},
			warnings: []string{"IPv4 fragments not reassembled (the rest of the datagram did not come within 30s): 2, the first at frame 1",
				"IPv4 datagrams incomplete at the end of the input: 1 (1 fragment), the first at frame 3"}},
		{name: "port filter keeps first fragments", ips: [][]byte{f[0], withID(f[0], 10), withID(f[0], 11)},
			gaps: []time.Duration{0, time.Millisecond, fragTimeout + time.Second},
			warnings: []string{"IPv4 fragments not reassembled (only the first fragment came within 30s: was the capture filtered on ports",
				"IPv4 datagrams incomplete at the end of the input: 1 (1 fragment), the first at frame 3; their"}},
		{name: "port filter keeps first fragments, at the end", ips: [][]byte{f[0], withID(f[0], 10)},
			warnings: []string{"IPv4 datagrams incomplete at the end of the input: 2 (2 fragments), the first at frame 1 (only first fragments: was the capture filtered on ports"}},
		{name: "rest just in time", ips: f, gaps: []time.Duration{0, time.Millisecond, fragTimeout - time.Second}, frames: []int{3}},
		{name: "icmp fragments are not reassembled", ips: icmpFrags},
		{name: "inside ip-in-ip", ips: tunnelled, frames: []int{2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewInputDecoder()
			var frames []int
			var s Segment
			at := testTime
			for i, ip := range tc.ips {
				if i < len(tc.gaps) {
					at = at.Add(tc.gaps[i])
				} else {
					at = at.Add(time.Millisecond)
				}
				p := &Packet{Frame: i + 1, Time: at, LinkType: layers.LinkTypeRaw, Data: ip, CaptureLen: len(ip), WireLen: len(ip)}
				if n := tc.wireLen[i+1]; n != 0 {
					p.WireLen = n
				}
				ok, err := d.Decode(p, &s)
				if err != nil {
					t.Fatalf("frame %d: %v", i+1, err)
				}
				if ok {
					frames = append(frames, s.Frame)
					if !s.Reassembled || s.PayloadLen != 1000 || !bytes.Equal(s.Payload, fill(1000)) || !s.Time.Equal(at) {
						t.Errorf("frame %d: reassembled %v, %d bytes, time %v", s.Frame, s.Reassembled, s.PayloadLen, s.Time.Sub(testTime))
					}
				}
			}
			if !slices.Equal(frames, tc.frames) {
				t.Errorf("segments at frames %v, want %v", frames, tc.frames)
			}
			checkWarnings(t, d.Warnings(), tc.warnings, strings.Contains)
		})
	}
}

// TestDefragmentBounded: fragments that never complete take at most
// fragMaxBytes, however many come.
func TestDefragmentBounded(t *testing.T) {
	c, s := netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:80")
	first := fragmentIPv4(tcpIPv4(t, c, s, 0, 1, 1, FlagACK, fill(1400)), 1400)[0]
	d := NewInputDecoder()
	var seg Segment
	n := 2 * fragMaxBytes / (fragOverhead + len(first) - 20)
	most := 0
	for i := range n {
		ip := withID(first, uint16(i))
		d.Decode(&Packet{Frame: i + 1, Time: testTime.Add(time.Duration(i) * time.Microsecond), LinkType: layers.LinkTypeRaw,
			Data: ip, CaptureLen: len(ip), WireLen: len(ip)}, &seg)
		most = max(most, d.frag.bytes)
	}
	if most > fragMaxBytes || len(d.frag.pending) > fragMaxBytes/fragOverhead {
		t.Errorf("pending fragments took %d bytes, %d datagrams; bound %d bytes", most, len(d.frag.pending), fragMaxBytes)
	}
	w := strings.Join(d.Warnings(), "\n")
	if !strings.Contains(w, fmt.Sprintf("more than %d MiB of fragments", fragMaxBytes>>20)) {
		t.Errorf("warnings %q", w)
	}
}

// TestInputDecoderNoAllocs: an InputDecoder decodes packets that are not
// fragments without allocating, as a Decoder does.
func TestInputDecoderNoAllocs(t *testing.T) {
	d := NewInputDecoder()
	var s Segment
	for _, tc := range decodeCases(t) {
		if tc.wantErr != "" || strings.Contains(tc.name, "fragment") {
			continue
		}
		i := 0
		p := &Packet{LinkType: tc.lt, Data: tc.frame, CaptureLen: len(tc.frame), WireLen: max(len(tc.frame), tc.wireLen)}
		if n := testing.AllocsPerRun(100, func() {
			i++
			p.Frame, p.Time = i, testTime.Add(time.Duration(i)*time.Second)
			d.Decode(p, &s)
		}); n != 0 {
			t.Errorf("%s: %v allocs per Decode", tc.name, n)
		}
	}
}
