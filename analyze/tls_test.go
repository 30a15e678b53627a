package analyze

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/h2pcap/h2pcap/analyze/app"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/decode/tls"
	"github.com/h2pcap/h2pcap/internal/oracle"
	"github.com/h2pcap/h2pcap/model"
)

// tlsCapture is a TLS capture with its key log (empty: the keys are in the
// pcapng's Decryption Secrets Blocks) and tshark's decode-as options.
type tlsCapture struct {
	file, keys string
	opts       []string
}

var tlsCaptures = []tlsCapture{
	{"public/wireshark-4.0.17/http2-data-reassembly.pcap", "public/wireshark-4.0.17/keys/http2-data-reassembly.keys", []string{"-d", "tcp.port==8443,tls"}},
	{"public/wireshark-4.0.17/http2_follow_multistream.pcapng", "", nil},
	{"public/wireshark-4.0.17/http2-brotli.pcapng", "", nil},
	// HTTP/1.1 inside: decrypted, and no HTTP/2 (nor for tshark).
	{"public/wireshark-4.0.17/tls13-rfc8446.pcap", "public/wireshark-4.0.17/keys/tls13-rfc8446.keys", nil},
	{"public/wireshark-4.0.17/tls13-20-chacha20poly1305.pcap", "public/wireshark-4.0.17/keys/tls13-20-chacha20poly1305.keys", nil},
	{"public/wireshark-4.0.17/tls12-chacha20poly1305.pcap", "public/wireshark-4.0.17/keys/tls12-chacha20poly1305.keys", nil},
	{"public/wireshark-4.0.17/tls12-dsb.pcapng", "", nil},
}

// labTLSCaptures: the lab's TLS captures, each with its directory's keylog.txt.
func labTLSCaptures(t *testing.T) []tlsCapture {
	var out []tlsCapture
	for _, dir := range []string{"healthy-tls", "blackhole-s2c-tls", "graceful-shutdown", "mtu-blackhole", "oneway-loss-ipv6",
		"blackhole-s2c-tls12-gcm", "blackhole-s2c-tls12-chacha", "midconn-tls"} {
		truth := readTruth(t, filepath.Join(pcapRoot(), dir, "truth.json"))
		ap, err := netip.ParseAddrPort(truth.Server)
		if err != nil {
			t.Fatalf("%s: server %q: %v", dir, truth.Server, err)
		}
		for _, side := range []string{"client", "server"} {
			out = append(out, tlsCapture{dir + "/" + side + ".pcap", dir + "/keylog.txt", []string{"-d", fmt.Sprintf("tcp.port==%d,tls", ap.Port())}})
		}
	}
	return out
}

func (c tlsCapture) options(t *testing.T) Options {
	if c.keys == "" {
		return Options{}
	}
	keys, err := tls.ReadKeyLogFile(filepath.Join(pcapRoot(), c.keys))
	if err != nil {
		t.Fatal(err)
	}
	return Options{Keys: keys}
}

// TestTLSFramesTshark: after decryption, the HTTP/2 frame counts by type per
// connection and direction, and the PINGs, ACKs, GOAWAYs and RST_STREAMs,
// equal tshark's with the same key log.
func TestTLSFramesTshark(t *testing.T) {
	oracle.Tshark(t)
	for _, c := range append(slices.Clone(tlsCaptures), labTLSCaptures(t)...) {
		t.Run(c.file, func(t *testing.T) {
			t.Parallel()
			opts := tsharkOptions(c.opts...)
			if c.keys != "" {
				opts.KeyLog = filepath.Join(pcapRoot(), c.keys)
			}
			want, wantRecs := tsharkH2Counts(t, c.file, opts)
			rep := analyzeCapture(t, c.file, c.options(t))
			got, gotRecs := h2Seen(rep)
			checkMidConnTLS(t, c.file, rep, want, got, gotRecs)
			decrypted := 0
			for _, conn := range rep.Connections {
				if conn.TLS == nil {
					continue
				}
				if conn.HTTP2 != nil && conn.App != "h2" {
					t.Errorf("stream %d: app %q with HTTP/2 over TLS", conn.Stream, conn.App)
				}
				// The lab's key logs lack some reconnections: tshark
				// cannot decrypt those either.
				switch {
				case conn.TLS.Decrypted && conn.TLS.KeyProblem == "":
					decrypted++
				case conn.TLS.Decrypted || !strings.Contains(conn.TLS.KeyProblem, "client random"):
					t.Errorf("stream %d: tls %+v", conn.Stream, conn.TLS)
				default:
					t.Logf("stream %d: %s", conn.Stream, conn.TLS.KeyProblem)
				}
			}
			if decrypted == 0 {
				t.Error("no connection decrypted")
			}
			keys := map[string]bool{}
			for k := range want {
				keys[k] = true
			}
			for k := range got {
				keys[k] = true
			}
			total := 0
			for _, k := range slices.Sorted(maps.Keys(keys)) {
				if fmt.Sprint(want[k]) != fmt.Sprint(got[k]) {
					t.Errorf("direction %s: tshark %v, h2pcap %v", k, want[k], got[k])
				}
				for _, n := range want[k] {
					total += n
				}
				slices.Sort(wantRecs[k])
				slices.Sort(gotRecs[k])
				if fmt.Sprint(wantRecs[k]) != fmt.Sprint(gotRecs[k]) {
					t.Errorf("direction %s: tshark %q, h2pcap %q", k, wantRecs[k], gotRecs[k])
				}
			}
			t.Logf("%d HTTP/2 frames in %d directions (tshark)", total, len(keys))
		})
	}
}

// checkMidConnTLS takes out of the tshark comparison the connections
// decrypted without their handshake (a capture that began mid-connection:
// the secrets found by trying the key log's), which tshark cannot
// decrypt, and checks their PINGs and PING ACKs against truth.json's list,
// made by tshark from full captures of the same lab run.
func checkMidConnTLS(t *testing.T, file string, rep *model.Report, want, got map[string]map[string]int, gotRecs map[string][]string) {
	t.Helper()
	for _, conn := range rep.Connections {
		if conn.TLS == nil || !conn.TLS.Decrypted || conn.Handshake.Seen || conn.HTTP2 == nil {
			continue
		}
		cp := netip.MustParseAddrPort(conn.Client).Port()
		ck := fmt.Sprintf("%d/%d", conn.Stream, cp)
		sk := fmt.Sprintf("%d/%d", conn.Stream, netip.MustParseAddrPort(conn.Server).Port())
		if want[ck] != nil || want[sk] != nil {
			continue // tshark decrypts it after all: compare
		}
		var wantPings []string
		for _, p := range labPings(t, file) {
			if p.ClientPort != int(cp) {
				continue
			}
			if p.Ack {
				wantPings = append(wantPings, fmt.Sprintf("PING-ACK@%d %s", p.Frame, p.Data))
			} else {
				wantPings = append(wantPings, fmt.Sprintf("PING@%d %s", p.Frame, p.Data))
			}
		}
		var gotPings []string
		for _, k := range []string{ck, sk} {
			for _, r := range gotRecs[k] {
				if strings.HasPrefix(r, "PING") {
					gotPings = append(gotPings, r)
				}
			}
			delete(got, k)
			delete(gotRecs, k)
		}
		slices.Sort(wantPings)
		slices.Sort(gotPings)
		if len(wantPings) == 0 || !slices.Equal(wantPings, gotPings) {
			t.Errorf("stream %d (no handshake, decrypted): PINGs %q, truth.json %q", conn.Stream, gotPings, wantPings)
		} else {
			t.Logf("stream %d: no handshake, decrypted; its %d PINGs and ACKs as truth.json", conn.Stream, len(gotPings))
		}
	}
}

// truthPing is a PING or PING ACK frame truth.json lists for a capture.
type truthPing struct {
	Capture    string `json:"capture"`
	Frame      int    `json:"frame"`
	ClientPort int    `json:"client_port"`
	Ack        bool   `json:"ack"`
	Data       string `json:"data"`
}

// labPings are the PING frames truth.json lists for a lab capture.
func labPings(t *testing.T, file string) []truthPing {
	b, err := os.ReadFile(filepath.Join(pcapRoot(), filepath.Dir(file), "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var truth struct {
		Pings []truthPing `json:"pings"`
	}
	if err := json.Unmarshal(b, &truth); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var out []truthPing
	for _, p := range truth.Pings {
		if p.Capture == filepath.Base(file) {
			out = append(out, p)
		}
	}
	return out
}

// A TLS capture that begins mid-connection (midconn-tls: inside a
// response, no TCP or TLS handshake): with the key log the connection is
// decrypted all the same (its TLS 1.3 secrets found by trial), with its
// version and cipher suite learnt by decrypting, and its HTTP/2 found by
// frame sync; without, it is TLS, not decrypted, and no key is missing.
func TestTLSMidConnection(t *testing.T) {
	for _, side := range []string{"client", "server"} {
		file := "midconn-tls/" + side + ".pcap"
		c := tlsCapture{file, "midconn-tls/keylog.txt", nil}
		for _, keyed := range []bool{true, false} {
			opts := Options{}
			if keyed {
				opts = c.options(t)
			}
			mid := 0
			for _, conn := range analyzeCapture(t, file, opts).Connections {
				if conn.Handshake.Seen {
					continue
				}
				mid++
				tl := conn.TLS
				if tl == nil {
					t.Fatalf("%s stream %d (keys %v): no TLS", file, conn.Stream, keyed)
				}
				if !keyed {
					if tl.Decrypted || tl.KeyProblem != "" {
						t.Errorf("%s stream %d without keys: tls %+v", file, conn.Stream, tl)
					}
					continue
				}
				if !tl.Decrypted || tl.KeyProblem != "" || tl.Version != "TLS 1.3" || tl.CipherSuite != "TLS_CHACHA20_POLY1305_SHA256" {
					t.Errorf("%s stream %d: tls %+v", file, conn.Stream, tl)
				}
				h := conn.HTTP2
				if conn.App != "h2" || h == nil || h.Detected != "frames" {
					t.Fatalf("%s stream %d: app %s, http2 %+v", file, conn.Stream, conn.App, h)
				}
				pings := 0
				for _, p := range h.Pings {
					if p.From == "client" && p.Sender == app.SenderGoHealthCheck && !p.Inferred {
						pings++
					}
				}
				if pings < 4 {
					t.Errorf("%s stream %d: %d health-check PINGs decrypted, want 4 (3 answered, 1 lost): %+v", file, conn.Stream, pings, h.Pings)
				}
			}
			if mid == 0 {
				t.Errorf("%s: no connection without a handshake", file)
			}
		}
	}
}

// Without keys a TLS connection is as before (no HTTP/2, app tls), with its
// handshake facts.
func TestTLSWithoutKeys(t *testing.T) {
	rep := analyzeCapture(t, "healthy-tls/client.pcap", Options{})
	n := 0
	for _, c := range rep.Connections {
		if c.TLS == nil {
			continue
		}
		n++
		if c.HTTP2 != nil || c.App != "tls" || c.TLS.Decrypted || c.TLS.KeyProblem != "" {
			t.Errorf("stream %d: app %s, http2 %v, tls %+v", c.Stream, c.App, c.HTTP2 != nil, c.TLS)
		}
		if c.TLS.Version == "" || !slices.Contains(c.TLS.ALPNOffered, "h2") {
			t.Errorf("stream %d: handshake facts missing: %+v", c.Stream, c.TLS)
		}
	}
	if n == 0 {
		t.Fatal("no TLS connection")
	}
}

// A key log without the connection's key says so, with the client random.
func TestTLSKeyProblem(t *testing.T) {
	keys, err := tls.ParseKeyLog(strings.NewReader("CLIENT_RANDOM " + strings.Repeat("00", 32) + " " + strings.Repeat("11", 48) + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	rep := analyzeCapture(t, "healthy-tls/client.pcap", Options{Keys: keys})
	for _, c := range rep.Connections {
		if c.TLS == nil {
			continue
		}
		if c.HTTP2 != nil || c.App != "tls" || c.TLS.Decrypted || !strings.Contains(c.TLS.KeyProblem, "client random") {
			t.Errorf("stream %d: app %s, tls %+v", c.Stream, c.App, c.TLS)
		}
	}
}

// Losses the capture never had: the lab's TLS captures with segments
// dropped at random, decrypted. Nothing panics, and a connection whose
// HTTP/2 is found says h2 with its TLS facts. (A connection whose first
// bytes were lost is not taken for TLS: tls.Detect needs a record start.)
func TestTLSDropsDecrypted(t *testing.T) {
	for _, c := range labTLSCaptures(t) {
		src, err := decode.Open(filepath.Join(pcapRoot(), c.file), 0)
		if err != nil {
			t.Fatal(err)
		}
		dec := decode.NewDecoder()
		var segs []decode.Segment
		for {
			p, err := src.Next()
			if err != nil {
				break
			}
			var s decode.Segment
			if ok, _ := dec.Decode(p, &s); ok {
				s.Payload = append([]byte(nil), s.Payload...)
				segs = append(segs, s)
			}
		}
		src.Close()
		opts := c.options(t)
		decrypted := 0
		for seed := range 20 {
			rng := rand.New(rand.NewPCG(uint64(seed), 7))
			a := New(opts)
			for i := range segs {
				if segs[i].PayloadLen > 0 && rng.IntN(100) < 3+seed {
					continue
				}
				s := segs[i]
				a.Segment(&s)
			}
			for _, conn := range a.Report(nil).Connections {
				if conn.TLS != nil && conn.TLS.Decrypted {
					decrypted++
				}
				if conn.HTTP2 != nil && (conn.App != "h2" || conn.TLS == nil) {
					t.Errorf("%s seed %d stream %d: app %s with HTTP/2", c.file, seed, conn.Stream, conn.App)
				}
			}
		}
		if decrypted == 0 {
			t.Errorf("%s: nothing decrypted", c.file)
		}
	}
}

// A key log that does not match the capture (another capture's keys, an
// exported SSLKEYLOGFILE meant for something else) must change nothing but
// the key_problem it names: each TLS connection without its keys gets
// exactly the analysis it gets with no key log, keyless PING inference and
// lost_ping verdict included.
func TestForeignKeyLog(t *testing.T) {
	foreign, err := tls.ReadKeyLogFile(filepath.Join(pcapRoot(), "blackhole-s2c-tls12-gcm", "keylog.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{
		"blackhole-s2c-tls/client.pcap", "blackhole-s2c-tls/server.pcap",
		"midconn-tls/client.pcap", "healthy-tls/client.pcap",
	} {
		none := analyzeCapture(t, file, Options{})
		wrong := analyzeCapture(t, file, Options{Keys: foreign})
		lostPings := 0
		for i, c := range wrong.Connections {
			if c.TLS == nil {
				continue
			}
			if c.TLS.Decrypted {
				t.Fatalf("%s stream %d decrypted with another capture's keys", file, c.Stream)
			}
			if c.TLS.KeyProblem == "" && c.Handshake.Seen {
				t.Errorf("%s stream %d: no key_problem with a key log that lacks its keys", file, c.Stream)
			}
			c.TLS.KeyProblem = ""
			if c.Verdict.Kind == model.KindLostPing {
				lostPings++
			}
			w, _ := json.Marshal(c)
			n, _ := json.Marshal(none.Connections[i])
			if string(w) != string(n) {
				t.Errorf("%s stream %d with a foreign key log differs from without keys:\n%s\n%s", file, c.Stream, w, n)
			}
		}
		if strings.HasPrefix(file, "blackhole") && lostPings == 0 {
			t.Errorf("%s: no lost_ping with a foreign key log", file)
		}
	}
}
