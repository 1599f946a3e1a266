package sandbox_test

import (
	"bytes"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/rewrite"
)

// testRegistry stands in for the emulator's URL when files are rendered
// without a World.
const testRegistry = "http://127.0.0.1:4873/npm/"

func TestGenerateIsDeterministic(t *testing.T) {
	t.Parallel()
	a := sandbox.Generate(7, 60, sandbox.PortfolioOptions{})
	b := sandbox.Generate(7, 60, sandbox.PortfolioOptions{})
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two portfolios of one seed differ")
	}
	for _, r := range a.Repos {
		fa, err := a.Files(r, testRegistry)
		if err != nil {
			t.Fatal(err)
		}
		fb, _ := b.Files(r, testRegistry)
		if !maps.EqualFunc(fa, fb, bytes.Equal) {
			t.Fatalf("%s: files differ between two renders", r.Name)
		}
	}
	c := sandbox.Generate(8, 60, sandbox.PortfolioOptions{})
	if reflect.DeepEqual(a.Repos, c.Repos) {
		t.Fatal("seeds 7 and 8 gave the same portfolio")
	}
}

// TestPortfolioMatchesDetect generates 200 repositories and checks, with
// rewrite.Detect, that each is what the generator says it is. The generator
// never saw the detector's test data, so this also checks the detector.
func TestPortfolioMatchesDetect(t *testing.T) {
	t.Parallel()
	p := sandbox.Generate(20260901, 200, sandbox.PortfolioOptions{CircleCI: 6})
	kinds := map[sandbox.Kind]int{}
	for _, r := range append(slices.Clone(p.Repos), p.GitLab...) {
		kinds[r.Kind]++
		t.Run(r.Name, func(t *testing.T) {
			t.Parallel()
			files, err := p.Files(r, testRegistry)
			if err != nil {
				t.Fatal(err)
			}
			res := rewrite.Detect(rewrite.Snapshot{Repo: r.FullName(p.Org), Files: files}, rewrite.Options{Registry: testRegistry})
			checkDetect(t, p, r, files, res)
			if t.Failed() {
				for _, name := range slices.Sorted(maps.Keys(files)) {
					if strings.HasPrefix(name, ".github/") || name == r.Workflow {
						t.Logf("%s (%s):\n%s", name, r.Kind, files[name])
					}
				}
			}
		})
	}
	for _, k := range sandbox.Kinds() {
		if kinds[k] == 0 {
			t.Errorf("no repository of kind %q among 200", k)
		}
	}
}

func checkDetect(t *testing.T, p sandbox.Portfolio, r sandbox.Repo, files map[string][]byte, res *rewrite.Result) {
	t.Helper()
	if res.Publishes != r.Publishes {
		t.Errorf("Publishes = %v, generator says %v", res.Publishes, r.Publishes)
	}
	if res.Credential != r.Credential {
		t.Errorf("Credential = %q, generator says %q", res.Credential, r.Credential)
	}
	invalid := false
	for _, f := range res.Findings {
		if f.Code == "workflow-invalid" {
			invalid = true
		}
	}
	if invalid != r.Broken {
		t.Errorf("workflow-invalid finding = %v, generator says broken = %v (findings %v)", invalid, r.Broken, res.Findings)
	}
	if !r.Publishes {
		return
	}
	var got []string
	for _, pkg := range res.Packages {
		if pkg.Publishable {
			got = append(got, pkg.Name)
		}
	}
	sort.Strings(got)
	want := r.Publishable()
	sort.Strings(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("publishable packages (-generator +detect):\n%s", diff)
	}
	if len(res.Pipelines) != 1 {
		t.Fatalf("%d pipelines, want 1: %+v", len(res.Pipelines), res.Pipelines)
	}
	pl := res.Pipelines[0]
	if pl.Workflow != r.Workflow {
		t.Errorf("pipeline workflow = %q, generator says %q", pl.Workflow, r.Workflow)
	}
	if !slices.Equal(pl.TrustedWorkflow, []string{r.TrustedWorkflow}) {
		t.Errorf("trusted workflow = %q, generator says %q", pl.TrustedWorkflow, r.TrustedWorkflow)
	}
	if pl.Environment != r.Environment {
		t.Errorf("environment = %q, generator says %q", pl.Environment, r.Environment)
	}
	if pl.SelfHosted != r.SelfHosted {
		t.Errorf("self-hosted = %v, generator says %v", pl.SelfHosted, r.SelfHosted)
	}
	var secrets []string
	for _, f := range pl.Feeds {
		if f.Secret != "" && !slices.Contains(secrets, f.Secret) {
			secrets = append(secrets, f.Secret)
		}
	}
	wantSecret := ""
	if r.Secret != nil {
		// For reusable workflows Detect follows the caller's secrets:
		// mapping to the repository secret.
		wantSecret = r.Secret.Name
	}
	switch {
	case r.Secret == nil && len(secrets) > 0:
		t.Errorf("token secrets %q, generator says none", secrets)
	case r.Secret != nil && !slices.Contains(secrets, wantSecret):
		t.Errorf("token secrets %q, want %q", secrets, wantSecret)
	}
	for _, need := range res.Trust {
		if need.Repository != r.FullName(p.Org) || need.Workflow != r.TrustedWorkflow || need.Environment != r.Environment {
			t.Errorf("trust need %+v, generator says %s %s %q", need, r.FullName(p.Org), r.TrustedWorkflow, r.Environment)
		}
	}
}

// TestPortfolioLintsClean checks that every generated workflow but the
// broken ones passes actionlint, before and after the oidc playbook, so the
// lint CI fails only where the generator meant it to.
func TestPortfolioLintsClean(t *testing.T) {
	t.Parallel()
	p := sandbox.Generate(3, 120, sandbox.PortfolioOptions{})
	for _, r := range p.Repos {
		t.Run(r.Name, func(t *testing.T) {
			t.Parallel()
			files, err := p.Files(r, testRegistry)
			if err != nil {
				t.Fatal(err)
			}
			lintAll(t, "generated", files, r.Broken)
			rw, err := rewrite.Rewrite(rewrite.Snapshot{Repo: r.FullName(p.Org), Files: files}, rewrite.RewriteOptions{Registry: testRegistry})
			if err != nil {
				t.Fatal(err)
			}
			after := maps.Clone(files)
			for _, f := range rw.Files {
				if f.Status == rewrite.StatusRewritten {
					after[f.Path] = f.After
				}
			}
			lintAll(t, "rewritten", after, r.Broken)
		})
	}
}

func lintAll(t *testing.T, what string, files map[string][]byte, broken bool) {
	t.Helper()
	bad := 0
	for name, b := range files {
		if !strings.HasPrefix(name, ".github/workflows/") {
			continue
		}
		errs, err := rewrite.LintWorkflow(name, b)
		if err != nil {
			t.Fatal(err)
		}
		if len(errs) > 0 {
			bad++
			if !broken {
				t.Errorf("%s %s: %s\n%s", what, name, strings.Join(errs, "; "), b)
			}
		}
	}
	if broken && bad == 0 {
		t.Errorf("%s: a broken repository lints clean", what)
	}
}

func ExampleGenerate() {
	p := sandbox.Generate(1, 3, sandbox.PortfolioOptions{Org: "acme"})
	for _, r := range p.Repos {
		fmt.Println(r.FullName(p.Org), r.Kind, r.Credential)
	}
}
