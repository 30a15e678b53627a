package decode

import "time"

// Position says where something was in the capture: the input, the frame
// within it (1-based, as Wireshark numbers frames) and the capture time.
// Every stage names the packets it cites with one: decode/h2's frames and
// decode/tls's records (their Meta), the analysis's evidence.
type Position struct {
	Input int       // index of the capture input
	Frame int       // 1-based frame number within that input
	Time  time.Time // capture time of the packet
}
