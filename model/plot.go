package model

// The pictures' data (added in version 1; names are never renamed): what
// the HTML and Markdown reports draw beyond the counters and the events.
// A Connection has a Plot only when the analysis was asked for one
// (analyze.Options.Plot: the CLI asks for the html format, and for
// markdown written to a file) and the connection has a problem: the JSON
// report of a run without pictures stays as small as it was.

// Plot is one connection's packets over time, per direction, decimated to
// a bounded number of points (PlotDir.Stride says how far). Times are
// microseconds since Connection.Start; sequence and ACK numbers are
// tshark's relative tcp.seq and tcp.ack of the direction's data, counted
// on past 4 GiB instead of wrapping.
type Plot struct {
	ClientToServer PlotDir `json:"client_to_server"`
	ServerToClient PlotDir `json:"server_to_client"`
	// Goaways are the connection's GOAWAY frames with their times (the
	// HTTP2 part lists them without).
	Goaways []PlotMark `json:"goaways,omitempty"`
}

// Dir returns direction d's points.
func (p *Plot) Dir(d Direction) *PlotDir {
	if d == ClientToServer {
		return &p.ClientToServer
	}
	return &p.ServerToClient
}

// PlotDir is one direction's data segments and the peer's answers to
// them: what a Stevens (tcptrace) time-sequence graph draws.
type PlotDir struct {
	// Segments are the direction's segments with payload, SYN, FIN or
	// RST, in capture order. Every retransmission and control segment is
	// kept (up to half the cap); of the others, one in Stride.
	Segments []PlotSegment `json:"segments"`
	// Acks are the peer's cumulative ACKs of this direction's data, one
	// point each time the ACK moved (the ACK line), one in AckStride.
	Acks []PlotAck `json:"acks"`
	// SACKs are the ranges the peer's SACK blocks said it holds above
	// the ACK, one in SACKStride.
	SACKs []PlotSACK `json:"sacks,omitempty"`
	// SegmentsSeen counts every segment the direction sent with payload,
	// SYN, FIN or RST, kept or not.
	SegmentsSeen int `json:"segments_seen"`
	Stride       int `json:"stride"`
	AckStride    int `json:"ack_stride"`
	SACKStride   int `json:"sack_stride,omitempty"`
}

// PlotSegment is one segment of a direction.
type PlotSegment struct {
	TimeUs int64 `json:"t_us"`
	Seq    int64 `json:"seq"`
	Len    int   `json:"len"`
	Frame  int   `json:"frame"`
	Input  int   `json:"input,omitempty"`
	// Retrans: tshark flagged the segment a retransmission (fast and
	// spurious included).
	Retrans bool `json:"retrans,omitempty"`
	// Ctl names the control flags that matter to the picture: syn, fin,
	// rst (empty for plain data).
	Ctl PlotCtl `json:"ctl,omitempty"`
}

// PlotCtl is a segment's control flag as the pictures mark it.
type PlotCtl string

// Control flags.
const (
	CtlSYN PlotCtl = "syn"
	CtlFIN PlotCtl = "fin"
	CtlRST PlotCtl = "rst"
)

// PlotAck is the peer's cumulative ACK of the direction's data at a time.
type PlotAck struct {
	TimeUs int64 `json:"t_us"`
	Ack    int64 `json:"ack"`
	Frame  int   `json:"frame"`
	Input  int   `json:"input,omitempty"`
}

// PlotSACK is one SACK block: the peer holds [Lo, Hi) above its ACK.
type PlotSACK struct {
	TimeUs int64 `json:"t_us"`
	Lo     int64 `json:"lo"`
	Hi     int64 `json:"hi"`
	Frame  int   `json:"frame"`
	Input  int   `json:"input,omitempty"`
}

// PlotMark is one frame the pictures mark on their own, with its time.
type PlotMark struct {
	TimeUs int64  `json:"t_us"`
	Frame  int    `json:"frame"`
	Input  int    `json:"input,omitempty"`
	From   string `json:"from"` // SideClient or SideServer
}
