package h2

import (
	"github.com/h2pcap/h2pcap/decode"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Meta says where bytes came from: the position of the TCP segment that
// carried them.
type Meta = decode.Position

// Frame is one HTTP/2 frame seen in a direction. A Stream reuses one Frame
// value, and its slices alias the Stream's buffers: they are valid only
// during the emit callback. A consumer that keeps anything must copy it.
type Frame struct {
	Type     http2.FrameType
	Flags    http2.Flags
	StreamID uint32
	Length   uint32 // payload length from the frame header

	// Offset is the stream offset of the frame header: bytes of this
	// direction since the first byte the Stream was told about, gaps
	// included.
	Offset int64

	// Meta is the segment that completed the frame (Wireshark shows a
	// reassembled frame in its last segment); First is the segment that
	// held the frame header's first byte.
	Meta
	First Meta

	// Truncated is set when part of the payload was never captured: a gap
	// fell inside the frame, or the direction ended inside it (End). The
	// content fields below are then unset; DATA carries only its length
	// anyway.
	Truncated bool
	// Oversize is set when the frame is longer than the maximum frame size
	// the Stream knows (16384, or what SetMaxFrameSize or PeerSettings
	// said): the sender broke the peer's limit (FRAME_SIZE_ERROR), or the
	// peer's SETTINGS were not passed on. A Stream only believes such a
	// frame when it is in step from the connection's start; the payload of
	// an oversize control frame is skipped, not parsed.
	Oversize bool
	// Malformed is set when the payload does not parse as its type says
	// (bad padding, short GOAWAY...). The header fields are still right.
	Malformed bool

	// PING
	PingData [8]byte

	// RST_STREAM and GOAWAY
	ErrCode http2.ErrCode
	// GOAWAY
	LastStreamID uint32
	DebugData    []byte

	// SETTINGS (ACK is in Flags)
	Settings []http2.Setting

	// WINDOW_UPDATE
	Increment uint32

	// PRIORITY, and HEADERS with the PRIORITY flag
	Priority http2.PriorityParam

	// PUSH_PROMISE
	PromiseID uint32

	// Fields holds the decoded header fields the analysis uses (see
	// keptField) of a complete header block. It is set on the frame that
	// ends the block (END_HEADERS: the HEADERS or PUSH_PROMISE itself, or
	// its last CONTINUATION). Partial is set on that frame when some fields
	// of the block could not be decoded: the block began before the capture
	// did, a gap cut it, or it referred to HPACK dynamic table entries added
	// when the Stream was not in step.
	Fields  []hpack.HeaderField
	Partial bool

	// busy: being emitted (Options.Scratch).
	busy bool
}

// Header returns the value of the decoded field name, or "".
func (f *Frame) Header(name string) string {
	for _, hf := range f.Fields {
		if hf.Name == name {
			return hf.Value
		}
	}
	return ""
}

// IsAck reports whether a PING or SETTINGS frame is an acknowledgement.
func (f *Frame) IsAck() bool {
	return (f.Type == http2.FramePing || f.Type == http2.FrameSettings) && f.Flags.Has(http2.FlagPingAck)
}

func (f *Frame) reset() {
	settings, fields, debug := f.Settings[:0], f.Fields[:0], f.DebugData[:0]
	*f = Frame{}
	f.Settings, f.Fields, f.DebugData = settings, fields, debug
}

const (
	frameHeaderLen = 9

	// minMaxFrameSize is SETTINGS_MAX_FRAME_SIZE's initial value and
	// minimum; maxMaxFrameSize is the largest frame length the 24-bit field
	// allows, which RFC 9113 also makes the setting's maximum.
	minMaxFrameSize = 1 << 14
	maxMaxFrameSize = 1<<24 - 1
)

// header is a parsed 9-byte frame header.
type header struct {
	Length   uint32
	Type     http2.FrameType
	Flags    http2.Flags
	StreamID uint32 // reserved bit included: plausible checks it
}

func parseHeader(b []byte) header {
	_ = b[8]
	return header{
		Length:   uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]),
		Type:     http2.FrameType(b[3]),
		Flags:    http2.Flags(b[4]),
		StreamID: uint32(b[5])<<24 | uint32(b[6])<<16 | uint32(b[7])<<8 | uint32(b[8]),
	}
}

// lastKnownType is CONTINUATION: the types RFC 9113 defines are 0 to 9.
const lastKnownType = http2.FrameContinuation

// allowedFlags holds, per RFC 9113 frame type, the flags a sender defines.
var allowedFlags = [lastKnownType + 1]http2.Flags{
	http2.FrameData:         http2.FlagDataEndStream | http2.FlagDataPadded,
	http2.FrameHeaders:      http2.FlagHeadersEndStream | http2.FlagHeadersEndHeaders | http2.FlagHeadersPadded | http2.FlagHeadersPriority,
	http2.FramePriority:     0,
	http2.FrameRSTStream:    0,
	http2.FrameSettings:     http2.FlagSettingsAck,
	http2.FramePushPromise:  http2.FlagPushPromiseEndHeaders | http2.FlagPushPromisePadded,
	http2.FramePing:         http2.FlagPingAck,
	http2.FrameGoAway:       0,
	http2.FrameWindowUpdate: 0,
	http2.FrameContinuation: http2.FlagContinuationEndHeaders,
}

// Strictness of plausible.
const (
	// trusted: in step since the connection's start (preface, h2c
	// upgrade, the server's first SETTINGS, or Options.Sync). Refused is
	// only what breaks framing itself: a PING that is not 8 bytes, SETTINGS
	// on a stream, a WINDOW_UPDATE that is not 4 bytes... Unknown flags and
	// the reserved bit are ignored, as RFC 9113 says a receiver does, and
	// so is the length limit: a peer that breaks it is worth reporting
	// (Frame.Oversize), and it may only mean we missed the peer's SETTINGS.
	trusted = iota
	// inSync: in step after a search. Also refused is what no
	// implementation sends but lookalike bytes often have: flags a type
	// does not define, the reserved bit, a frame longer than the maximum.
	// A Stream that locked onto lookalike bytes must notice soon: a bogus
	// length would otherwise swallow megabytes of real frames.
	inSync
	// chained: hunting, and a plausible header led here. Also checks the
	// length limit, and refuses legal but rare shapes that lookalike bytes
	// often have: empty DATA without END_STREAM, empty HEADERS and
	// CONTINUATION. Unknown types pass: extensions exist.
	chained
	// first: hunting, first header of a candidate chain. As chained, and
	// the type must be one RFC 9113 defines.
	first
)

// plausible reports whether h could be a frame header a peer sent, with the
// given strictness and maximum frame length.
func plausible(h header, maxSize uint32, strictness int) bool {
	if strictness == trusted {
		maxSize = maxMaxFrameSize
		h.StreamID &^= 1 << 31
	} else if h.StreamID>>31 != 0 {
		return false
	}
	if h.Type > lastKnownType {
		return strictness != first && h.Length <= maxSize
	}
	if strictness != trusted && h.Flags&^allowedFlags[h.Type] != 0 {
		return false
	}
	if h.Length > maxSize {
		return false
	}
	hunting := strictness > inSync
	sid := h.StreamID
	switch h.Type {
	case http2.FrameData:
		if sid == 0 {
			return false
		}
		if strictness != trusted && h.Flags.Has(http2.FlagDataPadded) && h.Length < 1 {
			return false
		}
		return !hunting || h.Length > 0 || h.Flags.Has(http2.FlagDataEndStream)
	case http2.FrameHeaders:
		if sid == 0 {
			return false
		}
		min := uint32(0)
		if strictness == trusted {
			return true // flags ignored, so padding too
		}
		if h.Flags.Has(http2.FlagHeadersPadded) {
			min++
		}
		if h.Flags.Has(http2.FlagHeadersPriority) {
			min += 5
		}
		if hunting {
			min++
		}
		return h.Length >= min
	case http2.FramePriority:
		return sid != 0 && h.Length == 5
	case http2.FrameRSTStream:
		return sid != 0 && h.Length == 4
	case http2.FrameSettings:
		if sid != 0 || h.Length%6 != 0 {
			return false
		}
		return strictness == trusted || !h.Flags.Has(http2.FlagSettingsAck) || h.Length == 0
	case http2.FramePushPromise:
		min := uint32(4)
		if strictness != trusted && h.Flags.Has(http2.FlagPushPromisePadded) {
			min++
		}
		return sid != 0 && h.Length >= min
	case http2.FramePing:
		return sid == 0 && h.Length == 8
	case http2.FrameGoAway:
		return sid == 0 && h.Length >= 8
	case http2.FrameWindowUpdate:
		return h.Length == 4
	case http2.FrameContinuation:
		return sid != 0 && (!hunting || h.Length > 0)
	}
	return false
}
