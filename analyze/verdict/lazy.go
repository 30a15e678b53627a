package verdict

import (
	"slices"
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
// that are not a probe's have one (BriefOf).
type Brief struct {
	Point     model.CapturePoint
	ServerTTL int
	host      HostTTL // ServerHosts' answer, kept until the facts are built
}

// BriefOf says what JudgeReport reads of f before the verdict, or false
// when f must be given whole: a probe candidate (FindProbes reads more).
func BriefOf(f *Facts) (Brief, bool) {
	if probeCandidate(f) {
		return Brief{}, false
	}
	return Brief{Point: f.CapturePoint(), ServerTTL: f.Dir[model.ServerToClient].TTL}, true
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
	// reads, is then dropped from memory.
	Done func(i int, c *model.Connection) bool
	// Texts, if not nil, is asked of each connection judged from its
	// Brief whose row is final once judged (as for Done), its verdict
	// made without text first, whether anyone will read its text (a
	// text report lists only the first problem connections): if not,
	// it keeps none and the words are never made.
	Texts func(i int, c *model.Connection) bool
}

// judge is the verdict of connection c (index i as given), judged from
// its Brief with facts f.
func (l *Later) judge(i int, c *model.Connection, f *Facts, point model.CapturePoint, end time.Time) *model.Verdict {
	if l.Texts == nil {
		return Judge(c, f, point, end)
	}
	c.Verdict = judge(c, f, point, end, false)
	if Inert(c, f) && !redialAfter(c.Verdict.Kind) && !l.Texts(i, c) {
		return c.Verdict
	}
	c.Verdict = nil // as the Report has it before its verdict
	return Judge(c, f, point, end)
}

// judged is what JudgeReportLater does with connection c, judged from
// its Brief (index i as given) with facts f: it keeps the facts a later
// step reads, and hands a final row to Done.
func (l *Later) judged(i int, c *model.Connection, f *Facts) *Facts {
	if !Inert(c, f) {
		return f.Clone()
	}
	if v := c.Verdict; l.Done != nil && v != nil && !redialAfter(v.Kind) && l.Done(i, c) {
		v.Summary, v.Evidence, v.Filter = "", nil, ""
	}
	return nil
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
