package h2

import (
	"reflect"
	"slices"
	"testing"

	"golang.org/x/net/http2"
)

// TestResetAsNew holds a Stream Reset after another connection's bytes to
// what a new Stream emits: nothing of the first (its HPACK table, a hunt
// under way, a header block cut short, a larger frame limit) may leak
// into the second, whose buffers it reuses.
func TestResetAsNew(t *testing.T) {
	_, body := allTypes(t)
	withPreface := append([]byte(ClientPreface), body...)
	// From the PUSH_PROMISE on: its header block refers to the dynamic
	// table the frames before it filled.
	var fromPush []byte
	for _, r := range headerRecs(t, body) {
		if r.Type == http2.FramePushPromise {
			fromPush = body[r.Offset:]
		}
	}
	big := newWriter()
	must(t, big.fr.WriteData(1, false, make([]byte, 20000))) // over the initial frame limit
	tests := []struct {
		name        string
		first, then []byte
		firstCuts   []int
		firstOpts   Options
		opts        Options
	}{
		{"same stream twice", withPreface, withPreface, []int{30, 100}, Options{Client: true}, Options{Client: true}},
		// The second stream starts mid-block: a leaked dynamic table
		// would decode what a new Stream reports missing.
		{"table not kept", withPreface, fromPush, nil, Options{Client: true}, Options{Sync: true}},
		{"hunt not kept", body[5:], withPreface, nil, Options{}, Options{Client: true}},
		{"cut header block", withPreface[:len(ClientPreface)+250], body, nil, Options{Client: true}, Options{Sync: true}},
		{"frame limit not kept", withPreface, big.buf.Bytes(), nil, Options{Client: true, MaxFrameSize: 1 << 20}, Options{Sync: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fresh collector
			feed(NewStream(tt.opts), tt.then, []int{17, 64}, &fresh)

			s := NewStream(tt.firstOpts)
			var first collector
			feed(s, tt.first, tt.firstCuts, &first)
			if len(first.recs) == 0 && len(tt.first) > 100 {
				t.Fatal("the first stream emitted nothing: the case tests nothing")
			}
			// Reset for the next, as a pool's Stream is Reset when it
			// is put there and Reopened when it is taken.
			pooled := *s
			pooled.Reset(Options{})
			pooled.Reopen(tt.opts)
			s.Reset(tt.opts)
			if !reflect.DeepEqual(&pooled, s) {
				t.Errorf("Reset and Reopened:\n%+v\nReset:\n%+v", pooled, *s)
			}
			var reused collector
			feed(s, tt.then, []int{17, 64}, &reused)
			if !slices.Equal(reused.recs, fresh.recs) || len(fresh.recs) == 0 {
				t.Errorf("after Reset:\n%v\nnew Stream:\n%v", reused.recs, fresh.recs)
			}
			if s.Stats() != NewStreamStats(tt.opts, tt.then) {
				t.Errorf("stats after Reset %+v, new Stream's %+v", s.Stats(), NewStreamStats(tt.opts, tt.then))
			}
		})
	}
}

// NewStreamStats is the Stats of a new Stream fed b as TestResetAsNew
// feeds it.
func NewStreamStats(opts Options, b []byte) Stats {
	s := NewStream(opts)
	feed(s, b, []int{17, 64}, &collector{})
	return s.Stats()
}
