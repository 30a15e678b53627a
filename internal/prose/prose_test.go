package prose

import (
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{1500 * time.Microsecond, "2 ms"},
		{999 * time.Millisecond, "999 ms"},
		{2 * time.Second, "2.0 s"},
		{45 * time.Second, "45 s"},
		{12 * time.Minute, "12 min"},
		{90 * time.Minute, "90 min"},
		{3 * time.Hour, "3.0 h"},
	} {
		if got := Duration(tt.d); got != tt.want {
			t.Errorf("Duration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
