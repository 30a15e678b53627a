package notice

import (
	"hash/maphash"
	"net/netip"
	"time"

	"github.com/h2pcap/h2pcap/analyze/app"
	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
)

// Conn is what the notices read of a connection, which package analyze
// keeps: the earlier stages' state through their own methods, and the
// notice State the connection holds for this package.
type Conn interface {
	Stream() int
	// Endpoint is side's address; Roles says which side is the client,
	// and by which rule.
	Endpoint(side int) netip.AddrPort
	Roles() (client int, rule string)
	// Side says which side sent s.
	Side(s *decode.Segment) int
	Notes() *State
	Tracker() *verdict.Tracker
	// App is the application analysis; nil before the first payload or
	// when the connection carries neither HTTP/2 nor TLS.
	App() *app.Conn
	IRTT() time.Duration
	// FINSeen and RSTSeen say whether a FIN or an RST was seen.
	FINSeen() bool
	RSTSeen() bool
	// Start and End are the first and the latest segment's times;
	// LastFrame and LastInput name the latest.
	Start() time.Time
	End() time.Time
	LastFrame() int
	LastInput() int
	// JudgeTCP judges the connection as the report would, at, from what
	// the TCP layer and the tracker know (the HTTP/2 decoding goes on).
	JudgeTCP(at time.Time) *model.Verdict
}

// New returns a Noticer that calls on with each Notice.
func New(on func(*model.Notice)) *Noticer {
	return &Noticer{on: on, byPair: make(map[uint64][]Conn), seed: maphash.MakeSeed()}
}

// NewState returns a connection's notice State, outside the open list.
func NewState() State { return State{openIdx: -1} }

// Opened adds c, which has just opened, to the open connections the scans
// look at, and tells it.
func (nt *Noticer) Opened(c Conn, s *decode.Segment) {
	ns := c.Notes()
	ns.openIdx = int32(len(nt.open))
	nt.open = append(nt.open, c)
	ns.pair = nt.pairKey(c)
	ns.pairIdx = int32(len(nt.byPair[ns.pair]))
	nt.byPair[ns.pair] = append(nt.byPair[ns.pair], c)
	nt.Emit(c, model.NoticeConnOpen, s.Time, s.Frame, s.Input, -1, "")
	nt.redialed(c, s)
}

// Closed removes c, which is over, from the open connections, and tells
// it.
func (nt *Noticer) Closed(c Conn, s *decode.Segment) {
	nt.Drop(c)
	nt.Emit(c, model.NoticeConnClose, s.Time, s.Frame, s.Input, -1, "")
}

// HTTP2Told says whether c's HTTP/2 was confirmed and told, so that its
// PING ACKs and GOAWAYs are told as they are decoded.
func (s *State) HTTP2Told() bool { return s.h2Told }
