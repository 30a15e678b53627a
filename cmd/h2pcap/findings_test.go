package main

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/decode/live"
	"github.com/h2pcap/h2pcap/model"
)

// TestFindingLines: a finding is one line, aligned; what is not a finding
// is not printed; on the status line's terminal the line clears it first.
func TestFindingLines(t *testing.T) {
	at := time.Date(2026, 11, 26, 12, 4, 5, 123_456_789, time.Local)
	conn := model.Notice{Time: at, Stream: 3, Client: netip.MustParseAddrPort("198.18.1.2:41286"), Server: netip.MustParseAddrPort("198.18.2.2:8443")}
	with := func(kind model.NoticeKind, from, code, text string) model.Notice {
		n := conn
		n.Kind, n.From, n.Code, n.Text = kind, from, code, text
		return n
	}
	tests := []struct {
		n     model.Notice
		clear bool
		want  string
	}{
		{with(model.NoticePingLost, "client", "", "client PING unanswered, client closed (FIN) after 1.0 s; frame 1234"), false,
			"12:04:05.123 lost PING     198.18.1.2:41286 -> 198.18.2.2:8443 (stream 3) client PING unanswered, client closed (FIN) after 1.0 s; frame 1234\n"},
		{with(model.NoticeRetransBurst, "server", "", "5 retransmissions by the server within 300 ms"), false,
			"12:04:05.123 retrans burst 198.18.1.2:41286 -> 198.18.2.2:8443 (stream 3) 5 retransmissions by the server within 300 ms\n"},
		{with(model.NoticeReset, "server", "", "RST from the server's address"), true,
			"\r\033[K12:04:05.123 RST           198.18.1.2:41286 -> 198.18.2.2:8443 (stream 3) RST from the server's address\n"},
		{with(model.NoticeGoaway, "server", "NO_ERROR", "server sent GOAWAY NO_ERROR"), false,
			"12:04:05.123 GOAWAY        198.18.1.2:41286 -> 198.18.2.2:8443 (stream 3) server sent GOAWAY NO_ERROR\n"},
		{with(model.NoticeGoaway, "client", "NO_ERROR", "client sent GOAWAY NO_ERROR"), false, ""},
		{with(model.NoticePingAck, "client", "", ""), false, ""},
		{with(model.NoticeRetrans, "client", "", ""), false, ""},
		{with(model.NoticeConnOpen, "", "", ""), false, ""},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		c := &console{findings: &out, stderr: &out, clearFindings: tt.clear}
		c.notice(&tt.n)
		if out.String() != tt.want {
			t.Errorf("%s from %s:\n got %q\nwant %q", tt.n.Kind, tt.n.From, out.String(), tt.want)
		}
	}
}

type fakeStats struct{ packets uint64 }

func (f *fakeStats) Stats() live.Stats {
	f.packets += 500
	return live.Stats{Packets: f.packets, KernelDrops: 2, QueueDrops: 1}
}

// TestStatusLine: once a second, packets, their rate, the analyzer's open
// connections and the drops; cleared at the end.
func TestStatusLine(t *testing.T) {
	var out bytes.Buffer
	c := &console{stderr: &out, findings: &out, status: true}
	done := make(chan struct{})
	time.AfterFunc(1300*time.Millisecond, func() { close(done) })
	c.runStatus(&fakeStats{}, func() int64 { return 7 }, done)
	got := out.String()
	if !strings.Contains(got, "\r\033[Kh2pcap: 500 packets, ") || !strings.Contains(got, " packets/s, 7 open connections, capture drops: 2 kernel, 1 h2pcap") ||
		!strings.HasSuffix(got, "\r\033[K") {
		t.Errorf("status: %q", got)
	}
}

// TestLiveSaveFlags: --ring and --save are checked before capturing.
func TestLiveSaveFlags(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--ring", "64MB"}, "h2pcap: live: --ring keeps packets for --save DIR, which is missing\n"},
		{[]string{"--ring", "12X", "--save", t.TempDir()}, "h2pcap: live: --ring: bad size \"12X\" (want e.g. 64MB, 512K, 1G)\n"},
		{[]string{"--ring", "100K", "--save", t.TempDir()}, "h2pcap: live: --ring 100K is under the least, 256 KB\n"},
		{[]string{"--save", filepath.Join(file, "sub")}, "h2pcap: live: --save: mkdir " + file + ": not a directory\n"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"live", "-i", "lo"}, tt.args...), nil, &stdout, &stderr)
		if code != exitUsage || stderr.String() != tt.want {
			t.Errorf("%v: exit %d, stderr %q; want %d, %q", tt.args, code, stderr.String(), exitUsage, tt.want)
		}
	}
}
