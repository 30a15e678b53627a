package tls

import (
	"encoding/binary"

	"github.com/h2pcap/h2pcap/decode"
)

// Meta says which captured TCP segment carried bytes: its position, the
// same type decode/h2 takes, so that decrypted bytes keep the segment that
// delivered their record.
type Meta = decode.Position

// RecordType is a TLS record's content type, as crypto/tls names them.
type RecordType uint8

const (
	RecordTypeChangeCipherSpec RecordType = 20
	RecordTypeAlert            RecordType = 21
	RecordTypeHandshake        RecordType = 22
	RecordTypeApplicationData  RecordType = 23
	RecordTypeHeartbeat        RecordType = 24
)

func (t RecordType) String() string {
	switch t {
	case RecordTypeChangeCipherSpec:
		return "change_cipher_spec"
	case RecordTypeAlert:
		return "alert"
	case RecordTypeHandshake:
		return "handshake"
	case RecordTypeApplicationData:
		return "application_data"
	case RecordTypeHeartbeat:
		return "heartbeat"
	}
	return "unknown"
}

const (
	recordHeaderLen = 5
	// MaxRecordPayload is the longest record payload accepted: 2^14 of
	// plaintext plus the 2048 bytes RFC 5246 allows for expansion (TLS 1.3
	// allows only 256, but a TLS 1.2 peer may use the rest).
	MaxRecordPayload = 1<<14 + 2048
	maxRecord        = recordHeaderLen + MaxRecordPayload
	// chunk bounds how much of one Data call is buffered at once.
	chunk = maxRecord
)

// Record is one TLS record of a direction.
type Record struct {
	Type    RecordType
	Version uint16 // legacy_record_version from the header
	Length  int    // payload length from the header
	Header  [5]byte
	// Payload is the record's payload as captured (ciphertext once the
	// direction encrypts). It aliases the Records' buffer: valid only
	// during the callback. Nil when Truncated.
	Payload []byte
	// Offset is the stream offset of the header: bytes of the direction
	// since the first one the Records was given, gaps included.
	Offset int64
	// Meta is the segment that completed the record, First the one that
	// held its header's first byte.
	Meta, First Meta
	// Truncated: a gap fell inside the payload, or the direction ended
	// inside it.
	Truncated bool
	// Resynced: the record was found by searching after a gap or at a start
	// that was not a record boundary; records between the last one emitted
	// and this one may have been lost, so a record sequence number is not
	// known.
	Resynced bool
}

// WireLen is the record's length on the wire, header included.
func (r *Record) WireLen() int { return recordHeaderLen + r.Length }

// RecordStats are a Records' counters.
type RecordStats struct {
	Records int64 // records emitted (Truncated ones included)
	Skipped int64 // bytes received but searched past, in no record emitted
	Lost    int64 // bytes the capture did not have (Gap)
	Resyncs int   // times record boundaries were found by search
	Desyncs int   // times an implausible header took the Records out of step
}

type recState uint8

const (
	recHunt recState = iota // searching for a record boundary
	recSync                 // in step: pos is a record header
	recSkip                 // in step, skipping a truncated record's payload
)

type metaAt struct {
	off int64
	m   Meta
}

// Records splits one direction's in-order bytes into TLS records. Like
// decode/h2's Stream it takes the bytes with Data, gaps with Gap and the end
// with End, and emits with callbacks. It buffers at most about two records:
// the record being completed, and while searching the window a candidate
// header and the header it chains to need. Not safe for concurrent use.
type Records struct {
	st recState
	// buf holds stream bytes from offset base; pos is the next offset the
	// parser looks at (a header in recSync, a candidate while hunting).
	buf   []byte
	base  int64
	pos   int64
	metas []metaAt
	// recSkip: the truncated record's header and where it ends.
	skip    Record
	skipEnd int64

	resynced bool // the next record emitted was found by search
	segEnd   bool // buf ends where a segment ends (see hunt)
	started  bool // bytes were seen: a start that is not a header needs a search
	last     Meta
	rec      Record
	stats    RecordStats
}

// NewRecords returns a Records for one direction. The first bytes are
// taken as a record boundary when they are a plausible handshake record
// header (the connection's start); otherwise the Records searches.
func NewRecords() *Records { return &Records{} }

// Stats returns the counters.
func (r *Records) Stats() RecordStats {
	return r.stats
}

// InSync reports whether record boundaries are known.
func (r *Records) InSync() bool { return r.st != recHunt }

// plausibleHeader reports whether b (at least 5 bytes) can be a record
// header: a known content type, a TLS 1.0-1.3 record version, and a length
// a record may have.
func plausibleHeader(b []byte) bool {
	if b[0] < 20 || b[0] > 24 || b[1] != 3 || b[2] < 1 || b[2] > 4 {
		return false
	}
	n := int(binary.BigEndian.Uint16(b[3:5]))
	return n > 0 && n <= MaxRecordPayload
}

// Data feeds the direction's next in-order bytes, all from the segment meta
// describes, and emits every record they complete.
func (r *Records) Data(b []byte, meta Meta, emit func(*Record)) {
	r.last = meta
	for len(b) > 0 {
		n := min(len(b), chunk)
		r.add(b[:n], meta)
		b = b[n:]
		r.segEnd = len(b) == 0
		r.process(emit)
	}
	r.segEnd = false
}

// Idle reports whether End would emit nothing and change no counter:
// every byte given was parsed, and no truncated record is being skipped.
func (r *Records) Idle() bool { return r.st != recSkip && r.pos == r.end() }

func (r *Records) end() int64 { return r.base + int64(len(r.buf)) }

func (r *Records) add(b []byte, meta Meta) {
	if r.st == recSkip {
		// Payload of a truncated record: drop it.
		n := min(int64(len(b)), r.skipEnd-r.end())
		r.base += n
		r.pos = r.base
		b = b[n:]
		if r.base == r.skipEnd {
			r.skip.Meta = meta // the segment that completed the record
		}
		if len(b) == 0 {
			return
		}
	}
	r.metas = append(r.metas, metaAt{off: r.end(), m: meta})
	r.buf = append(r.buf, b...)
}

// metaAt returns the meta of the segment that carried offset off.
func (r *Records) metaOf(off int64) Meta {
	m := r.last
	for i := len(r.metas) - 1; i >= 0; i-- {
		if r.metas[i].off <= off {
			return r.metas[i].m
		}
	}
	return m
}

func (r *Records) process(emit func(*Record)) {
	if !r.started {
		// The connection's start: a ClientHello or ServerHello record
		// header, with the message type after it.
		if len(r.buf) < recordHeaderLen+1 {
			return
		}
		r.started = true
		if b := r.buf; plausibleHeader(b) && b[0] == byte(RecordTypeHandshake) && (b[5] == 1 || b[5] == 2) {
			r.st = recSync
		}
	}
	for {
		switch r.st {
		case recSkip:
			if r.end() < r.skipEnd {
				r.compact()
				return
			}
			r.emitRec(&r.skip, emit)
			r.pos = r.skipEnd
			r.st = recSync
		case recSync:
			i := int(r.pos - r.base)
			if len(r.buf)-i < recordHeaderLen {
				r.compact()
				return
			}
			h := r.buf[i:]
			if !plausibleHeader(h) {
				r.stats.Desyncs++
				r.st = recHunt
				continue
			}
			n := int(binary.BigEndian.Uint16(h[3:5]))
			if len(h) < recordHeaderLen+n {
				r.compact()
				return
			}
			rec := &r.rec
			*rec = Record{
				Type:     RecordType(h[0]),
				Version:  binary.BigEndian.Uint16(h[1:3]),
				Length:   n,
				Payload:  h[recordHeaderLen : recordHeaderLen+n],
				Offset:   r.pos,
				First:    r.metaOf(r.pos),
				Meta:     r.metaOf(r.pos + int64(recordHeaderLen+n) - 1),
				Resynced: r.resynced,
			}
			copy(rec.Header[:], h[:recordHeaderLen])
			r.resynced = false
			r.pos += int64(recordHeaderLen + n)
			r.emitRec(rec, emit)
		case recHunt:
			if !r.hunt() {
				r.compact()
				return
			}
			r.stats.Resyncs++
			r.resynced = true
			r.st = recSync
		}
	}
}

func (r *Records) emitRec(rec *Record, emit func(*Record)) {
	r.stats.Records++
	emit(rec)
}

// hunt searches from pos for a record header confirmed by the next header
// it points to, and reports whether it found one (pos is then that header).
// It returns false when it needs more bytes; bytes ruled out are dropped.
//
// Why a chain of two (or one record ending with its segment): a ciphertext byte sequence passes plausibleHeader
// with a chance of about 5/256 * 1/256 * 4/256 * 0.28, about 3e-7 per
// offset; two in a row that point at each other about 1e-13.
func (r *Records) hunt() bool {
	for {
		i := int(r.pos - r.base)
		if len(r.buf)-i < recordHeaderLen {
			return false
		}
		h := r.buf[i:]
		if plausibleHeader(h) {
			n := recordHeaderLen + int(binary.BigEndian.Uint16(h[3:5]))
			if len(h) == n && r.segEnd {
				// The record ends exactly where a segment does: TLS
				// stacks write a record per write, and a chance match
				// is about 2e-11 (FindRecord). Waiting for the next
				// header instead would hold an idle connection's
				// record, a PING say, until the peer's answer passed it.
				return true
			}
			if len(h) < n+recordHeaderLen {
				return false // wait for the confirming header
			}
			if plausibleHeader(h[n:]) {
				return true
			}
		}
		r.pos++
		r.stats.Skipped++
	}
}

// compact drops the bytes before pos, keeping the buffer at most about two
// records.
func (r *Records) compact() {
	d := int(r.pos - r.base)
	if d <= 0 {
		return
	}
	if d > len(r.buf) {
		d = len(r.buf)
	}
	n := copy(r.buf, r.buf[d:])
	r.buf = r.buf[:n]
	r.base += int64(d)
	// Keep the meta of the segment holding the new first byte.
	j := 0
	for j+1 < len(r.metas) && r.metas[j+1].off <= r.base {
		j++
	}
	r.metas = append(r.metas[:0], r.metas[j:]...)
}

// Gap says n bytes of the direction were never captured, here. In step,
// the Records stays in step when the gap falls inside a record's payload
// (the record is emitted Truncated when its end is reached); a gap that
// takes a header makes it search again.
func (r *Records) Gap(n int, emit func(*Record)) {
	if n <= 0 {
		return
	}
	r.started = true
	r.stats.Lost += int64(n)
	gap := int64(n)
	switch r.st {
	case recSync:
		i := int(r.pos - r.base)
		h := r.buf[i:]
		if len(h) >= recordHeaderLen && plausibleHeader(h) {
			// The gap is inside this record's payload (or right after it).
			ln := int(binary.BigEndian.Uint16(h[3:5]))
			r.skip = Record{
				Type:      RecordType(h[0]),
				Version:   binary.BigEndian.Uint16(h[1:3]),
				Length:    ln,
				Offset:    r.pos,
				First:     r.metaOf(r.pos),
				Truncated: true,
				Resynced:  r.resynced,
			}
			copy(r.skip.Header[:], h[:recordHeaderLen])
			r.resynced = false
			r.skipEnd = r.pos + int64(recordHeaderLen+ln)
			gapEnd := r.end() + gap
			r.buf, r.metas = r.buf[:0], r.metas[:0]
			r.base = min(gapEnd, r.skipEnd)
			r.pos = r.base
			if gapEnd <= r.skipEnd {
				r.st = recSkip
				if gapEnd == r.skipEnd {
					r.skip.Meta = r.last
					r.emitRec(&r.skip, emit)
					r.st = recSync
				}
				return
			}
			r.skip.Meta = r.last
			r.emitRec(&r.skip, emit)
			r.base, r.pos = gapEnd, gapEnd
			r.st = recHunt
			return
		}
		// A header was cut: its bytes are skipped.
		r.stats.Skipped += int64(len(h))
	case recSkip:
		if r.end()+gap <= r.skipEnd {
			r.base += gap
			r.pos = r.base
			if r.base == r.skipEnd {
				r.skip.Meta = r.last
				r.process(emit)
			}
			return
		}
		gap -= r.skipEnd - r.end()
		r.skip.Meta = r.last
		r.emitRec(&r.skip, emit)
		r.base, r.pos = r.skipEnd, r.skipEnd
		r.buf, r.metas = r.buf[:0], r.metas[:0]
	case recHunt:
		r.stats.Skipped += int64(len(r.buf)) - (r.pos - r.base)
	}
	r.base = r.end() + gap
	if r.st == recSkip {
		r.base = r.skipEnd + gap
	}
	r.buf, r.metas = r.buf[:0], r.metas[:0]
	r.pos = r.base
	r.st = recHunt
}

// End says the direction ended. A record still being read is emitted
// Truncated; a search still going on accepts a candidate whose chain of
// headers runs to the last byte (the last record may be cut short).
func (r *Records) End(emit func(*Record)) {
	switch r.st {
	case recSkip:
		r.skip.Meta = r.last
		r.emitRec(&r.skip, emit)
	case recHunt:
		for i := int(r.pos - r.base); len(r.buf)-i >= recordHeaderLen; i++ {
			if chainsToEnd(r.buf[i:]) {
				r.stats.Skipped += int64(i) - (r.pos - r.base)
				r.pos = r.base + int64(i)
				r.stats.Resyncs++
				r.resynced = true
				r.st = recSync
				r.process(emit)
				r.endSync(emit)
				return
			}
		}
		r.stats.Skipped += int64(len(r.buf)) - (r.pos - r.base)
		r.pos = r.end()
		r.buf, r.metas = r.buf[:0], r.metas[:0]
		r.base = r.pos
	case recSync:
		r.endSync(emit)
	}
}

func (r *Records) endSync(emit func(*Record)) {
	i := int(r.pos - r.base)
	h := r.buf[i:]
	if len(h) == 0 {
		return
	}
	if len(h) >= recordHeaderLen && plausibleHeader(h) {
		rec := &r.rec
		*rec = Record{
			Type:      RecordType(h[0]),
			Version:   binary.BigEndian.Uint16(h[1:3]),
			Length:    int(binary.BigEndian.Uint16(h[3:5])),
			Offset:    r.pos,
			First:     r.metaOf(r.pos),
			Meta:      r.last,
			Truncated: true,
			Resynced:  r.resynced,
		}
		copy(rec.Header[:], h[:recordHeaderLen])
		r.emitRec(rec, emit)
	} else {
		r.stats.Skipped += int64(len(h))
	}
	r.pos = r.end()
	r.buf, r.metas = r.buf[:0], r.metas[:0]
	r.base = r.pos
}

// chainsToEnd reports whether b is a chain of plausible headers whose last
// record reaches or passes the end of b.
func chainsToEnd(b []byte) bool {
	for len(b) >= recordHeaderLen {
		if !plausibleHeader(b) {
			return false
		}
		n := recordHeaderLen + int(binary.BigEndian.Uint16(b[3:5]))
		if n >= len(b) {
			return true
		}
		b = b[n:]
	}
	return false // a cut header at the end: no confirmation
}

// Detect says whether a direction's first bytes look like TLS: a
// ClientHello or ServerHello record at the start, or (a capture begun
// mid-connection) a record header at the start chained to a second one.
// more is set when it cannot tell yet and more bytes would help. It lets
// a caller choose TLS for a connection on a port it does not know.
func Detect(b []byte) (ok, more bool) {
	if len(b) < recordHeaderLen+1 {
		return false, true
	}
	if !plausibleHeader(b) {
		return false, false
	}
	if b[0] == byte(RecordTypeHandshake) && (b[5] == typeClientHello || b[5] == typeServerHello) {
		return true, false
	}
	n := recordHeaderLen + int(binary.BigEndian.Uint16(b[3:5]))
	if len(b) < n+recordHeaderLen {
		return false, true
	}
	return plausibleHeader(b[n:]), false
}

// FindRecord returns the offset in b of the first TLS record header it
// can vouch for, or -1: a plausible header chained to a second one within
// b, or one whose record ends exactly where b ends (a segment that ends
// with a whole record: TLS stacks write a record per write, so segments
// end on record boundaries more often than not). It is how a capture that
// began mid-connection, in the middle of a record, finds TLS; b is one
// segment's payload.
//
// A ciphertext offset passes plausibleHeader with a chance of about 3e-7
// (see hunt); also pointing exactly at the end of b, about 2e-11, or at a
// second plausible header, about 1e-13.
func FindRecord(b []byte) int {
	for i := 0; i+recordHeaderLen <= len(b); i++ {
		h := b[i:]
		if !plausibleHeader(h) {
			continue
		}
		n := recordHeaderLen + int(binary.BigEndian.Uint16(h[3:5]))
		if n == len(h) || n+recordHeaderLen <= len(h) && plausibleHeader(h[n:]) {
			return i
		}
	}
	return -1
}

// IsHeader reports whether b starts with a plausible record header: a
// known content type, a TLS 1.0-1.3 version and a possible length. At the
// start of a segment it is already good evidence (see FindRecord): an
// HTTP/2 frame header cannot pass it, nor can HTTP/1 text.
func IsHeader(b []byte) bool { return len(b) >= recordHeaderLen && plausibleHeader(b) }
