package verdict

import "time"

// Every threshold the verdict uses, with where its value comes from.

// The judgement (judge.go).
const (
	// MinStall is the least time a client must have heard nothing new
	// before it closes for the close to read as a failed health check
	// (x/net's ReadIdleTimeout plus PingTimeout: client-go 30 s + 15 s;
	// the lab 2 s + 1 s; no real setting is below a second).
	MinStall = time.Second
	// MinPingTimeout is the least time from a client's PING to its close
	// for the close to be a failed health check. A health check closes
	// PingTimeout after its PING: x/net's default is 15 s, client-go's 15
	// s, grpc-go's keepalive Timeout 20 s by default; the shortest in use
	// is the lab's 1 s. Half of that leaves room for the time between
	// the timer's start and the PING's write and for a capture a little
	// way from the client. A client that closes for its own reasons right
	// after a keepalive or BDP PING does it within milliseconds (7-18 ms
	// in the ping-close scenario): not a lost PING.
	MinPingTimeout = 500 * time.Millisecond
	// closeBurst is how close before a close a client's last records
	// are taken as part of it (GOAWAY, TLS close_notify), not as the
	// request that went unanswered.
	closeBurst = 10 * time.Millisecond
	// minIdleTimeout is the silence before an RST that makes an idle
	// timeout (a NAT or load balancer dropping the flow) a suspect; real
	// ones are 60 s to 15 min.
	minIdleTimeout = 30 * time.Second
	// minIdleDrop is the idle time before a client's data that then got
	// nothing at all back for an idle timeout to be a suspect: above
	// health-check intervals (client-go: 30 s), at load balancers' and
	// NATs' idle timeouts (4 to 10 min).
	minIdleDrop = 4 * time.Minute
	// silentAfter is how long before the end of the capture a connection
	// without FIN or RST must have stopped to be called silent rather
	// than still open.
	silentAfter = 5 * time.Second
	// goawayReaction is how soon after a server's record a client's close
	// reads as its answer to a GOAWAY (Go closes at once; 0.5 ms in the
	// lab, against 290 ms and more for closes of its own).
	goawayReaction = 5 * time.Millisecond
	// unasked is how long after the client's last data a server's record
	// must come not to be the answer to it.
	unasked = 100 * time.Millisecond
	// MaxEvidence bounds a verdict's evidence list.
	MaxEvidence = 12
	// minMTULossLen is the smallest segment an MTU black hole is blamed
	// for: below it every path passes packets.
	minMTULossLen = 512
	// minDeadRetries and minDeadRetrying make a direction dead
	// (blackholed): at least this many retransmissions, none answered,
	// over at least this long from the first transmission. One
	// retransmission may be a tail loss probe whose answer the end of
	// the capture cut off; a second means a retransmission timer expired
	// after a retransmission, with no answer in between. A second is
	// what Linux's backoff from its 200 ms minimum RTO takes to send 3
	// (200 + 400 + 800 ms), five round trips of a 200 ms path, and as
	// long as the shortest health check (MinStall) waits.
	minDeadRetries  = 2
	minDeadRetrying = time.Second
	// synRTO is TCP's initial retransmission timeout (RFC 6298: 1 s;
	// Linux's TCP_TIMEOUT_INIT, also what it waits before sending a
	// SYN-ACK again). A SYN seen once, with the capture going on this
	// long after it and no answer, waited as long as a SYN is meant to;
	// a SYN-ACK coming this long after the client's last SYN is not the
	// answer to it (that comes a round trip later) but the server's own
	// retransmission for an earlier SYN that had reached it.
	synRTO = time.Second
)

// The capture point (capturepoint.go).

// handshakeRatio is how many times larger one handshake gap must be than
// the other for the timing to win over the TTLs.
const handshakeRatio = 4

// clearRTT is the least round trip for the timing to win over the TTLs.
const clearRTT = 500 * time.Microsecond

// minHandshakeGap is the gap below which a handshake's timing says
// nothing: the capture's clock resolution.
const minHandshakeGap = 5 * time.Microsecond

// The per-segment tracker (track.go).

// maxHoles bounds the gaps remembered per direction. A gap is a range the
// capture never saw (a lost-segment flag); a later retransmission that
// falls in one fills a hole, which tells "lost before the capture point"
// from "lost after it". Past the bound the oldest gap is forgotten: its
// fill then looks like a retransmission of seen data.
const maxHoles = 16

// A side numbers its IPv4 IDs with a counter when minIPIDRun packets in a
// row each came at most maxIPIDStep after the previous one.
const (
	minIPIDRun  = 4
	maxIPIDStep = 64
)

// lateIPIDWindow is how far behind its side's newest IPv4 ID a packet's
// may be, and lateIPIDWithin how long after it, and the packet still
// count as sent before it (a delayed original, not a retransmission).
// Reordering delays a packet past a few hundred others at most (the
// bench's lab transfer at 100k packets/s: 214 at most, 59 the median),
// within milliseconds; further or later, the sender's counter started
// again.
const (
	lateIPIDWindow = 1024
	lateIPIDWithin = time.Second
)

// Incidents (incident.go).
const (
	// incidentSlack is how far apart two failures' windows may be and
	// still be one moment: a few seconds, for the clocks of a busy
	// sender's first retransmission (200 ms RTO and up) and an idle one's
	// next health-check PING to land in one window. Also the gap a
	// client leaves between failed dials of one outage (it redials at
	// once, or on its next request).
	incidentSlack = 3 * time.Second
	// minIncident is how many connections make an incident: one
	// failure is that connection's verdict, not a pattern.
	minIncident = 2
	// maxHeadlineIncidents is how many incidents the headline names
	// before it counts the rest: a headline is one or two sentences.
	maxHeadlineIncidents = 2
	// maxIncidentDeadNamed is how many dead flows an incident's
	// explanation names by their endpoints before it counts the rest:
	// enough to recognise the flows, short enough to read; its
	// connections field lists every one.
	maxIncidentDeadNamed = 10
	// minWaves is how many path or server outages in a row, one after
	// the other with nothing healthy on their paths between them, are
	// told as one failure that lasted (a path that drops every PING for
	// half an hour kills each flow as its health check comes due: 521
	// "outages" 3 s apart in bench's capture of 100k lost PINGs). Two
	// are still two moments; three are a steady failure.
	minWaves = 3
)

// Connection attempts (attempts.go).
const (
	// minAttempts is the fewest data-less connections that make a
	// capture a flood or a scan: a client redialling a dead server for
	// a few minutes makes dozens, not a thousand.
	minAttempts = 1000
	// attemptShare is the share of all connections they must be: a busy
	// node's capture with a scan in it is still about its traffic.
	attemptShare = 0.5
)

// The capture's own quality (quality.go).

// minMissedFraction is the share of the data a capture may miss (bytes
// the receivers acknowledged that never reached the file) before the
// report warns at the top that its counts and loss placement cannot be
// trusted. Below it a few drops are named per connection and kept out
// of the loss evidence; at 2% a capture misses as much as a lossy path
// loses (1% loss already slows TCP severalfold), so what it counts of
// gaps, lost segments and their placement is as much the capture as the
// network.
const minMissedFraction = 0.02

// Probes (probes.go).
const (
	// maxProbeTTL is the highest SYN TTL a probe is taken to have:
	// traceroute's and tcptraceroute's default maximum hop count (-m 30).
	// A real connection's SYN leaves its host with 64 (Linux, macOS), 128
	// (Windows) or 255 (network gear) and crosses far fewer than 34 hops,
	// so no real SYN is seen this low.
	maxProbeTTL = 30
	// minProbeTTLs is how many different SYN TTLs a host must send one
	// destination, in SYNs that opened nothing, for an unanswered one to
	// be taken as a probe: a TTL that changes from SYN to SYN is a
	// prober walking the path (traceroute sends 3 per TTL, TTL 1 up); a
	// client's own SYNs all leave with its one default TTL.
	minProbeTTLs = 2
)

// The dial race (dialrace.go).

// dialRaceSpan bounds a dial race's spare from its SYN to the client's
// close: Go closes the spare the moment its TLS handshake ends, two or
// three round trips after the SYN (under a second on any real path; 10
// ms in the lab), while a connection it no longer needs stays until
// net/http's IdleConnTimeout (90 s).
const dialRaceSpan = 3 * time.Second

// maxAlertRecord is the largest TLS 1.3 record (on the wire) that holds
// only an alert: 5 bytes of header, the 2-byte alert, the 1-byte inner
// content type and a 16-byte AEAD tag (every TLS 1.3 suite's). A record
// carrying the HTTP/2 client preface (24 bytes) and its SETTINGS frame
// (9 bytes and more) is at least 55.
const maxAlertRecord = 24

// dsackAckWithin is how soon after a peer's retransmission an
// ACKed-unseen ACK must come to be that retransmission's answer (assessLoss):
// a receiver ACKs a retransmission at once, or within its delayed-ACK
// timer (Linux at most 200 ms).
const dsackAckWithin = 250 * time.Millisecond

// DSACKWithin is how far back before a D-SACK the copy it reports is
// looked for: a receiver sends it on the duplicate's arrival, so it
// follows the copy by at most a round trip at a sender's capture (and a
// receiver's lag behind its own capture, milliseconds, at the
// receiver's); 3 s covers the slowest paths' round trips (a satellite
// link's 600 ms with queues).
const DSACKWithin = 3 * time.Second

// MaxDSACKScan bounds the events looked at for one D-SACK's copy, so
// that a connection of many D-SACKs costs at most this each: the copy is
// among the last few events of its direction, and other events (the
// peer's duplicate ACKs, window notes) come in between.
const MaxDSACKScan = 1024

// etcd (etcd.go).
const (
	// etcdUnanswered is how long a leader's heartbeats to a follower must
	// have gone without a response (or stopped arriving) before an
	// election for the summary to say so: five of etcd's default 100 ms
	// heartbeats, half its default 1 s election timeout. Below it the
	// gap is ordinary jitter and retransmission.
	etcdUnanswered = 500 * time.Millisecond
	// etcdPairLossy is the share of retransmitted segments over the peer
	// connections between two members above which the pair is called
	// lossy even where no connection's verdict is a problem: a clean lab
	// link retransmits well under 0.5% (tail-loss probes), and 2% is
	// loss a raft cluster feels as late heartbeats.
	etcdPairLossy = 0.02
	// etcdPeerPort is etcd's peer port (IANA-registered, the default
	// everywhere): TLS to it that cannot be decrypted is taken for
	// peer traffic, by the port alone, and only counted.
	etcdPeerPort = 2380
	// maxEtcdElections bounds the elections listed (a flapping cluster
	// elects every few seconds).
	maxEtcdElections = 64
)

// gRPC (grpc.go).
const (
	// maxGRPCHeadline is how many failed method outcomes the headline
	// names; the rest are counted (the JSON lists them all).
	maxGRPCHeadline = 3
)

// Redials (redial.go).
const (
	// RedialWithin is how soon after a failed connection's end the same
	// client's next connection to the same server must start to be its
	// redial: x/net and grpc-go redial at once, grpc-go's reconnect
	// backoff starts at 1 s; 5 s leaves room for a dial that itself
	// waited (a SYN sent again after 1 s).
	RedialWithin = 5 * time.Second
	// redialAtOnce (ms): a redial sooner than this after the failed
	// connection's last packet (or before it: the new dial goes out
	// while the old connection's close is still on the wire) is "at
	// once": no backoff, no timer.
	redialAtOnce = 100
)

// Several capture points (package hops): when the copies of a byte range
// at every point are all in, and how flows are matched across points.
const (
	// PlaceHold is how long (capture time) a byte range must have been
	// acknowledged at every point that saw its connection, or the
	// connection quiet, before its copies are compared across points:
	// past the clock offsets between capturing hosts (tens of ms, a few
	// hundred at worst without NTP) and a spurious retransmission's
	// timer racing the ACK (one RTO, 200 ms at least on Linux). A copy
	// later than that is compared on its own, still soundly.
	PlaceHold = 2 * time.Second
	// PlaceShiftMin is the clock offset between two captures, estimated
	// from their first packets (hops.ClockProbe), past which the later
	// one's times are taken off by it before the points are read
	// together: a host without NTP can be seconds off, and a copy that
	// comes PlaceHold after the others' was called lost. Under it the
	// hold covers the offset with room for the RTO race, and the
	// captures are read in their own times.
	PlaceShiftMin = 500 * time.Millisecond
	// ClockWarnOffset is the clock offset left between two capture
	// points after hops.ClockProbe's shift, as the Placer estimates it
	// at the end, past which the report warns that the loss placement
	// may count late copies as lost: half of PlaceHold, what it waits
	// for a copy with room for the RTO race.
	ClockWarnOffset = PlaceHold / 2
	// ClockProbeKeys is how many keys of each capture's first packets
	// hops.ClockProbe keeps (a packet gives one, a data segment two:
	// its headers and its first bytes; about 1.5 MB a capture): seconds
	// of a busy link, minutes of a quiet one, where the captures' starts
	// overlap.
	ClockProbeKeys = 50000
	// ClockProbeAlign bounds how far apart the captures' first packets
	// may be for hops.ClockProbe to key each from the latest of them
	// (the moment every capture was running): engineers start tcpdump
	// on each host by hand, seconds apart, and a busy link's first
	// ClockProbeKeys keys last less than a second. Starts a minute
	// apart are not that, or the clocks are far off: each is keyed from
	// its own start.
	ClockProbeAlign = time.Minute
	// SYNAckAgainWithin is how long a closed connection whose server
	// sent a SYN-ACK that was never acknowledged, its client having sent
	// its SYN again (the SYN-ACK came late, and the client gave up or
	// reset it), is kept after its last packet before it is judged and
	// forgotten (h2pcap analyze's forgetting, live --forget): the
	// server, still in SYN-RECEIVED if the client's RST was lost, sends
	// its SYN-ACK again on a timer doubling from 1 s, up to 32 s between
	// its 4th and 5th retry (Linux's tcp_synack_retries, 5). 3 s (the
	// quiet a healthy connection is given) missed one sent 6.3 s after
	// the RST (etcd-leader-loss-mesh's m1, half its packets lost): the
	// row lacked it and its RST.
	SYNAckAgainWithin = 33 * time.Second
	// SameProbePackets is how many packets of each input
	// hops.NewSameProbe keys to tell captures of the same traffic from
	// parts of one capture, when their times do not overlap (a clock
	// off by more than a capture lasts): a few hundred KB an input.
	SameProbePackets = 4096
	// ClockProbeMatches is how many packets two captures must share in
	// those for their offset to be taken: one flow's handshake and first
	// exchange.
	ClockProbeMatches = 8
	// PlaceSweep is how often (capture time) the open connections'
	// ranges are checked against PlaceHold: memory holds at most
	// PlaceHold+PlaceSweep of each connection's packets per point.
	PlaceSweep = time.Second
	// PlaceBatch is how many copies (all points') a busy direction
	// gathers before it is compared without waiting for PlaceHold, where
	// TCP timestamps prove every point holds all copies of what is
	// compared (hops/guard.go): 8,192 records are 256 KB, which a core's
	// cache holds, and a comparison's fixed cost is shared by thousands
	// of packets. A direction is watched for it from a quarter of that.
	PlaceBatch = 8192
	// PlaceQuiet is how long a connection that closed (FIN or RST at
	// some point) must have been quiet everywhere before it is done:
	// past the last FIN's retransmissions (its first RTO, 1 s before a
	// round trip is measured, then 2 s).
	PlaceQuiet = 5 * time.Second
	// PlaceMatchWindow bounds how far apart in time two points' first
	// packets of a connection may be for the connections to be matched
	// by the client's ISN or the 4-tuple: clock offsets and a SYN's
	// retransmissions (1, 2, 4 s) fit; a port reused minutes later by a
	// new connection with the same tuple does not.
	PlaceMatchWindow = 30 * time.Second
	// CaptureGapSpan is how near (a point's capture time) a pure ACK
	// missing at a point must be to a packet that point's capture
	// provably missed (its data acknowledged by the receiver, never in
	// the capture) to be put down to the capture, not the hop: a capture
	// drops in bursts, for as long as its reader is held up (a full
	// ring, a stalled disk, tens to hundreds of ms), and a pure ACK
	// has no acknowledgment of its own to tell it by.
	CaptureGapSpan = 200 * time.Millisecond
	// CaptureSkew is how much later than the earliest (or earlier than
	// the latest) a capture point's capture may begin (end), its clock's
	// estimated offset taken off, before its input says so: the hops
	// beside it compare nothing while it is not capturing, so packets
	// lost there then are in no hop. Engineers start tcpdump on each
	// host by hand, seconds apart; a second is past the clocks' offsets
	// left after the estimate, and past a single capture's first packet
	// coming a little after another's.
	CaptureSkew = time.Second
	// PlaceSeqWindow bounds how far (bytes of sequence space) a
	// connection's first packet at a point may be from where another
	// point's copy of the same connection is, for the two to be matched
	// by sequence numbers when neither the SYN nor the 4-tuple matches
	// (a capture begun mid-connection behind a NAT): the points are read
	// together in time order, so the other point saw these bytes
	// moments before; 16 MB is more than a second of 100 Mbit/s in
	// flight. Both directions' numbers must fall within it.
	PlaceSeqWindow = 1 << 24
	// PlaceTSWindow bounds the same for the TCP timestamp (TSval) of
	// the packet's direction, when it has one: Linux ticks it every ms
	// from a random offset per connection, so 60 s of ticks is 1 in
	// 70000 of the space.
	PlaceTSWindow = 60000
	// PlaceContentBytes is how many payload bytes from a segment's start
	// are hashed to match a connection begun mid-way at a point whose
	// sequence numbers and 4-tuple both differ from the other points'
	// (a SYN proxy and a NAT between, no handshake captured): 32 bytes
	// of TLS records are unique past their 5-byte header; plaintext
	// repeats across connections (an HTTP/2 preface is 24 bytes), which
	// the time window and the TCP timestamps tell apart.
	PlaceContentBytes = 32
	// PlaceContentWindow bounds how far apart in time two points' copies
	// of those bytes may be: the path delay plus the clocks' offset
	// (tens of ms, a few hundred without NTP), well under a second; the
	// same bytes sent by another connection within it must also pass
	// the timestamps.
	PlaceContentWindow = time.Second
	// MaxPlacementFrames is how many lost packets' frames a placement
	// lists per connection, direction and hop: enough to open the first
	// ones in Wireshark; the counts stay exact.
	MaxPlacementFrames = 10
)
