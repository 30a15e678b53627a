package raft

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/decode/h2"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

func marshal(t *testing.T, m *raftpb.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// entries are n entries from index start on, each with size bytes of data.
func entries(start uint64, n int, size int) []*raftpb.Entry {
	var es []*raftpb.Entry
	for i := range uint64(n) {
		es = append(es, &raftpb.Entry{Term: new(uint64(7)), Index: new(start + i), Type: raftpb.EntryNormal.Enum(), Data: make([]byte, size)})
	}
	return es
}

// TestUnmarshal: the decoder reads what raftpb marshals.
func TestUnmarshal(t *testing.T) {
	tests := []struct {
		name string
		in   *raftpb.Message
		want Message
	}{
		{"heartbeat", &raftpb.Message{Type: raftpb.MsgHeartbeat.Enum(), To: new(uint64(0x8e9e05c52164694d)), From: new(uint64(0x91bc3c398fb3c146)), Term: new(uint64(7)), Commit: new(uint64(42))},
			Message{Type: raftpb.MsgHeartbeat, To: 0x8e9e05c52164694d, From: 0x91bc3c398fb3c146, Term: 7, Commit: 42}},
		{"heartbeat response", &raftpb.Message{Type: raftpb.MsgHeartbeatResp.Enum(), To: new(uint64(2)), From: new(uint64(1)), Term: new(uint64(7))},
			Message{Type: raftpb.MsgHeartbeatResp, To: 2, From: 1, Term: 7}},
		{"vote rejected", &raftpb.Message{Type: raftpb.MsgPreVoteResp.Enum(), To: new(uint64(3)), From: new(uint64(1)), Term: new(uint64(8)), Reject: new(true)},
			Message{Type: raftpb.MsgPreVoteResp, To: 3, From: 1, Term: 8, Reject: true}},
		{"append with entries", &raftpb.Message{Type: raftpb.MsgApp.Enum(), To: new(uint64(3)), From: new(uint64(1)), Term: new(uint64(7)), LogTerm: new(uint64(7)), Index: new(uint64(99)), Entries: entries(100, 3, 10), Commit: new(uint64(98))},
			Message{Type: raftpb.MsgApp, To: 3, From: 1, Term: 7, LogTerm: 7, Index: 99, Commit: 98, Entries: 3}},
		{"link heartbeat", &raftpb.Message{Type: raftpb.MsgHeartbeat.Enum()},
			Message{Type: raftpb.MsgHeartbeat, Link: true}},
		{"empty", &raftpb.Message{}, Message{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Message
			if err := got.Unmarshal(marshal(t, tt.in)); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestUnmarshalTruncated: a message cut inside its entries keeps the
// fields before them.
func TestUnmarshalTruncated(t *testing.T) {
	b := marshal(t, &raftpb.Message{Type: raftpb.MsgApp.Enum(), To: new(uint64(3)), From: new(uint64(1)), Term: new(uint64(9)), Index: new(uint64(5)), Entries: entries(6, 2, 5000)})
	var m Message
	if err := m.Unmarshal(b[:MaxMessage]); err != nil {
		t.Fatal(err)
	}
	if !m.Truncated || m.Type != raftpb.MsgApp || m.From != 1 || m.To != 3 || m.Term != 9 || m.Index != 5 {
		t.Errorf("got %+v", m)
	}
	if err := m.Unmarshal([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}); err == nil {
		t.Error("a tag past 64 bits decoded")
	}
}

// encodeMessageStream is rafthttp's messageEncoder: an 8-byte length,
// then the message.
func encodeMessageStream(t *testing.T, ms ...*raftpb.Message) []byte {
	var out []byte
	for _, m := range ms {
		b := marshal(t, m)
		out = binary.BigEndian.AppendUint64(out, uint64(len(b)))
		out = append(out, b...)
	}
	return out
}

// encodeMsgAppV2 is rafthttp's msgAppV2Encoder.
type msgAppV2 struct {
	term, index uint64
	out         []byte
}

func (enc *msgAppV2) encode(t *testing.T, m *raftpb.Message) {
	switch {
	case m.GetType() == raftpb.MsgHeartbeat && m.GetFrom() == 0 && m.GetTo() == 0:
		enc.out = append(enc.out, msgAppLinkHeartbeat)
	case enc.index == m.GetIndex() && enc.term == m.GetLogTerm() && m.GetLogTerm() == m.GetTerm():
		enc.out = append(enc.out, msgAppEntries)
		enc.out = binary.BigEndian.AppendUint64(enc.out, uint64(len(m.Entries)))
		for _, e := range m.Entries {
			b, err := proto.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			enc.out = binary.BigEndian.AppendUint64(enc.out, uint64(len(b)))
			enc.out = append(enc.out, b...)
			enc.index++
		}
		enc.out = binary.BigEndian.AppendUint64(enc.out, m.GetCommit())
	default:
		b := marshal(t, m)
		enc.out = append(enc.out, msgApp)
		enc.out = binary.BigEndian.AppendUint64(enc.out, uint64(len(b)))
		enc.out = append(enc.out, b...)
		enc.term, enc.index = m.GetTerm(), m.GetIndex()
		if l := len(m.Entries); l > 0 {
			enc.index = m.Entries[l-1].GetIndex()
		}
	}
}

// feed gives b to s in pieces of every size from 1 to len(b), and returns
// the messages per piece size (all must be the same).
func feed(t *testing.T, k Kind, from, to uint64, b []byte) []Message {
	t.Helper()
	var first []Message
	for step := 1; step <= len(b); step += 1 + step/3 {
		s := NewStream(k, from, to)
		var got []Message
		for i := 0; i < len(b); i += step {
			end := min(i+step, len(b))
			s.Data(b[i:end], h2.Meta{Frame: end, Time: time.Unix(int64(end), 0)}, func(m *Message, at h2.Meta) {
				got = append(got, *m)
			})
		}
		s.End(h2.Meta{}, func(m *Message, at h2.Meta) { got = append(got, *m) })
		if err := s.Err(); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if first == nil {
			first = got
			continue
		}
		if len(got) != len(first) {
			t.Fatalf("step %d: %d messages, step 1: %d", step, len(got), len(first))
		}
		for i := range got {
			if got[i] != first[i] {
				t.Fatalf("step %d message %d: %+v, step 1: %+v", step, i, got[i], first[i])
			}
		}
	}
	return first
}

func TestMessageStream(t *testing.T) {
	b := encodeMessageStream(t,
		&raftpb.Message{Type: raftpb.MsgHeartbeat.Enum(), To: new(uint64(2)), From: new(uint64(1)), Term: new(uint64(3))},
		&raftpb.Message{Type: raftpb.MsgHeartbeat.Enum()},
		&raftpb.Message{Type: raftpb.MsgVote.Enum(), To: new(uint64(2)), From: new(uint64(1)), Term: new(uint64(4)), LogTerm: new(uint64(3)), Index: new(uint64(17))},
		&raftpb.Message{Type: raftpb.MsgSnap.Enum(), To: new(uint64(2)), From: new(uint64(1)), Term: new(uint64(4)), Entries: entries(1, 1, 3*MaxMessage)},
	)
	got := feed(t, KindMessage, 1, 2, b)
	want := []Message{
		{Type: raftpb.MsgHeartbeat, To: 2, From: 1, Term: 3},
		{Type: raftpb.MsgHeartbeat, Link: true},
		{Type: raftpb.MsgVote, To: 2, From: 1, Term: 4, LogTerm: 3, Index: 17},
		{Type: raftpb.MsgSnap, To: 2, From: 1, Term: 4, Entries: 1, Truncated: true},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d messages %+v", len(got), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("message %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestMsgAppStream(t *testing.T) {
	var enc msgAppV2
	app := func(logTerm, index uint64, es []*raftpb.Entry, commit uint64) *raftpb.Message {
		return &raftpb.Message{Type: raftpb.MsgApp.Enum(), To: new(uint64(2)), From: new(uint64(1)), Term: new(uint64(5)),
			LogTerm: new(logTerm), Index: new(index), Entries: es, Commit: new(commit)}
	}
	enc.encode(t, app(4, 99, entries(100, 1, 4), 9))
	enc.encode(t, &raftpb.Message{Type: raftpb.MsgHeartbeat.Enum()})
	// Entries records: the term, log term and index continue from the
	// last full MsgApp.
	enc.encode(t, app(5, 100, entries(101, 2, 4), 100))
	enc.encode(t, app(5, 102, entries(103, 2, 4), 101))
	enc.encode(t, app(5, 104, nil, 103))
	got := feed(t, KindMsgApp, 1, 2, enc.out)
	want := []Message{
		{Type: raftpb.MsgApp, To: 2, From: 1, Term: 5, LogTerm: 4, Index: 99, Commit: 9, Entries: 1},
		{Type: raftpb.MsgHeartbeat, Link: true},
		{Type: raftpb.MsgApp, To: 2, From: 1, Term: 5, LogTerm: 5, Index: 100, Commit: 100, Entries: 2},
		{Type: raftpb.MsgApp, To: 2, From: 1, Term: 5, LogTerm: 5, Index: 102, Commit: 101, Entries: 2},
		{Type: raftpb.MsgApp, To: 2, From: 1, Term: 5, LogTerm: 5, Index: 104, Commit: 103},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d messages %+v", len(got), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("message %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestPipeline(t *testing.T) {
	b := marshal(t, &raftpb.Message{Type: raftpb.MsgVote.Enum(), To: new(uint64(2)), From: new(uint64(1)), Term: new(uint64(8))})
	got := feed(t, KindPipeline, 1, 2, b)
	if len(got) != 1 || got[0] != (Message{Type: raftpb.MsgVote, To: 2, From: 1, Term: 8}) {
		t.Errorf("got %+v", got)
	}
}

func TestStreamBroken(t *testing.T) {
	s := NewStream(KindMsgApp, 1, 2)
	s.Data([]byte{7}, h2.Meta{}, func(*Message, h2.Meta) { t.Error("emitted") })
	if s.Err() == nil {
		t.Error("record type 7 accepted")
	}
	s = NewStream(KindMessage, 1, 2)
	s.Data(binary.BigEndian.AppendUint64(nil, 1<<40), h2.Meta{}, func(*Message, h2.Meta) { t.Error("emitted") })
	if s.Err() == nil {
		t.Error("a 1 TB length accepted")
	}
}

func TestTypeName(t *testing.T) {
	for _, tt := range []struct {
		m    Message
		want string
	}{
		{Message{Type: raftpb.MsgHeartbeat, From: 1, To: 2}, "MsgHeartbeat"},
		{Message{Type: raftpb.MsgHeartbeat, Link: true}, "LinkHeartbeat"},
		{Message{Type: raftpb.MsgPreVoteResp}, "MsgPreVoteResp"},
		{Message{Type: 99}, "Unknown"},
		{Message{Type: -1}, "Unknown"},
	} {
		if got := tt.m.TypeName(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.m, got, tt.want)
		}
	}
}
