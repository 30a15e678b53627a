package metrics

import (
	"net/http"
	"net/netip"

	"github.com/h2pcap/h2pcap/model"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/net/http2"
)

// DefaultMaxServers is the number of server label values kept when
// Options.MaxServers is zero.
const DefaultMaxServers = 1000

// Other is the label value that stands for every server past the cap, and
// for a GOAWAY code that is not one of HTTP/2's.
const Other = "other"

// rttBuckets are the PING RTT histogram's upper bounds in seconds: from
// 100 µs (a PING across a node's veth) to 15 s (past any client's
// PingTimeout, for an ACK that came back very late), 1-2.5-5 per decade
// so that a quantile is read within a factor of about two anywhere.
var rttBuckets = []float64{
	0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05,
	0.1, 0.25, 0.5,
	1, 2.5, 5,
	10, 15,
}

// CaptureStats are a capture's counters: packets handed to the analysis,
// and packets lost by the capture (never by the network) in the kernel's
// ring or in the tool's queue behind it.
type CaptureStats struct {
	Packets     uint64
	KernelDrops uint64
	ToolDrops   uint64
}

// Options configure New.
type Options struct {
	// MaxServers caps the distinct values of the server label; notices
	// about further servers are counted under server="other". Zero means
	// DefaultMaxServers. The cap keeps the series count bounded on a node
	// that talks to many endpoints (a port scan, a client-side capture of
	// a busy proxy): each server brings about 30 series.
	MaxServers int
	// Capture, when set, is read at each scrape for the capture's
	// counters; it is called from the HTTP server's goroutines.
	Capture func() CaptureStats
	// Runtime adds the Go runtime and process collectors (memory, CPU,
	// file descriptors), what a DaemonSet's resource limits are set from.
	Runtime bool
}

// Metrics counts notices. Notice must be called from one goroutine (the
// analysis's); scrapes may run concurrently with it.
type Metrics struct {
	reg        *prometheus.Registry
	maxServers int
	servers    map[netip.AddrPort]*server // only touched by Notice
	other      *server

	rtt           *prometheus.HistogramVec
	unanswered    *prometheus.CounterVec
	late          *prometheus.CounterVec
	retrans       *prometheus.CounterVec
	resets        *prometheus.CounterVec
	goaways       *prometheus.CounterVec
	open          *prometheus.GaugeVec
	opened        *prometheus.CounterVec
	findings      *prometheus.CounterVec
	serversCapped prometheus.Counter
	leaderChanges prometheus.Counter
	grpcCalls     *prometheus.CounterVec
}

// server holds one server label value's series, resolved once so that a
// notice costs a map lookup and an atomic add, not a label hash: the
// callback runs on the analysis goroutine, between packets.
type server struct {
	label      string
	rtt        prometheus.Observer
	unanswered prometheus.Counter
	late       prometheus.Counter
	retrans    [3]prometheus.Counter // by side; unknown made on first use
	resets     [3]prometheus.Counter // by side; unknown made on first use
	open       prometheus.Gauge
	opened     prometheus.Counter
	// Made on first use: most servers never see most of them.
	findings map[model.NoticeKind]prometheus.Counter
	goaways  map[string]prometheus.Counter    // by code
	grpc     map[[2]string]prometheus.Counter // by method and code, at most maxGRPCSeries
}

// maxGRPCSeries caps the gRPC (method, code) series per server: a client
// calls a handful of methods that end a handful of ways; a peer sending
// made-up paths or codes is counted under method="other".
const maxGRPCSeries = 64

// Sides, the from label's values, as indexes of server.retrans and resets.
const (
	sideClient = iota
	sideServer
	sideUnknown
)

var sides = [...]string{sideClient: "client", sideServer: "server", sideUnknown: "unknown"}

// goawayCodes are the label values a GOAWAY code may take: HTTP/2's
// codes by name (as analyze gives them), the rest as Other, so a peer
// sending made-up codes cannot add series.
var goawayCodes = func() map[string]bool {
	m := make(map[string]bool)
	for c := http2.ErrCodeNo; c <= http2.ErrCodeHTTP11Required; c++ {
		m[c.String()] = true
	}
	return m
}()

// New makes the metrics and a registry of their own holding them.
func New(opts Options) *Metrics {
	m := &Metrics{
		reg:        prometheus.NewRegistry(),
		maxServers: opts.MaxServers,
		servers:    make(map[netip.AddrPort]*server),
	}
	if m.maxServers <= 0 {
		m.maxServers = DefaultMaxServers
	}
	srvLabel := []string{"server"}
	m.rtt = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "h2pcap_ping_rtt_seconds",
		Help:    "Time from an HTTP/2 PING to its ACK, as seen at the capture point, for PINGs answered in time or late.",
		Buckets: rttBuckets,
	}, srvLabel)
	m.unanswered = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "h2pcap_pings_unanswered_total",
		Help: "HTTP/2 PINGs whose sender gave up waiting for the ACK (the `http2: client connection lost` signature).",
	}, srvLabel)
	m.late = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "h2pcap_ping_late_total",
		Help: "HTTP/2 PINGs whose ACK came back late.",
	}, srvLabel)
	m.retrans = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "h2pcap_tcp_retransmissions_total",
		Help: "TCP retransmissions, by the side that sent them (client or server).",
	}, []string{"server", "from"})
	m.resets = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "h2pcap_tcp_resets_total",
		Help: "TCP resets, by the side they claim to come from (client, server, or unknown).",
	}, []string{"server", "from"})
	m.goaways = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "h2pcap_goaways_total",
		Help: "HTTP/2 GOAWAY frames, by error code (NO_ERROR from a draining server is benign).",
	}, []string{"server", "code"})
	m.open = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "h2pcap_connections_open",
		Help: "TCP connections seen open now.",
	}, srvLabel)
	m.opened = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "h2pcap_connections_total",
		Help: "TCP connections seen opening (or already open when the capture began).",
	}, srvLabel)
	m.findings = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "h2pcap_findings_total",
		Help: "Findings as h2pcap live prints them, by kind (ping_late, ping_lost, goaway, reset, retransmission_burst, silent, connect_failed).",
	}, []string{"server", "kind"})
	m.serversCapped = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "h2pcap_metrics_servers_capped_total",
		Help: "Notices counted under server=\"other\" because the number of server label values reached its cap.",
	})
	m.leaderChanges = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "h2pcap_etcd_leader_changes_total",
		Help: "etcd leader changes seen in the peer traffic (port 2380): a member leading a term above the highest seen, another having led the term before.",
	})
	m.grpcCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "h2pcap_grpc_calls_total",
		Help: "gRPC calls finished, by method and by grpc-status name (OK, Unavailable, ...) or \"RST_STREAM <code>\" for a call reset without a status.",
	}, []string{"server", "method", "code"})
	m.reg.MustRegister(m.rtt, m.unanswered, m.late, m.retrans, m.resets, m.goaways, m.open, m.opened, m.findings, m.serversCapped,
		m.leaderChanges, m.grpcCalls)
	if opts.Capture != nil {
		m.reg.MustRegister(&captureCollector{stats: opts.Capture})
	}
	if opts.Runtime {
		m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	return m
}

// Registry returns the registry holding the metrics.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Notice counts n; it has the signature of analyze.Options.OnNotice and
// does not keep n.
func (m *Metrics) Notice(n *model.Notice) {
	s := m.server(n.Server)
	switch n.Kind {
	case model.NoticeConnOpen:
		s.open.Inc()
		s.opened.Inc()
	case model.NoticeConnClose:
		s.open.Dec()
	case model.NoticePingAck:
		s.rtt.Observe(n.RTT.Seconds())
	case model.NoticePingLate:
		s.rtt.Observe(n.RTT.Seconds())
		s.late.Inc()
	case model.NoticePingLost:
		s.unanswered.Inc()
	case model.NoticeRetrans:
		s.bySide(&s.retrans, m.retrans, n.From).Inc()
	case model.NoticeReset:
		s.bySide(&s.resets, m.resets, n.From).Inc()
	case model.NoticeGoaway:
		s.goaway(m.goaways, n.Code).Inc()
	case model.NoticeEtcdLeaderChange:
		m.leaderChanges.Inc()
	case model.NoticeGRPCCall:
		s.grpcCall(m.grpcCalls, n.Method, n.Code).Inc()
	}
	if n.Finding() {
		c := s.findings[n.Kind]
		if c == nil {
			c = m.findings.WithLabelValues(s.label, string(n.Kind))
			s.findings[n.Kind] = c
		}
		c.Inc()
	}
}

func side(from string) int {
	switch from {
	case model.SideClient:
		return sideClient
	case model.SideServer:
		return sideServer
	}
	return sideUnknown
}

// server returns the series of a server, made on its first notice, or
// those of Other once the cap is reached.
func (m *Metrics) server(ap netip.AddrPort) *server {
	if s, ok := m.servers[ap]; ok {
		return s
	}
	if len(m.servers) >= m.maxServers {
		m.serversCapped.Inc()
		if m.other == nil {
			m.other = m.newServer(Other)
		}
		return m.other
	}
	label := ap.String()
	if !ap.IsValid() {
		label = "unknown" // analyze always sets Server; this only keeps "invalid AddrPort" out of the labels
	}
	s := m.newServer(label)
	m.servers[ap] = s
	return s
}

func (m *Metrics) newServer(label string) *server {
	s := &server{
		label:      label,
		rtt:        m.rtt.WithLabelValues(label),
		unanswered: m.unanswered.WithLabelValues(label),
		late:       m.late.WithLabelValues(label),
		open:       m.open.WithLabelValues(label),
		opened:     m.opened.WithLabelValues(label),
		findings:   make(map[model.NoticeKind]prometheus.Counter),
		goaways:    make(map[string]prometheus.Counter),
		grpc:       make(map[[2]string]prometheus.Counter),
	}
	// Zero from the start, so that rate() sees the first retransmission
	// or reset of a server rather than a series appearing at 1.
	for _, i := range []int{sideClient, sideServer} {
		s.retrans[i] = m.retrans.WithLabelValues(label, sides[i])
		s.resets[i] = m.resets.WithLabelValues(label, sides[i])
	}
	return s
}

// bySide returns the counter of side from in cs, made on first use.
func (s *server) bySide(cs *[3]prometheus.Counter, vec *prometheus.CounterVec, from string) prometheus.Counter {
	i := side(from)
	if cs[i] == nil {
		cs[i] = vec.WithLabelValues(s.label, sides[i])
	}
	return cs[i]
}

func (s *server) goaway(vec *prometheus.CounterVec, code string) prometheus.Counter {
	if !goawayCodes[code] {
		code = Other
	}
	c := s.goaways[code]
	if c == nil {
		c = vec.WithLabelValues(s.label, code)
		s.goaways[code] = c
	}
	return c
}

func (s *server) grpcCall(vec *prometheus.CounterVec, method, code string) prometheus.Counter {
	k := [2]string{method, code}
	c := s.grpc[k]
	if c == nil {
		if len(s.grpc) >= maxGRPCSeries {
			k = [2]string{Other, Other}
			if c = s.grpc[k]; c != nil {
				return c
			}
		}
		c = vec.WithLabelValues(s.label, k[0], k[1])
		s.grpc[k] = c
	}
	return c
}

// captureCollector reads the capture's counters at scrape time, so they
// are as fresh as the scrape and cost nothing between scrapes.
type captureCollector struct {
	stats func() CaptureStats
}

var (
	capturePacketsDesc = prometheus.NewDesc("h2pcap_capture_packets_total",
		"Packets the capture handed to the analysis.", nil, nil)
	captureDropsDesc = prometheus.NewDesc("h2pcap_capture_drops_total",
		"Packets the capture lost, not the network: where=\"kernel\" the socket's ring was full, where=\"tool\" the analysis fell behind.",
		[]string{"where"}, nil)
)

func (c *captureCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- capturePacketsDesc
	ch <- captureDropsDesc
}

func (c *captureCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	ch <- prometheus.MustNewConstMetric(capturePacketsDesc, prometheus.CounterValue, float64(st.Packets))
	ch <- prometheus.MustNewConstMetric(captureDropsDesc, prometheus.CounterValue, float64(st.KernelDrops), "kernel")
	ch <- prometheus.MustNewConstMetric(captureDropsDesc, prometheus.CounterValue, float64(st.ToolDrops), "tool")
}
