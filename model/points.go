package model

// Several capture points (h2pcap analyze --point NAME=FILE, or inputs that
// capture the same moments): each point is analysed on its own, with
// Wireshark-exact counters of its own, and the points are compared to
// place each loss between two adjacent points on the path. The Report's
// connection rows are the reference point's analysis (the point nearest
// the clients); the fields below say what the other points saw. With one
// point none of them is present.

// Point is one capture point: one capture, possibly split by rotation
// into several inputs.
type Point struct {
	Name string `json:"name"`
	// Inputs are the indexes into Report.Inputs of the point's files.
	Inputs []int `json:"inputs"`
	// Interface names the interface inside a file that is the point
	// (tcpdump -i any on a router); empty when the point is whole files.
	Interface string `json:"interface,omitempty"`
	// ClockOffsetMs is this point's clock minus the reference point's,
	// estimated from the times the same packets were seen at both (half
	// the difference of the one-way delays each way): offsets of tens of
	// ms between hosts are normal. Null when no packet was matched.
	ClockOffsetMs *float64 `json:"clock_offset_ms"`
	// Reference marks the point whose analysis the connection rows are.
	Reference bool `json:"reference,omitempty"`
	// Connections counts the point's own connections (tcp.streams).
	Connections int `json:"connections"`
	// NotAtReference counts those the reference point never saw: they
	// are not in the Report's rows (analyse this point's files alone to
	// see them).
	NotAtReference int `json:"not_at_reference,omitempty"`
}

// ConnPoint is one connection as one capture point saw it.
type ConnPoint struct {
	Input      int      `json:"input"`       // the input holding its first frame there
	Stream     int      `json:"stream"`      // its tcp.stream at that point (tshark on that point's files)
	FirstFrame int      `json:"first_frame"` // its first frame there
	TCP        TCPStats `json:"tcp"`         // that point's counters, Wireshark's on that point's files
}

// Placement is the packets of one direction of a connection that one
// capture point saw and the next one along the path did not: lost
// between the two.
type Placement struct {
	Direction Direction `json:"direction"`
	From      string    `json:"from"` // the last point that saw them
	To        string    `json:"to"`   // the first point that did not
	Packets   int       `json:"packets"`
	Bytes     int64     `json:"bytes"` // sequence space missing at To (payload, SYN and FIN)
	// Frames are the lost packets at From (their copies that did not
	// reach To), the first ones.
	Frames []Moment `json:"frames"`
}

// Stopped is a connection's packets, one direction, seen at From and
// never at To, that an ICMP error from a box between them quoted.
type Stopped struct {
	Direction Direction `json:"direction"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	Packets   int       `json:"packets"`
	By        []string  `json:"by"` // the ICMP errors' senders
}

// Hop is one pair of adjacent capture points in one direction, over
// every connection that crossed both.
type Hop struct {
	From      string    `json:"from"`
	To        string    `json:"to"`
	Direction Direction `json:"direction"`
	// PacketsUpstream counts the packets (that carry sequence space:
	// data, SYN, FIN) seen at From, but for the connections To's
	// capture lacks whole though answered (CaptureMissedConns).
	PacketsUpstream int `json:"packets_upstream"`
	// PacketsLost counts those of them never seen at To.
	PacketsLost int     `json:"packets_lost"`
	LossRate    float64 `json:"loss_rate"` // PacketsLost / PacketsUpstream
	// CaptureMissed counts packets seen at From whose data To's capture
	// lacks though the receiver acknowledged it, and pure ACKs To's
	// capture lacks from a time it was missing such data: To's capture
	// dropped them (tcpdump's buffer), the network did not; not in
	// PacketsLost.
	CaptureMissed int `json:"capture_missed,omitempty"`
	// CaptureMissedConns counts the connections To's capture lacks
	// entirely though the receiver acknowledged their data, which
	// crossed From: a capture filter at To (ports, hosts), or a rewrite
	// between the points that the matching did not follow. Their
	// packets are in CaptureMissed, not in PacketsUpstream: nothing of
	// them was compared.
	CaptureMissedConns int `json:"capture_missed_connections,omitempty"`
	// Refused counts packets seen at From, never at To, of connections
	// answered with an RST that To never saw pass: a device between
	// them refused them (a middlebox, a firewall's reject); not in
	// PacketsLost.
	Refused int `json:"refused,omitempty"`
	// ICMP counts packets seen at From, never at To, that an ICMP error
	// quoted: a box between them stopped them and said so (a firewall's
	// reject, no route, fragmentation needed, a traceroute probe's TTL
	// running out); not in PacketsLost. ICMPFrom are the errors'
	// senders.
	ICMP     int      `json:"icmp,omitempty"`
	ICMPFrom []string `json:"icmp_from,omitempty"`
	// LostUncaptured counts packets seen at From that To could not see,
	// its capture not begun yet (or ended), and that a point further
	// along, capturing then, lacks too: lost between From and that
	// point, on this hop or past To; not in PacketsLost.
	LostUncaptured int `json:"lost_uncaptured,omitempty"`
}
