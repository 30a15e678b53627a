// Package jsonrow encodes the report's connection rows as the JSON report
// writes them (indented by four spaces under "connections"), into one
// buffer reused from row to row: a million rows cost their bytes written,
// not a million buffers.
//
// A model.Connection is encoded by row_gen.go, code written by ./gen from
// the model's types (go generate after changing one): each object at
// each depth has its function, its keys constants with their newline and
// indentation, so a row costs about its bytes' copying. Anything else,
// and a value with a MarshalJSON or MarshalText of its own inside a row,
// is encoded by goccy/go-json, which writes what encoding/json writes
// (TestRowAsMarshalIndent holds both to it).
//
// It owns the bytes of a row and nothing of the document around it
// (report.writeJSON splices the rows into the rest, which encoding/json
// writes), and it never decides what a row holds: the model does.
package jsonrow
