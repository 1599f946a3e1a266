package cli

import (
	"context"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/internal/config"
)

// TestRealGit drives the git command line against `cutover sandbox serve`:
// an authenticated clone and push with the printed token, an anonymous
// clone of a public repository, and an anonymous push that is refused.
func TestRealGit(t *testing.T) {
	t.Parallel()
	gitBin := gitPath(t)
	ctx := t.Context()
	env := serveSandbox(t, "--repos", "4", "--seed", "5", "--dir", filepath.Join(t.TempDir(), "sb"), "--rate-limits=false")
	cfg, err := config.Load(env["CUTOVER_CONFIG"])
	if err != nil {
		t.Fatal(err)
	}
	token := env["GITHUB_TOKEN"]
	gh, err := github.NewClient(nil).WithAuthToken(token).WithEnterpriseURLs(cfg.GitHub.APIURL, cfg.GitHub.APIURL)
	if err != nil {
		t.Fatal(err)
	}
	repos, _, err := gh.Repositories.ListByOrg(ctx, cfg.GitHub.Org, nil)
	if err != nil {
		t.Fatal(err)
	}
	var public *github.Repository
	for _, r := range repos {
		if !r.GetPrivate() {
			public = r
			break
		}
	}
	if public == nil {
		t.Fatal("the sandbox has no public repository")
	}

	home := t.TempDir()
	git := func(dir string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, gitBin, args...)
		cmd.Dir = dir
		cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=Ada", "GIT_AUTHOR_EMAIL=ada@example.invalid", "GIT_COMMITTER_NAME=Ada", "GIT_COMMITTER_EMAIL=ada@example.invalid"}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	// The token goes in the URL as GitHub documents for HTTPS clones.
	u, err := url.Parse(public.GetCloneURL())
	if err != nil {
		t.Fatal(err)
	}
	authed := *u
	authed.User = url.UserPassword("x-access-token", token)

	work := t.TempDir()
	if out, err := git(work, "clone", "--quiet", authed.String(), "authed"); err != nil {
		t.Fatalf("git clone with the token: %v\n%s", err, out)
	}
	dir := filepath.Join(work, "authed")
	if err := os.WriteFile(filepath.Join(dir, "REHEARSAL.md"), []byte("rehearsed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"checkout", "--quiet", "-b", "rehearsal"}, {"add", "REHEARSAL.md"}, {"commit", "--quiet", "-m", "rehearsal"}, {"push", "--quiet", "origin", "rehearsal"}} {
		if out, err := git(dir, args...); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	ref, _, err := gh.Git.GetRef(ctx, cfg.GitHub.Org, public.GetName(), "heads/rehearsal")
	if err != nil {
		t.Fatalf("the pushed branch is not in the API: %v", err)
	}
	head, _ := git(dir, "rev-parse", "HEAD")
	if ref.GetObject().GetSHA() != strings.TrimSpace(head) {
		t.Errorf("API sees %s, git pushed %s", ref.GetObject().GetSHA(), head)
	}

	if out, err := git(work, "clone", "--quiet", u.String(), "anon"); err != nil {
		t.Fatalf("anonymous clone of a public repository: %v\n%s", err, out)
	}
	anon := filepath.Join(work, "anon")
	if out, err := git(anon, "push", "--quiet", "origin", "HEAD:refs/heads/anonymous"); err == nil {
		t.Errorf("an anonymous push was accepted:\n%s", out)
	}
	if out, _ := git(work, "clone", "--quiet", authed.String(), "leak"); strings.Contains(out, token) {
		t.Error("git printed the token")
	}
}

// TestSandboxServeRelativeDir: with a relative --dir, git http-backend
// (which runs in a folder of its own) still finds the repositories: a
// clone through git over HTTP works. Not parallel: it changes the working
// folder.
func TestSandboxServeRelativeDir(t *testing.T) {
	gitBin := gitPath(t)
	t.Chdir(t.TempDir())
	ctx := t.Context()
	env := serveSandbox(t, "--repos", "2", "--seed", "5", "--dir", filepath.Join("runs", "sb"), "--rate-limits=false")
	if !filepath.IsAbs(env["CUTOVER_CONFIG"]) {
		t.Fatalf("CUTOVER_CONFIG %q is not absolute", env["CUTOVER_CONFIG"])
	}
	cfg, err := config.Load(env["CUTOVER_CONFIG"])
	if err != nil {
		t.Fatal(err)
	}
	gh, err := github.NewClient(nil).WithAuthToken(env["GITHUB_TOKEN"]).WithEnterpriseURLs(cfg.GitHub.APIURL, cfg.GitHub.APIURL)
	if err != nil {
		t.Fatal(err)
	}
	repos, _, err := gh.Repositories.ListByOrg(ctx, cfg.GitHub.Org, nil)
	if err != nil || len(repos) == 0 {
		t.Fatalf("repositories: %d, %v", len(repos), err)
	}
	u, err := url.Parse(repos[0].GetCloneURL())
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("x-access-token", env["GITHUB_TOKEN"])
	cmd := exec.CommandContext(ctx, gitBin, "clone", "--quiet", u.String(), "clone")
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1"}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git clone from a sandbox served with --dir runs/sb: %v\n%s", err, strings.ReplaceAll(string(out), env["GITHUB_TOKEN"], "[TOKEN]"))
	}
	if _, err := os.Stat(filepath.Join("clone", ".git")); err != nil {
		t.Errorf("the clone has no .git: %v", err)
	}
}

// gitPath finds git; without it the test skips, or fails when CI is set.
func gitPath(t *testing.T) string {
	t.Helper()
	gitBin, err := exec.LookPath("git")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("git is not on PATH (CI is set)")
		}
		t.Skip("git is not on PATH")
	}
	return gitBin
}

// serveSandbox runs cutover sandbox serve with args until the test ends
// and returns the variables its export lines set.
func serveSandbox(t *testing.T, args ...string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	sb := startServe(ctx, io.Discard, args...)
	t.Cleanup(func() { sb.stop(t, cancel) })
	return sb.env
}
