package batch_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/internal/forge"
	"github.com/cutover/cutover/internal/forge/forgetest"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/npm"
)

// fakeRegistry answers the registry reads of flag on and the watch from
// memory; the other methods are not used by those steps.
type fakeRegistry struct {
	batch.Registry
	mu     sync.Mutex
	trust  map[string][]npm.TrustConfig // nil entry: package missing
	docs   map[string]*npm.Packument
	listed int
}

func (r *fakeRegistry) TrustList(_ context.Context, name string) ([]npm.TrustConfig, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.listed++
	t, ok := r.trust[name]
	if !ok {
		return nil, fmt.Errorf("trust list %s: %w", name, npm.ErrNotFound)
	}
	return t, nil
}

func (r *fakeRegistry) Packument(_ context.Context, name string) (*npm.Packument, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d, ok := r.docs[name]; ok {
		return d, nil
	}
	return nil, fmt.Errorf("packument %s: %w", name, npm.ErrNotFound)
}

// fakeCampaign is an engine on the in-memory forge with every repository
// in the canary wave, applied (pull requests open, checks pending).
type fakeCampaign struct {
	f   *forgetest.Forge
	e   *batch.Engine
	led *ledger.Ledger
	reg *fakeRegistry
}

func newFakeCampaign(t *testing.T, names ...string) *fakeCampaign {
	t.Helper()
	ctx := t.Context()
	f := forgetest.New()
	var full []string
	for _, n := range names {
		f.AddRepo("acme/"+n, map[string][]byte{
			".github/workflows/release.yml": []byte(tokenWorkflow("24")),
			"package.json":                  []byte(fmt.Sprintf(`{"name":"%s"}`, n)),
		})
		full = append(full, "acme/"+n)
	}
	led, err := ledger.Open(ctx, filepath.Join(t.TempDir(), "cutover.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { led.Close() })
	reg := &fakeRegistry{trust: map[string][]npm.TrustConfig{}, docs: map[string]*npm.Packument{}}
	e := &batch.Engine{Forge: f, Ledger: led, Registry: reg, Opts: batch.Options{
		Org: "acme", Registry: testRegistry, Concurrency: 2,
		Plan: batch.PlanOptions{Canaries: full, Sizes: []int{10}},
		Gate: batch.Gate{Require: []string{"checks"}},
	}}
	if s, err := e.Inventory(ctx); err != nil || s.Failed() {
		t.Fatalf("inventory: %v %+v", err, s)
	}
	if _, err := e.PlanCampaign(ctx); err != nil {
		t.Fatal(err)
	}
	if s, err := e.Apply(ctx, batch.ApplyOptions{Wave: 0, Execute: true}); err != nil || s.Count(batch.OK) != len(names) {
		t.Fatalf("apply: %v %+v", err, s)
	}
	return &fakeCampaign{f: f, e: e, led: led, reg: reg}
}

// pr returns a repository's campaign pull request number.
func (c *fakeCampaign) pr(t *testing.T, repo string) int {
	t.Helper()
	ch, err := c.led.Change(t.Context(), repo)
	if err != nil || ch.PRNumber == 0 {
		t.Fatalf("%s has no pull request: %v", repo, err)
	}
	return ch.PRNumber
}

func (c *fakeCampaign) green(t *testing.T, repos ...string) {
	for _, r := range repos {
		c.f.SetChecks(r, c.pr(t, r), "success")
	}
}

func TestGateFailedCheckIsANamedFailure(t *testing.T) {
	tests := []struct {
		name    string
		gate    batch.Gate
		members []batch.MemberState
		ok      bool
		failed  int
		reason  string
	}{
		{"red check fails, named", batch.Gate{Require: []string{"checks"}},
			[]batch.MemberState{{Repo: "a", Checks: "success"}, {Repo: "b", Checks: "failure"}}, false, 1, "b (checks failed)"},
		{"red check within the ratio", batch.Gate{Require: []string{"checks"}, MaxFailureRatio: 0.5},
			[]batch.MemberState{{Repo: "a", Checks: "success"}, {Repo: "b", Checks: "failure"}}, true, 1, ""},
		{"merged despite a red check", batch.Gate{Require: []string{"merged"}},
			[]batch.MemberState{{Repo: "a", Checks: "failure", Merged: true}}, true, 0, ""},
		{"canary needs merged and verified", batch.Gate{Require: batch.DefaultCanaryRequire},
			[]batch.MemberState{{Repo: "a", Checks: "success"}, {Repo: "b", Checks: "success", Merged: true}}, false, 0, "2 repositories without merged and verified yet: a, b"},
		{"failed step named with its step", batch.Gate{Require: []string{"checks"}},
			[]batch.MemberState{{Repo: "a", Failed: true, Why: "apply: push failed"}}, false, 1, "a (apply: push failed)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.gate.Evaluate(tt.members)
			if res.OK != tt.ok || res.Failed != tt.failed || !strings.Contains(strings.Join(res.Reasons, "; "), tt.reason) {
				t.Errorf("Evaluate = %+v", res)
			}
		})
	}
}

func TestCanaryGateRefusesWaveOne(t *testing.T) {
	c := newFakeCampaign(t, "a", "b", "c")
	ctx := t.Context()
	// A later wave exists once more repositories are inventoried.
	c.f.AddRepo("acme/d", map[string][]byte{".github/workflows/release.yml": []byte(tokenWorkflow("24")), "package.json": []byte(`{"name":"d"}`)})
	if _, err := c.e.Inventory(ctx); err != nil {
		t.Fatal(err)
	}
	plan, err := c.e.PlanCampaign(ctx)
	if err != nil || len(plan.Waves) != 2 {
		t.Fatalf("plan: %v %+v", err, plan)
	}
	if got := plan.Waves[0].Gate.Require; strings.Join(got, ",") != "merged,verified" {
		t.Errorf("canary gate %v, want merged and verified by default", got)
	}
	if got := plan.Waves[1].Gate.Require; strings.Join(got, ",") != "checks" {
		t.Errorf("wave 1 gate %v", got)
	}
	c.green(t, "acme/a", "acme/b")
	c.f.SetChecks("acme/c", c.pr(t, "acme/c"), "failure")
	_, waves, err := c.e.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	g := waves[0].Gate
	if g == nil || g.OK || g.Failed != 1 || !strings.Contains(strings.Join(g.Reasons, ";"), "acme/c (checks failed)") {
		t.Fatalf("canary gate: %+v", g)
	}
	if waves[1].Gate != nil {
		t.Errorf("status reports the gate of wave 1, which has not started: %+v", waves[1].Gate)
	}
	var ge *batch.GateError
	if _, err := c.e.Apply(ctx, batch.ApplyOptions{Wave: 1, Execute: true}); err == nil || !asGate(err, &ge) {
		t.Fatalf("wave 1 with green, unmerged canaries: %v", err)
	}
	if n := len(c.f.Calls("Push")); n != 3 {
		t.Errorf("the refused wave pushed: %d pushes", n)
	}
}

func asGate(err error, ge **batch.GateError) bool {
	g, ok := err.(*batch.GateError)
	*ge = g
	return ok
}

func TestFlagOnChecks(t *testing.T) {
	c := newFakeCampaign(t, "ok", "case", "missing", "open", "gone")
	ctx := t.Context()
	c.green(t, "acme/ok", "acme/case", "acme/missing", "acme/gone")
	c.f.SetChecks("acme/open", c.pr(t, "acme/open"), "success")
	merged, err := c.e.Merge(ctx, batch.MergeOptions{Target: batch.RepoTarget{Repos: []string{"acme/ok", "acme/case", "acme/missing", "acme/gone"}}, Execute: true})
	if err != nil || merged.Count(batch.OK) != 4 {
		t.Fatalf("merge: %v %+v", err, merged)
	}
	c.reg.trust["ok"] = []npm.TrustConfig{npm.GitHubTrust("acme/ok", "release.yml", "")}
	c.reg.trust["case"] = []npm.TrustConfig{npm.GitHubTrust("acme/case", "Release.yml", "")}
	c.reg.trust["missing"] = []npm.TrustConfig{}
	c.reg.trust["open"] = []npm.TrustConfig{npm.GitHubTrust("acme/open", "release.yml", "")}
	// "gone" is not on the registry.

	// The ledger still says every pull request is open: flag on asks the forge.
	sum, err := c.e.Flag(ctx, batch.FlagOptions{On: true, Target: batch.FlagTarget{Repos: []string{"acme/ok", "acme/case", "acme/missing", "acme/open", "acme/gone"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{
		"acme/ok":      {batch.OK, ""},
		"acme/case":    {"refused: trusted publisher mismatch", "cutover trust --repo acme/case --replace --execute"},
		"acme/missing": {"refused: no trusted publisher", "cutover trust --repo acme/missing --execute"},
		"acme/open":    {"refused: pull request not merged", "cutover merge --repo acme/open --execute"},
		"acme/gone":    {"refused: package not on the registry", "cutover trust --repo acme/gone --execute"},
	}
	for repo, o := range outcomes(sum) {
		w := want[repo]
		if w[0] == batch.OK {
			if o.Kind != batch.OK {
				t.Errorf("%s: %+v", repo, o)
			}
			continue
		}
		if o.Kind != batch.Failed || o.Reason != w[0] || !strings.Contains(o.Hint, w[1]) {
			t.Errorf("%s: %+v, want %q with hint %q", repo, o, w[0], w[1])
		}
	}
	if o := outcomes(sum)["acme/case"]; !strings.Contains(o.Detail, "differs only in case") {
		t.Errorf("case mismatch not explained: %s", o.Detail)
	}
	for repo := range want {
		v, ok := c.f.VariableValue(repo, "CUTOVER_NPM_OIDC")
		if (repo == "acme/ok") != (ok && v == "true") {
			t.Errorf("%s: flag variable %q set=%v", repo, v, ok)
		}
	}
	if ch, _ := c.led.Change(ctx, "acme/ok"); ch.State != ledger.ChangeMerged {
		t.Errorf("flag on did not record the merged state: %+v", ch)
	}
	// A refused repository is a named failure for the gate, not an open PR.
	if st, _ := c.led.LastStep(ctx, "acme/case"); st.Outcome != ledger.OutcomeFailed {
		t.Errorf("refusal not recorded: %+v", st)
	}
	if st, _ := c.led.LastStep(ctx, "acme/open"); st.Outcome != ledger.OutcomeSkipped {
		t.Errorf("an unmerged PR recorded as %+v", st)
	}

	// The fix: the right trusted publisher, then flag on passes.
	c.reg.trust["case"] = []npm.TrustConfig{npm.GitHubTrust("acme/case", "release.yml", "")}
	if s, err := c.e.Flag(ctx, batch.FlagOptions{On: true, Target: batch.FlagTarget{Repos: []string{"acme/case"}}}); err != nil || s.Count(batch.OK) != 1 {
		t.Fatalf("flag on after the fix: %v %+v", err, s)
	}

	// --force overrides and records the reason with what it overrode.
	s, err := c.e.Flag(ctx, batch.FlagOptions{On: true, Target: batch.FlagTarget{Repos: []string{"acme/missing"}}, Force: "publisher set up by hand"})
	if err != nil || s.Count(batch.OK) != 1 {
		t.Fatalf("forced: %v %+v", err, s)
	}
	evs, err := c.led.Events(ctx, ledger.EventFilter{Kind: "flag.forced"})
	if err != nil || len(evs) != 1 || !strings.Contains(evs[0].Message, "publisher set up by hand") || !strings.Contains(evs[0].Message, "no trusted publisher") {
		t.Errorf("forced event: %v %+v", err, evs)
	}

	// An unguarded default branch is refused.
	c.f.AddRepo("acme/raw", map[string][]byte{".github/workflows/release.yml": []byte(tokenWorkflow("20")), "package.json": []byte(`{"name":"raw"}`)})
	if _, err := c.e.Inventory(ctx); err != nil {
		t.Fatal(err)
	}
	c.reg.trust["raw"] = []npm.TrustConfig{npm.GitHubTrust("acme/raw", "release.yml", "")}
	s, err = c.e.Flag(ctx, batch.FlagOptions{On: true, Target: batch.FlagTarget{Repos: []string{"acme/raw"}}})
	if o := s.Outcomes[0]; err != nil || o.Reason != "refused: workflow not guarded" || !strings.Contains(o.Detail, "npm too old") || !strings.Contains(o.Detail, "id-token") {
		t.Errorf("unguarded: %v %+v", err, s)
	}

	// A forge failure is reported per repository, and the others go on.
	c.f.Fail("PR", "acme/open", forgetest.ErrInjected, 1)
	s, err = c.e.Flag(ctx, batch.FlagOptions{On: true, Target: batch.FlagTarget{Repos: []string{"acme/open", "acme/ok"}}})
	if err != nil || outcomes(s)["acme/open"].Reason != "refused: forge error" || outcomes(s)["acme/ok"].Kind != batch.OK {
		t.Errorf("forge failure: %v %+v", err, s)
	}
	// The forge's error is said once: the detail does not repeat the
	// reason, nor wrap what the forge's error already says.
	if d := outcomes(s)["acme/open"].Detail; strings.Contains(d, "forge error") || strings.Count(d, forgetest.ErrInjected.Error()) != 1 {
		t.Errorf("forge failure detail %q: want the forge's error once", d)
	}
}

func TestMerge(t *testing.T) {
	c := newFakeCampaign(t, "green", "red", "draft", "protected", "pending")
	ctx := t.Context()
	c.e.Opts.MergeMethod = "squash"
	c.green(t, "acme/green", "acme/draft", "acme/protected")
	c.f.SetChecks("acme/red", c.pr(t, "acme/red"), "failure")
	c.f.SetDraft("acme/draft", c.pr(t, "acme/draft"), true)
	c.f.Protect("acme/protected", "At least 1 approving review is required by reviewers with write access.")
	zero := 0
	target := batch.RepoTarget{Wave: &zero}

	dry, err := c.e.Merge(ctx, batch.MergeOptions{Target: target})
	if err != nil || len(c.f.Calls("MergePR")) != 0 {
		t.Fatalf("dry run merged: %v %+v", err, c.f.Calls("MergePR"))
	}
	if o := outcomes(dry)["acme/green"]; o.Kind != batch.OK || !strings.Contains(o.Detail, "would merge") {
		t.Errorf("dry run: %+v", o)
	}

	sum, err := c.e.Merge(ctx, batch.MergeOptions{Target: target, Execute: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{
		"acme/green":     {batch.OK, ""},
		"acme/red":       {batch.Skipped, "checks failed"},
		"acme/draft":     {batch.Skipped, "draft"},
		"acme/protected": {batch.Failed, "merge refused"},
		"acme/pending":   {batch.Skipped, "checks not passed yet"},
	}
	for repo, o := range outcomes(sum) {
		if w := want[repo]; o.Kind != w[0] || o.Reason != w[1] {
			t.Errorf("%s: %+v, want %v", repo, o, w)
		}
	}
	if o := outcomes(sum)["acme/protected"]; !strings.Contains(o.Detail, "approving review") {
		t.Errorf("refusal does not say why: %+v", o)
	}
	if m := c.f.MergeMethod("acme/green", c.pr(t, "acme/green")); m != "squash" {
		t.Errorf("merged with %q, want squash", m)
	}
	if calls := c.f.Calls("MergePR"); len(calls) != 2 {
		t.Errorf("MergePR calls %+v: only green and protected may be tried", calls)
	}
	if ch, _ := c.led.Change(ctx, "acme/green"); ch.State != ledger.ChangeMerged {
		t.Errorf("merge not recorded: %+v", ch)
	}
	if !sum.Failed() {
		t.Error("a refused merge must make the run fail (exit 1)")
	}
}

func TestWatchBlocksAndRollsBack(t *testing.T) {
	c := newFakeCampaign(t, "good", "broken", "tokened")
	ctx := t.Context()
	c.green(t, "acme/good", "acme/broken", "acme/tokened")
	zero := 0
	if s, err := c.e.Merge(ctx, batch.MergeOptions{Target: batch.RepoTarget{Wave: &zero}, Execute: true}); err != nil || s.Count(batch.OK) != 3 {
		t.Fatalf("merge: %v %+v", err, s)
	}
	for _, n := range []string{"good", "broken", "tokened"} {
		c.reg.trust[n] = []npm.TrustConfig{npm.GitHubTrust("acme/"+n, "release.yml", "")}
	}
	if s, err := c.e.Flag(ctx, batch.FlagOptions{On: true, Target: batch.FlagTarget{Wave: &zero}}); err != nil || s.Count(batch.OK) != 3 {
		t.Fatalf("flag on: %v %+v", err, s)
	}
	later := time.Now().Add(time.Minute)
	c.f.AddRun("acme/good", forge.Run{Workflow: ".github/workflows/release.yml", Conclusion: "success", Created: later})
	c.f.AddRun("acme/broken", forge.Run{Workflow: ".github/workflows/release.yml", Conclusion: "failure", Created: later})
	c.f.AddRun("acme/broken", forge.Run{Workflow: ".github/workflows/ci.yml", Conclusion: "failure", Created: later})
	c.reg.docs["tokened"] = &npm.Packument{Name: "tokened",
		Versions: map[string]*npm.VersionDoc{"1.0.1": {Name: "tokened", Version: "1.0.1", NpmUser: &npm.Person{Name: "ci-bot"}}},
		Time:     map[string]string{"1.0.1": later.UTC().Format(time.RFC3339)}}
	c.reg.docs["good"] = &npm.Packument{Name: "good",
		Versions: map[string]*npm.VersionDoc{"1.0.1": {Name: "good", Version: "1.0.1", NpmUser: &npm.Person{Name: "GitHub Actions", TrustedPublisher: &npm.TrustedPublisher{}}}},
		Time:     map[string]string{"1.0.1": later.UTC().Format(time.RFC3339)}}

	sum, _, err := c.e.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	blocked := map[string]batch.Outcome{}
	for _, o := range sum.Outcomes {
		if o.Reason == batch.ReasonReleaseFailed {
			blocked[o.Repo] = o
		}
	}
	if len(blocked) != 2 || blocked["acme/good"].Repo != "" {
		t.Fatalf("blocked: %+v", blocked)
	}
	if o := blocked["acme/broken"]; o.Hint != "cutover flag off --repo acme/broken" || !strings.Contains(o.Detail, "release.yml failure") || strings.Contains(o.Detail, "ci.yml") {
		t.Errorf("broken: %+v", o)
	}
	if o := blocked["acme/tokened"]; !strings.Contains(o.Detail, "tokened@1.0.1 was published") {
		t.Errorf("tokened: %+v", o)
	}
	if st, _ := c.led.LastStep(ctx, "acme/broken"); st.Name != "release" || st.Reason != batch.ReasonReleaseFailed {
		t.Errorf("not blocked in the ledger: %+v", st)
	}
	if v, _ := c.f.VariableValue("acme/broken", "CUTOVER_NPM_OIDC"); v != "true" {
		t.Errorf("rolled back without auto_rollback: %q", v)
	}

	// With auto_rollback the flag goes off by itself, and stays blocked.
	c.e.Opts.AutoRollback = true
	c.f.AddRun("acme/broken", forge.Run{Workflow: ".github/workflows/release.yml", Conclusion: "failure", Created: later.Add(time.Second)})
	if _, _, err := c.e.Status(ctx); err != nil {
		t.Fatal(err)
	}
	if v, _ := c.f.VariableValue("acme/broken", "CUTOVER_NPM_OIDC"); v != "false" {
		t.Errorf("auto_rollback left the flag %q", v)
	}
	if fl, _ := c.led.Flag(ctx, "acme/broken", "CUTOVER_NPM_OIDC"); fl.Value != "false" {
		t.Errorf("ledger flag %+v", fl)
	}
	evs, err := c.led.Events(ctx, ledger.EventFilter{Kind: "flag.rollback", Repo: "acme/broken"})
	if err != nil || len(evs) != 1 {
		t.Errorf("rollback events: %v %+v", err, evs)
	}
	if st, _ := c.led.LastStep(ctx, "acme/broken"); st.Reason != batch.ReasonReleaseFailed || !strings.Contains(st.Hint, "rolled back") {
		t.Errorf("after rollback: %+v", st)
	}

	// A forge that cannot list runs fails the watch of that repository only.
	c.f.Fail("Runs", "acme/good", forgetest.ErrInjected, 0)
	sum, _, err = c.e.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range sum.Outcomes {
		if o.Repo == "acme/good" && o.Reason == "watch failed" {
			return
		}
	}
	t.Errorf("watch failure not reported: %+v", sum.Outcomes)
}
