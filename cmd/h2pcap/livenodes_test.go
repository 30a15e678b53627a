package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/model"
)

// TestLiveTwoNodes: h2pcap live runs on two nodes, the client's and the
// server's, each with -w and --save, while the path between them drops
// everything server->client during a health check. What they write is
// read as two capture points: the whole captures (-w), the client's
// evidence file (--save) against the server's capture, and the two nodes'
// evidence files of that connection all place the lost PING's ACK between
// the server and the client, and the hop table puts
// the loss server->client between the two nodes, none the other way.
func TestLiveTwoNodes(t *testing.T) {
	needRoot(t, "ip", "nft")
	dir := t.TempDir()
	buildBinaries(t, dir, ".", "../../lab/h2lab")
	n := newLabNet(t)
	h2lab, h2pcap := filepath.Join(dir, "h2lab"), filepath.Join(dir, "h2pcap")
	const port = "8080"
	n.start(n.srv, filepath.Join(dir, "server.out"), h2lab, "server", "--tls-listen", "", "--h2c-listen", ":"+port, "--log", filepath.Join(dir, "server.log"))
	if !waitFor(5*time.Second, func() bool {
		out, _ := exec.Command("ip", "netns", "exec", n.srv, "ss", "-Htln", "sport = :"+port).Output()
		return len(bytes.TrimSpace(out)) > 0
	}) {
		t.Fatalf("the server does not listen on :%s", port)
	}

	// One h2pcap live per node, each on its own interface.
	type node struct {
		name, ns, iface   string
		pcap, save, jsonR string
		cmd               *exec.Cmd
	}
	nodes := []*node{{name: "client", ns: n.cli, iface: "c0"}, {name: "server", ns: n.srv, iface: "s0"}}
	for _, nd := range nodes {
		nd.pcap = filepath.Join(dir, nd.name+".pcapng")
		nd.save = filepath.Join(dir, nd.name+"-evidence")
		nd.jsonR = filepath.Join(dir, nd.name+"-live.json")
		nd.cmd = n.start(nd.ns, filepath.Join(dir, nd.name+"-live.out"), h2pcap, "live", "-i", nd.iface, "--port", port,
			"-w", nd.pcap, "--ring", "16MB", "--save", nd.save, "--format", "json", "-o", nd.jsonR)
	}
	for _, nd := range nodes {
		waitListening(t, filepath.Join(dir, nd.name+"-live.out"))
	}

	// As TestLiveBlackhole: requests for 1 s, then the connection idles
	// and its health-check PING goes out 1 s later, into the black hole.
	clientLog := filepath.Join(dir, "client.log")
	client := n.start(n.cli, filepath.Join(dir, "client.out"), h2lab, "client", "--addr", liveServer+":"+port, "--tls=false", "--conns", "1",
		"--duration", "5s", "--every", "200ms", "--large-every", "0", "--watch-every", "30s", "--quiet-after", "1s", "--quiet-for", "10s",
		"--read-idle-timeout", "1s", "--ping-timeout", "1s", "--dial-timeout", "1s", "--log", clientLog)
	start := clientStart(t, clientLog)
	time.Sleep(time.Until(start.Add(1400 * time.Millisecond)))
	n.in(n.rtr, "nft", "add rule inet h2live faults ip saddr "+liveServer+" counter drop")
	// The PING goes out at about 2 s and is given up 1 s later; the
	// client's live tells it 2 s after it went unanswered and saves the
	// evidence.
	if !waitFor(8*time.Second, func() bool {
		saved, _ := filepath.Glob(filepath.Join(nodes[0].save, "*-ping_lost.pcapng"))
		return len(saved) > 0
	}) {
		b, _ := os.ReadFile(filepath.Join(dir, "client-live.out"))
		t.Fatalf("the client's live saved no ping_lost evidence; its output:\n%s", b)
	}
	time.Sleep(1500 * time.Millisecond) // the server's ring blocks handed over
	var lives []stopped
	for _, nd := range nodes {
		lives = append(lives, stopped{"h2pcap live on the " + nd.name + " node", nd.cmd, filepath.Join(dir, nd.name+"-live.out")})
	}
	interrupt(t, 5*time.Second, lives...)
	client.Process.Signal(syscall.SIGTERM)
	evidence, _ := filepath.Glob(filepath.Join(nodes[0].save, "*-ping_lost.pcapng"))
	// The server's live saw the PING arrive, its ACK leave and the PING
	// come again: it saves the same connection's evidence (named by the
	// same four-tuple).
	tuple := strings.TrimSuffix(filepath.Base(evidence[0]), "-ping_lost.pcapng")
	tuple = tuple[strings.Index(tuple, "Z-")+2:]
	srvEvidence, _ := filepath.Glob(filepath.Join(nodes[1].save, "*-"+tuple+"-ping_lost.pcapng"))
	if len(srvEvidence) != 1 {
		all, _ := filepath.Glob(filepath.Join(nodes[1].save, "*"))
		t.Fatalf("the server's live saved %v, want the ping_lost evidence of %s", all, tuple)
	}

	for _, tc := range []struct {
		name           string
		client, server string
	}{
		{"both -w captures", nodes[0].pcap, nodes[1].pcap},
		{"client evidence, server -w", evidence[0], nodes[1].pcap},
		{"both evidence files", evidence[0], srvEvidence[0]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := analyzeJSON(t, nil, "--point", "client="+tc.client, "--point", "server="+tc.server)
			if len(r.Points) != 2 || r.Points[0].Name != "client" || !r.Points[0].Reference {
				t.Fatalf("points %+v, want client (the reference) and server", r.Points)
			}
			var lost *model.Connection
			for _, c := range r.Connections {
				if c.Verdict.Kind == model.KindLostPing {
					lost = c
				}
			}
			if lost == nil {
				t.Fatalf("no lost_ping; headline %s", r.Summary.Headline)
			}
			if len(lost.Points) != 2 {
				t.Errorf("the lost PING's connection matched at %d points, want 2", len(lost.Points))
			}
			// The PING reached the server; its ACK left it and never came
			// back.
			for _, w := range []string{"its ACK left server", "never reached client: lost between server and client"} {
				if !strings.Contains(lost.Verdict.Summary, w) {
					t.Errorf("the lost PING's verdict does not say %q: %s", w, lost.Verdict.Summary)
				}
			}
			var s2c, c2s int
			for _, h := range r.Summary.Hops {
				switch {
				case h.Direction == model.ServerToClient && h.From == "server" && h.To == "client":
					s2c = h.PacketsLost
				case h.Direction == model.ClientToServer:
					c2s += h.PacketsLost
				}
			}
			if s2c == 0 || c2s != 0 {
				t.Errorf("hops %+v: want loss server->client between server and client, none client->server", r.Summary.Hops)
			}
			if w := fmt.Sprintf("server->client between server and client: %d of", s2c); !strings.Contains(r.Summary.Headline, w) {
				t.Errorf("headline %q does not say %q", r.Summary.Headline, w)
			}
			t.Logf("%s: %s", tc.name, r.Summary.Headline)
		})
	}
}
