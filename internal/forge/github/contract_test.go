package github_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	gh "github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/internal/forge"
	"github.com/cutover/cutover/internal/forge/github"
	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

// rawClient is a plain go-github client on the sandbox, acting as someone
// other than the Forge.
func rawClient(t testing.TB, w *sandbox.World, token string) *gh.Client {
	t.Helper()
	c, err := gh.NewClient(nil).WithAuthToken(token).WithEnterpriseURLs(w.URL, w.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRepos(t *testing.T) {
	t.Parallel()
	w := startWorld(t, sandbox.Options{})
	for i := range 150 {
		mustCreate(t, w, "acme", fmt.Sprintf("svc-%03d", i), ghapi.RepoOptions{})
	}
	mustCreate(t, w, "acme", "old", ghapi.RepoOptions{Archived: true, Topics: []string{"npm"}})
	mustCreate(t, w, "acme", "fork", ghapi.RepoOptions{Fork: true})
	mustCreate(t, w, "acme", "secret", ghapi.RepoOptions{Private: true, Topics: []string{"npm"}})
	mustCreate(t, w, "acme", "inner", ghapi.RepoOptions{Visibility: "internal"})
	mustCreate(t, w, "acme", "gone", ghapi.RepoOptions{Disabled: true})
	mustCreate(t, w, "other", "widget", ghapi.RepoOptions{})

	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			f, rec := newForge(t, w, mode.opts(w), tokFull)
			names := func(opts forge.ListOptions) []string {
				t.Helper()
				repos, err := f.Repos(t.Context(), "acme", opts)
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, r := range repos {
					out = append(out, r.FullName)
				}
				return out
			}
			all := names(forge.ListOptions{})
			if len(all) != 153 || slices.Contains(all, "acme/old") || slices.Contains(all, "acme/fork") || slices.Contains(all, "acme/gone") {
				t.Errorf("default listing has %d repositories: %v…", len(all), all[:5])
			}
			if n := rec.count("GET", "/orgs/acme/repos"); n != 2 {
				t.Errorf("listing took %d pages, want 2 of 100", n)
			}
			tests := []struct {
				name string
				opts forge.ListOptions
				want []string
			}{
				{"topics", forge.ListOptions{Topics: []string{"NPM"}}, []string{"acme/secret", "acme/widget"}},
				{"topics with archived", forge.ListOptions{Topics: []string{"npm"}, Archived: true}, []string{"acme/old", "acme/secret", "acme/widget"}},
				{"forks", forge.ListOptions{Include: []string{"f*"}, Forks: true}, []string{"acme/fork"}},
				{"private", forge.ListOptions{Visibility: "private"}, []string{"acme/secret"}},
				{"internal", forge.ListOptions{Visibility: "internal"}, []string{"acme/inner"}},
				{"include full name, exclude", forge.ListOptions{Include: []string{"acme/svc-00*", "widget"}, Exclude: []string{"svc-0000", "svc-001"}},
					[]string{"acme/svc-000", "acme/svc-002", "acme/svc-003", "acme/svc-004", "acme/svc-005", "acme/svc-006", "acme/svc-007", "acme/svc-008", "acme/svc-009", "acme/widget"}},
			}
			for _, tt := range tests {
				if got := names(tt.opts); !slices.Equal(got, tt.want) {
					t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
				}
			}
			repos, err := f.Repos(t.Context(), "acme", forge.ListOptions{Include: []string{"widget"}})
			if err != nil || len(repos) != 1 {
				t.Fatal(repos, err)
			}
			r := repos[0]
			if r.DefaultBranch != "main" || r.Visibility != "public" || r.ID == 0 || r.CloneURL != w.GitURL+"acme/widget.git" || !slices.Equal(r.Topics, []string{"npm"}) {
				t.Errorf("repo = %+v", r)
			}
		})
	}
}

// relevant selects what detection reads: manifests and workflows.
func relevant(p string) bool {
	return strings.HasSuffix(p, "package.json") || strings.HasPrefix(p, ".github/workflows/") || strings.HasSuffix(p, ".bin")
}

func TestSnapshot(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			w := startWorld(t, sandbox.Options{})
			cache := t.TempDir()
			opts := mode.opts(w)
			opts.CacheDir = cache
			f, rec := newForge(t, w, opts, tokFull)
			repo := repoOf(t, f, "acme/widget")
			ctx := t.Context()

			snap, unchanged, err := f.Snapshot(ctx, repo, "", relevant)
			if err != nil || unchanged {
				t.Fatal(err, unchanged)
			}
			if snap.Commit != branchSHA(t, w, "acme", "widget", "main") {
				t.Errorf("commit %s", snap.Commit)
			}
			want := []string{".github/workflows/release.yml", "package.json", "packages/a/package.json", "packages/b/package.json"}
			if got := keys(snap.Files); !slices.Equal(got, want) {
				t.Errorf("files %v, want %v", got, want)
			}
			for _, p := range want {
				if !bytes.Equal(snap.Files[p], widgetFiles[p]) {
					t.Errorf("%s = %q", p, snap.Files[p])
				}
			}
			if len(snap.Problems) != 0 {
				t.Errorf("problems %v", snap.Problems)
			}
			if n := rec.count("GET", "/git/blobs/"); n != 4 {
				t.Errorf("%d blob calls, want 4", n)
			}

			// Unchanged: one conditional request, nothing else.
			rec.reset()
			_, unchanged, err = f.Snapshot(ctx, repo, snap.Commit, relevant)
			if err != nil || !unchanged {
				t.Fatalf("unchanged = %v, %v", unchanged, err)
			}
			if reqs := rec.all(); len(reqs) != 1 || !strings.Contains(reqs[0], "/commits/main") {
				t.Errorf("unchanged check sent %v", reqs)
			}

			// A new commit: a fresh Forge on the same cache fetches only
			// the blob that changed; a big file is skipped with a reason.
			big := bytes.Repeat([]byte("x"), 1<<20+1)
			commitOn(t, w, "acme", "widget", "main", "", map[string][]byte{
				"packages/a/package.json": []byte(`{"name":"@acme/a","version":"2.0.0"}`),
				"assets/huge.bin":         big,
			})
			f2, rec2 := newForge(t, w, opts, tokFull)
			snap2, unchanged, err := f2.Snapshot(ctx, repo, snap.Commit, relevant)
			if err != nil || unchanged {
				t.Fatal(err, unchanged)
			}
			if n := rec2.count("GET", "/git/blobs/"); n != 1 {
				t.Errorf("%d blob calls after one change, want 1", n)
			}
			if st := f2.Stats(); st.BlobsCached != 3 || st.BlobsFetched != 1 {
				t.Errorf("stats %+v", st)
			}
			if string(snap2.Files["packages/a/package.json"]) != `{"name":"@acme/a","version":"2.0.0"}` {
				t.Errorf("changed file = %q", snap2.Files["packages/a/package.json"])
			}
			if p := snap2.Problems["assets/huge.bin"]; !strings.Contains(p, "over the 1048576-byte limit") {
				t.Errorf("problems %v", snap2.Problems)
			}
			if _, ok := snap2.Files["assets/huge.bin"]; ok {
				t.Error("the big file was read")
			}
		})
	}
}

func TestSnapshotTruncatedTree(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			w := startWorld(t, sandbox.Options{TreeLimit: 6})
			files := map[string][]byte{}
			for i := range 8 {
				files[fmt.Sprint("wide/", i+1)] = []byte(fmt.Sprint(i))
			}
			for p, d := range widgetFiles {
				files[p] = d
			}
			mustCreate(t, w, "acme", "big", ghapi.RepoOptions{Files: files})
			f, rec := newForge(t, w, mode.opts(w), tokFull)
			snap, _, err := f.Snapshot(t.Context(), repoOf(t, f, "acme/big"), "", func(p string) bool { return relevant(p) || strings.HasPrefix(p, "wide/") })
			if err != nil {
				t.Fatal(err)
			}
			want := []string{".github/workflows/release.yml", "package.json", "packages/a/package.json", "packages/b/package.json", "wide/1", "wide/2", "wide/3", "wide/4", "wide/5", "wide/6"}
			if got := keys(snap.Files); !slices.Equal(got, want) {
				t.Errorf("files %v, want %v", got, want)
			}
			if !strings.Contains(snap.Problems["wide/"], "more entries than the API lists") {
				t.Errorf("problems %v", snap.Problems)
			}
			if rec.count("GET", "/git/trees/") < 4 {
				t.Errorf("tree calls: %v", rec.all())
			}
		})
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestPush(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			w := startWorld(t, sandbox.Options{})
			mustCreate(t, w, "acme", "tool", ghapi.RepoOptions{Files: map[string][]byte{
				"bin/run": []byte("#!/bin/sh\n"), "package.json": []byte("{}\n")}, Executable: []string{"bin/run"}})
			f, _ := newForge(t, w, mode.opts(w), tokFull)
			ctx := t.Context()
			repo := repoOf(t, f, "acme/widget")
			wf := []byte("on: push\njobs: {}\n# migrated\n")
			ch := forge.Change{
				Branch: "cutover/npm-oidc", Files: map[string][]byte{".github/workflows/release.yml": wf, "NEW.md": []byte("new\n")},
				Message: "ci: publish with OIDC", Author: forge.Author{Name: "Cutover Bot", Email: "bot@example.invalid"},
			}

			res, err := f.Push(ctx, repo, ch)
			if err != nil || res.Unchanged || res.SHA != branchSHA(t, w, "acme", "widget", ch.Branch) {
				t.Fatalf("first push = %+v, %v", res, err)
			}
			c := commitAt(t, w, "acme/widget", res.SHA)
			if c.Author.Name != "Cutover Bot" || c.Message != "ci: publish with OIDC\n" || len(c.ParentHashes) != 1 ||
				c.ParentHashes[0].String() != branchSHA(t, w, "acme", "widget", "main") {
				t.Errorf("commit %+v", c)
			}
			if got := fileAt(t, w, "acme/widget", res.SHA, ".github/workflows/release.yml"); !bytes.Equal(got, wf) {
				t.Errorf("workflow = %q", got)
			}
			if got := fileAt(t, w, "acme/widget", res.SHA, "README.md"); !bytes.Equal(got, widgetFiles["README.md"]) {
				t.Errorf("untouched file = %q", got)
			}

			// The same change again: nothing new.
			ch.LastPushed = res.SHA
			again, err := f.Push(ctx, repo, ch)
			if err != nil || !again.Unchanged || again.SHA != res.SHA {
				t.Fatalf("second push = %+v, %v", again, err)
			}
			// Lost ledger: the branch holds exactly these files, so it is ours.
			lost := ch
			lost.LastPushed = ""
			if got, err := f.Push(ctx, repo, lost); err != nil || !got.Unchanged || got.SHA != res.SHA {
				t.Fatalf("push with a lost ledger = %+v, %v", got, err)
			}

			// A new base and a changed edit: the branch it pushed is replaced.
			commitOn(t, w, "acme", "widget", "main", "", map[string][]byte{"CHANGELOG.md": []byte("x\n")})
			ch.Files["NEW.md"] = []byte("newer\n")
			third, err := f.Push(ctx, repo, ch)
			if err != nil || third.Unchanged || third.SHA == res.SHA {
				t.Fatalf("third push = %+v, %v", third, err)
			}
			if p := commitAt(t, w, "acme/widget", third.SHA).ParentHashes[0].String(); p != branchSHA(t, w, "acme", "widget", "main") {
				t.Errorf("third push is on %s, not on the new main", p)
			}

			// Someone else commits on the branch: it is left alone.
			foreign := commitOn(t, w, "acme", "widget", ch.Branch, "", map[string][]byte{"HUMAN.md": []byte("mine\n")})
			ch.LastPushed = third.SHA
			ch.Files["NEW.md"] = []byte("newest\n")
			_, err = f.Push(ctx, repo, ch)
			if !errors.Is(err, forge.ErrForeignBranch) {
				t.Fatalf("push over a foreign commit = %v", err)
			}
			if got := branchSHA(t, w, "acme", "widget", ch.Branch); got != foreign {
				t.Errorf("the foreign branch moved to %s", got)
			}
			// A branch of the same name that cutover never pushed.
			commitOn(t, w, "acme", "widget", "feature", "main", map[string][]byte{"F.md": []byte("f\n")})
			_, err = f.Push(ctx, repo, forge.Change{Branch: "feature", Files: map[string][]byte{"NEW.md": []byte("x\n")}})
			if !errors.Is(err, forge.ErrForeignBranch) {
				t.Fatalf("push over an unknown branch = %v", err)
			}

			// Nothing to change.
			_, err = f.Push(ctx, repo, forge.Change{Branch: "noop", Files: map[string][]byte{"README.md": widgetFiles["README.md"]}})
			if !errors.Is(err, github.ErrNoChange) {
				t.Fatalf("empty change = %v", err)
			}

			// Modes survive, deletions delete.
			tool := repoOf(t, f, "acme/tool")
			res, err = f.Push(ctx, tool, forge.Change{Branch: "x", Files: map[string][]byte{"bin/run": []byte("#!/bin/sh\nexit 0\n"), "package.json": nil}})
			if err != nil {
				t.Fatal(err)
			}
			err = w.Git.With("acme", "tool", func(r *git.Repository) error {
				c, err := r.CommitObject(plumbing.NewHash(res.SHA))
				if err != nil {
					return err
				}
				tr, _ := c.Tree()
				e, err := tr.FindEntry("bin/run")
				if err != nil || e.Mode != filemode.Executable {
					return fmt.Errorf("bin/run = %v, %v", e, err)
				}
				if _, err := tr.FindEntry("package.json"); err == nil {
					return errors.New("package.json was not deleted")
				}
				return nil
			})
			if err != nil {
				t.Error(err)
			}
			// Invalid paths.
			if _, err := f.Push(ctx, repo, forge.Change{Branch: "y", Files: map[string][]byte{"../x": nil}}); err == nil {
				t.Error("a path outside the repository was accepted")
			}
		})
	}
}

// TestPushWithoutWorkflowPermission pushes a workflow change with a token
// that lacks the workflows permission.
func TestPushWithoutWorkflowPermission(t *testing.T) {
	t.Parallel()
	w := startWorld(t, sandbox.Options{})
	f, _ := newForge(t, w, github.Options{BaseURL: w.URL}, tokNoFlow)
	repo := repoOf(t, f, "acme/widget")
	_, err := f.Push(t.Context(), repo, forge.Change{Branch: "cutover/x", Files: map[string][]byte{
		".github/workflows/release.yml": []byte("on: workflow_dispatch\n")}})
	if err == nil || err.Error() != "the token lacks the workflow permission needed to change .github/workflows" || !errors.Is(err, forge.ErrPermission) {
		t.Fatalf("error = %v", err)
	}
	if got := branchSHA(t, w, "acme", "widget", "cutover/x"); got != "" {
		t.Errorf("the branch was created at %s", got)
	}
	// Other files are fine without it.
	if _, err := f.Push(t.Context(), repo, forge.Change{Branch: "cutover/y", Files: map[string][]byte{"package.json": []byte("{}\n")}}); err != nil {
		t.Fatal(err)
	}
}

func commitAt(t testing.TB, w *sandbox.World, full, sha string) *object.Commit {
	t.Helper()
	owner, name, _ := strings.Cut(full, "/")
	var out *object.Commit
	err := w.Git.With(owner, name, func(r *git.Repository) error {
		c, err := r.CommitObject(plumbing.NewHash(sha))
		out = c
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func fileAt(t testing.TB, w *sandbox.World, full, sha, path string) []byte {
	t.Helper()
	owner, name, _ := strings.Cut(full, "/")
	var out []byte
	err := w.Git.With(owner, name, func(r *git.Repository) error {
		c, err := r.CommitObject(plumbing.NewHash(sha))
		if err != nil {
			return err
		}
		fl, err := c.File(path)
		if err != nil {
			return err
		}
		rd, err := fl.Reader()
		if err != nil {
			return err
		}
		defer rd.Close()
		out, err = io.ReadAll(rd)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// hideFirstPRList answers the first pull-request lookup by head with an
// empty list, as a lagging replica would, so EnsurePR meets GitHub's 422.
type hideFirstPRList struct {
	next   http.RoundTripper
	hidden bool
}

func (h *hideFirstPRList) RoundTrip(req *http.Request) (*http.Response, error) {
	if !h.hidden && req.Method == "GET" && strings.HasSuffix(req.URL.Path, "/pulls") && req.URL.Query().Get("head") != "" {
		h.hidden = true
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader("[]")), Request: req}, nil
	}
	return h.next.RoundTrip(req)
}

func TestEnsurePR(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			w := startWorld(t, sandbox.Options{})
			f, rec := newForge(t, w, mode.opts(w), tokFull)
			ctx := t.Context()
			repo := repoOf(t, f, "acme/widget")
			raw := rawClient(t, w, tokFull)
			if _, err := f.Push(ctx, repo, forge.Change{Branch: "cutover/a", Files: map[string][]byte{"A.md": []byte("a\n")}}); err != nil {
				t.Fatal(err)
			}
			spec := forge.PRSpec{Head: "cutover/a", Title: "Publish with OIDC", Body: "body", Draft: true,
				Labels: []string{"cutover", "npm"}, Reviewers: []string{"dora", "alice"}, TeamReviewers: []string{"release"},
				Assignees: []string{"erin"}}
			pr, err := f.EnsurePR(ctx, repo, spec)
			if err != nil {
				t.Fatal(err)
			}
			if pr.Number == 0 || pr.State != "open" || !pr.Draft || pr.HeadSHA != branchSHA(t, w, "acme", "widget", "cutover/a") ||
				pr.Mergeable != "yes" || pr.Checks != "success" || !strings.HasSuffix(pr.URL, fmt.Sprintf("/acme/widget/pull/%d", pr.Number)) {
				t.Errorf("pr = %+v", pr)
			}
			got, _, err := raw.PullRequests.Get(ctx, "acme", "widget", pr.Number)
			if err != nil {
				t.Fatal(err)
			}
			var labels, reviewers, teams, assignees []string
			for _, l := range got.Labels {
				labels = append(labels, l.GetName())
			}
			for _, u := range got.RequestedReviewers {
				reviewers = append(reviewers, u.GetLogin())
			}
			for _, x := range got.RequestedTeams {
				teams = append(teams, x.GetSlug())
			}
			for _, u := range got.Assignees {
				assignees = append(assignees, u.GetLogin())
			}
			// alice is the author: GitHub refuses her as a reviewer.
			if !slices.Equal(labels, spec.Labels) || !slices.Equal(reviewers, []string{"dora"}) || !slices.Equal(teams, spec.TeamReviewers) ||
				!slices.Equal(assignees, spec.Assignees) || got.GetBase().GetRef() != "main" || got.GetBody() != "body" {
				t.Errorf("labels %v reviewers %v teams %v assignees %v base %q", labels, reviewers, teams, assignees, got.GetBase().GetRef())
			}

			// Again, with a new title: the same pull request, updated, and
			// no write for what is already there.
			rec.reset()
			spec.Title = "Publish npm packages with OIDC"
			again, err := f.EnsurePR(ctx, repo, spec)
			if err != nil || again.Number != pr.Number {
				t.Fatalf("again = %+v, %v", again, err)
			}
			if n := rec.count("POST", "/pulls"); n != 0 {
				t.Errorf("%d creates on the second run", n)
			}
			if n := rec.count("POST", "/labels") + rec.count("POST", "/assignees") + rec.count("POST", "/requested_reviewers"); n != 0 {
				t.Errorf("%d label/assignee/reviewer writes on the second run: %v", n, rec.all())
			}
			if got, _, _ := raw.PullRequests.Get(ctx, "acme", "widget", pr.Number); got.GetTitle() != spec.Title {
				t.Errorf("title %q", got.GetTitle())
			}

			// A pull request someone opened by hand is found.
			if _, err := f.Push(ctx, repo, forge.Change{Branch: "cutover/b", Files: map[string][]byte{"B.md": []byte("b\n")}}); err != nil {
				t.Fatal(err)
			}
			manual, _, err := raw.PullRequests.Create(ctx, "acme", "widget", &gh.NewPullRequest{Title: gh.String("by hand"), Head: gh.String("cutover/b"), Base: gh.String("main")})
			if err != nil {
				t.Fatal(err)
			}
			found, err := f.EnsurePR(ctx, repo, forge.PRSpec{Head: "cutover/b", Title: "by cutover"})
			if err != nil || found.Number != manual.GetNumber() {
				t.Fatalf("found %+v, %v; want #%d", found, err, manual.GetNumber())
			}

			// 422 "already exists": the lookup missed it, the create says so.
			opts := mode.opts(w)
			opts.Transport = &hideFirstPRList{next: http.DefaultTransport}
			opts.Token = tokFull
			opts.Limits.TimeScale = scale
			opts.Author = forge.Author{Name: "c", Email: "c@example.invalid"}
			f422, err := github.New(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			dup, err := f422.EnsurePR(ctx, repo, spec)
			if err != nil || dup.Number != pr.Number {
				t.Fatalf("after 422: %+v, %v", dup, err)
			}
			list, _, _ := raw.PullRequests.List(ctx, "acme", "widget", &gh.PullRequestListOptions{State: "all"})
			if len(list) != 2 {
				t.Errorf("%d pull requests, want 2", len(list))
			}
		})
	}
}

func TestPRState(t *testing.T) {
	t.Parallel()
	w := startWorld(t, sandbox.Options{})
	f, _ := newForge(t, w, github.Options{BaseURL: w.URL}, tokFull)
	ctx := t.Context()
	repo := repoOf(t, f, "acme/widget")
	if _, err := f.Push(ctx, repo, forge.Change{Branch: "c", Files: map[string][]byte{"C.md": []byte("c\n")}}); err != nil {
		t.Fatal(err)
	}
	pr, err := f.EnsurePR(ctx, repo, forge.PRSpec{Head: "c", Title: "c"})
	if err != nil {
		t.Fatal(err)
	}
	check := func(want string) {
		t.Helper()
		got, err := f.PR(ctx, repo, pr.Number)
		if err != nil || got.Checks != want {
			t.Fatalf("checks = %q, %v; want %q", got.Checks, err, want)
		}
	}
	check("success")
	if err := w.API.SetStatus("acme", "widget", pr.HeadSHA, ghapi.Status{Context: "lint", State: "pending"}); err != nil {
		t.Fatal(err)
	}
	check("pending")
	if err := w.API.SetCheckRun("acme", "widget", pr.HeadSHA, ghapi.CheckRun{Name: "test", Conclusion: "failure"}); err != nil {
		t.Fatal(err)
	}
	check("failure")
	if err := w.API.SetCheckRun("acme", "widget", pr.HeadSHA, ghapi.CheckRun{Name: "test", Conclusion: "success"}); err != nil {
		t.Fatal(err)
	}
	if err := w.API.SetStatus("acme", "widget", pr.HeadSHA, ghapi.Status{Context: "lint", State: "success"}); err != nil {
		t.Fatal(err)
	}
	check("success")
	if err := f.MergePR(ctx, repo, pr.Number, "squash", pr.HeadSHA); err != nil {
		t.Fatal(err)
	}
	if err := f.MergePR(ctx, repo, pr.Number, "squash", ""); err != nil {
		t.Fatalf("merging again: %v", err)
	}
	got, err := f.PR(ctx, repo, pr.Number)
	if err != nil || got.State != "merged" {
		t.Fatalf("after merge: %+v, %v", got, err)
	}

	if _, err := f.Push(ctx, repo, forge.Change{Branch: "d", Files: map[string][]byte{"D.md": []byte("d\n")}}); err != nil {
		t.Fatal(err)
	}
	pr2, err := f.EnsurePR(ctx, repo, forge.PRSpec{Head: "d", Title: "d"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.ClosePR(ctx, repo, pr2.Number); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.PR(ctx, repo, pr2.Number); got.State != "closed" {
		t.Errorf("closed PR state %q", got.State)
	}
	// Closed for this very commit: not opened again.
	again, err := f.EnsurePR(ctx, repo, forge.PRSpec{Head: "d", Title: "d"})
	if err != nil || again.Number != pr2.Number || again.State != "closed" {
		t.Fatalf("after closing: %+v, %v", again, err)
	}
	// New work on the branch: a new pull request.
	ch := forge.Change{Branch: "d", LastPushed: pr2.HeadSHA, Files: map[string][]byte{"D.md": []byte("d2\n")}}
	if _, err := f.Push(ctx, repo, ch); err != nil {
		t.Fatal(err)
	}
	fresh, err := f.EnsurePR(ctx, repo, forge.PRSpec{Head: "d", Title: "d"})
	if err != nil || fresh.Number == pr2.Number || fresh.State != "open" {
		t.Fatalf("after new work: %+v, %v", fresh, err)
	}
}

func TestVariables(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			w := startWorld(t, sandbox.Options{})
			f, rec := newForge(t, w, mode.opts(w), tokFull)
			ctx := t.Context()
			repo := repoOf(t, f, "acme/widget")
			if v, ok, err := f.Variable(ctx, repo, "CUTOVER_NPM_OIDC"); err != nil || ok || v != "" {
				t.Fatalf("unset variable = %q, %v, %v", v, ok, err)
			}
			for _, v := range []string{"true", "false", "false"} {
				if err := f.SetVariable(ctx, repo, "CUTOVER_NPM_OIDC", v); err != nil {
					t.Fatal(err)
				}
				if got, ok := w.API.RepoVariable("acme", "widget", "CUTOVER_NPM_OIDC"); !ok || got != v {
					t.Fatalf("variable = %q, %v; want %q", got, ok, v)
				}
				if got, ok, err := f.Variable(ctx, repo, "CUTOVER_NPM_OIDC"); err != nil || !ok || got != v {
					t.Fatalf("read back %q, %v, %v", got, ok, err)
				}
			}
			if n, m := rec.count("POST", "/actions/variables"), rec.count("PATCH", "/actions/variables/"); n != 1 || m != 1 {
				t.Errorf("%d creates and %d updates, want 1 and 1", n, m)
			}
			ro, _ := newForge(t, w, mode.opts(w), tokReadOnly)
			if err := ro.SetVariable(ctx, repo, "CUTOVER_NPM_OIDC", "true"); !errors.Is(err, forge.ErrPermission) || !strings.Contains(err.Error(), "variables=write") {
				t.Errorf("read-only set = %v", err)
			}
		})
	}
}

func TestSecrets(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			w := startWorld(t, sandbox.Options{})
			day := func(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC) }
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(w.API.SetRepoSecret("acme", "widget", "NPM_TOKEN", ghapi.SecretOptions{UpdatedAt: day(3)}))
			must(w.API.SetEnvSecret("acme", "widget", "npm/prod", "NPM_TOKEN", ghapi.SecretOptions{UpdatedAt: day(4)}))
			must(w.API.SetEnvSecret("acme", "widget", "staging", "OTHER", ghapi.SecretOptions{UpdatedAt: day(5)}))
			w.API.SetOrgSecret("acme", "ORG_NPM_TOKEN", ghapi.SecretOptions{UpdatedAt: day(6)})
			w.API.SetOrgSecret("acme", "PRIVATE_ONLY", ghapi.SecretOptions{Visibility: "private", UpdatedAt: day(7)})
			f, _ := newForge(t, w, mode.opts(w), tokFull)
			ctx := t.Context()
			repo := repoOf(t, f, "acme/widget")
			got, err := f.Secrets(ctx, repo)
			if err != nil {
				t.Fatal(err)
			}
			want := []forge.Secret{
				{Name: "NPM_TOKEN", Scope: "repo", UpdatedAt: day(3)},
				{Name: "NPM_TOKEN", Scope: "env", Environment: "npm/prod", UpdatedAt: day(4)},
				{Name: "OTHER", Scope: "env", Environment: "staging", UpdatedAt: day(5)},
				{Name: "ORG_NPM_TOKEN", Scope: "org", UpdatedAt: day(6)},
			}
			if !slices.EqualFunc(got, want, func(a, b forge.Secret) bool {
				return a.Name == b.Name && a.Scope == b.Scope && a.Environment == b.Environment && a.UpdatedAt.Equal(b.UpdatedAt)
			}) {
				t.Fatalf("secrets %+v, want %+v", got, want)
			}
			for _, s := range want {
				must(f.DeleteSecret(ctx, repo, s))
				must(f.DeleteSecret(ctx, repo, s)) // gone already: fine
			}
			got, err = f.Secrets(ctx, repo)
			if err != nil || len(got) != 0 {
				t.Fatalf("after deleting: %+v, %v", got, err)
			}
		})
	}
}

func TestEnsureIssue(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			w := startWorld(t, sandbox.Options{})
			f, rec := newForge(t, w, mode.opts(w), tokFull)
			ctx := t.Context()
			repo := repoOf(t, f, "acme/widget")
			raw := rawClient(t, w, tokFull)
			// Noise: issues and a PR without the marker, by others too.
			for i := range 3 {
				if _, _, err := raw.Issues.Create(ctx, "acme", "widget", &gh.IssueRequest{Title: gh.String(fmt.Sprint("noise ", i))}); err != nil {
					t.Fatal(err)
				}
			}
			spec := forge.IssueSpec{Marker: "reminder/npm-token", Title: "Revoke the npm token", Body: "Please revoke it.", Labels: []string{"cutover"}}
			is, err := f.EnsureIssue(ctx, repo, spec)
			if err != nil || is.State != "open" || is.Number != 4 {
				t.Fatalf("issue = %+v, %v", is, err)
			}
			got, _, _ := raw.Issues.Get(ctx, "acme", "widget", is.Number)
			if !strings.Contains(got.GetBody(), forge.MarkerComment(spec.Marker)) || !strings.HasPrefix(got.GetBody(), "Please revoke it.") || got.Labels[0].GetName() != "cutover" {
				t.Errorf("body %q labels %v", got.GetBody(), got.Labels)
			}
			spec.Body = "Please revoke it now."
			again, err := f.EnsureIssue(ctx, repo, spec)
			if err != nil || again.Number != is.Number {
				t.Fatalf("again = %+v, %v", again, err)
			}
			if n := rec.count("POST", "/issues"); n != 1 {
				t.Errorf("%d issue creates, want 1", n)
			}
			if err := f.CloseIssue(ctx, repo, spec.Marker, "Revoked, thanks."); err != nil {
				t.Fatal(err)
			}
			if err := f.CloseIssue(ctx, repo, spec.Marker, "Revoked, thanks."); err != nil {
				t.Fatal(err)
			}
			got, _, _ = raw.Issues.Get(ctx, "acme", "widget", is.Number)
			comments, _, _ := raw.Issues.ListComments(ctx, "acme", "widget", is.Number, nil)
			if got.GetState() != "closed" || len(comments) != 1 || !strings.Contains(got.GetBody(), "now.") {
				t.Errorf("state %q, %d comments, body %q", got.GetState(), len(comments), got.GetBody())
			}
			// Reopened, never duplicated.
			re, err := f.EnsureIssue(ctx, repo, spec)
			if err != nil || re.Number != is.Number || re.State != "open" {
				t.Fatalf("reopen = %+v, %v", re, err)
			}
			all, _, _ := raw.Issues.ListByRepo(ctx, "acme", "widget", &gh.IssueListByRepoOptions{State: "all"})
			if len(all) != 4 {
				t.Errorf("%d issues, want 4", len(all))
			}
			// A marker in someone else's issue is found too.
			mine, _, err := raw.Issues.Create(ctx, "acme", "widget", &gh.IssueRequest{Title: gh.String("x"), Body: gh.String("by hand " + forge.MarkerComment("other"))})
			if err != nil {
				t.Fatal(err)
			}
			bob, _ := newForge(t, w, mode.opts(w), tokNoFlow)
			found, err := bob.EnsureIssue(ctx, repo, forge.IssueSpec{Marker: "other", Title: "x", Body: "by hand"})
			if err != nil || found.Number != mine.GetNumber() {
				t.Errorf("found %+v, %v; want #%d", found, err, mine.GetNumber())
			}
		})
	}
}

func TestPreflight(t *testing.T) {
	t.Parallel()
	w := startWorld(t, sandbox.Options{})
	noVars := ghapi.AllPermissions()
	delete(noVars, ghapi.PermVariables)
	delete(noVars, ghapi.PermAdministration)
	w.API.AddToken("ghp_novars", ghapi.Identity{Login: "dave", Permissions: noVars})
	tests := []struct {
		name    string
		token   string
		opts    github.Options
		missing []string
	}{
		{"full", tokFull, github.Options{ProbeWorkflows: true, ManageEnvironments: true}, nil},
		{"no workflows", tokNoFlow, github.Options{ProbeWorkflows: true}, []string{"workflows (write)"}},
		{"no variables", "ghp_novars", github.Options{ManageEnvironments: true}, []string{"variables (write)", "administration (write)"}},
		{"read only", tokReadOnly, github.Options{}, []string{"contents (write)", "pull_requests (write)", "issues (write)", "variables (write)", "secrets (write)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := tt.opts
			opts.BaseURL = w.URL
			f, _ := newForge(t, w, opts, tt.token)
			repo := repoOf(t, f, "acme/widget")
			err := f.Preflight(t.Context(), repo)
			if tt.missing == nil {
				if err != nil {
					t.Fatal(err)
				}
			} else {
				want := fmt.Sprintf("the token lacks permissions the campaign needs on %q: %s", "acme/widget", strings.Join(tt.missing, ", "))
				if err == nil || err.Error() != want || !errors.Is(err, forge.ErrPermission) {
					t.Fatalf("error = %v\nwant %s", err, want)
				}
			}
			if bs := branches(t, w, "acme", "widget"); len(bs) != 1 {
				t.Errorf("preflight left branches %v", bs)
			}
		})
	}
	// Without the probe a fine-grained token's workflows permission is
	// unverified, not missing.
	f, _ := newForge(t, w, github.Options{BaseURL: w.URL}, tokNoFlow)
	checks, err := f.Permissions(t.Context(), repoOf(t, f, "acme/widget"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		if c.Name == "workflows" && c.Status != github.Unverified {
			t.Errorf("workflows = %+v", c)
		}
	}
}

func TestEnsureEnvironment(t *testing.T) {
	t.Parallel()
	w := startWorld(t, sandbox.Options{})
	f, _ := newForge(t, w, github.Options{APIURL: w.URL}, tokFull)
	ctx := t.Context()
	repo := repoOf(t, f, "acme/widget")
	raw := rawClient(t, w, tokFull)
	env := github.Environment{Name: "npm/publish", WaitTimer: 5, Reviewers: []github.EnvReviewer{{Type: "Team", ID: 12}},
		PreventSelfReview: true, ProtectedBranches: true}
	for range 2 {
		if err := f.EnsureEnvironment(ctx, repo, env); err != nil {
			t.Fatal(err)
		}
	}
	got, _, err := raw.Repositories.GetEnvironment(ctx, "acme", "widget", "npm%2Fpublish")
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, r := range got.ProtectionRules {
		types = append(types, r.GetType())
	}
	if !slices.Equal(types, []string{"wait_timer", "required_reviewers", "branch_policy"}) || !got.GetCanAdminsBypass() ||
		!got.GetDeploymentBranchPolicy().GetProtectedBranches() {
		t.Errorf("environment %+v rules %v", got, types)
	}
	// The whole state is sent: what is left out is cleared.
	if err := f.EnsureEnvironment(ctx, repo, github.Environment{Name: "npm/publish", AdminsCannotBypass: true}); err != nil {
		t.Fatal(err)
	}
	got, _, _ = raw.Repositories.GetEnvironment(ctx, "acme", "widget", "npm%2Fpublish")
	if len(got.ProtectionRules) != 0 || got.GetCanAdminsBypass() || got.DeploymentBranchPolicy != nil {
		t.Errorf("after clearing: %+v", got)
	}
	ro, _ := newForge(t, w, github.Options{APIURL: w.URL}, tokReadOnly)
	if err := ro.EnsureEnvironment(ctx, repo, env); !errors.Is(err, forge.ErrPermission) || !strings.Contains(err.Error(), "administration=write") {
		t.Errorf("read-only = %v", err)
	}
}

func TestCommitChecks(t *testing.T) {
	t.Parallel()
	w := startWorld(t, sandbox.Options{})
	f, _ := newForge(t, w, github.Options{BaseURL: w.URL}, tokFull)
	ctx := t.Context()
	repo := repoOf(t, f, "acme/widget")
	snap, _, err := f.Snapshot(ctx, repo, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	head := snap.Commit
	byName := func(ref string) map[string]forge.CommitCheck {
		t.Helper()
		cs, err := f.CommitChecks(ctx, repo, ref)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]forge.CommitCheck{}
		for _, c := range cs {
			if _, dup := out[c.Kind+" "+c.Name]; dup {
				t.Errorf("%s %q listed twice", c.Kind, c.Name)
			}
			out[c.Kind+" "+c.Name] = c
		}
		return out
	}
	before := time.Now().Add(-time.Second)
	for _, st := range []ghapi.Status{
		{Context: "ci/circleci: publish", State: "pending"},
		{Context: "ci/circleci: publish", State: "failure", Description: "Your tests failed on CircleCI", TargetURL: "https://circleci.invalid/gh/acme/widget/7"},
		{Context: "ci/circleci: test", State: "error"},
	} {
		if err := w.API.SetStatus("acme", "widget", head, st); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.API.SetCheckRun("acme", "widget", head, ghapi.CheckRun{Name: "publish", Status: "in_progress"}); err != nil {
		t.Fatal(err)
	}
	got := byName("main")
	pub := got["status ci/circleci: publish"]
	if pub.State != "failure" || pub.Raw != "failure" || pub.SHA != head || pub.URL != "https://circleci.invalid/gh/acme/widget/7" ||
		pub.Description != "Your tests failed on CircleCI" || pub.Updated.Before(before) {
		t.Errorf("latest status of ci/circleci: publish = %+v", pub)
	}
	if c := got["status ci/circleci: test"]; c.State != "failure" || c.Raw != "error" {
		t.Errorf("an error status = %+v, want failure", c)
	}
	if c := got["check_run publish"]; c.State != "pending" || c.App != "cutover-sandbox-ci" || c.SHA != head {
		t.Errorf("check run in progress = %+v", c)
	}
	if err := w.API.SetCheckRun("acme", "widget", head, ghapi.CheckRun{Name: "publish", Conclusion: "neutral"}); err != nil {
		t.Fatal(err)
	}
	if err := w.API.SetStatus("acme", "widget", head, ghapi.Status{Context: "ci/circleci: publish", State: "success"}); err != nil {
		t.Fatal(err)
	}
	got = byName(head)
	if c := got["status ci/circleci: publish"]; c.State != "success" {
		t.Errorf("after a success: %+v", c)
	}
	if c := got["check_run publish"]; c.State != "success" || c.Raw != "neutral" {
		t.Errorf("neutral check run = %+v", c)
	}
	if _, err := f.CommitChecks(ctx, repo, "no-such-branch"); err == nil || !strings.Contains(err.Error(), "acme/widget") {
		t.Errorf("an unknown ref: %v", err)
	}

	// Commits: the branch's history since a time, newest first, at most limit.
	if shas, err := f.Commits(ctx, repo, "main", time.Time{}, 5); err != nil || len(shas) == 0 || shas[0] != head {
		t.Errorf("commits of main = %v, %v; want %s first", shas, err, head)
	}
	if shas, err := f.Commits(ctx, repo, "main", time.Now().Add(time.Hour), 5); err != nil || len(shas) != 0 {
		t.Errorf("commits since an hour from now = %v, %v", shas, err)
	}
	next := commitOn(t, w, "acme", "widget", "main", "main", map[string][]byte{"NEWS.md": []byte("1\n")})
	shas, err := f.Commits(ctx, repo, "main", before, 1)
	if err != nil || len(shas) != 1 || shas[0] != next {
		t.Errorf("the newest commit since the push = %v, %v", shas, err)
	}
	if _, err := f.Commits(ctx, repo, "no-such-branch", time.Time{}, 5); err == nil || !strings.Contains(err.Error(), "acme/widget") {
		t.Errorf("commits of an unknown branch: %v", err)
	}
}
