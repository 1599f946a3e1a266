package ghapi_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

func TestBranchProtection(t *testing.T) {
	t.Parallel()
	f := newFixture(t, ghapi.Options{})
	exerciseProtection(t, f, clientModes[0].make(t, f.url, tokFull))
}

// mergeRefusal is the message of a 405 answer to a merge, "" for another answer.
func mergeRefusal(err error) string {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusMethodNotAllowed {
		return er.Message
	}
	return ""
}

// exerciseProtection protects widget's main branch through the API and
// checks that the merge API enforces it as GitHub does: required checks
// (missing, failing, passed), approving reviews and up-to-date heads. It
// leaves main protected (TestOpenAPIContract calls it last).
func exerciseProtection(t *testing.T, f *fixture, gh *github.Client) {
	ctx := t.Context()
	_, _, err := gh.Repositories.GetBranchProtection(ctx, "acme", "widget", "main")
	if !errors.Is(err, github.ErrBranchNotProtected) { // go-github's reading of 404 "Branch not protected"
		t.Errorf("protection of an unprotected branch: %v", err)
	}
	_, _, err = gh.Repositories.UpdateBranchProtection(ctx, "acme", "widget", "no-such-branch", &github.ProtectionRequest{})
	if statusOf(err) != http.StatusNotFound {
		t.Errorf("protecting a missing branch: %v", err)
	}
	p := ok(gh.Repositories.UpdateBranchProtection(ctx, "acme", "widget", "main", &github.ProtectionRequest{
		RequiredStatusChecks:       &github.RequiredStatusChecks{Strict: true, Contexts: &[]string{"ci", "build"}},
		RequiredPullRequestReviews: &github.PullRequestReviewsEnforcementRequest{RequiredApprovingReviewCount: 1},
		EnforceAdmins:              true,
	})).must(t)
	if got := p.GetRequiredStatusChecks(); got == nil || !got.Strict || len(*got.Contexts) != 2 ||
		p.GetRequiredPullRequestReviews().RequiredApprovingReviewCount != 1 || !p.GetEnforceAdmins().Enabled {
		t.Errorf("protection = %+v", p)
	}
	got := ok(gh.Repositories.GetBranchProtection(ctx, "acme", "widget", "main")).must(t)
	if got.GetRequiredStatusChecks() == nil || len(*got.GetRequiredStatusChecks().Contexts) != 2 {
		t.Errorf("read back = %+v", got)
	}
	br := ok(gh.Repositories.GetBranch(ctx, "acme", "widget", "main", 0)).must(t)
	if !br.GetProtected() {
		t.Errorf("branch = %+v", br)
	}
	branches := ok(gh.Repositories.ListBranches(ctx, "acme", "widget", nil)).must(t)
	for _, b := range branches {
		if b.GetName() == "main" && !b.GetProtected() {
			t.Errorf("listed main unprotected")
		}
	}

	// A pull request into main: the sandbox CI passes "ci", nothing reports "build".
	head := pushBranch(t, f, "protected/change", "CHANGES.md", "protected\n")
	pr := ok(gh.PullRequests.Create(ctx, "acme", "widget", &github.NewPullRequest{
		Title: github.String("protected"), Head: github.String("protected/change"), Base: github.String("main")})).must(t)
	n := pr.GetNumber()
	merge := func() error {
		_, _, err := gh.PullRequests.Merge(ctx, "acme", "widget", n, "", &github.PullRequestOptions{SHA: head})
		return err
	}
	if msg := mergeRefusal(merge()); msg != "At least 1 approving review is required by reviewers with write access." {
		t.Errorf("merge without a review: %q", msg)
	}
	if err := f.api.ApprovePull("acme", "widget", n, "dave"); err != nil {
		t.Fatal(err)
	}
	if msg := mergeRefusal(merge()); msg != `Required status check "build" is expected.` {
		t.Errorf("merge with a required check missing: %q", msg)
	}
	if err := f.api.SetStatus("acme", "widget", head, ghapi.Status{Context: "build", State: "failure"}); err != nil {
		t.Fatal(err)
	}
	if msg := mergeRefusal(merge()); msg != `Required status check "build" is failing.` {
		t.Errorf("merge with a required check failing: %q", msg)
	}
	if err := f.api.SetStatus("acme", "widget", head, ghapi.Status{Context: "build", State: "success"}); err != nil {
		t.Fatal(err)
	}
	// main moves on: the head is no longer up to date (strict).
	pushBranch(t, f, "main", "OTHER.md", "other\n")
	if msg := mergeRefusal(merge()); msg != "Head branch is not up to date with the base branch." {
		t.Errorf("merge of a head behind main: %q", msg)
	}
	if pr := ok(gh.PullRequests.Get(ctx, "acme", "widget", n)).must(t); pr.GetMerged() || pr.GetState() != "open" {
		t.Errorf("a refused merge changed the pull request: %v", pr)
	}

	// Without the strict rule the reviewed, green pull request merges.
	ok(gh.Repositories.UpdateBranchProtection(ctx, "acme", "widget", "main", &github.ProtectionRequest{
		RequiredStatusChecks:       &github.RequiredStatusChecks{Strict: false, Contexts: &[]string{"ci", "build"}},
		RequiredPullRequestReviews: &github.PullRequestReviewsEnforcementRequest{RequiredApprovingReviewCount: 1},
	})).must(t)
	if res := ok(gh.PullRequests.Merge(ctx, "acme", "widget", n, "", &github.PullRequestOptions{SHA: head})).must(t); !res.GetMerged() {
		t.Errorf("merge = %v", res)
	}
}
