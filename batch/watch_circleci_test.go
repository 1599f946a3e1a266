package batch_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/internal/circleci"
	"github.com/cutover/cutover/internal/forge"
	"github.com/cutover/cutover/internal/forge/forgetest"
	gh "github.com/cutover/cutover/internal/forge/github"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/npm"
	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
	"github.com/cutover/cutover/internal/sandbox/npmreg"
	"github.com/cutover/cutover/rewrite"
)

// circleTokenConfig is a CircleCI pipeline whose publish job writes
// NPM_TOKEN into ~/.npmrc and runs npm publish; its build job does not
// publish.
const circleTokenConfig = `version: 2.1
jobs:
  build:
    docker:
      - image: cimg/node:22.14
    steps:
      - checkout
      - run: npm ci && npm test
  publish:
    docker:
      - image: cimg/node:22.14
    steps:
      - checkout
      - run: npm ci
      - run: echo "//npm-registry.invalid/:_authToken=$NPM_TOKEN" > ~/.npmrc
      - run: npm publish
workflows:
  release:
    jobs:
      - build
      - publish:
          context: npm-publishing
          requires: [build]
`

// circleVars is CircleCI's project variables in memory (batch.CircleCIVars).
type circleVars struct {
	mu   sync.Mutex
	vars map[string]string // "slug name" → value
	err  error
}

func (c *circleVars) SetProjectVar(_ context.Context, slug, name, value string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	c.vars[slug+" "+name] = value
	return nil
}

func (c *circleVars) get(slug, name string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.vars[slug+" "+name]
}

// TestWatchCircleCI: after flag on, the release watch reads the commit
// statuses (and check runs of CircleCI's GitHub App) CircleCI posts for
// the publishing job on the default branch's head. A failure after the
// flip blocks the repository; a success, an earlier failure, a failure of
// a job that does not publish, or a job still running do not. The rollback
// sets the CircleCI project variable through CircleCI's API, or says what
// to set by hand when no CircleCI API token is configured.
func TestWatchCircleCI(t *testing.T) {
	ctx := t.Context()
	f := forgetest.New()
	names := []string{"good", "broken", "app", "old", "running", "moved"}
	var full []string
	for _, n := range names {
		f.AddRepo("acme/"+n, map[string][]byte{
			rewrite.CircleCIConfig: []byte(circleTokenConfig),
			"package.json":         []byte(fmt.Sprintf(`{"name":"%s"}`, n)),
		})
		full = append(full, "acme/"+n)
	}
	led, err := ledger.Open(ctx, filepath.Join(t.TempDir(), "cutover.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { led.Close() })
	reg := &fakeRegistry{trust: map[string][]npm.TrustConfig{}, docs: map[string]*npm.Packument{}}
	e := &batch.Engine{Forge: f, Ledger: led, Registry: reg, Opts: batch.Options{Org: "acme", Registry: testRegistry, Concurrency: 2}}
	if s, err := e.Inventory(ctx); err != nil || s.Failed() {
		t.Fatalf("inventory: %v %+v", err, s)
	}
	if s, err := e.Flag(ctx, batch.FlagOptions{On: true, Confirm: true, Force: "test", Target: batch.FlagTarget{Repos: full}}); err != nil || s.Count(batch.OK) != len(full) {
		t.Fatalf("flag on: %v %+v", err, s)
	}
	watch := func() map[string]batch.Outcome {
		t.Helper()
		sum, _, err := e.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]batch.Outcome{}
		for _, o := range sum.Outcomes {
			out[o.Repo] = o
		}
		return out
	}
	for repo, o := range watch() {
		if o.Kind != batch.OK {
			t.Errorf("before any release, %s: %+v", repo, o)
		}
	}
	if calls := f.Calls("Runs"); len(calls) != 0 {
		t.Errorf("the watch listed Actions runs of repositories that publish from CircleCI only: %+v", calls)
	}

	later, earlier := time.Now().Add(time.Minute), time.Now().Add(-time.Hour)
	status := func(repo, context, state string, at time.Time) {
		f.AddCommitCheck(repo, forge.CommitCheck{Kind: forge.CheckStatus, Name: context, Raw: state, Updated: at, URL: "https://circleci.invalid/" + repo})
	}
	status("acme/good", "ci/circleci: publish", "failure", later)
	status("acme/good", "ci/circleci: publish", "success", later.Add(time.Second)) // the job passed on a rerun
	status("acme/good", "ci/circleci: build", "failure", later)                    // not the publishing job
	status("acme/broken", "ci/circleci: publish", "failure", later)
	f.AddCommitCheck("acme/app", forge.CommitCheck{Kind: forge.CheckRun, Name: "publish", App: "circleci-checks", Raw: "timed_out", Updated: later})
	f.AddCommitCheck("acme/app", forge.CommitCheck{Kind: forge.CheckRun, Name: "publish", App: "other-ci", Raw: "success", Updated: later})
	status("acme/old", "ci/circleci: publish", "failure", earlier) // before the flip
	status("acme/running", "ci/circleci: publish", "pending", later)
	// A release failed on a commit made after the flip, then more was merged.
	released := f.AddCommit("acme/moved")
	f.AddCommitCheck("acme/moved", forge.CommitCheck{Name: "ci/circleci: publish", Raw: "failure", SHA: released, Updated: later})
	f.AddCommit("acme/moved")

	got := watch()
	for _, repo := range []string{"acme/good", "acme/old", "acme/running"} {
		if o := got[repo]; o.Kind != batch.OK {
			t.Errorf("%s is blocked: %+v", repo, o)
		}
	}
	if o := got["acme/good"]; !strings.HasPrefix(o.Detail, "1 release run(s)") {
		t.Errorf("good: %+v, want its passed publish job counted", o)
	}
	head := f.Head("acme/broken")
	if o := got["acme/broken"]; o.Reason != batch.ReasonReleaseFailed || o.Hint != "cutover flag off --repo acme/broken" ||
		o.Detail != "CircleCI job publish failure on "+head[:7]+" at "+later.UTC().Format(time.RFC3339)+" https://circleci.invalid/acme/broken" {
		t.Errorf("broken: %+v", o)
	}
	if o := got["acme/app"]; o.Reason != batch.ReasonReleaseFailed || !strings.Contains(o.Detail, "CircleCI job publish timed_out") {
		t.Errorf("app (CircleCI's GitHub App): %+v", o)
	}
	if st, _ := led.LastStep(ctx, "acme/broken"); st.Name != "release" || st.Reason != batch.ReasonReleaseFailed {
		t.Errorf("broken is not blocked in the ledger: %+v", st)
	}
	if o := got["acme/moved"]; o.Reason != batch.ReasonReleaseFailed || !strings.Contains(o.Detail, "CircleCI job publish failure on "+released[:7]) {
		t.Errorf("moved (the failed release is no longer the head): %+v", o)
	}

	// auto_rollback without a CircleCI API token: nothing to turn off
	// automatically; the hint names the setting and the --confirm.
	e.Opts.AutoRollback = true
	status("acme/broken", "ci/circleci: publish", "failure", later.Add(2*time.Second))
	o := watch()["acme/broken"]
	if o.Reason != batch.ReasonReleaseFailed || !strings.Contains(o.Hint, "no automatic rollback without a CircleCI API token") ||
		!strings.Contains(o.Hint, "gh/acme/broken") || !strings.Contains(o.Hint, rewrite.DefaultFlagVar+"=false") ||
		!strings.HasSuffix(o.Hint, "cutover flag off --repo acme/broken --confirm") {
		t.Errorf("rollback without a CircleCI token: %+v", o)
	}
	if fl, _ := led.Flag(ctx, "acme/broken", rewrite.DefaultFlagVar); fl.Value != "true" {
		t.Errorf("the ledger says the flag is %q although nobody turned it off", fl.Value)
	}
	if _, ok := f.VariableValue("acme/broken", rewrite.DefaultFlagVar); ok {
		t.Error("the rollback set an Actions variable that no pipeline of a CircleCI publisher reads")
	}

	// A CircleCI API that refuses: the rollback failed, said so.
	cc := &circleVars{vars: map[string]string{}, err: errors.New("CircleCI project gh/acme/app: HTTP 403: Permission denied")}
	e.CircleCI = cc
	f.AddCommitCheck("acme/app", forge.CommitCheck{Kind: forge.CheckRun, Name: "publish", App: "circleci-checks", Raw: "failure", Updated: later.Add(time.Second)})
	if o := watch()["acme/app"]; !strings.HasPrefix(o.Hint, "automatic rollback failed (") || !strings.Contains(o.Hint, "HTTP 403") {
		t.Errorf("rollback refused by CircleCI: %+v", o)
	}

	// With a CircleCI API token the flag goes off in CircleCI by itself.
	cc.err = nil
	status("acme/broken", "ci/circleci: publish", "failure", later.Add(3*time.Second))
	o = watch()["acme/broken"]
	if o.Reason != batch.ReasonReleaseFailed || !strings.Contains(o.Hint, "rolled back") {
		t.Errorf("rollback through CircleCI's API: %+v", o)
	}
	if v := cc.get("gh/acme/broken", rewrite.DefaultFlagVar); v != "false" {
		t.Errorf("CircleCI variable after the rollback: %q", v)
	}
	if fl, _ := led.Flag(ctx, "acme/broken", rewrite.DefaultFlagVar); fl.Value != "false" {
		t.Errorf("ledger flag after the rollback: %+v", fl)
	}
	evs, err := led.Events(ctx, ledger.EventFilter{Kind: "flag.rollback", Repo: "acme/broken"})
	if err != nil || len(evs) != 1 {
		t.Errorf("rollback events: %v %+v", err, evs)
	}

	// A forge that cannot read commit statuses fails that watch only.
	f.Fail("CommitChecks", "acme/good", forgetest.ErrInjected, 0)
	if o := watch()["acme/good"]; o.Reason != "watch failed" || !strings.Contains(o.Hint, "commit statuses") {
		t.Errorf("watch with the statuses unreadable: %+v", o)
	}
}

// TestCircleCIReleaseWatchSandbox runs the release watch against the
// sandbox: repositories that publish from CircleCI, migrated, flag on
// through CircleCI's API. A release through OIDC posts a passing
// "ci/circleci: publish" status and is healthy. Then a maintainer points
// one package's trusted publisher at another pipeline definition: the next
// CircleCI release fails (the guard dropped the token, the exchange is
// refused) and CircleCI's status says so on its commit; another commit is
// merged on top; status still sees the failure, blocks the repository and
// auto_rollback sets the CircleCI variable back to false, after which the
// release takes the token path again.
func TestCircleCIReleaseWatchSandbox(t *testing.T) {
	ctx := t.Context()
	w, err := sandbox.Start(ctx, sandbox.Options{Limits: ghapi.Limits{Disabled: true}})
	npmMust(t, err)
	t.Cleanup(func() { w.Close() })
	p := sandbox.Generate(31, 2, sandbox.PortfolioOptions{Weights: map[sandbox.Kind]int{sandbox.KindCircleCI: 1}, CIFailureRate: -1})
	seeded, err := w.Seed(ctx, p)
	npmMust(t, err)
	fg, err := gh.New(ctx, gh.Options{APIURL: w.URL, Token: seeded.GitHubToken, Limits: gh.Limits{Disabled: true}})
	npmMust(t, err)
	led, err := ledger.Open(ctx, filepath.Join(t.TempDir(), "cutover.db"), ledger.Options{})
	npmMust(t, err)
	t.Cleanup(func() { led.Close() })
	reg := &npm.Client{BaseURL: w.RegistryURL, Token: npm.Secret(seeded.NPMToken), OTP: npm.StaticOTP(seeded.NPMOTP)}
	e := &batch.Engine{Forge: fg, Ledger: led, Registry: reg, Opts: batch.Options{
		Org: p.Org, Registry: w.RegistryURL, Concurrency: 2, Plan: batch.PlanOptions{Sizes: []int{2}},
		CircleCI: p.CircleCIProjects(), AutoRollback: true,
	}}
	e.CircleCI = &circleci.Client{BaseURL: w.CircleCIAPIURL(), Token: circleci.Token(seeded.CircleCIToken)}
	n := &batch.NPM{Engine: e, Registry: reg, By: seeded.NPMUser}
	var repos []string
	for _, r := range p.Repos {
		repos = append(repos, r.FullName(p.Org))
	}
	target := batch.RepoTarget{Repos: repos}
	if s, err := e.Inventory(ctx); err != nil || s.Failed() {
		t.Fatalf("inventory: %v %+v", err, s.Outcomes)
	}
	plan, err := e.PlanCampaign(ctx)
	npmMust(t, err)
	tr, err := n.Trust(ctx, batch.TrustOptions{Target: target, Execute: true})
	npmMust(t, err)
	if tr.Summary().Count(batch.OK) != len(repos) {
		t.Fatalf("trust: %+v", tr.Packages)
	}
	for _, wave := range plan.Waves {
		ap, err := e.Apply(ctx, batch.ApplyOptions{Wave: wave.Number, Execute: true, Force: "test"})
		npmMust(t, err)
		if ap.Count(batch.OK) != len(wave.Repos) {
			t.Fatalf("apply wave %d: %+v", wave.Number, ap.Outcomes)
		}
	}
	if mg, err := e.Merge(ctx, batch.MergeOptions{Target: target, Execute: true}); err != nil || mg.Count(batch.OK) != len(repos) {
		t.Fatalf("merge: %v %+v", err, mg.Outcomes)
	}
	if fl, err := e.Flag(ctx, batch.FlagOptions{On: true, Target: target}); err != nil || fl.Count(batch.OK) != len(repos) {
		t.Fatalf("flag on: %v %+v", err, fl.Outcomes)
	}
	watch := func() map[string]batch.Outcome {
		t.Helper()
		sum, _, err := e.Status(ctx)
		npmMust(t, err)
		out := map[string]batch.Outcome{}
		for _, o := range sum.Outcomes {
			if strings.Contains(o.Detail, "release run(s)") || o.Reason == batch.ReasonReleaseFailed {
				out[o.Repo] = o
			}
		}
		return out
	}

	// Releases through OIDC: CircleCI's statuses pass, nothing is blocked.
	for _, repo := range repos {
		res, err := w.Release(ctx, repo, sandbox.ReleaseOptions{})
		npmMust(t, err)
		if len(res.Packages) != 1 || res.Packages[0].Path != sandbox.PathOIDC {
			t.Fatalf("release of %s: %+v", repo, res)
		}
	}
	for _, repo := range repos {
		if o := watch()[repo]; o.Kind != batch.OK || !strings.HasPrefix(o.Detail, "1 release run(s)") {
			t.Errorf("after a release through OIDC, %s: %+v", repo, o)
		}
	}

	// The trusted publisher of the first repository's package names another
	// pipeline definition: its next release fails.
	first, second := p.Repos[0], repos[1]
	broken := first.FullName(p.Org)
	ids := *first.CircleCI
	if _, err := w.NPM.SetTrust(first.Publishable()[0], npmreg.TrustSpec{Type: npmreg.ProviderCircleCI, OrgID: ids.OrgID, ProjectID: ids.ProjectID,
		PipelineDefinitionID: ids.ProjectID, VCSOrigin: ids.VCSOrigin}); err != nil {
		t.Fatal(err)
	}
	// A maintainer merges a change, which is released (and fails), then
	// merges another before the watch runs.
	pushFile(t, w, p.Org, first.Name, first.DefaultBranch, "CHANGELOG.md", []byte("## 1.1.0\n"))
	res, err := w.Release(ctx, broken, sandbox.ReleaseOptions{})
	npmMust(t, err)
	if !res.Failed() {
		t.Fatalf("the release with a mismatched trusted publisher did not fail: %+v", res)
	}
	pushFile(t, w, p.Org, first.Name, first.DefaultBranch, "CHANGELOG.md", []byte("## 1.1.0\n\n## 1.1.1\n"))
	got := watch()
	o := got[broken]
	if o.Kind != batch.Failed || o.Reason != batch.ReasonReleaseFailed || !strings.Contains(o.Detail, "CircleCI job "+res.Job+" failure on "+res.SHA[:7]) ||
		!strings.Contains(o.Hint, "rolled back") {
		t.Errorf("after the failed CircleCI release, %s: %+v", broken, o)
	}
	if o := got[second]; o.Kind != batch.OK {
		t.Errorf("the healthy repository %s: %+v", second, o)
	}
	if v, _ := w.CircleCIProjectVar(broken, rewrite.DefaultFlagVar); v != "false" {
		t.Errorf("the CircleCI flag of %s after auto_rollback: %q", broken, v)
	}
	if v, _ := w.CircleCIProjectVar(second, rewrite.DefaultFlagVar); v != "true" {
		t.Errorf("the CircleCI flag of the healthy %s: %q", second, v)
	}
	if fl, _ := led.Flag(ctx, broken, rewrite.DefaultFlagVar); fl.Value != "false" {
		t.Errorf("ledger flag of %s: %+v", broken, fl)
	}
	if st, _ := led.LastStep(ctx, broken); st.Name != "release" || st.Reason != batch.ReasonReleaseFailed {
		t.Errorf("%s is not blocked in the ledger: %+v", broken, st)
	}
	// Rolled back: the next release takes the token path.
	res, err = w.Release(ctx, broken, sandbox.ReleaseOptions{})
	npmMust(t, err)
	if res.Failed() || res.Packages[0].Path != sandbox.PathToken {
		t.Errorf("release after the rollback: %+v, want the token path", res.Packages)
	}
	if out := fmt.Sprintf("%+v", got); strings.Contains(out, seeded.NPMToken) || strings.Contains(out, seeded.CircleCIToken) {
		t.Error("a token value reached an outcome")
	}
}
