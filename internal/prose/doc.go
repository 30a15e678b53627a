// Package prose holds the few ways of writing a value that every stage's
// sentences share (a verdict's summary, a live notice, an inferred PING's
// reason), so that the same duration reads the same everywhere.
//
// It never builds a sentence itself: the stages do, with these words.
package prose
