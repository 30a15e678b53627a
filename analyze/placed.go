package analyze

import (
	"cmp"
	"encoding/binary"
	"slices"
	"time"

	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/model"
)

// What a multi-point analysis keeps of a forgotten connection
// (Options.ForgetPlaced).
//
// Each capture point has its own Analyzer; a hops.Placer compares the
// points' copies of each connection and, once it is done with one, tells
// each point's Analyzer whether anything of it will be placed (Placed).
// A healthy connection with nothing to place is forgotten as in one
// capture (forget.go), except for what the multi-point report still
// reads of its row: its stream, client, first input and frame, and its
// counters (hops.Result.Place makes the reference point's row's points
// of them); and what the summary reads of it where the reference point
// never saw it (ForgottenRows.Conn: its server, times, data segments).
// Those are packed in about 100 bytes, instead of its 7 KB of trackers.

// Values of conn.placed.
const (
	placedClean int8 = 1 // nothing of it to place
	placedDirty int8 = -1
)

// Placed records what the multi-point Placer found of the connection
// of tcp.stream stream once it compared it to its end: clean when it has
// nothing to place. Until then, Options.ForgetPlaced keeps it; a dirty
// one stays listed. A stream filed under two flows is dirty if either is.
func (a *Analyzer) Placed(stream int, clean bool) {
	if stream < 0 || stream >= len(a.all) {
		return
	}
	c := a.all[stream]
	if c == nil || c.forgotten {
		return
	}
	switch {
	case !clean:
		c.placed = placedDirty
	case c.placed == 0:
		c.placed = placedClean
	}
}

// Forgotten returns what Options.ForgetPlaced kept of the connections
// forgotten so far (hops.Forgotten), nil without it: those a sweep found
// due too (deferred forgetting). Valid until the next segment.
func (a *Analyzer) Forgotten() *ForgottenRows {
	if a.fg == nil || !a.fg.placed {
		return nil
	}
	a.catchUp()
	return &a.fg.rows
}

// ForgottenRows holds, packed, what a multi-point report reads of each
// forgotten connection's row.
type ForgottenRows struct {
	idx    []forgottenEntry
	chunks [][]byte
	// unsorted: idx is not in stream order (connections close in
	// another order than they open); Row sorts it.
	unsorted bool
	buf      []byte // add's, made again for each row
}

type forgottenEntry struct {
	stream int32
	chunk  int32
	off    int32
}

// forgottenChunk is the size of the blocks the packed rows are kept in:
// large enough to cost nothing per block, small enough that growing
// never copies much.
const forgottenChunk = 64 << 10

// add packs c's stream, client, first input and frame, and counters;
// then, for Conn, its server, start and end, whether its handshake was
// seen, and of its facts f its data segments and the server's TTL.
func (r *ForgottenRows) add(c *model.Connection, f *verdict.Facts) {
	b := binary.AppendVarint(r.buf[:0], int64(c.FirstInput))
	b = binary.AppendVarint(b, int64(c.FirstFrame))
	b = binary.AppendUvarint(b, uint64(len(c.Client)))
	b = append(b, c.Client...)
	b = appendDirStats(b, &c.TCP.ClientToServer)
	b = appendDirStats(b, &c.TCP.ServerToClient)
	b = binary.AppendUvarint(b, uint64(len(c.Server)))
	b = append(b, c.Server...)
	// Flags: 1 its handshake seen, 2 no start (a zero time's UnixNano
	// is undefined; 1970's is 0).
	var flags, start, end int64
	if c.Handshake.Seen {
		flags |= 1
	}
	if c.Start.IsZero() {
		flags |= 2
	} else {
		start, end = c.Start.UnixNano(), c.End.UnixNano()
	}
	b = binary.AppendVarint(b, start)
	b = binary.AppendVarint(b, end-start)
	b = binary.AppendVarint(b, flags)
	b = binary.AppendVarint(b, int64(f.Dir[model.ClientToServer].DataSegs))
	b = binary.AppendVarint(b, int64(f.Dir[model.ServerToClient].DataSegs))
	b = binary.AppendVarint(b, int64(f.Dir[model.ServerToClient].TTL))
	r.buf = b
	n := len(r.chunks)
	if n == 0 || len(r.chunks[n-1])+len(b) > cap(r.chunks[n-1]) {
		r.chunks = append(r.chunks, make([]byte, 0, max(forgottenChunk, len(b))))
		n++
	}
	last := &r.chunks[n-1]
	r.idx = append(r.idx, forgottenEntry{stream: int32(c.Stream), chunk: int32(n - 1), off: int32(len(*last))})
	*last = append(*last, b...)
	if k := len(r.idx); k > 1 && r.idx[k-2].stream > r.idx[k-1].stream {
		r.unsorted = true
	}
}

// Len is how many connections were forgotten.
func (r *ForgottenRows) Len() int {
	if r == nil {
		return 0
	}
	return len(r.idx)
}

// Row returns the forgotten connection of stream with only its Stream,
// Client, FirstInput, FirstFrame and TCP; nil if it was not forgotten.
func (r *ForgottenRows) Row(stream int) *model.Connection {
	b, ok := r.find(stream)
	if !ok {
		return nil
	}
	c, _ := readRow(stream, b)
	return c
}

// Conn returns what a multi-point report reads of the forgotten
// connection of stream when the reference point never saw it
// (verdict.ForgottenConn); ok false if it was not forgotten.
func (r *ForgottenRows) Conn(stream int) (fc verdict.ForgottenConn, ok bool) {
	b, ok := r.find(stream)
	if !ok {
		return fc, false
	}
	c, b := readRow(stream, b)
	n, m := binary.Uvarint(b)
	b = b[m:]
	c.Server, b = string(b[:n]), b[n:]
	var start, dur, flags, d0, d1, ttl int64
	start, b = varint(b)
	dur, b = varint(b)
	flags, b = varint(b)
	if flags&2 == 0 {
		c.Start, c.End = time.Unix(0, start).UTC(), time.Unix(0, start+dur).UTC()
	}
	c.Handshake.Seen = flags&1 != 0
	d0, b = varint(b)
	d1, b = varint(b)
	ttl, _ = varint(b)
	return verdict.ForgottenConn{Row: c, Data: [2]int{int(d0), int(d1)}, ServerTTL: int(ttl)}, true
}

// readRow unpacks the fields Row returns of packed row b, and returns
// the rest of b.
func readRow(stream int, b []byte) (*model.Connection, []byte) {
	c := &model.Connection{Stream: stream}
	var v int64
	v, b = varint(b)
	c.FirstInput = int(v)
	v, b = varint(b)
	c.FirstFrame = int(v)
	n, m := binary.Uvarint(b)
	b = b[m:]
	c.Client, b = string(b[:n]), b[n:]
	b = readDirStats(b, &c.TCP.ClientToServer)
	b = readDirStats(b, &c.TCP.ServerToClient)
	return c, b
}

// ClientIs says whether stream was forgotten and, if so, whether its
// row's Client is client: what hops.Result.Apply asks of every
// connection at every point, without making the row (four points of
// 50k short connections made 200k rows for it, 0.2 CPU s).
func (r *ForgottenRows) ClientIs(stream int, client []byte) (found, same bool) {
	b, ok := r.find(stream)
	if !ok {
		return false, false
	}
	_, b = varint(b) // FirstInput
	_, b = varint(b) // FirstFrame
	n, m := binary.Uvarint(b)
	return true, string(b[m:m+int(n)]) == string(client)
}

// find returns the packed row of stream, if it was forgotten.
func (r *ForgottenRows) find(stream int) ([]byte, bool) {
	if r == nil || len(r.idx) == 0 {
		return nil, false
	}
	if r.unsorted {
		slices.SortFunc(r.idx, func(a, b forgottenEntry) int { return cmp.Compare(a.stream, b.stream) })
		r.unsorted = false
	}
	k, ok := slices.BinarySearchFunc(r.idx, int32(stream), func(e forgottenEntry, st int32) int { return cmp.Compare(e.stream, st) })
	if !ok {
		return nil, false
	}
	e := r.idx[k]
	return r.chunks[e.chunk][e.off:], true
}

func varint(b []byte) (int64, []byte) {
	v, n := binary.Varint(b)
	return v, b[n:]
}

// appendDirStats packs every field of s: its integers as varints, its
// TTL list as its length plus one (0: nil, which the JSON writes as null)
// and its values. By hand, not by reflection (a quarter of forgetting a
// connection at four points): TestForgottenRows sets every field of
// model.DirStats by reflection, so a counter added there and not here
// fails it.
func appendDirStats(b []byte, s *model.DirStats) []byte {
	for _, v := range [...]int64{
		int64(s.Packets), s.Bytes, int64(s.Retransmissions), int64(s.FastRetransmissions),
		int64(s.SpuriousRetransmissions), int64(s.OutOfOrder), int64(s.LostSegments),
		int64(s.AckedUnseen), int64(s.DupAcks), int64(s.ZeroWindows), int64(s.ZeroWindowProbes),
		int64(s.WindowFull), int64(s.WindowUpdates), int64(s.KeepAlives), int64(s.KeepAliveAcks),
		int64(s.Resets), int64(s.Fins), int64(s.MissingBytes), int64(s.SACKBlocks),
	} {
		b = binary.AppendVarint(b, v)
	}
	if s.TTL == nil {
		return binary.AppendUvarint(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(s.TTL)+1))
	for _, t := range s.TTL {
		b = binary.AppendVarint(b, int64(t))
	}
	return b
}

// readDirStats unpacks what appendDirStats packed into s and returns the
// rest of b.
func readDirStats(b []byte, s *model.DirStats) []byte {
	next := func() int {
		var x int64
		x, b = varint(b)
		return int(x)
	}
	s.Packets = next()
	s.Bytes = int64(next())
	s.Retransmissions = next()
	s.FastRetransmissions = next()
	s.SpuriousRetransmissions = next()
	s.OutOfOrder = next()
	s.LostSegments = next()
	s.AckedUnseen = next()
	s.DupAcks = next()
	s.ZeroWindows = next()
	s.ZeroWindowProbes = next()
	s.WindowFull = next()
	s.WindowUpdates = next()
	s.KeepAlives = next()
	s.KeepAliveAcks = next()
	s.Resets = next()
	s.Fins = next()
	s.MissingBytes = next()
	s.SACKBlocks = next()
	n, m := binary.Uvarint(b)
	b = b[m:]
	if n == 0 {
		return b
	}
	s.TTL = make([]int, n-1)
	for j := range s.TTL {
		s.TTL[j] = next()
	}
	return b
}
