package batch_test

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/internal/logging"
)

// TestSummarySecretAcrossCut: a failure's detail is cut to 200 characters;
// a token, or the value of a configured secret, straddling the cut is
// redacted, not half printed.
func TestSummarySecretAcrossCut(t *testing.T) {
	t.Parallel()
	const (
		tok    = "npm_CUTPOINTleakTESTtoken0123456789abcd"
		secret = "Sl4ck-hook-CUTPOINT-value-0123456789" // a [secrets] env value: no token shape
	)
	red := logging.NewRedactor(secret)
	for _, value := range []string{tok, secret} {
		for start := 200 - len(value) + 1; start <= 200; start++ {
			s := batch.Summary{Step: "apply", Outcomes: []batch.Outcome{{Repo: "acme/a", Kind: batch.Failed, Reason: "push failed",
				Detail: strings.Repeat("x", start) + value + " trailing"}}}
			var b strings.Builder
			s.Write(&b, red)
			if strings.Contains(b.String(), value[:8]) {
				t.Fatalf("start %d: a part of %q is in\n%s", start, value[:8], b.String())
			}
		}
	}
}
