package decode

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// readBufferSize is large so that a capture is read in few system calls
// and so that nearly every pcapng block can be served straight out of the
// buffer (see ngSource.block), and small enough that what one read brings
// is still in the core's cache (1 MB of L2 on the bench machine) when it
// is decoded, with several inputs read side by side (capture points): four
// points of the bench capture took 3.34 CPU s with 1 MiB buffers, 3.07
// with 256 KiB (medians of 5), one point the same.
const readBufferSize = 256 << 10

// FormatError reports a capture that cannot be read. Offset is the byte
// offset in the (decompressed) capture where the problem was found, or -1
// when it does not apply.
type FormatError struct {
	Path   string
	Offset int64
	Msg    string
	Err    error // underlying error, if any
}

func (e *FormatError) Error() string {
	if e.Offset < 0 {
		return e.Path + ": " + e.Msg
	}
	return e.Path + ": offset " + strconv.FormatInt(e.Offset, 10) + ": " + e.Msg
}

func (e *FormatError) Unwrap() error { return e.Err }

// ErrNotCapture is matched (with errors.Is) by the error Open returns for
// input that is neither pcap nor pcapng.
var ErrNotCapture = errors.New("not a pcap or pcapng file")

// countingReader counts the bytes handed to the bufio.Reader above it, so
// that the offset of the next unread byte is n minus what is still
// buffered.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// input is the part shared by the pcap and pcapng sources: the stacked
// readers, the report counters and the packet handed out by Next.
type input struct {
	name   string // for messages: the path, or "stdin"
	ctx    context.Context
	closer io.Closer
	cr     *countingReader
	br     *bufio.Reader
	info   InputInfo
	pkt    Packet
	done   bool  // Next returned a final error
	err    error // the final error, returned again by later calls
}

// offset returns the offset of the next unread byte in the capture stream.
func (in *input) offset() int64 { return in.cr.n - int64(in.br.Buffered()) }

func (in *input) Info() *InputInfo { return &in.info }

func (in *input) Close() error {
	if in.closer == nil {
		return nil
	}
	err := in.closer.Close()
	in.closer = nil
	return err
}

func (in *input) formatError(off int64, err error, format string, args ...any) *FormatError {
	return &FormatError{Path: in.name, Offset: off, Msg: fmt.Sprintf(format, args...), Err: err}
}

// count records one packet in the report. It is on the hot path.
func (in *input) count(t time.Time, capLen, wireLen int) {
	in.info.Count(t, capLen, wireLen)
}

func (in *input) addLinkType(lt layers.LinkType) {
	name := LinkTypeName(lt)
	for _, n := range in.info.LinkTypes {
		if n == name {
			return
		}
	}
	in.info.LinkTypes = append(in.info.LinkTypes, name)
}

func (in *input) warnf(format string, args ...any) {
	in.info.Warnings = append(in.info.Warnings, fmt.Sprintf(format, args...))
}

// finish ends the input after a read error at offset off, turning a
// capture cut off mid-packet into a normal end with a warning, and
// anything else into a FormatError. what names the unit that was being
// read ("packet", "block").
func (in *input) finish(off int64, err error, what string) error {
	in.done = true
	switch {
	case err == io.EOF:
		in.err = io.EOF
	case stopped(in.ctx, err):
		in.err = err
	case errors.Is(err, io.ErrUnexpectedEOF):
		in.warnf("capture cut off mid-%s at offset %d after %d packets", what, off, in.info.Packets)
		in.err = io.EOF
	case errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader):
		// Every packet was decompressed; only the trailer (or a second
		// member) is bad.
		in.warnf("gzip: %v after %d packets", err, in.info.Packets)
		in.err = io.EOF
	default:
		var fe *FormatError
		var ce flate.CorruptInputError
		var pe *os.PathError
		switch {
		case errors.As(err, &fe):
			in.err = fe
		case errors.As(err, &ce):
			in.err = in.formatError(off, err, "corrupt gzip data: %v", err)
		case errors.As(err, &pe):
			in.err = in.formatError(off, err, "read: %v", pe.Err)
		default:
			// The container reader's own complaint about a record.
			in.err = in.formatError(off, err, "corrupt %s: %v", what, err)
		}
	}
	return in.err
}

// Open opens a capture for reading. path "-" reads standard input. A
// gzip-compressed capture is decompressed transparently. input is stored
// in every Packet so that packets of several inputs can be told apart.
func Open(path string, input int) (Source, error) {
	return open(context.Background(), path, input)
}

func open(ctx context.Context, path string, input int) (Source, error) {
	var (
		r      io.Reader
		closer io.Closer
		name   = path
	)
	if path == "-" {
		r, name = os.Stdin, "stdin"
	} else {
		f, err := os.Open(path)
		if err != nil {
			// Keep the one-line "<path>: <reason>" form of every other
			// error; errors.Is(err, fs.ErrNotExist) still holds.
			var pe *os.PathError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%s: %w", path, pe.Err)
			}
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		r, closer = f, f
	}
	src, err := newSource(ctx, stoppable(ctx, r), name, input, readBufferSize)
	if err != nil {
		if closer != nil {
			closer.Close()
		}
		return nil, err
	}
	src.base().closer = closer
	src.base().info.Path = path
	return src, nil
}

// NewReader reads a capture from r; name is the path for Info and
// messages ("-" shows as "stdin" in messages, as with Open). It is Open
// for callers that already have a stream.
func NewReader(r io.Reader, name string, input int) (Source, error) {
	return newReader(context.Background(), r, name, input)
}

func newReader(ctx context.Context, r io.Reader, name string, input int) (Source, error) {
	msgName := name
	if name == "-" {
		msgName = "stdin"
	}
	src, err := newSource(ctx, stoppable(ctx, r), msgName, input, readBufferSize)
	if err != nil {
		return nil, err
	}
	src.base().info.Path = name
	return src, nil
}

type source interface {
	Source
	base() *input
}

// newSource detects the format of r. bufSize is the read buffer size; it
// must be at least 4 KiB so that pcapgo uses our bufio.Reader as is. ctx
// tells finish which error is a requested stop (see OpenContext); r has
// been made to return it already.
func newSource(ctx context.Context, r io.Reader, name string, idx, bufSize int) (source, error) {
	in := &input{name: name, ctx: ctx}
	in.cr = &countingReader{r: r}
	in.br = bufio.NewReaderSize(in.cr, bufSize)
	in.pkt.Input = idx

	magic, err := in.br.Peek(4)
	if len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(in.br)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, in.formatError(-1, err, "truncated gzip header")
			}
			return nil, in.formatError(-1, err, "gzip: %v", err)
		}
		in.cr = &countingReader{r: zr}
		in.br = bufio.NewReaderSize(in.cr, bufSize)
		magic, err = in.br.Peek(4)
		if err != nil && len(magic) < 4 && !errors.Is(err, io.EOF) {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, in.formatError(-1, err, "truncated gzip stream")
			}
			return nil, in.formatError(-1, err, "gzip: %v", err)
		}
	} else if err != nil && !errors.Is(err, io.EOF) {
		// A directory, or an I/O error: keep the "<path>: <reason>" form.
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(magic) == 0 {
		return nil, &FormatError{Path: name, Offset: -1, Msg: "empty file", Err: ErrNotCapture}
	}
	if len(magic) < 4 {
		return nil, &FormatError{Path: name, Offset: -1, Msg: ErrNotCapture.Error(), Err: ErrNotCapture}
	}
	switch binary.LittleEndian.Uint32(magic) {
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1:
		return newPcapSource(in)
	case ngBlockSectionHeader:
		return newNgSource(in)
	}
	return nil, &FormatError{Path: name, Offset: -1, Msg: ErrNotCapture.Error(), Err: ErrNotCapture}
}

// LinkTypeName returns tcpdump's name for a link type (as `tcpdump -L`
// and `capinfos` print it), or LINKTYPE_<n> for one it does not know.
func LinkTypeName(lt layers.LinkType) string {
	switch lt {
	case 0:
		return "NULL"
	case 1:
		return "EN10MB"
	case 12, 14, 101:
		return "RAW"
	case 105:
		return "IEEE802_11"
	case 108:
		return "LOOP"
	case 113:
		return "LINUX_SLL"
	case 127:
		return "IEEE802_11_RADIO"
	case 228:
		return "IPV4"
	case 229:
		return "IPV6"
	case 276:
		return "LINUX_SLL2"
	}
	return "LINKTYPE_" + strconv.Itoa(int(lt))
}

// Supported reports whether the Decoder understands frames of link type lt.
func Supported(lt layers.LinkType) bool {
	switch lt {
	case 0, 1, 12, 14, 101, 108, 113, 228, 229, 276:
		return true
	}
	return false
}
