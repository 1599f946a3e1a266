package sandbox_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/cutover/cutover/internal/checkout"
	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/rewrite"
)

// TestGitLabCheckouts writes the portfolio's GitLab projects as local
// checkouts and reads them back as cutover scan does: each publishes from
// .gitlab-ci.yml with a CI/CD variable token, and its trusted publisher
// names the GitLab project its origin points at.
func TestGitLabCheckouts(t *testing.T) {
	t.Parallel()
	p := sandbox.Generate(5, 100, sandbox.PortfolioOptions{})
	if len(p.GitLab) != 3 {
		t.Fatalf("%d GitLab projects for 100 repositories, want 3", len(p.GitLab))
	}
	for _, r := range p.Repos {
		if r.Kind == sandbox.KindGitLab {
			t.Errorf("GitLab project %s is among the GitHub repositories", r.Name)
		}
	}
	dirs, err := p.WriteGitLabCheckouts(t.TempDir(), testRegistry)
	if err != nil {
		t.Fatal(err)
	}
	for i, dir := range dirs {
		r := p.GitLab[i]
		if filepath.Base(dir) != r.Name {
			t.Errorf("checkout %s, want %s", dir, r.Name)
		}
		snap, err := checkout.Read(dir, checkout.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if snap.Repo != r.FullName(p.Org) {
			t.Errorf("%s: repository %q, want %q from the origin remote", dir, snap.Repo, r.FullName(p.Org))
		}
		res := rewrite.Detect(snap, rewrite.Options{Registry: testRegistry})
		if !res.Publishes || res.Credential != rewrite.CredToken || len(res.Pipelines) != 1 {
			t.Fatalf("%s: publishes %v credential %q pipelines %+v", dir, res.Publishes, res.Credential, res.Pipelines)
		}
		pl := res.Pipelines[0]
		if pl.Provider != rewrite.ProviderGitLab || pl.Workflow != rewrite.GitLabCIPath || pl.Environment != r.Environment {
			t.Errorf("%s: pipeline %s %s environment %q, want gitlab %s %q", dir, pl.Provider, pl.Workflow, pl.Environment, rewrite.GitLabCIPath, r.Environment)
		}
		if len(res.Trust) != 1 || res.Trust[0].Provider != rewrite.ProviderGitLab || res.Trust[0].Repository != r.FullName(p.Org) || !slices.Equal(r.Publishable(), []string{res.Trust[0].Package}) {
			t.Errorf("%s: trust %+v", dir, res.Trust)
		}
	}
}
