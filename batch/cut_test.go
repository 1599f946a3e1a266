package batch_test

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/batch"
)

// TestSummaryTokenAcrossCut: a failure's detail is cut to 200 characters;
// a token straddling the cut is redacted, not half printed.
func TestSummaryTokenAcrossCut(t *testing.T) {
	t.Parallel()
	const tok = "npm_CUTPOINTleakTESTtoken0123456789abcd"
	for _, start := range []int{190, 196, 199, 200} {
		s := batch.Summary{Step: "apply", Outcomes: []batch.Outcome{{Repo: "acme/a", Kind: batch.Failed, Reason: "push failed",
			Detail: strings.Repeat("x", start) + tok + " trailing"}}}
		var b strings.Builder
		s.Write(&b)
		if strings.Contains(b.String(), tok[:8]) {
			t.Errorf("start %d: a part of the token is in\n%s", start, b.String())
		}
	}
}
