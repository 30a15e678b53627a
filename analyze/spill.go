package analyze

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/h2pcap/h2pcap/internal/jsonrow"
	"github.com/h2pcap/h2pcap/model"
)

// rowSpill keeps the JSON rows of forgotten connections in a temporary
// file (Options.SpillRows), so a JSON report of a million connections
// holds 16 bytes per closed connection in memory instead of the
// connection. The file is unlinked as soon as it is made: it goes away
// with the process, whatever way it ends.
type rowSpill struct {
	f   *os.File
	w   *bufio.Writer
	off int64
	idx []spillEntry
	err error // the first write error; Rows returns it
	enc *jsonrow.Encoder
}

type spillEntry struct {
	stream int32
	n      int32
	off    int64
}

func newRowSpill() (*rowSpill, error) {
	f, err := os.CreateTemp("", "h2pcap-rows-*")
	if err != nil {
		return nil, fmt.Errorf("spill file for the JSON rows: %w", err)
	}
	os.Remove(f.Name())
	return &rowSpill{f: f, w: bufio.NewWriterSize(f, 1<<20), enc: jsonrow.New()}, nil
}

// add writes c's row as the JSON report would.
func (s *rowSpill) add(c *model.Connection) {
	if s.err != nil {
		return
	}
	b, err := s.enc.Encode(c)
	if err != nil {
		s.err = fmt.Errorf("spill file: %w", err)
		return
	}
	s.addRow(c.Stream, b)
}

// addRow writes the row of tcp.stream stream, encoded as add encodes it
// (a shard's encoder made it: Analyzer.judgeForget).
func (s *rowSpill) addRow(stream int, b []byte) {
	if s.err != nil {
		return
	}
	if _, err := s.w.Write(b); err != nil {
		s.err = fmt.Errorf("spill file: %w", err)
		return
	}
	s.idx = append(s.idx, spillEntry{stream: int32(stream), n: int32(len(b)), off: s.off})
	s.off += int64(len(b))
}

// Len is the number of rows spilled.
func (s *rowSpill) Len() int { return len(s.idx) }

// Rows gives the rows in stream order (model.RowSource).
func (s *rowSpill) Rows(fn func(stream int, row []byte) error) error {
	if s.err != nil {
		return s.err
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("spill file: %w", err)
	}
	slices.SortFunc(s.idx, func(a, b spillEntry) int { return cmp.Compare(a.stream, b.stream) })
	// Rows spilled in stream order (most are) follow each other in the
	// file: read them through one buffer rather than a read each.
	r := bufio.NewReaderSize(nil, 1<<20)
	at := int64(-1) // the file offset r reads next; -1: none
	var buf []byte
	for _, e := range s.idx {
		buf = slices.Grow(buf[:0], int(e.n))[:e.n]
		if e.off != at {
			r.Reset(io.NewSectionReader(s.f, e.off, s.off-e.off))
		}
		if _, err := io.ReadFull(r, buf); err != nil {
			return fmt.Errorf("spill file: %w", err)
		}
		at = e.off + int64(e.n)
		if err := fn(int(e.stream), buf); err != nil {
			return err
		}
	}
	return nil
}

// Close removes the spill file.
func (s *rowSpill) Close() error { return s.f.Close() }
