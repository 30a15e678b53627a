package analyze

// The HTTP/2 and verdict parts of the JSON contract (added in version 1;
// names are never renamed).

// Summary is the across-connections view: the headline and the per-path table.
type Summary struct {
	Connections        int    `json:"connections"`
	ProblemConnections int    `json:"problem_connections"`
	Headline           string `json:"headline"`
	Paths              []Path `json:"paths"`
}

// Path aggregates the connections from one client subnet to one server
// endpoint: the table that shows "node -> load balancer lossy, node -> node clean".
type Path struct {
	ClientNet          string  `json:"client_net"` // e.g. 198.18.1.0/24, [fd18::]/64
	Server             string  `json:"server"`
	Connections        int     `json:"connections"`
	LostPings          int     `json:"lost_pings"`
	RetransmissionRate float64 `json:"retransmission_rate"` // retransmitted / data segments, both directions
	Resets             int     `json:"resets"`
}

// HTTP2 is what the HTTP/2 analysis found on one connection.
type HTTP2 struct {
	// Frames counts frames by RFC 9113 type name per direction; PING
	// counts PINGs and their ACKs, as tshark's http2.type does.
	Frames       map[Direction]map[string]int `json:"frames"`
	Pings        []Ping                       `json:"pings"`
	Goaways      []Goaway                     `json:"goaways"`
	RSTStreams   []RSTStream                  `json:"rst_streams"`
	SkippedBytes map[Direction]int64          `json:"skipped_bytes"`
}

// Ping is one PING and, when seen, its ACK.
type Ping struct {
	Frame    int      `json:"frame"`
	Input    int      `json:"input,omitempty"`
	From     string   `json:"from"`   // client, server
	Data     string   `json:"data"`   // 16 hex digits
	Sender   string   `json:"sender"` // go-health-check, grpc-keepalive, grpc-bdp, grpc-drain, unknown
	Acked    bool     `json:"acked"`
	AckFrame int      `json:"ack_frame,omitempty"`
	AckInput int      `json:"ack_input,omitempty"`
	RTTms    *float64 `json:"rtt_ms"`
	// Inferred is true for PINGs found in encrypted traffic by record
	// size and timing rather than decoded.
	Inferred bool `json:"inferred"`
}

// Goaway is one GOAWAY frame.
type Goaway struct {
	Frame        int    `json:"frame"`
	Input        int    `json:"input,omitempty"`
	From         string `json:"from"`
	LastStreamID uint32 `json:"last_stream_id"`
	Error        string `json:"error"` // RFC 9113 name: NO_ERROR, ENHANCE_YOUR_CALM, ...
	Debug        string `json:"debug"`
}

// RSTStream is one RST_STREAM frame.
type RSTStream struct {
	Frame  int    `json:"frame"`
	Input  int    `json:"input,omitempty"`
	From   string `json:"from"`
	Stream uint32 `json:"stream"`
	Error  string `json:"error"`
}

// Verdict is the judgement on one connection.
type Verdict struct {
	// Kind: healthy, degraded, lost_ping, goaway, reset, silent.
	Kind string `json:"kind"`
	// LossDirection: none, client_to_server, server_to_client, both, unknown.
	LossDirection string `json:"loss_direction"`
	// LossLocation relative to the capture point: before_capture,
	// after_capture, unknown.
	LossLocation string `json:"loss_location"`
	// Suspects, each only with evidence: mtu_blackhole, middlebox_reset,
	// capture_drops, idle_timeout, zero_window, too_many_pings.
	Suspects []string   `json:"suspects"`
	Summary  string     `json:"summary"`
	Evidence []Evidence `json:"evidence"`
}

// Evidence is one frame that supports a verdict.
type Evidence struct {
	Frame int    `json:"frame"`
	Input int    `json:"input,omitempty"`
	Note  string `json:"note"`
}
