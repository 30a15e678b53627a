package decode

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
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

// tshark returns the path of tshark, skipping the test where it is
// missing, except in CI, where the oracle must be there.
func tshark(t *testing.T) string {
	path, err := exec.LookPath("tshark")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("tshark not found (CI=true): run make deps")
		}
		t.Skip("tshark not found")
	}
	return path
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

// TestPublicCapturesAgainstTshark compares frame numbering and the set of
// TCP frames with tshark's, frame by frame.
//
// tshark's "tcp" filter also matches TCP headers quoted inside ICMP
// errors, which are not segments of the connection; the comparison leaves
// those out. It also matches TCP headers it flags as malformed ("Short
// segment", a header length beyond the segment): we report those as
// malformed rather than as segments, so they are compared separately.
func TestPublicCapturesAgainstTshark(t *testing.T) {
	bin := tshark(t)
	for _, path := range publicCaptures(t) {
		t.Run(strings.TrimPrefix(path, publicDir+"/"), func(t *testing.T) {
			t.Parallel()
			out, err := exec.Command(bin, "-n", "-o", "tcp.reassemble_out_of_order:TRUE", "-r", path,
				"-T", "fields", "-e", "frame.number", "-e", "frame.protocols").Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			var frames int
			var tcp []int
			for line := range strings.Lines(string(bytes.TrimSpace(out))) {
				num, protos, _ := strings.Cut(strings.TrimSpace(line), "\t")
				n, err := strconv.Atoi(num)
				if err != nil {
					t.Fatalf("tshark line %q", line)
				}
				frames++
				ps := strings.Split(protos, ":")
				if slices.Contains(ps, "tcp") && !slices.Contains(ps, "icmp") && !slices.Contains(ps, "icmpv6") {
					tcp = append(tcp, n)
				}
			}
			r := readAll(t, path)
			if r.frames != frames {
				t.Errorf("%d frames, tshark %d", r.frames, frames)
			}
			got := slices.Sorted(slices.Values(append(slices.Clone(r.tcp), r.shortTCP...)))
			if !slices.Equal(got, tcp) {
				t.Errorf("TCP frames differ from tshark's\n ours   %v\n tshark %v\n malformed %v", got, tcp, r.malformed)
			}
			for f, msg := range r.malformed {
				if !slices.Contains(r.shortTCP, f) {
					t.Errorf("frame %d: %s", f, msg)
				}
			}
			if len(r.shortTCP) > 0 {
				t.Logf("malformed TCP headers (tshark shows them as tcp, flagged malformed): %v", r.malformed)
			}
		})
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
