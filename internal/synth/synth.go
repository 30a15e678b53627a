package synth

import (
	"bufio"
	"bytes"
	"container/heap"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Cases are the capture shapes Write knows.
var Cases = []string{"short", "open", "syn", "ping", "keepalive", "tls"}

// Config says how many connections Write makes and how they overlap.
type Config struct {
	N    int // connections
	Open int // at most this many open at once (at least 1)
	// Rate is how many connections start per second of capture time (0:
	// each as soon as one closes): a real node's connections spread over
	// the capture, which is what lets an analyzer free closed ones.
	Rate float64
}

// Write writes a pcap of cfg.N connections of the given case to w;
// keylog receives the TLS secrets of "tls" (nil: none).
func Write(w io.Writer, kind string, cfg Config, keylog io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	pw := &writer{clock: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	pw.pw = pcapgo.NewWriter(bw)
	if err := pw.pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return err
	}
	var gen func(i int) *script
	switch kind {
	case "short":
		gen = shortConn
	case "open":
		gen = openConn
	case "syn":
		gen = synOnly
	case "ping":
		gen = pingConn
	case "keepalive":
		gen = keepaliveConn
	case "tls":
		if keylog == nil {
			keylog = io.Discard
		}
		t, err := newTLSGen(keylog)
		if err != nil {
			return err
		}
		gen = t.conn
	default:
		return fmt.Errorf("synth: unknown case %q", kind)
	}
	pw.interleave(cfg, gen)
	if pw.err != nil {
		return pw.err
	}
	return bw.Flush()
}

// step is one segment of a connection's script.
type step struct {
	fromClient bool
	flags      uint8 // tcpSYN, ...
	payload    []byte
	gap        time.Duration // after the connection's previous step
}

const (
	tcpFIN = 1 << iota
	tcpSYN
	tcpRST
	tcpPSH
	tcpACK
)

// script is one connection: its endpoints and its segments in order.
type script struct {
	client, server netip.AddrPort
	steps          []step
	// While it is played:
	next         int
	cseq, sseq   uint32 // next sequence number per side
	cipid, sipid uint16
	due          time.Time
	srvSYN       bool // the server's SYN-ACK is out: the client ACKs from then on
	// at is the script's index among those open; hat its index in the
	// heap (dueHeap).
	at, hat int
}

// dueHeap orders the open scripts by when each is due, then by index
// among the open ones: the order a scan of the open scripts for the
// first earliest one gives, found in log(open) steps instead of open
// (20,000 idle connections open at once).
type dueHeap []*script

func (h dueHeap) Len() int { return len(h) }
func (h dueHeap) Less(i, j int) bool {
	if !h[i].due.Equal(h[j].due) {
		return h[i].due.Before(h[j].due)
	}
	return h[i].at < h[j].at
}
func (h dueHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].hat, h[j].hat = i, j
}
func (h *dueHeap) Push(x any) {
	s := x.(*script)
	s.hat = len(*h)
	*h = append(*h, s)
}
func (h *dueHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	*h = old[:len(old)-1]
	return s
}

// writer plays scripts into the pcap.
type writer struct {
	pw    *pcapgo.Writer
	clock time.Time
	buf   gopacket.SerializeBuffer
	err   error
}

// interleave plays n scripts, at most open at once, one step of one open
// connection at a time in order of when each is due.
func (w *writer) interleave(cfg Config, gen func(i int) *script) {
	w.buf = gopacket.NewSerializeBuffer()
	var live []*script
	var due dueHeap
	started, t0 := 0, w.clock
	for started < cfg.N || len(live) > 0 {
		for len(live) < max(cfg.Open, 1) && started < cfg.N {
			s := gen(started)
			s.cseq, s.sseq = 1000+uint32(started)*7919, 5000+uint32(started)*104729
			s.cipid, s.sipid = uint16(started), uint16(started*3)
			s.due = w.clock.Add(time.Duration(len(live)) * 3 * time.Microsecond)
			if cfg.Rate > 0 {
				s.due = later(s.due, t0.Add(time.Duration(float64(started)/cfg.Rate*float64(time.Second))))
			}
			s.at = len(live)
			live = append(live, s)
			heap.Push(&due, s)
			started++
		}
		// The earliest due.
		s := due[0]
		if s.due.After(w.clock) {
			w.clock = s.due
		}
		w.play(s, s.steps[s.next])
		s.next++
		if s.next == len(s.steps) {
			heap.Pop(&due)
			k := s.at
			live[k] = live[len(live)-1]
			live = live[:len(live)-1]
			if k < len(live) {
				live[k].at = k
				heap.Fix(&due, live[k].hat)
			}
			continue
		}
		s.due = w.clock.Add(s.steps[s.next].gap)
		heap.Fix(&due, 0)
	}
}

func (w *writer) play(s *script, st step) {
	if w.err != nil {
		return
	}
	src, dst := s.client, s.server
	seq, ack := &s.cseq, s.sseq
	ipid := &s.cipid
	ackOK := s.srvSYN
	if !st.fromClient {
		src, dst = dst, src
		seq, ack = &s.sseq, s.cseq
		ipid = &s.sipid
		ackOK = true
	}
	eth := &layers.Ethernet{SrcMAC: mac(src.Addr()), DstMAC: mac(dst.Addr()), EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, Id: *ipid, Flags: layers.IPv4DontFragment,
		SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	*ipid++
	t := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), Seq: *seq, Window: 502,
		SYN: st.flags&tcpSYN != 0, FIN: st.flags&tcpFIN != 0, RST: st.flags&tcpRST != 0, PSH: len(st.payload) > 0}
	if st.flags&tcpSYN == 0 || !st.fromClient {
		if ackOK && st.flags&tcpRST == 0 {
			t.ACK, t.Ack = true, ack
		}
	}
	if st.flags&tcpSYN != 0 {
		t.Options = []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}}}
		t.Window = 64240
		if !st.fromClient {
			s.srvSYN = true
		}
	}
	if err := t.SetNetworkLayerForChecksum(ip); err != nil {
		w.err = err
		return
	}
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(w.buf, opts, eth, ip, t, gopacket.Payload(st.payload)); err != nil {
		w.err = err
		return
	}
	*seq += uint32(len(st.payload))
	if t.SYN || t.FIN {
		*seq++
	}
	data := w.buf.Bytes()
	ci := gopacket.CaptureInfo{Timestamp: w.clock, CaptureLength: len(data), Length: len(data)}
	w.err = w.pw.WritePacket(ci, data)
}

func mac(a netip.Addr) net.HardwareAddr {
	b := a.As4()
	return net.HardwareAddr{0x02, 0x00, b[0], b[1], b[2], b[3]}
}

// clientAddr spreads clients over 198.18.0.0/16, a port each.
func clientAddr(i int) netip.AddrPort {
	host := 1 + i/28000
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, byte(host >> 8), byte(host)}), uint16(32768+i%28000))
}

var server = netip.MustParseAddrPort("198.19.0.1:8080")

// frames builds HTTP/2 frames with x/net's Framer.
type frames struct {
	buf bytes.Buffer
	fr  *http2.Framer
	enc *hpack.Encoder
	hb  bytes.Buffer
}

func newFrames() *frames {
	f := &frames{}
	f.fr = http2.NewFramer(&f.buf, nil)
	f.enc = hpack.NewEncoder(&f.hb)
	return f
}

func (f *frames) take() []byte {
	b := bytes.Clone(f.buf.Bytes())
	f.buf.Reset()
	return b
}

func (f *frames) headers(stream uint32, end bool, kv ...string) {
	f.hb.Reset()
	for i := 0; i < len(kv); i += 2 {
		_ = f.enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	_ = f.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: stream, BlockFragment: f.hb.Bytes(), EndStream: end, EndHeaders: true})
}

// handshake is the TCP three-way handshake.
func handshake() []step {
	return []step{
		{fromClient: true, flags: tcpSYN},
		{flags: tcpSYN | tcpACK, gap: 50 * time.Microsecond},
		{fromClient: true, flags: tcpACK, gap: 50 * time.Microsecond},
	}
}

// setup is the client preface and both SETTINGS with their ACKs.
func setup(f *frames) []step {
	f.buf.WriteString(http2.ClientPreface)
	_ = f.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 4 << 20})
	cp := f.take()
	_ = f.fr.WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 250})
	_ = f.fr.WriteSettingsAck()
	sp := f.take()
	_ = f.fr.WriteSettingsAck()
	ca := f.take()
	return []step{
		{fromClient: true, flags: tcpACK, payload: cp, gap: 10 * time.Microsecond},
		{flags: tcpACK, payload: sp, gap: 60 * time.Microsecond},
		{fromClient: true, flags: tcpACK, payload: ca, gap: 40 * time.Microsecond},
	}
}

// shortConn: connect, one GET answered, the client's GOAWAY, both FINs.
func shortConn(i int) *script {
	f := newFrames()
	s := &script{client: clientAddr(i), server: server}
	s.steps = append(handshake(), setup(f)...)
	f.headers(1, true, ":method", "GET", ":scheme", "http", ":authority", "api", ":path", "/healthz")
	req := f.take()
	f.headers(1, false, ":status", "200", "content-type", "text/plain")
	_ = f.fr.WriteData(1, true, []byte("ok"))
	resp := f.take()
	_ = f.fr.WriteGoAway(0, http2.ErrCodeNo, nil)
	gw := f.take()
	s.steps = append(s.steps,
		step{fromClient: true, flags: tcpACK, payload: req, gap: 20 * time.Microsecond},
		step{flags: tcpACK, payload: resp, gap: 300 * time.Microsecond},
		step{fromClient: true, flags: tcpACK, payload: gw, gap: 100 * time.Microsecond},
		step{fromClient: true, flags: tcpFIN | tcpACK, gap: 5 * time.Microsecond},
		step{flags: tcpFIN | tcpACK, gap: 60 * time.Microsecond},
		step{fromClient: true, flags: tcpACK, gap: 40 * time.Microsecond},
	)
	return s
}

// openConn: connect, one GET answered, and the connection stays open to
// the end of the capture (the idle connections of a node's pods).
func openConn(i int) *script {
	s := shortConn(i)
	s.steps = s.steps[:len(s.steps)-4]
	return s
}

// synOnly: a SYN to one of 50 servers that nothing answers (a flood or
// a scan); one in 10,000 is answered and reset by the client.
func synOnly(i int) *script {
	srv := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 19, 1, byte(1 + i%50)}), 443)
	s := &script{client: clientAddr(i), server: srv, steps: []step{{fromClient: true, flags: tcpSYN}}}
	if i%10000 == 0 {
		s.steps = append(s.steps, step{flags: tcpSYN | tcpACK, gap: 80 * time.Microsecond},
			step{fromClient: true, flags: tcpRST, gap: 20 * time.Microsecond})
	}
	return s
}

// pingConn: an idle connection whose health-check PING the server's TCP
// acknowledges and nothing answers; the client closes after PingTimeout
// (1 s here: the lab's setting), as x/net does.
func pingConn(i int) *script {
	f := newFrames()
	s := &script{client: clientAddr(i), server: server}
	s.steps = append(handshake(), setup(f)...)
	_ = f.fr.WritePing(false, [8]byte{byte(i), byte(i >> 8), byte(i >> 16), 1})
	ping := f.take()
	s.steps = append(s.steps,
		step{fromClient: true, flags: tcpACK, payload: ping, gap: 2 * time.Millisecond},
		step{flags: tcpACK, gap: 40 * time.Microsecond},
		step{fromClient: true, flags: tcpFIN | tcpACK, gap: time.Second},
		step{flags: tcpFIN | tcpACK, gap: 60 * time.Microsecond},
		step{fromClient: true, flags: tcpACK, gap: 40 * time.Microsecond},
	)
	return s
}

// keepalivePings is how many PINGs a "keepalive" connection sends: 1,000
// s of a health check every 5 s.
const keepalivePings = 200

// keepaliveConn: a long-lived idle connection whose client PINGs every
// 5 s and the server answers each (x/net's ReadIdleTimeout, client-go's
// health check); it stays open to the end of the capture.
func keepaliveConn(i int) *script {
	f := newFrames()
	s := &script{client: clientAddr(i), server: server}
	s.steps = append(handshake(), setup(f)...)
	for k := range keepalivePings {
		data := [8]byte{byte(i), byte(i >> 8), byte(i >> 16), byte(k), byte(k >> 8), 0x5a, 0xc3, 0x17}
		_ = f.fr.WritePing(false, data)
		ping := f.take()
		_ = f.fr.WritePing(true, data)
		ack := f.take()
		s.steps = append(s.steps,
			step{fromClient: true, flags: tcpACK, payload: ping, gap: 5 * time.Second},
			step{flags: tcpACK, payload: ack, gap: 300 * time.Microsecond},
			step{fromClient: true, flags: tcpACK, gap: 40 * time.Microsecond},
		)
	}
	return s
}

// tlsGen runs real TLS HTTP/2 connections in memory.
type tlsGen struct {
	cert   tls.Certificate
	keylog io.Writer
	srv    *http2.Server
	h      http.Handler
	body   []byte
}

func newTLSGen(keylog io.Writer) (*tlsGen, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench"}, DNSNames: []string{"bench"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	g := &tlsGen{cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, keylog: keylog, srv: &http2.Server{}}
	g.body = bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	g.h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(g.body) })
	return g, nil
}

// recorder keeps what both ends write, in the order they write it.
type recorder struct {
	mu    sync.Mutex
	steps []step
}

type recConn struct {
	net.Conn
	r          *recorder
	fromClient bool
}

func (c *recConn) Write(b []byte) (int, error) {
	c.r.mu.Lock()
	for rest := b; len(rest) > 0; {
		n := min(len(rest), 1448)
		c.r.steps = append(c.r.steps, step{fromClient: c.fromClient, flags: tcpACK, payload: bytes.Clone(rest[:n]), gap: 15 * time.Microsecond})
		rest = rest[n:]
	}
	c.r.mu.Unlock()
	return c.Conn.Write(b)
}

// conn runs one TLS connection: 4 GETs of 64 KiB, then the client closes.
func (g *tlsGen) conn(i int) *script {
	s := &script{client: clientAddr(i), server: netip.MustParseAddrPort("198.19.0.2:443")}
	rec := &recorder{}
	cc, sc := net.Pipe()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tc := tls.Server(&recConn{Conn: sc, r: rec}, &tls.Config{Certificates: []tls.Certificate{g.cert}, NextProtos: []string{"h2"}})
		if tc.Handshake() != nil {
			return
		}
		g.srv.ServeConn(tc, &http2.ServeConnOpts{Handler: g.h})
	}()
	tc := tls.Client(&recConn{Conn: cc, r: rec, fromClient: true}, &tls.Config{InsecureSkipVerify: true, ServerName: "bench",
		NextProtos: []string{"h2"}, KeyLogWriter: g.keylog})
	tr := &http2.Transport{}
	if h2, err := tr.NewClientConn(tc); err == nil {
		for range 4 {
			req, _ := http.NewRequest("GET", "https://bench/x", nil)
			if resp, err := h2.RoundTrip(req); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
		_ = h2.Close()
	}
	_ = tc.Close()
	wg.Wait()
	s.steps = append(handshake(), rec.steps...)
	s.steps = append(s.steps,
		step{fromClient: true, flags: tcpFIN | tcpACK, gap: 100 * time.Microsecond},
		step{flags: tcpFIN | tcpACK, gap: 60 * time.Microsecond},
		step{fromClient: true, flags: tcpACK, gap: 40 * time.Microsecond})
	return s
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
