package main

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/h2pcap/h2pcap/model"
)

// packetRecords returns the offset of each packet record of a pcap file,
// or of each packet block of a little-endian pcapng file.
func packetRecords(t *testing.T, data []byte) []int {
	t.Helper()
	var offs []int
	le := binary.LittleEndian
	if le.Uint32(data) == 0x0a0d0d0a { // pcapng
		for off := 0; off+8 <= len(data); {
			typ, n := le.Uint32(data[off:]), int(le.Uint32(data[off+4:]))
			if typ == 6 || typ == 2 || typ == 3 {
				offs = append(offs, off)
			}
			off += n
		}
		return offs
	}
	if le.Uint32(data) != 0xa1b2c3d4 {
		t.Fatal("not a little-endian microsecond pcap")
	}
	for off := 24; off+16 <= len(data); off += 16 + int(le.Uint32(data[off+8:])) {
		offs = append(offs, off)
	}
	return offs
}

// A capture damaged in the middle is reported up to the damage, with a
// warning that names where (the report equals that of the file cut there,
// warnings apart); damaged at its first packet, it stays an input error.
func TestDamagedCapture(t *testing.T) {
	const pcapSrc = "../../testdata/pcaps/blackhole-s2c-h2c/client.pcap"
	le := binary.LittleEndian
	for _, tc := range []struct {
		name   string
		src    string
		first  bool // damage the first packet record, not one in the middle
		damage func(rec []byte)
		want   string // the damage as the warning or the error says it
	}{
		{name: "pcap captured length absurd", src: pcapSrc,
			damage: func(rec []byte) { le.PutUint32(rec[8:], 0xfffffff0) },
			want:   "corrupt packet record: captured length 4294967280 exceeds maximum 262144"},
		{name: "pcap captured length over the snap length", src: pcapSrc,
			damage: func(rec []byte) { le.PutUint32(rec[8:], 262145) },
			want:   "corrupt packet record: captured length 262145 exceeds maximum 262144"},
		{name: "pcapng block length not a multiple of 4", src: multistream,
			damage: func(blk []byte) { le.PutUint32(blk[4:], le.Uint32(blk[4:])+2) },
			want:   "corrupt block: block length"},
		{name: "pcapng block length too small", src: multistream,
			damage: func(blk []byte) { le.PutUint32(blk[4:], 8) },
			want:   "corrupt block: block length 8 too small"},
		{name: "pcapng block length absurd", src: multistream,
			damage: func(blk []byte) { le.PutUint32(blk[4:], 0xfffffff0) },
			want:   "corrupt block: block length 4294967280 too large"},
		{name: "pcapng trailing length wrong", src: multistream,
			damage: func(blk []byte) { n := le.Uint32(blk[4:]); le.PutUint32(blk[n-4:], n+4) },
			want:   "corrupt block: trailing block length"},
		{name: "pcap damaged at the first packet", src: pcapSrc, first: true,
			damage: func(rec []byte) { le.PutUint32(rec[8:], 0xfffffff0) },
			want:   "corrupt packet record: captured length 4294967280 exceeds maximum 262144"},
		{name: "pcapng damaged at the first packet", src: multistream, first: true,
			damage: func(blk []byte) { le.PutUint32(blk[4:], 8) },
			want:   "corrupt block: block length 8 too small"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := os.ReadFile(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			recs := packetRecords(t, data)
			n := len(recs) / 2
			if tc.first {
				n = 0
			}
			off := recs[n]
			dir := t.TempDir()
			ext := filepath.Ext(tc.src)
			damaged := filepath.Join(dir, "damaged"+ext)
			bad := append([]byte(nil), data...)
			tc.damage(bad[off:])
			if err := os.WriteFile(damaged, bad, 0o644); err != nil {
				t.Fatal(err)
			}
			where := "offset " + strconv.Itoa(off) + ": " + tc.want

			if tc.first {
				code, out, errOut := h2pcap(t, nil, "analyze", damaged)
				if code != exitUsage || out != "" || !strings.HasPrefix(errOut, "h2pcap: "+damaged+": "+where) || strings.Count(errOut, "\n") != 1 {
					t.Errorf("exit %d, stdout %d bytes, stderr %q; want exit %d and one line %q", code, len(out), errOut, exitUsage, "h2pcap: "+damaged+": "+where)
				}
				return
			}

			code, out, errOut := h2pcap(t, nil, "analyze", "--format", "json", damaged)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var got model.Report
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatal(err)
			}
			in := got.Inputs[0]
			warning := "damaged at " + where
			// The capture's other warnings (its time runs backwards once)
			// stand beside the damage's, which is said once.
			var damage []string
			for _, w := range in.Warnings {
				if strings.HasPrefix(w, "damaged at ") {
					damage = append(damage, w)
				}
			}
			if in.Packets != n || len(damage) != 1 || !strings.HasPrefix(damage[0], warning) ||
				!strings.Contains(damage[0], "the report covers frames 1 to "+strconv.Itoa(n)+", the last good one (capture time ") {
				t.Fatalf("%d packets, warnings %q; want %d packets and %q...", in.Packets, in.Warnings, n, warning)
			}
			if !strings.Contains(errOut, "h2pcap: warning: input 0 ("+damaged+"): "+warning) {
				t.Errorf("stderr does not have the warning: %q", errOut)
			}
			for _, format := range []string{"table", "markdown"} {
				if _, out, _ := h2pcap(t, nil, "analyze", "--format", format, damaged); !strings.Contains(out, warning) {
					t.Errorf("%s report does not have the warning", format)
				}
			}

			// The same as the file cut just before the damage.
			cut := filepath.Join(dir, "cut"+ext)
			if err := os.WriteFile(cut, data[:off], 0o644); err != nil {
				t.Fatal(err)
			}
			want := analyzeJSON(t, nil, cut)
			want.Inputs[0].Path, got.Inputs[0].Path = "", ""
			want.Inputs[0].Warnings, got.Inputs[0].Warnings = nil, nil
			a, _ := json.Marshal(&got)
			b, _ := json.Marshal(want)
			if string(a) != string(b) {
				t.Errorf("report differs from the report of the file cut at the damage:\n%s", diffLines(string(b), string(a)))
			}
		})
	}
}
