// Package plot records, per connection, what the report's pictures draw:
// each direction's segments, the peer's ACK line and SACK blocks, and the
// GOAWAYs' times, decimated as they come so a connection of a million
// packets holds no more than a connection of a few thousand.
//
// It reads the TCP tracker's state and never changes it, and judges
// nothing: model.Plot is what it gives, package report draws it.
package plot
