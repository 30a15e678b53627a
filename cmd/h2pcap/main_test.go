package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/h2pcap/h2pcap/model"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// h2pcap runs the command in-process and returns its exit code and output.
func h2pcap(t *testing.T, stdin io.Reader, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var o, e bytes.Buffer
	code = run(args, stdin, &o, &e)
	return code, o.String(), e.String()
}

func analyzeJSON(t *testing.T, stdin io.Reader, args ...string) *model.Report {
	t.Helper()
	code, out, errOut := h2pcap(t, stdin, append([]string{"analyze", "--format", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("h2pcap %v: exit %d: %s", args, code, errOut)
	}
	var r model.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("h2pcap %v: bad JSON: %v\n%s", args, err, out)
	}
	return &r
}

const multistream = "../../testdata/pcaps/public/wireshark-4.0.17/http2_follow_multistream.pcapng"
const retransPcap = "../../testdata/pcaps/public/arkime/wireshark-retrans.pcap"

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	notCapture := filepath.Join(dir, "notes.txt")
	os.WriteFile(notCapture, []byte("this is not a capture, just some text\n"), 0o644)
	empty := filepath.Join(dir, "empty.pcap")
	os.WriteFile(empty, nil, 0o644)

	for _, tc := range []struct {
		name string
		args []string
		want string // the whole stderr, or a prefix ending in "..."
	}{
		{"not a capture", []string{"analyze", notCapture}, "h2pcap: " + notCapture + ": not a pcap or pcapng file\n"},
		{"missing", []string{"analyze", filepath.Join(dir, "nope.pcap")}, "h2pcap: " + filepath.Join(dir, "nope.pcap") + ": no such file..."},
		{"empty", []string{"analyze", empty}, "h2pcap: " + empty + "..."},
		{"bad format", []string{"analyze", "--format", "xml", retransPcap}, "h2pcap: unknown format \"xml\"..."},
		{"no file", []string{"analyze"}, "..."},
		{"unknown command", []string{"frobnicate"}, "..."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := h2pcap(t, nil, tc.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if out != "" {
				t.Errorf("stdout not empty: %q", out)
			}
			last := errOut[strings.LastIndex(strings.TrimSuffix(errOut, "\n"), "\n")+1:]
			if !strings.HasPrefix(last, "h2pcap: ") || strings.Count(last, "\n") != 1 {
				t.Errorf("last stderr line should be one 'h2pcap: ...' line, got %q", errOut)
			}
			if prefix, ok := strings.CutSuffix(tc.want, "..."); ok {
				if !strings.HasPrefix(last, prefix) {
					t.Errorf("stderr = %q, want prefix %q", last, prefix)
				}
			} else if errOut != tc.want {
				t.Errorf("stderr = %q, want %q", errOut, tc.want)
			}
		})
	}
}

// A capture cut off mid-packet (a killed tcpdump) is normal: the report
// covers what was read and says so.
func TestTruncatedCapture(t *testing.T) {
	data, err := os.ReadFile(retransPcap)
	if err != nil {
		t.Fatal(err)
	}
	full := analyzeJSON(t, nil, retransPcap)
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	os.WriteFile(cut, data[:len(data)*2/3], 0o644)
	r := analyzeJSON(t, nil, cut)
	in := r.Inputs[0]
	if in.Packets == 0 || in.Packets >= full.Inputs[0].Packets {
		t.Errorf("cut capture read %d packets, full has %d", in.Packets, full.Inputs[0].Packets)
	}
	if len(in.Warnings) == 0 || !strings.Contains(strings.Join(in.Warnings, " "), "cut off") {
		t.Errorf("no cut-off warning: %q", in.Warnings)
	}
	if len(r.Connections) == 0 {
		t.Error("no connections reported from the part that was read")
	}
}

func TestStdinMatchesFile(t *testing.T) {
	f, err := os.Open(multistream)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fromStdin := analyzeJSON(t, f, "-")
	fromFile := analyzeJSON(t, nil, multistream)
	if fromStdin.Inputs[0].Path != "-" {
		t.Errorf("stdin input path = %q", fromStdin.Inputs[0].Path)
	}
	fromStdin.Inputs[0].Path = fromFile.Inputs[0].Path
	a, _ := json.Marshal(fromStdin)
	b, _ := json.Marshal(fromFile)
	if !bytes.Equal(a, b) {
		t.Error("report from standard input differs from the report from the file")
	}
}

func TestOutputFileAndFormats(t *testing.T) {
	dir := t.TempDir()
	for _, format := range []string{"table", "markdown", "json"} {
		out := filepath.Join(dir, "report."+format)
		code, stdout, errOut := h2pcap(t, nil, "analyze", multistream, "--format", format, "-o", out)
		if code != 0 || stdout != "" {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q", format, code, stdout, errOut)
		}
		data, err := os.ReadFile(out)
		if err != nil || len(data) == 0 {
			t.Fatalf("%s: report file: %v (%d bytes)", format, err, len(data))
		}
		if !strings.Contains(string(data), "104.16.") { // the Cloudflare server in the capture
			t.Errorf("%s report does not name the server:\n%s", format, data)
		}
	}
}

// Several files are one capture split by rotation: the analysis must
// equal the single file's, with frames named by input.
func TestRotatedInputs(t *testing.T) {
	dir := t.TempDir()
	parts := splitPcap(t, retransPcap, dir, 2)
	whole := analyzeJSON(t, nil, retransPcap)
	split := analyzeJSON(t, nil, parts...)
	if len(split.Inputs) != 2 {
		t.Fatalf("inputs = %d", len(split.Inputs))
	}
	if len(split.Connections) != len(whole.Connections) {
		t.Fatalf("connections: split %d, whole %d", len(split.Connections), len(whole.Connections))
	}
	n0 := split.Inputs[0].Packets
	var sawSecond bool
	for i, c := range split.Connections {
		w := whole.Connections[i]
		if !reflect.DeepEqual(c.TCP, w.TCP) {
			t.Errorf("stream %d counters differ: split %+v, whole %+v", c.Stream, c.TCP, w.TCP)
		}
		if len(c.Events) != len(w.Events) {
			t.Fatalf("stream %d: %d events split, %d whole", c.Stream, len(c.Events), len(w.Events))
		}
		for j, e := range c.Events {
			we := w.Events[j]
			frame := e.Frame
			if e.Input == 1 {
				frame += n0
				sawSecond = true
			}
			if frame != we.Frame || e.Kind != we.Kind {
				t.Errorf("stream %d event %d: input %d frame %d %s, whole frame %d %s", c.Stream, j, e.Input, e.Frame, e.Kind, we.Frame, we.Kind)
			}
		}
	}
	if !sawSecond {
		t.Error("no event names the second input")
	}
}

// capture is a pcap file read whole, to write altered copies of.
type capture struct {
	linkType layers.LinkType
	snaplen  uint32
	data     [][]byte
	ci       []gopacket.CaptureInfo
}

func readPcap(t *testing.T, path string) *capture {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	c := &capture{linkType: r.LinkType(), snaplen: r.Snaplen()}
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return c
		}
		if err != nil {
			t.Fatal(err)
		}
		c.data, c.ci = append(c.data, data), append(c.ci, ci)
	}
}

// write writes packets [from, to) to path, each cut to snaplen bytes.
func (c *capture) write(t *testing.T, path string, from, to int, snaplen uint32) {
	t.Helper()
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	w := pcapgo.NewWriter(out)
	if err := w.WriteFileHeader(snaplen, c.linkType); err != nil {
		t.Fatal(err)
	}
	for i := from; i < to; i++ {
		data, ci := c.data[i], c.ci[i]
		if len(data) > int(snaplen) {
			data = data[:snaplen]
		}
		ci.CaptureLength = len(data)
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
}

// splitPcap writes n pcap files holding consecutive parts of src.
func splitPcap(t *testing.T, src, dir string, n int) []string {
	t.Helper()
	c := readPcap(t, src)
	var paths []string
	per := (len(c.data) + n - 1) / n
	for i := 0; i < n; i++ {
		p := filepath.Join(dir, fmt.Sprintf("part%d.pcap", i))
		c.write(t, p, i*per, min((i+1)*per, len(c.data)), c.snaplen)
		paths = append(paths, p)
	}
	return paths
}

// A small snaplen (tcpdump -s 96) keeps the headers: the TCP analysis
// must not change, and the report counts the payload bytes not captured.
func TestSnaplenCut(t *testing.T) {
	const src = "../../testdata/pcaps/blackhole-s2c-tls/client.pcap"
	c := readPcap(t, src)
	cut := filepath.Join(t.TempDir(), "s96.pcap")
	c.write(t, cut, 0, len(c.data), 96)

	full := analyzeJSON(t, nil, src)
	short := analyzeJSON(t, nil, cut)
	if short.Inputs[0].TruncatedPackets == 0 {
		t.Error("no packet counted as cut by the snaplen")
	}
	var missing int
	for i, c := range short.Connections {
		fc := full.Connections[i]
		for _, d := range []model.Direction{model.ClientToServer, model.ServerToClient} {
			got, want := *c.TCP.Dir(d), *fc.TCP.Dir(d)
			missing += got.MissingBytes
			if want.MissingBytes != 0 {
				t.Errorf("stream %d %s: full capture misses %d bytes", c.Stream, d, want.MissingBytes)
			}
			got.MissingBytes = 0
			if !reflect.DeepEqual(got, want) {
				t.Errorf("stream %d %s: snaplen 96 gives %+v, full capture %+v", c.Stream, d, got, want)
			}
		}
	}
	if missing == 0 {
		t.Error("report says no payload bytes were missed")
	}
}

// The demo must show what the tool is for: the lost health-check PING.
func TestDemo(t *testing.T) {
	code, out, errOut := h2pcap(t, nil, "demo", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r model.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	var lost int
	for _, c := range r.Connections {
		if c.Verdict != nil && c.Verdict.Kind == "lost_ping" {
			lost++
		}
	}
	if lost != 1 {
		t.Errorf("demo: %d lost_ping verdicts, want 1; headline %q", lost, r.Summary.Headline)
	}
}

// tshark needs "-d tcp.port==3000,http2" for this h2c capture; h2pcap
// finds HTTP/2 by itself, and --h2-port must not change what it finds.
func TestH2Port(t *testing.T) {
	const src = "../../testdata/pcaps/public/wireshark-4.0.17/packet-h2-14_headers.pcapng"
	auto := analyzeJSON(t, nil, src)
	forced := analyzeJSON(t, nil, src, "--h2-port", "3000")
	if len(auto.Connections) == 0 || auto.Connections[0].HTTP2 == nil {
		t.Fatal("no HTTP/2 found without --h2-port")
	}
	// tshark counts 19 frames in it (testdata/pcaps/public/SUMMARY-wireshark.txt).
	var n int
	for _, counts := range auto.Connections[0].HTTP2.Frames {
		for _, c := range counts {
			n += c
		}
	}
	if n != 19 {
		t.Errorf("%d HTTP/2 frames, tshark has 19", n)
	}
	a, _ := json.Marshal(auto.Connections[0].HTTP2.Frames)
	f, _ := json.Marshal(forced.Connections[0].HTTP2.Frames)
	if !bytes.Equal(a, f) {
		t.Errorf("frames without --h2-port %s, with %s", a, f)
	}
	if code, _, errOut := h2pcap(t, nil, "analyze", "--h2-port", "http", src); code != exitUsage || !strings.Contains(errOut, "bad port") {
		t.Errorf("--h2-port http: exit %d, %q", code, errOut)
	}
}
