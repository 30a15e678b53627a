package report

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestPlainTableAsTablewriter: plainTable writes what tablewriter does
// with t.table's options, box and Markdown, for random plain tables
// (empty cells and headers, one column, widths set by a header or by a
// cell, odd and even centring, a µ, an accent, a wide East Asian rune;
// RUNEWIDTH_EASTASIAN=1 makes µ two columns for both), and fitted drops the same columns for a
// terminal's width as fitTable's rendering did.
func TestPlainTableAsTablewriter(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("ab1-|*:.% xµé接")
	cell := func() string {
		n := rng.IntN(13)
		if rng.IntN(4) == 0 {
			n = 0
		}
		b := make([]rune, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return strings.TrimSpace(string(b))
	}
	for n := range 400 {
		ncols, nrows := 1+rng.IntN(6), 1+rng.IntN(5)
		cols := make([]column, ncols)
		header := make([]string, ncols)
		for i := range cols {
			header[i] = cell()
			cols[i] = column{name: header[i], drop: rng.IntN(4)}
		}
		rows := make([][]string, nrows)
		for r := range rows {
			rows[r] = make([]string, ncols)
			for i := range rows[r] {
				rows[r][i] = cell()
			}
		}
		if _, _, ok := plainWidths(header, rows); !ok {
			t.Fatalf("table %d: not plain: %q %q", n, header, rows)
		}
		for _, md := range []bool{false, true} {
			width := 0
			if !md && n%2 == 0 {
				width = 10 + rng.IntN(60)
			}
			var got, want bytes.Buffer
			(&text{w: &got, md: md, width: width}).table(header, rows)
			(&text{w: &want, md: md, width: width, tablewriter: true}).table(header, rows)
			if got.String() != want.String() {
				t.Fatalf("table %d (md %v): plainTable wrote\n%s\ntablewriter\n%s", n, md, got.String(), want.String())
			}
			got.Reset()
			want.Reset()
			(&text{w: &got, md: md, width: width}).fitted(cols, rows)
			(&text{w: &want, md: md, width: width, tablewriter: true}).fitted(cols, rows)
			if got.String() != want.String() {
				t.Fatalf("table %d (md %v, width %d): fitted wrote\n%s\nfitTable\n%s", n, md, width, got.String(), want.String())
			}
		}
	}
}

// TestPlainWidths: what tablewriter would write otherwise than as its
// bytes goes to it: a cell with a space at an end (trimmed), a non-ASCII
// or control byte (measured by display width, escapes), rows of another
// length, no rows.
func TestPlainWidths(t *testing.T) {
	tests := []struct {
		name   string
		header []string
		rows   [][]string
		want   []int // nil: not plain
	}{
		{"plain", []string{"#", "Client net"}, [][]string{{"10", "x"}, {"3", ""}}, []int{2, 10}},
		{"empty header", []string{""}, [][]string{{"abc"}}, []int{3}},
		{"leading space", []string{"a"}, [][]string{{" b"}}, nil},
		{"trailing space", []string{"a "}, [][]string{{"b"}}, nil},
		{"a duration", []string{"a"}, [][]string{{"12µs"}}, []int{4}},
		{"East Asian", []string{"a"}, [][]string{{"接続"}}, []int{4}},
		{"no-break space", []string{"a"}, [][]string{{"1\u00a0s"}}, nil},
		{"combining mark", []string{"a"}, [][]string{{"e\u0301"}}, []int{1}},
		{"invalid UTF-8", []string{"a"}, [][]string{{"\xff"}}, nil},
		{"newline", []string{"a"}, [][]string{{"b\nc"}}, nil},
		{"escape", []string{"a"}, [][]string{{"\x1b[1mb"}}, nil},
		{"short row", []string{"a", "b"}, [][]string{{"c"}}, nil},
		{"no rows", []string{"a"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, _, ok := plainWidths(tt.header, tt.rows)
			if ok != (tt.want != nil) || ok && !equalInts(ws, tt.want) {
				t.Errorf("plainWidths = %v, %v; want %v", ws, ok, tt.want)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
