package batch_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/batch"
	gh "github.com/cutover/cutover/internal/forge/github"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

const (
	testToken    = "ghp_enginetest000000000000000000"
	testRegistry = "https://npm-registry.invalid/"
)

func tokenWorkflow(node string) string {
	return `name: release
on:
  release:
    types: [published]
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: ` + node + `
          registry-url: https://npm-registry.invalid/
      - run: npm ci
      - run: npm publish
        env:
          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}
`
}

const oidcWorkflow = `name: release
on: push
permissions:
  id-token: write
  contents: read
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/setup-node@v4
        with:
          node-version: 24
      - run: npm publish
`

const changesetsWorkflow = `name: release
on:
  push:
    branches: [main]
jobs:
  release:
    runs-on: ubuntu-latest
    permissions:
      contents: write
      pull-requests: write
    steps:
      - uses: actions/checkout@v4
      - uses: changesets/action@v1
        with:
          publish: pnpm changeset publish
        env:
          GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}
          NPM_TOKEN: ${{ secrets.NPM_TOKEN }}
`

type fixture struct {
	world  *sandbox.World
	client *github.Client
	engine *batch.Engine
	led    *ledger.Ledger
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := t.Context()
	w, err := sandbox.Start(ctx, sandbox.Options{Limits: ghapi.Limits{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	w.API.AddToken(testToken, ghapi.Identity{Login: "campaigner", Permissions: ghapi.AllPermissions()})
	repos := map[string]map[string]string{
		"mono": {
			".github/workflows/release.yml": changesetsWorkflow,
			"package.json":                  `{"name":"mono","private":true}`,
			"pnpm-workspace.yaml":           "packages:\n  - packages/*\n",
			"packages/a/package.json":       `{"name":"@acme/a","publishConfig":{"access":"public"}}`,
			"packages/b/package.json":       `{"name":"@acme/b","publishConfig":{"access":"public"}}`,
		},
		"single":  {".github/workflows/release.yml": tokenWorkflow("22"), "package.json": `{"name":"single"}`},
		"private": {".github/workflows/release.yml": tokenWorkflow("24"), "package.json": `{"name":"@acme/private"}`},
		"done":    {".github/workflows/release.yml": oidcWorkflow, "package.json": `{"name":"done"}`},
		"docs":    {"README.md": "# docs\n"},
	}
	for i := 1; i <= 3; i++ {
		repos[fmt.Sprintf("w%d", i)] = map[string]string{".github/workflows/release.yml": tokenWorkflow("20"), "package.json": fmt.Sprintf(`{"name":"w%d"}`, i)}
	}
	for name, files := range repos {
		fs := map[string][]byte{}
		for p, b := range files {
			fs[p] = []byte(b)
		}
		if err := w.API.CreateRepo("acme", name, ghapi.RepoOptions{Files: fs}); err != nil {
			t.Fatal(err)
		}
	}
	fg, err := gh.New(ctx, gh.Options{APIURL: w.URL, Token: testToken, Limits: gh.Limits{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	led, err := ledger.Open(ctx, filepath.Join(t.TempDir(), "cutover.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { led.Close() })
	client, err := github.NewClient(nil).WithAuthToken(testToken).WithEnterpriseURLs(w.URL, w.URL)
	if err != nil {
		t.Fatal(err)
	}
	e := &batch.Engine{Forge: fg, Ledger: led, Opts: batch.Options{
		Org: "acme", Registry: testRegistry, Concurrency: 4,
		Plan: batch.PlanOptions{Sizes: []int{10}},
		Gate: batch.Gate{Require: []string{"checks"}},
	}}
	return &fixture{world: w, client: client, engine: e, led: led}
}

func (f *fixture) openPRs(t *testing.T, repo string) []*github.PullRequest {
	t.Helper()
	prs, _, err := f.client.PullRequests.List(context.Background(), "acme", repo, &github.PullRequestListOptions{State: "all"})
	if err != nil {
		t.Fatal(err)
	}
	return prs
}

// plan takes the inventory and plans the campaign with canaries as wave 0.
func (f *fixture) plan(t *testing.T, canaries ...string) {
	t.Helper()
	f.engine.Opts.Plan = batch.PlanOptions{Canaries: canaries}
	if _, err := f.engine.Inventory(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.engine.PlanCampaign(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func outcomes(s batch.Summary) map[string]batch.Outcome {
	m := map[string]batch.Outcome{}
	for _, o := range s.Outcomes {
		m[o.Repo] = o
	}
	return m
}

func TestCampaignOnSandbox(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	e := f.engine

	sum, err := e.Inventory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed() || len(sum.Outcomes) != 8 {
		t.Fatalf("inventory: %+v", sum)
	}

	plan, err := e.PlanCampaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Waves) != 2 || len(plan.Waves[0].Repos) != 3 || len(plan.Waves[1].Repos) != 3 {
		t.Fatalf("plan: %+v", plan)
	}
	canaries := plan.Waves[0].Repos
	if canaries[0] != "acme/mono" {
		t.Errorf("first canary %q, want the monorepo acme/mono", canaries[0])
	}

	// A dry run changes nothing on the forge.
	dry, err := e.Apply(ctx, batch.ApplyOptions{Wave: 0})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range dry.Outcomes {
		if o.Kind != batch.OK || !strings.Contains(o.Diff, "vars.CUTOVER_NPM_OIDC != 'true'") {
			t.Errorf("dry run %s: %+v", o.Repo, o)
		}
	}
	if n := len(f.openPRs(t, "mono")); n != 0 {
		t.Fatalf("dry run opened %d PRs", n)
	}

	// Wave 1 is gated on wave 0.
	var ge *batch.GateError
	if _, err := e.Apply(ctx, batch.ApplyOptions{Wave: 1, Execute: true}); !errors.As(err, &ge) {
		t.Fatalf("wave 1 before wave 0: err = %v, want a gate error", err)
	}

	first, err := e.Apply(ctx, batch.ApplyOptions{Wave: 0, Execute: true})
	if err != nil || first.Failed() {
		t.Fatalf("apply wave 0: %v %+v", err, first)
	}
	again, err := e.Apply(ctx, batch.ApplyOptions{Wave: 0, Execute: true})
	if err != nil || again.Failed() {
		t.Fatalf("apply wave 0 again: %v %+v", err, again)
	}
	for _, repo := range canaries {
		name := strings.TrimPrefix(repo, "acme/")
		prs := f.openPRs(t, name)
		if len(prs) != 1 {
			t.Fatalf("%s has %d PRs after two applies, want 1", repo, len(prs))
		}
		if o := outcomes(again)[repo]; !strings.Contains(o.Detail, "already up to date") || o.URL != prs[0].GetHTMLURL() {
			t.Errorf("second apply on %s: %+v", repo, o)
		}
		if !strings.Contains(prs[0].GetBody(), "CUTOVER_NPM_OIDC") {
			t.Errorf("%s PR body lacks the flag instructions", repo)
		}
	}

	// Flag on is refused until the PR is merged, even with a stale ledger.
	zero := 0
	fl, err := e.Flag(ctx, batch.FlagOptions{On: true, Target: batch.FlagTarget{Wave: &zero}})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range fl.Outcomes {
		if o.Kind != batch.Failed || o.Reason != "refused: pull request not merged" || !strings.Contains(o.Hint, "cutover merge --repo "+o.Repo) {
			t.Errorf("flag on before merge: %+v", o)
		}
	}

	// Green checks do not open the canary gate: it needs merged and verified.
	_, waves, err := e.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if waves[0].State != ledger.WaveGated || waves[0].Gate == nil || waves[0].Gate.OK || !strings.Contains(strings.Join(waves[0].Gate.Reasons, ";"), "without merged and verified yet") {
		t.Fatalf("wave 0 after green checks: %+v %+v", waves[0], waves[0].Gate)
	}
	if waves[1].Gate != nil || waves[1].Requires == "" {
		t.Errorf("wave 1 has not started: gate %+v, requires %q", waves[1].Gate, waves[1].Requires)
	}
	for _, repo := range canaries {
		name := strings.TrimPrefix(repo, "acme/")
		pr := f.openPRs(t, name)[0]
		if _, _, err := f.client.PullRequests.Merge(ctx, "acme", name, pr.GetNumber(), "", nil); err != nil {
			t.Fatalf("merge %s: %v", repo, err)
		}
	}
	if _, _, err := e.Status(ctx); err != nil {
		t.Fatal(err)
	}
	// Merged, the flag-on checks reach the registry, which this engine
	// has none of: refused, and --force overrides it and records why.
	fl, err = e.Flag(ctx, batch.FlagOptions{On: true, Target: batch.FlagTarget{Wave: &zero}})
	if err != nil || fl.Count(batch.Failed) != 3 || !strings.Contains(fl.Outcomes[0].Reason, "registry not available") {
		t.Fatalf("flag on after merge without a registry: %v %+v", err, fl)
	}
	fl, err = e.Flag(ctx, batch.FlagOptions{On: true, Target: batch.FlagTarget{Wave: &zero}, Force: "test: no registry"})
	if err != nil || fl.Count(batch.OK) != 3 {
		t.Fatalf("flag on after merge: %v %+v", err, fl)
	}
	if evs, err := f.led.Events(ctx, ledger.EventFilter{Kind: "flag.forced"}); err != nil || len(evs) != 3 || !strings.Contains(evs[0].Message, "test: no registry") {
		t.Errorf("flag.forced events: %v %+v", err, evs)
	}
	for _, repo := range canaries {
		v, _, err := f.client.Actions.GetRepoVariable(ctx, "acme", strings.TrimPrefix(repo, "acme/"), "CUTOVER_NPM_OIDC")
		if err != nil || v.Value != "true" {
			t.Errorf("%s variable: %v %v", repo, v, err)
		}
	}
	// Rollback is a flip, not a revert.
	if fl, err := e.Flag(ctx, batch.FlagOptions{Target: batch.FlagTarget{Repos: []string{canaries[0]}}}); err != nil || fl.Count(batch.OK) != 1 {
		t.Fatalf("flag off: %v %+v", err, fl)
	}

	// Nothing was verified: the canary gate still refuses wave 1.
	if _, err := e.Apply(ctx, batch.ApplyOptions{Wave: 1, Execute: true}); !errors.As(err, &ge) || !strings.Contains(err.Error(), "verified") {
		t.Fatalf("wave 1 before the canaries were verified: err = %v", err)
	}
	w1, err := e.Apply(ctx, batch.ApplyOptions{Wave: 1, Execute: true, Force: "test: canaries verified by hand"})
	if err != nil || w1.Failed() || w1.Count(batch.OK) != 3 {
		t.Fatalf("apply wave 1: %v %+v", err, w1)
	}

	// A second inventory re-reads only the repositories whose head moved.
	inv, err := e.Inventory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	unchanged := 0
	for _, o := range inv.Outcomes {
		if strings.HasPrefix(o.Detail, "unchanged since") {
			unchanged++
		}
	}
	if unchanged != 5 {
		t.Errorf("second inventory: %d unchanged, want 5 (3 merged canaries re-read)", unchanged)
	}
	snap, err := f.led.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, ev := range snap.Events {
		kinds[ev.Kind]++
	}
	if kinds["pr.opened"] != 6 || kinds[ledger.EventFlag] != 4 {
		t.Errorf("events: %v", kinds)
	}
}

func TestForeignBranchIsLeftAlone(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	e := f.engine
	f.plan(t, "acme/single")
	// Someone pushed a branch of the campaign's name before cutover.
	ref, _, err := f.client.Git.GetRef(ctx, "acme", "single", "heads/main")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.client.Git.CreateRef(ctx, "acme", "single", &github.Reference{Ref: github.String("refs/heads/cutover/npm-oidc"), Object: ref.Object}); err != nil {
		t.Fatal(err)
	}
	sum, err := e.Apply(ctx, batch.ApplyOptions{Wave: 0, Execute: true})
	if err != nil {
		t.Fatal(err)
	}
	o := outcomes(sum)["acme/single"]
	if o.Kind != batch.Failed || o.Reason != "branch changed by someone else" {
		t.Fatalf("outcome %+v", o)
	}
	if n := len(f.openPRs(t, "single")); n != 0 {
		t.Errorf("%d PRs opened on a foreign branch", n)
	}
	fs, err := f.led.FailedRepos(ctx)
	if err != nil || len(fs) != 1 || fs[0].Repo != "acme/single" {
		t.Errorf("failed repos: %+v %v", fs, err)
	}
}

func TestApplyPreflightNamesMissingPermission(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	e := f.engine
	f.plan(t, "acme/single")
	perms := ghapi.AllPermissions()
	perms["pull_requests"] = "read"
	const weak = "ghp_weakweakweakweakweakweak00000000"
	f.world.API.AddToken(weak, ghapi.Identity{Login: "weak", Permissions: perms})
	fg, err := gh.New(ctx, gh.Options{APIURL: f.world.URL, Token: weak, Limits: gh.Limits{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	e.Forge = fg
	_, err = e.Apply(ctx, batch.ApplyOptions{Wave: 0, Execute: true})
	if err == nil || !strings.Contains(err.Error(), "pull") || strings.Contains(err.Error(), weak) {
		t.Fatalf("apply with a read-only pull request permission: err = %v", err)
	}
	if n := len(f.openPRs(t, "single")); n != 0 {
		t.Errorf("%d PRs opened despite the failed preflight", n)
	}
}
