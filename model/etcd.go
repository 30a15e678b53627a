package model

import "time"

// The etcd parts of the JSON contract (added in version 1).

// AppEtcdPeer is Connection.App for etcd's peer traffic (rafthttp).
const AppEtcdPeer = "etcd-peer"

// EtcdStream says what an etcd peer connection carries.
type EtcdStream string

// EtcdStream values: rafthttp's two long-lived streams, its pipeline, and
// the short requests a member makes of its peers.
const (
	EtcdStreamMessage EtcdStream = "stream-message" // GET /raft/stream/message/<id>: every raft message but appends
	EtcdStreamMsgApp  EtcdStream = "stream-msgapp"  // GET /raft/stream/msgapp/<id>: appends (MsgApp)
	EtcdPipeline      EtcdStream = "pipeline"       // POST /raft: a message sent when no stream is up
	EtcdSnapshot      EtcdStream = "snapshot"       // POST /raft/snapshot
	EtcdProbing       EtcdStream = "probing"        // GET /raft/probing: peer round-trip probes
	EtcdMembers       EtcdStream = "members"        // GET /members
	EtcdVersion       EtcdStream = "version"        // GET /version
	EtcdStreamOther   EtcdStream = "other"          // another rafthttp path
)

// EtcdPeer is what h2pcap read of one etcd peer connection (port 2380).
type EtcdPeer struct {
	Stream EtcdStream `json:"stream"`
	// Path is the first request's path.
	Path string `json:"path"`
	// ClientMember is the member that dialled (X-Server-From, or the
	// stream path's ID); ServerMember the one it dialled (X-Raft-To);
	// both in etcd's hex form. Empty when the request did not say.
	ClientMember string `json:"client_member,omitempty"`
	ServerMember string `json:"server_member,omitempty"`
	ClusterID    string `json:"cluster_id,omitempty"`
	Version      string `json:"server_version,omitempty"`
	Requests     int    `json:"requests"`
	// Idle: every request was answered in full and nothing more was
	// sent: a keep-alive connection waiting in the client's pool (rafthttp
	// keeps its version and probing connections so), not a dead one.
	Idle bool `json:"idle,omitempty"`
	// Messages counts the raft messages decoded, by raftpb type name
	// (MsgHeartbeat, MsgApp, MsgVote, ...; LinkHeartbeat for rafthttp's
	// own idle-link heartbeat), per direction.
	Messages map[Direction]map[string]int `json:"messages"`
	// Runs are the messages grouped by sender, receiver, type and term:
	// when each kind of message started and stopped (bounded).
	Runs []RaftRun `json:"runs"`
	// Error is why decoding stopped early, if it did (a gap in the
	// capture, or bytes that are not rafthttp).
	Error string `json:"error,omitempty"`
}

// RaftRun is the messages of one type, from one member to another, in one
// term, on one connection, without a silence of half a second or more
// between two of them (a silence starts a new run).
type RaftRun struct {
	Type   string `json:"type"`
	From   string `json:"from"` // member ID, hex
	To     string `json:"to"`
	Term   uint64 `json:"term"`
	Reject bool   `json:"reject,omitempty"` // vote and append responses that refused
	Count  int    `json:"count"`
	// First and Last are the frames that completed the run's first and
	// last message.
	First Moment `json:"first"`
	Last  Moment `json:"last"`
}

// Etcd is the across-connections view of an etcd cluster's peer traffic:
// who led when, and the elections.
type Etcd struct {
	ClusterID string `json:"cluster_id,omitempty"`
	// Members are the member IDs seen, with their addresses (peer IP)
	// where a connection tells.
	Members []EtcdMember `json:"members"`
	// Leaders is who led each term, from the heartbeats and appends it
	// sent (only a leader sends those).
	Leaders []EtcdLeader `json:"leaders"`
	// Elections are the terms whose leader differs from the previous
	// term's: a leader change, "etcdserver: leader changed" on clients.
	Elections []EtcdElection `json:"elections"`
	// Pairs is the TCP loss between two members, both directions, over
	// the peer connections between them.
	Pairs []EtcdPair `json:"pairs"`
	// Faulty is the member every lossy peer connection goes through,
	// while connections between other members stayed clean; empty when
	// the captures do not single one out.
	Faulty *EtcdMember `json:"faulty_member,omitempty"`
	// Encrypted counts the peer connections (TLS to port 2380) that were
	// not decrypted: their raft messages, so the leaders and elections,
	// cannot be read (a key log would open them); their TCP loss counts in
	// Pairs all the same.
	Encrypted int `json:"encrypted_connections,omitempty"`
}

// EtcdMember is one member.
type EtcdMember struct {
	ID      string `json:"id"`
	Address string `json:"address,omitempty"`
}

// EtcdLeader is one member leading one term.
type EtcdLeader struct {
	Member  string    `json:"member"`
	Address string    `json:"address,omitempty"`
	Term    uint64    `json:"term"`
	First   time.Time `json:"first"` // its first heartbeat or append in the term
	Last    time.Time `json:"last"`
}

// EtcdElection is a new term won by a member other than the last
// leader.
type EtcdElection struct {
	Term uint64 `json:"term"`
	// Time is the new leader's first heartbeat or append in its term
	// (raft sends one as soon as it wins).
	Time                  time.Time `json:"time"`
	Leader                string    `json:"leader"`
	LeaderAddress         string    `json:"leader_address,omitempty"`
	PreviousLeader        string    `json:"previous_leader,omitempty"`
	PreviousLeaderAddress string    `json:"previous_leader_address,omitempty"`
	PreviousTerm          uint64    `json:"previous_term,omitempty"`
	// Unanswered are, per follower of the previous leader, how long its
	// heartbeats went without a response before the election.
	Unanswered []EtcdUnanswered `json:"unanswered,omitempty"`
	Evidence   []Evidence       `json:"evidence"`
}

// EtcdUnanswered is a leader's heartbeats to one follower that got no
// response for a while.
type EtcdUnanswered struct {
	Kind EtcdHeartbeats `json:"kind"`
	From string         `json:"from"`
	To   string         `json:"to"`
	// Since is the follower's last heartbeat response seen; nil when
	// none was seen in the term.
	Since *Moment `json:"since,omitempty"`
	// LastHeartbeat is the leader's last heartbeat to the follower in
	// the term: it went on sending them.
	LastHeartbeat *Moment `json:"last_heartbeat,omitempty"`
	// ForS is from Since (the term's first heartbeat when none was
	// answered) to the election.
	ForS float64 `json:"for_s"`
}

// EtcdPair is the loss between two members' addresses.
type EtcdPair struct {
	Members     [2]string `json:"members"` // addresses
	Connections int       `json:"connections"`
	// Retransmissions and Packets count both directions' TCP segments.
	Packets         int  `json:"packets"`
	Retransmissions int  `json:"retransmissions"`
	Problems        int  `json:"problem_connections"` // connections whose verdict is not healthy
	Lossy           bool `json:"lossy"`
	// Directions splits the counts by sender: Members[0] -> Members[1],
	// then the reverse.
	Directions [2]EtcdPairDir `json:"directions"`
}

// EtcdPairDir is one direction between two members: the segments one
// sent the other over their peer connections, and how many were sent
// again.
type EtcdPairDir struct {
	From            string `json:"from"`
	To              string `json:"to"`
	Packets         int    `json:"packets"`
	Retransmissions int    `json:"retransmissions"`
}

// EtcdHeartbeats says how a leader's heartbeats to a follower fared
// before an election.
type EtcdHeartbeats string

const (
	// EtcdHeartbeatsUnanswered: the leader went on sending heartbeats
	// and no response came back.
	EtcdHeartbeatsUnanswered EtcdHeartbeats = "unanswered"
	// EtcdHeartbeatsStopped: no heartbeat passed the capture point: the
	// leader stopped sending them (its stream to the follower broke), or
	// they were lost before the capture.
	EtcdHeartbeatsStopped EtcdHeartbeats = "stopped"
)
