package rewrite

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// applyUnified applies a diff made by UnifiedDiff to before.
func applyUnified(t *testing.T, before, diff string) string {
	t.Helper()
	a := splitLines(before)
	var out []string
	pos := 0
	lines := splitLines(diff)
	for k := 2; k < len(lines); k++ {
		l := lines[k]
		if !strings.HasPrefix(l, "@@ -") {
			t.Fatalf("line %d: want a hunk header, got %q", k, l)
		}
		r := strings.Fields(l)[1][1:]
		startS, _, _ := strings.Cut(r, ",")
		start, _ := strconv.Atoi(startS)
		if !strings.Contains(r, ",") || !strings.HasSuffix(r, ",0") {
			start-- // 1-based, except for an empty range
		}
		out = append(out, a[pos:start]...)
		pos = start
		for k+1 < len(lines) && !strings.HasPrefix(lines[k+1], "@@ ") {
			k++
			l := lines[k]
			if strings.HasPrefix(l, `\ No newline`) {
				last := out[len(out)-1]
				if prev := lines[k-1]; prev[0] == '-' {
					continue
				}
				out[len(out)-1] = strings.TrimSuffix(last, "\n")
				continue
			}
			switch l[0] {
			case ' ':
				if a[pos] != l[1:] && a[pos] != strings.TrimSuffix(l[1:], "\n") {
					t.Fatalf("context mismatch at line %d: %q vs %q", pos+1, a[pos], l[1:])
				}
				out = append(out, a[pos])
				pos++
			case '-':
				pos++
			case '+':
				out = append(out, l[1:])
			}
		}
	}
	out = append(out, a[pos:]...)
	return strings.Join(out, "")
}

func TestUnifiedDiffApplies(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"", "  - run: npm publish", "    steps:", "x", "y", "# c", "  env:", "z"}
	for n := range 400 {
		var a []string
		for range rng.IntN(60) {
			a = append(a, words[rng.IntN(len(words))]+"\n")
		}
		b := append([]string(nil), a...)
		for range rng.IntN(8) {
			at := 0
			if len(b) > 0 {
				at = rng.IntN(len(b) + 1)
			}
			switch rng.IntN(3) {
			case 0:
				b = append(b[:at], append([]string{fmt.Sprintf("new %d\n", rng.IntN(5))}, b[at:]...)...)
			case 1:
				if at < len(b) {
					b = append(b[:at], b[at+1:]...)
				}
			case 2:
				if at < len(b) {
					b[at] = "changed\n"
				}
			}
		}
		before, after := strings.Join(a, ""), strings.Join(b, "")
		if n%5 == 0 && len(after) > 0 {
			after = strings.TrimSuffix(after, "\n")
		}
		d := UnifiedDiff("f.yml", []byte(before), []byte(after))
		if before == after {
			if d != "" {
				t.Fatalf("equal files, diff %q", d)
			}
			continue
		}
		if got := applyUnified(t, before, d); got != after {
			t.Fatalf("case %d: patch does not give after\nbefore:\n%s\nafter:\n%s\ndiff:\n%s\ngot:\n%s", n, before, after, d, got)
		}
	}
}
