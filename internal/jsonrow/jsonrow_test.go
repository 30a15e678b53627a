package jsonrow

import (
	"bytes"
	"testing"

	fastjson "github.com/goccy/go-json"
)

func TestEncodeAsMarshalIndent(t *testing.T) {
	type row struct {
		A    int               `json:"a"`
		S    string            `json:"s"`
		L    []int             `json:"l"`
		M    map[string]string `json:"m,omitempty"`
		P    *float64          `json:"p"`
		Skip string            `json:"-"`
	}
	f := 1.5
	rows := []any{
		row{A: 1, S: "<tag> & \"quote\" é", L: []int{}, M: map[string]string{"b": "2", "a": "1"}, P: &f},
		row{S: "\u2028 line separator", L: []int{1, 2, 3}},
		&row{A: -7},
	}
	e := New()
	for i, r := range rows {
		want, err := fastjson.MarshalIndent(r, "    ", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.Encode(r)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("row %d:\n got %q\nwant %q", i, got, want)
		}
	}
}
