package hops

// streamFlows is one point's open flows by the tcp.stream its analysis
// filed them under. Each segment looks its flow up here: a map was a
// seventh of the Placer's time at four points of many short
// connections, a lookup missing the cache each time. A point numbers its
// streams in order as they begin, and retires them in about that order:
// the open ones are a window of the numbers, kept in a slice from the
// lowest still open. A stream open far longer than those after it (one
// long-lived connection among many short ones) would stretch the window
// over every stream since; once the window is mostly empty it moves to
// old, a map, and the window starts past it: memory follows the open
// streams, not all of them.
type streamFlows struct {
	base int     // the stream of win[0]
	win  []*flow // streams base, base+1, ...; nil: not open
	live int     // entries of win not nil
	old  map[int]*flow
}

// minStreamWindow is the window's size below which it never moves
// streams to old: a few KB, whatever the share of them open.
const minStreamWindow = 4096

func (s *streamFlows) get(stream int) *flow {
	if i := stream - s.base; i >= 0 {
		if i < len(s.win) {
			return s.win[i]
		}
		return nil
	}
	return s.old[stream]
}

// set files stream under f (not nil).
func (s *streamFlows) set(stream int, f *flow) {
	i := stream - s.base
	if i < 0 {
		if s.old == nil {
			s.old = map[int]*flow{}
		}
		s.old[stream] = f
		return
	}
	if len(s.win) == 0 {
		// The first stream, or every one before retired: the window
		// starts here.
		s.base, i = stream, 0
	}
	for i >= len(s.win) {
		s.win = append(s.win, nil)
	}
	if s.win[i] == nil {
		s.live++
	}
	s.win[i] = f
}

// del forgets stream.
func (s *streamFlows) del(stream int) {
	i := stream - s.base
	if i < 0 {
		delete(s.old, stream)
		return
	}
	if i >= len(s.win) || s.win[i] == nil {
		return
	}
	s.win[i] = nil
	s.live--
	n := 0
	for n < len(s.win) && s.win[n] == nil {
		n++
	}
	if n > 0 {
		s.trim(n)
	}
	if len(s.win) >= minStreamWindow && s.live < len(s.win)/8 {
		// A few streams hold a long window open: those of its first
		// half go to old.
		half := len(s.win) / 2
		for k, f := range s.win[:half] {
			if f != nil {
				if s.old == nil {
					s.old = map[int]*flow{}
				}
				s.old[s.base+k] = f
				s.live--
			}
		}
		s.trim(half)
	}
}

// trim drops the window's first n entries. The slice's memory before
// its new start is taken again once appending outgrows it: append copies
// only the window.
func (s *streamFlows) trim(n int) {
	clear(s.win[:n]) // the collector scans the whole array
	s.base += n
	s.win = s.win[n:]
}
