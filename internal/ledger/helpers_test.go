package ledger

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/rewrite"
)

// clock is an injected clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// openTest opens a fresh ledger file in t.TempDir() with an injected clock.
func openTest(t testing.TB) (*Ledger, *clock) {
	t.Helper()
	c := newClock()
	l, err := Open(t.Context(), filepath.Join(t.TempDir(), "ledger.db"), Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, c
}

// must fails the test on err.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// addRepos records repositories named like "acme/repo-1".
func addRepos(t testing.TB, l *Ledger, names ...string) {
	t.Helper()
	for _, n := range names {
		must(t, l.UpsertRepo(t.Context(), Repo{FullName: n, DefaultBranch: "main", Visibility: "public",
			CloneURL: "https://github.example/" + n + ".git", ID: int64(len(n))}))
	}
}

// sampleResult is a detection result for a monorepo publishing two
// packages with a token.
func sampleResult(repo string) *rewrite.Result {
	return &rewrite.Result{
		Repo:       repo,
		Publishes:  true,
		Credential: rewrite.CredToken,
		Pipelines: []rewrite.Pipeline{{
			Workflow: ".github/workflows/release.yml", Job: "publish", JobLine: 12,
			TrustedWorkflow: []string{"release.yml"}, Tools: []string{"npm"},
			Steps:      []rewrite.PublishStep{{Line: 30, Step: 3, Tool: "npm", Command: "npm publish"}},
			Feeds:      []rewrite.TokenFeed{{Kind: "env", Name: "NODE_AUTH_TOKEN", Secret: "NPM_TOKEN", Level: "step", File: ".github/workflows/release.yml", Line: 32, Step: 3}},
			Credential: rewrite.CredToken, NPMReady: "unknown",
		}},
		Packages: []rewrite.Package{
			{Name: "@acme/a", Dir: "packages/a", Publishable: true, Access: "public"},
			{Name: "@acme/b", Dir: "packages/b", Publishable: true},
			{Name: "root", Dir: ".", Private: true},
		},
		WorkspaceKind: "npm",
		Trust: []rewrite.TrustNeed{
			{Package: "@acme/a", Repository: repo, Workflow: "release.yml"},
			{Package: "@acme/b", Repository: repo, Workflow: "release.yml", Environment: "npm"},
		},
		Findings:  []rewrite.Finding{{Severity: rewrite.SevWarning, Code: "npm-old", Message: "npm may be older than 11.5.1"}},
		Workflows: 2,
	}
}

// Test token values are built at run time so that no scanner mistakes
// this file for a leak; they have the exact shapes of real ones.
var (
	fakeNPMToken    = "npm_" + strings.Repeat("a1B2", 9)
	fakeGitHubToken = "ghp_" + strings.Repeat("Zx9", 12)
	fakeFineGrained = "github_pat_" + strings.Repeat("11AB_", 6)
)
