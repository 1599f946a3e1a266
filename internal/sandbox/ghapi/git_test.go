package ghapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	gogithttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

func basic(token string) *gogithttp.BasicAuth {
	return &gogithttp.BasicAuth{Username: "x-access-token", Password: token}
}

// cloneMain clones main of acme/widget at depth 1 into memory.
func cloneMain(t testing.TB, f *fixture, token string) *git.Repository {
	t.Helper()
	repo, err := git.Clone(memory.NewStorage(), memfs.New(), &git.CloneOptions{
		URL: f.url + "acme/widget.git", Auth: basic(token), ReferenceName: plumbing.NewBranchReferenceName("main"),
		SingleBranch: true, Depth: 1, Tags: git.NoTags,
	})
	if err != nil {
		t.Fatalf("clone: %v", err)
	}
	return repo
}

// commitTo writes one file on a new local branch from HEAD and commits.
func commitTo(t testing.TB, repo *git.Repository, branch, path, content string) plumbing.Hash {
	t.Helper()
	head, err := repo.Head()
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	name := plumbing.NewBranchReferenceName(branch)
	opts := &git.CheckoutOptions{Branch: name}
	if _, err := repo.Reference(name, false); err != nil {
		opts.Create, opts.Hash = true, head.Hash()
	}
	if err := wt.Checkout(opts); err != nil {
		t.Fatalf("check out branch %s: %v", branch, err)
	}
	fh, err := wt.Filesystem.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	fh.Write([]byte(content))
	fh.Close()
	if _, err := wt.Add(path); err != nil {
		t.Fatal(err)
	}
	h, err := wt.Commit("change "+path, &git.CommitOptions{Author: &object.Signature{Name: "Bot", Email: "bot@example.invalid", When: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func pushTo(repo *git.Repository, token, branch string) error {
	spec := config.RefSpec("+refs/heads/" + branch + ":refs/heads/" + branch)
	return repo.Push(&git.PushOptions{Auth: basic(token), RefSpecs: []config.RefSpec{spec}})
}

// pushBranch commits one file on branch (from main, or from the branch's
// remote tip) and force-pushes it with the full token; it returns the commit.
func pushBranch(t testing.TB, f *fixture, branch, path, content string) string {
	t.Helper()
	repo := cloneMain(t, f, tokFull)
	err := repo.Fetch(&git.FetchOptions{Auth: basic(tokFull), Depth: 1,
		RefSpecs: []config.RefSpec{config.RefSpec("+refs/heads/" + branch + ":refs/heads/" + branch)}})
	if err != nil && err != git.NoErrAlreadyUpToDate && !strings.Contains(err.Error(), "couldn't find remote ref") {
		t.Fatal(err)
	}
	h := commitTo(t, repo, branch, path, content)
	if err := pushTo(repo, tokFull, branch); err != nil {
		t.Fatalf("push: %v", err)
	}
	return h.String()
}

// commitOnBranch pushes a commit with the full token, then deletes the
// branch, leaving an object that no ref reaches.
func commitOnBranch(t testing.TB, f *fixture, branch, path, content string) string {
	t.Helper()
	sha := pushBranch(t, f, branch, path, content)
	err := f.git.With("acme", "widget", func(r *git.Repository) error {
		return r.Storer.RemoveReference(plumbing.NewBranchReferenceName(branch))
	})
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

// TestGitAndAPIShareRepos pushes over HTTP and reads through the API, and
// writes a ref through the API and fetches it over git.
func TestGitAndAPIShareRepos(t *testing.T) {
	t.Parallel()
	f := newFixture(t, ghapi.Options{})
	gh := clientModes[0].make(t, f.url, tokFull)
	sha := pushBranch(t, f, "campaign/x", "package.json", `{"v":3}`)
	ref, _, err := gh.Git.GetRef(t.Context(), "acme", "widget", "heads/campaign/x")
	if err != nil || ref.GetObject().GetSHA() != sha {
		t.Fatalf("API ref = %v, %v; want %s", ref, err, sha)
	}
	file, _, _, err := gh.Repositories.GetContents(t.Context(), "acme", "widget", "package.json", &github.RepositoryContentGetOptions{Ref: "campaign/x"})
	if c, _ := file.GetContent(); err != nil || c != `{"v":3}` {
		t.Fatalf("contents at branch = %q, %v", c, err)
	}
	if _, _, err := gh.Git.CreateRef(t.Context(), "acme", "widget", &github.Reference{Ref: github.String("refs/heads/from-api"), Object: &github.GitObject{SHA: &sha}}); err != nil {
		t.Fatal(err)
	}
	repo := cloneMain(t, f, tokFull)
	err = repo.Fetch(&git.FetchOptions{Auth: basic(tokFull), RefSpecs: []config.RefSpec{"+refs/heads/from-api:refs/remotes/origin/from-api"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := repo.Reference("refs/remotes/origin/from-api", true)
	if err != nil || got.Hash().String() != sha {
		t.Fatalf("fetched = %v, %v", got, err)
	}
}

// TestWorkflowPushRefused pushes a workflow change with a token that lacks
// the workflows permission and gets GitHub's message from go-git.
func TestWorkflowPushRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, ghapi.Options{})
	repo := cloneMain(t, f, tokNoFlow)
	commitTo(t, repo, "campaign/wf", ".github/workflows/release.yml", "on: workflow_dispatch\n")
	err := pushTo(repo, tokNoFlow, "campaign/wf")
	want := "command error on refs/heads/campaign/wf: refusing to allow a Personal Access Token to create or update workflow `.github/workflows/release.yml` without `workflow` scope"
	if err == nil || err.Error() != want {
		t.Fatalf("push error = %v, want %q", err, want)
	}
	// The same push with the permission goes through.
	if err := pushTo(repo, tokFull, "campaign/wf"); err != nil {
		t.Fatalf("push with workflows: %v", err)
	}
	// A read-only token cannot push at all.
	repo2 := cloneMain(t, f, tokReadOnly)
	commitTo(t, repo2, "ro", "x.txt", "x")
	if err := pushTo(repo2, tokReadOnly, "ro"); err == nil || !strings.Contains(err.Error(), "authorization failed") {
		t.Fatalf("read-only push error = %v", err)
	}
}
