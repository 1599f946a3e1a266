package cli

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/logging"
)

// TestOneLineSecretAcrossCut: oneLine cuts to 160 characters; a token, or
// the value of a configured secret, straddling the cut is redacted, not
// half printed.
func TestOneLineSecretAcrossCut(t *testing.T) {
	t.Parallel()
	const (
		tok    = "ghp_CUTPOINTleakTESTtoken0123456789abcd"
		secret = "Sl4ck-hook-CUTPOINT-value-0123456789" // a [secrets] env value: no token shape
	)
	red := logging.NewRedactor(secret)
	for _, value := range []string{tok, secret} {
		for start := 160 - len(value) + 1; start <= 160; start++ {
			if got := oneLine(red, strings.Repeat("x", start)+value+" trailing", 160); strings.Contains(got, value[:8]) {
				t.Fatalf("start %d: %q", start, got)
			}
		}
	}
}
