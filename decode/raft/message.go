package raft

import (
	"errors"
	"fmt"
	"io"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/encoding/protowire"
)

// Message is what h2pcap reads of a raftpb.Message.
type Message struct {
	Type    raftpb.MessageType
	To      uint64
	From    uint64
	Term    uint64
	LogTerm uint64
	Index   uint64
	Commit  uint64
	Reject  bool
	Entries int
	// Truncated: the message was longer than what was decoded (a large
	// MsgApp or MsgSnap is cut at MaxMessage); fields after the cut are
	// zero. The fields before the entries always fit.
	Truncated bool
	// Link is rafthttp's own link heartbeat (an empty MsgHeartbeat every
	// few seconds on an idle stream), not a raft message.
	Link bool
}

// raftpb.Message field numbers (raft.proto).
const (
	fieldType    = 1
	fieldTo      = 2
	fieldFrom    = 3
	fieldTerm    = 4
	fieldLogTerm = 5
	fieldIndex   = 6
	fieldEntries = 7
	fieldCommit  = 8
	fieldReject  = 10
)

var errMalformed = errors.New("raft: malformed message")

// Unmarshal decodes b, a marshalled raftpb.Message, into m. A b that ends
// inside a field (a message cut short) keeps what came before it and sets
// Truncated.
func (m *Message) Unmarshal(b []byte) error {
	*m = Message{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%w: tag: %v", errMalformed, protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				m.Truncated = true
				return nil
			}
			b = b[n:]
			switch num {
			case fieldType:
				m.Type = raftpb.MessageType(v)
				if v > 1<<31-1 {
					m.Type = -1 // past the enum's int32: no type raftpb knows
				}
			case fieldTo:
				m.To = v
			case fieldFrom:
				m.From = v
			case fieldTerm:
				m.Term = v
			case fieldLogTerm:
				m.LogTerm = v
			case fieldIndex:
				m.Index = v
			case fieldCommit:
				m.Commit = v
			case fieldReject:
				m.Reject = v != 0
			}
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				if errors.Is(protowire.ParseError(n), io.ErrUnexpectedEOF) {
					// io.ErrUnexpectedEOF: the field runs past the bytes we have.
					m.Truncated = true
					if num == fieldEntries {
						m.Entries++
					}
					return nil
				}
				return fmt.Errorf("%w: field %d: %v", errMalformed, num, protowire.ParseError(n))
			}
			if num == fieldEntries {
				m.Entries++
			}
			b = b[n:]
		}
	}
	m.Link = m.Type == raftpb.MsgHeartbeat && m.From == 0 && m.To == 0
	return nil
}

// IsLeader reports whether only a leader sends messages of this type
// (appends, heartbeats and snapshots): the sender led the term.
func (m *Message) IsLeader() bool {
	if m.Link {
		return false
	}
	switch m.Type {
	case raftpb.MsgApp, raftpb.MsgHeartbeat, raftpb.MsgSnap, raftpb.MsgTimeoutNow:
		return true
	}
	return false
}

// TypeName is the message type as raftpb names it (MsgHeartbeat, ...), or
// "LinkHeartbeat" for rafthttp's link heartbeat.
func (m *Message) TypeName() string {
	if m.Link {
		return "LinkHeartbeat"
	}
	if _, ok := raftpb.MessageType_name[int32(m.Type)]; !ok {
		// Not a type raftpb knows: one name for all, so garbage cannot
		// make the per-type counts grow.
		return "Unknown"
	}
	return m.Type.String()
}
