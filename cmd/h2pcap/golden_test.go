package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The reports users paste into incident reviews, on real lab captures:
// go test ./cmd/h2pcap -update rewrites them after a deliberate change.
func TestGoldenReports(t *testing.T) {
	for _, scenario := range []string{"too-many-pings", "middlebox-reset", "mtu-blackhole", "blackhole-s2c-tls", "midconn-tls"} {
		for _, format := range []string{"table", "markdown"} {
			name := scenario + "." + map[string]string{"table": "txt", "markdown": "md"}[format]
			t.Run(name, func(t *testing.T) {
				src := filepath.Join("..", "..", "testdata", "pcaps", scenario, "client.pcap")
				code, out, errOut := h2pcap(t, nil, "analyze", "--format", format, src)
				if code != 0 {
					t.Fatalf("exit %d: %s", code, errOut)
				}
				golden := filepath.Join("testdata", name)
				if *update {
					os.MkdirAll("testdata", 0o755)
					if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (go test ./cmd/h2pcap -update creates it)", err)
				}
				if !bytes.Equal([]byte(out), want) {
					t.Errorf("report differs from %s (go test ./cmd/h2pcap -update to accept):\n%s", golden, diffLines(string(want), out))
				}
			})
		}
	}
}

// diffLines shows the first lines that differ, enough to see what changed.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)) && b.Len() < 2000; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("- " + wl + "\n+ " + gl + "\n")
		}
	}
	return b.String()
}
