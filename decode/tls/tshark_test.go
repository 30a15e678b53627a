package tls

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/decode/h2"
	"github.com/h2pcap/h2pcap/internal/oracle"
	"golang.org/x/net/http2"
)

const capturesDir = "../../testdata/pcaps"

// tlsCapture is a TLS capture with its keys: keyFile relative to the
// capture's directory, or "" for keys in pcapng Decryption Secrets Blocks.
type tlsCapture struct {
	file    string
	keyFile string
	opts    []string // more tshark options, from testdata/pcaps/public/README.md
	h2      bool     // HTTP/2 inside: compare frame counts too
}

var tlsCaptures = []tlsCapture{
	{file: "public/wireshark-4.0.17/http2-data-reassembly.pcap", keyFile: "keys/http2-data-reassembly.keys", opts: []string{"-d", "tcp.port==8443,tls"}, h2: true},
	{file: "public/wireshark-4.0.17/http2_follow_multistream.pcapng", h2: true},
	{file: "public/wireshark-4.0.17/http2-brotli.pcapng", h2: true},
	{file: "public/wireshark-4.0.17/tls12-dsb.pcapng"},
	{file: "public/wireshark-4.0.17/tls13-rfc8446.pcap", keyFile: "keys/tls13-rfc8446.keys"}, // stream 1: resumption with 0-RTT data
	{file: "public/wireshark-4.0.17/tls12-chacha20poly1305.pcap", keyFile: "keys/tls12-chacha20poly1305.keys"},
	{file: "public/wireshark-4.0.17/tls13-20-chacha20poly1305.pcap", keyFile: "keys/tls13-20-chacha20poly1305.keys"},
	{file: "public/wireshark-4.0.17/dhe1.pcapng.gz", keyFile: "keys/dhe1_keylog.dat", opts: []string{"-o", "http.tls.port:443"}}, // TLS 1.0 CBC
	{file: "healthy-tls/client.pcap", keyFile: "keylog.txt", h2: true},
	{file: "healthy-tls/server.pcap", keyFile: "keylog.txt", h2: true},
	{file: "blackhole-s2c-tls/client.pcap", keyFile: "keylog.txt", h2: true},
	{file: "blackhole-s2c-tls/server.pcap", keyFile: "keylog.txt", h2: true},
	{file: "graceful-shutdown/client.pcap", keyFile: "keylog.txt", h2: true},
	{file: "graceful-shutdown/server.pcap", keyFile: "keylog.txt", h2: true},
	{file: "mtu-blackhole/client.pcap", keyFile: "keylog.txt", h2: true},
	{file: "mtu-blackhole/server.pcap", keyFile: "keylog.txt", h2: true},
	{file: "oneway-loss-ipv6/client.pcap", keyFile: "keylog.txt", h2: true},
	{file: "oneway-loss-ipv6/server.pcap", keyFile: "keylog.txt", h2: true},
	{file: "blackhole-s2c-tls12-gcm/client.pcap", keyFile: "keylog.txt", h2: true},
	{file: "blackhole-s2c-tls12-gcm/server.pcap", keyFile: "keylog.txt", h2: true},
	{file: "blackhole-s2c-tls12-chacha/client.pcap", keyFile: "keylog.txt", h2: true},
	{file: "blackhole-s2c-tls12-chacha/server.pcap", keyFile: "keylog.txt", h2: true},
	// TLS 1.3 ChaCha20-Poly1305; the first connection has no handshake in
	// the capture, which starts inside a record: neither side decrypts it.
	{file: "midconn-tls/client.pcap", keyFile: "keylog.txt", h2: true},
	{file: "midconn-tls/server.pcap", keyFile: "keylog.txt", h2: true},
}

func (c tlsCapture) name() string {
	return strings.ReplaceAll(strings.TrimPrefix(c.file, "public/wireshark-4.0.17/"), "/", "_")
}

func (c tlsCapture) path() string { return filepath.Join(capturesDir, c.file) }

// tsharkOptions are the tshark options that decrypt the capture.
func (c tlsCapture) tsharkOptions() oracle.Options {
	o := oracle.Options{Prefs: append([]string{"-o", "tcp.reassemble_out_of_order:TRUE"}, c.opts...)}
	if c.keyFile != "" {
		o.KeyLog = filepath.Join(capturesDir, filepath.Dir(c.file), c.keyFile)
	}
	return o
}

// keys reads the capture's key log, or its Decryption Secrets Blocks.
func (c tlsCapture) keys(t testing.TB) *KeyLog {
	if c.keyFile != "" {
		k, err := ReadKeyLogFile(filepath.Join(capturesDir, filepath.Dir(c.file), c.keyFile))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	src, err := decode.Open(filepath.Join(capturesDir, c.file), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for {
		if _, err := src.Next(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
	}
	k := &KeyLog{}
	for _, s := range src.(decode.SecretsSource).Secrets() {
		if s.Type == DSBTypeTLSKeyLog {
			if err := k.AddDSB(s.Data); err != nil {
				t.Fatal(err)
			}
		}
	}
	return k
}

// tsharkRows returns tshark's tlsFields of every frame of the capture,
// decrypted: TestTshark, TestRecordSizes and the resynchronisation tests
// read the same rows, from one tshark run.
func (c tlsCapture) tsharkRows(t testing.TB) []oracle.Row {
	t.Helper()
	return oracle.Fields(t, c.path(), c.tsharkOptions(), tlsFields...).Rows
}

var tlsFields = []string{"frame.number", "tcp.stream", "tcp.srcport", "tcp.seq", "tcp.payload",
	"tcp.flags.syn", "tcp.flags.ack", "tls.record.content_type", "tls.record.length", "http2.type"}

// segment is one TCP segment with payload.
type segment struct {
	frame int
	seq   int64
	data  []byte
}

// tcpConn is one TCP connection's segments, per direction.
type tcpConn struct {
	stream     string
	clientPort string // "" until known
	dirs       map[string][]segment
	order      []segEvent // all segments in capture order
}

type segEvent struct {
	port string
	seg  segment
}

func tcpConns(t testing.TB, rows []oracle.Row) []*tcpConn {
	byStream := map[string]*tcpConn{}
	var conns []*tcpConn
	for _, r := range rows {
		stream, port := r.Get("tcp.stream"), r.Get("tcp.srcport")
		if stream == "" {
			continue
		}
		c := byStream[stream]
		if c == nil {
			c = &tcpConn{stream: stream, dirs: map[string][]segment{}}
			byStream[stream] = c
			conns = append(conns, c)
		}
		if r.Get("tcp.flags.syn") == "1" && r.Get("tcp.flags.ack") == "0" {
			c.clientPort = port
		}
		if r.Get("tcp.payload") == "" {
			continue
		}
		frame, _ := strconv.Atoi(r.Get("frame.number"))
		seq, _ := strconv.ParseInt(r.Get("tcp.seq"), 10, 64)
		data, err := hex.DecodeString(strings.ReplaceAll(r.Get("tcp.payload"), ":", ""))
		if err != nil {
			t.Fatalf("frame %d payload: %v", frame, err)
		}
		sg := segment{frame, seq, data}
		c.dirs[port] = append(c.dirs[port], sg)
		c.order = append(c.order, segEvent{port, sg})
	}
	for _, c := range conns {
		if c.clientPort == "" {
			// No SYN captured: the ClientHello's sender, else the higher port.
			for p, segs := range c.dirs {
				if d := segs[0].data; len(d) > 5 && d[0] == 22 && d[5] == 1 {
					c.clientPort = p
				}
			}
			if c.clientPort == "" {
				for p := range c.dirs {
					a, _ := strconv.Atoi(p)
					b, _ := strconv.Atoi(c.clientPort)
					if a > b {
						c.clientPort = p
					}
				}
			}
		}
	}
	return conns
}

// feeder delivers a connection's segments to a Conn the way Wireshark
// reassembles: in capture order, retransmitted bytes once, bytes waiting
// for a missing segment with the segment that filled the hole, and holes
// never filled as gaps at the end.
type feeder struct {
	next    map[string]int64
	waiting map[string][]segment
}

func feed(c *tcpConn, conn *Conn, cut func(port string, sg segment) segment) {
	f := feeder{next: map[string]int64{}, waiting: map[string][]segment{}}
	started := map[string]bool{}
	for _, ev := range c.order {
		port, sg := ev.port, ev.seg
		if cut != nil {
			sg = cut(port, sg)
			if len(sg.data) == 0 {
				continue
			}
		}
		fromClient := port == c.clientPort
		if !started[port] {
			started[port] = true
			f.next[port] = sg.seq
		}
		next := f.next[port]
		deliver := func(sg segment, meta Meta) {
			data := sg.data
			if sg.seq+int64(len(data)) <= f.next[port] {
				return
			}
			if sg.seq < f.next[port] {
				data = data[f.next[port]-sg.seq:]
			}
			conn.Data(fromClient, data, meta)
			f.next[port] = sg.seq + int64(len(sg.data))
		}
		if sg.seq > next {
			w := append(f.waiting[port], sg)
			sort.SliceStable(w, func(i, j int) bool { return w[i].seq < w[j].seq })
			f.waiting[port] = w
			continue
		}
		meta := Meta{Frame: sg.frame}
		deliver(sg, meta)
		for w := f.waiting[port]; len(w) > 0 && w[0].seq <= f.next[port]; w = f.waiting[port] {
			f.waiting[port] = w[1:]
			deliver(w[0], meta)
		}
	}
	for port := range c.dirs {
		fromClient := port == c.clientPort
		for w := f.waiting[port]; len(w) > 0; w = f.waiting[port] {
			conn.Gap(fromClient, int(w[0].seq-f.next[port]))
			f.next[port] = w[0].seq
			meta := Meta{Frame: w[0].frame}
			for w := f.waiting[port]; len(w) > 0 && w[0].seq <= f.next[port]; w = f.waiting[port] {
				f.waiting[port] = w[1:]
				seg := w[0]
				if seg.seq+int64(len(seg.data)) > f.next[port] {
					conn.Data(fromClient, seg.data[f.next[port]-seg.seq:], meta)
					f.next[port] = seg.seq + int64(len(seg.data))
				}
			}
		}
		conn.End(fromClient)
	}
}

// followTLS returns tshark's decrypted application data of a TCP stream,
// per direction: [0] the direction that sent first, [1] the other
// (follow,tls,raw indents the second node's lines).
func followTLS(t testing.TB, c tlsCapture, stream string) [2][]byte {
	out := oracle.Run(t, c.path(), c.tsharkOptions(), "-q", "-z", "follow,tls,raw,"+stream)
	var d [2][]byte
	body := false
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "Node 1:") {
			body = true
			continue
		}
		if !body || strings.HasPrefix(l, "=====") || l == "" {
			continue
		}
		i := 0
		if strings.HasPrefix(l, "\t") {
			i = 1
		}
		b, err := hex.DecodeString(strings.TrimSpace(l))
		if err != nil {
			t.Fatalf("follow line %q: %v", l, err)
		}
		d[i] = append(d[i], b...)
	}
	return d
}

// TestTshark decrypts every TLS capture in testdata and compares with
// tshark given the same keys: per capture frame, the content types and
// lengths of the records it completes (the inner type of a decrypted TLS
// 1.3 record, as tshark shows); per connection, the decrypted application
// data byte for byte; and for HTTP/2 inside, frame counts by type after
// decode/h2.
func TestTshark(t *testing.T) {
	oracle.Tshark(t)
	for _, c := range tlsCaptures {
		t.Run(c.name(), func(t *testing.T) {
			keys := c.keys(t)
			rows := c.tsharkRows(t)
			want, got := map[int]string{}, map[int]string{}
			wantH2, gotH2 := map[string]int{}, map[string]int{}
			for _, r := range rows {
				types := r.Values("tls.record.content_type")
				if types == nil {
					continue
				}
				frame, _ := strconv.Atoi(r.Get("frame.number"))
				want[frame] = zipTypes(strings.Join(types, "|"), strings.Join(r.Values("tls.record.length"), "|"))
				for _, ty := range r.Values("http2.type") {
					n, _ := strconv.Atoi(ty)
					wantH2[http2.FrameType(n).String()]++
				}
			}
			for _, tc := range tcpConns(t, rows) {
				var plain [2][]byte
				truncated := 0
				var types, lens = map[int][]string{}, map[int][]string{}
				h2s := [2]*h2.Stream{h2.NewStream(h2.Options{}), h2.NewStream(h2.Options{Client: true})}
				connH2 := map[string]int{}
				var pings []labPing
				emitH2 := func(f *h2.Frame) {
					connH2[f.Type.String()]++
					if f.Type == http2.FramePing && !f.Truncated {
						pings = append(pings, labPing{Frame: f.Meta.Frame, Ack: f.Flags.Has(http2.FlagPingAck), Data: hex.EncodeToString(f.PingData[:])})
					}
				}
				conn := NewConn(Config{
					Keys: keys,
					Record: func(fromClient bool, r *Record, p *Plain) {
						if r.Truncated {
							// Cut by a hole never filled: tshark shows no record.
							truncated++
							return
						}
						types[r.Meta.Frame] = append(types[r.Meta.Frame], strconv.Itoa(int(p.Content)))
						lens[r.Meta.Frame] = append(lens[r.Meta.Frame], strconv.Itoa(r.Length))
					},
					AppData: func(fromClient bool, b []byte, meta Meta) {
						plain[idx(fromClient)] = append(plain[idx(fromClient)], b...)
						if c.h2 {
							h2s[idx(fromClient)].Data(b, h2.Meta(meta), emitH2)
						}
					},
					AppGap: func(fromClient bool, n int) {
						if c.h2 {
							h2s[idx(fromClient)].Gap(n, emitH2)
						}
					},
				})
				feed(tc, conn, nil)
				for _, s := range h2s {
					s.End(emitH2)
				}
				info := conn.Info()
				if info.MidStart {
					// No handshake in the capture: tshark decrypts nothing,
					// decode/tls found the secrets by trial. The truth is
					// in truth.json: the PINGs of a full capture of the
					// same run, decrypted by tshark.
					checkMidStart(t, c, tc, info, pings, lens, want)
					continue
				}
				for k, n := range connH2 {
					gotH2[k] += n
				}
				ts := followTLS(t, c, tc.stream)
				if p := info.KeyProblem(); p != "" {
					// Fine where tshark has no key either (a handshake the
					// capture or the key log lacks).
					if len(ts[0])+len(ts[1]) > 0 {
						t.Errorf("stream %s: %s, but tshark decrypts it", tc.stream, p)
					} else {
						t.Logf("stream %s: %s (tshark neither)", tc.stream, p)
					}
					skipFrames(tc, want)
					continue
				}
				for f, ty := range types {
					got[f] = zipTypes(strings.Join(ty, "|"), strings.Join(lens[f], "|"))
				}
				t.Logf("stream %s: %s %s ALPN %q SNI %q; decrypted %v records, not %v (%d truncated); record stats c->s %+v s->c %+v",
					tc.stream, versionName(info.Version), CipherSuiteName(info.CipherSuite), info.ALPN, sni(info),
					info.Decrypted, info.Undecrypted, truncated, conn.RecordStats(true), conn.RecordStats(false))
				// Application data: the same bytes in each direction.
				if !(bytes.Equal(ts[0], plain[1]) && bytes.Equal(ts[1], plain[0]) || bytes.Equal(ts[0], plain[0]) && bytes.Equal(ts[1], plain[1])) {
					t.Errorf("stream %s: application data differs: tshark %d+%d bytes, got client %d server %d",
						tc.stream, len(ts[0]), len(ts[1]), len(plain[1]), len(plain[0]))
				}
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
			bad := 0
			for _, f := range frames {
				if want[f] != got[f] {
					if bad++; bad <= 10 {
						t.Errorf("frame %d: tshark records %s, got %s", f, want[f], got[f])
					}
				}
			}
			if bad > 10 {
				t.Errorf("... %d frames differ", bad)
			}
			t.Logf("%d frames with records", len(want))
			if c.h2 {
				if fmt.Sprint(wantH2) != fmt.Sprint(gotH2) {
					t.Errorf("HTTP/2 frames: tshark %v, got %v", wantH2, gotH2)
				} else {
					t.Logf("HTTP/2 frames: %v", gotH2)
				}
			}
		})
	}
}

// labPing is a PING frame in a lab capture, as truth.json lists them.
type labPing struct {
	Capture    string `json:"capture"`
	Frame      int    `json:"frame"`
	ClientPort int    `json:"client_port"`
	Ack        bool   `json:"ack"`
	Data       string `json:"data"`
}

// truthPings are the PINGs truth.json lists for a lab capture's
// connection from clientPort.
func truthPings(t *testing.T, file, clientPort string) []labPing {
	b, err := os.ReadFile(filepath.Join(capturesDir, filepath.Dir(file), "truth.json"))
	if err != nil {
		t.Fatalf("truth of a capture that starts mid-connection: %v", err)
	}
	var truth struct{ Pings []labPing }
	if err := json.Unmarshal(b, &truth); err != nil {
		t.Fatalf("%s truth.json: %v", filepath.Dir(file), err)
	}
	var out []labPing
	for _, p := range truth.Pings {
		if p.Capture == filepath.Base(file) && strconv.Itoa(p.ClientPort) == clientPort {
			p.Capture, p.ClientPort = "", 0
			out = append(out, p)
		}
	}
	return out
}

// checkMidStart judges a connection decrypted without its handshake:
// every PING and PING ACK truth.json lists for it must be decrypted, at
// its frame, and no other; tshark's records, where it finds any (it does
// not resynchronise inside a record), must have our lengths. Its frames
// leave the per-frame comparison.
func checkMidStart(t *testing.T, c tlsCapture, tc *tcpConn, info *Info, pings []labPing, lens map[int][]string, want map[int]string) {
	t.Helper()
	truth := truthPings(t, c.file, tc.clientPort)
	if len(truth) == 0 {
		t.Errorf("stream %s: decrypted mid-connection, and truth.json lists no PING for port %s", tc.stream, tc.clientPort)
	}
	key := func(p labPing) string { return fmt.Sprintf("%d/%v/%s", p.Frame, p.Ack, p.Data) }
	var w, g []string
	for _, p := range truth {
		w = append(w, key(p))
	}
	for _, p := range pings {
		g = append(g, key(p))
	}
	slices.Sort(w)
	slices.Sort(g)
	if !slices.Equal(w, g) {
		t.Errorf("stream %s (mid-connection, %s): PINGs (frame/ack/data) %v, truth.json %v", tc.stream, CipherSuiteName(info.CipherSuite), g, w)
	}
	agree, ours := 0, 0
	for _, ev := range tc.order {
		f := ev.seg.frame
		wf, ok := want[f]
		switch {
		case ok && lens[f] != nil:
			var wl []string
			for _, tl := range strings.Split(wf, " ") {
				_, l, _ := strings.Cut(tl, ":")
				wl = append(wl, l)
			}
			if slices.Equal(wl, lens[f]) {
				agree++
			} else {
				t.Errorf("frame %d (mid-connection): tshark records %s, got lengths %v", f, wf, lens[f])
			}
		case ok:
			t.Errorf("frame %d (mid-connection): tshark records %s, got none", f, wf)
		case lens[f] != nil:
			ours++
		}
	}
	skipFrames(tc, want)
	t.Logf("stream %s: mid-connection, %s %s decrypted by trial: PINGs as truth.json (%d); %d frames with records as tshark's, %d more before tshark finds a record boundary",
		tc.stream, versionName(info.Version), CipherSuiteName(info.CipherSuite), len(truth), agree, ours)
}

// zipTypes pairs content types with lengths: "22:512 23:40".
func zipTypes(types, lens string) string {
	ty, ln := strings.Split(types, "|"), strings.Split(lens, "|")
	var s []string
	for i := range ty {
		l := "?"
		if i < len(ln) {
			l = ln[i]
		}
		s = append(s, ty[i]+":"+l)
	}
	return strings.Join(s, " ")
}

// skipFrames removes a connection's frames from the comparison.
func skipFrames(tc *tcpConn, want map[int]string) {
	for _, ev := range tc.order {
		delete(want, ev.seg.frame)
	}
}

func sni(i *Info) string {
	if i.ClientHello == nil {
		return ""
	}
	return i.ClientHello.ServerName
}

func versionName(v uint16) string {
	switch v {
	case VersionTLS10:
		return "TLS 1.0"
	case VersionTLS11:
		return "TLS 1.1"
	case VersionTLS12:
		return "TLS 1.2"
	case VersionTLS13:
		return "TLS 1.3"
	}
	return fmt.Sprintf("0x%04x", v)
}
