package synth

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// SecondPoint writes to w the capture r (one of Write's) as a second
// capture point nearer the servers would have taken it: each packet
// towards a server (the lower port) delay later, each one back delay
// earlier, and one packet in missEvery missing (0: none), as if that
// capture lacked it: those connections have something to place. The
// packets keep their order (a time never goes back): Write's packets of
// one connection are 5 µs apart at least, so a delay past 2 µs
// reorders none of them but bunches some.
func SecondPoint(r io.Reader, w io.Writer, delay time.Duration, missEvery int) error {
	pr, err := pcapgo.NewReader(r)
	if err != nil {
		return fmt.Errorf("second point: %w", err)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	pw := pcapgo.NewWriterNanos(bw)
	if err := pw.WriteFileHeader(pr.Snaplen(), pr.LinkType()); err != nil {
		return err
	}
	var (
		eth     layers.Ethernet
		ip4     layers.IPv4
		ip6     layers.IPv6
		tcp     layers.TCP
		decoded []gopacket.LayerType
	)
	parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &ip6, &tcp)
	parser.IgnoreUnsupported = true
	var last time.Time
	for i := 0; ; i++ {
		data, ci, err := pr.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("second point: packet %d: %w", i+1, err)
		}
		if missEvery > 0 && i%missEvery == missEvery/2 {
			continue
		}
		parser.DecodeLayers(data, &decoded)
		if tcp.DstPort < tcp.SrcPort {
			ci.Timestamp = ci.Timestamp.Add(delay)
		} else {
			ci.Timestamp = ci.Timestamp.Add(-delay)
		}
		if ci.Timestamp.Before(last) {
			ci.Timestamp = last
		}
		last = ci.Timestamp
		if err := pw.WritePacket(ci, data); err != nil {
			return err
		}
	}
	return bw.Flush()
}
