// Package raft decodes etcd's peer traffic (rafthttp, port 2380): the
// raft messages of its two long-lived streams and its pipeline.
//
// rafthttp runs over HTTP/1.1. A member dials each peer twice with
// GET /raft/stream/message/<its id> and GET /raft/stream/msgapp/<its id>;
// the peer answers 200 and then writes, in the chunked response body, the
// raft messages it sends to the dialling member (so on a stream the
// server of the TCP connection is the sender of the messages). The
// message stream carries every message as an 8-byte big-endian length and
// the marshalled raftpb.Message; the msgapp stream carries MsgApp only,
// in its own compact encoding (msgappv2: a type byte, then a full message,
// entries only, or a link heartbeat). POST /raft (the pipeline) has one
// marshalled message as its body.
//
// Message.Unmarshal reads the few fields h2pcap needs (type, to, from,
// term, log term, index, commit, reject, the number of entries) straight
// from the protobuf wire format, without allocating: raftpb.Message's own
// Unmarshal builds every entry. The type is etcd's own raftpb.MessageType,
// and the tests check the decoder against messages raftpb marshals.
package raft
