package analyze

import (
	"net/netip"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/h2pcap/h2pcap/internal/oracle"
	"github.com/h2pcap/h2pcap/model"
)

// TestICMPRejectedLab: in multipoint-icmp the router rejects some of the
// client's data with ICMP administratively prohibited. From the client's
// capture alone, each connection with rejected packets has the suspect
// icmp_rejected and says how many, from whom, as tshark counts the ICMP
// errors quoting its port; the others do not.
func TestICMPRejectedLab(t *testing.T) {
	tshark := oracle.Tshark(t)
	path := filepath.Join(pcapRoot(), "multipoint-icmp", "client.pcap")
	out, err := exec.Command(tshark, "-n", "-r", path, "-Y", "icmp.type == 3", "-T", "fields", "-e", "tcp.srcport").Output()
	if err != nil {
		t.Skipf("no lab capture or tshark failed: %v", err)
	}
	want := map[string]int{} // client port -> ICMP errors quoting it
	for _, p := range strings.Fields(string(out)) {
		want[p]++
	}
	if len(want) == 0 {
		t.Fatal("tshark finds no ICMP destination unreachable in the capture")
	}
	r := verdictReport(t, path)
	for _, c := range r.Connections {
		port := netip.MustParseAddrPort(c.Client).Port()
		n := want[strconv.Itoa(int(port))]
		has := false
		for _, s := range c.Verdict.Suspects {
			has = has || s == model.SuspectICMPRejected
		}
		if has != (n > 0) {
			t.Errorf("port %d: suspect icmp_rejected %v, tshark counts %d ICMP errors quoting it; %s", port, has, n, c.Verdict.Summary)
			continue
		}
		if n == 0 {
			continue
		}
		for _, w := range []string{
			map[bool]string{true: " of the client's packets were answered", false: "1 of the client's packets was answered"}[n > 1],
			"with ICMP destination unreachable (administratively prohibited) by 198.18.1.1",
		} {
			if !strings.Contains(c.Verdict.Summary, w) {
				t.Errorf("port %d: summary lacks %q: %s", port, w, c.Verdict.Summary)
			}
		}
		if !strings.Contains(c.Verdict.Summary, "; "+strconv.Itoa(n)+" of the client's packets") {
			t.Errorf("port %d: summary does not count %d: %s", port, n, c.Verdict.Summary)
		}
	}
}
