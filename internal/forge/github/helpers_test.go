package github_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/cutover/cutover/internal/forge"
	"github.com/cutover/cutover/internal/forge/github"
	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
	"github.com/cutover/cutover/internal/sandbox/githttp"
)

// Tokens registered in every test world. The values are distinctive so a
// leak test can look for them.
const (
	tokFull     = "ghp_FULLtokenVALUEneverPRINTED0001"
	tokNoFlow   = "github_pat_NOFLOWtokenVALUEneverPRINTED02" // fine-grained
	tokReadOnly = "ghp_READONLYtokenVALUEneverPRINT03"
)

// scale is the time scale of the contract tests: pacing in milliseconds.
const scale = 2000

// widgetFiles are the files of acme/widget.
var widgetFiles = map[string][]byte{
	"package.json":                  []byte(`{"name":"@acme/widget","version":"1.0.0"}` + "\n"),
	"README.md":                     []byte("# widget\n"),
	".github/workflows/release.yml": []byte("on: push\njobs:\n  publish:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm publish\n"),
	"src/index.js":                  []byte("module.exports = 1\n"),
	"packages/a/package.json":       []byte(`{"name":"@acme/a"}` + "\n"),
	"packages/b/package.json":       []byte(`{"name":"@acme/b"}` + "\n"),
}

// startWorld starts a sandbox with acme/widget and the three tokens.
func startWorld(t testing.TB, opts sandbox.Options) *sandbox.World {
	t.Helper()
	w, err := sandbox.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	w.API.AddToken(tokFull, ghapi.Identity{Login: "alice", Permissions: ghapi.AllPermissions()})
	noflow := ghapi.AllPermissions()
	delete(noflow, ghapi.PermWorkflows)
	w.API.AddToken(tokNoFlow, ghapi.Identity{Login: "bob", Permissions: noflow})
	w.API.AddToken(tokReadOnly, ghapi.Identity{Login: "carol", Permissions: map[string]string{
		"contents": "read", "pull_requests": "read", "issues": "read", "checks": "read", "statuses": "read",
		"actions_variables": "read", "secrets": "read", "actions": "read",
	}})
	mustCreate(t, w, "acme", "widget", ghapi.RepoOptions{Topics: []string{"npm"}, Files: widgetFiles})
	return w
}

func mustCreate(t testing.TB, w *sandbox.World, owner, name string, o ghapi.RepoOptions) {
	t.Helper()
	if o.Author.Name == "" {
		o.Author = object.Signature{Name: "Ada", Email: "ada@example.invalid", When: time.Unix(1700000000, 0)}
	}
	if err := w.API.CreateRepo(owner, name, o); err != nil {
		t.Fatal(err)
	}
}

// modes are the two ways to reach the API: GitHub.com style at the root,
// and GitHub Enterprise Server under /api/v3/.
var modes = []struct {
	name string
	opts func(w *sandbox.World) github.Options
}{
	{"ghes", func(w *sandbox.World) github.Options { return github.Options{BaseURL: w.URL} }},
	{"dotcom", func(w *sandbox.World) github.Options { return github.Options{APIURL: w.URL} }},
}

// recorder counts the API requests by "METHOD path" and remembers paths.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	reqs []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Method+" "+req.URL.Path)
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

// count returns how many requests matched method and a path suffix or fragment.
func (r *recorder) count(method, fragment string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, q := range r.reqs {
		m, p, _ := strings.Cut(q, " ")
		if m == method && strings.Contains(p, fragment) {
			n++
		}
	}
	return n
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reqs...)
}

func (r *recorder) reset() {
	r.mu.Lock()
	r.reqs = nil
	r.mu.Unlock()
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newForge builds a Forge on w for token with fast, scaled pacing; it
// returns the request recorder too.
func newForge(t testing.TB, w *sandbox.World, base github.Options, token string) (*github.Forge, *recorder) {
	t.Helper()
	rec := &recorder{next: http.DefaultTransport}
	opts := base
	opts.Token = token
	opts.Transport = rec
	if opts.Limits.TimeScale == 0 {
		opts.Limits.TimeScale = scale
	}
	if opts.Author.Name == "" {
		opts.Author = forge.Author{Name: "cutover", Email: "cutover@example.invalid"}
	}
	if opts.Getenv == nil {
		opts.Getenv = func(string) string { return "" }
	}
	f, err := github.New(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return f, rec
}

// repoOf lists one repository through the Forge.
func repoOf(t testing.TB, f *github.Forge, full string) forge.Repo {
	t.Helper()
	r, err := f.Repo(t.Context(), full)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// branchSHA reads a branch straight from the bare repository.
func branchSHA(t testing.TB, w *sandbox.World, owner, name, branch string) string {
	t.Helper()
	var sha string
	err := w.Git.With(owner, name, func(r *git.Repository) error {
		ref, err := r.Reference(plumbing.NewBranchReferenceName(branch), true)
		if err != nil {
			return nil
		}
		sha = ref.Hash().String()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

// branches lists the branches of a bare repository.
func branches(t testing.TB, w *sandbox.World, owner, name string) []string {
	t.Helper()
	var out []string
	err := w.Git.With(owner, name, func(r *git.Repository) error {
		it, err := r.Branches()
		if err != nil {
			return err
		}
		return it.ForEach(func(ref *plumbing.Reference) error {
			out = append(out, ref.Name().Short())
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// commitOn writes a commit with files on top of branch's tip (or as a new
// branch from base) straight into the bare repository, as someone else
// pushing would.
func commitOn(t testing.TB, w *sandbox.World, owner, name, branch, base string, files map[string][]byte) string {
	t.Helper()
	var sha string
	err := w.Git.With(owner, name, func(r *git.Repository) error {
		from := branch
		ref, err := r.Reference(plumbing.NewBranchReferenceName(branch), true)
		if err != nil {
			from = base
			if ref, err = r.Reference(plumbing.NewBranchReferenceName(base), true); err != nil {
				return err
			}
		}
		parent, err := r.CommitObject(ref.Hash())
		if err != nil {
			return err
		}
		all := map[string][]byte{}
		ft, _ := parent.Files()
		_ = ft.ForEach(func(f *object.File) error {
			s, _ := f.Contents()
			all[f.Name] = []byte(s)
			return nil
		})
		for p, d := range files {
			all[p] = d
		}
		tree, err := githttp.WriteTree(r.Storer, all, nil)
		if err != nil {
			return err
		}
		sig := object.Signature{Name: "Mallory", Email: "mallory@example.invalid", When: time.Now()}
		h, err := githttp.WriteCommit(r.Storer, &object.Commit{Author: sig, Committer: sig,
			Message: "someone else's change from " + from + "\n", TreeHash: tree, ParentHashes: []plumbing.Hash{parent.Hash}})
		if err != nil {
			return err
		}
		sha = h.String()
		return r.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName(branch), h))
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Git.Invalidate(owner, name)
	w.API.SyncRepo(owner, name)
	return sha
}

// logger returns a debug logger into a buffer.
func logger() (*slog.Logger, *syncBuffer) {
	buf := &syncBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}
