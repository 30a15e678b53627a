package analyze

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
	"github.com/h2pcap/h2pcap/report"
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

// With Options.Plot, the trackers still go as early as without it: a
// problem connection's once it is settled (closed, quiet, reset), a lone
// SYN's from the start (half.go), every one's as its row is made
// (ReportOnce); each keeps its pictures' data (keepPlot), so the report
// is the one made with the trackers kept to the end, plots included: the
// table's, and the JSON's with its rows spilled (a lone SYN's row final
// once judged, verdict.Later.Done) too. A lone SYN's plot, recorded when
// its trackers are built, is the SYN's as it came.
func TestPlotsTrackersFreed(t *testing.T) {
	const n, syns = 30, 25
	sv := netip.MustParseAddrPort("198.18.2.2:443")
	run := func(opts Options, format string) (string, *Analyzer) {
		opts.Plot = true
		a := New(opts)
		end := shortConns(a, n, true)
		for i := range syns {
			// Lone SYNs nothing answers, after the short connections.
			cl := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, 3, byte(1 + i)}), uint16(2000+i))
			a.Segment(&decode.Segment{Src: cl, Dst: sv, Flags: decode.FlagSYN, Seq: 7, Frame: 5000 + i, Time: end.Add(time.Duration(i) * time.Millisecond), Window: 1000})
		}
		// A connection two minutes on, so the capture outlasts the
		// SYNs' connect timeouts: they failed.
		cl, at := netip.MustParseAddrPort("198.18.4.1:3000"), end.Add(2*time.Minute)
		a.Segment(&decode.Segment{Src: cl, Dst: sv, Flags: decode.FlagSYN, Seq: 9, Frame: 6000, Time: at, Window: 1000})
		a.Segment(&decode.Segment{Src: sv, Dst: cl, Flags: decode.FlagSYN | decode.FlagACK, Seq: 90, Ack: 10, Frame: 6001, Time: at.Add(time.Millisecond), Window: 1000})
		a.Tick(at.Add(time.Minute))
		if a.halfConns.Load() != syns {
			t.Errorf("%d half-open connections before the Report, want the %d lone SYNs", a.halfConns.Load(), syns)
		}
		var b bytes.Buffer
		r := a.Report([]*decode.InputInfo{{}})
		if err := report.WriteOptions(&b, r, format, report.Options{All: true}); err != nil {
			t.Fatal(err)
		}
		a.Close()
		return b.String(), a
	}
	forget := Options{ForgetHealthy: time.Second, ForgetAbove: 5}
	for _, tc := range []struct {
		format      string
		kept, freed Options
	}{
		// JSON lists every connection: the healthy ones' rows go to
		// the spill file, and so do the lone SYNs' as they are judged.
		{"json", Options{}, Options{ForgetHealthy: time.Second, ForgetAbove: 5, SpillRows: true, ReportOnce: true}},
		// The table forgets the healthy ones either way.
		{"table", forget, Options{ForgetHealthy: time.Second, ForgetAbove: 5, ReportOnce: true}},
	} {
		want, kept := run(tc.kept, tc.format)
		got, a := run(tc.freed, tc.format)
		if got != want {
			t.Errorf("%s: the report with the trackers freed differs:\n%s\nwant\n%s", tc.format, got, want)
		}
		if kept.fg != nil && kept.fg.settled != 0 || a.fg.settled != n/10 {
			t.Errorf("%s: %d settled, want the %d resets (and none without ReportOnce)", tc.format, a.fg.settled, n/10)
		}
		if tc.format != "json" {
			continue
		}
		if a.spill == nil || a.spill.Len() < n-n/10+syns {
			t.Errorf("json: the healthy connections' and lone SYNs' rows were not spilled as they were judged")
		}
		var r model.Report
		if err := json.Unmarshal([]byte(got), &r); err != nil {
			t.Fatal(err)
		}
		plotted := 0
		for _, c := range r.Connections {
			if c.Plot == nil {
				continue
			}
			plotted++
			if c.FirstFrame < 5000 || c.FirstFrame >= 5000+syns {
				continue
			}
			segs := c.Plot.ClientToServer.Segments
			if want := []model.PlotSegment{{Frame: c.FirstFrame, Ctl: model.CtlSYN}}; !slices.Equal(segs, want) || len(c.Plot.ServerToClient.Segments) != 0 {
				t.Errorf("stream %d: lone SYN plotted as %+v, want its SYN alone %+v", c.Stream, segs, want)
			}
		}
		if plotted < n/10+syns {
			t.Errorf("%d plots, want the %d resets' and the %d lone SYNs' at least", plotted, n/10, syns)
		}
	}
}
