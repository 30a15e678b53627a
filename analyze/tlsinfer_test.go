package analyze

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"testing"

	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/decode/tls"
	"github.com/h2pcap/h2pcap/model"
)

// inferredOnly says whether h is the HTTP/2 of a TLS connection that was
// not decrypted: PINGs inferred from record sizes and nothing else.
func inferredOnly(h *model.HTTP2) bool {
	if h.Detected != "tls-record-sizes" || len(h.Frames[model.ClientToServer])+len(h.Frames[model.ServerToClient]) > 0 {
		return false
	}
	for _, p := range h.Pings {
		if !p.Inferred {
			return false
		}
	}
	return len(h.Pings) > 0
}

// pingFrames lists a report's PING and PING ACK frames, by input and
// frame, keyed "stream/frame".
func pingFrames(rep *model.Report) (pings, acks map[string]bool) {
	pings, acks = map[string]bool{}, map[string]bool{}
	for _, c := range rep.Connections {
		if c.HTTP2 == nil {
			continue
		}
		for _, p := range c.HTTP2.Pings {
			if p.Frame != 0 {
				pings[fmt.Sprintf("%d/%d/%d", c.Stream, p.Input, p.Frame)] = true
			}
			if p.Acked {
				acks[fmt.Sprintf("%d/%d/%d", c.Stream, p.AckInput, p.AckFrame)] = true
			}
		}
	}
	return pings, acks
}

type score struct{ tp, fp, fn int }

func (s *score) add(truth, got map[string]bool) (fp, fn []string) {
	for k := range got {
		if truth[k] {
			s.tp++
		} else {
			s.fp++
			fp = append(fp, k)
		}
	}
	for k := range truth {
		if !got[k] {
			s.fn++
			fn = append(fn, k)
		}
	}
	return fp, fn
}

func (s score) precision() float64 { return float64(s.tp) / float64(max(1, s.tp+s.fp)) }
func (s score) recall() float64    { return float64(s.tp) / float64(max(1, s.tp+s.fn)) }

// The inference measured against decrypted truth: every TLS capture with
// keys (the public ones and the lab's)
// is analysed twice, with its key log (the PINGs decoded) and without
// (inferred); precision and recall of PING and PING ACK detection must
// be at least 95%.
func TestPingInference(t *testing.T) {
	var pingScore, ackScore score
	for _, tc := range append(slices.Clone(tlsCaptures), labTLSCaptures(t)...) {
		file := tc.file
		truthRep := analyzeCapture(t, file, tc.options(t))
		keyless := keylessCapture(t, file)
		for i, c := range keyless.Connections {
			if c.HTTP2 != nil && !truthRep.Connections[i].TLS.Decrypted {
				t.Errorf("%s stream %d: PINGs inferred, but the key log does not decrypt it: %s", file, c.Stream, truthRep.Connections[i].TLS.KeyProblem)
			}
		}
		tp, ta := pingFrames(truthRep)
		gp, ga := pingFrames(keyless)
		fp, fn := pingScore.add(tp, gp)
		afp, afn := ackScore.add(ta, ga)
		t.Logf("%s: PINGs %d decoded, %d inferred (false %v, missed %v); ACKs %d decoded, %d inferred (false %v, missed %v)",
			file, len(tp), len(gp), fp, fn, len(ta), len(ga), afp, afn)
		for _, c := range keyless.Connections {
			if c.HTTP2 != nil && !inferredOnly(c.HTTP2) {
				t.Errorf("%s stream %d: keyless HTTP/2 is not only inferred PINGs: %+v", file, c.Stream, c.HTTP2)
			}
		}
	}
	t.Logf("PING: %d right, %d false, %d missed: precision %.3f recall %.3f", pingScore.tp, pingScore.fp, pingScore.fn, pingScore.precision(), pingScore.recall())
	t.Logf("ACK:  %d right, %d false, %d missed: precision %.3f recall %.3f", ackScore.tp, ackScore.fp, ackScore.fn, ackScore.precision(), ackScore.recall())
	if pingScore.tp+pingScore.fn < 5 {
		t.Errorf("only %d PINGs in the lab's TLS captures: too few to measure", pingScore.tp+pingScore.fn)
	}
	for _, s := range []struct {
		what string
		s    score
	}{{"PING", pingScore}, {"PING ACK", ackScore}} {
		if s.s.precision() < 0.95 || s.s.recall() < 0.95 {
			t.Errorf("%s inference: precision %.3f, recall %.3f; want both >= 0.95", s.what, s.s.precision(), s.s.recall())
		}
	}
}

// keylessCapture analyses the capture at rel without keys, those of its
// pcapng Decryption Secrets Blocks included.
func keylessCapture(t *testing.T, rel string) *model.Report {
	t.Helper()
	src, err := decode.Open(filepath.Join(pcapRoot(), rel), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	a := New(Options{})
	// The struct hides the source's Secrets method.
	info, err := a.ReadSource(struct{ decode.Source }{src})
	if err != nil {
		t.Fatal(err)
	}
	return a.Report([]*decode.InputInfo{info})
}

// readFrom analyses the capture at path from frame first on, as a capture
// that began there would be: mid-connection, maybe mid-record. midRecord
// says whether the first payload of the connection of client began inside
// a TLS record.
func readFrom(t *testing.T, path string, first int, client string, opts Options) (rep *model.Report, midRecord bool) {
	t.Helper()
	src, err := decode.Open(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	a := New(opts)
	dec := decode.NewDecoder()
	var seg decode.Segment
	seen := false
	for n := 1; ; n++ {
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n < first {
			continue
		}
		if ok, _ := dec.Decode(p, &seg); ok {
			if !seen && seg.PayloadLen > 0 && (seg.Src.String() == client || seg.Dst.String() == client) {
				seen, midRecord = true, !tls.IsHeader(seg.Payload)
			}
			a.Segment(&seg)
		}
	}
	return a.Report([]*decode.InputInfo{src.Info()}), midRecord
}

// Without keys and without the handshake, the lost PING is still found:
// the capture of blackhole-s2c-tls cut to start at each frame after the
// handshake and before the answered PING, some of them inside a record.
func TestLostPingKeylessMidConnection(t *testing.T) {
	path := filepath.Join(pcapRoot(), "blackhole-s2c-tls", "client.pcap")
	full := analyzeCapture(t, "blackhole-s2c-tls/client.pcap", Options{})
	c0 := full.Connections[0]
	if c0.Verdict == nil || c0.Verdict.Kind != model.KindLostPing {
		t.Fatalf("full capture: verdict %+v", c0.Verdict)
	}
	// The client's last PING: its ACK came 3.4 s late, after the client
	// had given up (decrypted, the capture says the same).
	var lost *model.Ping
	if n := len(c0.HTTP2.Pings); n > 0 {
		lost = &c0.HTTP2.Pings[n-1]
	}
	if lost == nil || lost.From != "client" || !lost.Inferred || !lost.Late {
		t.Fatalf("full capture: the last PING is not the client's late one: %+v", c0.HTTP2.Pings)
	}
	midRecord := 0
	// Up to the PING before it: a capture whose first record is the
	// lost PING cannot tell it from an ACK when its answer is late.
	for first := 8; first < c0.HTTP2.Pings[0].AckFrame; first++ {
		rep, mid := readFrom(t, path, first, c0.Client, Options{})
		if mid {
			midRecord++
		}
		var c *model.Connection
		for _, x := range rep.Connections {
			if x.Client == c0.Client {
				c = x
			}
		}
		if c == nil {
			t.Errorf("from frame %d: connection %s not found", first, c0.Client)
			continue
		}
		if c.Handshake.Seen || c.TLS == nil {
			t.Errorf("from frame %d: handshake seen %v, TLS %+v: not a mid-connection start", first, c.Handshake.Seen, c.TLS)
			continue
		}
		if c.Verdict == nil || c.Verdict.Kind != model.KindLostPing {
			t.Errorf("from frame %d: verdict %+v, want lost_ping", first, c.Verdict)
			continue
		}
		found := false
		for _, p := range c.HTTP2.Pings {
			if p.Frame == lost.Frame && p.From == "client" && p.Inferred && p.Late && p.AckFrame == lost.AckFrame {
				found = true
			} else if p.Frame > lost.Frame || p.AckFrame > lost.AckFrame {
				t.Errorf("from frame %d: a PING after the lost one: %+v", first, p)
			}
		}
		if !found {
			t.Errorf("from frame %d: the lost PING (frame %d) is not inferred: %+v", first, lost.Frame, c.HTTP2.Pings)
		}
	}
	if midRecord == 0 {
		t.Error("no start inside a record: the cut points test nothing of the record search")
	}
	t.Logf("%d starts, %d inside a record", c0.HTTP2.Pings[0].AckFrame-8, midRecord)
}
