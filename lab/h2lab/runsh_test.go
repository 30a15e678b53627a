package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestRunScript: the lab runner parses, and lists every scenario it has
// a function for (make lab needs root and minutes; this needs neither).
func TestRunScript(t *testing.T) {
	if out, err := exec.Command("bash", "-n", "../run.sh").CombinedOutput(); err != nil {
		t.Fatalf("bash -n lab/run.sh: %v\n%s", err, out)
	}
	out, err := exec.Command("bash", "../run.sh", "list").Output()
	if err != nil {
		t.Fatalf("lab/run.sh list: %v", err)
	}
	defs, err := exec.Command("bash", "-c", "grep -o '^sc_[a-z0-9-]*()' ../run.sh").Output()
	if err != nil {
		t.Fatal(err)
	}
	listed := strings.Fields(string(out))
	for _, d := range strings.Fields(string(defs)) {
		name := strings.TrimSuffix(strings.TrimPrefix(d, "sc_"), "()")
		found := false
		for _, l := range listed {
			found = found || l == name
		}
		if !found {
			t.Errorf("scenario %s has a function but is not listed", name)
		}
	}
}
