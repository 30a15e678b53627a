package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/h2pcap/h2pcap/decode/live"
	"github.com/h2pcap/h2pcap/model"
)

// console is where h2pcap live talks while it runs: finding lines, one-off
// messages and, on a terminal, the status line. The analysis goroutine and
// the status goroutine both write, so every write takes the lock, and a
// line printed where the status line is shown first clears it (the next
// status tick draws it again below).
type console struct {
	mu       sync.Mutex
	findings io.Writer // finding lines: stdout when the report goes to a file (-o), else stderr
	stderr   io.Writer
	status   bool // the status line is shown on stderr
	// clearFindings: the findings' writer is the status line's terminal.
	clearFindings bool
}

// noticeLabels are the finding lines' second column.
var noticeLabels = map[model.NoticeKind]string{
	model.NoticePingLost:      "lost PING",
	model.NoticePingLate:      "PING late",
	model.NoticeGoaway:        "GOAWAY",
	model.NoticeReset:         "RST",
	model.NoticeRetransBurst:  "retrans burst",
	model.NoticeSilent:        "silent",
	model.NoticeConnectFailed: "connect fail",
	model.NoticeBlackholed:    "dead flow",
	// etcd: the connection is the one the new leader's first heartbeat
	// or append was seen on.
	model.NoticeEtcdLeaderChange: "leader change",
	// The old connection; the text names the redial and the mechanism.
	model.NoticeAbandoned: "abandoned",
	// live on several interfaces: lost inside the node.
	model.NoticeHopLoss: "lost on hop",
}

// labelWidth aligns the lines: the longest label.
const labelWidth = len("retrans burst")

// notice prints n if it is a finding:
//
//	12:04:05.123 lost PING     198.18.1.2:41286 -> 198.18.2.2:8443 (stream 3) client PING unanswered, ...; frame 1234
func (c *console) notice(n *model.Notice) {
	if !n.Finding() {
		return
	}
	label := noticeLabels[n.Kind]
	if label == "" {
		label = string(n.Kind)
	}
	c.line(fmt.Sprintf("%s %-*s %s -> %s (stream %d) %s\n", n.Time.Local().Format("15:04:05.000"), labelWidth, label, n.Client, n.Server, n.Stream, n.Text))
}

// line writes one finding-like line.
func (c *console) line(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.clearFindings {
		io.WriteString(c.findings, "\r\033[K")
	}
	io.WriteString(c.findings, s)
}

// Write writes a message to stderr, clearing the status line first; it is
// the stderr of what runs beside the analysis (-w, --save).
func (c *console) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.status {
		io.WriteString(c.stderr, "\r\033[K")
	}
	return c.stderr.Write(b)
}

// statusLine draws the status line.
func (c *console) statusLine(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	io.WriteString(c.stderr, "\r\033[K"+s)
}

// statusSource is what the status line reads, from its own goroutine.
type statusSource interface {
	Stats() live.Stats
}

// runStatus draws the status line once a second until done: packets,
// packets/s, open connections (from the analyzer's atomic counter) and the
// capture's drops.
func (c *console) runStatus(src statusSource, open func() int64, done <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var last uint64
	lastT := time.Now()
	for {
		select {
		case <-done:
			c.statusLine("")
			return
		case at := <-t.C:
			st := src.Stats()
			rate := float64(st.Packets-last) / at.Sub(lastT).Seconds()
			last, lastT = st.Packets, at
			c.statusLine(fmt.Sprintf("h2pcap: %d packets, %.0f packets/s, %d open connections, capture drops: %d kernel, %d h2pcap",
				st.Packets, rate, open(), st.KernelDrops, st.QueueDrops))
		}
	}
}
