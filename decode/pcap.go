package decode

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// pcapMaxRecord is the longest record read when the file's snap length is
// smaller: libpcap's MAXIMUM_SNAPLEN. Writers that do not truncate to the
// snap length they declare exist (dpkt), and tcpdump and Wireshark read
// their records up to this length.
const pcapMaxRecord = 262144

// pcapSource reads the classic libpcap format (pcap-savefile(5)).
//
// It is not pcapgo.Reader: that reader gives up on the whole file at a
// record whose captured length exceeds its original length, which
// Wireshark reads and which is our oracle, and it computes microsecond
// timestamps in 32 bits. Records are served from the bufio buffer without
// copying.
type pcapSource struct {
	input
	order     binary.ByteOrder
	bigEndian bool  // order is binary.BigEndian: Next reads without it
	nsPerFrac int64 // 1 for nanosecond files, 1000 for microsecond ones
	maxRecord int
	big       []byte // records too large for the bufio buffer
	// win is what the bufio reader has buffered from where the window
	// last moved, not yet discarded from it; the records Next gave
	// since take its first used bytes (record).
	win  []byte
	used int
}

func (s *pcapSource) base() *input { return &s.input }

func newPcapSource(in *input) (source, error) {
	hdr, err := in.br.Peek(24)
	if stopped(in.ctx, err) {
		return nil, fmt.Errorf("%s: %w", in.name, err)
	}
	if len(hdr) < 24 {
		return nil, in.formatError(-1, io.ErrUnexpectedEOF, "truncated pcap file header (%d of 24 bytes)", len(hdr))
	}
	s := &pcapSource{input: *in, order: binary.LittleEndian, nsPerFrac: 1000}
	switch binary.LittleEndian.Uint32(hdr) {
	case 0xd4c3b2a1:
		s.order = binary.BigEndian
	case 0x4d3cb2a1:
		s.order, s.nsPerFrac = binary.BigEndian, 1
	case 0xa1b23c4d:
		s.nsPerFrac = 1
	}
	s.bigEndian = s.order == binary.ByteOrder(binary.BigEndian)
	if major, minor := s.order.Uint16(hdr[4:6]), s.order.Uint16(hdr[6:8]); major != 2 {
		return nil, s.formatError(0, nil, "unsupported pcap version %d.%d", major, minor)
	}
	snaplen := s.order.Uint32(hdr[16:20])
	s.maxRecord = int(max(min(snaplen, ngMaxBlockLen), pcapMaxRecord))
	// The upper bits of the link type field carry the FCS length
	// (pcap-savefile(5)); the link type itself is the low 16 bits.
	lt := s.order.Uint32(hdr[20:24]) & 0x0fffffff
	if lt > 0xffff || !Supported(layers.LinkType(lt)) {
		return nil, s.formatError(-1, nil, "unsupported link type %d (%s)", lt, LinkTypeName(layers.LinkType(lt)))
	}
	s.br.Discard(24)
	s.info.Format = "pcap"
	s.pkt.LinkType = layers.LinkType(lt)
	s.addLinkType(s.pkt.LinkType)
	return s, nil
}

// offset is the offset of the next record in the capture stream: what
// the bufio reader has not handed out, less the window's unread part.
func (s *pcapSource) offset() int64 { return s.input.offset() + int64(s.used) }

// record returns the next n bytes of the stream, from the window if it
// holds them, else after moving the window on: what records it gave is
// discarded from the bufio reader, and the window is whatever is
// buffered past that (at least n, reading more if need be). Asking
// bufio for every record was a third of reading a short packet.
func (s *pcapSource) record(n int) ([]byte, error) {
	if len(s.win)-s.used >= n {
		return s.win[s.used : s.used+n], nil
	}
	s.br.Discard(s.used)
	s.win, s.used = nil, 0
	if b, err := s.br.Peek(n); err != nil {
		return b, err
	}
	s.win, _ = s.br.Peek(s.br.Buffered()) // all of it: reads nothing more
	return s.win[:n], nil
}

func (s *pcapSource) Next() (*Packet, error) {
	if s.done {
		return nil, s.err
	}
	off := s.offset()
	rec, err := s.record(16)
	if err != nil {
		if err == io.EOF && len(rec) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, s.finish(off, err, "packet")
	}
	// The record header's four words, read without the interface:
	// its calls were a third of reading a short packet.
	var sec, frac, capLen, wireLen uint32
	if s.bigEndian {
		sec, frac = binary.BigEndian.Uint32(rec[0:4]), binary.BigEndian.Uint32(rec[4:8])
		capLen, wireLen = binary.BigEndian.Uint32(rec[8:12]), binary.BigEndian.Uint32(rec[12:16])
	} else {
		sec, frac = binary.LittleEndian.Uint32(rec[0:4]), binary.LittleEndian.Uint32(rec[4:8])
		capLen, wireLen = binary.LittleEndian.Uint32(rec[8:12]), binary.LittleEndian.Uint32(rec[12:16])
	}
	if capLen > uint32(s.maxRecord) {
		return nil, s.finish(off, s.formatError(off, nil, "corrupt packet record: captured length %d exceeds maximum %d", capLen, s.maxRecord), "packet")
	}
	n := 16 + int(capLen)
	var data []byte
	if n <= s.br.Size() {
		rec, err = s.record(n)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, s.finish(off, err, "packet")
		}
		s.used += n
		data = rec[16:]
	} else {
		s.br.Discard(s.used + 16)
		s.win, s.used = nil, 0
		if cap(s.big) < int(capLen) {
			s.big = make([]byte, capLen)
		}
		data = s.big[:capLen]
		if _, err := io.ReadFull(s.br, data); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, s.finish(off, err, "packet")
		}
	}
	t := time.Unix(int64(sec), int64(frac)*s.nsPerFrac).UTC()
	s.count(t, int(capLen), int(wireLen))
	p := &s.pkt
	p.Frame = s.info.Packets
	p.Time = t
	p.CaptureLen = int(capLen)
	p.WireLen = int(wireLen)
	p.Data = data
	switch p.LinkType {
	case layers.LinkTypeLinuxSLL2:
		p.Iface = sll2Iface(data)
	case layers.LinkTypeLinuxSLL:
		p.Iface = sllDirection(data)
	}
	return p, nil
}
