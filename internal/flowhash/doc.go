// Package flowhash hashes TCP endpoints and fixed-size fields into 64
// bits, for the tables that are looked up once per packet (a connection
// by its 4-tuple: package analyze's connIndex; a sender by its direction:
// package decode's copy filter). It is a few
// multiplications per word, where hashing the same fields laid out in a
// buffer (xxhash) took building the buffer and then most of the lookup's
// time.
//
// It owns the hash values and nothing of the tables: a table that uses
// them checks what it finds against the key it asked for (a hash is not
// an identity), or says what a collision costs. The hashes are not keyed:
// a capture crafted to collide them makes lookups slower or, where a
// table keeps only the hash, costs what that table says, as any fixed
// hash would. A chain of Mix is latency-bound: over more than a few words
// (the copy filter's fingerprint of a segment) xxhash over a buffer is
// faster, and is used there.
package flowhash
