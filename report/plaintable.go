package report

import (
	"bufio"
	"io"
	"slices"
	"unicode"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter/pkg/twwidth"
)

// Plain tables, written without tablewriter's work per cell.
//
// tablewriter builds a context for every cell (trimmed, measured for East
// Asian widths and escape sequences, padded, aligned) and keeps every
// row's until it renders: `--all` on 1M SYNs spent 33 of its 63 CPU
// seconds and gigabytes there, 55 µs a row, its connections table
// rendered whole. Most tables hold plain cells: printable runes, no
// space but ASCII's and none at either end, each as wide as
// tablewriter's twwidth says (a duration's µ is one column, two in an
// East Asian locale). Their layout is one width a column (the widest
// cell or header), headers centred, cells left-aligned, one space either
// side;
// plainTable writes those bytes directly, as tablewriter would (the box
// and the Markdown renderer with t.table's options), and anything else
// still goes through tablewriter. TestPlainTableAsTablewriter holds the
// two to the same bytes.

// plainWidths returns each column's width when the header and every row
// are plain (measure.width) and every row has the header's number of
// cells, and the measure that took them; false otherwise, or without
// rows (tablewriter renders those).
func plainWidths(header []string, rows [][]string) ([]int, *measure, bool) {
	if len(rows) == 0 || len(header) == 0 {
		return nil, nil, false
	}
	m := &measure{}
	ws := make([]int, len(header))
	for i, h := range header {
		w, ok := m.width(h)
		if !ok {
			return nil, nil, false
		}
		ws[i] = w
	}
	for _, row := range rows {
		if len(row) != len(header) {
			return nil, nil, false
		}
		for i, c := range row {
			w, ok := m.width(c)
			if !ok {
				return nil, nil, false
			}
			ws[i] = max(ws[i], w)
		}
	}
	return ws, m, true
}

// measure gives the columns a cell takes as tablewriter counts them
// (twwidth.Width: the sum of its runes' widths, East Asian ones by the
// locale), one lookup a distinct rune beyond ASCII (a duration's µ).
type measure struct {
	runes map[rune]int
}

// width is s's width, and whether s is plain: tablewriter writes it as
// its bytes. That is printable ASCII or graphic runes other than spaces,
// with no space at either end (it trims those).
func (m *measure) width(s string) (int, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return m.wide(s)
		}
		if c < 0x20 || c == 0x7f {
			return 0, false
		}
	}
	return len(s), len(s) == 0 || s[0] != ' ' && s[len(s)-1] != ' '
}

// wide is width for s with runes beyond ASCII.
func (m *measure) wide(s string) (int, bool) {
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return 0, false
	}
	n := 0
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			if r < 0x20 || r == 0x7f {
				return 0, false
			}
			n++
			continue
		case r == utf8.RuneError || !unicode.IsGraphic(r) || unicode.IsSpace(r):
			return 0, false
		}
		w, ok := m.runes[r]
		if !ok {
			if m.runes == nil {
				m.runes = map[rune]int{}
			}
			w = twwidth.Width(string(r))
			m.runes[r] = w
		}
		n += w
	}
	return n, true
}

// plainWidth is the width of the box table of columns ws, the kept ones
// (keep nil: all): every line of it has this many runes.
func plainWidth(ws []int, keep []bool) int {
	n := 1
	for i, w := range ws {
		if keep == nil || keep[i] {
			n += w + 3
		}
	}
	return n
}

// box-drawing runes of tablewriter's default (light) border.
const (
	boxH                      = "─"
	boxV                      = "│"
	boxTopL, boxTopM, boxTopR = "┌", "┬", "┐"
	boxMidL, boxMid, boxMidR  = "├", "┼", "┤"
	boxBotL, boxBotM, boxBotR = "└", "┴", "┘"
	spaces                    = "                                                                "
	mdAlignLeft               = ":"
	mdDashes                  = "----------------------------------------------------------------"
)

// plainTable writes header and rows, whose column widths plainWidths
// gave as ws, keeping the columns keep says (nil: all), as t.table
// renders them through tablewriter: a box, or Markdown with md.
func plainTable(w io.Writer, header []string, rows [][]string, ws []int, m *measure, keep []bool, md bool) error {
	b := bufio.NewWriterSize(w, 64<<10)
	if md && slices.Contains(ws, 0) {
		// tablewriter's Markdown gives an empty column one space.
		ws = slices.Clone(ws)
		for i := range ws {
			ws[i] = max(ws[i], 1)
		}
	}
	kept := func(i int) bool { return keep == nil || keep[i] }
	rule := func(l, m, r string) {
		b.WriteString(l)
		first := true
		for i, w := range ws {
			if !kept(i) {
				continue
			}
			if !first {
				b.WriteString(m)
			}
			first = false
			for range w + 2 {
				b.WriteString(boxH)
			}
		}
		b.WriteString(r)
		b.WriteByte('\n')
	}
	v := boxV
	if md {
		v = "|"
	}
	line := func(cells []string, centre bool) {
		b.WriteString(v)
		for i, c := range cells {
			if !kept(i) {
				continue
			}
			cw, _ := m.width(c)
			pad := ws[i] - cw
			left := 0
			if centre {
				left = pad / 2
			}
			b.WriteByte(' ')
			writeSpaces(b, left)
			b.WriteString(c)
			writeSpaces(b, pad-left)
			b.WriteByte(' ')
			b.WriteString(v)
		}
		b.WriteByte('\n')
	}
	if md {
		line(header, true)
		b.WriteString("|")
		for i, w := range ws {
			if kept(i) {
				b.WriteString(mdAlignLeft)
				writeRepeat(b, mdDashes, w+1)
				b.WriteString("|")
			}
		}
		b.WriteByte('\n')
	} else {
		rule(boxTopL, boxTopM, boxTopR)
		line(header, true)
		rule(boxMidL, boxMid, boxMidR)
	}
	for _, row := range rows {
		line(row, false)
	}
	if !md {
		rule(boxBotL, boxBotM, boxBotR)
	}
	return b.Flush()
}

func writeSpaces(b *bufio.Writer, n int) { writeRepeat(b, spaces, n) }

// writeRepeat writes n bytes of run, a string of one byte repeated.
func writeRepeat(b *bufio.Writer, run string, n int) {
	for n > 0 {
		k := min(n, len(run))
		b.WriteString(run[:k])
		n -= k
	}
}

// plainFits drops columns of ws, by their rank in cols, until the box
// table is no wider than width, as fitTable does by rendering: the keep
// mask (nil: all kept).
func plainFits(cols []column, ws []int, width int) []bool {
	if width <= 0 || plainWidth(ws, nil) <= width {
		return nil
	}
	keep := make([]bool, len(cols))
	for i := range keep {
		keep[i] = true
	}
	for plainWidth(ws, keep) > width {
		next := -1
		for i, c := range cols {
			if keep[i] && c.drop > 0 && (next < 0 || c.drop < cols[next].drop) {
				next = i
			}
		}
		if next < 0 {
			break // as narrow as it gets
		}
		keep[next] = false
	}
	return keep
}
