package ghapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/internal/sandbox/ghapi"
	"github.com/cutover/cutover/internal/sandbox/githttp"
)

// Tokens of the fixture.
const (
	tokFull     = "ghp_full"
	tokReadOnly = "ghp_readonly"
	tokNoFlow   = "github_pat_noflow"
)

type fixture struct {
	api *ghapi.Server
	git *githttp.Server
	url string // server root, ending in "/"
}

// newFixture starts an emulator and git server on one httptest server, with
// the repository acme/widget and three tokens.
func newFixture(t testing.TB, opts ghapi.Options) *fixture {
	t.Helper()
	return newFixtureWrapped(t, opts, nil)
}

// newFixtureWrapped is newFixture with the server's handler passed through
// wrap (nil means none), to observe every exchange.
func newFixtureWrapped(t testing.TB, opts ghapi.Options, wrap func(http.Handler) http.Handler) *fixture {
	t.Helper()
	f := &fixture{}
	var err error
	f.git, err = githttp.New(githttp.Options{
		Root:   t.TempDir(),
		Auth:   func(token, owner, repo string) (githttp.Access, bool) { return f.api.GitAccess(token, owner, repo) },
		OnPush: func(owner, repo string) { f.api.SyncRepo(owner, repo) },
	})
	if err != nil {
		t.Fatal(err)
	}
	opts.Git = f.git
	f.api, err = ghapi.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if githttp.IsGitPath(r.URL.Path) {
			f.git.ServeHTTP(w, r)
			return
		}
		f.api.ServeHTTP(w, r)
	})
	if wrap != nil {
		h = wrap(h)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	f.url = ts.URL + "/"
	f.api.AddToken(tokFull, ghapi.Identity{Login: "alice", Permissions: ghapi.AllPermissions()})
	f.api.AddToken(tokReadOnly, ghapi.Identity{Login: "carol", Permissions: map[string]string{
		"contents": "read", "pull_requests": "read", "issues": "read", "checks": "read", "statuses": "read",
		"actions_variables": "read", "secrets": "read", "actions": "read",
	}})
	noflow := ghapi.AllPermissions()
	delete(noflow, ghapi.PermWorkflows)
	f.api.AddToken(tokNoFlow, ghapi.Identity{Login: "bob", Permissions: noflow})
	err = f.api.CreateRepo("acme", "widget", ghapi.RepoOptions{
		Description: "a widget", Topics: []string{"npm"},
		Files: map[string][]byte{
			"package.json":                  []byte(`{"name":"@acme/widget"}`),
			"README.md":                     []byte("# widget\n"),
			".github/workflows/release.yml": []byte("on: push\njobs: {}\n"),
			"src/index.js":                  []byte("module.exports = 1\n"),
		},
		Author: object.Signature{Name: "Ada", Email: "ada@example.invalid", When: time.Unix(1700000000, 0)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// client modes: the Enterprise prefix and the plain root.
var clientModes = []struct {
	name string
	make func(t testing.TB, base, token string) *github.Client
}{
	{"enterprise", func(t testing.TB, base, token string) *github.Client {
		c, err := github.NewClient(nil).WithAuthToken(token).WithEnterpriseURLs(base, base)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}},
	{"root", func(t testing.TB, base, token string) *github.Client {
		c := github.NewClient(nil).WithAuthToken(token)
		u, err := c.BaseURL.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		c.BaseURL = u
		return c
	}},
}
