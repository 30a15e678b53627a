// Package oracle gives tests the reference they check h2pcap against:
// Wireshark's tshark. It is imported only by tests.
package oracle

import (
	"os"
	"os/exec"
	"testing"
)

// Tshark returns the path of tshark. Without it a test skips, except in
// CI (CI=true), where the oracle must be there: .ci/run installs it, and a
// skipped comparison would pass for a green one.
func Tshark(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("tshark")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("tshark is the oracle and CI=true, but: %v (make deps installs it)", err)
		}
		t.Skipf("tshark not installed: %v", err)
	}
	return path
}
