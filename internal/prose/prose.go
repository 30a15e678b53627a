package prose

import (
	"fmt"
	"time"
)

// Duration writes d for a sentence: hours, minutes or seconds at the
// precision a reader needs for each ("1.5 h", "12 min", "45 s", "2.0 s"),
// milliseconds below a second.
func Duration(d time.Duration) string {
	switch {
	case d >= 2*time.Hour:
		return fmt.Sprintf("%.1f h", d.Hours())
	case d >= 2*time.Minute:
		return fmt.Sprintf("%.0f min", d.Minutes())
	case d >= 10*time.Second:
		return fmt.Sprintf("%.0f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
}
