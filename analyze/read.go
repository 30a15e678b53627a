package analyze

import (
	"errors"
	"io"

	"github.com/h2pcap/h2pcap/decode"
)

// ReadSource runs one input through the pipeline: every packet of src is
// decoded by a decode.InputDecoder and its TCP segment, if any, given to
// the analyzer. It returns the input's info with the decoder's counts and
// warnings. Packets that are not TCP or are malformed are counted, not
// fatal; a read error (a corrupt capture) is returned as is, after what
// was read before it has been analysed. A live source's *decode.IdleError
// (no packet for a while) moves the analyzer's clock (Tick) and the
// reading goes on.
func (a *Analyzer) ReadSource(src decode.Source) (*decode.InputInfo, error) {
	dec := decode.NewInputDecoder()
	if a.dec != nil {
		// The inputs are one capture split by rotation, in order.
		dec = a.dec.Next()
	}
	a.dec = dec
	var seg decode.Segment
	secrets, _ := src.(decode.SecretsSource)
	used := 0 // secrets added to the key log
	var warnings []string
	warn := func(w string) { warnings = append(warnings, w) }
	for {
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var idle *decode.IdleError
			if errors.As(err, &idle) {
				a.Tick(idle.At)
				continue
			}
			return nil, err
		}
		if secrets != nil {
			used = a.addSecrets(secrets, used, warn)
		}
		if ok, _ := dec.Decode(p, &seg); ok {
			a.Segment(&seg)
		} else if e, ok := dec.ICMPError(); ok {
			a.ICMPError(&e)
		}
	}
	info := src.Info()
	info.Warnings = append(info.Warnings, warnings...)
	info.Warnings = append(info.Warnings, dec.Warnings()...)
	info.Decoded = dec.Stats()
	return info, nil
}
