package sandbox_test

import (
	"fmt"
	"net/http"
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

	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

const token = "ghp_sandbox"

// startWorld starts a World with acme/widget and a full-access token.
func startWorld(tb testing.TB, opts sandbox.Options) *sandbox.World {
	tb.Helper()
	w, err := sandbox.Start(tb.Context(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := w.Close(); err != nil {
			tb.Error(err)
		}
	})
	w.API.AddToken(token, ghapi.Identity{Login: "alice", Permissions: ghapi.AllPermissions()})
	err = w.API.CreateRepo("acme", "widget", ghapi.RepoOptions{Files: map[string][]byte{
		"package.json":                  []byte(`{"name":"@acme/widget","publishConfig":{"registry":"https://npm-registry.invalid/"}}`),
		".github/workflows/release.yml": []byte("on: push\n"),
	}})
	if err != nil {
		tb.Fatal(err)
	}
	return w
}

func newClient(tb testing.TB, w *sandbox.World) *github.Client {
	tb.Helper()
	gh, err := github.NewClient(nil).WithAuthToken(token).WithEnterpriseURLs(w.URL, w.URL)
	if err != nil {
		tb.Fatal(err)
	}
	return gh
}

// clonePush clones main shallowly into memory, commits one file on a new
// branch and pushes it.
func clonePush(tb testing.TB, cloneURL, branch string) error {
	auth := &gogithttp.BasicAuth{Username: "x-access-token", Password: token}
	repo, err := git.Clone(memory.NewStorage(), memfs.New(), &git.CloneOptions{
		URL: cloneURL, Auth: auth, ReferenceName: plumbing.NewBranchReferenceName("main"),
		SingleBranch: true, Depth: 1, Tags: git.NoTags,
	})
	if err != nil {
		return fmt.Errorf("clone: %w", err)
	}
	head, err := repo.Head()
	if err != nil {
		return err
	}
	wt, err := repo.Worktree()
	if err != nil {
		return err
	}
	if err := wt.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(branch), Create: true, Hash: head.Hash()}); err != nil {
		return err
	}
	fh, err := wt.Filesystem.Create("CHANGE.md")
	if err != nil {
		return err
	}
	fmt.Fprintf(fh, "change on %s\n", branch)
	fh.Close()
	if _, err := wt.Add("CHANGE.md"); err != nil {
		return err
	}
	if _, err := wt.Commit("change", &git.CommitOptions{Author: &object.Signature{Name: "Bot", Email: "bot@example.invalid", When: time.Now()}}); err != nil {
		return err
	}
	spec := config.RefSpec("+refs/heads/" + branch + ":refs/heads/" + branch)
	if err := repo.Push(&git.PushOptions{Auth: auth, RefSpecs: []config.RefSpec{spec}}); err != nil {
		return fmt.Errorf("push: %w", err)
	}
	return nil
}

func TestWorld(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts sandbox.Options
	}{
		{"one listener", sandbox.Options{}},
		{"two listeners", sandbox.Options{GitAddr: "127.0.0.1:0", Dir: t.TempDir()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := startWorld(t, tt.opts)
			gh := newClient(t, w)
			r, _, err := gh.Repositories.Get(t.Context(), "acme", "widget")
			if err != nil {
				t.Fatal(err)
			}
			if r.GetCloneURL() != w.GitURL+"acme/widget.git" {
				t.Errorf("clone_url = %q, want it under %q", r.GetCloneURL(), w.GitURL)
			}
			if err := clonePush(t, r.GetCloneURL(), "campaign/x"); err != nil {
				t.Fatal(err)
			}
			ref, _, err := gh.Git.GetRef(t.Context(), "acme", "widget", "heads/campaign/x")
			if err != nil || ref.GetObject().GetSHA() == "" {
				t.Fatalf("ref after push = %v, %v", ref, err)
			}
			if tt.opts.GitAddr != "" {
				resp, err := http.Get(w.URL + "acme/widget.git/info/refs?service=git-upload-pack")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusNotFound {
					t.Errorf("git path on the API listener: status %d, want 404", resp.StatusCode)
				}
			}
		})
	}
}
