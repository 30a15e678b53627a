package decode

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

type testPkt struct {
	t       time.Time
	data    []byte
	wireLen int // 0: len(data)
}

// writePcap writes a pcap file by hand, since pcapgo writes only
// little-endian files.
func writePcap(order binary.ByteOrder, nanos bool, lt uint32, pkts []testPkt) []byte {
	var b bytes.Buffer
	magic := uint32(0xa1b2c3d4)
	if nanos {
		magic = 0xa1b23c4d
	}
	hdr := make([]byte, 24)
	order.PutUint32(hdr[0:], magic)
	order.PutUint16(hdr[4:], 2)
	order.PutUint16(hdr[6:], 4)
	order.PutUint32(hdr[16:], 262144)
	order.PutUint32(hdr[20:], lt)
	b.Write(hdr)
	for _, p := range pkts {
		rec := make([]byte, 16)
		frac := p.t.Nanosecond() / 1000
		if nanos {
			frac = p.t.Nanosecond()
		}
		order.PutUint32(rec[0:], uint32(p.t.Unix()))
		order.PutUint32(rec[4:], uint32(frac))
		order.PutUint32(rec[8:], uint32(len(p.data)))
		order.PutUint32(rec[12:], uint32(max(p.wireLen, len(p.data))))
		b.Write(rec)
		b.Write(p.data)
	}
	return b.Bytes()
}

func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func gz(data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

// drain reads a source to its end.
func drain(t testing.TB, src Source) (pkts []Packet, err error) {
	t.Helper()
	for {
		p, err := src.Next()
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return pkts, err
		}
		q := *p
		q.Data = append([]byte(nil), p.Data...)
		pkts = append(pkts, q)
	}
}

func samplePackets(t testing.TB) []testPkt {
	pl := []byte(testPayload)
	big := bytes.Repeat([]byte{'y'}, 1200)
	full := eth(t, layers.EthernetTypeIPv4, ipTCP(t, false, big))
	return []testPkt{
		{t: time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC), data: eth(t, layers.EthernetTypeIPv4, ipTCP(t, false, pl))},
		{t: time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC), data: eth(t, layers.EthernetTypeIPv6, ipTCP(t, true, pl))},
		{t: time.Date(2026, 1, 2, 3, 4, 7, 999999999, time.UTC), data: full[:96], wireLen: len(full)}, // snaplen 96
	}
}

func TestOpenPcapVariants(t *testing.T) {
	pkts := samplePackets(t)
	for _, tc := range []struct {
		name  string
		order binary.ByteOrder
		nanos bool
	}{
		{"micro LE", binary.LittleEndian, false},
		{"micro BE", binary.BigEndian, false},
		{"nano LE", binary.LittleEndian, true},
		{"nano BE", binary.BigEndian, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "x.pcap", writePcap(tc.order, tc.nanos, 1, pkts))
			src, err := Open(path, 2)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			got, err := drain(t, src)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(pkts) {
				t.Fatalf("%d packets, want %d", len(got), len(pkts))
			}
			var bytes int64
			for i, p := range got {
				want := pkts[i].t
				if !tc.nanos {
					want = want.Truncate(time.Microsecond)
				}
				if p.Frame != i+1 || p.Input != 2 || !p.Time.Equal(want) || p.LinkType != layers.LinkTypeEthernet ||
					p.CaptureLen != len(pkts[i].data) || p.WireLen != max(pkts[i].wireLen, len(pkts[i].data)) ||
					!reflect.DeepEqual(p.Data, pkts[i].data) {
					t.Errorf("packet %d: %+v (time want %v)", i, p, want)
				}
				bytes += int64(len(pkts[i].data))
			}
			info := src.Info()
			first, last := pkts[0].t, pkts[2].t
			if !tc.nanos {
				first, last = first.Truncate(time.Microsecond), last.Truncate(time.Microsecond)
			}
			want := InputInfo{Path: path, Format: "pcap", LinkTypes: []string{"EN10MB"}, Packets: 3, Bytes: bytes,
				First: first, Last: last, TruncatedPackets: 1}
			if !reflect.DeepEqual(*info, want) {
				t.Errorf("info\n got %+v\nwant %+v", *info, want)
			}
		})
	}
}

// ngFile writes a pcapng file with an Ethernet interface (microseconds)
// and a raw IP interface (nanoseconds), packets alternating, and a
// decryption secrets block. The first packet was received (epb_flags
// inbound), the second sent (after a comment), the third says nothing.
func ngFile(t testing.TB) ([]byte, []testPkt) {
	var b bytes.Buffer
	w, err := pcapgo.NewNgWriterInterface(&b, pcapgo.NgInterface{Name: "eth0", LinkType: layers.LinkTypeEthernet, SnapLength: 262144},
		pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "h2pcap test"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddInterface(pcapgo.NgInterface{Name: "tun0", LinkType: layers.LinkTypeRaw, SnapLength: 262144, TimestampResolution: 9}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteDecryptionSecretsBlock(0x544c534b, []byte("CLIENT_RANDOM 00 11\n")); err != nil {
		t.Fatal(err)
	}
	pl := []byte(testPayload)
	pkts := []testPkt{
		{t: time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC), data: eth(t, layers.EthernetTypeIPv4, ipTCP(t, false, pl))},
		{t: time.Date(2026, 1, 2, 3, 4, 6, 123456789, time.UTC), data: ipTCP(t, true, pl)},
		{t: time.Date(2026, 1, 2, 3, 4, 7, 0, time.UTC), data: eth(t, layers.EthernetTypeIPv6, ipTCP(t, true, pl))},
	}
	opts := []pcapgo.NgPacketOptions{
		{Flags: &pcapgo.NgEpbFlags{Direction: pcapgo.NgEpbFlagDirectionInbound}},
		{Comments: []string{"sent"}, Flags: &pcapgo.NgEpbFlags{Direction: pcapgo.NgEpbFlagDirectionOutbound}},
		{},
	}
	for i, p := range pkts {
		ci := gopacket.CaptureInfo{Timestamp: p.t, CaptureLength: len(p.data), Length: len(p.data), InterfaceIndex: i % 2}
		if err := w.WritePacketWithOptions(ci, p.data, opts[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), pkts
}

func TestOpenPcapngInterfaces(t *testing.T) {
	data, pkts := ngFile(t)
	path := writeFile(t, "two.pcapng", data)
	src, err := Open(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	got, err := drain(t, src)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d packets", len(got))
	}
	wantLT := []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw, layers.LinkTypeEthernet}
	wantIn, wantOut := []bool{true, false, false}, []bool{false, true, false}
	d := NewDecoder()
	for i, p := range got {
		if p.Frame != i+1 || p.LinkType != wantLT[i] || !p.Time.Equal(pkts[i].t) || !bytes.Equal(p.Data, pkts[i].data) {
			t.Errorf("packet %d: frame %d link %v time %v", i, p.Frame, p.LinkType, p.Time)
		}
		if p.Iface.In != wantIn[i] || p.Iface.Out != wantOut[i] {
			t.Errorf("packet %d: in %v out %v (epb_flags), want %v %v", i, p.Iface.In, p.Iface.Out, wantIn[i], wantOut[i])
		}
		var s Segment
		if ok, err := d.Decode(&p, &s); !ok || err != nil || string(s.Payload) != testPayload {
			t.Errorf("packet %d: decode %v %v %q", i, ok, err, s.Payload)
		}
	}
	info := src.Info()
	if info.Format != "pcapng" || !reflect.DeepEqual(info.LinkTypes, []string{"EN10MB", "RAW"}) || info.Packets != 3 {
		t.Errorf("info %+v", info)
	}
	secrets := src.(SecretsSource).Secrets()
	if len(secrets) != 1 || secrets[0].Type != 0x544c534b || string(secrets[0].Data) != "CLIENT_RANDOM 00 11\n" {
		t.Errorf("secrets %+v", secrets)
	}
}

func TestOpenGzipAndStdin(t *testing.T) {
	pkts := samplePackets(t)
	plain := writePcap(binary.LittleEndian, false, 1, pkts)
	ng, _ := ngFile(t)
	for _, tc := range []struct {
		name, format string
		data         []byte
	}{
		{"pcap.gz", "pcap", gz(plain)},
		{"pcapng.gz", "pcapng", gz(ng)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := Open(writeFile(t, "x."+tc.name, tc.data), 0)
			if err != nil {
				t.Fatal(err)
			}
			got, err := drain(t, src)
			if err != nil || len(got) != 3 || src.Info().Format != tc.format || len(src.Info().Warnings) != 0 {
				t.Fatalf("%d packets, err %v, info %+v", len(got), err, src.Info())
			}
		})
	}
	t.Run("stdin", func(t *testing.T) {
		f, err := os.Open(writeFile(t, "in.pcap.gz", gz(plain)))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		old := os.Stdin
		os.Stdin = f
		defer func() { os.Stdin = old }()
		src, err := Open("-", 0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := drain(t, src)
		if err != nil || len(got) != 3 || src.Info().Path != "-" {
			t.Fatalf("%d packets, err %v, info %+v", len(got), err, src.Info())
		}
	})
}

func TestOpenErrors(t *testing.T) {
	pcap := writePcap(binary.LittleEndian, false, 1, samplePackets(t))
	ng, _ := ngFile(t)
	ngBad := func(length uint32, trailer uint32) []byte {
		b := append([]byte(nil), ng...)
		blk := make([]byte, 16)
		binary.LittleEndian.PutUint32(blk[0:], 0x0bad)
		binary.LittleEndian.PutUint32(blk[4:], length)
		binary.LittleEndian.PutUint32(blk[12:], trailer)
		return append(b, blk...)
	}
	off := len(ng)
	unknown := append([]byte(nil), pcap...)
	binary.LittleEndian.PutUint32(unknown[20:], 147)
	badVersion := append([]byte(nil), pcap...)
	binary.LittleEndian.PutUint16(badVersion[4:], 3)
	badBOM := append([]byte(nil), ng...)
	badBOM[8] = 0x99

	for _, tc := range []struct {
		name, file string
		data       []byte // nil: the file does not exist
		wantOpen   string // exact error from Open, with %s for the path
		wantNext   string // exact error from Next, with %s for the path
		wantIs     error
	}{
		{name: "not a capture", file: "notes.txt", data: []byte("GET / HTTP/1.1\r\nHost: example\r\n\r\n"), wantOpen: "%s: not a pcap or pcapng file", wantIs: ErrNotCapture},
		{name: "three bytes", file: "x.pcap", data: []byte{0xd4, 0xc3, 0xb2}, wantOpen: "%s: not a pcap or pcapng file", wantIs: ErrNotCapture},
		{name: "empty", file: "x.pcap", data: []byte{}, wantOpen: "%s: empty file", wantIs: ErrNotCapture},
		{name: "missing", file: "missing.pcap", wantOpen: "%s: no such file or directory", wantIs: fs.ErrNotExist},
		{name: "directory", file: "dir", wantOpen: "%s: is a directory"},
		{name: "truncated pcap header", file: "x.pcap", data: pcap[:10], wantOpen: "%s: truncated pcap file header (10 of 24 bytes)"},
		{name: "bad pcap version", file: "x.pcap", data: badVersion, wantOpen: "%s: offset 0: unsupported pcap version 3.4"},
		{name: "unknown link type", file: "x.pcap", data: unknown, wantOpen: "%s: unsupported link type 147 (LINKTYPE_147)"},
		{name: "truncated pcapng header", file: "x.pcapng", data: ng[:20], wantOpen: "%s: truncated pcapng section header"},
		{name: "pcapng bad byte order", file: "x.pcapng", data: badBOM, wantOpen: "%s: offset 0: corrupt section header: bad byte-order magic 0x993c2b1a"},
		{name: "pcapng block length 7", file: "x.pcapng", data: ngBad(7, 7), wantNext: "%s: offset " + itoa(off) + ": corrupt block: block length 7 too small"},
		{name: "pcapng block length 14", file: "x.pcapng", data: ngBad(14, 14), wantNext: "%s: offset " + itoa(off) + ": corrupt block: block length 14 not a multiple of 4"},
		{name: "pcapng huge block", file: "x.pcapng", data: ngBad(1<<30, 16), wantNext: "%s: offset " + itoa(off) + ": corrupt block: block length 1073741824 too large"},
		{name: "pcapng trailer mismatch", file: "x.pcapng", data: ngBad(16, 20), wantNext: "%s: offset " + itoa(off) + ": corrupt block: trailing block length 20 does not match 16"},
		{name: "gzip header only", file: "x.pcap.gz", data: gz(pcap)[:5], wantOpen: "%s: truncated gzip header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.file)
			if tc.file == "dir" {
				path = t.TempDir()
			} else if tc.data != nil {
				path = writeFile(t, tc.file, tc.data)
			}
			src, err := Open(path, 0)
			if tc.wantOpen != "" {
				if err == nil {
					t.Fatalf("Open succeeded")
				}
				if want := strings.ReplaceAll(tc.wantOpen, "%s", path); err.Error() != want {
					t.Errorf("Open error\n got %q\nwant %q", err, want)
				}
				if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
					t.Errorf("errors.Is(%v, %v) = false", err, tc.wantIs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			_, err = drain(t, src)
			if want := strings.ReplaceAll(tc.wantNext, "%s", path); err == nil || err.Error() != want {
				t.Errorf("Next error\n got %v\nwant %q", err, want)
			}
			if _, err2 := src.Next(); err2 != err {
				t.Errorf("Next after error = %v, want the same error again", err2)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestCutOff checks that a capture cut off anywhere (killed tcpdump, a
// partial download) reads as the packets before the cut plus a warning.
func TestCutOff(t *testing.T) {
	pkts := samplePackets(t)
	pcap := writePcap(binary.LittleEndian, false, 1, pkts)
	rec3 := 24 + 16 + len(pkts[0].data) + 16 + len(pkts[1].data) // offset of the third record
	ng, _ := ngFile(t)
	for _, tc := range []struct {
		name        string
		data        []byte
		wantPackets int
		wantWarning string
	}{
		{"pcap mid-packet", pcap[:len(pcap)-5], 2, "capture cut off mid-packet at offset " + itoa(rec3) + " after 2 packets"},
		{"pcap mid-record-header", pcap[:rec3+7], 2, "capture cut off mid-packet at offset " + itoa(rec3) + " after 2 packets"},
		{"pcap at a record boundary", pcap[:rec3], 2, ""},
		{"pcap header only", pcap[:24], 0, ""},
		{"pcapng mid-block", ng[:len(ng)-3], 2, "capture cut off mid-block at offset"},
		{"gzip pcap cut", gz(pcap)[:len(gz(pcap))-30], 2, "capture cut off mid-packet"},
		{"gzip trailer cut", gz(pcap)[:len(gz(pcap))-4], 3, "capture cut off mid-packet at offset " + itoa(len(pcap)) + " after 3 packets"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := Open(writeFile(t, "cut", tc.data), 0)
			if err != nil {
				t.Fatal(err)
			}
			got, err := drain(t, src)
			if err != nil {
				t.Fatalf("Next error %v, want io.EOF", err)
			}
			w := src.Info().Warnings
			if len(got) != tc.wantPackets || src.Info().Packets != tc.wantPackets {
				t.Errorf("%d packets, want %d", len(got), tc.wantPackets)
			}
			if tc.wantWarning == "" && len(w) != 0 || tc.wantWarning != "" && (len(w) != 1 || !strings.HasPrefix(w[0], tc.wantWarning)) {
				t.Errorf("warnings %q, want %q", w, tc.wantWarning)
			}
		})
	}
}

// TestCorruptGzip flips a byte in the middle of a compressed capture.
func TestCorruptGzip(t *testing.T) {
	big := writePcap(binary.LittleEndian, false, 1, append(samplePackets(t), samplePackets(t)...))
	z := gz(big)
	z[len(z)/2] ^= 0xff
	src, err := Open(writeFile(t, "x.pcap.gz", z), 0)
	if err != nil {
		t.Fatal(err) // the header is intact
	}
	_, err = drain(t, src)
	// Either the deflate stream breaks (an error naming the file) or it
	// decodes to wrong bytes: the checksum then fails (a warning) or a
	// record looks corrupt (an error). Never a panic, never silence.
	if err == nil && len(src.Info().Warnings) == 0 {
		t.Errorf("corrupt gzip read without error or warning")
	}
	if err != nil && !strings.HasPrefix(err.Error(), src.Info().Path+": ") {
		t.Errorf("error %q does not name the file", err)
	}
}

// TestPcapRecordQuirks covers records Wireshark reads although they break
// the rules: a captured length above the original length, and a record
// longer than the declared snap length.
func TestPcapRecordQuirks(t *testing.T) {
	pkts := samplePackets(t)
	data := writePcap(binary.LittleEndian, false, 1, pkts[:2])
	binary.LittleEndian.PutUint32(data[24+12:], 40)   // first record: len 40 < caplen
	binary.LittleEndian.PutUint32(data[16:], 64)      // snaplen 64, smaller than the records
	binary.LittleEndian.PutUint32(data[20:], 1<<28|1) // FCS bits over EN10MB
	src, err := Open(writeFile(t, "x.pcap", data), 0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := drain(t, src)
	if err != nil || len(got) != 2 || got[0].WireLen != 40 || got[0].CaptureLen != len(pkts[0].data) {
		t.Fatalf("%d packets, err %v", len(got), err)
	}
	var s Segment
	if ok, err := NewDecoder().Decode(&got[0], &s); !ok || string(s.Payload) != testPayload {
		t.Errorf("decode: %v %v", ok, err)
	}
}

// TestPcapngUnsupportedInterface: packets of an interface we cannot decode
// (here USB) still count as frames, so numbering matches Wireshark's, and
// the report says why they were not analysed.
func TestPcapngUnsupportedInterface(t *testing.T) {
	var b bytes.Buffer
	w, err := pcapgo.NewNgWriterInterface(&b, pcapgo.NgInterface{LinkType: 189}, pcapgo.NgWriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w.AddInterface(pcapgo.NgInterface{LinkType: layers.LinkTypeRaw})
	frame := ipTCP(t, false, []byte(testPayload))
	w.WritePacket(gopacket.CaptureInfo{Timestamp: testTime, CaptureLength: 8, Length: 8}, make([]byte, 8))
	w.WritePacket(gopacket.CaptureInfo{Timestamp: testTime, CaptureLength: len(frame), Length: len(frame), InterfaceIndex: 1}, frame)
	w.Flush()
	src, err := NewReader(&b, "usb.pcapng", 0)
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
		if ok, _ := d.Decode(p, &s); ok && p.Frame != 2 {
			t.Errorf("frame %d decoded", p.Frame)
		}
	}
	info := src.Info()
	want := []string{"interface 0 has unsupported link type 189 (LINKTYPE_189); its packets are counted but not decoded"}
	if info.Packets != 2 || !reflect.DeepEqual(info.Warnings, want) || !reflect.DeepEqual(info.LinkTypes, []string{"LINKTYPE_189", "RAW"}) {
		t.Errorf("info %+v", info)
	}
	if st := d.Stats(); st.NonIP != 1 || st.TCP != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestPcapWindow: records of every size, some larger than the read
// buffer, read through buffers of several sizes, come out whole and in
// order, with their offsets right when the file is cut mid-record.
func TestPcapWindow(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	var b bytes.Buffer
	w := pcapgo.NewWriter(&b)
	if err := w.WriteFileHeader(1<<16, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	var want [][]byte
	for i := range 500 {
		n := 14 + r.IntN(200)
		if i%50 == 7 {
			n = 3000 + r.IntN(3000)
		}
		p := make([]byte, n)
		for j := range p {
			p[j] = byte(r.Uint32())
		}
		want = append(want, p)
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(int64(i), 0), CaptureLength: n, Length: n}, p); err != nil {
			t.Fatal(err)
		}
	}
	whole := b.Bytes()
	for _, size := range []int{64, 100, 4096, 1 << 20} {
		for _, cut := range []int{len(whole), len(whole) - 5} {
			src, err := newSource(context.Background(), bytes.NewReader(whole[:cut]), "window", 0, size)
			if err != nil {
				t.Fatal(err)
			}
			got := 0
			for {
				p, err := src.Next()
				if err != nil {
					if err != io.EOF {
						t.Fatalf("buffer %d, cut %d: %v", size, cut, err)
					}
					break
				}
				if got >= len(want) || !bytes.Equal(p.Data, want[got]) || p.Time.Unix() != int64(got) {
					t.Fatalf("buffer %d, cut %d: record %d differs", size, cut, got)
				}
				got++
			}
			wantN, warn := len(want), ""
			if cut < len(whole) {
				wantN = len(want) - 1
				warn = fmt.Sprintf("capture cut off mid-packet at offset %d after %d packets", len(whole)-16-len(want[len(want)-1]), wantN)
			}
			if got != wantN {
				t.Errorf("buffer %d, cut %d: %d records, want %d", size, cut, got, wantN)
			}
			if ws := src.Info().Warnings; warn != "" && (len(ws) != 1 || ws[0] != warn) {
				t.Errorf("buffer %d, cut %d: warnings %q, want %q", size, cut, ws, warn)
			}
		}
	}
}
