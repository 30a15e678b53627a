package report

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// Fitting the terminal. A table too wide for the terminal loses columns
// in the order its fit list gives (the least needed first) until it fits;
// what identifies a connection and what became of it stay. Findings and
// the headline wrap at the width, continuation lines indented under their
// first. Width 0 (pipes, -o files) keeps every column and every line whole.

// column is a table column with the rank at which it is dropped to fit a
// narrow terminal: 0 never, else lower ranks go first.
type column struct {
	name string
	drop int
}

// fitTable renders header and rows as a table no wider than width (0: no
// limit), dropping columns by rank; it returns the rendered table.
func (t *text) fitTable(cols []column, rows [][]string) []byte {
	keep := make([]bool, len(cols))
	for i := range keep {
		keep[i] = true
	}
	for {
		out := t.render(cols, rows, keep)
		if t.width <= 0 || t.md || maxLineWidth(out) <= t.width {
			return out
		}
		next := -1
		for i, c := range cols {
			if keep[i] && c.drop > 0 && (next < 0 || c.drop < cols[next].drop) {
				next = i
			}
		}
		if next < 0 {
			return out // as narrow as it gets
		}
		keep[next] = false
	}
}

func (t *text) render(cols []column, rows [][]string, keep []bool) []byte {
	var header []string
	for i, c := range cols {
		if keep[i] {
			header = append(header, c.name)
		}
	}
	kept := make([][]string, len(rows))
	for r, row := range rows {
		for i, cell := range row {
			if keep[i] {
				kept[r] = append(kept[r], cell)
			}
		}
	}
	var b bytes.Buffer
	inner := &text{w: &b, md: t.md, tablewriter: t.tablewriter}
	inner.table(header, kept)
	if inner.err != nil && t.err == nil {
		t.err = inner.err
	}
	return b.Bytes()
}

func maxLineWidth(b []byte) int {
	w := 0
	for _, l := range strings.Split(string(b), "\n") {
		w = max(w, utf8.RuneCountInString(l))
	}
	return w
}

// wrap breaks each line of s longer than width at spaces; a continuation
// line is indented two more than the line it continues. A word longer
// than a line stays whole.
func wrap(s string, width int) string {
	if width <= 0 {
		return s
	}
	var b strings.Builder
	lines := strings.SplitAfter(s, "\n")
	for _, line := range lines {
		nl := strings.HasSuffix(line, "\n")
		line = strings.TrimSuffix(line, "\n")
		if utf8.RuneCountInString(line) <= width {
			b.WriteString(line)
		} else {
			indent := len(line) - len(strings.TrimLeft(line, " "))
			cont := strings.Repeat(" ", min(indent+2, width/2))
			cur := line[:indent]
			n := indent
			first := true
			for _, word := range strings.Fields(line[indent:]) {
				wl := utf8.RuneCountInString(word)
				if !first && n+1+wl > width {
					b.WriteString(cur)
					b.WriteByte('\n')
					cur, n = cont+word, len(cont)+wl
					continue
				}
				if !first {
					cur += " "
					n++
				}
				cur += word
				n += wl
				first = false
			}
			b.WriteString(cur)
		}
		if nl {
			b.WriteByte('\n')
		}
	}
	return b.String()
}
