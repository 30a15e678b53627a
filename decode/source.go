package decode

import "time"

// InputInfo describes one capture input as the report shows it. It is
// filled in while the input is read; the counters are final once Next has
// returned io.EOF (or another error).
type InputInfo struct {
	Path string `json:"path"`
	// Interface names the interface of the file this input is, when the
	// file was read as one capture point per interface (tcpdump -i any
	// on a router): its name, or "if" and its index. The counters are
	// that interface's packets; frame numbers stay the file's.
	Interface        string    `json:"interface,omitempty"`
	Format           string    `json:"format"`     // "pcap" or "pcapng"
	LinkTypes        []string  `json:"link_types"` // tcpdump DLT names: EN10MB, LINUX_SLL, LINUX_SLL2, RAW, NULL, ...
	Packets          int       `json:"packets"`
	Bytes            int64     `json:"bytes"` // captured bytes of all packets
	First            time.Time `json:"first"`
	Last             time.Time `json:"last"`
	TruncatedPackets int       `json:"truncated_packets"` // packets cut by the snaplen
	Warnings         []string  `json:"warnings"`
	// Decoded says what the packets held, filled in by whoever decodes
	// them (the pipeline), since a Source only reads.
	Decoded DecodeStats `json:"decoded"`
	// CaptureQuality says what the analysis found missing from the
	// capture itself, filled in by the analysis (a Source cannot tell);
	// nil, and absent from the JSON, when the capture lacks nothing it
	// could tell: a clean capture's report does not grow.
	CaptureQuality *CaptureQuality `json:"capture_quality,omitempty"`
}

// Count records one packet of the input: its captured length capLen of
// wireLen on the wire, at t (zero for a pcapng Simple Packet Block, which
// has no timestamp). It is on the hot path; every Source counts with it.
func (in *InputInfo) Count(t time.Time, capLen, wireLen int) {
	in.Packets++
	in.Bytes += int64(capLen)
	if capLen < wireLen {
		in.TruncatedPackets++
	}
	// Packets come mostly in time order: a new latest one is the common
	// case, tested first (one comparison of times, not three). First and
	// Last are zero together, until the first packet with a time.
	switch {
	case t.After(in.Last):
		in.Last = t
		if in.First.IsZero() {
			in.First = t
		}
	case t.IsZero():
	case t.Before(in.First):
		in.First = t
	}
}

// CaptureQuality is what an input lacks that the network did carry:
// one direction of connections, or packets the receiver acknowledged
// that never reached the file (capture drops). The analysis fills it from
// the TCP sequence and acknowledgement numbers; decode keeps the type so
// that InputInfo stays the one description of an input.
type CaptureQuality struct {
	// OneDirection names the direction the input holds of connections it
	// has only one direction of ("client_to_server" or
	// "server_to_client"; "mixed" when some lack one and others the
	// other): a capture filter on one host, asymmetric routing, a SPAN
	// port of one direction. The side that is there acknowledges data
	// the input never holds. Empty when every connection has both.
	OneDirection string `json:"one_direction,omitempty"`
	// OneDirectionConnections counts those connections.
	OneDirectionConnections int `json:"one_direction_connections,omitempty"`
	// MissedBytes is sequence space the receiver acknowledged that the
	// input never held, in the connections it has both directions of:
	// payload the capture dropped. MissedFraction is its share of all the
	// payload sequence space those connections' receivers acknowledged or
	// the input held: about the share of full-sized data packets lost by
	// the capture (a dropped bare ACK leaves no trace).
	MissedBytes    int64   `json:"missed_bytes"`
	MissedFraction float64 `json:"missed_fraction"`
}

// IdleError is returned by the Next of a live Source that was asked to
// (live.Config.Idle) when no packet came for a while, so that its reader
// can act on time passing (the analyzer's Tick). At is the capture clock
// then. It is not the end: Next may be called again.
type IdleError struct{ At time.Time }

func (e *IdleError) Error() string { return "no packet since " + e.At.Format(time.RFC3339Nano) }

// Source yields packets in capture order.
type Source interface {
	// Next returns the next packet. The packet and its Data are valid
	// until the following call. At the end it returns io.EOF; a capture
	// cut off mid-packet also ends with io.EOF and a warning in Info.
	Next() (*Packet, error)
	Info() *InputInfo
	Close() error
}
