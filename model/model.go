package model

import (
	"fmt"
	"time"

	"github.com/h2pcap/h2pcap/decode"
)

// Report is the whole result of an analysis: the JSON contract, version 1.
// Later versions add fields; existing names never change.
type Report struct {
	Version int                 `json:"version"`
	Inputs  []*decode.InputInfo `json:"inputs"`
	// KeyLogs lists the key logs given, in order, with what each
	// decrypted; absent without any.
	KeyLogs     []KeyLogUse   `json:"key_logs,omitempty"`
	Connections []*Connection `json:"connections"`

	// CapturePoint is where the capture was taken, inferred from the
	// handshakes' timing and TTLs: client, server, middle or unknown.
	CapturePoint CapturePoint `json:"capture_point"`
	// CaptureHost is the address of the host the capture was taken on,
	// when its connections show one host at their near end that is the
	// client of some and the server of others (a node capturing its own
	// interface): still that host's capture, which capture_point (one
	// role) cannot say. Absent otherwise.
	CaptureHost string   `json:"capture_host,omitempty"`
	Summary     *Summary `json:"summary"`
	// Points are the capture points of a multi-point analysis, in the
	// order given; absent with one point (points.go).
	Points []Point `json:"points,omitempty"`

	// Spilled are connection rows the analysis already wrote as JSON
	// and dropped (h2pcap analyze --format json: healthy connections
	// soon after their close), not in Connections: a JSON writer merges
	// them in by stream number. Nil: none.
	Spilled RowSource `json:"-"`
	// SpilledElsewhere are, in a multi-point analysis, the spilled rows
	// of connections the reference point never saw (Connection.Point),
	// per point: a JSON writer writes them after the reference point's
	// rows, merged by stream with the listed rows of their point. Nil:
	// none.
	SpilledElsewhere []PointRows `json:"-"`
	// Unlisted counts, per path and verdict kind, the connections the
	// analysis judged and dropped from Connections without spilling
	// them (h2pcap analyze's table: failed attempts past those it lists,
	// verdict.Later): a text report folds them in with the connections
	// it does not list. The summary counts them. Nil: none.
	Unlisted []Unlisted `json:"-"`
}

// Unlisted is how many connections of one path and verdict kind a Report
// dropped from its list (Report.Unlisted), and the lowest stream of them:
// the text reports order their per-path counts by it. Start and End are
// the earliest start and the latest end among them: the pictures' row of
// a path's healthy connections spans them.
type Unlisted struct {
	ClientNet, Server string
	Kind              Kind
	Connections       int
	FirstStream       int
	Start, End        time.Time
}

// PointRows are spilled rows of one capture point's connections
// (Report.SpilledElsewhere).
type PointRows struct {
	Point string
	Rows  RowSource
}

// RowSource gives connection rows already encoded as JSON, each as
// json.MarshalIndent(conn, "    ", "  ") writes it.
type RowSource interface {
	// Rows calls fn with each row's stream and JSON, in stream order;
	// row is valid only during the call.
	Rows(fn func(stream int, row []byte) error) error
	// Len is the number of rows.
	Len() int
}

// Direction names one half of a TCP connection.
type Direction int

const (
	ClientToServer Direction = iota
	ServerToClient
)

func (d Direction) String() string {
	if d == ClientToServer {
		return "client_to_server"
	}
	return "server_to_client"
}

func (d Direction) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d *Direction) UnmarshalText(b []byte) error {
	switch string(b) {
	case "client_to_server":
		*d = ClientToServer
	case "server_to_client":
		*d = ServerToClient
	default:
		return fmt.Errorf("unknown direction %q", b)
	}
	return nil
}

// Reverse returns the other direction.
func (d Direction) Reverse() Direction { return 1 - d }

// Connection is the result for one TCP connection (one tshark tcp.stream).
type Connection struct {
	Stream     int       `json:"stream"`
	Client     string    `json:"client"` // ip:port, IPv6 as [addr]:port
	Server     string    `json:"server"`
	FirstFrame int       `json:"first_frame"`
	LastFrame  int       `json:"last_frame"`
	FirstInput int       `json:"first_input"` // index of the input holding FirstFrame (0 with one input)
	LastInput  int       `json:"last_input"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	App        string    `json:"app"` // h2c, h2, tls, http1, unknown
	IRTTms     *float64  `json:"irtt_ms"`

	// Roles says how client and server were told apart: "syn",
	// "http2-preface", "http1-request", "well-known-port", "ephemeral-port".
	// Also "http1-response", "tls-client-hello", "tls-server-hello" (the
	// first payload says who the server or client is) and "first-seen"
	// (same port on both sides: the first sender is taken as the client).
	Roles string `json:"roles"`

	TCP       TCPStats  `json:"tcp"`
	Handshake Handshake `json:"handshake"`
	Close     Close     `json:"close"`
	Events    []Event   `json:"events"`
	// EventsDropped counts events not kept once a connection has more
	// than the per-connection cap; the counters in TCP stay exact.
	EventsDropped int `json:"events_dropped,omitempty"`

	HTTP2 *HTTP2 `json:"http2,omitempty"` // nil when no HTTP/2 was found
	TLS   *TLS   `json:"tls,omitempty"`   // nil when the connection is not TLS
	// Etcd is what an etcd peer connection (rafthttp, App "etcd-peer")
	// carried: its stream, members and raft messages; nil otherwise.
	Etcd    *EtcdPeer `json:"etcd,omitempty"`
	Verdict *Verdict  `json:"verdict"`
	// Redial is the connection the same client opened to the same server
	// right after this one failed (a GOAWAY, a lost PING, a connection
	// abandoned): the client's next attempt. Nil when none followed.
	Redial *Redial `json:"redial,omitempty"`
	// CapturePoint is where this connection's capture was taken, from its
	// own handshake timing and TTLs (client, server, middle, unknown); the
	// Report's CapturePoint is the connections' majority.
	CapturePoint CapturePoint `json:"capture_point,omitempty"`
	// Plot is what the report's pictures draw (plot.go); nil unless the
	// analysis was asked for pictures and the connection has a problem.
	Plot *Plot `json:"plot,omitempty"`

	// Point is, in a multi-point analysis, the capture point whose
	// capture this row's counters, frames and Stream are of, when it is
	// not the reference point's: a connection the reference point never
	// saw (an etcd member's peer connections that do not cross the
	// reference member), listed from the point first along its
	// client->server path of those that saw it. Absent for the reference
	// point's rows.
	Point string `json:"point,omitempty"`
	// Points says, in a multi-point analysis, how each capture point
	// that saw this connection numbered it, keyed by point name; absent
	// with one point.
	Points map[string]ConnPoint `json:"points,omitempty"`
	// Placement places this connection's losses between adjacent capture
	// points, one entry per direction and lossy hop, along the path;
	// absent with one point or without loss between points.
	Placement []Placement `json:"placement,omitempty"`
	// Stopped are this connection's packets that a box between two
	// adjacent capture points stopped and said so with an ICMP error
	// (a firewall's reject, no route, fragmentation needed): not lost,
	// and not in Placement. Absent with one point or none stopped.
	Stopped []Stopped `json:"stopped,omitempty"`
}

// TCPStats holds both directions' counters.
type TCPStats struct {
	ClientToServer DirStats `json:"client_to_server"`
	ServerToClient DirStats `json:"server_to_client"`
}

// Dir returns the counters of direction d.
func (t *TCPStats) Dir(d Direction) *DirStats {
	if d == ClientToServer {
		return &t.ClientToServer
	}
	return &t.ServerToClient
}

// Clone returns a copy of d that shares no memory with it.
func (d DirStats) Clone() DirStats {
	d.TTL = append([]int{}, d.TTL...)
	return d
}

// DirStats are one direction's counters; each counts segments carrying
// the matching Wireshark tcp.analysis flag.
type DirStats struct {
	Packets                 int   `json:"packets"`
	Bytes                   int64 `json:"bytes"`           // TCP payload bytes on the wire
	Retransmissions         int   `json:"retransmissions"` // includes fast and spurious, as tshark's flag does
	FastRetransmissions     int   `json:"fast_retransmissions"`
	SpuriousRetransmissions int   `json:"spurious_retransmissions"`
	OutOfOrder              int   `json:"out_of_order"`
	LostSegments            int   `json:"lost_segments"`
	AckedUnseen             int   `json:"acked_unseen"`
	DupAcks                 int   `json:"dup_acks"`
	ZeroWindows             int   `json:"zero_windows"`
	ZeroWindowProbes        int   `json:"zero_window_probes"`
	WindowFull              int   `json:"window_full"`
	WindowUpdates           int   `json:"window_updates"`
	KeepAlives              int   `json:"keep_alives"`
	KeepAliveAcks           int   `json:"keep_alive_acks"`
	Resets                  int   `json:"resets"`
	Fins                    int   `json:"fins"`

	MissingBytes int   `json:"missing_bytes"` // payload bytes cut by the snaplen
	SACKBlocks   int   `json:"sack_blocks"`   // SACK blocks seen in this direction's ACKs
	TTL          []int `json:"ttl"`           // distinct TTL / hop limit values, in order seen
}

// Handshake holds what the SYN and SYN-ACK negotiated.
type Handshake struct {
	Seen          bool `json:"seen"`
	ClientMSS     int  `json:"client_mss,omitempty"`
	ServerMSS     int  `json:"server_mss,omitempty"`
	ClientWScale  int  `json:"client_wscale"` // -1 when absent
	ServerWScale  int  `json:"server_wscale"`
	SACKPermitted bool `json:"sack_permitted"`
}

// CloseKind says how a connection ended: by a FIN, an RST, or not in the
// capture.
type CloseKind string

// Close kinds.
const (
	CloseFIN  CloseKind = "fin"
	CloseRST  CloseKind = "rst"
	CloseNone CloseKind = "none"
)

// Close says how a connection ended.
type Close struct {
	Kind  CloseKind `json:"kind"`
	By    string    `json:"by,omitempty"`
	Frame int       `json:"frame,omitempty"`
	Input int       `json:"input"`
}

// EventKind is a Wireshark tcp.analysis flag name (or rst, fin).
type EventKind string

const (
	EvRetransmission     EventKind = "retransmission"
	EvFastRetransmission EventKind = "fast_retransmission"
	EvSpuriousRetrans    EventKind = "spurious_retransmission"
	EvOutOfOrder         EventKind = "out_of_order"
	EvLostSegment        EventKind = "lost_segment"
	EvAckedUnseen        EventKind = "ack_lost_segment"
	EvDupAck             EventKind = "duplicate_ack"
	EvZeroWindow         EventKind = "zero_window"
	EvZeroWindowProbe    EventKind = "zero_window_probe"
	EvWindowFull         EventKind = "window_full"
	EvKeepAlive          EventKind = "keep_alive"
	EvKeepAliveAck       EventKind = "keep_alive_ack"
	EvRST                EventKind = "rst"
	EvFIN                EventKind = "fin"
)

// Event is one classified segment. Seq is exactly tshark's relative
// tcp.seq: 0 at the ISN when the SYN was seen, else 1 at the first segment
// seen.
type Event struct {
	Input int       `json:"input"`
	Frame int       `json:"frame"`
	Time  time.Time `json:"time"`
	Dir   Direction `json:"dir"`
	Kind  EventKind `json:"kind"`
	Seq   uint32    `json:"seq"` // relative to the direction's first sequence number seen
	Len   int       `json:"len"`

	// TTL and IPID are the segment's IPv4 TTL or IPv6 hop limit and its
	// IPv4 identification: an RST whose TTL differs from its sender's
	// other packets came from a device in between.
	TTL  int `json:"ttl,omitempty"`
	IPID int `json:"ip_id,omitempty"`
	// Unseen marks a retransmission or out-of-order segment that fills a
	// gap the capture never saw: the first copy was lost before the
	// capture point. Without it a retransmission repeats data the capture
	// saw: the loss (of the data or of its ACK) was after the capture point.
	Unseen bool `json:"unseen,omitempty"`
	// PeerMissing marks a retransmission the peer, heard from since the
	// data was first sent, still had not acknowledged: the data, not the
	// ACK, was lost.
	PeerMissing bool `json:"peer_missing,omitempty"`
	// Answered marks a SYN sent again after the capture saw a SYN-ACK
	// answer it: the SYN-ACK, not the SYN, was lost.
	Answered bool `json:"answered,omitempty"`
	// Late marks a segment whose IPv4 ID is older than one its sender
	// sent before it (shortly before), from a sender that numbers its
	// packets: sent before packets the capture saw first, so the
	// original delayed past them (reordered on the way or in the
	// capture) or a copy the network made of one, not a retransmission,
	// whatever flag Wireshark's rules give it.
	Late bool `json:"late,omitempty"`
	// DSACKed marks a copy its receiver reported as a duplicate (a
	// D-SACK, RFC 2883): an earlier copy of the same bytes had arrived,
	// so this one was sent before the sender heard of it, and the data
	// was not lost. Of several copies the latest seen carries it.
	DSACKed bool `json:"dsacked,omitempty"`
}

// Redial ties a failed connection to the client's next one.
type Redial struct {
	Stream int    `json:"stream"` // the new connection's tcp.stream
	Client string `json:"client"` // its client endpoint (a new port)
	// AfterMs is from the failed connection's last packet to the new
	// one's first; negative when the client dialled again before the old
	// connection's close was over.
	AfterMs float64 `json:"after_ms"`
}
