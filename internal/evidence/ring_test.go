package evidence

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"
)

// TestRingBound: whatever the packet sizes, the ring keeps the newest
// packets, in order and intact, within its size, and fills most of it.
func TestRingBound(t *testing.T) {
	tests := []struct {
		name     string
		size     int
		min, max int // packet sizes
	}{
		{"small packets", MinSize, 54, 60},
		{"mixed", MinSize, 54, 1514},
		{"jumbo", MinSize, 9000, 9018},
		{"odd sizes, bigger ring", 3*MinSize + 13, 1, 3000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRing(tt.size)
			rng := rand.New(rand.NewPCG(1, 2))
			type sent struct {
				data []byte
				at   time.Time
			}
			var all []sent
			t0 := time.Unix(1_800_000_000, 0)
			for i := 0; i < 5000; i++ {
				n := tt.min + rng.IntN(tt.max-tt.min+1)
				b := make([]byte, n)
				for j := range b {
					b[j] = byte(i + j)
				}
				at := t0.Add(time.Duration(i) * time.Millisecond)
				r.Add(at, i%3, n+4, b)
				all = append(all, sent{b, at})

				if i%97 != 0 && i != 4999 {
					continue
				}
				// The ring holds a suffix of what was sent.
				held, bytesHeld := 0, 0
				first := len(all) - r.Len()
				r.Each(func(p *Packet) bool {
					w := all[first+held]
					if !bytes.Equal(p.Data, w.data) || !p.Time.Equal(w.at) || p.WireLen != len(w.data)+4 || p.Interface != (first+held)%3 {
						t.Fatalf("after %d packets: packet %d of the ring is not packet %d", i+1, held, first+held)
					}
					held++
					bytesHeld += (hdrLen + len(p.Data) + 7) &^ 7
					return true
				})
				if held != r.Len() {
					t.Fatalf("Each gave %d packets, Len %d", held, r.Len())
				}
				if bytesHeld > r.Size() {
					t.Fatalf("%d bytes held in a ring of %d", bytesHeld, r.Size())
				}
				// Full once it wrapped: at most two packets' room (the one
				// that did not fit before the end, the one evicted for it) unused.
				if sentBytes := i * (hdrLen + tt.min); sentBytes > 2*r.Size() && bytesHeld < r.Size()-2*(hdrLen+tt.max+8) {
					t.Fatalf("after %d packets only %d of %d bytes used", i+1, bytesHeld, r.Size())
				}
			}
			if len(r.buf) > tt.size && tt.size >= MinSize {
				t.Errorf("buffer %d bytes for a ring of %d", len(r.buf), tt.size)
			}
		})
	}
}

// TestRingTooBig: a packet over half the ring is counted, not kept, and
// evicts nothing.
func TestRingTooBig(t *testing.T) {
	r := NewRing(MinSize)
	r.Add(time.Unix(1, 0), 0, 100, make([]byte, 100))
	r.Add(time.Unix(2, 0), 0, MinSize, make([]byte, MinSize/2+1))
	if r.Len() != 1 || r.Dropped() != 1 {
		t.Errorf("Len %d, Dropped %d", r.Len(), r.Dropped())
	}
}

// TestRingAddAllocs: adding a packet allocates nothing.
func TestRingAddAllocs(t *testing.T) {
	r := NewRing(MinSize)
	b := make([]byte, 1500)
	now := time.Unix(1, 0)
	if n := testing.AllocsPerRun(1000, func() { r.Add(now, 0, 1500, b) }); n != 0 {
		t.Errorf("%v allocations per Add", n)
	}
}
