package verdict

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/h2pcap/h2pcap/internal/prose"
	"github.com/h2pcap/h2pcap/model"
)

// The dial race: net/http's Transport with HTTP/2 over TLS, given several
// requests before its first connection to a server is up, dials one
// connection per request; as each TLS handshake ends, HTTP/2's pool
// (addConnIfNeeded) keeps the first and closes the others at once,
// usually before reading the server's SETTINGS, so the kernel answers
// with an RST. The spare did nothing wrong and nothing went wrong with it.
// It is told from what it shows:
//   - it never carried a request: decrypted, ALPN h2 and not one HTTP/2
//     frame from the client (not even the preface); or, without the key
//     log, h2 offered and the client's records after its handshake too
//     few and small to hold the preface (TLS 1.3: its Finished and at
//     most one alert-sized record, its close_notify; TLS 1.2: no
//     application data at all);
//   - the client closed it within dialRaceSpan of its SYN: it closed
//     first (FIN or RST), or its last record (the close_notify) came
//     before the server's close, which answered it;
//   - the same client host dialed the same server at the same time (the
//     other's SYN between this one's SYN and its close, or this one's
//     between the other's SYN and its first request), and that connection
//     carried requests: the one the race kept.

// DialRaceSpares finds the spares of dial races among conns (facts[i]
// belongs to conns[i]): kept[i] is the index of the connection conns[i]
// lost the race to, or -1.
func DialRaceSpares(conns []*model.Connection, facts []*Facts) (kept []int) {
	kept = make([]int, len(conns))
	for i := range kept {
		kept[i] = -1
	}
	for i, c := range conns {
		end, ok := spareClose(c, facts[i])
		if !ok {
			continue
		}
		host := addrOf(c.Client)
		for k, d := range conns {
			if k == i || d.Server != c.Server || addrOf(d.Client) != host || !carriedRequests(d) {
				continue
			}
			// Dialed at the same time: either SYN came while the other
			// connection was being set up.
			if !d.Start.Before(c.Start) && !d.Start.After(end) || d.Start.Before(c.Start) && c.Start.Sub(d.Start) <= end.Sub(c.Start) {
				kept[i] = k
				break
			}
		}
	}
	return kept
}

// MaybeSpare says whether c has a dial race spare's shape: whether it is
// one depends on the other connections, so it must wait for the Report
// (live --forget, analyze's forgetting) rather than be judged alone.
func MaybeSpare(c *model.Connection, f *Facts) bool {
	_, ok := spareClose(c, f)
	return ok
}

// spareClose says whether c has a spare's shape (decrypted h2 without a
// client frame, closed by the client within dialRaceSpan of its SYN) and
// when the client closed it.
func spareClose(c *model.Connection, f *Facts) (time.Time, bool) {
	if f == nil || c.TLS == nil || !c.Handshake.Seen || !noRequest(c) {
		return time.Time{}, false
	}
	cl := closeOf(f)
	if !cl.first.ok() {
		return time.Time{}, false
	}
	end := cl.first.Time
	if cl.by == model.ServerToClient {
		// The server closed first: only as its answer to the client's
		// close_notify, the client's last record, just before.
		cf := &f.Dir[model.ClientToServer]
		if len(cf.Last) == 0 {
			return time.Time{}, false
		}
		last := cf.Last[len(cf.Last)-1]
		react := goawayReaction
		if c.IRTTms != nil {
			react += time.Duration(2 * *c.IRTTms * float64(time.Millisecond))
		}
		if !last.Time.Before(end) || end.Sub(last.Time) > react {
			return time.Time{}, false
		}
		end = last.Time
	}
	return end, end.Sub(c.Start) <= dialRaceSpan
}

// noRequest says whether c, a TLS connection offering h2, shows that its
// client sent no request: decrypted, no HTTP/2 frame from the client;
// not decrypted, no record after its handshake that could hold one.
func noRequest(c *model.Connection) bool {
	frames := false
	if h := c.HTTP2; h != nil {
		for _, n := range h.Frames[model.ClientToServer] {
			frames = frames || n > 0
		}
	}
	return noRequestTLS(c.TLS, frames)
}

// noRequestTLS is noRequest from the TLS facts and whether the client
// sent HTTP/2 frames (decrypted).
func noRequestTLS(t *model.TLS, clientFrames bool) bool {
	if t.Decrypted {
		return t.ALPN == "h2" && !clientFrames
	}
	if !slices.Contains(t.ALPNOffered, "h2") {
		return false
	}
	return !appDataBeyondHandshake(t)
}

// appDataBeyondHandshake says whether a TLS client's application-data
// records, read by size alone, may carry data: in TLS 1.3 beyond its
// Finished (the first) and an alert-sized last one; in TLS 1.2 any.
func appDataBeyondHandshake(t *model.TLS) bool {
	switch t.Version {
	case "TLS 1.3":
		return t.ClientAppRecords > 2 || t.ClientAppRecords == 2 && t.ClientAppLastLen > maxAlertRecord
	case "TLS 1.2":
		return t.ClientAppRecords > 0
	}
	return true // an older or unknown version: nothing is claimed
}

// carriedRequests: the client sent requests on d (decoded HEADERS; or,
// not decrypted, records beyond its handshake and close).
func carriedRequests(d *model.Connection) bool {
	if d.HTTP2 != nil && d.HTTP2.Frames[model.ClientToServer]["HEADERS"] > 0 {
		return true
	}
	return d.TLS != nil && !d.TLS.Decrypted && d.TLS.ClientAppRecords > 0 && appDataBeyondHandshake(d.TLS) && d.TLS.Version != ""
}

// addrOf is an endpoint's address, the zero Addr if it has none.
func addrOf(ep string) netip.Addr {
	ap, err := netip.ParseAddrPort(ep)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr()
}

// spareVerdict rewrites v, the verdict of spare c (dialed with kept, the
// connection the race kept), as a dial race's spare: healthy, benign.
// Only a verdict that found nothing else (healthy, or reset by the
// client's own kernel, no loss, no suspect) is rewritten.
func spareVerdict(v *model.Verdict, c, kept *model.Connection, f *Facts) {
	if v.Kind != model.KindHealthy && v.Kind != model.KindReset || v.LossDirection != model.LossNone || len(v.Suspects) > 0 {
		return
	}
	end, _ := spareClose(c, f)
	cl := closeOf(f)
	v.Kind, v.DialRaceSpare = model.KindHealthy, true
	v.Summary = fmt.Sprintf("A spare connection of a dial race, closed by the client at once: the client dialed it together with stream %d (from %s) before either was up, finished the TLS handshake and closed it %s after its SYN without sending a request; stream %d carried the requests. "+
		"Go's HTTP/2 client does this (net/http's Transport with several requests before its first connection to a server is up); benign",
		kept.Stream, kept.Client, prose.Duration(end.Sub(c.Start)), kept.Stream)
	if !c.TLS.Decrypted {
		v.Summary += fmt.Sprintf(" (no key log: read from the TLS record sizes, the client's last record being %d bytes, an alert, too small for the HTTP/2 preface)", c.TLS.ClientAppLastLen)
	}
	if cl.by == model.ClientToServer && cl.firstRST {
		v.Summary += fmt.Sprintf(". Its RST (frame %d) is the client's kernel answering data it never read (the server's SETTINGS)", cl.first.Frame)
	}
	v.Summary += "."
	v.Evidence = []model.Evidence{{Frame: c.FirstFrame, Input: c.FirstInput, Note: fmt.Sprintf("SYN, dialed with stream %d (its SYN: frame %d)", kept.Stream, kept.FirstFrame)}}
	if cf := &f.Dir[model.ClientToServer]; len(cf.Last) > 0 {
		m := cf.Last[len(cf.Last)-1]
		v.Evidence = append(v.Evidence, model.Evidence{Frame: m.Frame, Input: m.Input, Note: "the client's last record: its close (TLS close_notify), no request before it"})
	}
	v.Evidence = append(v.Evidence, model.Evidence{Frame: cl.first.Frame, Input: cl.first.Input,
		Note: fmt.Sprintf("%s from the %s", map[bool]string{true: "RST", false: "FIN"}[cl.firstRST], senderName(cl.by))})
	v.Filter = evidenceFilter(c.Stream, v.Evidence)
}

// SpareSoFar is the dial race's spare as the live notices can tell it at
// the client's first close, before the Report: a TLS connection offering
// h2 whose client sent no request (clientFrames: it sent HTTP/2 frames,
// decrypted), closed within dialRaceSpan of its start, and another
// connection from the same host to the same server, started within that
// window of it, whose client did send one (others: their TLS facts and
// whether their client sent HTTP/2 frames). The Report's rule
// (DialRaceSpares) also wants the other to have carried requests, which
// only its end can show.
func SpareSoFar(t *model.TLS, clientFrames bool, life time.Duration, others []SpareSibling) bool {
	if t == nil || life > dialRaceSpan || !noRequestTLS(t, clientFrames) {
		return false
	}
	for _, o := range others {
		if o.TLS != nil && o.Gap <= life && (o.TLS.Decrypted && o.ClientFrames || !o.TLS.Decrypted && o.TLS.Version != "" && appDataBeyondHandshake(o.TLS)) {
			return true
		}
	}
	return false
}

// SpareSibling is another connection from the same host to the same
// server, for SpareSoFar: its TLS facts, whether its client sent HTTP/2
// frames, and how far apart the two connections started.
type SpareSibling struct {
	TLS          *model.TLS
	ClientFrames bool
	Gap          time.Duration
}
