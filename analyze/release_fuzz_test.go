package analyze

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/h2pcap/h2pcap/decode/tls"

	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
)

// sameWithDecodersKept runs feed on two Analyzers made with opts, one
// releasing the decoders at a clean close (as always), one keeping them
// until the Report (Analyzer.keepDecoders), and fails unless their notices
// and Reports are the same: ending the decoding at a clean close must
// change nothing but memory.
func sameWithDecodersKept(t *testing.T, opts Options, feed func(a *Analyzer)) {
	t.Helper()
	var out [2]struct {
		notices []model.Notice
		report  []byte
	}
	for i := range out {
		o := opts
		if opts.OnNotice != nil {
			o.OnNotice = func(n *model.Notice) { out[i].notices = append(out[i].notices, *n) }
		}
		a := New(o)
		a.keepDecoders = i == 1
		feed(a)
		b, err := json.Marshal(a.Report(nil))
		if err != nil {
			t.Fatal(err)
		}
		out[i].report = b
		a.Close()
	}
	if !reflect.DeepEqual(out[0].notices, out[1].notices) {
		t.Errorf("notices differ when the decoders are released at a clean close:\n%+v\nkept:\n%+v", out[0].notices, out[1].notices)
	}
	if string(out[0].report) != string(out[1].report) {
		t.Errorf("the report differs when the decoders are released at a clean close:\n%s\nkept:\n%s", out[0].report, out[1].report)
	}
}

// FuzzRelease: any segmentation of an h2c connection with FINs, RSTs and
// segments sent again after them gives the same notices and report
// whether its decoders are released at its clean close or kept until the
// Report. Payload stays below each side's FIN: bytes past a FIN are no
// TCP (a side's bytes end at its FIN), and after a release they are not
// decoded, where before they were.
func FuzzRelease(f *testing.F) {
	// Each 4 bytes a segment: flags (bit 0 the server's, 1 a snaplen
	// cut, 2 in the first a handshake before, 3 an ACK of all the peer
	// sent, 4-5 payload, FIN, RST or a bare ACK), the payload's offset in
	// the side's stream, its length less one (255: to the end).
	// Both sides' bytes, FINs, the last ACK, a FIN and data sent again:
	f.Add([]byte{0x04, 0, 0, 255, 0x01, 0, 0, 255, 0x10, 0, 0, 0, 0x19, 0, 0, 0, 0x38, 0, 0, 0, 0x19, 0, 0, 0, 0x01, 0, 5, 40})
	// With notices; the client's bytes after its first 100 come only
	// after both FINs:
	f.Add([]byte{0x44, 0, 0, 99, 0x01, 0, 0, 255, 0x10, 0, 0, 0, 0x19, 0, 0, 0, 0x00, 0, 100, 255, 0x38, 0, 0, 0})
	// An RST after the client's FIN, then the client's data again:
	f.Add([]byte{0x84, 0, 0, 255, 0x01, 0, 0, 255, 0x10, 0, 0, 0, 0x21, 0, 0, 0, 0x00, 0, 5, 20})
	streams := h2FuzzStreams()
	f.Fuzz(func(t *testing.T, data []byte) {
		var opts Options
		if len(data) > 0 && data[0]&0x80 != 0 {
			opts.H2Ports = []uint16{443}
		}
		if len(data) > 0 && data[0]&0x40 != 0 {
			opts.OnNotice = func(*model.Notice) {}
		}
		sameWithDecodersKept(t, opts, func(a *Analyzer) {
			isn := [2]uint32{0xFFFFFF00, 77}
			frame := 0
			s := &decode.Segment{TTL: 64, Window: 1000, Options: decode.TCPOptions{WindowScale: -1}}
			send := func(from int, flags decode.TCPFlags, seq, ack uint32, payload []byte, wire int) {
				frame++
				s.Frame, s.Time, s.Flags = frame, t0.Add(timeMS(frame)), flags
				s.Src, s.Dst = cliEP, srvEP
				if from == fromS {
					s.Src, s.Dst = srvEP, cliEP
				}
				s.Seq, s.Ack, s.Payload, s.PayloadLen = seq, ack, payload, wire
				a.Segment(s)
			}
			in := data
			if len(in) > 0 && in[0]&0x04 != 0 {
				send(fromC, decode.FlagSYN, isn[0]-1, 0, nil, 0)
				send(fromS, decode.FlagSYN|decode.FlagACK, isn[1]-1, isn[0], nil, 0)
			}
			for ; len(in) >= 4; in = in[4:] {
				from := int(in[0] & 1)
				st := streams[from]
				fin := isn[from] + uint32(len(st)) // the side's FIN takes this number
				ack := isn[1-from] + uint32(len(streams[1-from])/2)
				if in[0]&8 != 0 {
					ack = isn[1-from] + uint32(len(streams[1-from])) + 1 // all, and the peer's FIN
				}
				switch in[0] >> 4 & 3 {
				case 1: // the side's FIN (again, if sent before)
					send(from, decode.FlagFIN|decode.FlagACK, fin, ack, nil, 0)
					continue
				case 2: // an RST
					send(from, decode.FlagRST|decode.FlagACK, fin, ack, nil, 0)
					continue
				case 3: // a bare ACK
					send(from, decode.FlagACK, fin, ack, nil, 0)
					continue
				}
				off := (int(in[1])<<8 | int(in[2])) % len(st)
				n := len(st) - off
				if in[3] != 255 {
					n = min(int(in[3])+1, n)
				}
				p := st[off : off+n]
				wire := n
				if in[0]&2 != 0 {
					p = p[:n/2] // a snaplen cut
				}
				send(from, decode.FlagACK|decode.FlagPSH, isn[from]+uint32(off), ack, p, wire)
			}
		})
	})
}

// Every capture under testdata/pcaps gives the same report, and the
// same notices, whether its connections' decoders are released at their
// clean close or kept until the Report.
func TestReleaseSameReport(t *testing.T) {
	for _, rel := range captureFiles(t) {
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(pcapRoot(), rel)
			var keys *tls.KeyLog
			if k := filepath.Join(filepath.Dir(path), "keylog.txt"); fileExists(k) {
				var err error
				if keys, err = tls.ReadKeyLogFile(k); err != nil {
					t.Fatal(err)
				}
			}
			for _, notices := range []bool{false, true} {
				opts := Options{Keys: keys}
				if notices {
					opts.OnNotice = func(*model.Notice) {}
				}
				sameWithDecodersKept(t, opts, func(a *Analyzer) {
					src, err := decode.Open(path, 0)
					if err != nil {
						t.Fatal(err)
					}
					defer src.Close()
					if _, err := a.ReadSource(src); err != nil {
						t.Fatal(err)
					}
				})
			}
		})
	}
}
