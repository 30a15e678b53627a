package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/h2pcap/h2pcap/analyze"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/internal/evidence"
	"github.com/h2pcap/h2pcap/model"
)

// saveRun runs a capture file through the ring and the saver as h2pcap
// live runs its capture, and returns the report, the saved files and what
// was printed.
func saveRun(t *testing.T, path, dir string, ring int) (*model.Report, []string, string) {
	t.Helper()
	src, err := decode.Open(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out bytes.Buffer
	con := &console{findings: &out, stderr: &out}
	r := &ringTee{src: fileTee{src}, ring: evidence.NewRing(ring), anyIface: -1}
	sv := &saver{ring: r.ring, dir: dir, ifaces: []string{"eth0"}, links: []layers.LinkType{layers.LinkTypeEthernet}, filter: "tcp", con: con, stderr: con}
	a := analyze.New(analyze.Options{OnNotice: func(n *model.Notice) { con.notice(n); sv.notice(n) }})
	info, err := a.ReadSource(r)
	if err != nil {
		t.Fatal(err)
	}
	rep := a.Report([]*decode.InputInfo{info})
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcapng"))
	return rep, files, out.String()
}

// TestSaveEvidence: on every lab capture, each saved evidence file holds
// one connection and analyses to the same finding: a lost PING, reset,
// silence or GOAWAY file to the verdict the whole capture gives the
// connection, a retransmission burst file (written at the burst, before
// whatever came of it) to that many retransmissions at least. For some,
// which files are written is checked too.
func TestSaveEvidence(t *testing.T) {
	kinds := map[string][]string{
		"blackhole-s2c-h2c/client.pcap": {"ping_lost"},
		// The redial whose SYNs the black hole dropped: a failed handshake.
		"blackhole-c2s-h2c/client.pcap": {"reset", "ping_lost", "connect_failed"},
		"middlebox-reset/client.pcap":   {"reset"},
		"mtu-blackhole/server.pcap":     {"retransmission_burst", "ping_lost", "silent"},
		"too-many-pings/client.pcap":    {"goaway", "goaway", "goaway"},
		"healthy-tls/client.pcap":       nil,
	}
	type test struct {
		capture string
		want    []string // kinds of the files, in name order
		check   bool
	}
	var tests []test
	all, _ := filepath.Glob("../../testdata/pcaps/*/*.pcap")
	for _, path := range all {
		rel := strings.TrimPrefix(path, "../../testdata/pcaps/")
		k, ok := kinds[rel]
		tests = append(tests, test{rel, k, ok})
	}
	for _, tt := range tests {
		t.Run(tt.capture, func(t *testing.T) {
			dir := t.TempDir()
			rep, files, out := saveRun(t, filepath.Join("../../testdata/pcaps", tt.capture), dir, 64<<20)
			var kinds []string
			for _, f := range files {
				base := strings.TrimSuffix(filepath.Base(f), ".pcapng")
				kind := base[strings.LastIndex(base, "-")+1:]
				kinds = append(kinds, kind)
				if !strings.Contains(out, "wrote "+f) {
					t.Errorf("no saved line for %s in:\n%s", f, out)
				}
				got := analyzeFile(t, f)
				if len(got.Connections) != 1 {
					t.Errorf("%s: %d connections", base, len(got.Connections))
					continue
				}
				g := got.Connections[0]
				var whole *model.Connection
				for _, c := range rep.Connections {
					if c.Client == g.Client && c.Server == g.Server {
						whole = c
					}
				}
				if whole == nil {
					t.Errorf("%s: connection %s -> %s not in the capture's report", base, g.Client, g.Server)
					continue
				}
				switch kind {
				case "retransmission_burst":
					var tcp struct {
						C2S struct {
							Retransmissions int `json:"retransmissions"`
						} `json:"client_to_server"`
						S2C struct {
							Retransmissions int `json:"retransmissions"`
						} `json:"server_to_client"`
					}
					json.Unmarshal(g.TCP, &tcp)
					if n := tcp.C2S.Retransmissions + tcp.S2C.Retransmissions; n < 5 {
						t.Errorf("%s: %d retransmissions", base, n)
					}
				case "silent":
					// Silence before the capture's end needs the rest of the
					// capture to show (the saved file ends with the
					// connection's last packet): only a silence the
					// connection shows by itself (a SYN never answered) must
					// come out the same.
					if wv := whole.Verdict; model.Kind(g.Verdict.Kind) != wv.Kind &&
						!(wv.Kind == model.KindSilent && (wv.Abandoned != nil || strings.HasPrefix(wv.Summary, "Traffic stopped"))) {
						t.Errorf("%s: verdict %s, the whole capture says %s", base, g.Verdict.Kind, wv.Kind)
					}
				default:
					// A file saved while the connection was still
					// retransmitting ends before what answered it (the
					// recovery the whole capture shows): judged alone,
					// its flow is dead so far.
					cut := model.Kind(g.Verdict.Kind) == model.KindBlackholed && g.End.Before(whole.End) &&
						(whole.Verdict.Kind == model.KindDegraded || whole.Verdict.Kind == model.KindHealthy)
					if model.Kind(g.Verdict.Kind) != whole.Verdict.Kind && !cut {
						t.Errorf("%s: verdict %s, the whole capture says %s", base, g.Verdict.Kind, whole.Verdict.Kind)
					}
				}
			}
			if !tt.check {
				return
			}
			slices.Sort(kinds)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(kinds, want) {
				t.Errorf("saved %v, want %v:\n%s", kinds, want, out)
			}
		})
	}
}

// TestSaveFullDisk: a save that fails (a full disk: a 32 KB tmpfs, so
// root; without root, a --save directory that is a file) is said once on
// stderr, leaves no partial file, and the analysis goes on (and later
// saves are tried again).
func TestSaveFullDisk(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "save")
	want := "not a directory"
	if os.Geteuid() == 0 {
		os.Mkdir(dir, 0o755)
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=32k", "h2pcap-test", dir).CombinedOutput(); err != nil {
			t.Fatalf("mount tmpfs: %v %s", err, out)
		}
		t.Cleanup(func() { exec.Command("umount", dir).Run() })
		want = "no space left on device"
	} else {
		os.WriteFile(dir, nil, 0o644)
	}
	// mtu-blackhole/server.pcap's evidence files are bigger than 32 KB.
	src, err := decode.Open("../../testdata/pcaps/mtu-blackhole/server.pcap", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var findings, stderr bytes.Buffer
	con := &console{findings: &findings, stderr: &stderr}
	r := &ringTee{src: fileTee{src}, ring: evidence.NewRing(1 << 20), anyIface: -1}
	sv := &saver{ring: r.ring, dir: dir, ifaces: []string{"eth0"}, links: []layers.LinkType{layers.LinkTypeEthernet}, con: con, stderr: con}
	a := analyze.New(analyze.Options{OnNotice: func(n *model.Notice) { con.notice(n); sv.notice(n) }})
	info, err := a.ReadSource(r)
	if err != nil {
		t.Fatal(err)
	}
	a.Report([]*decode.InputInfo{info})
	if info.Packets == 0 || !strings.Contains(findings.String(), "lost PING") {
		t.Errorf("the analysis did not go on: %d packets; findings:\n%s", info.Packets, findings.String())
	}
	msg := stderr.String()
	if strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "h2pcap: --save "+dir+": ") || !strings.Contains(msg, want) {
		t.Errorf("stderr: %q", msg)
	}
	// A failed file is removed; a later, smaller one may fit again.
	if os.Geteuid() == 0 {
		left, _ := os.ReadDir(dir)
		for _, e := range left {
			if !strings.Contains(findings.String(), "wrote "+filepath.Join(dir, e.Name())) {
				t.Errorf("partial file left: %s", e.Name())
			}
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int
		bad  bool
	}{
		{"64MB", 64 << 20, false},
		{"64M", 64 << 20, false},
		{"64MiB", 64 << 20, false},
		{"512k", 512 << 10, false},
		{"1G", 1 << 30, false},
		{"1.5G", 3 << 29, false},
		{"1048576", 1 << 20, false},
		{"", 0, true},
		{"MB", 0, true},
		{"-1M", 0, true},
		{"12X", 0, true},
		{"9999G", 0, true},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, bad %v", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

// TestSaveRateLimit: past saveBurst problems within saveWindow, the rest
// are not saved, and that is said once.
func TestSaveRateLimit(t *testing.T) {
	dir := t.TempDir()
	var stderr, findings bytes.Buffer
	con := &console{findings: &findings, stderr: &stderr}
	r := evidence.NewRing(evidence.MinSize)
	sv := &saver{ring: r, dir: dir, ifaces: []string{"eth0"}, links: []layers.LinkType{layers.LinkTypeEthernet}, con: con, stderr: con}
	src, err := decode.Open("../../testdata/pcaps/middlebox-reset/client.pcap", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	// Problems on the first connection (its packets are in the ring),
	// 15 of them at once, then one more a window later.
	var seg decode.Segment
	var at time.Time
	dec := decode.NewDecoder()
	for {
		p, err := src.Next()
		if err != nil {
			break
		}
		r.Add(p.Time, 0, p.WireLen, p.Data)
		if at.IsZero() {
			if ok, _ := dec.Decode(p, &seg); ok {
				at = p.Time
			}
		}
	}
	for i := 0; i < saveBurst+5; i++ {
		sv.notice(&model.Notice{Kind: model.NoticeReset, Time: at, Stream: i, Client: seg.Src, Server: seg.Dst})
	}
	sv.notice(&model.Notice{Kind: model.NoticeReset, Time: at.Add(saveWindow), Stream: 100, Client: seg.Src, Server: seg.Dst})
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcapng"))
	lines := strings.Count(findings.String(), " wrote ")
	if lines != saveBurst+1 {
		t.Errorf("%d files written (%d in the directory), want %d", lines, len(files), saveBurst+1)
	}
	if strings.Count(stderr.String(), "\n") != 1 || !strings.Contains(stderr.String(), "more than 10 problems within 10s") {
		t.Errorf("stderr: %q", stderr.String())
	}
}
