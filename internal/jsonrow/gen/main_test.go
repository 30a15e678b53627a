package main

import (
	"bytes"
	"os"
	"testing"
)

// TestGeneratedUpToDate fails when ../row_gen.go is not what gen writes
// from the model's types as they are: run go generate in internal/jsonrow.
func TestGeneratedUpToDate(t *testing.T) {
	want, err := source()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../row_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("internal/jsonrow/row_gen.go is not what ./gen writes from the model: run go generate in internal/jsonrow")
	}
}
