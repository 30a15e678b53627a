package model

import (
	"net/netip"
	"time"
)

// NoticeKind says what a Notice is about.
type NoticeKind string

// Notice kinds. The findings (Notice.Finding) are what h2pcap live prints as
// they happen; the others feed counters and metrics.
const (
	NoticeConnOpen  NoticeKind = "conn_open"  // first segment of a connection
	NoticeConnClose NoticeKind = "conn_close" // both FINs, or an RST

	NoticePingAck NoticeKind = "ping_ack" // a PING answered in time (RTT)
	NoticeRetrans NoticeKind = "retransmission"

	NoticePingLate      NoticeKind = "ping_late"            // finding: an ACK came back late
	NoticePingLost      NoticeKind = "ping_lost"            // finding: the sender gave up on an unanswered PING
	NoticeGoaway        NoticeKind = "goaway"               // finding: GOAWAY with its code
	NoticeReset         NoticeKind = "reset"                // finding: TCP RST, and who sent it
	NoticeRetransBurst  NoticeKind = "retransmission_burst" // finding: many retransmissions in a short time
	NoticeSilent        NoticeKind = "silent"               // finding: an open connection stopped carrying packets
	NoticeConnectFailed NoticeKind = "connect_failed"       // finding: a TCP handshake that never completed
	NoticeBlackholed    NoticeKind = "blackholed"           // finding: a direction's retransmissions never answered, to the end
	// NoticeEtcdLeaderChange is a finding: an etcd member started
	// leading a new term, another member having led the one before.
	NoticeEtcdLeaderChange NoticeKind = "etcd_leader_change"
	// NoticeGRPCCall is a gRPC call finished (Method, Code).
	NoticeGRPCCall NoticeKind = "grpc_call"
	// NoticeAbandoned is a finding: a client gave up on a connection
	// without a FIN or an RST and dialled the same server again; EndedBy
	// names how (Verdict.EndedBy, Verdict.Abandoned in the report).
	NoticeAbandoned NoticeKind = "abandoned"
	// NoticeHopLoss is a finding of live on several interfaces: packets
	// of a connection lost between two of the node's interfaces
	// (HopFrom, HopTo; Count of them, sent by From), told once its
	// packets were compared, seconds after the loss.
	NoticeHopLoss NoticeKind = "hop_loss"
)

// Notice is something a connection did, told while the capture is read
// (Options.OnNotice), so a live capture can print it at once and count it.
// The Report says the same things, judged over the whole capture.
type Notice struct {
	Kind   NoticeKind
	Time   time.Time // capture time of the packet that caused it; for what time passing shows (silent, a lost PING without a close), the capture clock then
	Stream int       // the connection's tcp.stream
	Client netip.AddrPort
	Server netip.AddrPort
	Frame  int // frame to open in Wireshark (0 when none, e.g. silent)
	Input  int
	From   string // client or server: who sent the PING, GOAWAY, RST or retransmission

	RTT   time.Duration // ping_ack, ping_late: PING to ACK; ping_lost: PING to close
	Code  string        // goaway: error code name (NO_ERROR, ENHANCE_YOUR_CALM...)
	Debug string        // goaway: debug data, if printable
	// Method is a grpc_call's :path; its Code the grpc-status by name
	// (OK, Unavailable, ...), or "RST_STREAM CANCEL" for a call reset
	// without a status.
	Method string
	// Term is an etcd_leader_change's new term; Leader and
	// PreviousLeader the members (hex IDs) that lead it and the term
	// before.
	Term           uint64
	Leader         string
	PreviousLeader string
	// EndedBy is an abandoned notice's mechanism (keepalive_ping,
	// tcp_user_timeout); Redial the stream of the client's new
	// connection.
	EndedBy  EndedBy
	Redial   int
	Count    int  // retransmission_burst: retransmissions in the burst; hop_loss: packets lost
	Inferred bool // the PING was inferred from TLS record sizes
	// Since is the connection's last moment known healthy: the time of
	// its last PING answered in time; zero if none. A live capture saves
	// a problem connection's packets from then on.
	Since time.Time

	// HopFrom and HopTo are a hop_loss's interfaces: seen at the first,
	// never at the second.
	HopFrom, HopTo string

	// Text is one sentence saying what happened, for a live line.
	Text string
}

// Finding says whether a live capture prints n as it happens.
func (n *Notice) Finding() bool {
	switch n.Kind {
	case NoticePingLate, NoticePingLost, NoticeReset, NoticeRetransBurst, NoticeSilent, NoticeConnectFailed, NoticeBlackholed, NoticeEtcdLeaderChange,
		NoticeAbandoned, NoticeHopLoss:
		return true
	case NoticeGoaway:
		// A client's GOAWAY NO_ERROR is how Go closes a connection it no
		// longer needs: routine, not a finding.
		return n.From != "client" || n.Code != "NO_ERROR"
	}
	return false
}
