package analyze

import (
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/http2"

	"github.com/h2pcap/h2pcap/analyze/app"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/internal/oracle"
	"github.com/h2pcap/h2pcap/model"
)

// analyzeCapture runs a capture under testdata/pcaps through an Analyzer.
func analyzeCapture(t testing.TB, rel string, opts Options) *model.Report {
	t.Helper()
	rep, _ := runCapture(t, rel, opts)
	return rep
}

// runCapture is analyzeCapture, also returning the Analyzer.
func runCapture(t testing.TB, rel string, opts Options) (*model.Report, *Analyzer) {
	t.Helper()
	return runPath(t, filepath.Join(pcapRoot(), rel), opts)
}

// runPath analyzes the capture at path as cmd/h2pcap does.
func runPath(t testing.TB, path string, opts Options) (*model.Report, *Analyzer) {
	t.Helper()
	src, err := decode.Open(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	a := New(opts)
	info, err := a.ReadSource(src)
	if err != nil {
		t.Fatal(err)
	}
	return a.Report([]*decode.InputInfo{info}), a
}

// h2Capture is a cleartext HTTP/2 capture with the decode-as options
// tshark needs for it (testdata/pcaps/public/README.md; the lab's h2c
// captures serve on 8080).
type h2Capture struct {
	file string
	opts []string
}

var h2Captures = []h2Capture{
	{"public/nDPI/http2.pcapng", []string{"-d", "tcp.port==29518,http2"}},
	{"public/arkime/http2-nghttp2.pcap", nil},
	{"public/suricata-verify/http2-keywords.pcap", []string{"-d", "tcp.port==3000,http2"}},
	{"public/suricata-verify/http2-continuation.pcap", nil},
	{"public/suricata-verify/http2-compression-bug.pcap", []string{"-d", "tcp.port==443,http2"}},
	{"public/suricata-verify/http2-errorcode.pcap", []string{"-d", "tcp.port==6233,http2", "-d", "tcp.port==8888,http2"}},
	{"public/suricata-verify/http2-long-frame.pcap", []string{"-d", "tcp.port==8443,http2"}},
	{"public/suricata-verify/dns-over-http2-post__dns_over_https_POST.pcap", nil},
	{"public/suricata-verify/dns-over-http2__dns_over_https.pcap", nil},
	{"public/suricata-verify/http2-bugfixes.pcap", []string{"-d", "tcp.port==443,http2"}},
	{"public/suricata-verify/http2-range__http2-range.pcap", nil},
	{"public/wireshark-4.0.17/packet-h2-14_headers.pcapng", []string{"-d", "tcp.port==3000,http2"}},
	{"public/wireshark-4.0.17/grpc_person_search_protobuf_with_image.pcapng.gz", []string{"-d", "tcp.port==50051,http2"}},
	{"public/wireshark-4.0.17/grpc_person_search_json_with_image.pcapng.gz", []string{"-d", "tcp.port==50052,http2"}},
	{"public/wireshark-4.0.17/grpc_stream_reassembly_sample.pcapng.gz", []string{"-d", "tcp.port==50051,http2", "-d", "tcp.port==44363,http2"}},
	{"public/wireshark-4.0.17/grpc_person_search_protobuf_with_image-missing_headers.pcapng.gz", []string{"-d", "tcp.port==50051,http2"}},
	{"public/derived/dns_over_https-midconn-frames11-25.pcap", []string{"-d", "tcp.port==80,http2"}},
	{"public/suricata-verify/app-layer-protocol-exact.pcap", nil},
	{"public/suricata-verify/bug-5929-02__http2_multiple_headers.pcap", nil},
	{"public/suricata-verify/dns-over-http2-limit.pcap", nil},
	{"public/suricata-verify/http2-authority-mismatch__authority_and_host_2.pcap", nil},
	{"public/suricata-verify/http2-deflate-case.pcap", nil},
	{"public/suricata-verify/http2-deflate__http2_deflate.pcap", nil},
	{"public/suricata-verify/http2-keywords2.pcap", nil},
	{"public/suricata-verify/http2-userinfo-authority__http2_userinfo_in_authority_1.pcap", nil},
	{"public/suricata-verify/transform-base64-7296.pcap", nil},
	// gRPC-Web over HTTP/1.1 to a proxy on 57226, which speaks h2c (prior
	// knowledge) to the gRPC server on 57228.
	{"public/wireshark-4.0.17/grpc_web.pcapng.gz", []string{"-d", "tcp.port==57228,http2"}},
}

// h2FrameException is a direction ("tcp.stream/srcport") of a capture
// where h2pcap's HTTP/2 frame counts are right to differ from tshark's. The
// direction is left out on both sides, and the test fails if it stops
// differing (a stale exception).
type h2FrameException struct {
	file, dir, why string
}

// whyServerFirst: tshark's heuristic marks a conversation HTTP/2 at the
// client preface, so a server SETTINGS sent before it is never decoded.
const whyServerFirst = "the server's first segment (frame 4: SETTINGS, WINDOW_UPDATE) comes before the client preface (frame 5); tshark's heuristic marks the conversation HTTP/2 only at the preface and never decodes frame 4; h2pcap decodes the server's direction from its first byte"

var h2FrameExceptions = []h2FrameException{
	{"public/suricata-verify/bug-5929-02__http2_multiple_headers.pcap", "0/80", whyServerFirst},
	{"public/suricata-verify/http2-userinfo-authority__http2_userinfo_in_authority_1.pcap", "0/80", whyServerFirst},
	{"public/suricata-verify/http2-authority-mismatch__authority_and_host_2.pcap", "0/80", whyServerFirst},
	{"public/arkime/http2-nghttp2.pcap", "0/49570", "tshark shows the client's 16384-byte HEADERS in its first segment (frame 4, \"Unreassembled fragment\") and decodes nothing of the client after it; h2pcap finds the HEADERS completed in frame 22, then CONTINUATION, SETTINGS (ACK), WINDOW_UPDATEs and GOAWAY"},
	{"public/suricata-verify/http2-errorcode.pcap", "0/63577", "HTTP/1.1 CONNECT through a proxy on 8888, then HTTP/2 in the tunnel: tshark (even with -d tcp.port==8888,http2) decodes none of it; h2pcap finds the client preface at a segment start after the HTTP/1 exchange"},
	{"public/suricata-verify/http2-errorcode.pcap", "0/8888", "the proxy's side of the same tunnel: h2pcap decodes the server's frames after the 200 response, by frame sync"},
	{"public/suricata-verify/transform-base64-7296.pcap", "3/57228", "fuzzed capture: the server's 101 is garbled (\"HTTP/1.1\\020101 Switching Protocols\", frame 31), so tshark never switches to HTTP/2; h2pcap finds the client preface at a segment start (frame 33) and decodes both directions"},
	{"public/suricata-verify/transform-base64-7296.pcap", "3/8080", "the server's side of the same connection (frames 39-47), found by frame sync"},
	{"public/suricata-verify/transform-base64-7296.pcap", "4/63884", "fuzzed capture: a lone 27-byte segment (frame 34) on a 4-tuple seen nowhere else, exactly one SETTINGS frame; h2pcap's frame sync takes a segment that is exactly one plausible frame, tshark has no reason to call it HTTP/2"},
}

// labH2Captures lists the lab's captures whose truth.json says h2c; tshark
// decodes them with the server port as HTTP/2.
func labH2Captures(t *testing.T) []h2Capture {
	dirs, err := filepath.Glob(filepath.Join(pcapRoot(), "*", "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []h2Capture
	for _, tj := range dirs {
		truth := readTruth(t, tj)
		if truth.Transport != "h2c" {
			continue
		}
		ap, err := netip.ParseAddrPort(truth.Server)
		if err != nil {
			t.Fatalf("%s: server %q: %v", tj, truth.Server, err)
		}
		pcaps, _ := filepath.Glob(filepath.Join(filepath.Dir(tj), "*.pcap"))
		ngs, _ := filepath.Glob(filepath.Join(filepath.Dir(tj), "*.pcapng.gz"))
		for _, p := range append(pcaps, ngs...) {
			if snaplenCut(t, p) {
				// capture-drops keeps its files small with -s 128:
				// tshark decodes no HTTP/2 from cut payload.
				continue
			}
			rel, _ := filepath.Rel(pcapRoot(), p)
			out = append(out, h2Capture{filepath.ToSlash(rel), []string{"-d", fmt.Sprintf("tcp.port==%d,http2", ap.Port())}})
		}
	}
	if len(out) == 0 {
		t.Fatalf("no h2c lab captures under %s", pcapRoot())
	}
	return out
}

// TestH2FramesTshark: the HTTP/2 frame counts by type, per connection and
// direction, equal tshark's on every cleartext HTTP/2 capture, decoded here
// without any port option.
func TestH2FramesTshark(t *testing.T) {
	oracle.Tshark(t)
	captures := append(slices.Clone(h2Captures), labH2Captures(t)...)
	for _, e := range h2FrameExceptions {
		if !slices.ContainsFunc(captures, func(c h2Capture) bool { return c.file == e.file }) {
			t.Errorf("exception for %s %s names a capture not compared", e.file, e.dir)
		}
	}
	for _, c := range captures {
		t.Run(c.file, func(t *testing.T) {
			t.Parallel()
			want, wantRecs := tsharkH2Counts(t, c.file, tsharkOptions(c.opts...))
			got, gotRecs := h2Seen(analyzeCapture(t, c.file, Options{}))
			keys := map[string]bool{}
			for k := range want {
				keys[k] = true
			}
			for k := range got {
				keys[k] = true
			}
			total, records := 0, 0
			for _, k := range slices.Sorted(maps.Keys(keys)) {
				differ := fmt.Sprint(want[k]) != fmt.Sprint(got[k])
				i := slices.IndexFunc(h2FrameExceptions, func(e h2FrameException) bool { return e.file == c.file && e.dir == k })
				switch {
				case i >= 0 && !differ:
					t.Errorf("direction %s: exception, but the counts agree (%v): remove it", k, want[k])
				case i >= 0:
					t.Logf("direction %s left out: tshark %v, h2pcap %v: %s", k, want[k], got[k], h2FrameExceptions[i].why)
				case differ:
					t.Errorf("direction %s: tshark %v, h2pcap %v", k, want[k], got[k])
				default:
					for _, n := range want[k] {
						total += n
					}
				}
				// PINGs, their ACKs, GOAWAYs and RST_STREAMs: frame and
				// content.
				slices.Sort(wantRecs[k])
				slices.Sort(gotRecs[k])
				if i < 0 && fmt.Sprint(wantRecs[k]) != fmt.Sprint(gotRecs[k]) {
					t.Errorf("direction %s: tshark %q, h2pcap %q", k, wantRecs[k], gotRecs[k])
				}
				records += len(gotRecs[k])
			}
			t.Logf("%d HTTP/2 frames agree in %d directions; %d PINGs, ACKs, GOAWAYs and RST_STREAMs agree", total, len(keys), records)
		})
	}
}

// h2Seen is what the report says of HTTP/2, keyed per direction as
// tsharkH2Counts keys tshark's ("tcp.stream/srcport"): frame counts by
// type, and the PINGs, PING ACKs, GOAWAYs and RST_STREAMs as
// "TYPE@frame content".
func h2Seen(rep *model.Report) (counts map[string]map[string]int, recs map[string][]string) {
	counts, recs = map[string]map[string]int{}, map[string][]string{}
	for _, conn := range rep.Connections {
		h := conn.HTTP2
		if h == nil {
			continue
		}
		key := func(from string) string {
			ep := conn.Client
			if from == "server" {
				ep = conn.Server
			}
			return fmt.Sprintf("%d/%d", conn.Stream, netip.MustParseAddrPort(ep).Port())
		}
		for d, n := range h.Frames {
			from := "client"
			if d == model.ServerToClient {
				from = "server"
			}
			if len(n) > 0 {
				counts[key(from)] = n
			}
		}
		other := map[string]string{"client": "server", "server": "client"}
		for _, p := range h.Pings {
			if p.Frame != 0 {
				recs[key(p.From)] = append(recs[key(p.From)], fmt.Sprintf("PING@%d %s", p.Frame, p.Data))
			}
			if p.Acked {
				k := key(other[p.From])
				recs[k] = append(recs[k], fmt.Sprintf("PING-ACK@%d %s", p.AckFrame, p.Data))
			}
		}
		for _, g := range h.Goaways {
			recs[key(g.From)] = append(recs[key(g.From)], fmt.Sprintf("GOAWAY@%d last=%d %s", g.Frame, g.LastStreamID, g.Error))
		}
		for _, r := range h.RSTStreams {
			recs[key(r.From)] = append(recs[key(r.From)], fmt.Sprintf("RST_STREAM@%d %s", r.Frame, r.Error))
		}
	}
	return counts, recs
}

// h2Fields are the fields tsharkH2Counts reads, in tsharkFields.
var h2Fields = []string{"tcp.stream", "tcp.srcport", "http2.type", "frame.number",
	"http2.ping", "http2.pong", "http2.goaway.last_stream_id", "http2.goaway.error",
	"http2.rst_stream.error", "icmp.type"}

// tsharkH2Counts runs tshark once over a capture and counts its HTTP/2
// frames by type per "tcp.stream/srcport"; it also lists per direction the
// PINGs, PING ACKs, GOAWAYs and RST_STREAMs as "TYPE@frame content".
func tsharkH2Counts(t *testing.T, file string, opts oracle.Options) (map[string]map[string]int, map[string][]string) {
	rows := oracle.Fields(t, filepath.Join(pcapRoot(), file), opts, tsharkFields...).Rows
	// A stream tshark numbers for a packet decode rejects (see
	// oracleExceptions) shifts tshark's later stream numbers by one.
	var onlyTshark []int
	for _, r := range rows {
		frame, _ := strconv.Atoi(r.Get("frame.number"))
		stream, _ := strconv.Atoi(r.Get("tcp.stream"))
		for _, e := range oracleExceptions {
			if e.file == file && e.frame == frame && e.tsharkOnlyStream && !slices.Contains(onlyTshark, stream) {
				onlyTshark = append(onlyTshark, stream)
			}
		}
	}
	want := map[string]map[string]int{}
	recs := map[string][]string{}
	for _, r := range rows {
		types := r.Values("http2.type")
		if types == nil || r.Get("icmp.type") != "" {
			// An ICMP error quotes the packet it answers, which tshark
			// dissects again: not a frame sent.
			continue
		}
		stream, err := strconv.Atoi(r.Get("tcp.stream"))
		if err != nil {
			t.Fatalf("tcp.stream %q", r.Get("tcp.stream"))
		}
		shift := 0
		for _, o := range onlyTshark {
			if o < stream {
				shift++
			}
		}
		k := fmt.Sprintf("%d/%s", stream-shift, r.Get("tcp.srcport"))
		if want[k] == nil {
			want[k] = map[string]int{}
		}
		for _, ty := range types {
			n, err := strconv.Atoi(ty)
			if err != nil {
				t.Fatalf("http2.type %q", ty)
			}
			want[k][app.FrameTypeName(http2.FrameType(n))]++
		}
		frame := r.Get("frame.number")
		for _, v := range r.Values("http2.ping") {
			recs[k] = append(recs[k], fmt.Sprintf("PING@%s %s", frame, strings.ReplaceAll(v, ":", "")))
		}
		for _, v := range r.Values("http2.pong") {
			recs[k] = append(recs[k], fmt.Sprintf("PING-ACK@%s %s", frame, strings.ReplaceAll(v, ":", "")))
		}
		last, codes := r.Values("http2.goaway.last_stream_id"), r.Values("http2.goaway.error")
		for i := range last {
			recs[k] = append(recs[k], fmt.Sprintf("GOAWAY@%s last=%s %s", frame, last[i], errCodeName(t, codes[i])))
		}
		for _, v := range r.Values("http2.rst_stream.error") {
			recs[k] = append(recs[k], fmt.Sprintf("RST_STREAM@%s %s", frame, errCodeName(t, v)))
		}
	}
	return want, recs
}

// errCodeName names an error code tshark printed as a number.
func errCodeName(t *testing.T, v string) string {
	n, err := strconv.ParseUint(strings.TrimPrefix(v, "0x"), 0, 32)
	if strings.HasPrefix(v, "0x") {
		n, err = strconv.ParseUint(v[2:], 16, 32)
	}
	if err != nil {
		t.Fatalf("error code %q: %v", v, err)
	}
	return http2.ErrCode(n).String()
}

// labTruth is the part of a lab scenario's truth.json these tests read.
type labTruth struct {
	Transport string `json:"transport"`
	Server    string `json:"server"`
}

func readTruth(t *testing.T, path string) labTruth { return readTruthAs[labTruth](t, path) }

// labTransport returns the transport of the lab scenario in dir, or ""
// when dir has no truth.json.
func labTransport(t *testing.T, dir string) string {
	if _, err := os.Stat(filepath.Join(dir, "truth.json")); err != nil {
		return ""
	}
	return readTruth(t, filepath.Join(dir, "truth.json")).Transport
}

// Every capture in which h2pcap finds HTTP/2 is one TestH2FramesTshark
// compares with tshark: none is found where no one checks it.
func TestH2CapturesCovered(t *testing.T) {
	compared := map[string]bool{}
	for _, c := range append(slices.Clone(h2Captures), labH2Captures(t)...) {
		compared[c.file] = true
	}
	for _, c := range tlsCaptures { // decrypted with their pcapng's secrets (tls_test.go)
		compared[c.file] = true
	}
	for _, rel := range captureFiles(t) {
		if compared[rel] {
			continue
		}
		if dir := filepath.Dir(filepath.Join(pcapRoot(), rel)); labTransport(t, dir) == "h2c" &&
			strings.HasSuffix(rel, ".pcap") && snaplenCut(t, filepath.Join(pcapRoot(), rel)) {
			continue // left out of TestH2FramesTshark: payload cut by the snaplen
		}
		for _, c := range analyzeCapture(t, rel, Options{}).Connections {
			if c.HTTP2 != nil && !inferredOnly(c.HTTP2) {
				t.Errorf("%s stream %d: HTTP/2 (%s, %v), and the capture is not compared with tshark", rel, c.Stream, c.HTTP2.Detected, c.HTTP2.Frames)
			}
		}
	}
}

// Where the client preface identifies the client, it is the Connection's
// client (the tracker takes roles from the SYN first).
func TestH2PrefaceFromClient(t *testing.T) {
	for _, c := range append(slices.Clone(h2Captures), labH2Captures(t)...) {
		rep, a := runCapture(t, c.file, Options{})
		for i, conn := range rep.Connections {
			if conn.HTTP2 == nil || a.all[i].connState == nil {
				continue // a lone SYN (half.go) has no HTTP/2
			}
			h := a.all[i].app.Conn()
			if h == nil {
				continue
			}
			client, _ := a.all[i].Roles()
			if h.SentPreface(1 - client) {
				t.Errorf("%s stream %d: the preface came from the server %s (roles by %s)", c.file, conn.Stream, conn.Server, conn.Roles)
			}
			if conn.HTTP2.Detected == "preface" && !h.SentPreface(client) {
				t.Errorf("%s stream %d: detected by preface, but not the client's", c.file, conn.Stream)
			}
		}
	}
}

// snaplenCut says whether a pcap file's snapshot length is below a full
// Ethernet frame: its packets' payload is cut.
func snaplenCut(t *testing.T, path string) bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var h [24]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	snap := binary.LittleEndian.Uint32(h[16:])
	if binary.BigEndian.Uint32(h[:4]) == 0xa1b2c3d4 || binary.BigEndian.Uint32(h[:4]) == 0xa1b23c4d {
		snap = binary.BigEndian.Uint32(h[16:])
	}
	return snap < 1514
}
