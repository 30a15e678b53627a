package verdict

import (
	"testing"

	"github.com/h2pcap/h2pcap/model"
)

func TestEvidenceFilter(t *testing.T) {
	for _, tc := range []struct {
		name string
		ev   []model.Evidence
		want string
	}{
		{"none", nil, "tcp.stream eq 3"},
		{"frames", []model.Evidence{{Frame: 42}, {Frame: 43}, {Frame: 87}}, "frame.number in {42 43 87}"},
		// Frame numbers restart with each input: only one input's fit.
		{"two inputs", []model.Evidence{{Input: 1, Frame: 7}, {Input: 2, Frame: 1}, {Input: 1, Frame: 9}}, "frame.number in {7 9}"},
		{"inferred ack without frame", []model.Evidence{{Frame: 0}}, "tcp.stream eq 3"},
	} {
		if got := evidenceFilter(3, tc.ev); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}
