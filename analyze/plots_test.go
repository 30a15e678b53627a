package analyze

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/h2pcap/h2pcap/model"
)

// On every lab capture, Options.Plot changes nothing but the plots: the
// problem connections get one, the healthy ones none; each retransmission
// tshark's rules flagged (the events) is in its direction's plot with its
// frame and relative seq (and no other); each GOAWAY the HTTP/2 analysis
// found is in it with its frame and sender; and the ACK line only rises.
func TestPlotsLab(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("..", "testdata", "pcaps", "*", "*.pcap"))
	if len(paths) < 20 {
		t.Fatalf("only %d lab captures", len(paths))
	}
	plotted := 0
	for _, path := range paths {
		t.Run(filepath.Base(filepath.Dir(path))+"/"+filepath.Base(path), func(t *testing.T) {
			without, _ := runPath(t, path, Options{})
			with, _ := runPath(t, path, Options{Plot: true})
			for i, c := range with.Connections {
				p := c.Plot
				c.Plot = nil
				a, _ := json.Marshal(c)
				b, _ := json.Marshal(without.Connections[i])
				if string(a) != string(b) {
					t.Fatalf("stream %d: Options.Plot changed the connection", c.Stream)
				}
				if problem := c.Verdict != nil && c.Verdict.Kind != model.KindHealthy; problem != (p != nil) {
					t.Fatalf("stream %d (%s): plot %v", c.Stream, c.Verdict.Kind, p != nil)
				}
				if p == nil {
					continue
				}
				plotted++
				checkPlot(t, c, p)
			}
		})
	}
	if plotted < 20 {
		t.Errorf("only %d connections plotted", plotted)
	}
}

func checkPlot(t *testing.T, c *model.Connection, p *model.Plot) {
	t.Helper()
	type key struct {
		dir   model.Direction
		input int
		frame int
	}
	retrans := map[key]model.PlotSegment{}
	for _, d := range []model.Direction{model.ClientToServer, model.ServerToClient} {
		pd := p.Dir(d)
		if pd.SegmentsSeen < len(pd.Segments) || pd.Stride < 1 || pd.AckStride < 1 {
			t.Errorf("stream %d %v: %d segments kept of %d seen, stride %d", c.Stream, d, len(pd.Segments), pd.SegmentsSeen, pd.Stride)
		}
		for _, s := range pd.Segments {
			if s.Retrans {
				retrans[key{d, s.Input, s.Frame}] = s
			}
		}
		for i := 1; i < len(pd.Acks); i++ {
			if pd.Acks[i].Ack <= pd.Acks[i-1].Ack || pd.Acks[i].TimeUs < pd.Acks[i-1].TimeUs {
				t.Errorf("stream %d %v: the ACK line goes back at frame %d", c.Stream, d, pd.Acks[i].Frame)
			}
		}
	}
	n := 0
	for _, e := range c.Events {
		switch e.Kind {
		case model.EvRetransmission, model.EvFastRetransmission, model.EvSpuriousRetrans:
		default:
			continue
		}
		n++
		s, ok := retrans[key{e.Dir, e.Input, e.Frame}]
		if !ok {
			t.Errorf("stream %d: the %v retransmission at frame %d is not in the plot", c.Stream, e.Dir, e.Frame)
			continue
		}
		if uint32(s.Seq) != e.Seq || s.Len != e.Len {
			t.Errorf("stream %d frame %d: plot seq %d len %d, event seq %d len %d", c.Stream, e.Frame, s.Seq, s.Len, e.Seq, e.Len)
		}
	}
	if n != len(retrans) && c.EventsDropped == 0 {
		t.Errorf("stream %d: %d retransmissions in the plot, %d events", c.Stream, len(retrans), n)
	}
	if c.HTTP2 != nil {
		if len(p.Goaways) != len(c.HTTP2.Goaways) {
			t.Errorf("stream %d: %d GOAWAYs in the plot, %d in HTTP2", c.Stream, len(p.Goaways), len(c.HTTP2.Goaways))
		}
		for i := range min(len(p.Goaways), len(c.HTTP2.Goaways)) {
			if g, h := p.Goaways[i], c.HTTP2.Goaways[i]; g.Frame != h.Frame || g.From != h.From {
				t.Errorf("stream %d: plot GOAWAY %+v, HTTP2's %+v", c.Stream, g, h)
			}
		}
	}
}
