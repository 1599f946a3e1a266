package github_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/forge"
	"github.com/cutover/cutover/internal/forge/github"
	"github.com/cutover/cutover/internal/sandbox"
)

// TestEnsurePRWrites counts the writes EnsurePR makes against the sandbox:
// one create, one issue update for labels and assignees together, one
// review request only when reviewers are configured, and nothing at all
// when the pull request is already as wanted.
func TestEnsurePRWrites(t *testing.T) {
	t.Parallel()
	w := startWorld(t, sandbox.Options{})
	f, rec := newForge(t, w, github.Options{BaseURL: w.URL}, tokFull)
	ctx := t.Context()
	repo := repoOf(t, f, "acme/widget")
	raw := rawClient(t, w, tokFull)
	full := forge.PRSpec{Title: "Publish with OIDC", Body: "body", Labels: []string{"cutover", "npm-oidc"},
		Reviewers: []string{"dora"}, Assignees: []string{"erin"}}
	tests := []struct {
		name           string
		spec           forge.PRSpec
		writes, create int64
		wantWrites     []string
	}{
		{"no labels, no reviewers: the create only", forge.PRSpec{Title: "t"}, 1, 1, []string{"POST /pulls"}},
		{"labels: one issue update", forge.PRSpec{Title: "t", Labels: []string{"cutover", "npm-oidc"}}, 2, 1,
			[]string{"POST /pulls", "PATCH /issues/"}},
		{"labels and assignees: still one issue update", forge.PRSpec{Title: "t", Labels: []string{"cutover"}, Assignees: []string{"erin"}}, 2, 1,
			[]string{"POST /pulls", "PATCH /issues/"}},
		{"reviewers configured: one review request more", full, 3, 1,
			[]string{"POST /pulls", "PATCH /issues/", "POST /requested_reviewers"}},
	}
	for i, tt := range tests {
		branch := fmt.Sprintf("cutover/w%d", i)
		if _, err := f.Push(ctx, repo, forge.Change{Branch: branch, Files: map[string][]byte{"A.md": []byte(branch + "\n")}}); err != nil {
			t.Fatal(err)
		}
		spec := tt.spec
		spec.Head = branch
		rec.reset()
		before := f.Stats()
		if _, err := f.EnsurePR(ctx, repo, spec); err != nil {
			t.Fatal(err)
		}
		after := f.Stats()
		if got := writesOf(rec.all()); after.Writes-before.Writes != tt.writes || after.Content-before.Content != tt.create || !matchAll(got, tt.wantWrites) {
			t.Errorf("%s: %d writes (%d content): %v; want %d (%d): %v", tt.name, after.Writes-before.Writes, after.Content-before.Content, got, tt.writes, tt.create, tt.wantWrites)
		}

		// A re-run finding the pull request up to date writes nothing.
		rec.reset()
		before = f.Stats()
		if _, err := f.EnsurePR(ctx, repo, spec); err != nil {
			t.Fatal(err)
		}
		if after := f.Stats(); after.Writes != before.Writes {
			t.Errorf("%s, again: %d writes: %v", tt.name, after.Writes-before.Writes, writesOf(rec.all()))
		}
	}

	// A new title and one more label: one issue update that keeps the
	// label someone added by hand.
	spec := full
	spec.Head = "cutover/w3"
	pr, err := f.EnsurePR(ctx, repo, spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := raw.Issues.AddLabelsToIssue(ctx, "acme", "widget", pr.Number, []string{"keep-me"}); err != nil {
		t.Fatal(err)
	}
	spec.Title, spec.Labels = "Publish npm packages with OIDC", append(spec.Labels, "wave-2")
	rec.reset()
	before := f.Stats()
	if _, err := f.EnsurePR(ctx, repo, spec); err != nil {
		t.Fatal(err)
	}
	if got := writesOf(rec.all()); f.Stats().Writes-before.Writes != 1 || !matchAll(got, []string{"PATCH /issues/"}) {
		t.Errorf("update: %v", got)
	}
	got, _, err := raw.PullRequests.Get(ctx, "acme", "widget", pr.Number)
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, l := range got.Labels {
		labels = append(labels, l.GetName())
	}
	slices.Sort(labels)
	if want := []string{"cutover", "keep-me", "npm-oidc", "wave-2"}; got.GetTitle() != spec.Title || !slices.Equal(labels, want) {
		t.Errorf("title %q labels %v, want %v", got.GetTitle(), labels, want)
	}
}

// writesOf keeps the requests that are not reads.
func writesOf(reqs []string) []string {
	var out []string
	for _, r := range reqs {
		if m, _, _ := strings.Cut(r, " "); m != "GET" && m != "HEAD" {
			out = append(out, r)
		}
	}
	return out
}

// matchAll reports whether got has one request per pattern of want
// ("METHOD fragment"), in order, with that method and a path containing
// that fragment.
func matchAll(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i, w := range want {
		m, frag, _ := strings.Cut(w, " ")
		gm, gp, _ := strings.Cut(got[i], " ")
		if gm != m || !strings.Contains(gp, frag) {
			return false
		}
	}
	return true
}
