package raft

import (
	"encoding/binary"
	"fmt"

	"github.com/h2pcap/h2pcap/decode/h2"
	"go.etcd.io/raft/v3/raftpb"
)

// Kind is what a rafthttp body carries.
type Kind uint8

const (
	KindNone     Kind = iota
	KindMessage       // GET /raft/stream/message/<id>: length-prefixed messages
	KindMsgApp        // GET /raft/stream/msgapp/<id>: msgappv2
	KindPipeline      // POST /raft: one message
)

// MaxMessage is how much of one message is kept for decoding: the fields
// h2pcap reads come before the entries, and a heartbeat or a vote is a
// few dozen bytes; the rest of a large append or snapshot is skipped.
const MaxMessage = 4 << 10

// msgappv2 record types (rafthttp msgappv2_codec.go).
const (
	msgAppLinkHeartbeat = 0
	msgAppEntries       = 1
	msgApp              = 2
)

// Stream decodes one direction of a rafthttp body, fed in pieces as the
// bytes arrive (the body with its chunked framing already removed).
// Emit gets each message with the Meta of the bytes that completed it;
// the Message is reused after Emit returns.
type Stream struct {
	kind Kind
	// From and To are the members the stream's messages go between (a
	// msgappv2 entries record names neither).
	from, to uint64

	// Decoding state: what is awaited next.
	state   uint8
	hdr     [8]byte
	hdrN    int
	need    uint64 // bytes of the current message (or entry) still to come
	buf     []byte // the message's first MaxMessage bytes
	entries uint64 // msgappv2 entries record: entries still to come
	nent    int

	// msgappv2: the term and index of the last full MsgApp.
	term, index uint64

	msg    Message
	broken error
	count  int
}

// Stream states.
const (
	stLen      = iota // the 8-byte length of a message (message stream, msgappv2 full)
	stBody            // the message's bytes
	stType            // msgappv2: the record type
	stCount           // msgappv2 entries: the number of entries
	stEntryLen        // msgappv2 entries: an entry's length
	stEntry           // msgappv2 entries: an entry's bytes
	stCommit          // msgappv2 entries: the commit index
	stPipeline        // the whole body is one message
)

// NewStream returns a decoder for a body of kind k whose messages go from
// member from to member to (0 when unknown).
func NewStream(k Kind, from, to uint64) *Stream {
	s := &Stream{kind: k, from: from, to: to}
	switch k {
	case KindMsgApp:
		s.state = stType
	case KindPipeline:
		s.state = stPipeline
	default:
		s.state = stLen
	}
	return s
}

// Err is why the stream stopped decoding (nil while it goes on).
func (s *Stream) Err() error { return s.broken }

// Messages counts the messages decoded.
func (s *Stream) Messages() int { return s.count }

// Data takes the body's next bytes.
func (s *Stream) Data(b []byte, meta h2.Meta, emit func(*Message, h2.Meta)) {
	for len(b) > 0 && s.broken == nil {
		switch s.state {
		case stType:
			switch b[0] {
			case msgAppLinkHeartbeat:
				s.msg = Message{Type: raftpb.MsgHeartbeat, Link: true}
				s.emit(meta, emit)
			case msgAppEntries:
				s.state, s.hdrN = stCount, 0
			case msgApp:
				s.state, s.hdrN = stLen, 0
			default:
				s.broken = fmt.Errorf("raft: msgappv2 record type %d", b[0])
				return
			}
			b = b[1:]
		case stLen, stCount, stEntryLen, stCommit:
			n := copy(s.hdr[s.hdrN:], b)
			s.hdrN += n
			b = b[n:]
			if s.hdrN < 8 {
				return
			}
			s.hdrN = 0
			v := binary.BigEndian.Uint64(s.hdr[:])
			switch s.state {
			case stLen:
				if v > 512<<20 {
					// rafthttp refuses messages over 512 MB: not a length.
					s.broken = fmt.Errorf("raft: message length %d", v)
					return
				}
				s.need, s.buf, s.state = v, s.buf[:0], stBody
				if v == 0 {
					s.message(meta, emit)
				}
			case stCount:
				s.entries, s.nent, s.state = v, 0, stEntryLen
				if v == 0 {
					s.state = stCommit
				}
			case stEntryLen:
				s.need, s.state = v, stEntry
				if v == 0 {
					s.entryDone()
				}
			case stCommit:
				s.index += uint64(s.nent)
				s.msg = Message{Type: raftpb.MsgApp, From: s.from, To: s.to, Term: s.term, LogTerm: s.term,
					Index: s.index - uint64(s.nent), Commit: v, Entries: s.nent}
				s.emit(meta, emit)
				s.state = stType
			}
		case stBody:
			n := min(uint64(len(b)), s.need)
			if keep := min(int(n), MaxMessage-len(s.buf)); keep > 0 {
				s.buf = append(s.buf, b[:keep]...)
			}
			s.need -= n
			b = b[n:]
			if s.need == 0 {
				s.message(meta, emit)
			}
		case stEntry:
			n := min(uint64(len(b)), s.need)
			s.need -= n
			b = b[n:]
			if s.need == 0 {
				s.entryDone()
			}
		case stPipeline:
			if keep := min(len(b), MaxMessage-len(s.buf)); keep > 0 {
				s.buf = append(s.buf, b[:keep]...)
			}
			b = nil
		}
	}
}

// End says the body is complete: a pipeline's message is decoded now.
func (s *Stream) End(meta h2.Meta, emit func(*Message, h2.Meta)) {
	if s.state == stPipeline && s.broken == nil && len(s.buf) > 0 {
		s.message(meta, emit)
		s.buf = s.buf[:0]
	}
}

func (s *Stream) entryDone() {
	s.nent++
	s.entries--
	if s.entries == 0 {
		s.state = stCommit
	} else {
		s.state = stEntryLen
	}
}

// message decodes the message in buf.
func (s *Stream) message(meta h2.Meta, emit func(*Message, h2.Meta)) {
	if err := s.msg.Unmarshal(s.buf); err != nil {
		s.broken = err
		return
	}
	if len(s.buf) == MaxMessage {
		s.msg.Truncated = true
	}
	if s.kind == KindMsgApp {
		// msgappv2 decodes entries records from the last full MsgApp.
		s.term, s.index = s.msg.Term, s.msg.Index+uint64(s.msg.Entries)
		s.state = stType
	} else if s.kind == KindMessage {
		s.state = stLen
	}
	s.emit(meta, emit)
}

func (s *Stream) emit(meta h2.Meta, emit func(*Message, h2.Meta)) {
	s.count++
	emit(&s.msg, meta)
}
