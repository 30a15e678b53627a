package verdict

import (
	"testing"

	"github.com/h2pcap/h2pcap/model"
)

// TestClientNets: the memo gives model.ClientNet's answer for every
// client, first seen or not.
func TestClientNets(t *testing.T) {
	var m clientNets
	for _, c := range []string{"198.18.0.7:40000", "198.18.0.7:40001", "198.18.1.9:1", "[2001:db8::5]:443", "[2001:db8::5]:444", "[::ffff:198.18.0.7]:5", "not-an-address", "x:y", "x:z", ""} {
		for range 2 {
			if got, want := m.of(c), model.ClientNet(c); got != want {
				t.Errorf("of(%q) = %q, want %q", c, got, want)
			}
		}
	}
}
