package logging

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// leakToken is token-shaped test data, never a real credential.
const leakToken = "npm_CUTPOINTleakTESTtoken0123456789abcd"

// TestRedactCutAtEveryOffset puts a token across the cut at every offset:
// no part of it long enough to matter is ever left.
func TestRedactCutAtEveryOffset(t *testing.T) {
	t.Parallel()
	const n = 160
	for start := n - len(leakToken); start <= n; start++ {
		s := strings.Repeat("é", start/2) + strings.Repeat("x", start%2) + leakToken + " and more text after it"
		var r *Redactor
		got := r.RedactCut(s, n)
		if strings.Contains(got, leakToken[:8]) || strings.Contains(got, leakToken[8:16]) {
			t.Fatalf("start %d: %q", start, got)
		}
		if len(got) > n+len("…") || !utf8.ValidString(got) {
			t.Fatalf("start %d: %d bytes, valid %v", start, len(got), utf8.ValidString(got))
		}
	}
	if got := NewRedactor("configured-secret-value").RedactCut(strings.Repeat("a", 150)+"configured-secret-value", 160); strings.Contains(got, "configured") {
		t.Errorf("configured value across the cut: %q", got)
	}
}
