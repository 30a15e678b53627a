// Package warm brings memory into the processor's caches ahead of its
// use, by loads. It owns no state and never changes what it reads: a
// caller that knows which object it will read next (the connection a
// forgetting sweep judges next) reads a word of each of its cache lines
// while it still works on the one before, so that the misses overlap one
// another instead of each stalling the judging in turn.
package warm
