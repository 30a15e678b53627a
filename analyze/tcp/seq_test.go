package tcp

import "testing"

func TestSeqCompare(t *testing.T) {
	for _, tt := range []struct {
		s, u       Seq
		lt, le, gt bool
	}{
		{1, 2, true, true, false},
		{2, 2, false, true, false},
		{3, 2, false, false, true},
		// Across the wrap: 0xfffffff0 is just before 0x10.
		{0xfffffff0, 0x10, true, true, false},
		{0x10, 0xfffffff0, false, false, true},
	} {
		if got := tt.s.LessThan(tt.u); got != tt.lt {
			t.Errorf("%#x.LessThan(%#x) = %v", tt.s, tt.u, got)
		}
		if got := tt.s.LessThanEq(tt.u); got != tt.le {
			t.Errorf("%#x.LessThanEq(%#x) = %v", tt.s, tt.u, got)
		}
		if got := tt.s.GreaterThan(tt.u); got != tt.gt {
			t.Errorf("%#x.GreaterThan(%#x) = %v", tt.s, tt.u, got)
		}
	}
	if got := Seq(0xfffffffe).Add(4); got != 2 {
		t.Errorf("Add across the wrap: %#x", got)
	}
	if got := Seq(0xfffffffe).Size(2); got != 4 {
		t.Errorf("Size across the wrap: %d", got)
	}
}
