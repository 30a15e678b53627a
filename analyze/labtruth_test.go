package analyze

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// readTruthAs reads the truth.json at path as a T.
func readTruthAs[T any](t *testing.T, path string) T {
	t.Helper()
	var tr T
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return tr
}

// scenarioTruth is one lab scenario's truth.json, read as T.
type scenarioTruth[T any] struct {
	path  string // the truth.json
	truth T
}

// readLabTruths reads every testdata/pcaps/<scenario>/truth.json whose
// scenario directory matches dir (a filepath.Match pattern) as a T; the
// test is skipped when there is none.
func readLabTruths[T any](t *testing.T, dir string) []scenarioTruth[T] {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join("..", "testdata", "pcaps", dir, "truth.json"))
	if len(paths) == 0 {
		t.Skip("no lab captures")
	}
	out := make([]scenarioTruth[T], 0, len(paths))
	for _, p := range paths {
		out = append(out, scenarioTruth[T]{p, readTruthAs[T](t, p)})
	}
	return out
}
