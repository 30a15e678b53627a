package analyze

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/klauspost/compress/s2"

	"github.com/h2pcap/h2pcap/internal/jsonrow"
	"github.com/h2pcap/h2pcap/model"
)

// rowSpill keeps the JSON rows of forgotten connections in a temporary
// file (Options.SpillRows), so a JSON report of a million connections
// holds 16 bytes per closed connection in memory instead of the
// connection. The file is unlinked as soon as it is made: it goes away
// with the process, whatever way it ends.
//
// The rows go to the file in blocks compressed with S2 (indented JSON
// rows shrink about tenfold): writing them and reading them back was
// most of a JSON report's system time (200k short connections: 1 GB
// written and read again, 2.5 s of write calls), where compressing and
// decompressing costs a fraction of a second.
type rowSpill struct {
	f      *os.File
	off    int64   // the file's size
	blocks []int64 // each block's offset in the file; its end is the next's
	cur    []byte  // the block being filled, uncompressed
	zbuf   []byte
	idx    []spillEntry   // the rows of the chunk being filled
	full   [][]spillEntry // full chunks of idx, spillIdxChunk rows each
	n      int            // rows in full
	err    error          // the first write error; Rows returns it
	enc    *jsonrow.Encoder
}

// spillEntry is a row: n bytes at off in the block numbered block.
type spillEntry struct {
	stream int32
	n      int32
	block  int32
	off    int32
}

// spillBlock is the size of the uncompressed blocks: a few hundred rows,
// large enough to compress well, small enough that the few kept at
// once (spillCache) cost little.
const spillBlock = 1 << 20

// spillCache is how many decompressed blocks Rows keeps: rows are read
// in stream order, and a connection closes later than those opened
// after it by its lifetime, so a row's block is near the ones before.
const spillCache = 8

func newRowSpill() (*rowSpill, error) {
	f, err := os.CreateTemp("", "h2pcap-rows-*")
	if err != nil {
		return nil, fmt.Errorf("spill file for the JSON rows: %w", err)
	}
	os.Remove(f.Name())
	return &rowSpill{f: f, enc: jsonrow.New()}, nil
}

// add writes c's row as the JSON report would: encoded straight into
// the block being filled (a copy of every row from the encoder's buffer
// was a tenth of a JSON report's memmove), which is compressed and
// written once a row takes it to spillBlock.
func (s *rowSpill) add(c *model.Connection) {
	if s.err != nil {
		return
	}
	off := s.block()
	b, err := s.enc.AppendRow(s.cur, c)
	if err != nil {
		s.err = fmt.Errorf("spill file: %w", err)
		return
	}
	s.cur = b
	s.filed(c.Stream, off)
}

// addRow writes the row of tcp.stream stream, encoded as add encodes it
// (a shard's encoder made it: Analyzer.judgeForget).
func (s *rowSpill) addRow(stream int, b []byte) {
	if s.err != nil {
		return
	}
	off := s.block()
	s.cur = append(s.cur, b...)
	s.filed(stream, off)
}

// spillSlack is room past spillBlock in a block's buffer for the row that
// fills it, so that the row seldom makes append copy the block.
const spillSlack = 64 << 10

// block returns where the next row goes in the block being filled,
// making its buffer at the first row.
func (s *rowSpill) block() int {
	if s.cur == nil {
		s.cur = make([]byte, 0, spillBlock+spillSlack)
	}
	return len(s.cur)
}

// filed indexes the row of tcp.stream stream just written at off in the
// block being filled, and writes the block once it reaches spillBlock.
func (s *rowSpill) filed(stream, off int) {
	if len(s.idx) == cap(s.idx) && len(s.idx) > 0 {
		s.full, s.n = append(s.full, s.idx), s.n+len(s.idx)
		s.idx = nil
	}
	if s.idx == nil {
		s.idx = make([]spillEntry, 0, spillIdxChunk)
	}
	s.idx = append(s.idx, spillEntry{stream: int32(stream), n: int32(len(s.cur) - off), block: int32(len(s.blocks)), off: int32(off)})
	if len(s.cur) >= spillBlock {
		s.flush()
	}
}

// flush compresses and writes the block being filled.
func (s *rowSpill) flush() {
	if len(s.cur) == 0 || s.err != nil {
		return
	}
	s.zbuf = s2.Encode(s.zbuf[:cap(s.zbuf)], s.cur)
	if _, err := s.f.WriteAt(s.zbuf, s.off); err != nil {
		s.err = fmt.Errorf("spill file: %w", err)
		return
	}
	s.blocks = append(s.blocks, s.off)
	s.off += int64(len(s.zbuf))
	s.cur = s.cur[:0]
}

// Len is the number of rows spilled.
func (s *rowSpill) Len() int { return s.n + len(s.idx) }

// spillIdxChunk is how many rows' entries a chunk of the index holds
// (1 MB): a million rows appended to one slice copied it at each growth,
// into memory never touched before (0.3 CPU s of 1M SYNs in JSON); the
// chunks are put together once, to be sorted, when the rows are read.
const spillIdxChunk = 1 << 16

// Rows gives the rows in stream order (model.RowSource).
func (s *rowSpill) Rows(fn func(stream int, row []byte) error) error {
	s.flush()
	if s.err != nil {
		return s.err
	}
	s.cur = nil
	if len(s.full) > 0 {
		all := make([]spillEntry, 0, s.Len())
		for _, c := range s.full {
			all = append(all, c...)
		}
		s.idx, s.full, s.n = append(all, s.idx...), nil, 0
	}
	slices.SortFunc(s.idx, func(a, b spillEntry) int { return cmp.Compare(a.stream, b.stream) })
	type cached struct {
		block int32
		data  []byte
		used  int
	}
	cache := make([]cached, 0, spillCache)
	var z []byte
	tick := 0
	for _, e := range s.idx {
		tick++
		k := slices.IndexFunc(cache, func(c cached) bool { return c.block == e.block })
		if k < 0 {
			end := s.off
			if int(e.block)+1 < len(s.blocks) {
				end = s.blocks[e.block+1]
			}
			z = slices.Grow(z[:0], int(end-s.blocks[e.block]))[:end-s.blocks[e.block]]
			if _, err := s.f.ReadAt(z, s.blocks[e.block]); err != nil && err != io.EOF {
				return fmt.Errorf("spill file: %w", err)
			}
			var into []byte
			if len(cache) < spillCache {
				cache = append(cache, cached{})
				k = len(cache) - 1
			} else {
				k = 0
				for i := range cache {
					if cache[i].used < cache[k].used {
						k = i
					}
				}
				into = cache[k].data
			}
			n, err := s2.DecodedLen(z)
			if err != nil {
				return fmt.Errorf("spill file: block %d: %w", e.block, err)
			}
			data, err := s2.Decode(slices.Grow(into[:0], n)[:n], z)
			if err != nil {
				return fmt.Errorf("spill file: block %d: %w", e.block, err)
			}
			cache[k] = cached{block: e.block, data: data}
		}
		cache[k].used = tick
		if err := fn(int(e.stream), cache[k].data[e.off:e.off+e.n]); err != nil {
			return err
		}
	}
	return nil
}

// Close removes the spill file.
func (s *rowSpill) Close() error { return s.f.Close() }
