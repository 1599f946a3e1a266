package cli

import (
	"strings"
	"testing"

	"github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

// TestMergeRespectsBranchProtection: on the sandbox, the default branches
// of two canaries are protected through the emulator's API (one needs an
// approving review, the other a "build" check nothing reports). merge
// --execute reports each refusal with GitHub's reason, exits 1 and leaves
// the pull requests open; once the review and the check are there, it
// merges them.
func TestMergeRespectsBranchProtection(t *testing.T) {
	t.Parallel()
	c := newNPMCLI(t, 8, sandbox.KindNPM)
	ctx := t.Context()
	c.env["NPM_CONFIG_USERCONFIG"] = c.write(t, "npmrc", "")
	c.mustRun(t, []int{ExitOK}, "inventory")
	c.mustRun(t, []int{ExitOK}, "plan")
	c.mustRun(t, []int{ExitOK}, "apply", "--wave", "0", "--execute")
	wave, err := ledgerWave(t, c.ledger)
	if err != nil || len(wave) < 2 {
		t.Fatalf("wave 0 %v: %v (want two repositories)", wave, err)
	}
	reviewed, checked := wave[0], wave[1]

	gc := c.github(t)
	type prInfo struct {
		owner, name string
		number      int
		head        string
	}
	prOf := func(repo string) prInfo {
		t.Helper()
		owner, name, _ := strings.Cut(repo, "/")
		prs, _, err := gc.PullRequests.List(ctx, owner, name, &github.PullRequestListOptions{State: "all"})
		if err != nil || len(prs) != 1 {
			t.Fatalf("%s: %d pull requests, %v", repo, len(prs), err)
		}
		return prInfo{owner, name, prs[0].GetNumber(), prs[0].GetHead().GetSHA()}
	}
	protect := func(repo string, p *github.ProtectionRequest) {
		t.Helper()
		owner, name, _ := strings.Cut(repo, "/")
		r, _, err := gc.Repositories.Get(ctx, owner, name)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := gc.Repositories.UpdateBranchProtection(ctx, owner, name, r.GetDefaultBranch(), p); err != nil {
			t.Fatalf("protect %s: %v", repo, err)
		}
	}
	protect(reviewed, &github.ProtectionRequest{
		RequiredPullRequestReviews: &github.PullRequestReviewsEnforcementRequest{RequiredApprovingReviewCount: 1}, EnforceAdmins: true})
	protect(checked, &github.ProtectionRequest{
		RequiredStatusChecks: &github.RequiredStatusChecks{Contexts: &[]string{"build"}}, EnforceAdmins: true})

	r := c.run(t, "merge", "--wave", "0", "--execute")
	if r.code != ExitFindings {
		t.Fatalf("merge of protected pull requests: exit code %d, want %d\n%s\n%s", r.code, ExitFindings, r.out, r.err)
	}
	for repo, why := range map[string]string{
		reviewed: "At least 1 approving review is required by reviewers with write access.",
		checked:  `Required status check "build" is expected.`,
	} {
		line := ""
		for _, l := range strings.Split(r.out, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), repo+" ") {
				line = l
			}
		}
		if !strings.Contains(line, "merge refused") || !strings.Contains(r.out, why) {
			t.Errorf("%s: the refusal (%q) is not reported:\n%s", repo, why, r.out)
		}
		pr := prOf(repo)
		got, _, err := gc.PullRequests.Get(ctx, pr.owner, pr.name, pr.number)
		if err != nil || got.GetMerged() || got.GetState() != "open" {
			t.Errorf("%s#%d was merged or closed despite its protection: %v", repo, pr.number, err)
		}
	}

	// The review and the check come in: merge goes through.
	pr := prOf(reviewed)
	if err := c.w.API.ApprovePull(pr.owner, pr.name, pr.number, "maintainer"); err != nil {
		t.Fatal(err)
	}
	pr = prOf(checked)
	if err := c.w.API.SetStatus(pr.owner, pr.name, pr.head, ghapi.Status{Context: "build", State: "success"}); err != nil {
		t.Fatal(err)
	}
	r = c.run(t, "merge", "--wave", "0", "--execute")
	if r.code != ExitOK || strings.Contains(r.out, "merge refused") {
		t.Fatalf("merge after review and check: exit code %d\n%s\n%s", r.code, r.out, r.err)
	}
	for _, repo := range []string{reviewed, checked} {
		pr := prOf(repo)
		got, _, err := gc.PullRequests.Get(ctx, pr.owner, pr.name, pr.number)
		if err != nil || !got.GetMerged() {
			t.Errorf("%s#%d not merged: %v", repo, pr.number, err)
		}
	}
}
