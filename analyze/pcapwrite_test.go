package analyze

import (
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/h2pcap/h2pcap/internal/oracle"

	"github.com/h2pcap/h2pcap/decode"
)

// writeRawPcap writes segments as a pcap of raw IPv4 packets (LINKTYPE_RAW),
// so that the hand-built cases can be shown to tshark. Payload bytes not
// given are zeros; nothing is cut by a snaplen.
func writeRawPcap(path string, segs []*decode.Segment) error {
	var b []byte
	b = binary.LittleEndian.AppendUint32(b, 0xa1b23c4d) // nanosecond timestamps
	b = binary.LittleEndian.AppendUint16(b, 2)
	b = binary.LittleEndian.AppendUint16(b, 4)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, 262144)
	b = binary.LittleEndian.AppendUint32(b, 101) // LINKTYPE_RAW
	for _, s := range segs {
		pkt := rawPacket(s)
		ns := s.Time.UnixNano()
		b = binary.LittleEndian.AppendUint32(b, uint32(ns/1e9))
		b = binary.LittleEndian.AppendUint32(b, uint32(ns%1e9))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(pkt)))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(pkt)))
		b = append(b, pkt...)
	}
	return os.WriteFile(path, b, 0o644)
}

func rawPacket(s *decode.Segment) []byte {
	var opts []byte
	if s.Options.MSS != 0 {
		opts = binary.BigEndian.AppendUint16(append(opts, 2, 4), s.Options.MSS)
	}
	if s.Options.WindowScale >= 0 {
		opts = append(opts, 1, 3, 3, byte(s.Options.WindowScale))
	}
	if s.Options.SACKPermitted {
		opts = append(opts, 1, 1, 4, 2)
	}
	if n := len(s.Options.SACK); n > 0 {
		opts = append(opts, 1, 1, 5, byte(2+8*n))
		for _, blk := range s.Options.SACK {
			opts = binary.BigEndian.AppendUint32(opts, blk.Left)
			opts = binary.BigEndian.AppendUint32(opts, blk.Right)
		}
	}
	for len(opts)%4 != 0 {
		opts = append(opts, 1)
	}
	payload := make([]byte, s.PayloadLen)
	copy(payload, s.Payload)
	tcpLen := 20 + len(opts) + len(payload)

	ip := make([]byte, 20, 20+tcpLen)
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+tcpLen))
	ip[8] = s.TTL
	ip[9] = 6
	src, dst := s.Src.Addr().As4(), s.Dst.Addr().As4()
	copy(ip[12:], src[:])
	copy(ip[16:], dst[:])

	tcp := make([]byte, 20)
	binary.BigEndian.PutUint16(tcp[0:], s.Src.Port())
	binary.BigEndian.PutUint16(tcp[2:], s.Dst.Port())
	binary.BigEndian.PutUint32(tcp[4:], s.Seq)
	binary.BigEndian.PutUint32(tcp[8:], s.Ack)
	tcp[12] = byte((20 + len(opts)) / 4 << 4)
	tcp[13] = byte(s.Flags)
	binary.BigEndian.PutUint16(tcp[14:], s.Window)
	return append(append(append(ip, tcp...), opts...), payload...)
}

// TestRulesAgainstTshark shows every hand-built case of TestRules and
// TestStreams to tshark and requires the same flags and streams, so that
// the expectations written there are Wireshark's and not only ours. The
// cases go into one capture, each on its own client port.
func TestRulesAgainstTshark(t *testing.T) {
	oracle.Tshark(t)
	type tcase struct {
		name   string
		first  int // index in built of its first segment
		length int
	}
	var (
		cases []tcase
		built []*decode.Segment
	)
	add := func(name string, segs []seg) {
		cli := netip.AddrPortFrom(cliEP.Addr(), uint16(20000+len(cases)))
		cases = append(cases, tcase{name, len(built), len(segs)})
		for _, g := range segs {
			built = append(built, g.segmentFrom(len(built)+1, cli))
		}
	}
	for _, tt := range ruleTests {
		add("rules/"+tt.name, tt.segs)
	}
	for _, tt := range streamTests {
		add("streams/"+tt.name, tt.segs)
	}
	dir := os.Getenv("H2PCAP_ORACLE_KEEP") // a directory to keep the capture in
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, "cases.pcap")
	if err := writeRawPcap(path, built); err != nil {
		t.Fatal(err)
	}
	theirs := runTshark(t, path)
	a := New(Options{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for i, s := range built[tc.first : tc.first+tc.length] {
				f := a.segment(s)
				th := theirs[s.Frame]
				if th == nil {
					t.Fatalf("segment %d: tshark shows no TCP", i)
				}
				if got, want := shownFields(f), th.fields; got != want {
					t.Errorf("segment %d: h2pcap %s, tshark %s", i, fieldNames(got), fieldNames(want))
				}
				if got := a.conns.get(new(tupleOf(s.Src, s.Dst)), a.gone).stream; got != th.stream {
					t.Errorf("segment %d: stream %d, tshark %d", i, got, th.stream)
				}
			}
		})
	}
}

func fieldNames(fields uint32) string {
	var parts []string
	for i, f := range oracleFields {
		if fields&(1<<i) != 0 {
			parts = append(parts, strings.TrimPrefix(f.field, "tcp.analysis."))
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}
