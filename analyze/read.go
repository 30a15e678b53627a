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
	return a.ReadSourceFunc(src, nil)
}

// ReadSourceFunc is ReadSource calling after, if not nil, with each
// packet once analysed (its TCP segment, nil if none; r's Decoder says
// what it dropped): the reading ends there, the input's info as far as
// read, when after returns true.
func (a *Analyzer) ReadSourceFunc(src decode.Source, after func(r *InputReader, p *decode.Packet, seg *decode.Segment) (stop bool)) (*decode.InputInfo, error) {
	r := a.NewInputReader(src)
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		seg := r.Take(p)
		if after != nil && after(r, p, seg) {
			break
		}
	}
	return r.Info(), nil
}

// InputReader reads one input into an Analyzer a packet at a time, so
// that several inputs read at once (the capture points of one moment,
// each with its own Analyzer) can be merged in time order. ReadSource is
// Next and Take until io.EOF, then Info.
type InputReader struct {
	a       *Analyzer
	src     decode.Source
	dec     *decode.InputDecoder
	secrets decode.SecretsSource
	used    int // secrets added to the key log
	seg     decode.Segment
	icmp    decode.ICMPError
	hasICMP bool // the last Take's packet was icmp
	warns   []string
}

// NewInputReader starts reading src into a. The inputs read into one
// Analyzer are one capture split by rotation, in order: the decoder of
// the input before goes on in this one (reassembly, copy detection).
func (a *Analyzer) NewInputReader(src decode.Source) *InputReader {
	dec := decode.NewInputDecoder()
	if a.dec != nil {
		dec = a.dec.Next()
	}
	if a.perIface {
		dec.OneInterfacePerConnection()
	}
	a.dec = dec
	r := &InputReader{a: a, src: src, dec: dec}
	r.secrets, _ = src.(decode.SecretsSource)
	return r
}

// Next reads the next packet, valid until the next call; io.EOF at the
// end. A live source's *decode.IdleError moves the analyzer's clock and
// the reading goes on.
func (r *InputReader) Next() (*decode.Packet, error) {
	for {
		p, err := r.src.Next()
		if err == nil {
			return p, nil
		}
		// Declared here, not above: errors.As takes its address, which
		// puts it on the heap, once per packet if declared for all.
		var idle *decode.IdleError
		if errors.As(err, &idle) {
			r.a.Tick(idle.At)
			continue
		}
		return p, err
	}
}

// Take analyses p, read by Next. It returns p's TCP segment, valid until
// the next Take, or nil if p carries none.
func (r *InputReader) Take(p *decode.Packet) *decode.Segment {
	if r.secrets != nil {
		// Asked for each packet (a live key log grows as connections
		// begin), added only when there are new ones.
		if all := r.secrets.Secrets(); len(all) > r.used {
			r.used = r.a.addSecrets(all, r.used, func(w string) { r.warns = append(r.warns, w) })
		}
	}
	r.hasICMP = false
	if ok, _ := r.dec.Decode(p, &r.seg); ok {
		r.a.Segment(&r.seg)
		return &r.seg
	}
	if e, ok := r.dec.ICMPError(); ok {
		r.icmp, r.hasICMP = e, true
		r.a.ICMPError(&r.icmp)
	}
	return nil
}

// Decoder is the input's decoder: what it dropped as copies so far
// (decode.InputDecoder.Copies), for an interface survey taken as the
// input is read (decode.Surveyor).
func (r *InputReader) Decoder() *decode.InputDecoder { return r.dec }

// ICMPError returns the ICMP error that quotes a TCP segment the last
// Take's packet was, valid until the next Take, or nil.
func (r *InputReader) ICMPError() *decode.ICMPError {
	if !r.hasICMP {
		return nil
	}
	return &r.icmp
}

// Info is the input's info with the decoder's counts and warnings, once
// Next has returned io.EOF.
func (r *InputReader) Info() *decode.InputInfo {
	info := r.src.Info()
	info.Warnings = append(info.Warnings, r.warns...)
	info.Warnings = append(info.Warnings, r.dec.Warnings()...)
	info.Decoded = r.dec.Stats()
	return info
}
