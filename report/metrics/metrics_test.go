package metrics

import (
	"fmt"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/model"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

var (
	srvA = netip.MustParseAddrPort("198.18.2.2:8080")
	srvB = netip.MustParseAddrPort("[fd18:2::2]:8443")
	cli  = netip.MustParseAddrPort("198.18.1.2:40000")
)

func notice(kind model.NoticeKind, server netip.AddrPort, set ...func(*model.Notice)) *model.Notice {
	n := &model.Notice{Kind: kind, Server: server, Client: cli, Time: time.Unix(1_800_000_000, 0)}
	for _, f := range set {
		f(n)
	}
	return n
}

func rtt(d time.Duration) func(*model.Notice) { return func(n *model.Notice) { n.RTT = d } }
func from(s string) func(*model.Notice)       { return func(n *model.Notice) { n.From = s } }
func code(c string) func(*model.Notice)       { return func(n *model.Notice) { n.Code = c } }
func grpcCall(method, c string) func(*model.Notice) {
	return func(n *model.Notice) { n.Method, n.Code = method, c }
}

// TestNotice feeds synthetic notices and compares the exposition of the
// metrics each one should move.
func TestNotice(t *testing.T) {
	tests := []struct {
		name    string
		notices []*model.Notice
		metrics []string
		want    string
	}{
		{
			name: "connections open and close per server",
			notices: []*model.Notice{
				notice(model.NoticeConnOpen, srvA),
				notice(model.NoticeConnOpen, srvA),
				notice(model.NoticeConnOpen, srvB),
				notice(model.NoticeConnClose, srvA),
			},
			metrics: []string{"h2pcap_connections_open", "h2pcap_connections_total"},
			want: `
# HELP h2pcap_connections_open TCP connections seen open now.
# TYPE h2pcap_connections_open gauge
h2pcap_connections_open{server="198.18.2.2:8080"} 1
h2pcap_connections_open{server="[fd18:2::2]:8443"} 1
# HELP h2pcap_connections_total TCP connections seen opening (or already open when the capture began).
# TYPE h2pcap_connections_total counter
h2pcap_connections_total{server="198.18.2.2:8080"} 2
h2pcap_connections_total{server="[fd18:2::2]:8443"} 1
`,
		},
		{
			name: "etcd leader changes and gRPC calls by method and outcome",
			notices: []*model.Notice{
				notice(model.NoticeEtcdLeaderChange, srvA),
				notice(model.NoticeEtcdLeaderChange, srvB),
				notice(model.NoticeGRPCCall, srvA, grpcCall("/etcdserverpb.KV/Put", "OK")),
				notice(model.NoticeGRPCCall, srvA, grpcCall("/etcdserverpb.KV/Put", "OK")),
				notice(model.NoticeGRPCCall, srvA, grpcCall("/etcdserverpb.KV/Put", "RST_STREAM CANCEL")),
				notice(model.NoticeGRPCCall, srvA, grpcCall("/etcdserverpb.Watch/Watch", "Unavailable")),
			},
			metrics: []string{"h2pcap_etcd_leader_changes_total", "h2pcap_grpc_calls_total"},
			want: `
# HELP h2pcap_etcd_leader_changes_total etcd leader changes seen in the peer traffic (port 2380): a member leading a term above the highest seen, another having led the term before.
# TYPE h2pcap_etcd_leader_changes_total counter
h2pcap_etcd_leader_changes_total 2
# HELP h2pcap_grpc_calls_total gRPC calls finished, by method and by grpc-status name (OK, Unavailable, ...) or "RST_STREAM <code>" for a call reset without a status.
# TYPE h2pcap_grpc_calls_total counter
h2pcap_grpc_calls_total{code="OK",method="/etcdserverpb.KV/Put",server="198.18.2.2:8080"} 2
h2pcap_grpc_calls_total{code="RST_STREAM CANCEL",method="/etcdserverpb.KV/Put",server="198.18.2.2:8080"} 1
h2pcap_grpc_calls_total{code="Unavailable",method="/etcdserverpb.Watch/Watch",server="198.18.2.2:8080"} 1
`,
		},
		{
			name: "PING RTTs in the histogram, late ones counted too",
			notices: []*model.Notice{
				notice(model.NoticePingAck, srvA, rtt(80*time.Microsecond)),
				notice(model.NoticePingAck, srvA, rtt(3*time.Millisecond)),
				notice(model.NoticePingLate, srvA, rtt(1200*time.Millisecond)),
				notice(model.NoticePingLost, srvA, rtt(time.Second)),
			},
			metrics: []string{"h2pcap_ping_rtt_seconds", "h2pcap_ping_late_total", "h2pcap_pings_unanswered_total"},
			want: `
# HELP h2pcap_ping_late_total HTTP/2 PINGs whose ACK came back late.
# TYPE h2pcap_ping_late_total counter
h2pcap_ping_late_total{server="198.18.2.2:8080"} 1
# HELP h2pcap_ping_rtt_seconds Time from an HTTP/2 PING to its ACK, as seen at the capture point, for PINGs answered in time or late.
# TYPE h2pcap_ping_rtt_seconds histogram
h2pcap_ping_rtt_seconds_bucket{server="198.18.2.2:8080",le="0.0001"} 1
h2pcap_ping_rtt_seconds_bucket{server="198.18.2.2:8080",le="0.00025"} 1
h2pcap_ping_rtt_seconds_bucket{server="198.18.2.2:8080",le="0.0005"} 1
h2pcap_ping_rtt_seconds_bucket{server="198.18.2.2:8080",le="0.001"} 1
h2pcap_ping_rtt_seconds_bucket{server="198.18.2.2:8080",le="0.0025"} 1
h2pcap_ping_rtt_seconds_bucket{server="198.18.2.2:8080",le="0.005"} 2
h2pcap_ping_rtt_seconds_bucket{server="198.18.2.2:8080",le="0.01"} 2
h2pcap_ping_rtt_seconds_bucket{server="198.18.2.2:8080",le="0.025"} 2
h2pcap_ping_rtt_seconds_bucket{server="198.18.2.2:8080",le="0.05"} 2
h2pcap_ping_rtt_seconds_bucket{server="198.18.2.2:8080",le="0.1"} 2
h2pcap_ping_rtt_seconds_bucket{server="198.18.2.2:8080",le="0.25"} 2
h2pcap_ping_rtt_seconds_bucket{server="198.18.2.2:8080",le="0.5"} 2
h2pcap_ping_rtt_seconds_bucket{server="198.18.2.2:8080",le="1"} 2
h2pcap_ping_rtt_seconds_bucket{server="198.18.2.2:8080",le="2.5"} 3
h2pcap_ping_rtt_seconds_bucket{server="198.18.2.2:8080",le="5"} 3
h2pcap_ping_rtt_seconds_bucket{server="198.18.2.2:8080",le="10"} 3
h2pcap_ping_rtt_seconds_bucket{server="198.18.2.2:8080",le="15"} 3
h2pcap_ping_rtt_seconds_bucket{server="198.18.2.2:8080",le="+Inf"} 3
h2pcap_ping_rtt_seconds_sum{server="198.18.2.2:8080"} 1.20308
h2pcap_ping_rtt_seconds_count{server="198.18.2.2:8080"} 3
# HELP h2pcap_pings_unanswered_total HTTP/2 PINGs whose sender gave up waiting for the ACK (the ` + "`http2: client connection lost`" + ` signature).
# TYPE h2pcap_pings_unanswered_total counter
h2pcap_pings_unanswered_total{server="198.18.2.2:8080"} 1
`,
		},
		{
			name: "retransmissions and resets by side, zero series from the first notice",
			notices: []*model.Notice{
				notice(model.NoticeConnOpen, srvA),
				notice(model.NoticeRetrans, srvA, from("server")),
				notice(model.NoticeRetrans, srvA, from("server")),
				notice(model.NoticeRetrans, srvA, from("client")),
				notice(model.NoticeReset, srvA, from("")),
				notice(model.NoticeRetransBurst, srvA, from("server")),
			},
			metrics: []string{"h2pcap_tcp_retransmissions_total", "h2pcap_tcp_resets_total", "h2pcap_findings_total"},
			want: `
# HELP h2pcap_findings_total Findings as h2pcap live prints them, by kind (ping_late, ping_lost, goaway, reset, retransmission_burst, silent, connect_failed).
# TYPE h2pcap_findings_total counter
h2pcap_findings_total{kind="reset",server="198.18.2.2:8080"} 1
h2pcap_findings_total{kind="retransmission_burst",server="198.18.2.2:8080"} 1
# HELP h2pcap_tcp_resets_total TCP resets, by the side they claim to come from (client, server, or unknown).
# TYPE h2pcap_tcp_resets_total counter
h2pcap_tcp_resets_total{from="client",server="198.18.2.2:8080"} 0
h2pcap_tcp_resets_total{from="server",server="198.18.2.2:8080"} 0
h2pcap_tcp_resets_total{from="unknown",server="198.18.2.2:8080"} 1
# HELP h2pcap_tcp_retransmissions_total TCP retransmissions, by the side that sent them (client or server).
# TYPE h2pcap_tcp_retransmissions_total counter
h2pcap_tcp_retransmissions_total{from="client",server="198.18.2.2:8080"} 1
h2pcap_tcp_retransmissions_total{from="server",server="198.18.2.2:8080"} 2
`,
		},
		{
			name: "GOAWAY by code; a code that is not HTTP/2's is other",
			notices: []*model.Notice{
				notice(model.NoticeGoaway, srvA, code("NO_ERROR"), from("server")),
				notice(model.NoticeGoaway, srvA, code("NO_ERROR"), from("server")),
				notice(model.NoticeGoaway, srvB, code("ENHANCE_YOUR_CALM"), from("server")),
				notice(model.NoticeGoaway, srvB, code("unknown error code 0xdead"), from("server")),
			},
			metrics: []string{"h2pcap_goaways_total"},
			want: `
# HELP h2pcap_goaways_total HTTP/2 GOAWAY frames, by error code (NO_ERROR from a draining server is benign).
# TYPE h2pcap_goaways_total counter
h2pcap_goaways_total{code="ENHANCE_YOUR_CALM",server="[fd18:2::2]:8443"} 1
h2pcap_goaways_total{code="NO_ERROR",server="198.18.2.2:8080"} 2
h2pcap_goaways_total{code="other",server="[fd18:2::2]:8443"} 1
`,
		},
		{
			name: "a notice without a server endpoint",
			notices: []*model.Notice{
				notice(model.NoticeConnOpen, netip.AddrPort{}),
			},
			metrics: []string{"h2pcap_connections_total"},
			want: `
# HELP h2pcap_connections_total TCP connections seen opening (or already open when the capture began).
# TYPE h2pcap_connections_total counter
h2pcap_connections_total{server="unknown"} 1
`,
		},
		{
			name: "silent is a finding and nothing else",
			notices: []*model.Notice{
				notice(model.NoticeSilent, srvB),
			},
			metrics: []string{"h2pcap_findings_total", "h2pcap_pings_unanswered_total"},
			want: `
# HELP h2pcap_findings_total Findings as h2pcap live prints them, by kind (ping_late, ping_lost, goaway, reset, retransmission_burst, silent, connect_failed).
# TYPE h2pcap_findings_total counter
h2pcap_findings_total{kind="silent",server="[fd18:2::2]:8443"} 1
# HELP h2pcap_pings_unanswered_total HTTP/2 PINGs whose sender gave up waiting for the ACK (the ` + "`http2: client connection lost`" + ` signature).
# TYPE h2pcap_pings_unanswered_total counter
h2pcap_pings_unanswered_total{server="[fd18:2::2]:8443"} 0
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(Options{})
			for _, n := range tt.notices {
				m.Notice(n)
			}
			if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(tt.want), tt.metrics...); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestMaxServers: past the cap, servers share the label value other, so
// the number of series stays bounded whatever the capture sees.
func TestMaxServers(t *testing.T) {
	tests := []struct {
		max, servers int
		wantLabels   int // distinct server label values
		wantCapped   float64
	}{
		{max: 3, servers: 2, wantLabels: 2},
		{max: 3, servers: 3, wantLabels: 3},
		{max: 3, servers: 10, wantLabels: 4, wantCapped: 7 * 2},
		{max: 0, servers: DefaultMaxServers + 5, wantLabels: DefaultMaxServers + 1, wantCapped: 5 * 2},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("max %d servers %d", tt.max, tt.servers), func(t *testing.T) {
			m := New(Options{MaxServers: tt.max})
			for i := range tt.servers {
				ap := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 19, byte(i >> 8), byte(i)}), 443)
				m.Notice(notice(model.NoticeConnOpen, ap))
				m.Notice(notice(model.NoticeConnClose, ap))
			}
			if got := testutil.CollectAndCount(m.open); got != tt.wantLabels {
				t.Errorf("h2pcap_connections_open has %d series, want %d", got, tt.wantLabels)
			}
			if got := testutil.ToFloat64(m.serversCapped); got != tt.wantCapped {
				t.Errorf("h2pcap_metrics_servers_capped_total = %v, want %v", got, tt.wantCapped)
			}
			if tt.servers > tt.max && tt.max > 0 {
				if got := testutil.ToFloat64(m.opened.WithLabelValues(Other)); got != float64(tt.servers-tt.max) {
					t.Errorf(`h2pcap_connections_total{server="other"} = %v, want %d`, got, tt.servers-tt.max)
				}
			}
		})
	}
}

// TestCapture: the capture's counters are read at each scrape.
func TestCapture(t *testing.T) {
	st := CaptureStats{Packets: 10}
	m := New(Options{Capture: func() CaptureStats { return st }})
	want := func(packets, kernel, tool int) string {
		return fmt.Sprintf(`
# HELP h2pcap_capture_drops_total Packets the capture lost, not the network: where="kernel" the socket's ring was full, where="tool" the analysis fell behind.
# TYPE h2pcap_capture_drops_total counter
h2pcap_capture_drops_total{where="kernel"} %d
h2pcap_capture_drops_total{where="tool"} %d
# HELP h2pcap_capture_packets_total Packets the capture handed to the analysis.
# TYPE h2pcap_capture_packets_total counter
h2pcap_capture_packets_total %d
`, kernel, tool, packets)
	}
	names := []string{"h2pcap_capture_packets_total", "h2pcap_capture_drops_total"}
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want(10, 0, 0)), names...); err != nil {
		t.Error(err)
	}
	st = CaptureStats{Packets: 1500, KernelDrops: 7, ToolDrops: 2}
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want(1500, 7, 2)), names...); err != nil {
		t.Error(err)
	}
}

// TestHandler: the HTTP handler serves the text exposition, with the
// runtime collectors when asked for.
func TestHandler(t *testing.T) {
	m := New(Options{Runtime: true, Capture: func() CaptureStats { return CaptureStats{Packets: 3} }})
	m.Notice(notice(model.NoticeConnOpen, srvA))
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`h2pcap_connections_open{server="198.18.2.2:8080"} 1`,
		"h2pcap_capture_packets_total 3",
		"go_goroutines ",
		"process_resident_memory_bytes ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("no %q in /metrics:\n%s", want, body)
		}
	}
}

// BenchmarkNotice is the cost the callback adds to the analysis goroutine
// per notice.
func BenchmarkNotice(b *testing.B) {
	m := New(Options{})
	ns := []*model.Notice{
		notice(model.NoticeRetrans, srvA, from("server")),
		notice(model.NoticePingAck, srvB, rtt(time.Millisecond)),
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Notice(ns[i&1])
	}
}
