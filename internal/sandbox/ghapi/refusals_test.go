package ghapi_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

// get requests path of the fixture with token ("" for none) and returns
// the status, headers and body.
func get(t *testing.T, f *fixture, token, path string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, f.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestRefusals checks what GitHub refuses: a draft's merge, a check run
// from a token that is not an App's, anything of another owner's beyond
// reading public repositories, and requests without a token beyond that.
func TestRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t, ghapi.Options{})
	for _, r := range []struct {
		owner, name string
		private     bool
	}{{"acme", "vault", true}, {"other", "lib", false}, {"other", "hidden", true}} {
		if err := f.api.CreateRepo(r.owner, r.name, ghapi.RepoOptions{Private: r.private, Files: map[string][]byte{"a.txt": []byte("a")}}); err != nil {
			t.Fatal(err)
		}
	}
	const tokScoped = "github_pat_acme_only"
	f.api.AddToken(tokScoped, ghapi.Identity{Login: "dora", Owners: []string{"acme"}, Permissions: ghapi.AllPermissions()})
	gh := clientModes[0].make(t, f.url, tokFull)
	scoped := clientModes[0].make(t, f.url, tokScoped)
	ctx := t.Context()

	t.Run("draft merge", func(t *testing.T) {
		pushBranch(t, f, "draft", "d.txt", "d")
		pr := ok(gh.PullRequests.Create(ctx, "acme", "widget", &github.NewPullRequest{
			Title: github.String("draft"), Head: github.String("draft"), Base: github.String("main"), Draft: github.Bool(true)})).must(t)
		_, _, err := gh.PullRequests.Merge(ctx, "acme", "widget", pr.GetNumber(), "", nil)
		var er *github.ErrorResponse
		if !errors.As(err, &er) || er.Response.StatusCode != http.StatusMethodNotAllowed || er.Message != "Pull Request is still a draft" {
			t.Errorf("draft merge: %v", err)
		}
	})
	t.Run("check runs only for Apps", func(t *testing.T) {
		sha := ok(gh.Git.GetRef(ctx, "acme", "widget", "heads/main")).must(t).GetObject().GetSHA()
		_, _, err := gh.Checks.CreateCheckRun(ctx, "acme", "widget", github.CreateCheckRunOptions{Name: "x", HeadSHA: sha})
		if statusOf(err) != http.StatusForbidden {
			t.Errorf("check run with a personal token: %v", err)
		}
	})
	t.Run("classic scopes", func(t *testing.T) {
		_, h, _ := get(t, f, tokFull, "repos/acme/widget")
		if got := h.Get("X-OAuth-Scopes"); got != "admin:org, repo, workflow" {
			t.Errorf("X-OAuth-Scopes of the full classic token = %q", got)
		}
		_, h, _ = get(t, f, tokScoped, "repos/acme/widget")
		if _, ok := h["X-Oauth-Scopes"]; ok {
			t.Errorf("a fine-grained token answers X-OAuth-Scopes %q", h.Get("X-OAuth-Scopes"))
		}
		f.api.AddToken("ghp_public_only", ghapi.Identity{Login: "eve", Scopes: []string{"public_repo"}})
		_, h, _ = get(t, f, "ghp_public_only", "repos/acme/widget")
		if got := h.Get("X-OAuth-Scopes"); got != "public_repo" {
			t.Errorf("X-OAuth-Scopes = %q", got)
		}
	})
	t.Run("token scoped to its owner", func(t *testing.T) {
		for _, tc := range []struct {
			path string
			want int
		}{
			{"repos/acme/vault", 200}, {"repos/other/lib", 200}, {"repos/other/hidden", 404},
			{"repos/other/lib/contents/a.txt", 200}, {"repos/other/hidden/contents/a.txt", 404},
			{"repos/other/lib/actions/secrets", 403},
		} {
			if got, _, body := get(t, f, tokScoped, tc.path); got != tc.want {
				t.Errorf("GET %s = %d %s, want %d", tc.path, got, body, tc.want)
			}
		}
		_, _, err := scoped.Issues.Create(ctx, "other", "lib", &github.IssueRequest{Title: github.String("x")})
		if statusOf(err) != http.StatusForbidden {
			t.Errorf("issue on another owner's repository: %v", err)
		}
		repos := ok(scoped.Repositories.ListByOrg(ctx, "other", nil)).must(t)
		if len(repos) != 1 || repos[0].GetName() != "lib" {
			t.Errorf("another owner's repositories = %v", repos)
		}
		// git: clone of another owner's public repository, no push.
		repo, err := git.Clone(memory.NewStorage(), memfs.New(), &git.CloneOptions{URL: f.url + "other/lib.git", Auth: basic(tokScoped)})
		if err != nil {
			t.Fatalf("clone another owner's public repository: %v", err)
		}
		commitTo(t, repo, "x", "b.txt", "b")
		if err := pushTo(repo, tokScoped, "x"); err == nil {
			t.Error("a push to another owner's repository was accepted")
		}
		_, err = git.Clone(memory.NewStorage(), memfs.New(), &git.CloneOptions{URL: f.url + "other/hidden.git", Auth: basic(tokScoped)})
		if err == nil || !strings.Contains(err.Error(), "not found") {
			t.Errorf("clone another owner's private repository: %v", err)
		}
	})
	t.Run("anonymous", func(t *testing.T) {
		for _, tc := range []struct {
			path string
			want int
		}{
			{"repos/acme/widget", 200}, {"repos/acme/vault", 404}, {"repos/acme/widget/contents/README.md", 200},
			{"orgs/acme/repos", 200}, {"user", 401}, {"repos/acme/widget/actions/secrets", 401},
		} {
			if got, _, body := get(t, f, "", tc.path); got != tc.want {
				t.Errorf("anonymous GET %s = %d %s, want %d", tc.path, got, body, tc.want)
			}
		}
		_, h, body := get(t, f, "", "orgs/acme/repos")
		if strings.Contains(body, "vault") || h.Get("X-RateLimit-Limit") != "60" {
			t.Errorf("anonymous listing shows a private repository or limit %q: %s", h.Get("X-RateLimit-Limit"), body)
		}
		if _, err := git.Clone(memory.NewStorage(), memfs.New(), &git.CloneOptions{URL: f.url + "acme/widget.git"}); err != nil {
			t.Errorf("anonymous clone of a public repository: %v", err)
		}
		if _, err := git.Clone(memory.NewStorage(), memfs.New(), &git.CloneOptions{URL: f.url + "acme/vault.git"}); err == nil {
			t.Error("anonymous clone of a private repository succeeded")
		}
	})
}

// TestConditionalRequests checks ETag and If-None-Match: a 304 has no body
// and does not count against the primary limit.
func TestConditionalRequests(t *testing.T) {
	t.Parallel()
	f := newFixture(t, ghapi.Options{})
	for _, path := range []string{"repos/acme/widget", "orgs/acme/repos?per_page=1", "repos/acme/widget/git/matching-refs/heads", "repos/acme/widget/git/trees/main?recursive=1"} {
		status, h, _ := get(t, f, tokFull, path)
		etag := h.Get("ETag")
		if status != 200 || etag == "" {
			t.Fatalf("GET %s = %d with ETag %q", path, status, etag)
		}
		used := h.Get("X-RateLimit-Used")
		status, h2, body := get(t, f, tokFull, path, "If-None-Match", etag)
		if status != http.StatusNotModified || body != "" {
			t.Errorf("conditional GET %s = %d %q", path, status, body)
		}
		if h2.Get("X-RateLimit-Used") != used || h2.Get("ETag") != etag {
			t.Errorf("304 of %s: used %s after %s, ETag %q", path, h2.Get("X-RateLimit-Used"), used, h2.Get("ETag"))
		}
		status, _, _ = get(t, f, tokFull, path, "If-None-Match", `W/"stale"`)
		if status != 200 {
			t.Errorf("GET %s with a stale ETag = %d", path, status)
		}
	}
}
