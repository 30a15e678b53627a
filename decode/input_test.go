package decode

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// TestInputWarnings: time that runs backwards and malformed packets are
// warnings naming the first frame, with a count per reason.
func TestInputWarnings(t *testing.T) {
	c, s := netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:443")
	good := func(seq uint32) []byte { return tcpIPv4(t, c, s, uint16(seq), seq, 1, FlagACK, nil) }
	ihl3 := good(99)
	ihl3[0] = 0x43
	deep := good(98)
	for range maxNesting + 1 {
		deep = outerIP(t, false, layers.IPProtocolIPv4, deep)
	}
	shortTCP := good(97)
	shortTCP[32] = 0x30 // data offset 3
	sec := time.Second

	for _, tc := range []struct {
		name     string
		pkts     []timed
		warnings []string
	}{
		{name: "time in order, some packets at the same time", pkts: []timed{{0, good(1)}, {0, good(2)}, {sec, good(3)}}},
		{name: "time runs backwards", pkts: []timed{{0, good(1)}, {sec, good(2)}, {-sec / 2, good(3)}, {sec + sec/2, good(4)}, {-2 * sec, good(5)}, {sec, good(6)}},
			warnings: []string{"capture time runs backwards at frame 3, 500ms before the packet before it (2 times in all, by up to 2s): the analysis takes packets in file order"}},
		{name: "malformed, per reason", pkts: []timed{{0, good(1)}, {0, ihl3}, {0, deep}, {0, shortTCP}, {0, ihl3}, {0, good(2)}},
			warnings: []string{
				"2 packets skipped as malformed (ipv4 header length 3 < 5), the first at frame 2",
				"1 packet skipped as malformed (more than 8 nested encapsulations), the first at frame 3",
				"1 packet skipped as malformed (tcp header length 12), the first at frame 4",
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewInputDecoder()
			var seg Segment
			at := testTime
			for i, p := range tc.pkts {
				at = at.Add(p.gap)
				d.Decode(&Packet{Frame: i + 1, Time: at, LinkType: layers.LinkTypeRaw, Data: p.ip, CaptureLen: len(p.ip), WireLen: len(p.ip)}, &seg)
			}
			checkWarnings(t, d.Warnings(), tc.warnings, strings.HasPrefix)
		})
	}
}

// TestInputWarningsAcrossInputs: a rotated file that starts before the
// one before it ended runs backwards at its first frame.
func TestInputWarningsAcrossInputs(t *testing.T) {
	ip := ipTCP(t, false, nil)
	d := NewInputDecoder()
	var s Segment
	d.Decode(&Packet{Input: 0, Frame: 1, Time: testTime.Add(10 * time.Second), LinkType: layers.LinkTypeRaw, Data: ip, CaptureLen: len(ip), WireLen: len(ip)}, &s)
	d2 := d.Next()
	binary.BigEndian.PutUint32(ip[24:28], 7) // another sequence number: not a copy
	d2.Decode(&Packet{Input: 1, Frame: 1, Time: testTime, LinkType: layers.LinkTypeRaw, Data: ip, CaptureLen: len(ip), WireLen: len(ip)}, &s)
	if w := d2.Warnings(); len(w) != 1 || !strings.HasPrefix(w[0], "capture time runs backwards at frame 1, 10s before") {
		t.Errorf("warnings %q", w)
	}
	if w := d.Warnings(); len(w) != 0 {
		t.Errorf("the first input's warnings %q", w)
	}
}

// TestTallyBounded: a tally keeps maxReasons reasons at most, the last
// counting every reason that did not fit.
func TestTallyBounded(t *testing.T) {
	var tl tally
	for i := range 20 {
		tl.add(fmt.Sprint("reason ", i), fmt.Sprint("example ", i), frameRef{0, i + 1}, 1)
	}
	tl.add("reason 3", "again", frameRef{0, 30}, 2)
	lines := tl.lines(func(r reasonCount) string { return fmt.Sprintf("%s: %d at %d", r.example, r.count, r.first.frame) })
	want := []string{"example 0: 1 at 1", "example 1: 1 at 2", "example 2: 1 at 3", "example 3: 3 at 4"}
	if len(lines) != maxReasons || !slices.Equal(lines[:4], want) || lines[maxReasons-1] != "other reasons: 5 at 16" {
		t.Errorf("lines %q", lines)
	}
}

// checkWarnings wants one warning per want, in order, each matching its
// want by match (strings.Contains or strings.HasPrefix).
func checkWarnings(t *testing.T, got, want []string, match func(s, sub string) bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("warnings %q, want %d", got, len(want))
	}
	for i := range got {
		if !match(got[i], want[i]) {
			t.Errorf("warning %q, want one matching %q", got[i], want[i])
		}
	}
}
