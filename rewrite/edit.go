package rewrite

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Edit is one change a playbook makes, described for people.
type Edit struct {
	Line        int    `json:"line"`
	Description string `json:"description"`
}

// textEdit replaces the bytes [start,end) of a line range with text. A pure
// insertion has start == end. Offsets are byte offsets into the file.
type textEdit struct {
	start, end int
	text       string
	why        Edit
}

// doc is a file's bytes with a line index, and the edits pending on it.
type doc struct {
	src   []byte
	str   string // src as a string, so lines are sliced without copying
	lines []int  // byte offset of the start of each line (0-based line index)
	nl    string
	edits []textEdit
}

func newDoc(src []byte) *doc {
	d := &doc{src: src, str: string(src), nl: "\n"}
	d.lines = make([]int, 1, bytes.Count(src, []byte{'\n'})+1)
	for i, c := range src {
		if c == '\n' {
			d.lines = append(d.lines, i+1)
		}
	}
	if bytes.Contains(src, []byte("\r\n")) {
		d.nl = "\r\n"
	}
	return d
}

// numLines is the number of lines, counting a last line without newline.
func (d *doc) numLines() int {
	if d.lines[len(d.lines)-1] == len(d.src) {
		return len(d.lines) - 1
	}
	return len(d.lines)
}

// line returns line n (1-based) without its line ending.
func (d *doc) line(n int) string {
	if n < 1 || n > d.numLines() {
		return ""
	}
	start := d.lines[n-1]
	end := len(d.src)
	if n < len(d.lines) {
		end = d.lines[n]
	}
	return strings.TrimRight(d.str[start:end], "\r\n")
}

// offset returns the byte offset of line n, column col (both 1-based, col
// in characters as the YAML parser counts them).
func (d *doc) offset(n, col int) int {
	if n > len(d.lines) {
		return len(d.src)
	}
	return d.lines[n-1] + d.byteCol(n, col)
}

// byteCol returns the byte index within line n of character column col
// (1-based). The YAML parser counts characters, not bytes, and does not
// count a byte order mark at the start of the file.
func (d *doc) byteCol(n, col int) int {
	if n < 1 || n > len(d.lines) {
		return 0
	}
	start := d.lines[n-1]
	i := start
	if n == 1 && bytes.HasPrefix(d.src, []byte("\ufeff")) {
		i += 3
	}
	for c := 1; c < col && i < len(d.src) && d.src[i] != '\n'; c++ {
		_, size := utf8.DecodeRune(d.src[i:])
		i += size
	}
	return i - start
}

// lineStart is the offset of the start of line n; n past the end gives EOF.
func (d *doc) lineStart(n int) int {
	if n-1 >= len(d.lines) {
		return len(d.src)
	}
	return d.lines[n-1]
}

// insertLines inserts whole lines before line n (1-based; numLines()+1 appends).
func (d *doc) insertLines(n int, lines []string, why Edit) {
	at := d.lineStart(n)
	text := strings.Join(lines, d.nl) + d.nl
	if at == len(d.src) && len(d.src) > 0 && d.src[len(d.src)-1] != '\n' {
		text = d.nl + strings.Join(lines, d.nl)
	}
	d.edits = append(d.edits, textEdit{start: at, end: at, text: text, why: why})
}

// deleteLines removes lines [from, to] (1-based, inclusive).
func (d *doc) deleteLines(from, to int, why Edit) {
	d.edits = append(d.edits, textEdit{start: d.lineStart(from), end: d.lineStart(to + 1), why: why})
}

// replace replaces [start,end) with text.
func (d *doc) replace(start, end int, text string, why Edit) {
	d.edits = append(d.edits, textEdit{start: start, end: end, text: text, why: why})
}

// apply returns the edited bytes. Overlapping edits are an error.
func (d *doc) apply() ([]byte, error) {
	es := append([]textEdit(nil), d.edits...)
	sort.SliceStable(es, func(i, j int) bool { return es[i].start < es[j].start })
	size := len(d.src)
	for _, e := range es {
		size += len(e.text)
	}
	b := bytes.NewBuffer(make([]byte, 0, size))
	pos, lastDeleted := 0, false
	for _, e := range es {
		if e.start < pos {
			if lastDeleted && e.text == "" {
				// Two deletions that overlap delete their union.
				pos = max(pos, e.end)
				continue
			}
			return nil, fmt.Errorf("line %d: overlapping edits", e.why.Line)
		}
		b.Write(d.src[pos:e.start])
		b.WriteString(e.text)
		pos, lastDeleted = e.end, e.text == "" && e.end > e.start
	}
	b.Write(d.src[pos:])
	return b.Bytes(), nil
}

// described lists the edits for people, in file order.
func (d *doc) described() []Edit {
	es := append([]textEdit(nil), d.edits...)
	sort.SliceStable(es, func(i, j int) bool { return es[i].start < es[j].start })
	out := make([]Edit, 0, len(es))
	for _, e := range es {
		out = append(out, e.why)
	}
	return out
}

// indentOf returns the leading whitespace of line n.
func (d *doc) indentOf(n int) string {
	l := d.line(n)
	return l[:len(l)-len(strings.TrimLeft(l, " \t"))]
}

// blankOrComment reports whether line n holds nothing but a comment or space.
func (d *doc) blankOrComment(n int) bool {
	t := strings.TrimSpace(d.line(n))
	return t == "" || strings.HasPrefix(t, "#")
}

// contentEnd returns the last line in [from, before) that is not blank or a
// comment; from itself when all are.
func (d *doc) contentEnd(from, before int) int {
	for n := before - 1; n > from; n-- {
		if !d.blankOrComment(n) {
			return n
		}
	}
	return from
}

// innerComments extends the last line of an entry whose key is at column
// col over the comment lines right after it that are indented deeper (they
// sit inside the entry).
func (d *doc) innerComments(end, col int) int {
	for n := end + 1; n <= d.numLines(); n++ {
		t := strings.TrimSpace(d.line(n))
		if !strings.HasPrefix(t, "#") || len(d.indentOf(n)) < col {
			break
		}
		end = n
	}
	return end
}

// commentStart moves up from line n over the comment lines directly above it
// that are indented like it (they describe it).
func (d *doc) commentStart(n int) int {
	ind := d.indentOf(n)
	for n > 1 {
		prev := strings.TrimSpace(d.line(n - 1))
		if !strings.HasPrefix(prev, "#") || d.indentOf(n-1) != ind {
			break
		}
		n--
	}
	return n
}
