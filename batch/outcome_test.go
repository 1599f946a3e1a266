package batch

import (
	"strings"
	"testing"
)

// TestSummaryWriteSaysWhy: a summary says why each repository was skipped,
// failed or needs manual work, grouped by reason with the hint, so "1
// skipped" never stands alone; ok repositories are only counted.
func TestSummaryWriteSaysWhy(t *testing.T) {
	t.Parallel()
	sum := Summary{Step: "verify", Outcomes: []Outcome{
		{Repo: "acme/a", Kind: OK, Detail: "1 package(s) verified"},
		{Repo: "acme/b", Kind: Skipped, Reason: "no canary yet", Detail: "widget: no version under dist-tag canary", Hint: "publish a canary with --tag canary from the migrated workflow, then run verify again"},
		{Repo: "acme/c", Kind: Failed, Reason: "verification failed", Detail: "gadget@1.0.1: provenance: missing"},
		{Repo: "acme/d", Kind: Skipped, Detail: "no reason recorded"},
	}}
	var b strings.Builder
	sum.Write(&b, nil)
	want := "verify: 4 repositories: 1 ok, 2 skipped, 0 manual, 1 failed\n" +
		"  failed: verification failed (1)\n" +
		"    acme/c: gadget@1.0.1: provenance: missing\n" +
		"  skipped: no canary yet (1)\n" +
		"    hint: publish a canary with --tag canary from the migrated workflow, then run verify again\n" +
		"    acme/b: widget: no version under dist-tag canary\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}
