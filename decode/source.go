package decode

import "time"

// InputInfo describes one capture input as the report shows it. It is
// filled in while the input is read; the counters are final once Next has
// returned io.EOF (or another error).
type InputInfo struct {
	Path             string    `json:"path"`
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
