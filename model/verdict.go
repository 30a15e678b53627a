package model

// Verdict kinds.
const (
	KindHealthy  = "healthy"
	KindDegraded = "degraded"
	KindLostPing = "lost_ping"
	KindGoaway   = "goaway"
	KindReset    = "reset"
	KindSilent   = "silent"
)

// Loss directions and locations.
const (
	LossNone           = "none"
	LossClientToServer = "client_to_server"
	LossServerToClient = "server_to_client"
	LossBoth           = "both"
	LossUnknown        = "unknown"

	BeforeCapture   = "before_capture"
	AfterCapture    = "after_capture"
	LocationUnknown = "unknown"
)

// Suspects.
const (
	SuspectMTUBlackhole   = "mtu_blackhole"
	SuspectMiddleboxReset = "middlebox_reset"
	SuspectCaptureDrops   = "capture_drops"
	SuspectIdleTimeout    = "idle_timeout"
	SuspectZeroWindow     = "zero_window"
	SuspectTooManyPings   = "too_many_pings"
)

// Capture points.
const (
	PointClient  = "client"
	PointServer  = "server"
	PointMiddle  = "middle"
	PointUnknown = "unknown"
)
