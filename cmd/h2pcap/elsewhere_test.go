package main

import (
	"bytes"
	"encoding/json"
	"hash/crc32"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/internal/synth"
	"github.com/h2pcap/h2pcap/model"
)

// listedOnce checks that the multi-point report r, of the captures each
// of which alone gave alone[point], lists every connection of every
// point once: a row of its own (the reference point's, or one with its
// Point), or a point in another row's points; and that its summary
// counts every row.
func listedOnce(t *testing.T, r *model.Report, alone map[string]*model.Report) {
	t.Helper()
	ref := ""
	for _, p := range r.Points {
		if p.Reference {
			ref = p.Name
		}
	}
	seen := map[string]map[int]int{}
	add := func(point string, stream int) {
		if seen[point] == nil {
			seen[point] = map[int]int{}
		}
		seen[point][stream]++
	}
	for _, c := range r.Connections {
		if c.Point != "" && c.Points[c.Point].Stream != c.Stream {
			t.Errorf("%s's row of stream %d: its points give it stream %d there", c.Point, c.Stream, c.Points[c.Point].Stream)
		}
		if len(c.Points) == 0 {
			home := c.Point
			if home == "" {
				home = ref
			}
			add(home, c.Stream)
		}
		for name, cp := range c.Points {
			add(name, cp.Stream)
		}
	}
	for name, a := range alone {
		for _, c := range a.Connections {
			if n := seen[name][c.Stream]; n != 1 {
				t.Errorf("%s's stream %d (%s -> %s, %s) listed %d times", name, c.Stream, c.Client, c.Server, c.Verdict.Kind, n)
			}
			delete(seen[name], c.Stream)
		}
		for st := range seen[name] {
			t.Errorf("%s's stream %d listed, not a connection of its capture alone", name, st)
		}
	}
	if r.Summary.Connections != len(r.Connections) {
		t.Errorf("summary counts %d connections, %d listed", r.Summary.Connections, len(r.Connections))
	}
	problems := 0
	for _, c := range r.Connections {
		if c.Verdict != nil && c.Verdict.Kind != model.KindHealthy && !strings.Contains(c.Verdict.Summary, "GOAWAY NO_ERROR") {
			problems++
		}
	}
	if r.Summary.ProblemConnections+r.Summary.BenignGoaways < problems {
		t.Errorf("summary counts %d connections with problems (and %d drained), %d listed", r.Summary.ProblemConnections, r.Summary.BenignGoaways, problems)
	}
}

// TestElsewhereListed: captures of several points that are not one path
// (each etcd member's holds its own peer connections) list every
// connection once, the summary counting them all: the reference
// point's rows, and each connection it never saw from the first point
// that saw it (Connection.Point). etcd-leader-loss given as m1.pcap and
// m2.pcap listed m1's 43 connections alone: m2's 20 others (to m3, and
// the client's) were counted as "not at the reference" and nothing
// more; the etcd pairs lacked m2<->m3, so "every lossy peer connection
// goes through m1" rested on m1's own connections; and the election was
// dated when m1 learnt of it, 2 s after m3 won it.
func TestElsewhereListed(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "pcaps", "etcd-leader-loss")
	m1, m2 := filepath.Join(dir, "m1.pcap"), filepath.Join(dir, "m2.pcap")
	r := analyzeJSON(t, nil, m1, m2)
	listedOnce(t, r, map[string]*model.Report{"m1": analyzeJSON(t, nil, m1), "m2": analyzeJSON(t, nil, m2)})
	var away []*model.Connection
	for _, c := range r.Connections {
		if c.Point != "" {
			if c.Point != "m2" {
				t.Errorf("stream %d listed from %q, not m2", c.Stream, c.Point)
			}
			away = append(away, c)
		}
	}
	if len(away) != r.Points[1].NotAtReference || len(away) < 10 {
		t.Errorf("%d rows of m2, which has %d connections m1 never saw", len(away), r.Points[1].NotAtReference)
	}
	if r.Points[0].Connections != len(r.Connections)-len(away) {
		t.Errorf("m1 saw %d connections, its rows are %d", r.Points[0].Connections, len(r.Connections)-len(away))
	}
	e := r.Summary.Etcd
	if e == nil {
		t.Fatal("no etcd summary")
	}
	pair := false
	for _, p := range e.Pairs {
		if p.Members == [2]string{"198.18.12.2", "198.18.13.2"} {
			pair = true
		}
	}
	if !pair {
		t.Errorf("no etcd pair 198.18.12.2<->198.18.13.2 (m2<->m3, whose connections only m2 saw): %+v", e.Pairs)
	}
	var truth struct {
		Elections []struct {
			Term uint64
			Time time.Time
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &truth); err != nil {
		t.Fatal(err)
	}
	last := truth.Elections[len(truth.Elections)-1]
	if len(e.Elections) != 1 || e.Elections[0].Term != last.Term || e.Elections[0].Time.Sub(last.Time).Abs() > 5*time.Millisecond {
		t.Errorf("elections %+v; truth: term %d at %s", e.Elections, last.Term, last.Time)
	}
	// The table names such a row's stream by its point: m2:4 is stream
	// 4 of m2's capture, m1's own stream 4 being another connection.
	_, out, _ := h2pcap(t, nil, "analyze", m1, m2)
	for _, c := range away {
		if c.Verdict.Kind == model.KindHealthy {
			continue
		}
		label := regexp.MustCompile(`(?m)^│ m2:` + strconv.Itoa(c.Stream) + ` +│ ` + regexp.QuoteMeta(c.Client) + ` `)
		if !label.MatchString(out) {
			t.Errorf("the table has no row m2:%d for %s -> %s", c.Stream, c.Client, c.Server)
		}
		if !strings.Contains(out, "tcp.stream eq "+strconv.Itoa(c.Stream)+" in m2's capture") {
			t.Errorf("no finding names m2's stream %d and its capture", c.Stream)
		}
	}
	if !strings.Contains(out, "63 connections, 30 with problems") {
		t.Errorf("the table's counts are not the JSON's (63 connections, 30 with problems)")
	}
}

// TestElsewhereUnrelatedCaptures: captures given together of which only
// two share connections are read as capture points (the two compared);
// the others' connections are listed too, and the summary is of them
// all. Four suricata-verify captures given together said "All 5
// connections healthy": the reference's, one of the two that share; the
// 8 connections of bug-76, whose capture missed 41 % of the data, were
// in no row nor count, and its drops in no headline.
func TestElsewhereUnrelatedCaptures(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "pcaps", "public", "suricata-verify")
	names := []string{"http2-range__http2-range", "transform-base64-7296", "bug-76", "http2-errorcode"}
	var paths []string
	alone := map[string]*model.Report{}
	for _, n := range names {
		p := filepath.Join(dir, n+".pcap")
		paths = append(paths, p)
		alone[n] = analyzeJSON(t, nil, p)
	}
	r := analyzeJSON(t, nil, paths...)
	if len(r.Points) != len(names) {
		t.Fatalf("%d points, want %d", len(r.Points), len(names))
	}
	listedOnce(t, r, alone)
	bug76 := 0
	for _, c := range r.Connections {
		if c.Point == "bug-76" {
			bug76++
		}
	}
	if bug76 != len(alone["bug-76"].Connections) {
		t.Errorf("%d rows of bug-76, its capture alone %d", bug76, len(alone["bug-76"].Connections))
	}
	if regexp.MustCompile(`All \d+ connections healthy`).MatchString(r.Summary.Headline) {
		t.Errorf("headline %q: bug-76's connections have problems", r.Summary.Headline)
	}
	// Its capture's drops lead the headline, as they do of it alone:
	// they were in the inputs' table only.
	if !strings.HasPrefix(r.Summary.Headline, "Warning: input 1 missed about 34.4% of the data") ||
		!strings.Contains(r.Summary.Headline, "Warning: input 2 missed about 41.0% of the data") {
		t.Errorf("headline %q: no warning of the drops of inputs 1 and 2 (transform-base64-7296, bug-76)", r.Summary.Headline)
	}
	// The table, which lists problem connections and folds the healthy
	// ones, counts as many.
	_, out, _ := h2pcap(t, nil, append([]string{"analyze"}, paths...)...)
	if want := strconv.Itoa(r.Summary.Connections) + " connections, " + strconv.Itoa(r.Summary.ProblemConnections) + " with problems"; !strings.Contains(out, want) {
		t.Errorf("the table does not say %q", want)
	}
}

// TestElsewhereHome: a connection the reference point never saw is
// listed from the point first along its client->server path of those
// that saw it, whatever order the captures are given in: three points
// along a path (synthetic short connections, each point 2 us past the
// one before), the clients' capture filtered to lack a third of them,
// lists those from b, given a, b, c or c, b, a.
func TestElsewhereHome(t *testing.T) {
	a, b := twoPointFiles(t, 60, 10, 0, "a", "b")
	src, err := os.Open(b)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var third bytes.Buffer
	if err := synth.SecondPoint(src, &third, 2*time.Microsecond, 0); err != nil {
		t.Fatal(err)
	}
	c := filepath.Join(t.TempDir(), "c.pcap")
	if err := os.WriteFile(c, third.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	lacks := func(ip *layers.IPv4, tc *layers.TCP) bool {
		return crc32.ChecksumIEEE([]byte(tupleKey(ip, tc)))%3 == 0
	}
	a = filterPcap(t, a, lacks)
	for _, args := range [][]string{{a, b, c}, {c, b, a}} {
		r := analyzeJSON(t, nil, args...)
		ref, away := "", map[string]int{}
		for _, p := range r.Points {
			if p.Reference {
				ref = p.Name
			}
		}
		for _, conn := range r.Connections {
			if conn.Point != "" {
				away[conn.Point]++
			}
		}
		if ref != "a" || len(away) != 1 || away["b"] < 10 || r.Summary.Connections != 60 {
			t.Errorf("given as %v: reference %s, rows of other points %v, %d connections; want a, only b's, 60", args, ref, away, r.Summary.Connections)
		}
	}
}

// TestElsewhereMesh: the three etcd members' own captures of
// etcd-leader-loss-mesh (lab/run.sh) are three capture points none of
// which is on the path of the two others' connections with each other.
// Given together, in any order, every connection of the three is listed
// once, the faulty member named with the other pair clean, and the
// election dated as the new leader logged it. Before session 43 the
// report was the reference member's 46 connections: the election was
// dated when that member learnt of it, and the pair of the two others
// was in no summary.
func TestElsewhereMesh(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "pcaps", "etcd-leader-loss-mesh")
	var truth struct {
		FaultyMember string `json:"faulty_member"`
		Members      []struct{ Name, Address string }
		Elections    []struct {
			Term   uint64
			Leader string
			Time   time.Time
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Skip("no lab capture:", err)
	}
	if err := json.Unmarshal(b, &truth); err != nil {
		t.Fatal(err)
	}
	addr := map[string]string{}
	alone := map[string]*model.Report{}
	var names []string
	for _, m := range truth.Members {
		addr[m.Name] = m.Address
		names = append(names, m.Name)
		alone[m.Name] = analyzeJSON(t, nil, filepath.Join(dir, m.Name+".pcap"))
	}
	last := truth.Elections[len(truth.Elections)-1]
	var first *model.Report
	for _, order := range [][]int{{0, 1, 2}, {2, 0, 1}, {1, 2, 0}} {
		var args []string
		for _, k := range order {
			args = append(args, filepath.Join(dir, names[k]+".pcap"))
		}
		r := analyzeJSON(t, nil, args...)
		listedOnce(t, r, alone)
		e := r.Summary.Etcd
		if e == nil || len(e.Elections) == 0 {
			t.Fatalf("given as %v: no etcd election", order)
		}
		el := e.Elections[len(e.Elections)-1]
		if el.Term != last.Term || el.LeaderAddress != addr[last.Leader] || el.Time.Sub(last.Time).Abs() > 5*time.Millisecond {
			t.Errorf("given as %v: election term %d to %s at %s; truth: term %d to %s at %s", order, el.Term, el.LeaderAddress, el.Time, last.Term, addr[last.Leader], last.Time)
		}
		if len(e.Pairs) != 3 {
			t.Errorf("given as %v: %d etcd pairs, want the 3", order, len(e.Pairs))
		}
		for _, p := range e.Pairs {
			through := p.Members[0] == addr[truth.FaultyMember] || p.Members[1] == addr[truth.FaultyMember]
			if through != p.Lossy {
				t.Errorf("given as %v: pair %v lossy %v (%d retransmissions); the faulty member is %s", order, p.Members, p.Lossy, p.Retransmissions, addr[truth.FaultyMember])
			}
		}
		if want := "every etcd peer connection through " + addr[truth.FaultyMember] + " had loss"; !strings.Contains(r.Summary.Headline, want) {
			t.Errorf("given as %v: headline %q does not say %q", order, r.Summary.Headline, want)
		}
		if strings.Contains(r.Summary.Headline, "this capture point") {
			// Three points: the heartbeats that stopped stopped at the
			// one whose capture lists their connection (m1, the sender).
			t.Errorf("given as %v: headline %q says \"this capture point\" of three", order, r.Summary.Headline)
		}
		if first == nil {
			first = r
		} else if r.Summary.Connections != first.Summary.Connections || r.Summary.ProblemConnections != first.Summary.ProblemConnections ||
			clockTimes.ReplaceAllString(r.Summary.Headline, "T") != clockTimes.ReplaceAllString(first.Summary.Headline, "T") {
			t.Errorf("given as %v: %d connections, %d with problems, headline %q; given as m1 m2 m3: %d, %d, %q", order,
				r.Summary.Connections, r.Summary.ProblemConnections, r.Summary.Headline, first.Summary.Connections, first.Summary.ProblemConnections, first.Summary.Headline)
		}
	}
}

// TestEveryConnectionListedOnce: on every lab scenario captured at
// several points, each connection of each point's capture (as that
// capture alone lists it) is listed once in the multi-point report: in
// the reference point's rows, among another row's points, or as a row
// of its own point; and the summary counts every row.
func TestEveryConnectionListedOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("analyses every multi-point lab scenario and each of its captures")
	}
	n := 0
	for _, sc := range multiPointScenarios(t) {
		alone := map[string]*model.Report{}
		for _, p := range sc.base.Points {
			if p.Interface != "" || len(p.Inputs) != 1 {
				alone = nil // a point per interface of a file: not one file alone
				break
			}
			alone[p.Name] = analyzeJSON(t, nil, append([]string{sc.base.Inputs[p.Inputs[0]].Path}, sc.keys...)...)
		}
		if alone == nil {
			continue
		}
		t.Run(filepath.Base(sc.dir), func(t *testing.T) { listedOnce(t, sc.base, alone) })
		n++
	}
	if n < 8 {
		t.Errorf("only %d multi-point lab scenarios", n)
	}
}

// TestElsewhereProbes: traceroute probes that only a point other than
// the reference saw are counted in the summary, from that point, and the
// headline says so; probes the reference saw are its own (the server's
// capture of traceroute-probes counts fewer of them than the client's).
// Before, another point's probes were in no row (rightly) and no count.
func TestElsewhereProbes(t *testing.T) {
	probes := filepath.Join("..", "..", "testdata", "pcaps", "traceroute-probes")
	// a: 300 short connections of another network, the reference by
	// their SYNs; b: the traceroute-probes client's capture.
	var src bytes.Buffer
	if err := synth.Write(&src, "short", synth.Config{N: 300, Open: 16, Rate: 1000}, nil); err != nil {
		t.Fatal(err)
	}
	a := filepath.Join(t.TempDir(), "a.pcap")
	if err := os.WriteFile(a, src.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	alone := analyzeJSON(t, nil, filepath.Join(probes, "client.pcap"))
	if alone.Summary == nil || len(alone.Summary.Probes) != 1 {
		t.Fatalf("traceroute-probes' client.pcap alone: probes %+v, want one target", alone.Summary)
	}
	r := analyzeJSON(t, nil, "--point", "a="+a, "--point", "b="+filepath.Join(probes, "client.pcap"))
	if !r.Points[0].Reference {
		t.Fatalf("points %+v: a is not the reference", r.Points)
	}
	if got := r.Summary.Probes; len(got) != 1 || got[0].Point != "b" || got[0].Probes != alone.Summary.Probes[0].Probes ||
		!slices.Equal(got[0].Streams, alone.Summary.Probes[0].Streams) {
		t.Errorf("probes %+v; want b's %d, its streams", got, alone.Summary.Probes[0].Probes)
	}
	if want := verdict.ProbesWords(alone.Summary.Probes) + "."; !strings.HasSuffix(r.Summary.Headline, want) {
		t.Errorf("headline %q does not end %q", r.Summary.Headline, want)
	}
	// Both ends of traceroute-probes: the client's capture is the
	// reference and counts its probes; the server's fewer are not added.
	both := analyzeJSON(t, nil, filepath.Join(probes, "client.pcap"), filepath.Join(probes, "server.pcap"))
	if got := both.Summary.Probes; len(got) != 1 || got[0].Point != "" || got[0].Probes != alone.Summary.Probes[0].Probes {
		t.Errorf("client and server: probes %+v; want the client's %d alone", got, alone.Summary.Probes[0].Probes)
	}
}
