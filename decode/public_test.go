package decode

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/h2pcap/h2pcap/internal/oracle"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

const publicDir = "../testdata/pcaps/public"

// publicCaptures lists the real captures in testdata (pcap, pcapng, .gz).
func publicCaptures(t testing.TB) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(publicDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(d.Name(), ".gz")
		if !d.IsDir() && (strings.HasSuffix(name, ".pcap") || strings.HasSuffix(name, ".pcapng")) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no captures under %s", publicDir)
	}
	return files
}

type readResult struct {
	frames    int
	tcp       []int // frames decoded as TCP
	shortTCP  []int // frames with a TCP header we reject as malformed
	malformed map[int]string
	stats     DecodeStats
}

func readAll(t testing.TB, path string) readResult {
	t.Helper()
	src, err := Open(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	d := NewDecoder()
	var s Segment
	r := readResult{malformed: map[int]string{}}
	for {
		p, err := src.Next()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("Next: %v", err)
			}
			break
		}
		ok, err := d.Decode(p, &s)
		switch {
		case ok:
			r.tcp = append(r.tcp, p.Frame)
		case err != nil:
			r.malformed[p.Frame] = err.Error()
			if strings.Contains(err.Error(), "malformed packet: tcp") {
				r.shortTCP = append(r.shortTCP, p.Frame)
			}
		}
	}
	r.frames = src.Info().Packets
	r.stats = d.Stats()
	if w := src.Info().Warnings; len(w) != 0 {
		t.Errorf("warnings: %q", w)
	}
	return r
}

// tsharkFields are the fields compared frame by frame; the first two
// select the frames.
var tsharkFields = []string{"frame.number", "frame.protocols",
	"ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst", "tcp.dstport",
	"tcp.seq", "tcp.ack", "tcp.flags", "tcp.window_size_value", "tcp.len",
	"tcp.options.mss_val", "tcp.options.wscale.shift", "tcp.options.sack_perm",
	"tcp.options.sack_le", "tcp.options.sack_re",
	"tcp.options.timestamp.tsval", "tcp.options.timestamp.tsecr",
	"ip.ttl", "ipv6.hlim", "ip.id"}

// tsharkFrames runs tshark over a capture, with more preferences (-o, -d),
// and returns the number of frames and, for each TCP frame, its fields by
// name as tshark prints them (occurrences joined by commas).
func tsharkFrames(t *testing.T, path string, prefs ...string) (int, map[int]map[string]string) {
	opts := oracle.Options{Prefs: append([]string{"-o", "tcp.reassemble_out_of_order:TRUE", "-o", "tcp.relative_sequence_numbers:FALSE"}, prefs...)}
	rows := oracle.Fields(t, path, opts, tsharkFields...).Rows
	tcp := map[int]map[string]string{}
	for _, r := range rows {
		n, err := strconv.Atoi(r.Get("frame.number"))
		if err != nil {
			t.Fatalf("tshark frame number %q", r.Get("frame.number"))
		}
		ps := strings.Split(r.Get("frame.protocols"), ":")
		if !slices.Contains(ps, "tcp") || slices.Contains(ps, "icmp") || slices.Contains(ps, "icmpv6") {
			continue
		}
		m := map[string]string{}
		for _, f := range tsharkFields {
			m[f] = r.Get(f)
		}
		tcp[n] = m
	}
	return len(rows), tcp
}

// last returns the last of tshark's comma-separated occurrences: the
// innermost header, or the option that wins when one is repeated.
func last(v string) string {
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		return v[i+1:]
	}
	return v
}

// compareFields returns the fields where a decoded segment differs from
// tshark's dissection of the same frame.
func compareFields(s *Segment, m map[string]string) []string {
	var diffs []string
	check := func(field, ours string) {
		if theirs := last(m[field]); theirs != ours {
			diffs = append(diffs, field+": ours "+ours+", tshark "+theirs)
		}
	}
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	if s.IPVersion == 4 {
		check("ip.src", s.Src.Addr().String())
		check("ip.dst", s.Dst.Addr().String())
		check("ip.ttl", u(uint64(s.TTL)))
		check("ip.id", "0x"+fmt.Sprintf("%04x", s.IPID))
	} else {
		check("ipv6.src", s.Src.Addr().String())
		check("ipv6.dst", s.Dst.Addr().String())
		check("ipv6.hlim", u(uint64(s.TTL)))
	}
	check("tcp.srcport", u(uint64(s.Src.Port())))
	check("tcp.dstport", u(uint64(s.Dst.Port())))
	check("tcp.seq", u(uint64(s.Seq)))
	if s.Flags.Has(FlagACK) {
		check("tcp.ack", u(uint64(s.Ack)))
	}
	if f, err := strconv.ParseUint(strings.TrimPrefix(m["tcp.flags"], "0x"), 16, 16); err != nil || TCPFlags(f) != s.Flags {
		diffs = append(diffs, fmt.Sprintf("tcp.flags: ours %#x, tshark %s", s.Flags, m["tcp.flags"]))
	}
	check("tcp.window_size_value", u(uint64(s.Window)))
	check("tcp.len", strconv.Itoa(s.PayloadLen))
	o := s.Options
	opt := func(present bool, v string) string {
		if present {
			return v
		}
		return ""
	}
	check("tcp.options.mss_val", opt(o.MSS != 0, u(uint64(o.MSS))))
	if ws := last(m["tcp.options.wscale.shift"]); ws != "" {
		// We clamp the shift to 14 as RFC 7323 says; tshark shows it raw.
		if n, _ := strconv.Atoi(ws); n > 14 {
			m["tcp.options.wscale.shift"] = "14"
		}
	}
	check("tcp.options.wscale.shift", opt(o.WindowScale >= 0, strconv.Itoa(int(o.WindowScale))))
	if got := o.SACKPermitted; got != (m["tcp.options.sack_perm"] != "") {
		diffs = append(diffs, fmt.Sprintf("tcp.options.sack_perm: ours %v, tshark %q", got, m["tcp.options.sack_perm"]))
	}
	var le, re []string
	for _, b := range o.SACK {
		le, re = append(le, u(uint64(b.Left))), append(re, u(uint64(b.Right)))
	}
	if theirs := strings.Split(m["tcp.options.sack_le"], ","); m["tcp.options.sack_le"] != "" || len(le) > 0 {
		if !slices.Equal(le, theirs[:min(len(theirs), 4)]) || !slices.Equal(re, strings.Split(m["tcp.options.sack_re"], ",")[:len(re)]) {
			diffs = append(diffs, fmt.Sprintf("sack: ours %v-%v, tshark %s-%s", le, re, m["tcp.options.sack_le"], m["tcp.options.sack_re"]))
		}
	}
	check("tcp.options.timestamp.tsval", opt(o.Timestamp, u(uint64(o.TSVal))))
	check("tcp.options.timestamp.tsecr", opt(o.Timestamp, u(uint64(o.TSEcr))))
	return diffs
}

// TestPublicCapturesAgainstTshark compares frame numbering, the set of TCP
// frames and every field of every segment with tshark's dissection, on
// the public captures as they are and cut to a 96-byte snap length (as
// tcpdump -s 96 would), where tcp.len must still come from the IP header.
//
// tshark's "tcp" filter also matches TCP headers quoted inside ICMP
// errors, which are not segments of the connection; the comparison leaves
// those out. It also matches TCP headers it flags as malformed ("Short
// segment", a header length beyond the segment): we report those as
// malformed rather than as segments, so they are compared separately.
func TestPublicCapturesAgainstTshark(t *testing.T) {
	oracle.Tshark(t)
	editcap, _ := exec.LookPath("editcap")
	for _, path := range publicCaptures(t) {
		t.Run(strings.TrimPrefix(path, publicDir+"/"), func(t *testing.T) {
			t.Parallel()
			compareWithTshark(t, path)
			if editcap != "" && (strings.Contains(path, "http2-keywords.pcap") || strings.Contains(path, "http2_follow_multistream") ||
				strings.Contains(path, "challenge01") || strings.Contains(path, "grpc_stream_reassembly")) {
				cut := filepath.Join(t.TempDir(), "s96-"+filepath.Base(path))
				if out, err := exec.Command(editcap, "-s", "96", path, cut).CombinedOutput(); err != nil {
					t.Fatalf("editcap: %v\n%s", err, out)
				}
				t.Run("snaplen96", func(t *testing.T) { compareWithTshark(t, cut) })
			}
		})
	}
}

func compareWithTshark(t *testing.T, path string) {
	frames, tcp := tsharkFrames(t, path)
	src, err := Open(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	d := NewDecoder()
	var s Segment
	var ours []int
	malformed := map[int]string{}
	var snapCut int
	for {
		p, err := src.Next()
		if err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
		ok, err := d.Decode(p, &s)
		if err != nil {
			malformed[p.Frame] = err.Error()
			if _, isTCP := tcp[p.Frame]; !isTCP || !strings.Contains(err.Error(), "malformed packet: tcp") {
				t.Errorf("frame %d: %v", p.Frame, err)
			}
			continue
		}
		if !ok {
			continue
		}
		ours = append(ours, p.Frame)
		if s.Missing() > 0 {
			snapCut++
		}
		if m, isTCP := tcp[p.Frame]; isTCP {
			if diffs := compareFields(&s, m); len(diffs) > 0 {
				t.Errorf("frame %d: %s", p.Frame, strings.Join(diffs, "; "))
			}
		}
	}
	if n := src.Info().Packets; n != frames {
		t.Errorf("%d frames, tshark %d", n, frames)
	}
	theirs := slices.Sorted(maps.Keys(tcp))
	got := slices.Sorted(slices.Values(append(slices.Clone(ours), slices.Collect(maps.Keys(malformed))...)))
	if !slices.Equal(got, theirs) {
		t.Errorf("TCP frames differ from tshark's\n ours   %v\n tshark %v\n malformed %v", got, theirs, malformed)
	}
	if len(malformed) > 0 {
		t.Logf("malformed TCP headers (tshark shows them as tcp, flagged malformed): %v", malformed)
	}
	if strings.Contains(path, "s96-") && snapCut == 0 {
		t.Errorf("no segment cut by the snap length")
	}
}

// TestPublicCapturesCutOff cuts every real capture at several places, as a
// killed tcpdump or an interrupted copy would: what precedes the cut reads
// normally and the cut is a warning, never an error.
func TestPublicCapturesCutOff(t *testing.T) {
	for _, path := range publicCaptures(t) {
		t.Run(strings.TrimPrefix(path, publicDir+"/"), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			full := readAll(t, path).frames
			for _, n := range []int{len(data) - 1, len(data) - 17, len(data) * 2 / 3, len(data) / 2, 100} {
				if n <= 64 || n >= len(data) {
					continue
				}
				src, err := NewReader(bytes.NewReader(data[:n]), "cut", 0)
				if err != nil {
					// Cut inside the file header or the first block.
					if !strings.HasPrefix(err.Error(), "cut: truncated ") {
						t.Errorf("cut at %d: Open: %v", n, err)
					}
					continue
				}
				pkts, err := drain(t, src)
				if err != nil {
					t.Fatalf("cut at %d: %v", n, err)
				}
				w := src.Info().Warnings
				if len(pkts) > full || len(w) > 1 || len(w) == 1 && !strings.HasPrefix(w[0], "capture cut off mid-") {
					t.Errorf("cut at %d of %d: %d of %d packets, warnings %q", n, len(data), len(pkts), full, w)
				}
				if len(w) == 0 && len(pkts) == full {
					t.Errorf("cut at %d of %d: all %d packets and no warning", n, len(data), full)
				}
			}
		})
	}
}

// TestPublicSecrets: pcapng files from Wireshark's TLS tests carry their
// keys in Decryption Secrets Blocks, which the source keeps.
func TestPublicSecrets(t *testing.T) {
	for _, name := range []string{"tls12-dsb.pcapng", "http2_follow_multistream.pcapng"} {
		src, err := Open(publicDir+"/wireshark-4.0.17/"+name, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := drain(t, src); err != nil {
			t.Fatal(err)
		}
		secrets := src.(SecretsSource).Secrets()
		if len(secrets) == 0 {
			t.Fatalf("%s: no decryption secrets", name)
		}
		for _, s := range secrets {
			if s.Type != 0x544c534b || !bytes.Contains(s.Data, []byte("CLIENT_")) && !bytes.Contains(s.Data, []byte("_TRAFFIC_SECRET")) {
				t.Errorf("%s: secret type %#x, %.40q", name, s.Type, s.Data)
			}
		}
		src.Close()
	}
}

// TestDecodeCasesAgainstTshark writes the hand-built frames of every link
// type and encapsulation into one pcapng and checks that each segment has
// the fields tshark gives the innermost TCP header of the frame.
func TestDecodeCasesAgainstTshark(t *testing.T) {
	oracle.Tshark(t)
	var buf bytes.Buffer
	cases := decodeCases(t)
	w, err := pcapgo.NewNgWriterInterface(&buf, pcapgo.NgInterface{LinkType: layers.LinkTypeEthernet}, pcapgo.NgWriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ifaces := map[layers.LinkType]int{layers.LinkTypeEthernet: 0}
	var names []string
	for _, tc := range cases {
		if tc.want == nil {
			continue
		}
		id, ok := ifaces[tc.lt]
		if !ok {
			id, _ = w.AddInterface(pcapgo.NgInterface{LinkType: tc.lt})
			ifaces[tc.lt] = id
		}
		ci := gopacket.CaptureInfo{Timestamp: testTime, CaptureLength: len(tc.frame), Length: max(len(tc.frame), tc.wireLen), InterfaceIndex: id}
		if err := w.WritePacket(ci, tc.frame); err != nil {
			t.Fatal(err)
		}
		names = append(names, tc.name)
	}
	w.Flush()
	path := writeFile(t, "cases.pcapng", buf.Bytes())
	// Without reassembly tshark dissects the TCP header of a first
	// fragment, as we do.
	_, tcp := tsharkFrames(t, path, "-d", "udp.port==8472,vxlan", "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE")
	src, err := Open(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder()
	var s Segment
	for {
		p, err := src.Next()
		if err != nil {
			break
		}
		name := names[p.Frame-1]
		if ok, err := d.Decode(p, &s); !ok {
			t.Errorf("%s: %v", name, err)
			continue
		}
		m, ok := tcp[p.Frame]
		if !ok {
			t.Errorf("%s: tshark finds no TCP", name)
			continue
		}
		if s.Fragment {
			// tshark gives no tcp.len for a fragment it does not
			// reassemble; ours counts the fragment's bytes.
			m["tcp.len"] = strconv.Itoa(s.PayloadLen)
		}
		if diffs := compareFields(&s, m); len(diffs) > 0 {
			t.Errorf("%s: %s", name, strings.Join(diffs, "; "))
		}
	}
}
