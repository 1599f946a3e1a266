package cli

import (
	"encoding/json"
	"testing"

	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/rewrite"
)

// TestScanGitLabCheckouts scans the sandbox portfolio's GitLab projects as
// local checkouts: each publishes from .gitlab-ci.yml with a CI/CD variable
// token, and its trusted publisher names the GitLab project of its origin.
func TestScanGitLabCheckouts(t *testing.T) {
	t.Parallel()
	const registry = "https://npm-registry.invalid/"
	p := sandbox.Generate(4, 30, sandbox.PortfolioOptions{})
	dirs, err := p.WriteGitLabCheckouts(t.TempDir(), registry)
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) != 2 {
		t.Fatalf("%d GitLab checkouts, want 2", len(dirs))
	}
	r := run(t, nil, append([]string{"scan", "--format", "json", "--registry", registry, "--fail-on", "never"}, dirs...)...)
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s %s", r.code, r.out, r.err)
	}
	var doc struct {
		Repos []scanEntry `json:"repos"`
	}
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		t.Fatal(err)
	}
	for i, e := range doc.Repos {
		want := p.GitLab[i].FullName(p.Org)
		res := e.Result
		if res == nil || !res.Publishes || res.Credential != rewrite.CredToken || len(res.Pipelines) != 1 || res.Pipelines[0].Provider != rewrite.ProviderGitLab {
			t.Errorf("%s: %+v (error %q)", e.Path, res, e.Error)
			continue
		}
		if len(res.Trust) != 1 || res.Trust[0].Repository != want || res.Trust[0].Workflow != rewrite.GitLabCIPath {
			t.Errorf("%s: trust %+v, want GitLab project %s and %s", e.Path, res.Trust, want, rewrite.GitLabCIPath)
		}
	}
}
