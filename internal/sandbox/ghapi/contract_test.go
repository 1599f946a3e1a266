package ghapi_test

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

// statusOf returns the HTTP status of a go-github error, or 0.
func statusOf(err error) int {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	return 0
}

// result holds what a go-github call returned.
type result[T any] struct {
	v   T
	err error
}

// ok wraps the results of a go-github call.
func ok[T any](v T, _ *github.Response, err error) result[T] { return result[T]{v, err} }

// must returns the value, or fails the test on an error.
func (r result[T]) must(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

// TestContract drives every endpoint with go-github v66, at the root and
// under /api/v3/.
func TestContract(t *testing.T) {
	t.Parallel()
	for _, mode := range clientModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, ghapi.Options{})
			exercise(t, f, mode.make(t, f.url, tokFull))
		})
	}
}

// exercise drives every endpoint of f with gh, a client of the all-powerful
// token, checking what go-github decodes.
func exercise(t *testing.T, f *fixture, gh *github.Client) {
	ctx := t.Context()

	var main string
	t.Run("repos", func(t *testing.T) {
		r := ok(gh.Repositories.Get(ctx, "acme", "widget")).must(t)
		if r.GetDefaultBranch() != "main" || r.GetFullName() != "acme/widget" || !slices.Equal(r.Topics, []string{"npm"}) {
			t.Errorf("repo = %v", r)
		}
		if r.GetCloneURL() != f.url+"acme/widget.git" {
			t.Errorf("clone_url = %q", r.GetCloneURL())
		}
		if !r.GetPermissions()["push"] || r.GetOwner().GetType() != "Organization" {
			t.Errorf("permissions %v owner %v", r.GetPermissions(), r.GetOwner())
		}
		u := ok(gh.Users.Get(ctx, "")).must(t)
		if u.GetLogin() != "alice" {
			t.Errorf("user = %q", u.GetLogin())
		}
		rl := ok(gh.RateLimit.Get(ctx)).must(t)
		if rl.GetCore().Limit != 5000 {
			t.Errorf("core limit = %d", rl.GetCore().Limit)
		}
	})
	t.Run("git data", func(t *testing.T) {
		ref := ok(gh.Git.GetRef(ctx, "acme", "widget", "heads/main")).must(t)
		main = ref.GetObject().GetSHA()
		if ref.GetRef() != "refs/heads/main" || len(main) != 40 {
			t.Fatalf("ref = %v", ref)
		}
		br := ok(gh.Repositories.GetBranch(ctx, "acme", "widget", "main", 0)).must(t)
		if br.GetCommit().GetSHA() != main {
			t.Errorf("branch sha = %q, want %q", br.GetCommit().GetSHA(), main)
		}
		cm := ok(gh.Git.GetCommit(ctx, "acme", "widget", main)).must(t)
		if cm.GetAuthor().GetName() != "Ada" || cm.GetMessage() != "Initial commit" {
			t.Errorf("commit = %v", cm)
		}
		rc := ok(gh.Repositories.GetCommit(ctx, "acme", "widget", "main", nil)).must(t)
		if rc.GetSHA() != main {
			t.Errorf("repo commit = %q", rc.GetSHA())
		}
		sha, _, err := gh.Repositories.GetCommitSHA1(ctx, "acme", "widget", "main", "")
		if err != nil || sha != main {
			t.Errorf("GetCommitSHA1 = %q, %v", sha, err)
		}
		_, resp, err := gh.Repositories.GetCommitSHA1(ctx, "acme", "widget", "main", main)
		if resp == nil || resp.StatusCode != http.StatusNotModified {
			t.Errorf("GetCommitSHA1 with ETag: %v", err)
		}
		tree := ok(gh.Git.GetTree(ctx, "acme", "widget", main, true)).must(t)
		var paths []string
		for _, e := range tree.Entries {
			paths = append(paths, e.GetPath())
		}
		want := []string{".github", ".github/workflows", ".github/workflows/release.yml", "README.md", "package.json", "src", "src/index.js"}
		if !slices.Equal(paths, want) || tree.GetTruncated() {
			t.Errorf("tree = %v (truncated %v), want %v", paths, tree.GetTruncated(), want)
		}
		var pkgSHA string
		for _, e := range tree.Entries {
			if e.GetPath() == "package.json" {
				pkgSHA = e.GetSHA()
				if e.GetMode() != "100644" || e.GetType() != "blob" || e.GetSize() != 23 {
					t.Errorf("entry = %v", e)
				}
			}
		}
		raw := ok(gh.Git.GetBlobRaw(ctx, "acme", "widget", pkgSHA)).must(t)
		if string(raw) != `{"name":"@acme/widget"}` {
			t.Errorf("raw blob = %q", raw)
		}
		blob := ok(gh.Git.GetBlob(ctx, "acme", "widget", pkgSHA)).must(t)
		if blob.GetEncoding() != "base64" || blob.GetSize() != 23 {
			t.Errorf("blob = %v", blob)
		}
		file, dir, _, err := gh.Repositories.GetContents(ctx, "acme", "widget", ".github/workflows/release.yml", &github.RepositoryContentGetOptions{Ref: "main"})
		if err != nil || dir != nil {
			t.Fatal(err)
		}
		if content, _ := file.GetContent(); content != "on: push\njobs: {}\n" {
			t.Errorf("contents = %q", content)
		}
		_, dir, _, err = gh.Repositories.GetContents(ctx, "acme", "widget", "src", nil)
		if err != nil || len(dir) != 1 || dir[0].GetName() != "index.js" || dir[0].GetType() != "file" {
			t.Errorf("dir = %v, %v", dir, err)
		}
		_, _, _, err = gh.Repositories.GetContents(ctx, "acme", "widget", "nope.txt", nil)
		if statusOf(err) != http.StatusNotFound {
			t.Errorf("missing file: %v", err)
		}
	})
	t.Run("refs", func(t *testing.T) {
		ref := ok(gh.Git.CreateRef(ctx, "acme", "widget", &github.Reference{Ref: github.String("refs/heads/feature/a"), Object: &github.GitObject{SHA: &main}})).must(t)
		if ref.GetRef() != "refs/heads/feature/a" {
			t.Errorf("created = %v", ref)
		}
		_, _, err := gh.Git.CreateRef(ctx, "acme", "widget", &github.Reference{Ref: github.String("refs/heads/feature/a"), Object: &github.GitObject{SHA: &main}})
		if statusOf(err) != http.StatusUnprocessableEntity {
			t.Errorf("duplicate ref: %v", err)
		}
		refs := ok(gh.Git.ListMatchingRefs(ctx, "acme", "widget", &github.ReferenceListOptions{Ref: "heads/feature"})).must(t)
		if len(refs) != 1 || refs[0].GetRef() != "refs/heads/feature/a" {
			t.Errorf("matching = %v", refs)
		}
		got := ok(gh.Git.GetRef(ctx, "acme", "widget", "refs/heads/feature/a")).must(t)
		if got.GetObject().GetSHA() != main {
			t.Errorf("get = %v", got)
		}
		ok(gh.Git.UpdateRef(ctx, "acme", "widget", &github.Reference{Ref: github.String("refs/heads/feature/a"), Object: &github.GitObject{SHA: &main}}, false)).must(t)
		if _, err := gh.Git.DeleteRef(ctx, "acme", "widget", "heads/feature/a"); err != nil {
			t.Fatal(err)
		}
		_, _, err = gh.Git.GetRef(ctx, "acme", "widget", "heads/feature/a")
		if statusOf(err) != http.StatusNotFound {
			t.Errorf("deleted ref: %v", err)
		}
	})
	t.Run("pulls", func(t *testing.T) {
		head := pushBranch(t, f, "campaign/oidc", "package.json", `{"name":"@acme/widget","v":2}`)
		pr := ok(gh.PullRequests.Create(ctx, "acme", "widget", &github.NewPullRequest{
			Title: github.String("Publish with OIDC"), Head: github.String("acme:campaign/oidc"),
			Base: github.String("main"), Body: github.String("body")})).must(t)
		if pr.GetNumber() != 1 || pr.GetHead().GetSHA() != head || pr.GetBase().GetRef() != "main" || pr.GetState() != "open" {
			t.Errorf("pr = %v", pr)
		}
		if !strings.HasSuffix(pr.GetHTMLURL(), "acme/widget/pull/1") {
			t.Errorf("html_url = %q", pr.GetHTMLURL())
		}
		_, _, err := gh.PullRequests.Create(ctx, "acme", "widget", &github.NewPullRequest{
			Title: github.String("again"), Head: github.String("campaign/oidc"), Base: github.String("main")})
		var er *github.ErrorResponse
		if !errors.As(err, &er) || er.Response.StatusCode != 422 || er.Message != "Validation Failed" ||
			len(er.Errors) != 1 || er.Errors[0].Code != "custom" || er.Errors[0].Resource != "PullRequest" ||
			er.Errors[0].Message != "A pull request already exists for acme:campaign/oidc." {
			t.Errorf("duplicate PR error = %#v", err)
		}
		list := ok(gh.PullRequests.List(ctx, "acme", "widget", &github.PullRequestListOptions{Head: "acme:campaign/oidc", State: "all"})).must(t)
		if len(list) != 1 || list[0].GetNumber() != 1 {
			t.Errorf("list by head = %v", list)
		}
		list = ok(gh.PullRequests.List(ctx, "acme", "widget", &github.PullRequestListOptions{Head: "acme:other", State: "all"})).must(t)
		if len(list) != 0 {
			t.Errorf("list by other head = %v", list)
		}
		list = ok(gh.PullRequests.List(ctx, "acme", "widget", &github.PullRequestListOptions{Base: "main", State: "closed"})).must(t)
		if len(list) != 0 {
			t.Errorf("list closed = %v", list)
		}
		got := ok(gh.PullRequests.Get(ctx, "acme", "widget", 1)).must(t)
		if !got.GetMergeable() || got.GetMergeableState() != "clean" {
			t.Errorf("mergeable = %v %q", got.Mergeable, got.GetMergeableState())
		}
		runs := ok(gh.Checks.ListCheckRunsForRef(ctx, "acme", "widget", head, nil)).must(t)
		if runs.GetTotal() != 1 || runs.CheckRuns[0].GetConclusion() != "success" || runs.CheckRuns[0].GetName() != "ci" {
			t.Errorf("check runs = %v", runs)
		}
		upd := ok(gh.PullRequests.Edit(ctx, "acme", "widget", 1, &github.PullRequest{Title: github.String("New title"), Body: github.String("new body")})).must(t)
		if upd.GetTitle() != "New title" || upd.GetBody() != "new body" {
			t.Errorf("edited = %v", upd)
		}
		rr := ok(gh.PullRequests.RequestReviewers(ctx, "acme", "widget", 1, github.ReviewersRequest{Reviewers: []string{"dave"}})).must(t)
		if len(rr.RequestedReviewers) != 1 || rr.RequestedReviewers[0].GetLogin() != "dave" {
			t.Errorf("reviewers = %v", rr.RequestedReviewers)
		}
		labels := ok(gh.Issues.AddLabelsToIssue(ctx, "acme", "widget", 1, []string{"cutover", "npm"})).must(t)
		if len(labels) != 2 || labels[0].GetName() != "cutover" {
			t.Errorf("labels = %v", labels)
		}
		is := ok(gh.Issues.AddAssignees(ctx, "acme", "widget", 1, []string{"erin"})).must(t)
		if len(is.Assignees) != 1 || is.Assignees[0].GetLogin() != "erin" || !is.IsPullRequest() {
			t.Errorf("assignees = %v", is.Assignees)
		}
		// The head moves with a push, and CI runs again.
		head2 := pushBranch(t, f, "campaign/oidc", "README.md", "# widget v2\n")
		got = ok(gh.PullRequests.Get(ctx, "acme", "widget", 1)).must(t)
		if got.GetHead().GetSHA() != head2 {
			t.Errorf("head after push = %q, want %q", got.GetHead().GetSHA(), head2)
		}
		runs = ok(gh.Checks.ListCheckRunsForRef(ctx, "acme", "widget", "campaign/oidc", nil)).must(t)
		if runs.GetTotal() != 1 || runs.CheckRuns[0].GetHeadSHA() != head2 {
			t.Errorf("check runs after push = %v", runs)
		}
		_, _, err = gh.PullRequests.Merge(ctx, "acme", "widget", 1, "", &github.PullRequestOptions{SHA: head})
		if statusOf(err) != http.StatusConflict {
			t.Errorf("merge with stale sha: %v", err)
		}
		res := ok(gh.PullRequests.Merge(ctx, "acme", "widget", 1, "merged by test", &github.PullRequestOptions{SHA: head2, MergeMethod: "squash"})).must(t)
		if !res.GetMerged() {
			t.Errorf("merge = %v", res)
		}
		merged := ok(gh.PullRequests.Get(ctx, "acme", "widget", 1)).must(t)
		if !merged.GetMerged() || merged.GetState() != "closed" || merged.GetMergeCommitSHA() != res.GetSHA() {
			t.Errorf("merged pr = %v", merged)
		}
		ref := ok(gh.Git.GetRef(ctx, "acme", "widget", "heads/main")).must(t)
		if ref.GetObject().GetSHA() != res.GetSHA() {
			t.Errorf("main = %q, want merge %q", ref.GetObject().GetSHA(), res.GetSHA())
		}
		file, _, _, err := gh.Repositories.GetContents(ctx, "acme", "widget", "README.md", nil)
		if c, _ := file.GetContent(); err != nil || c != "# widget v2\n" {
			t.Errorf("README after merge = %q, %v", c, err)
		}
		// A closed PR can be reopened only while no other is open for the head.
		pushBranch(t, f, "campaign/two", "x.txt", "x")
		ok(gh.PullRequests.Create(ctx, "acme", "widget", &github.NewPullRequest{
			Title: github.String("two"), Head: github.String("campaign/two"), Base: github.String("main")})).must(t)
		closed := ok(gh.PullRequests.Edit(ctx, "acme", "widget", 2, &github.PullRequest{State: github.String("closed")})).must(t)
		if closed.GetState() != "closed" {
			t.Errorf("closed = %v", closed.GetState())
		}
		ok(gh.PullRequests.Create(ctx, "acme", "widget", &github.NewPullRequest{
			Title: github.String("three"), Head: github.String("campaign/two"), Base: github.String("main")})).must(t)
		_, _, err = gh.PullRequests.Edit(ctx, "acme", "widget", 2, &github.PullRequest{State: github.String("open")})
		if statusOf(err) != 422 {
			t.Errorf("reopen with another open PR: %v", err)
		}
	})
	t.Run("checks and statuses", func(t *testing.T) {
		ref := ok(gh.Git.GetRef(ctx, "acme", "widget", "heads/main")).must(t)
		sha := ref.GetObject().GetSHA()
		st := ok(gh.Repositories.GetCombinedStatus(ctx, "acme", "widget", "main", nil)).must(t)
		if st.GetState() != "pending" || st.GetTotalCount() != 0 {
			t.Errorf("empty combined = %v", st)
		}
		if err := f.api.SetStatus("acme", "widget", sha, ghapi.Status{Context: "build", State: "success"}); err != nil {
			t.Fatal(err)
		}
		ok(gh.Repositories.CreateStatus(ctx, "acme", "widget", sha, &github.RepoStatus{State: github.String("failure"), Context: github.String("lint")})).must(t)
		st = ok(gh.Repositories.GetCombinedStatus(ctx, "acme", "widget", "main", nil)).must(t)
		if st.GetState() != "failure" || st.GetTotalCount() != 2 {
			t.Errorf("combined = %v", st)
		}
		if err := f.api.SetCheckRun("acme", "widget", sha, ghapi.CheckRun{Name: "build", Conclusion: "failure", Summary: "broken"}); err != nil {
			t.Fatal(err)
		}
		commits := ok(gh.Repositories.ListCommits(ctx, "acme", "widget", &github.CommitsListOptions{SHA: "main"})).must(t)
		if len(commits) == 0 || commits[0].GetSHA() != sha || commits[0].GetCommit().GetMessage() == "" {
			t.Errorf("commits of main = %v, want %s first", commits, sha)
		}
		future := ok(gh.Repositories.ListCommits(ctx, "acme", "widget", &github.CommitsListOptions{Since: time.Now().Add(time.Hour)})).must(t)
		if len(future) != 0 {
			t.Errorf("commits since an hour from now = %v", future)
		}
		if _, _, err := gh.Repositories.ListCommits(ctx, "acme", "widget", &github.CommitsListOptions{SHA: "no-such-branch"}); statusOf(err) != http.StatusNotFound {
			t.Errorf("commits of an unknown branch: %v", err)
		}
		runs := ok(gh.Checks.ListCheckRunsForRef(ctx, "acme", "widget", "main", &github.ListCheckRunsOptions{CheckName: github.String("build")})).must(t)
		if runs.GetTotal() != 1 || runs.CheckRuns[0].GetConclusion() != "failure" || runs.CheckRuns[0].GetOutput().GetSummary() != "broken" {
			t.Errorf("runs = %v", runs)
		}
	})
	t.Run("issues", func(t *testing.T) {
		is := ok(gh.Issues.Create(ctx, "acme", "widget", &github.IssueRequest{
			Title: github.String("Rotate the npm token"), Body: github.String("soon"), Labels: &[]string{"cutover"}})).must(t)
		n := is.GetNumber()
		if is.GetState() != "open" || len(is.Labels) != 1 || is.GetUser().GetLogin() != "alice" {
			t.Errorf("issue = %v", is)
		}
		ok(gh.Issues.CreateComment(ctx, "acme", "widget", n, &github.IssueComment{Body: github.String("reminder")})).must(t)
		comments := ok(gh.Issues.ListComments(ctx, "acme", "widget", n, nil)).must(t)
		if len(comments) != 1 || comments[0].GetBody() != "reminder" {
			t.Errorf("comments = %v", comments)
		}
		list := ok(gh.Issues.ListByRepo(ctx, "acme", "widget", &github.IssueListByRepoOptions{Labels: []string{"cutover"}, State: "open", Creator: "alice"})).must(t)
		found := false
		for _, x := range list {
			found = found || x.GetNumber() == n
		}
		if !found {
			t.Errorf("list = %v", list)
		}
		got := ok(gh.Issues.Get(ctx, "acme", "widget", n)).must(t)
		if got.GetComments() != 1 {
			t.Errorf("comments count = %d", got.GetComments())
		}
		closed := ok(gh.Issues.Edit(ctx, "acme", "widget", n, &github.IssueRequest{State: github.String("closed"), StateReason: github.String("completed")})).must(t)
		if closed.GetState() != "closed" || closed.ClosedAt == nil {
			t.Errorf("closed = %v", closed)
		}
		list = ok(gh.Issues.ListByRepo(ctx, "acme", "widget", &github.IssueListByRepoOptions{Labels: []string{"cutover"}, State: "open"})).must(t)
		for _, x := range list {
			if x.GetNumber() == n {
				t.Errorf("closed issue listed as open")
			}
		}
	})
	t.Run("variables", func(t *testing.T) {
		if _, err := gh.Actions.CreateRepoVariable(ctx, "acme", "widget", &github.ActionsVariable{Name: "CUTOVER_NPM_OIDC", Value: "false"}); err != nil {
			t.Fatal(err)
		}
		_, err := gh.Actions.CreateRepoVariable(ctx, "acme", "widget", &github.ActionsVariable{Name: "CUTOVER_NPM_OIDC", Value: "false"})
		if statusOf(err) != http.StatusConflict {
			t.Errorf("duplicate variable: %v", err)
		}
		if _, err := gh.Actions.UpdateRepoVariable(ctx, "acme", "widget", &github.ActionsVariable{Name: "CUTOVER_NPM_OIDC", Value: "true"}); err != nil {
			t.Fatal(err)
		}
		v := ok(gh.Actions.GetRepoVariable(ctx, "acme", "widget", "CUTOVER_NPM_OIDC")).must(t)
		if v.Value != "true" || v.UpdatedAt == nil {
			t.Errorf("variable = %v", v)
		}
		vars := ok(gh.Actions.ListRepoVariables(ctx, "acme", "widget", nil)).must(t)
		if vars.TotalCount != 1 || vars.Variables[0].Name != "CUTOVER_NPM_OIDC" {
			t.Errorf("variables = %v", vars)
		}
		if _, err := gh.Actions.DeleteRepoVariable(ctx, "acme", "widget", "CUTOVER_NPM_OIDC"); err != nil {
			t.Fatal(err)
		}
		_, _, err = gh.Actions.GetRepoVariable(ctx, "acme", "widget", "CUTOVER_NPM_OIDC")
		if statusOf(err) != http.StatusNotFound {
			t.Errorf("deleted variable: %v", err)
		}
		f.api.SetOrgVariable("acme", "NODE_VERSION", "22", "all")
		ov := ok(gh.Actions.GetOrgVariable(ctx, "acme", "NODE_VERSION")).must(t)
		if ov.Value != "22" || ov.GetVisibility() != "all" {
			t.Errorf("org variable = %v", ov)
		}
		ovs := ok(gh.Actions.ListOrgVariables(ctx, "acme", nil)).must(t)
		if ovs.TotalCount != 1 {
			t.Errorf("org variables = %v", ovs)
		}
		rovs := ok(gh.Actions.ListRepoOrgVariables(ctx, "acme", "widget", nil)).must(t)
		if rovs.TotalCount != 1 {
			t.Errorf("repo org variables = %v", rovs)
		}
	})
	t.Run("secrets", func(t *testing.T) {
		old := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
		if err := f.api.SetRepoSecret("acme", "widget", "NPM_TOKEN", ghapi.SecretOptions{CreatedAt: old, UpdatedAt: old}); err != nil {
			t.Fatal(err)
		}
		secrets := ok(gh.Actions.ListRepoSecrets(ctx, "acme", "widget", nil)).must(t)
		if secrets.TotalCount != 1 || secrets.Secrets[0].Name != "NPM_TOKEN" || !secrets.Secrets[0].UpdatedAt.Time.Equal(old) {
			t.Errorf("secrets = %v", secrets)
		}
		key := ok(gh.Actions.GetRepoPublicKey(ctx, "acme", "widget")).must(t)
		if key.GetKeyID() == "" || key.GetKey() == "" {
			t.Errorf("public key = %v", key)
		}
		resp, err := gh.Actions.CreateOrUpdateRepoSecret(ctx, "acme", "widget", &github.EncryptedSecret{Name: "OTHER", KeyID: key.GetKeyID(), EncryptedValue: "c2VjcmV0"})
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Errorf("create secret: %v", err)
		}
		resp, err = gh.Actions.CreateOrUpdateRepoSecret(ctx, "acme", "widget", &github.EncryptedSecret{Name: "OTHER", KeyID: key.GetKeyID(), EncryptedValue: "c2VjcmV0"})
		if err != nil || resp.StatusCode != http.StatusNoContent {
			t.Errorf("update secret: %v", err)
		}
		s := ok(gh.Actions.GetRepoSecret(ctx, "acme", "widget", "OTHER")).must(t)
		if s.Name != "OTHER" {
			t.Errorf("secret = %v", s)
		}
		if _, err := gh.Actions.DeleteRepoSecret(ctx, "acme", "widget", "NPM_TOKEN"); err != nil {
			t.Fatal(err)
		}
		// Environment secrets on go-github's legacy path.
		r := ok(gh.Repositories.Get(ctx, "acme", "widget")).must(t)
		if err := f.api.SetEnvSecret("acme", "widget", "npm publish", "NPM_TOKEN", ghapi.SecretOptions{UpdatedAt: old}); err != nil {
			t.Fatal(err)
		}
		es := ok(gh.Actions.ListEnvSecrets(ctx, int(r.GetID()), "npm publish", nil)).must(t)
		if es.TotalCount != 1 || es.Secrets[0].Name != "NPM_TOKEN" {
			t.Errorf("env secrets = %v", es)
		}
		ek := ok(gh.Actions.GetEnvPublicKey(ctx, int(r.GetID()), "npm publish")).must(t)
		if _, err := gh.Actions.CreateOrUpdateEnvSecret(ctx, int(r.GetID()), "npm publish", &github.EncryptedSecret{Name: "X", KeyID: ek.GetKeyID(), EncryptedValue: "eA=="}); err != nil {
			t.Fatal(err)
		}
		if _, err := gh.Actions.DeleteEnvSecret(ctx, int(r.GetID()), "npm publish", "NPM_TOKEN"); err != nil {
			t.Fatal(err)
		}
		es = ok(gh.Actions.ListEnvSecrets(ctx, int(r.GetID()), "npm publish", nil)).must(t)
		if es.TotalCount != 1 || es.Secrets[0].Name != "X" {
			t.Errorf("env secrets after = %v", es)
		}
		// Organization secrets.
		f.api.SetOrgSecret("acme", "NPM_TOKEN", ghapi.SecretOptions{Visibility: "private", UpdatedAt: old})
		os := ok(gh.Actions.ListOrgSecrets(ctx, "acme", nil)).must(t)
		if os.TotalCount != 1 || os.Secrets[0].Visibility != "private" || !os.Secrets[0].UpdatedAt.Time.Equal(old) {
			t.Errorf("org secrets = %v", os)
		}
		ok(gh.Actions.GetOrgPublicKey(ctx, "acme")).must(t)
		if _, err := gh.Actions.CreateOrUpdateOrgSecret(ctx, "acme", &github.EncryptedSecret{Name: "B", EncryptedValue: "eA==", Visibility: "all"}); err != nil {
			t.Fatal(err)
		}
		if _, err := gh.Actions.DeleteOrgSecret(ctx, "acme", "NPM_TOKEN"); err != nil {
			t.Fatal(err)
		}
		os = ok(gh.Actions.ListOrgSecrets(ctx, "acme", nil)).must(t)
		if os.TotalCount != 1 || os.Secrets[0].Name != "B" {
			t.Errorf("org secrets after = %v", os)
		}
	})
	t.Run("environments", func(t *testing.T) {
		env := ok(gh.Repositories.CreateUpdateEnvironment(ctx, "acme", "widget", "release", &github.CreateUpdateEnvironment{
			WaitTimer:              github.Int(30),
			Reviewers:              []*github.EnvReviewers{{Type: github.String("User"), ID: github.Int64(f.api.AddToken("t2", ghapi.Identity{Login: "dave"}).ID)}},
			DeploymentBranchPolicy: &github.BranchPolicy{ProtectedBranches: github.Bool(true), CustomBranchPolicies: github.Bool(false)},
		})).must(t)
		if env.GetName() != "release" || len(env.ProtectionRules) != 3 {
			t.Fatalf("env = %v", env)
		}
		got := ok(gh.Repositories.GetEnvironment(ctx, "acme", "widget", "release")).must(t)
		types := map[string]bool{}
		for _, r := range got.ProtectionRules {
			types[r.GetType()] = true
			if r.GetType() == "wait_timer" && r.GetWaitTimer() != 30 {
				t.Errorf("wait timer = %d", r.GetWaitTimer())
			}
			if r.GetType() == "required_reviewers" {
				u, ok := r.Reviewers[0].Reviewer.(*github.User)
				if !ok || u.GetLogin() != "dave" {
					t.Errorf("reviewer = %#v", r.Reviewers[0].Reviewer)
				}
			}
		}
		if !types["wait_timer"] || !types["required_reviewers"] || !types["branch_policy"] || !got.GetDeploymentBranchPolicy().GetProtectedBranches() {
			t.Errorf("rules = %v", got.ProtectionRules)
		}
		// A PUT without fields clears the rules, as on GitHub.
		env = ok(gh.Repositories.CreateUpdateEnvironment(ctx, "acme", "widget", "release", &github.CreateUpdateEnvironment{})).must(t)
		if len(env.ProtectionRules) != 0 || env.DeploymentBranchPolicy != nil {
			t.Errorf("cleared env = %v", env)
		}
		envs := ok(gh.Repositories.ListEnvironments(ctx, "acme", "widget", nil)).must(t)
		if envs.GetTotalCount() != 2 {
			t.Errorf("environments = %v", envs)
		}
	})
}

// TestPaginationAndTruncation lists many repositories page by page and
// reads a tree over the entry limit.
func TestPaginationAndTruncation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, ghapi.Options{TreeLimit: 5})
	for i := range 24 {
		if err := f.api.CreateRepo("acme", fmt.Sprintf("repo-%02d", i), ghapi.RepoOptions{Archived: i%5 == 0}); err != nil {
			t.Fatal(err)
		}
	}
	for _, mode := range clientModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			gh := mode.make(t, f.url, tokFull)
			opts := &github.RepositoryListByOrgOptions{Sort: "full_name", ListOptions: github.ListOptions{PerPage: 10}}
			var names []string
			pages := 0
			for {
				repos, resp, err := gh.Repositories.ListByOrg(t.Context(), "acme", opts)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				for _, r := range repos {
					names = append(names, r.GetName())
				}
				if resp.NextPage == 0 {
					if resp.LastPage != 0 {
						t.Errorf("last page on the last page = %d", resp.LastPage)
					}
					break
				}
				if resp.LastPage != 3 {
					t.Errorf("LastPage = %d, want 3", resp.LastPage)
				}
				opts.Page = resp.NextPage
			}
			if pages != 3 || len(names) != 25 || !slices.IsSorted(names) {
				t.Errorf("pages %d, names %v", pages, names)
			}
			tree := ok(gh.Git.GetTree(t.Context(), "acme", "widget", "main", true)).must(t)
			if !tree.GetTruncated() || len(tree.Entries) != 5 {
				t.Errorf("truncated %v with %d entries", tree.GetTruncated(), len(tree.Entries))
			}
			tree = ok(gh.Git.GetTree(t.Context(), "acme", "widget", "main", false)).must(t)
			if tree.GetTruncated() || len(tree.Entries) != 4 {
				t.Errorf("top level: truncated %v with %d entries", tree.GetTruncated(), len(tree.Entries))
			}
		})
	}
}

// TestAuthErrors checks 401 and 403 the way go-github sees them.
func TestAuthErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t, ghapi.Options{})
	tests := []struct {
		name       string
		token      string
		call       func(gh *github.Client) error
		wantStatus int
		wantMsg    string
	}{
		{"no token writes", "", func(gh *github.Client) error {
			_, _, err := gh.Issues.Create(t.Context(), "acme", "widget", &github.IssueRequest{Title: github.String("x")})
			return err
		}, 401, "Requires authentication"},
		{"bad token", "nope", func(gh *github.Client) error {
			_, _, err := gh.Repositories.Get(t.Context(), "acme", "widget")
			return err
		}, 401, "Bad credentials"},
		{"read-only creates a PR", tokReadOnly, func(gh *github.Client) error {
			_, _, err := gh.PullRequests.Create(t.Context(), "acme", "widget", &github.NewPullRequest{Title: github.String("x"), Head: github.String("x"), Base: github.String("main")})
			return err
		}, 403, "Resource not accessible by personal access token"},
		{"read-only writes a variable", tokReadOnly, func(gh *github.Client) error {
			_, err := gh.Actions.CreateRepoVariable(t.Context(), "acme", "widget", &github.ActionsVariable{Name: "A", Value: "b"})
			return err
		}, 403, "Resource not accessible by personal access token"},
		{"read-only lists org secrets", tokReadOnly, func(gh *github.Client) error {
			_, _, err := gh.Actions.ListOrgSecrets(t.Context(), "acme", nil)
			return err
		}, 403, "Resource not accessible by personal access token"},
		{"no workflows moves a ref onto a workflow change", tokNoFlow, func(gh *github.Client) error {
			sha := commitOnBranch(t, f, "wf", ".github/workflows/release.yml", "on: pull_request\n")
			_, _, err := gh.Git.CreateRef(t.Context(), "acme", "widget", &github.Reference{Ref: github.String("refs/heads/wf2"), Object: &github.GitObject{SHA: &sha}})
			return err
		}, 403, "refusing to allow a Personal Access Token to create or update workflow `.github/workflows/release.yml` without `workflow` scope"},
		{"unknown repo", tokFull, func(gh *github.Client) error {
			_, _, err := gh.Repositories.Get(t.Context(), "acme", "nope")
			return err
		}, 404, "Not Found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gh := clientModes[0].make(t, f.url, tt.token)
			if tt.token == "" {
				gh, _ = github.NewClient(nil).WithEnterpriseURLs(f.url, f.url)
			}
			err := tt.call(gh)
			var er *github.ErrorResponse
			if !errors.As(err, &er) || er.Response.StatusCode != tt.wantStatus || er.Message != tt.wantMsg {
				t.Fatalf("error = %v, want %d %q", err, tt.wantStatus, tt.wantMsg)
			}
			if tt.wantStatus == 403 && er.Response.Header.Get("X-RateLimit-Remaining") == "0" {
				t.Errorf("a permission 403 must not look like a rate limit")
			}
		})
	}
}
