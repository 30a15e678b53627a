package analyze

import (
	"net/netip"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
)

// TestLoneSYNRowTemplate: the rows and facts of lone SYNs made from their
// shape's template are those made in full, for every variant of a SYN
// (options, flags, family, ports, an HTTP/2 port, inputs, TTLs), the
// SYNs of one shape differing in sequence number, IP ID, timestamps,
// endpoints, frame and time, their rows made into fresh memory and into
// a row made before.
func TestLoneSYNRowTemplate(t *testing.T) {
	at := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	variants := []struct {
		name string
		mod  func(s *decode.Segment, i int)
	}{
		{"plain", func(*decode.Segment, int) {}},
		{"options", func(s *decode.Segment, i int) {
			s.Options = decode.TCPOptions{MSS: 1460, WindowScale: 7, SACKPermitted: true, Timestamp: true, TSVal: uint32(12345 + 977*i), TSEcr: uint32(i)}
		}},
		{"ecn", func(s *decode.Segment, _ int) { s.Flags |= decode.FlagECE | decode.FlagCWR }},
		{"window 0", func(s *decode.Segment, _ int) { s.Window = 0 }},
		{"well-known client port", func(s *decode.Segment, i int) {
			s.Src, s.Dst = netip.AddrPortFrom(s.Src.Addr(), 443), netip.AddrPortFrom(s.Dst.Addr(), uint16(50000+i))
		}},
		{"equal ports", func(s *decode.Segment, _ int) {
			s.Src, s.Dst = netip.AddrPortFrom(s.Src.Addr(), 7000), netip.AddrPortFrom(s.Dst.Addr(), 7000)
		}},
		{"ipv6", func(s *decode.Segment, i int) {
			s.IPVersion, s.IPID = 6, 0
			s.Src = netip.AddrPortFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i + 9)}), uint16(40000+i))
			s.Dst = netip.MustParseAddrPort("[2001:db8::1]:8080")
		}},
		{"h2 port", func(s *decode.Segment, _ int) { s.Dst = netip.AddrPortFrom(s.Dst.Addr(), 2379) }},
		{"reassembled", func(s *decode.Segment, _ int) { s.Reassembled = true }},
		{"later input", func(s *decode.Segment, _ int) { s.Input = 3 }},
	}
	for _, ttl := range []uint8{1, 64, 128, 255} {
		for _, v := range variants {
			a := New(Options{H2Ports: []uint16{2379}, ReportOnce: true})
			const n = 6
			for i := range n {
				s := decode.Segment{Input: 0, Frame: 1 + 7*i, Time: at.Add(time.Duration(i) * 1234567 * time.Nanosecond),
					Src:       netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, 0, byte(9 + i)}), uint16(40000+i)),
					Dst:       netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, 1, byte(1 + i%2)}), 8080),
					IPVersion: 4, TTL: ttl, IPID: uint16(77 + 1000*i), Seq: uint32(1000 + 0x10000001*i), Flags: decode.FlagSYN, Window: 64240}
				v.mod(&s, i)
				a.Segment(&s)
			}
			if len(a.all) != n {
				t.Fatalf("ttl %d %s: %d connections, want %d", ttl, v.name, len(a.all), n)
			}
			var spare *model.Connection
			for i, c := range a.all {
				if c.connState != nil {
					t.Fatalf("ttl %d %s: connection %d is not half-open", ttl, v.name, i)
				}
				// The full way, in trackers of its own.
				want, wf, _ := a.reportHalfIn(c, nil, &connState{}, &verdict.Facts{})
				wf = wf.Clone()
				got, gf := a.reportHalfInto(c, spare)
				if d := differences("row", reflect.ValueOf(got), reflect.ValueOf(want)); len(d) > 0 || !reflect.DeepEqual(got, want) {
					t.Errorf("ttl %d %s: connection %d's row differs at %v", ttl, v.name, i, d)
				}
				if d := differences("facts", reflect.ValueOf(gf), reflect.ValueOf(wf)); len(d) > 0 || !reflect.DeepEqual(gf, wf) {
					t.Errorf("ttl %d %s: connection %d's facts differ at %v", ttl, v.name, i, d)
				}
				if i%2 == 1 {
					spare = got // the next row made in this one's memory
				}
			}
			if want := 1; v.name != "h2 port" && len(a.loneRows) != want {
				t.Errorf("ttl %d %s: %d templates, want %d", ttl, v.name, len(a.loneRows), want)
			}
		}
	}
}

// differences are the paths at which a and b differ (nil and empty told
// apart: the JSON has null for one, [] for the other).
func differences(path string, a, b reflect.Value) []string {
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return []string{path + " (nil)"}
			}
			return nil
		}
		return differences(path, a.Elem(), b.Elem())
	case reflect.Struct:
		if a.Type() == reflect.TypeFor[time.Time]() {
			if !reflect.DeepEqual(a.Interface(), b.Interface()) {
				return []string{path}
			}
			return nil
		}
		var out []string
		for i := range a.NumField() {
			out = append(out, differences(path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i))...)
		}
		return out
	case reflect.Slice:
		if a.IsNil() != b.IsNil() {
			return []string{path + " (nil)"}
		}
		fallthrough
	case reflect.Array:
		if a.Len() != b.Len() {
			return []string{path + " (length)"}
		}
		var out []string
		for i := range a.Len() {
			out = append(out, differences(path+"["+strconv.Itoa(i)+"]", a.Index(i), b.Index(i))...)
		}
		return out
	case reflect.Map:
		if !reflect.DeepEqual(a.Interface(), b.Interface()) {
			return []string{path}
		}
		return nil
	}
	if !a.CanInterface() {
		if a.String() != b.String() {
			return []string{path}
		}
		return nil
	}
	if !reflect.DeepEqual(a.Interface(), b.Interface()) {
		return []string{path}
	}
	return nil
}

// TestLoneSYNMovesEveryMark: loneMarks lists every mark (SegRef) of a
// direction's facts, so that a template's copy moves each one its SYN
// set; a mark added to verdict.DirFacts fails this until it is listed.
func TestLoneSYNMovesEveryMark(t *testing.T) {
	var df verdict.DirFacts
	v := reflect.ValueOf(&df).Elem()
	marks := map[*verdict.SegRef]bool{}
	for _, m := range loneMarks(&df) {
		marks[m] = true
	}
	refType := reflect.TypeFor[verdict.SegRef]()
	n := 0
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Type() {
		case refType:
			n++
			if !marks[f.Addr().Interface().(*verdict.SegRef)] {
				t.Errorf("DirFacts.%s is not in loneMarks", v.Type().Field(i).Name)
			}
		case reflect.TypeFor[[]verdict.SegRef](), reflect.TypeFor[time.Time]():
			switch name := v.Type().Field(i).Name; name {
			case "Last", "AckAdvance", "LastSeen": // moved by name in loneRow.move
			default:
				t.Errorf("DirFacts.%s (%s) is not moved by loneRow.move", name, f.Type())
			}
		}
	}
	if n != len(marks) {
		t.Errorf("%d marks in DirFacts, %d in loneMarks", n, len(marks))
	}
}
