package cli

import (
	"strings"
	"testing"
)

// TestOneLineTokenAcrossCut: oneLine cuts to 160 characters; a token
// straddling the cut is redacted, not half printed.
func TestOneLineTokenAcrossCut(t *testing.T) {
	t.Parallel()
	const tok = "ghp_CUTPOINTleakTESTtoken0123456789abcd"
	for _, start := range []int{150, 156, 159, 160} {
		if got := oneLine(strings.Repeat("x", start)+tok+" trailing", 160); strings.Contains(got, tok[:8]) {
			t.Errorf("start %d: %q", start, got)
		}
	}
}
