package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// pcapng block types (draft-ietf-opsawg-pcapng).
const (
	ngBlockSectionHeader     = 0x0a0d0d0a
	ngBlockInterface         = 0x00000001
	ngBlockPacket            = 0x00000002 // obsolete, still written by old tools
	ngBlockSimplePacket      = 0x00000003
	ngBlockEnhancedPacket    = 0x00000006
	ngBlockDecryptionSecrets = 0x0000000a
	ngByteOrderMagic         = 0x1a2b3c4d

	// ngMaxBlockLen bounds what a block length read from the file may
	// make us allocate. Wireshark refuses blocks over 16 MiB as well.
	ngMaxBlockLen = 16 << 20
)

// DecryptionSecret is the content of a pcapng Decryption Secrets Block
// (for TLS, Type 0x544c534b and Data in NSS key log format).
type DecryptionSecret struct {
	Type uint32
	Data []byte
}

// SecretsSource is implemented by sources that carry decryption secrets
// (pcapng). Secrets returns those read so far, in file order.
type SecretsSource interface {
	Secrets() []DecryptionSecret
}

type ngIface struct {
	linkType layers.LinkType
	snaplen  uint32
	pow10    bool  // timestamp unit is 10^-exp s, else 2^-exp s
	exp      uint8 // see pow10
	offset   int64 // if_tsoffset, seconds
	seen     bool  // a packet of this interface was reported in Info
	name     string
}

var pow10 = [...]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

func (f *ngIface) time(ts uint64) time.Time {
	var sec, nsec uint64
	switch {
	case f.pow10 && f.exp == 6:
		sec, nsec = ts/1e6, ts%1e6*1e3
	case f.pow10 && f.exp <= 9:
		d := pow10[f.exp]
		sec, nsec = ts/d, ts%d*pow10[9-f.exp]
	case f.pow10:
		d := pow10[f.exp]
		sec, nsec = ts/d, ts%d/pow10[f.exp-9]
	case f.exp == 0:
		sec = ts
	default:
		sec = ts >> f.exp
		hi, lo := bits.Mul64(ts&(1<<f.exp-1), 1e9)
		nsec = hi<<(64-f.exp) | lo>>f.exp
	}
	return time.Unix(int64(sec)+f.offset, int64(nsec)).UTC()
}

// ngSource reads pcapng. It is not pcapgo.NgReader because that reader
// does not check block lengths (a length under 12 wraps around and reads
// as a capture cut off), cannot tell us where in the file it is, and
// drops Decryption Secrets Blocks after the first packet.
type ngSource struct {
	input
	order  binary.ByteOrder
	ifaces []ngIface // the current section's
	// ifBase is how many interfaces the sections before the current one
	// described: interface ids restart at 0 in each section, so a
	// packet's interface is ifBase plus its id: each names one
	// interface across a file of several sections (pcapng files
	// concatenated). tshark 4.0 reads a later section's ids as the
	// first section's interfaces.
	ifBase  int32
	secrets []DecryptionSecret
	hdr     [12]byte
	big     []byte // body of blocks too large for the bufio buffer
}

func (s *ngSource) base() *input { return &s.input }

func (s *ngSource) Secrets() []DecryptionSecret { return s.secrets }

func newNgSource(in *input) (source, error) {
	s := &ngSource{input: *in, order: binary.LittleEndian}
	s.info.Format = "pcapng"
	typ, body, off, err := s.block()
	if err != nil {
		var fe *FormatError
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			return nil, s.formatError(-1, err, "truncated pcapng section header")
		case stopped(s.ctx, err):
			return nil, fmt.Errorf("%s: %w", s.name, err)
		case errors.As(err, &fe):
			return nil, err
		}
		// A gzip stream corrupt inside the first block: the error comes
		// from the decompressor, which names nothing.
		return nil, s.formatError(-1, err, "reading the pcapng section header: %v", err)
	}
	if typ != ngBlockSectionHeader {
		return nil, s.formatError(off, nil, "not a pcapng section header")
	}
	if err := s.sectionHeader(body, off); err != nil {
		return nil, err
	}
	return s, nil
}

// block reads the next block and returns its type and body (without the
// type, length and trailing length fields). The body aliases the read
// buffer until the next call. At a clean end of file it returns io.EOF.
func (s *ngSource) block() (typ uint32, body []byte, off int64, err error) {
	off = s.offset()
	n, err := io.ReadFull(s.br, s.hdr[:8])
	if err != nil {
		if n == 0 && err == io.EOF {
			return 0, nil, off, io.EOF
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, off, err
	}
	typ = s.order.Uint32(s.hdr[:4])
	if typ == ngBlockSectionHeader {
		// A new section may change the byte order; its byte-order magic
		// comes right after the length.
		bom, err := s.br.Peek(4)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, nil, off, err
		}
		switch {
		case binary.LittleEndian.Uint32(bom) == ngByteOrderMagic:
			s.order = binary.LittleEndian
		case binary.BigEndian.Uint32(bom) == ngByteOrderMagic:
			s.order = binary.BigEndian
		default:
			return 0, nil, off, s.formatError(off, nil, "corrupt section header: bad byte-order magic %#x", bom)
		}
	}
	length := s.order.Uint32(s.hdr[4:8])
	switch {
	case length < 12 || typ == ngBlockSectionHeader && length < 28:
		return 0, nil, off, s.formatError(off, nil, "corrupt block: block length %d too small", length)
	case length%4 != 0:
		return 0, nil, off, s.formatError(off, nil, "corrupt block: block length %d not a multiple of 4", length)
	case length > ngMaxBlockLen:
		return 0, nil, off, s.formatError(off, nil, "corrupt block: block length %d too large", length)
	}
	rest := int(length) - 8
	var b []byte
	if rest <= s.br.Size() {
		b, err = s.br.Peek(rest)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, nil, off, err
		}
		s.br.Discard(rest)
	} else {
		if cap(s.big) < rest {
			s.big = make([]byte, rest)
		}
		b = s.big[:rest]
		if _, err := io.ReadFull(s.br, b); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, nil, off, err
		}
	}
	if tl := s.order.Uint32(b[rest-4:]); tl != length {
		return 0, nil, off, s.formatError(off, nil, "corrupt block: trailing block length %d does not match %d", tl, length)
	}
	return typ, b[:rest-4], off, nil
}

func (s *ngSource) sectionHeader(body []byte, off int64) error {
	major, minor := s.order.Uint16(body[4:6]), s.order.Uint16(body[6:8])
	if major != 1 {
		return s.formatError(off, nil, "unsupported pcapng version %d.%d", major, minor)
	}
	s.ifBase += int32(len(s.ifaces))
	s.ifaces = s.ifaces[:0]
	return nil
}

func (s *ngSource) interfaceDescription(body []byte, off int64) error {
	if len(body) < 8 {
		return s.formatError(off, nil, "corrupt interface description block: %d bytes", len(body))
	}
	f := ngIface{
		linkType: layers.LinkType(s.order.Uint16(body[0:2])),
		snaplen:  s.order.Uint32(body[4:8]),
		pow10:    true,
		exp:      6,
	}
	for opts := body[8:]; len(opts) >= 4; {
		code, n := s.order.Uint16(opts[0:2]), int(s.order.Uint16(opts[2:4]))
		if code == 0 || 4+n > len(opts) {
			break
		}
		v := opts[4 : 4+n]
		switch {
		case code == 9 && n >= 1: // if_tsresol
			f.pow10, f.exp = v[0]&0x80 == 0, v[0]&0x7f
			if f.pow10 && f.exp > 19 || !f.pow10 && f.exp > 63 {
				return s.formatError(off, nil, "interface %d: unsupported timestamp resolution %#x", len(s.ifaces), v[0])
			}
		case code == 14 && n >= 8: // if_tsoffset
			f.offset = int64(s.order.Uint64(v))
		case code == 2: // if_name
			f.name = string(bytes.TrimRight(v, "\x00"))
		}
		opts = opts[min(len(opts), 4+(n+3)&^3):]
	}
	if !Supported(f.linkType) {
		s.warnf("interface %d has unsupported link type %d (%s); its packets are counted but not decoded",
			len(s.ifaces), f.linkType, LinkTypeName(f.linkType))
	}
	s.ifaces = append(s.ifaces, f)
	return nil
}

func (s *ngSource) Next() (*Packet, error) {
	if s.done {
		return nil, s.err
	}
	for {
		typ, body, off, err := s.block()
		if err != nil {
			return nil, s.finish(off, err, "block")
		}
		var (
			iface           int
			ts              uint64
			capLen, wireLen uint32
			data            []byte
			hasTime         = true
			flags           uint32 // epb_flags
		)
		switch typ {
		case ngBlockEnhancedPacket, ngBlockPacket:
			if len(body) < 20 {
				return nil, s.finish(off, s.formatError(off, nil, "corrupt packet block: %d bytes", len(body)), "block")
			}
			if typ == ngBlockEnhancedPacket {
				iface = int(s.order.Uint32(body[0:4]))
			} else {
				iface = int(s.order.Uint16(body[0:2]))
			}
			ts = uint64(s.order.Uint32(body[4:8]))<<32 | uint64(s.order.Uint32(body[8:12]))
			capLen, wireLen = s.order.Uint32(body[12:16]), s.order.Uint32(body[16:20])
			if uint64(capLen) > uint64(len(body)-20) {
				return nil, s.finish(off, s.formatError(off, nil, "corrupt packet block: captured length %d exceeds block", capLen), "block")
			}
			data = body[20 : 20+capLen]
			flags = s.packetFlags(body[min(len(body), 20+int(capLen+3)&^3):])
		case ngBlockSimplePacket:
			if len(body) < 4 {
				return nil, s.finish(off, s.formatError(off, nil, "corrupt simple packet block: %d bytes", len(body)), "block")
			}
			hasTime = false
			wireLen = s.order.Uint32(body[0:4])
			capLen = min(wireLen, uint32(len(body)-4))
			if len(s.ifaces) > 0 && s.ifaces[0].snaplen != 0 {
				capLen = min(capLen, s.ifaces[0].snaplen)
			}
			data = body[4 : 4+capLen]
		case ngBlockInterface:
			if err := s.interfaceDescription(body, off); err != nil {
				return nil, s.finish(off, err, "block")
			}
			continue
		case ngBlockSectionHeader:
			if err := s.sectionHeader(body, off); err != nil {
				return nil, s.finish(off, err, "block")
			}
			continue
		case ngBlockDecryptionSecrets:
			if len(body) >= 8 {
				n := s.order.Uint32(body[4:8])
				if uint64(n) <= uint64(len(body)-8) {
					s.secrets = append(s.secrets, DecryptionSecret{
						Type: s.order.Uint32(body[0:4]),
						Data: append([]byte(nil), body[8:8+n]...),
					})
				}
			}
			continue
		default:
			// Statistics, name resolution, custom and unknown blocks.
			continue
		}
		if iface >= len(s.ifaces) {
			return nil, s.finish(off, s.formatError(off, nil, "packet for interface %d, but the section describes %d", iface, len(s.ifaces)), "block")
		}
		f := &s.ifaces[iface]
		var t time.Time
		if hasTime {
			t = f.time(ts)
		}
		if !f.seen {
			f.seen = true
			s.addLinkType(f.linkType)
		}
		s.count(t, int(capLen), int(wireLen))
		p := &s.pkt
		p.Frame = s.info.Packets
		p.Time = t
		p.CaptureLen = int(capLen)
		p.WireLen = int(wireLen)
		p.LinkType = f.linkType
		p.Data = data
		switch f.linkType {
		case layers.LinkTypeLinuxSLL2:
			// An interface of tshark or dumpcap -i any: the cooked
			// header names the real one.
			p.Iface = sll2Iface(data)
		case layers.LinkTypeLinuxSLL:
			p.Iface = sllDirection(data)
			p.Iface.ID, p.Iface.Known, p.Iface.Name = s.ifBase+int32(iface), true, f.name
		default:
			// The packet's direction, when the writer knew it (h2pcap
			// live from AF_PACKET's packet type, dumpcap on Linux).
			dir := flags & ngFlagDirection
			p.Iface = Iface{ID: s.ifBase + int32(iface), Known: true, In: dir == ngFlagInbound, Out: dir == ngFlagOutbound, Name: f.name}
		}
		return p, nil
	}
}

// The direction bits of epb_flags (pack_flags in the obsolete Packet
// Block), option 2: inbound, outbound, or 0 for not known.
const (
	ngOptionFlags   = 2
	ngFlagDirection = 0b11
	ngFlagInbound   = 0b01
	ngFlagOutbound  = 0b10
)

// packetFlags returns the epb_flags among a packet block's options, 0
// when it has none.
func (s *ngSource) packetFlags(opts []byte) uint32 {
	for len(opts) >= 4 {
		code, n := s.order.Uint16(opts[0:2]), int(s.order.Uint16(opts[2:4]))
		if code == 0 || 4+n > len(opts) {
			break
		}
		if code == ngOptionFlags && n == 4 {
			return s.order.Uint32(opts[4:8])
		}
		opts = opts[min(len(opts), 4+(n+3)&^3):]
	}
	return 0
}
