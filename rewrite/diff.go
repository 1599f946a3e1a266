package rewrite

import (
	"fmt"
	"hash/maphash"
	"strings"
)

// diffWindow bounds how far UnifiedDiff looks ahead for lines that match
// again after a change; rewrites change a few lines at a time, so a
// difference wider than this is shown as one replaced block.
const diffWindow = 128

// diffAnchor is how many consecutive equal lines make a resynchronisation
// point (a single blank or "- run:" line matches too easily).
const diffAnchor = 3

type diffOp struct {
	kind byte // ' ', '-', '+'
	line string
}

// UnifiedDiff renders a git-style unified diff (3 lines of context) of one
// file, a/name to b/name; "" when before and after are equal. It runs in
// time linear in the size of the files: lines are compared by hash, and
// after a difference the search for the next common run is bounded by
// diffWindow lines, which fits what playbooks do (edits of a few lines). The
// result is always a correct patch, though on very different inputs not a
// minimal one.
func UnifiedDiff(name string, before, after []byte) string {
	if string(before) == string(after) {
		return ""
	}
	return formatUnified(name, lineDiff(splitLines(string(before)), splitLines(string(after))))
}

// lineDiff lists the operations that turn lines a into lines b: equal
// lines, then for each change the removed lines followed by the added ones.
// See UnifiedDiff for the algorithm and its bounds.
func lineDiff(a, b []string) []diffOp {
	seed := maphash.MakeSeed()
	ha, hb := hashLines(seed, a), hashLines(seed, b)
	eq := func(i, j int) bool { return ha[i] == hb[j] && a[i] == b[j] }
	// Every line of a and of b is one op, the equal ones once.
	ops := make([]diffOp, 0, max(len(a), len(b))+min(len(a), len(b))/8)
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		if i < len(a) && j < len(b) && eq(i, j) {
			ops = append(ops, diffOp{' ', a[i]})
			i, j = i+1, j+1
			continue
		}
		di, dj, ok := resync(a, b, i, j, eq)
		if !ok {
			di, dj = min(diffWindow, len(a)-i), min(diffWindow, len(b)-j)
		}
		for k := range di {
			ops = append(ops, diffOp{'-', a[i+k]})
		}
		for k := range dj {
			ops = append(ops, diffOp{'+', b[j+k]})
		}
		i, j = i+di, j+dj
	}
	return ops
}

// resync finds the nearest (di, dj), smallest di+dj first, from which a
// and b match again: diffAnchor equal lines (or both files end), or one
// equal line that says something (not blank, not a lone bracket or dash),
// since rewrites put edits close together.
func resync(a, b []string, i, j int, eq func(int, int) bool) (int, int, bool) {
	for d := 1; d <= 2*diffWindow; d++ {
		for di := max(0, d-diffWindow); di <= min(d, diffWindow); di++ {
			dj := d - di
			if anchored(a, b, i+di, j+dj, eq) {
				return di, dj, true
			}
		}
	}
	return 0, 0, false
}

func anchored(a, b []string, i, j int, eq func(int, int) bool) bool {
	if i > len(a) || j > len(b) {
		return false
	}
	for k := range diffAnchor {
		if i+k == len(a) || j+k == len(b) {
			return i+k == len(a) && j+k == len(b)
		}
		if !eq(i+k, j+k) {
			return k > 0 && len(strings.Trim(a[i], " \t\r\n-{}[]#")) > 3
		}
	}
	return true
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

func hashLines(seed maphash.Seed, lines []string) []uint64 {
	out := make([]uint64, len(lines))
	for i, l := range lines {
		out[i] = maphash.String(seed, l)
	}
	return out
}

// formatUnified groups the operations into hunks with 3 lines of context.
func formatUnified(name string, ops []diffOp) string {
	const ctx = 3
	// Positions (0-based) in a and b at the start of each op.
	n := len(ops)
	posA, posB := make([]int, n+1), make([]int, n+1)
	for k, op := range ops {
		posA[k+1], posB[k+1] = posA[k], posB[k]
		if op.kind != '+' {
			posA[k+1]++
		}
		if op.kind != '-' {
			posB[k+1]++
		}
	}
	// The hunks as [start, stop) ranges of ops, then their size, so the
	// output is allocated once.
	var hunks [][2]int
	size := 2*len(name) + 16
	k := 0
	for k < n {
		for k < n && ops[k].kind == ' ' {
			k++
		}
		if k == n {
			break
		}
		start := max(0, k-ctx)
		end := k
		// Extend over changes separated by at most 2*ctx equal lines.
		for {
			for end < n && ops[end].kind != ' ' {
				end++
			}
			next := end
			for next < n && ops[next].kind == ' ' && next-end < 2*ctx+1 {
				next++
			}
			if next < n && ops[next].kind != ' ' {
				end = next
				continue
			}
			break
		}
		stop := min(n, end+ctx)
		hunks = append(hunks, [2]int{start, stop})
		size += 64
		for _, op := range ops[start:stop] {
			size += 1 + len(op.line)
		}
		k = stop
	}
	var out strings.Builder
	out.Grow(size + 64)
	fmt.Fprintf(&out, "--- a/%s\n+++ b/%s\n", name, name)
	for _, h := range hunks {
		start, stop := h[0], h[1]
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", unifiedRange(posA[start], posA[stop]), unifiedRange(posB[start], posB[stop]))
		for _, op := range ops[start:stop] {
			out.WriteByte(op.kind)
			out.WriteString(op.line)
			if !strings.HasSuffix(op.line, "\n") {
				out.WriteString("\n\\ No newline at end of file\n")
			}
		}
	}
	return out.String()
}

// unifiedRange formats a hunk range as diff does: "start,length", "start"
// for one line, "start-1,0" for none.
func unifiedRange(start, stop int) string {
	begin, length := start+1, stop-start
	switch length {
	case 1:
		return fmt.Sprintf("%d", begin)
	case 0:
		begin--
	}
	return fmt.Sprintf("%d,%d", begin, length)
}
