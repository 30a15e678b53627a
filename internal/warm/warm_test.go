package warm

import (
	"testing"
	"unsafe"
)

// Lines reads one word a cache line, from the first, and never past the
// object's end: the sum of the words it read.
func TestLines(t *testing.T) {
	tests := []struct {
		name  string
		words int // the object's size in words
		want  uintptr
	}{
		{"one word", 1, 1},
		{"one line", 8, 1},
		{"a line and a word", 9, 1 + 9},
		{"three lines", 24, 1 + 9 + 17},
		{"a partial last word", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Word i holds i+1: the sum names the words read.
			buf := make([]uintptr, tt.words+8)
			for i := range buf {
				buf[i] = uintptr(i + 1)
			}
			size := uintptr(tt.words) * unsafe.Sizeof(uintptr(0))
			if tt.words == 0 {
				size = 4 // less than a word: nothing read
			}
			if got := Lines(unsafe.Pointer(&buf[0]), size); got != tt.want {
				t.Errorf("Lines = %d, want %d", got, tt.want)
			}
		})
	}
	type obj struct{ a, b [9]uintptr }
	o := &obj{}
	o.a[0], o.a[8], o.b[7] = 1, 2, 4 // offsets 0, 64 and 128
	if got := Of(o); got != 7 {
		t.Errorf("Of = %d, want 7", got)
	}
	if got := Of[obj](nil); got != 0 {
		t.Errorf("Of(nil) = %d", got)
	}
	s := []uintptr{1, 0, 0, 0, 0, 0, 0, 0, 5, 7}
	if got := Slice(s[:9]); got != 6 {
		t.Errorf("Slice = %d, want 6 (elements 0 and 8, not 9 past its length)", got)
	}
	if got := Slice[uint32](nil); got != 0 {
		t.Errorf("Slice(nil) = %d", got)
	}
}
