package githttp

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	gogithttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"
)

// tokens used by the tests: full access, no workflows, read only.
var testTokens = map[string]Access{
	"full":     {Login: "alice", Read: true, Write: true, Workflows: true},
	"noflow":   {Login: "bob", Read: true, Write: true},
	"readonly": {Login: "carol", Read: true},
}

type fixture struct {
	srv    *Server
	url    string
	pushes atomic.Int32
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{}
	srv, err := New(Options{
		Root: t.TempDir(),
		Auth: func(token, owner, repo string) (Access, bool) {
			a, ok := testTokens[token]
			return a, ok
		},
		OnPush: func(owner, repo string) { f.pushes.Add(1) },
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = srv.CreateRepo("acme", "widget", InitOptions{
		Files: map[string][]byte{
			"package.json":                  []byte(`{"name":"widget"}`),
			".github/workflows/release.yml": []byte("on: push\n"),
			"bin/run":                       []byte("#!/bin/sh\n"),
		},
		Executable: []string{"bin/run"},
		Author:     object.Signature{Name: "Ada", Email: "ada@example.invalid", When: time.Unix(1700000000, 0)},
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	f.srv, f.url = srv, ts.URL
	return f
}

func auth(token string) *gogithttp.BasicAuth {
	return &gogithttp.BasicAuth{Username: "x-access-token", Password: token}
}

// shallowClone clones main at depth 1 into memory.
func shallowClone(t *testing.T, url, token string) *git.Repository {
	t.Helper()
	repo, err := git.CloneContext(t.Context(), memory.NewStorage(), memfs.New(), &git.CloneOptions{
		URL: url, Auth: auth(token), ReferenceName: plumbing.NewBranchReferenceName("main"),
		SingleBranch: true, Depth: 1, Tags: git.NoTags,
	})
	if err != nil {
		t.Fatalf("clone: %v", err)
	}
	return repo
}

// commitFile writes one file on a new branch and commits it.
func commitFile(t *testing.T, repo *git.Repository, branch, path, content string) {
	t.Helper()
	head, err := repo.Head()
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(branch), Create: true, Hash: head.Hash()}); err != nil {
		t.Fatal(err)
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
	sig := &object.Signature{Name: "Bot", Email: "bot@example.invalid", When: time.Now()}
	if _, err := wt.Commit("change "+path, &git.CommitOptions{Author: sig}); err != nil {
		t.Fatal(err)
	}
}

func push(t *testing.T, repo *git.Repository, token, branch string, progress *bytes.Buffer) error {
	t.Helper()
	spec := config.RefSpec("+refs/heads/" + branch + ":refs/heads/" + branch)
	opts := &git.PushOptions{Auth: auth(token), RefSpecs: []config.RefSpec{spec}}
	if progress != nil {
		opts.Progress = progress
	}
	return repo.PushContext(t.Context(), opts)
}

func TestCloneAndPush(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	repo := shallowClone(t, f.url+"/acme/widget.git", "full")
	commitFile(t, repo, "campaign/x", "package.json", `{"name":"widget","v":2}`)
	if err := push(t, repo, "full", "campaign/x", nil); err != nil {
		t.Fatalf("push: %v", err)
	}
	if got := f.pushes.Load(); got != 1 {
		t.Errorf("OnPush calls = %d, want 1", got)
	}
	local, _ := repo.Reference(plumbing.NewBranchReferenceName("campaign/x"), true)
	err := f.srv.With("acme", "widget", func(r *git.Repository) error {
		ref, err := r.Reference(plumbing.NewBranchReferenceName("campaign/x"), true)
		if err != nil {
			return err
		}
		if ref.Hash() != local.Hash() {
			t.Errorf("server branch = %s, want %s", ref.Hash(), local.Hash())
		}
		_, err = r.CommitObject(ref.Hash())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "--git-dir", f.srv.Dir("acme", "widget"), "fsck", "--no-progress").CombinedOutput()
	if err != nil {
		t.Fatalf("fsck: %v\n%s", err, out)
	}
	// Without .git in the URL too, as GitHub allows.
	shallowClone(t, f.url+"/acme/widget", "readonly")
}

func TestWorkflowRefusal(t *testing.T) {
	t.Parallel()
	const want = "refusing to allow a Personal Access Token to create or update workflow `.github/workflows/release.yml` without `workflow` scope"
	tests := []struct {
		name     string
		token    string
		path     string
		progress bool
		wantErr  bool
	}{
		{"no workflow permission, side band", "noflow", ".github/workflows/release.yml", true, true},
		{"no workflow permission, no side band", "noflow", ".github/workflows/release.yml", false, true},
		{"no workflow permission, other file", "noflow", "package.json", false, false},
		{"workflow permission", "full", ".github/workflows/release.yml", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			repo := shallowClone(t, f.url+"/acme/widget.git", tt.token)
			commitFile(t, repo, "campaign/x", tt.path, "on: workflow_dispatch\n")
			var progress *bytes.Buffer
			if tt.progress {
				progress = &bytes.Buffer{}
			}
			err := push(t, repo, tt.token, "campaign/x", progress)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("push: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("push error = %v, want it to contain %q", err, want)
			}
			if progress != nil && !strings.Contains(progress.String(), want) {
				t.Errorf("progress = %q, want the hook's message", progress.String())
			}
			// Updating an existing branch is checked against the old tip.
			if tt.token == "noflow" && !tt.progress {
				repo2 := shallowClone(t, f.url+"/acme/widget.git", "full")
				commitFile(t, repo2, "campaign/y", "package.json", "{}")
				if err := push(t, repo2, "full", "campaign/y", nil); err != nil {
					t.Fatal(err)
				}
				commitFile(t, repo2, "campaign/z", ".github/workflows/release.yml", "x")
				spec := config.RefSpec("+refs/heads/campaign/z:refs/heads/campaign/y")
				err := repo2.PushContext(t.Context(), &git.PushOptions{Auth: auth("noflow"), RefSpecs: []config.RefSpec{spec}})
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("update push error = %v, want %q", err, want)
				}
			}
		})
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name    string
		token   string
		push    bool
		wantErr error
	}{
		{"missing token", "", false, transport.ErrAuthenticationRequired},
		{"unknown token", "nope", false, transport.ErrAuthenticationRequired},
		{"read-only push", "readonly", true, transport.ErrAuthorizationFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var a transport.AuthMethod
			if tt.token != "" {
				a = auth(tt.token)
			}
			var err error
			if tt.push {
				repo := shallowClone(t, f.url+"/acme/widget.git", "full")
				commitFile(t, repo, "b", "x.txt", "x")
				err = repo.PushContext(t.Context(), &git.PushOptions{Auth: a, RefSpecs: []config.RefSpec{"+refs/heads/b:refs/heads/b"}})
			} else {
				_, err = git.CloneContext(t.Context(), memory.NewStorage(), nil, &git.CloneOptions{URL: f.url + "/acme/widget.git", Auth: a})
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
		})
	}

	resp, err := http.Get(f.url + "/acme/widget.git/info/refs?service=git-upload-pack")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != `Basic realm="GitHub"` {
		t.Errorf("anonymous: status %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	req, _ := http.NewRequest("GET", f.url+"/acme/missing.git/info/refs?service=git-upload-pack", nil)
	req.SetBasicAuth("x", "full")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("missing repo: status %d, want 404", resp.StatusCode)
	}
}

func TestSystemGitClone(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dir := t.TempDir()
	u := strings.Replace(f.url, "http://", "http://x-access-token:full@", 1) + "/acme/widget.git"
	cmd := exec.CommandContext(t.Context(), "git", "-c", "protocol.version=2", "clone", "--depth=1", "--filter=blob:none", u, dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
}

func TestRewriteReport(t *testing.T) {
	t.Parallel()
	reasons := map[string]string{"refs/heads/x": "nope"}
	plain := joinPktLines([][]byte{[]byte("unpack ok\n"), []byte("ng refs/heads/x pre-receive hook declined\n"), nil})
	want := joinPktLines([][]byte{[]byte("unpack ok\n"), []byte("ng refs/heads/x nope\n"), nil})
	if got := rewriteReport(plain, reasons); !bytes.Equal(got, want) {
		t.Errorf("plain = %q, want %q", got, want)
	}
	banded := joinPktLines([][]byte{append([]byte{2}, "remote: hi\n"...), append([]byte{1}, plain...), nil})
	wantBanded := joinPktLines([][]byte{append([]byte{2}, "remote: hi\n"...), append([]byte{1}, want...), nil})
	if got := rewriteReport(banded, reasons); !bytes.Equal(got, wantBanded) {
		t.Errorf("side band = %q, want %q", got, wantBanded)
	}
	if got := rewriteReport([]byte("garbage"), reasons); string(got) != "garbage" {
		t.Errorf("garbage = %q", got)
	}
}
