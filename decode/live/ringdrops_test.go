package live

import "testing"

// The first ring's share of a socket's kernel drops: all of them while
// it is read, its own (counted at the grow) once the full ring replaced
// it, none for a socket that started full.
func TestFirstRingDrops(t *testing.T) {
	tests := []struct {
		name  string
		h     *handle
		total uint64
		want  uint64
	}{
		{"started full", &handle{}, 9, 0},
		{"small, not grown", &handle{small: true}, 9, 9},
		{"small, the full ring opening", &handle{small: true, frozen: true, frozenDrops: 4}, 9, 4},
		{"small, grown", &handle{small: true, grown: true, dropsBase: 4}, 9, 4},
		{"small, grown, none lost then", &handle{small: true, grown: true}, 9, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.h.firstRingDrops(tt.total); got != tt.want {
				t.Errorf("firstRingDrops(%d) = %d, want %d", tt.total, got, tt.want)
			}
		})
	}
}
