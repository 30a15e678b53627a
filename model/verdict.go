package model

import "time"

// Kind is a verdict's kind: what became of a connection.
type Kind string

// Verdict kinds.
const (
	KindHealthy  Kind = "healthy"
	KindDegraded Kind = "degraded"
	KindLostPing Kind = "lost_ping"
	KindGoaway   Kind = "goaway"
	KindReset    Kind = "reset"
	KindSilent   Kind = "silent"
	// KindBlackholed: a direction's retransmissions went unanswered up to
	// the close or the end of the capture; the flow died, it did not
	// recover (Verdict.Since says when it last made progress).
	KindBlackholed Kind = "blackholed"
	// KindConnectFailed: the TCP handshake never completed.
	KindConnectFailed Kind = "connect_failed"
)

// LossDirection says which direction of a connection lost packets.
type LossDirection string

// Loss directions.
const (
	LossNone           LossDirection = "none"
	LossClientToServer LossDirection = "client_to_server"
	LossServerToClient LossDirection = "server_to_client"
	LossBoth           LossDirection = "both"
	LossUnknown        LossDirection = "unknown"
)

// LossLocation says where packets were lost relative to the capture point.
type LossLocation string

// Loss locations.
const (
	BeforeCapture   LossLocation = "before_capture"
	AfterCapture    LossLocation = "after_capture"
	LocationUnknown LossLocation = "unknown"
	// ServerSide and ClientSide place loss seen from the middle of the
	// path (a router's or load balancer's capture) when its direction
	// cannot be told but its side can: data seen passing toward the
	// server and sent again with no ACK ever coming back was lost
	// between the capture point and the server (the data on its way
	// there, or the server's ACK on its way back), and likewise toward
	// the client. Where the direction is known, before_capture and
	// after_capture say it along that direction.
	ServerSide LossLocation = "server_side"
	ClientSide LossLocation = "client_side"
)

// Suspect names a cause a verdict has evidence for.
type Suspect string

// Suspects.
const (
	SuspectMTUBlackhole   Suspect = "mtu_blackhole"
	SuspectMiddleboxReset Suspect = "middlebox_reset"
	SuspectCaptureDrops   Suspect = "capture_drops"
	SuspectIdleTimeout    Suspect = "idle_timeout"
	SuspectZeroWindow     Suspect = "zero_window"
	SuspectTooManyPings   Suspect = "too_many_pings"
	// SuspectServerStalled: the server's TCP kept acknowledging while its
	// HTTP/2 (or TLS) layer answered nothing: the application, not the
	// network.
	SuspectServerStalled Suspect = "server_stalled"
	// SuspectICMPRejected: a router or firewall on the path answered
	// some of the connection's packets with ICMP errors (destination
	// unreachable: administratively prohibited, no route; time
	// exceeded): it stopped them and said so, and TCP sent them again.
	SuspectICMPRejected Suspect = "icmp_rejected"
)

// Moment is one packet of a connection, by input, frame and time: where
// in the capture something happened (Verdict.Since).
type Moment struct {
	Frame int       `json:"frame"`
	Input int       `json:"input"`
	Time  time.Time `json:"time"`
}

// CapturePoint says where on the path a capture was taken.
type CapturePoint string

// Capture points.
const (
	PointClient  CapturePoint = "client"
	PointServer  CapturePoint = "server"
	PointMiddle  CapturePoint = "middle"
	PointUnknown CapturePoint = "unknown"
)
