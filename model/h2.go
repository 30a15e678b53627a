package model

import (
	"net/netip"
	"time"
)

// The HTTP/2 and verdict parts of the JSON contract (added in version 1;
// names are never renamed).

// Summary is the across-connections view: the headline and the per-path table.
type Summary struct {
	Connections        int `json:"connections"`
	ProblemConnections int `json:"problem_connections"`
	// BenignGoaways counts connections a draining server ended with
	// GOAWAY NO_ERROR: not problems, so not in ProblemConnections.
	BenignGoaways int `json:"benign_goaways"`
	// HealthyNotListed counts the connections Options.ForgetHealthy
	// dropped (h2pcap live): healthy, closed, in Connections and Paths
	// but not in the Report's list.
	HealthyNotListed int    `json:"healthy_not_listed,omitempty"`
	Headline         string `json:"headline"`
	Paths            []Path `json:"paths"`
	// Incidents groups connections that failed the same way within a
	// short window, compared with those on the same path that did not:
	// the part of the path that broke. Empty when nothing failed together.
	Incidents []Incident `json:"incidents,omitempty"`
	// Attempts describes a capture made mostly of connection attempts
	// that carried no data (a SYN flood, a port scan, a reconnect storm
	// against a dead server); nil otherwise.
	Attempts *Attempts `json:"attempts,omitempty"`
	// Probes is the probe traffic the capture caught (traceroute -T,
	// tcptraceroute: SYNs whose TTL counts up from 1, answered by ICMP
	// time exceeded or by a SYN-ACK the prober's kernel resets), per
	// prober and target. Probes are not connections: they are in neither
	// Connections nor the Report's connection list, never counted as
	// problems and never used to infer the capture point. Empty without
	// probes.
	Probes []ProbeTarget `json:"probes,omitempty"`
	// DialRaceSpares counts connections that were the spare of a dial
	// race (Verdict.DialRaceSpare): healthy, benign, told apart in the
	// headline.
	DialRaceSpares int `json:"dial_race_spares,omitempty"`
	// Etcd is the etcd cluster's peer traffic: members, leaders,
	// elections and the loss per member pair; nil without etcd peer
	// connections.
	Etcd *Etcd `json:"etcd,omitempty"`
	// GRPC sums the connections' gRPC calls per method and outcome,
	// most calls first; absent without gRPC.
	GRPC []GRPCCount `json:"grpc,omitempty"`
	// Hops is, in a multi-point analysis, each pair of adjacent capture
	// points per direction with the packets lost between them, over all
	// connections; absent with one point.
	Hops []Hop `json:"hops,omitempty"`
}

// Attempts counts connections that never carried a byte of data.
type Attempts struct {
	Connections int `json:"connections"` // attempts: no payload either way
	Answered    int `json:"answered"`    // ... that the server answered (SYN-ACK or RST)
	Servers     int `json:"servers"`     // distinct server endpoints they went to
	Clients     int `json:"clients"`     // distinct client addresses they came from
	// Top is the server endpoint that got the most attempts, and how many.
	Top      string `json:"top_server"`
	TopCount int    `json:"top_server_attempts"`
}

// ProbeTarget is the probes one host sent to one destination.
type ProbeTarget struct {
	Prober string `json:"prober"` // the probing host's address
	Target string `json:"target"` // ip:port probed, IPv6 as [addr]:port
	Probes int    `json:"probes"`
	// Streams are the probes' tcp.stream numbers (Wireshark's), in order:
	// the connection numbers missing from the Report's list.
	Streams []int     `json:"streams"`
	Start   time.Time `json:"start"` // the first probe's SYN
	End     time.Time `json:"end"`   // the last probe's last packet
	// TTLs is what became of the probes, per TTL, lowest first.
	TTLs []ProbeTTL `json:"ttls"`
	// Point is the capture point whose capture the probes are counted
	// from (their streams, frames and TTLs are that capture's, their
	// times on the reference point's clock), when several points were
	// given and the reference point saw none of them; omitted otherwise.
	Point string `json:"point,omitempty"`
}

// ProbeTTL is what became of the probes sent with one TTL.
type ProbeTTL struct {
	// TTL is the SYN's TTL (hop limit) as this capture saw it: at the
	// prober, the TTL it set; further along the path, lower by the hops
	// in between.
	TTL  int `json:"ttl"`
	Sent int `json:"sent"`
	// ICMP counts probes answered by an ICMP error (time exceeded: the
	// TTL ran out at a router; or unreachable), Hops the routers that
	// sent them, in order first seen.
	ICMP int      `json:"icmp"`
	Hops []string `json:"hops,omitempty"`
	// SYNAck counts probes that reached the target and were answered by
	// a SYN-ACK (then reset by the prober's kernel), Reset those answered
	// by an RST (nothing listening).
	SYNAck int `json:"syn_ack"`
	Reset  int `json:"reset"`
	// Unanswered counts probes with no answer in the capture: lost on
	// the way there or back, dropped by a router that sends no ICMP (or
	// rate-limits it), or answered past the capture.
	Unanswered int `json:"unanswered"`
}

// IncidentKind says what shape a group of failures has.
type IncidentKind string

// Incident kinds.
const (
	// IncidentPerFlow: some flows on a client->server path died together
	// while others on it, before and after, stayed clean: a
	// hash-dependent fault (an ECMP or LAG member, one node behind a VIP).
	IncidentPerFlow IncidentKind = "per_flow"
	// IncidentPathOutage: every flow on a path died together.
	IncidentPathOutage IncidentKind = "path_outage"
	// IncidentHandshakeOutage: new connections failed from Start to End
	// while established ones went on.
	IncidentHandshakeOutage IncidentKind = "handshake_outage"
	// IncidentServerOutage: the server reset or stopped answering every
	// connection (a crash, a restart).
	IncidentServerOutage IncidentKind = "server_outage"
)

// Incident is one group of connections that failed together.
type Incident struct {
	Kind   IncidentKind `json:"kind"`
	Server string       `json:"server"`
	Start  time.Time    `json:"start"`
	End    time.Time    `json:"end"`
	// Connections are the streams (Connection.Stream) that failed, of
	// the reference point's capture in a multi-point analysis.
	Connections []int `json:"connections"`
	// ConnectionsAt are, in a multi-point analysis, the failed
	// connections the reference point never saw (Connection.Point):
	// each point's streams. Absent when there are none.
	ConnectionsAt []PointStreams `json:"connections_at,omitempty"`
	// Unaffected counts the connections on the same path, in or around
	// the window, that stayed clean.
	Unaffected  int    `json:"unaffected"`
	Explanation string `json:"explanation"`
	// Waves counts the moments a steady failure killed flows at, one
	// after the other from Start to End with nothing healthy on the path
	// between them (every flow dying as its health check came due);
	// absent for one moment.
	Waves int `json:"waves,omitempty"`
}

// PointStreams are streams of one capture point's capture.
type PointStreams struct {
	Point   string `json:"point"`
	Streams []int  `json:"streams"`
}

// Path aggregates the connections from one client subnet to one server
// endpoint: the table that shows "node -> load balancer lossy, node -> node clean".
type Path struct {
	ClientNet          string  `json:"client_net"` // e.g. 198.18.1.0/24, [fd18::]/64
	Server             string  `json:"server"`
	Connections        int     `json:"connections"`
	LostPings          int     `json:"lost_pings"`
	RetransmissionRate float64 `json:"retransmission_rate"` // retransmitted / data segments, both directions
	Resets             int     `json:"resets"`
}

// HTTP2 is what the HTTP/2 analysis found on one connection.
type HTTP2 struct {
	// Frames counts frames by RFC 9113 type name per direction; PING
	// counts PINGs and their ACKs, as tshark's http2.type does.
	Frames       map[Direction]map[string]int `json:"frames"`
	Pings        []Ping                       `json:"pings"`
	Goaways      []Goaway                     `json:"goaways"`
	RSTStreams   []RSTStream                  `json:"rst_streams"`
	SkippedBytes map[Direction]int64          `json:"skipped_bytes"`

	// Detected says how HTTP/2 was found: "preface" (the client
	// connection preface), "upgrade" (HTTP/1.1 Upgrade: h2c and 101),
	// "frames" (frame sync on the byte stream: a capture that began
	// mid-connection), "port" (Options.H2Ports), or "tls-record-sizes"
	// (TLS not decrypted: only PINGs, inferred from record sizes, are
	// known, and Frames is empty).
	Detected string `json:"detected"`
	// GapBytes counts the bytes of each direction the capture never had
	// (holes never filled, snaplen cuts): the HTTP/2 decoder resynced
	// after them.
	GapBytes map[Direction]int64 `json:"gap_bytes"`
	// TruncatedFrames counts frames part of which the capture never had
	// (a gap inside, or the capture ended inside); Frames leaves them
	// out, as tshark shows none.
	TruncatedFrames map[Direction]int `json:"truncated_frames,omitempty"`
	// LastFrame is each direction's last HTTP/2 frame, complete or not:
	// when a side last spoke.
	LastFrame map[Direction]*FrameRef `json:"last_frame"`
	// PingsDropped counts PINGs not listed once a connection has more
	// than the per-connection cap; RSTStreamsDropped the same for
	// RST_STREAMs.
	PingsDropped      int `json:"pings_dropped,omitempty"`
	RSTStreamsDropped int `json:"rst_streams_dropped,omitempty"`
	// GoawaysDropped counts the GOAWAY frames past the first 64, not
	// listed.
	GoawaysDropped int `json:"goaways_dropped,omitempty"`
	// PingsFolded, on a connection that listed more than 64 PINGs (a
	// long-lived one pinging every few seconds), counts the old
	// answered, timely PINGs taken out of Pings to make room, with their
	// RTTs; absent otherwise. Pings keeps the latest ones and every
	// unanswered or late one.
	PingsFolded *PingFold `json:"pings_folded,omitempty"`

	// HealthCheck is the client's health-check settings inferred from
	// its PINGs; nil when it sent none that tell.
	HealthCheck *HealthCheck `json:"health_check,omitempty"`
	// Settings holds each side's SETTINGS values, as last announced, by
	// RFC 9113 name (HEADER_TABLE_SIZE, MAX_FRAME_SIZE, ...).
	Settings map[Direction]map[string]uint32 `json:"settings"`
	// Streams lists requests: the first and the last few, and the ones
	// still open at the end of the capture (bounded; StreamsTotal counts
	// them all).
	Streams      []H2Stream `json:"streams"`
	StreamsTotal int        `json:"streams_total"`
	// GRPC counts the finished gRPC calls per method and outcome
	// (grpc-status and grpc-message from the trailers, or the
	// RST_STREAM that ended a call without one); absent without gRPC.
	GRPC []GRPCCount `json:"grpc,omitempty"`
	// FlowStalls are flow-control windows that reached zero with the
	// stream not finished. Only computed when both directions were seen
	// from the connection's start without gaps (windows are otherwise
	// unknown).
	FlowStalls []FlowStall `json:"flow_stalls"`
	// FlowStallsDropped counts the stalls past the per-connection cap,
	// not in FlowStalls (a bulk transfer to a slow reader stalls at
	// every window it sends); absent when none were.
	FlowStallsDropped int `json:"flow_stalls_dropped,omitempty"`
	// FlowControlKnown says whether FlowStalls could be computed.
	FlowControlKnown bool `json:"flow_control_known"`
}

// FrameRef points at the capture frame that completed an HTTP/2 frame.
type FrameRef struct {
	Frame int       `json:"frame"`
	Input int       `json:"input"`
	Time  time.Time `json:"time"`
	Type  string    `json:"type"`
}

// HealthCheck is what a client's PINGs tell about its health-check
// settings (x/net/http2 Transport ReadIdleTimeout and PingTimeout).
type HealthCheck struct {
	// ReadIdleTimeoutS is the median idle gap before the client's
	// health-check PINGs: time since the last frame the client received.
	ReadIdleTimeoutS *float64 `json:"read_idle_timeout_s"`
	// IdleSamples is how many PINGs that median is over.
	IdleSamples int `json:"idle_samples"`
	// PingTimeoutS is the time from the last unanswered client PING to
	// the client closing the connection (FIN or RST).
	PingTimeoutS *float64 `json:"ping_timeout_s"`
	// PingFrame and CloseFrame are the frames PingTimeoutS is measured
	// between.
	PingFrame  int `json:"ping_frame,omitempty"`
	CloseFrame int `json:"close_frame,omitempty"`
	// ClientGoDefaults is true when the values found (at least one)
	// match client-go's ReadIdleTimeout 30 s and PingTimeout 15 s.
	ClientGoDefaults bool `json:"client_go_defaults"`
}

// H2Stream is one HTTP/2 stream (request).
type H2Stream struct {
	ID         uint32 `json:"id"`
	Method     string `json:"method,omitempty"`
	Path       string `json:"path,omitempty"`
	Authority  string `json:"authority,omitempty"`
	Status     string `json:"status,omitempty"`
	GRPCStatus string `json:"grpc_status,omitempty"`
	// Partial: some header fields could not be decoded (HPACK state from
	// before the capture or a gap).
	Partial    bool `json:"partial,omitempty"`
	FirstFrame int  `json:"first_frame"`
	LastFrame  int  `json:"last_frame"`
	Input      int  `json:"input"`
	// State: open, closed (END_STREAM both ways), half_closed_local (the
	// client ended its side), half_closed_remote (the server ended its
	// side), reset: the Stream* constants.
	State       string `json:"state"`
	ClientBytes int64  `json:"client_bytes"` // DATA payload, padding included
	ServerBytes int64  `json:"server_bytes"`
	Reset       string `json:"reset,omitempty"` // RST_STREAM error code
}

// FlowStall is a flow-control send window that reached zero (or less)
// while the sender's stream was not finished.
type FlowStall struct {
	From   string `json:"from"`   // the sender that could not send
	Stream uint32 `json:"stream"` // 0: the connection window
	Frame  int    `json:"frame"`  // the DATA frame that used the window up
	Input  int    `json:"input"`
	// UpdateFrame is the WINDOW_UPDATE (or SETTINGS) that opened the
	// window again; 0 if none did.
	UpdateFrame int      `json:"update_frame,omitempty"`
	DurationMs  *float64 `json:"duration_ms"`
	// ResumedFrame is the sender's first DATA after the window opened
	// (on the stream, or any stream for the connection window): the data
	// that was waiting. 0 if none came.
	ResumedFrame int `json:"resumed_frame,omitempty"`
}

// Ping is one PING and, when seen, its ACK.
type Ping struct {
	Frame    int      `json:"frame"`
	Input    int      `json:"input"`
	From     string   `json:"from"`   // client, server
	Data     string   `json:"data"`   // 16 hex digits; empty when Inferred
	Sender   string   `json:"sender"` // go-health-check, grpc-keepalive, grpc-bdp, grpc-drain, unknown
	Acked    bool     `json:"acked"`
	AckFrame int      `json:"ack_frame,omitempty"`
	AckInput int      `json:"ack_input,omitempty"`
	RTTms    *float64 `json:"rtt_ms"`
	// Late: the ACK came back after more than 10 round trips (the
	// handshake's, at least 200 ms; 1 s when the handshake was not seen):
	// the PING or its ACK waited behind lost or queued data.
	Late bool `json:"late,omitempty"`
	// Time and AckTime are the capture times of the PING and its ACK.
	// Frame is 0 for an ACK whose PING was not captured (the capture began
	// after it, or it fell in a gap): Acked is then true and RTTms nil.
	Time    time.Time  `json:"time"`
	AckTime *time.Time `json:"ack_time,omitempty"`
	// IdleMs is how long the PING's sender had received no frame when
	// it sent it (for a client PING, about its ReadIdleTimeout); nil when
	// the peer sent no frame before.
	IdleMs *float64 `json:"idle_ms"`
	// Inferred is true for PINGs found in encrypted traffic by record
	// size and timing rather than decoded.
	Inferred bool `json:"inferred"`
	// Reason says, for an inferred PING, what made the record one: its
	// size, the silence before it, and the peer's answer or its absence.
	Reason string `json:"reason,omitempty"`
}

// PingFold is what the PINGs folded out of HTTP2.Pings add up to.
type PingFold struct {
	Count      int `json:"count"`
	FromClient int `json:"from_client"`
	FromServer int `json:"from_server"`
	// The first and the last folded PING.
	FirstFrame int `json:"first_frame"`
	FirstInput int `json:"first_input"`
	LastFrame  int `json:"last_frame"`
	LastInput  int `json:"last_input"`
	// RTT is their round trips, by bucket (empty buckets left out).
	RTT []PingRTTBucket `json:"rtt"`
}

// PingRTTBucket counts the folded PINGs whose RTT was at most LEms
// milliseconds and above the previous bucket's; LEms is null for the
// last bucket (over 5 s).
type PingRTTBucket struct {
	LEms  *float64 `json:"le_ms"`
	Count int      `json:"count"`
}

// Ping.Sender values: who sends PINGs with such data.
const (
	PingGoHealthCheck = "go-health-check" // x/net/http2 Transport ReadIdleTimeout: 8 random bytes
	PingGRPCKeepalive = "grpc-keepalive"  // grpc-go keepalive: all zeros
	// PingGRPCBDP is grpc-go's BDP estimator: a bandwidth probe sent
	// with data, whose missing ACK never closes a connection.
	PingGRPCBDP   = "grpc-bdp"
	PingGRPCDrain = "grpc-drain" // grpc-go graceful drain (GOAWAY handshake)
	PingUnknown   = "unknown"
)

// Goaway is one GOAWAY frame.
type Goaway struct {
	Frame        int    `json:"frame"`
	Input        int    `json:"input"`
	From         string `json:"from"`
	LastStreamID uint32 `json:"last_stream_id"`
	Error        string `json:"error"` // RFC 9113 name: NO_ERROR, ENHANCE_YOUR_CALM, ...
	Debug        string `json:"debug"`
	// CutStreams are streams above LastStreamID, opened by the GOAWAY's
	// receiver, that were still open: the ones it cut off (bounded).
	CutStreams []uint32 `json:"cut_streams"`
	// CutStreamsDropped counts the cut-off streams beyond those listed
	// (the lowest 64).
	CutStreamsDropped int `json:"cut_streams_dropped,omitempty"`
}

// RSTStream is one RST_STREAM frame.
type RSTStream struct {
	Frame  int    `json:"frame"`
	Input  int    `json:"input"`
	From   string `json:"from"`
	Stream uint32 `json:"stream"`
	Error  string `json:"error"`
}

// Verdict is the judgement on one connection.
type Verdict struct {
	// Kind: healthy, degraded, lost_ping, goaway, reset, silent,
	// blackholed, connect_failed.
	Kind Kind `json:"kind"`
	// LossDirection: none, client_to_server, server_to_client, both, unknown.
	LossDirection LossDirection `json:"loss_direction"`
	// LossLocation relative to the capture point: before_capture,
	// after_capture, unknown.
	LossLocation LossLocation `json:"loss_location"`
	// LossLocations is the location per lossy direction, for when the two
	// directions differ (a client-side capture sees the server's losses
	// before it and the client's after it); nil without loss.
	LossLocations map[Direction]LossLocation `json:"loss_locations,omitempty"`
	// Suspects, each only with evidence: mtu_blackhole, middlebox_reset,
	// capture_drops, idle_timeout, zero_window, too_many_pings,
	// server_stalled.
	Suspects []Suspect  `json:"suspects"`
	Summary  string     `json:"summary"`
	Evidence []Evidence `json:"evidence"`
	// Filter is the Wireshark display filter that shows the evidence
	// (frame numbers of one input; with several inputs, of the input
	// the first evidence is in), or the whole connection.
	Filter string `json:"wireshark_filter"`
	// Since is the last packet that made progress (new data acknowledged,
	// or the last packet from the peer) before the connection died:
	// blackholed, lost_ping, silent; for connect_failed, the client's
	// first SYN (when the attempt that never completed began). Nil where
	// the verdict has no such moment.
	Since *Moment `json:"since,omitempty"`
	// RetryingMs (blackholed only) is how long the dead direction's
	// sender kept trying: from the first transmission of the oldest data
	// never acknowledged (as the capture saw it; after a partial ACK, from
	// that ACK) to its last retransmission in the capture. Retries counts
	// those retransmissions, none of them answered.
	RetryingMs *float64 `json:"retrying_ms,omitempty"`
	Retries    int      `json:"retries,omitempty"`
	// DialRaceSpare marks (kind healthy) a spare connection of a dial
	// race: the client dialed it together with another to the same server,
	// finished its TLS handshake and closed it at once without a request,
	// as Go's HTTP/2 client does when several requests start before its
	// first connection is up. Benign; Summary.DialRaceSpares counts them.
	DialRaceSpare bool `json:"dial_race_spare,omitempty"`
	// EndedBy names the client mechanism that ended the connection, where
	// the evidence shows it (empty otherwise): keepalive_ping,
	// tcp_user_timeout.
	EndedBy EndedBy `json:"ended_by,omitempty"`
	// Abandoned is when the client gave up on the connection without a
	// FIN or an RST reaching the wire: its redial's first packet
	// (Connection.Redial). What the old connection carried after it was
	// its dead socket's retransmissions.
	Abandoned *Moment `json:"abandoned,omitempty"`
}

// EndedBy is the client mechanism that ended a connection.
type EndedBy string

// EndedBy values.
const (
	// EndedKeepalivePing: grpc-go's keepalive PING (all zeros) went
	// unanswered for its keepalive Timeout; the client closed the
	// connection and redialled.
	EndedKeepalivePing EndedBy = "keepalive_ping"
	// EndedUserTimeout: the client's data went unanswered for about its
	// keepalive Timeout with no PING at all: grpc-go sets TCP_USER_TIMEOUT
	// to it, so the kernel dropped the socket without a FIN or an RST,
	// and the client redialled at once.
	EndedUserTimeout EndedBy = "tcp_user_timeout"
)

// Evidence is one frame that supports a verdict.
type Evidence struct {
	Frame int    `json:"frame"`
	Input int    `json:"input"`
	Note  string `json:"note"`
}

// H2Stream.State values.
const (
	StreamOpen             = "open"
	StreamClosed           = "closed"
	StreamHalfClosedLocal  = "half_closed_local"
	StreamHalfClosedRemote = "half_closed_remote"
	StreamReset            = "reset"
)

// The sides a From or By field names: who sent a PING, a GOAWAY, an
// RST_STREAM or a notice's packet, and who closed a connection.
const (
	SideClient = "client"
	SideServer = "server"
)

// ClientNet is the client's subnet (Path.ClientNet): /24 for IPv4, /64 for IPv6, written
// [addr]/64 for IPv6 as endpoints are.
func ClientNet(client string) string {
	ap, err := netip.ParseAddrPort(client)
	if err != nil {
		return client
	}
	addr := ap.Addr().Unmap()
	if addr.Is4() {
		p, _ := addr.Prefix(24)
		return p.String()
	}
	p, _ := addr.Prefix(64)
	return "[" + p.Addr().String() + "]/64"
}
