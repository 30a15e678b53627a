package decode

import (
	"encoding/binary"
	"io"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// pcapSource reads the classic libpcap format with pcapgo.Reader, which
// reads straight from our bufio.Reader (pcapgo reuses a bufio.Reader that
// is at least 4 KiB), so input.offset stays exact.
type pcapSource struct {
	input
	r *pcapgo.Reader
}

func (s *pcapSource) base() *input { return &s.input }

func newPcapSource(in *input) (source, error) {
	hdr, _ := in.br.Peek(24)
	if len(hdr) < 24 {
		return nil, in.formatError(-1, io.ErrUnexpectedEOF, "truncated pcap file header (%d of 24 bytes)", len(hdr))
	}
	var order binary.ByteOrder = binary.LittleEndian
	if m := binary.LittleEndian.Uint32(hdr); m == 0xd4c3b2a1 || m == 0x4d3cb2a1 {
		order = binary.BigEndian
	}
	// The upper bits of the link type field carry the FCS length
	// (pcap-savefile(5)); the link type itself is the low 16 bits.
	lt := order.Uint32(hdr[20:24]) & 0x0fffffff
	if lt > 0xffff || !Supported(layers.LinkType(lt)) {
		return nil, in.formatError(-1, nil, "unsupported link type %d (%s)", lt, LinkTypeName(layers.LinkType(lt)))
	}
	r, err := pcapgo.NewReader(in.br)
	if err != nil {
		return nil, in.formatError(0, err, "bad pcap file header: %v", err)
	}
	s := &pcapSource{input: *in, r: r}
	s.info.Format = "pcap"
	s.pkt.LinkType = layers.LinkType(lt)
	s.addLinkType(s.pkt.LinkType)
	return s, nil
}

func (s *pcapSource) Next() (*Packet, error) {
	if s.done {
		return nil, s.err
	}
	off := s.offset()
	data, ci, err := s.r.ZeroCopyReadPacketData()
	if err != nil {
		return nil, s.finish(off, err, "packet")
	}
	s.count(ci.Timestamp, ci.CaptureLength, ci.Length)
	p := &s.pkt
	p.Frame = s.info.Packets
	p.Time = ci.Timestamp
	p.CaptureLen = ci.CaptureLength
	p.WireLen = ci.Length
	p.Data = data
	return p, nil
}
