package model

// The gRPC part of the JSON contract (added in version 1).

// GRPCCount counts the finished gRPC calls of one method that ended the
// same way: with one grpc-status and grpc-message in the trailers, or
// reset without a status (RST_STREAM, e.g. CANCEL when the client's
// deadline ran out).
type GRPCCount struct {
	Method string `json:"method"` // the :path, /package.Service/Method
	// Code is the grpc-status by name (OK, Unavailable, ...); empty when
	// the call ended without one (Reset says how).
	Code    string `json:"code,omitempty"`
	Status  string `json:"grpc_status,omitempty"`  // as on the wire: "14"
	Message string `json:"grpc_message,omitempty"` // percent-decoded
	// Reset is the RST_STREAM error code of a call reset before any
	// status, and who sent it.
	Reset   string `json:"reset,omitempty"`
	ResetBy string `json:"reset_by,omitempty"`
	Calls   int    `json:"calls"`
}

// GRPCCodeName is the name grpc-go gives a status code (codes.Code's
// String), or the number for a code it does not define.
func GRPCCodeName(status string) string {
	if n, ok := grpcCodeNames[status]; ok {
		return n
	}
	return "Code(" + status + ")"
}

var grpcCodeNames = map[string]string{
	"0": "OK", "1": "Canceled", "2": "Unknown", "3": "InvalidArgument", "4": "DeadlineExceeded",
	"5": "NotFound", "6": "AlreadyExists", "7": "PermissionDenied", "8": "ResourceExhausted",
	"9": "FailedPrecondition", "10": "Aborted", "11": "OutOfRange", "12": "Unimplemented",
	"13": "Internal", "14": "Unavailable", "15": "DataLoss", "16": "Unauthenticated",
}
