package analyze

import (
	"net/netip"
	"time"

	"github.com/h2pcap/h2pcap/analyze/app"
	"github.com/h2pcap/h2pcap/analyze/notice"
	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/decode/h2"
	"github.com/h2pcap/h2pcap/model"
)

// connOpened takes a new connection: it counts as open until it closes.
func (a *Analyzer) connOpened(c *conn, s *decode.Segment) {
	a.openConns.Add(1)
	c.nt = a.nt
	if a.nt == nil {
		return
	}
	st := notice.NewState()
	c.notes = &st
	if c.probeSYN {
		// A traceroute probe's SYN: the Report counts probes apart, so
		// the notices never tell one as a connection (its prober's RST
		// would read as a reset).
		c.nt = nil
		return
	}
	a.nt.Opened(c, s)
}

// connClosed takes a connection that is over: both FINs or an RST, or
// its 4-tuple taken by a new connection, or (s nil) a probe's SYN an
// ICMP error answered.
func (a *Analyzer) connClosed(c *conn, s *decode.Segment) {
	if c.closedNoted {
		return
	}
	c.closedNoted = true
	a.openConns.Add(-1)
	if a.fg != nil {
		// Its end, read where its end is kept: by the reader with
		// workers (shard.go), which never reads the trackers' copy.
		if c.sh != nil {
			a.fg.closedConn(c, c.sh.end)
		} else {
			a.fg.closedConn(c, c.endTime())
		}
	}
	if c.nt == nil || s == nil {
		return
	}
	c.nt.Closed(c, s)
}

// closeCheck is run on a segment with FIN or RST.
func (a *Analyzer) closeCheck(c *conn, s *decode.Segment) {
	if c.rst.seen || c.vt.FINSent(sideA) && c.vt.FINSent(sideB) {
		a.connClosed(c, s)
	}
}

// OpenConns returns the number of connections seen and not yet closed
// (both FINs or an RST). It may be called from any goroutine.
func (a *Analyzer) OpenConns() int64 { return a.openConns.Load() }

// Tick tells the analyzer the capture clock reads now while no packet
// comes, so that time-driven notices (a PING given up on, a silent
// connection) are given. A live capture calls it about once a second;
// times before the latest packet's are ignored.
func (a *Analyzer) Tick(now time.Time) {
	a.catchUp()
	if a.nt != nil {
		a.nt.Clock(now, true)
	}
	if a.fg != nil && len(a.fg.closed) > 0 {
		a.sweep(now)
	}
}

// noticePingAck is run on a PING ACK from side after pingTracker.ack
// matched it.
func (c *conn) noticePingAck(side int, f *h2.Frame) {
	list := c.app.Conn().Pings()
	for i := len(list) - 1; i >= 0 && i >= len(list)-app.MaxAckSearch; i-- {
		r := &list[i]
		if int(r.Side) == 1-side && r.Acked && !r.Orphan && r.AckIs(f.Meta) && r.Data == f.PingData {
			c.nt.TellAck(c, r)
			return
		}
	}
}

// noticeGoaway is run on a GOAWAY frame from side, after h2conn.goaway
// recorded it (past maxGoaways it is not, and not told either).
func (c *conn) noticeGoaway(side int, f *h2.Frame) {
	if n := len(c.app.Conn().Goaways()); n > 0 && c.app.Conn().Goaways()[n-1].Meta == f.Meta {
		c.nt.TellGoaway(c, &c.app.Conn().Goaways()[n-1])
	}
}

// The conn as the notices read it (notice.Conn).

func (c *conn) Stream() int                      { return c.stream }
func (c *conn) Endpoint(side int) netip.AddrPort { return c.ep[side] }
func (c *conn) Side(s *decode.Segment) int       { return c.side(s) }
func (c *conn) Notes() *notice.State             { return c.notes }
func (c *conn) Tracker() *verdict.Tracker        { return &c.vt }
func (c *conn) App() *app.Conn                   { return c.app.Conn() }
func (c *conn) FINSeen() bool                    { return c.fin.seen }
func (c *conn) RSTSeen() bool                    { return c.rst.seen }
func (c *conn) Start() time.Time                 { return c.start }
func (c *conn) End() time.Time                   { return c.endTime() }
func (c *conn) LastFrame() int                   { return c.lastFrame }
func (c *conn) LastInput() int                   { return int(c.lastInput) }

// JudgeTCP judges the connection as the report would, at, without ending
// its HTTP/2 decoding: the TCP part of its Connection and the tracker's
// facts (a connection still being captured cannot afford more), and its
// TLS facts so far (reading them ends nothing): a handshake that offered
// no h2 rules out the HTTP/2 inferences here as in the report.
func (c *conn) JudgeTCP(at time.Time) *model.Verdict {
	client, rule := c.Roles()
	out := c.reportTCP(client, rule)
	out.TLS = c.app.TLS()
	f := c.vt.Facts(client, &c.tcp)
	return verdict.Judge(out, f, f.CapturePoint(), at)
}

// noticeSnap is a connection whose trackers the Report freed (Options.ReportOnce
// with notices: h2pcap live's report at exit, which would otherwise hold
// every open connection's trackers and rows at once), as
// Noticer.Reconcile reads it: its notice state and roles kept, the rest
// the conn's own fields. Reconcile reads nothing else: the methods that
// read the trackers (Tracker, App, Side, IRTT, JudgeTCP...) are not
// there to call.
type noticeSnap struct {
	*conn
	notes  *notice.State
	client int
	rule   string
}

func (s *noticeSnap) Notes() *notice.State             { return s.notes }
func (s *noticeSnap) Roles() (client int, rule string) { return s.client, s.rule }
