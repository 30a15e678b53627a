package app

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/decode/h2"
	"github.com/h2pcap/h2pcap/model"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// testHost is a Host whose client is side 0.
type testHost struct{}

func (testHost) ClientSide() int                                      { return 0 }
func (testHost) IRTT() time.Duration                                  { return 0 }
func (testHost) PingAck(side int, f *h2.Frame)                        {}
func (testHost) Goaway(side int, f *h2.Frame)                         {}
func (testHost) RaftLeader(side int, member, term uint64, at h2.Meta) {}
func (testHost) GRPCCall(method, code string, at h2.Meta)             {}

// chunked writes body as HTTP/1.1 chunks, one per piece.
func chunked(pieces ...[]byte) []byte {
	var out []byte
	for _, p := range pieces {
		out = fmt.Appendf(out, "%x\r\n", len(p))
		out = append(out, p...)
		out = append(out, "\r\n"...)
	}
	return out
}

// TestEtcdPeer feeds a rafthttp message stream (request, then a chunked
// response carrying length-prefixed raft messages in pieces of every
// size) and checks what the connection reports.
func TestEtcdPeer(t *testing.T) {
	msg := func(typ raftpb.MessageType, term uint64) []byte {
		b, err := proto.Marshal(&raftpb.Message{Type: typ.Enum(), From: new(uint64(0xb2)), To: new(uint64(0xa1)), Term: new(term)})
		if err != nil {
			t.Fatal(err)
		}
		return append(binary.BigEndian.AppendUint64(nil, uint64(len(b))), b...)
	}
	req := "GET /raft/stream/message/a1 HTTP/1.1\r\nHost: 10.0.2.1:2380\r\nX-Server-From: a1\r\nX-Raft-To: b2\r\n" +
		"X-Etcd-Cluster-ID: c0ffee\r\nAccept-Encoding: gzip\r\n\r\n"
	hb := msg(raftpb.MsgHeartbeat, 7)
	link, _ := proto.Marshal(&raftpb.Message{Type: raftpb.MsgHeartbeat.Enum()})
	linkMsg := append(binary.BigEndian.AppendUint64(nil, uint64(len(link))), link...)
	// A message split across two chunks, as a flushed writer may.
	vote := msg(raftpb.MsgVote, 8)
	resp := append([]byte("HTTP/1.1 200 OK\r\nX-Server-Version: 3.7.3\r\nTransfer-Encoding: chunked\r\n\r\n"),
		chunked(hb, hb, linkMsg, vote[:5], vote[5:], msg(raftpb.MsgHeartbeat, 8))...)
	for step := 1; step <= len(resp); step += 1 + step/2 {
		h := newConn(nil, testHost{}, false, nil, nil)
		feed := func(side int, b []byte) {
			for i := 0; i < len(b); i += step {
				end := min(i+step, len(b))
				h.dir[side].plain(b[i:end], h2.Meta{Frame: end, Time: time.Unix(0, int64(end)*int64(time.Millisecond))})
			}
		}
		// The request comes in one segment (its line is what tells
		// HTTP/1 and rafthttp); the response in pieces of every size.
		h.dir[0].plain([]byte(req), h2.Meta{Frame: 1})
		feed(1, resp)
		st := &State{h: h}
		p := st.Etcd(0)
		if p == nil {
			t.Fatalf("step %d: not read as rafthttp", step)
		}
		if p.Stream != model.EtcdStreamMessage || p.ClientMember != "a1" || p.ServerMember != "b2" || p.ClusterID != "c0ffee" ||
			p.Version != "3.7.3" || p.Error != "" {
			t.Fatalf("step %d: %+v", step, p)
		}
		got := p.Messages[model.ServerToClient]
		if got["MsgHeartbeat"] != 3 || got["MsgVote"] != 1 || got["LinkHeartbeat"] != 1 {
			t.Fatalf("step %d: messages %v", step, got)
		}
		var runs []string
		for _, r := range p.Runs {
			runs = append(runs, fmt.Sprintf("%s %s->%s t%d x%d", r.Type, r.From, r.To, r.Term, r.Count))
		}
		if w := "MsgHeartbeat b2->a1 t7 x2|MsgVote b2->a1 t8 x1|MsgHeartbeat b2->a1 t8 x1"; strings.Join(runs, "|") != w {
			t.Fatalf("step %d: runs %v, want %s", step, runs, w)
		}
	}
}

// TestEtcdNotRaft: HTTP/1 that is not rafthttp is left alone.
func TestEtcdNotRaft(t *testing.T) {
	h := newConn(nil, testHost{}, false, nil, nil)
	h.dir[0].plain([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"), h2.Meta{Frame: 1})
	h.dir[1].plain([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), h2.Meta{Frame: 2})
	if p := (&State{h: h}).Etcd(0); p != nil {
		t.Errorf("read as rafthttp: %+v", p)
	}
}

// FuzzEtcdPeer: a rafthttp request, then any response bytes in any split,
// never panic; what is reported stays bounded.
func FuzzEtcdPeer(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), 3, true)
	f.Add([]byte("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"), 7, false)
	f.Fuzz(func(t *testing.T, resp []byte, step int, msgapp bool) {
		step = max(1, step%97)
		path := "/raft/stream/message/a1"
		if msgapp {
			path = "/raft/stream/msgapp/a1"
		}
		h := newConn(nil, testHost{}, false, nil, nil)
		h.dir[0].plain([]byte("GET "+path+" HTTP/1.1\r\nX-Server-From: a1\r\nX-Raft-To: b2\r\n\r\nPOST /raft HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd"), h2.Meta{Frame: 1})
		for i := 0; i < len(resp); i += step {
			h.dir[1].plain(resp[i:min(i+step, len(resp))], h2.Meta{Frame: 2 + i})
		}
		if p := (&State{h: h}).Etcd(0); p != nil && len(p.Runs) > maxRaftRuns {
			t.Fatalf("%d runs", len(p.Runs))
		}
	})
}
