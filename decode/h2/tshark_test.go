package h2

import (
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/http2"

	"github.com/h2pcap/h2pcap/internal/oracle"
)

const capturesDir = "../../testdata/pcaps"

// publicH2 are cleartext HTTP/2 captures, with the tshark options
// testdata/pcaps/public/README.md lists for them.
//
// ignore names directions ("tcp.stream/srcport") where tshark is the one
// that is wrong, and why; they are left out on both sides.
var publicH2 = []struct {
	file   string
	opts   []string
	ignore map[string]string
}{
	{"public/nDPI/http2.pcapng", []string{"-d", "tcp.port==29518,http2"}, nil},
	{"public/arkime/http2-nghttp2.pcap", nil, map[string]string{
		"0/49570": "tshark shows the client's 16384-byte HEADERS in its first segment (frame 4, \"Unreassembled fragment\") and decodes nothing of the client after it; h2 finds the HEADERS completed in frame 22, then CONTINUATION, SETTINGS ACK, WINDOW_UPDATEs and GOAWAY",
	}},
	{"public/suricata-verify/http2-keywords.pcap", []string{"-d", "tcp.port==3000,http2"}, nil},
	{"public/suricata-verify/http2-continuation.pcap", nil, nil},
	{"public/suricata-verify/http2-compression-bug.pcap", []string{"-d", "tcp.port==443,http2"}, nil},
	{"public/suricata-verify/http2-errorcode.pcap", []string{"-d", "tcp.port==6233,http2", "-d", "tcp.port==8888,http2"}, map[string]string{
		"0/63577": "HTTP/1.1 CONNECT through a proxy on 8888, then HTTP/2 in the tunnel: tshark decodes none of it, h2 finds the frames after the 200 response",
		"0/8888":  "the proxy's side of the same tunnel",
	}},
	{"public/suricata-verify/http2-long-frame.pcap", []string{"-d", "tcp.port==8443,http2"}, nil},
	{"public/suricata-verify/dns-over-http2-post__dns_over_https_POST.pcap", nil, nil},
	{"public/suricata-verify/dns-over-http2__dns_over_https.pcap", nil, nil},
	{"public/suricata-verify/http2-bugfixes.pcap", []string{"-d", "tcp.port==443,http2"}, nil},
	{"public/suricata-verify/http2-range__http2-range.pcap", nil, nil},
	{"public/wireshark-4.0.17/packet-h2-14_headers.pcapng", []string{"-d", "tcp.port==3000,http2"}, nil},
	{"public/wireshark-4.0.17/grpc_person_search_protobuf_with_image.pcapng.gz", []string{"-d", "tcp.port==50051,http2"}, nil},
	{"public/wireshark-4.0.17/grpc_stream_reassembly_sample.pcapng.gz", []string{"-d", "tcp.port==50051,http2", "-d", "tcp.port==44363,http2"}, nil},
	{"public/wireshark-4.0.17/grpc_person_search_protobuf_with_image-missing_headers.pcapng.gz", []string{"-d", "tcp.port==50051,http2"}, nil},
	{"public/derived/dns_over_https-midconn-frames11-25.pcap", []string{"-d", "tcp.port==80,http2"}, nil},
	// Lab captures (h2c; see their truth.json): loss, black holes, resets,
	// a capture begun mid-connection, PING floods.
	{"blackhole-c2s-h2c/client.pcap", h2c8080, nil},
	{"blackhole-c2s-h2c/server.pcap", h2c8080, nil},
	{"blackhole-s2c-h2c/client.pcap", h2c8080, nil},
	{"blackhole-s2c-h2c/server.pcap", h2c8080, nil},
	{"midconn/client.pcap", h2c8080, nil},
	{"midconn/server.pcap", h2c8080, nil},
	{"middlebox-reset/client.pcap", h2c8080, nil},
	{"middlebox-reset/server.pcap", h2c8080, nil},
	{"random-loss-both/client.pcap", h2c8080, nil},
	{"random-loss-both/server.pcap", h2c8080, nil},
	{"too-many-pings/client.pcap", h2c8080, nil},
	{"too-many-pings/server.pcap", h2c8080, nil},
}

var h2c8080 = []string{"-d", "tcp.port==8080,http2"}

// tsharkRows returns tshark's captureFields of every frame of a capture
// under capturesDir, with the capture's options.
func tsharkRows(t testing.TB, file string, opts []string) []oracle.Row {
	t.Helper()
	o := oracle.Options{Prefs: append([]string{"-o", "tcp.reassemble_out_of_order:TRUE"}, opts...)}
	return oracle.Fields(t, filepath.Join(capturesDir, file), o, captureFields...).Rows
}

// direction is one direction's payload as tshark saw it.
type direction struct {
	key  string // "stream/srcport"
	segs []segment
}

type segment struct {
	frame int
	seq   int64
	data  []byte
}

// captureFields are the fields tcpDirections and TestTshark use.
var captureFields = []string{"frame.number", "tcp.stream", "tcp.srcport", "tcp.seq", "tcp.payload", "http2.type",
	"http2.headers.method", "http2.headers.path", "http2.headers.authority", "http2.headers.status", "http2.headers.content_type"}

// headerColumns are the header fields in captureFields, from column 6.
var headerColumns = []string{":method", ":path", ":authority", ":status", "content-type"}

// tcpDirections extracts every direction's TCP payload from tshark's rows
// of captureFields.
func tcpDirections(t testing.TB, rows []oracle.Row) []*direction {
	byKey := map[string]*direction{}
	var dirs []*direction
	for _, r := range rows {
		if r.Get("tcp.stream") == "" || r.Get("tcp.payload") == "" {
			continue
		}
		frame, _ := strconv.Atoi(r.Get("frame.number"))
		seq, _ := strconv.ParseInt(r.Get("tcp.seq"), 10, 64)
		data, err := hex.DecodeString(strings.ReplaceAll(r.Get("tcp.payload"), ":", ""))
		if err != nil {
			t.Fatalf("frame %d payload: %v", frame, err)
		}
		key := r.Get("tcp.stream") + "/" + r.Get("tcp.srcport")
		d := byKey[key]
		if d == nil {
			d = &direction{key: key}
			byKey[key] = d
			dirs = append(dirs, d)
		}
		d.segs = append(d.segs, segment{frame, seq, data})
	}
	return dirs
}

// decodeDirection feeds a direction to a Stream as a tracker that
// reassembles out-of-order segments the way Wireshark does: segments in
// capture order, retransmitted bytes once, and bytes that were waiting for a
// missing segment delivered with the segment that filled the hole (where
// tshark shows the frames they complete). Holes never filled are gaps.
func decodeDirection(d *direction, emit func(*Frame)) *Stream {
	s := NewStream(Options{})
	next := d.segs[0].seq
	var waiting []segment // out of order, sorted by seq
	deliver := func(sg segment, meta Meta) {
		data := sg.data
		if sg.seq+int64(len(data)) <= next {
			return
		}
		if sg.seq < next {
			data = data[next-sg.seq:]
		}
		s.Data(data, meta, emit)
		next = sg.seq + int64(len(sg.data))
	}
	drain := func(meta Meta) {
		for len(waiting) > 0 && waiting[0].seq <= next {
			deliver(waiting[0], meta)
			waiting = waiting[1:]
		}
	}
	for _, sg := range d.segs {
		if sg.seq > next {
			waiting = append(waiting, sg)
			sort.SliceStable(waiting, func(i, j int) bool { return waiting[i].seq < waiting[j].seq })
			continue
		}
		meta := Meta{Frame: sg.frame}
		deliver(sg, meta)
		drain(meta)
	}
	for len(waiting) > 0 {
		s.Gap(int(waiting[0].seq-next), emit)
		next = waiting[0].seq
		drain(Meta{Frame: waiting[0].frame})
	}
	s.End(emit)
	return s
}

// TestTshark compares the frames found in real captures with tshark's:
// per capture frame, the types of the HTTP/2 frames it completes.
func TestTshark(t *testing.T) {
	oracle.Tshark(t)
	for _, c := range publicH2 {
		t.Run(strings.ReplaceAll(strings.TrimPrefix(c.file, "public/"), "/", "_"), func(t *testing.T) {
			want := map[int][]string{}
			wantCount := map[string]int{}
			rows := tsharkRows(t, c.file, c.opts)
			for _, r := range rows {
				types := r.Values("http2.type")
				if types == nil {
					continue
				}
				if _, ok := c.ignore[r.Get("tcp.stream")+"/"+r.Get("tcp.srcport")]; ok {
					continue
				}
				frame, _ := strconv.Atoi(r.Get("frame.number"))
				for _, ty := range types {
					want[frame] = append(want[frame], ty)
					wantCount[typeName(ty)]++
				}
			}
			// Header fields: per capture frame, name=value, sorted.
			wantHdr, gotHdr := map[int][]string{}, map[int][]string{}
			for _, r := range rows {
				frame, _ := strconv.Atoi(r.Get("frame.number"))
				if _, ok := c.ignore[r.Get("tcp.stream")+"/"+r.Get("tcp.srcport")]; ok {
					continue
				}
				for i, name := range headerColumns {
					for _, v := range r.Values(captureFields[6+i]) {
						wantHdr[frame] = append(wantHdr[frame], name+"="+v)
					}
				}
			}
			got := map[int][]string{}
			gotCount := map[string]int{}
			var skipped int64
			for _, d := range tcpDirections(t, rows) {
				if why, ok := c.ignore[d.key]; ok {
					t.Logf("direction %s left out: %s", d.key, why)
					continue
				}
				// tshark shows a header block's fields in the frame of its
				// HEADERS; a Stream gives them with the frame that ends the
				// block (END_HEADERS), once all are known.
				blockFrame := 0
				s := decodeDirection(d, func(f *Frame) {
					if (f.Type == http2.FrameHeaders || f.Type == http2.FramePushPromise) && !f.Flags.Has(http2.FlagHeadersEndHeaders) {
						blockFrame = f.Meta.Frame
					}
					if f.Truncated {
						// End emits a frame the capture ends inside; tshark
						// shows none.
						return
					}
					hdrFrame := f.Meta.Frame
					if f.Type == http2.FrameContinuation && blockFrame != 0 {
						hdrFrame = blockFrame
					}
					ty := strconv.Itoa(int(f.Type))
					got[f.Meta.Frame] = append(got[f.Meta.Frame], ty)
					gotCount[typeName(ty)]++
					for _, hf := range f.Fields {
						if slices.Contains(headerColumns, hf.Name) {
							gotHdr[hdrFrame] = append(gotHdr[hdrFrame], hf.Name+"="+hf.Value)
						}
					}
				})
				skipped += s.Skipped()
				t.Logf("direction %s: %+v preface=%v upgrade=%v", d.key, s.Stats(), s.Preface(), s.Upgrade())
			}
			t.Logf("tshark %v", wantCount)
			t.Logf("h2     %v", gotCount)
			if fmt.Sprint(wantCount) != fmt.Sprint(gotCount) {
				t.Errorf("frame counts by type differ")
			}
			var frames []int
			for f := range want {
				frames = append(frames, f)
			}
			for f := range got {
				if _, ok := want[f]; !ok {
					frames = append(frames, f)
				}
			}
			sort.Ints(frames)
			hdrFrames := 0
			for f := range wantHdr {
				hdrFrames++
				sort.Strings(wantHdr[f])
				sort.Strings(gotHdr[f])
				if fmt.Sprint(wantHdr[f]) != fmt.Sprint(gotHdr[f]) {
					t.Errorf("capture frame %d header fields: tshark %q, h2 %q", f, wantHdr[f], gotHdr[f])
				}
			}
			for f := range gotHdr {
				if _, ok := wantHdr[f]; !ok {
					t.Errorf("capture frame %d header fields: tshark none, h2 %q", f, gotHdr[f])
				}
			}
			t.Logf("header fields agree in %d capture frames", hdrFrames)
			bad := 0
			for _, f := range frames {
				if fmt.Sprint(want[f]) != fmt.Sprint(got[f]) {
					if bad++; bad <= 10 {
						t.Errorf("capture frame %d: tshark %v, h2 %v", f, want[f], got[f])
					}
				}
			}
		})
	}
}

func typeName(ty string) string {
	n, err := strconv.Atoi(ty)
	if err != nil {
		return ty
	}
	return http2.FrameType(n).String()
}
