package verdict

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/h2pcap/h2pcap/model"
)

// Facts given later.
//
// Each connection's Facts take 2-3 KB, and JudgeReport holds every
// connection's until the summary: a million half-open attempts (a SYN
// flood, a scan) cost gigabytes for facts nothing reads once each one is
// judged. A caller that can build a connection's facts again (package
// analyze, from the SYN a half-open connection keeps) passes it without
// them and with its Brief: what the steps before the verdicts read of
// them. Its facts are built again for its verdict and dropped after it
// unless a later step reads them (Inert).

// Brief is what JudgeReport reads of a connection's facts before judging
// it: its capture point and the server's TTL (ServerHosts). Only facts
// that are not a probe's have one (BriefOf). It takes 8 bytes and no
// pointer: a flood's million are held through the Report and, without
// pointers, never scanned by the collector.
type Brief struct {
	point     uint8 // briefPoints
	serverTTL uint8
	// ServerHosts' answer, kept until the facts are built (HostTTL).
	hostTTL   uint8
	hostMixed bool
	hostConns int32
}

// briefPoints are the capture points a Brief holds, by index.
var briefPoints = []model.CapturePoint{"", model.PointUnknown, model.PointClient, model.PointServer, model.PointMiddle}

// BriefOf says what JudgeReport reads of f before the verdict, or false
// when f must be given whole: a probe candidate (FindProbes reads more),
// or facts a Brief cannot hold.
func BriefOf(f *Facts) (Brief, bool) {
	if probeCandidate(f) {
		return Brief{}, false
	}
	p := slices.Index(briefPoints, f.CapturePoint())
	ttl := f.Dir[model.ServerToClient].TTL
	if p < 0 || ttl < 0 || ttl > 255 {
		return Brief{}, false
	}
	return Brief{point: uint8(p), serverTTL: uint8(ttl)}, true
}

// Point is the connection's capture point.
func (b *Brief) Point() model.CapturePoint { return briefPoints[b.point] }

// ServerTTL is the TTL of the server's packets (0: none seen).
func (b *Brief) ServerTTL() int { return int(b.serverTTL) }

// setHost keeps h, ServerHosts' answer; false if it does not fit.
func (b *Brief) setHost(h HostTTL) bool {
	if h.TTL < 0 || h.TTL > 255 || h.Conns < 0 || h.Conns > 1<<31-1 {
		return false
	}
	b.hostTTL, b.hostMixed, b.hostConns = uint8(h.TTL), h.Mixed, int32(h.Conns)
	return true
}

// host is ServerHosts' answer kept by setHost.
func (b *Brief) host() HostTTL {
	return HostTTL{TTL: int(b.hostTTL), Conns: int(b.hostConns), Mixed: b.hostMixed}
}

// Later gives the facts of the connections passed to JudgeReportLater
// without them.
type Later struct {
	// Briefs[i] is connection i's Brief when its facts are nil.
	Briefs []Brief
	// Build returns connection i's facts (i as given), built anew each
	// call: equal to those it would have been given. They may be
	// overwritten by the next call (JudgeReportLater keeps a Clone).
	Build func(i int) *Facts
	// Done, if not nil, is given each connection judged from its Brief
	// whose row is final once judged: its facts Inert, and a kind no
	// later step adds to (a redial's: linkRedials). It says whether it
	// kept the row elsewhere (package analyze spills it as JSON): the
	// verdict's text (Summary, Evidence, Filter), which no later step
	// reads, is then dropped from memory. The words of c's verdict are
	// valid only during the call (their bytes are those of the next
	// connection's after it): Done copies what it keeps of them.
	Done func(i int, c *model.Connection) bool
	// Texts, if not nil, is asked of each connection judged from its
	// Brief whose row is final once judged (as for Done), its verdict
	// made without text first, whether anyone will read its text (a
	// text report lists only the first problem connections): if not,
	// it keeps none and the words are never made.
	Texts func(i int, c *model.Connection) bool
	// Row, if not nil, builds the row and the facts (as Build's) of a
	// connection passed without either (its row nil in r.Connections):
	// its row is built as it is judged, and a final one is settled
	// (settled.go) rather than held. The steps before the verdicts read
	// its endpoints from Endpoints and its end from End. reuse, if not
	// nil, is a row settled since, nowhere referenced: Row may build the
	// new row in it.
	Row func(i int, reuse *model.Connection) (*model.Connection, *Facts)
	// Endpoints are connection i's client and server, for a connection
	// passed without its row.
	Endpoints func(i int) (client, server netip.AddrPort)
	// End is the latest end of the connections passed without a row.
	End time.Time
	// Settled, if not nil, is told of each connection settled: nothing
	// more is asked of it (the caller may let it go).
	Settled func(i int)

	// texts are the words of the verdict being judged, with Done
	// (judgeIn): made again for each connection, and copied out of
	// (judged) for a row that stays listed.
	texts []byte
}

// judge is the verdict of connection c (index i as given), judged from
// its Brief with facts f; untold says Texts kept it without its text.
// The verdict is written into into when it is not nil (a settled row's,
// which nothing holds any more: its row was spilled or counted).
func (l *Later) judge(i int, c *model.Connection, f *Facts, point model.CapturePoint, end time.Time, into *model.Verdict) (v *model.Verdict, untold bool) {
	if l.Texts == nil {
		if l.Done != nil {
			l.texts = l.texts[:0]
			return judgeIn(c, f, point, end, true, into, &l.texts), false
		}
		return judge(c, f, point, end, true, into), false
	}
	c.Verdict = judge(c, f, point, end, false, into)
	if Inert(c, f) && !redialAfter(c.Verdict.Kind) && !l.Texts(i, c) {
		return c.Verdict, true
	}
	c.Verdict = nil // as the Report has it before its verdict
	return judge(c, f, point, end, true, into), false
}

// judged is what JudgeReportLater does with connection c, judged from
// its Brief (index i as given) with facts f: it keeps the facts a later
// step reads, and hands a final row to Done. With Row, a final row whose
// verdict Texts kept without text, or that Done kept, is settled into s
// (settle true): it leaves the Report's list.
func (l *Later) judged(i int, c *model.Connection, f *Facts, untold bool, s *settled) (kept *Facts, settle bool) {
	if !Inert(c, f) {
		l.ownTexts(c.Verdict)
		return f.Clone(), false
	}
	v := c.Verdict
	if v == nil || redialAfter(v.Kind) {
		l.ownTexts(v)
		return nil, false
	}
	can := l.Row != nil && settleable(c) && s.fits(c)
	switch {
	case l.Done != nil && l.Done(i, c):
		if can {
			s.add(c, false)
			return nil, true
		}
		v.Summary, v.Evidence, v.Filter = "", nil, ""
		return nil, false
	case untold && can:
		s.add(c, true)
		return nil, true
	}
	l.ownTexts(v)
	return nil, false
}

// ownTexts gives v, which stays in the Report, words of its own where
// they were made over l.texts (judgeIn, with Done).
func (l *Later) ownTexts(v *model.Verdict) {
	if v == nil || l.Done == nil || l.Texts != nil {
		return
	}
	v.Summary, v.Filter = strings.Clone(v.Summary), strings.Clone(v.Filter)
}

// Inert says whether nothing after c's verdict reads its facts f: not a
// dial race's spare (DialRaceSpares), not a verdict the redials look at
// (abandoned), no data segments nor a one-way capture (summarize), nothing
// held or missed for the capture's quality (FillCaptureQuality).
func Inert(c *model.Connection, f *Facts) bool {
	if MaybeSpare(c, f) || f.Quality.OneDirection {
		return false
	}
	if v := c.Verdict; v != nil && slices.Contains([]model.Kind{model.KindLostPing, model.KindSilent, model.KindBlackholed}, v.Kind) {
		return false
	}
	for d := range f.Dir {
		if f.Dir[d].DataSegs != 0 {
			return false
		}
	}
	for _, iq := range f.Quality.Inputs {
		for d := range iq.HeldBytes {
			if iq.HeldBytes[d] != 0 || iq.MissedBytes[d] != 0 {
				return false
			}
		}
	}
	return true
}
