package analyze

import (
	"encoding/binary"

	"github.com/cespare/xxhash/v2"
)

// connIndex finds a 4-tuple's current connection (or the tombstone of a
// forgotten one). It is keyed by a 64-bit hash of the tuple, not the
// 40-byte tuple: a SYN scan opens a million connections, and a map of
// 48-byte entries spent more time growing (copying its tables into
// memory never touched before) than the connections cost to analyse.
// A connection found is checked against the tuple by its endpoints; a
// tuple whose hash a connection of another tuple holds (odds about
// 1e-13 per connection in a million) is kept in other, keyed by itself.
// A tombstone has no endpoints to check: a tuple sharing a forgotten
// connection's hash would read as that one's (its packets counted late)
// with those odds.
type connIndex struct {
	byHash map[uint64]*conn
	other  map[connKey]*conn // nil until a hash is shared
}

func newConnIndex() connIndex { return connIndex{byHash: map[uint64]*conn{}} }

// hash is k's 64-bit hash: xxhash of its fields (not its memory, whose
// padding bytes are undefined).
func (k *connKey) hash() uint64 {
	var b [40]byte
	copy(b[0:16], k.lo.addr[:])
	copy(b[16:32], k.hi.addr[:])
	binary.LittleEndian.PutUint16(b[32:], k.lo.port)
	binary.LittleEndian.PutUint16(b[34:], k.hi.port)
	if k.lo.v4 {
		b[36] = 1
	}
	if k.hi.v4 {
		b[37] = 1
	}
	return xxhash.Sum64(b[:])
}

// holds reports whether c (not a tombstone) is of tuple k.
func (c *conn) holds(k *connKey) bool {
	return keyOf(c.ep[sideA], c.ep[sideB]) == *k
}

// get returns k's connection, the tombstone gone, or nil.
func (x *connIndex) get(k connKey, gone *conn) *conn {
	c := x.byHash[k.hash()]
	if c != nil && c != gone && c.holds(&k) {
		return c
	}
	if x.other != nil {
		if o, ok := x.other[k]; ok {
			return o
		}
	}
	if c == gone {
		return gone
	}
	return nil
}

// set makes c (or gone) k's connection.
func (x *connIndex) set(k connKey, c, gone *conn) {
	h := k.hash()
	old := x.byHash[h]
	if old == nil || old == gone || old.holds(&k) {
		x.byHash[h] = c
		if x.other != nil {
			delete(x.other, k)
		}
		return
	}
	// Another tuple's connection holds the hash.
	if x.other == nil {
		x.other = map[connKey]*conn{}
	}
	x.other[k] = c
}
