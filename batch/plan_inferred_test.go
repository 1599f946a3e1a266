package batch

import (
	"slices"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/classdoc"
	"github.com/cutover/cutover/rewrite"
	"github.com/cutover/cutover/templates"
)

// TestInferredPublisherInPlanAndPR: a job that writes an .npmrc token and
// runs a package script is planned like any publisher, listed as inferred
// in the plan, and named in the pull request text.
func TestInferredPublisherInPlanAndPR(t *testing.T) {
	wf := []byte(`on: push
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - run: echo "//npm-registry.invalid/:_authToken=${{ secrets.NPM_TOKEN }}" > .npmrc
      - run: yarn ship
`)
	res := rewrite.Detect(rewrite.Snapshot{Repo: "acme/ship", Files: map[string][]byte{".github/workflows/release.yml": wf, "package.json": []byte(`{"name":"ship","version":"1.0.0"}`)}}, rewrite.Options{Registry: "https://npm-registry.invalid/"})
	if !res.Publishes || res.Pipelines[0].Confidence != rewrite.ConfidenceInferred {
		t.Fatalf("not an inferred publisher: %+v", res.Pipelines)
	}
	plan, err := MakePlan([]Candidate{{Repo: "acme/ship", Result: classdoc.FromResult(res)}}, PlanOptions{NoCanaries: true, Sizes: []int{10}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(plan.Inferred, "acme/ship: .github/workflows/release.yml#release") || len(plan.Skipped) != 0 {
		t.Errorf("plan: %+v", plan)
	}
	body, err := templates.Render("pr/body.md.tmpl", map[string]any{"Repo": "acme/ship", "Inferred": inferredJobs(res)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "confidence: inferred") || !strings.Contains(body, "`.github/workflows/release.yml#release`") {
		t.Errorf("PR body:\n%s", body)
	}
}
