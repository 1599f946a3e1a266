package batch_test

import (
	"path/filepath"
	"testing"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/internal/forge/forgetest"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/npm"
)

// TestFlagOnCustomFlagVar: a campaign whose flag variable is not the
// default rewrites the guard around that variable, and flag on reads the
// merged workflow's guard for it too (it once checked for the default name
// and refused every repository as "workflow not guarded").
func TestFlagOnCustomFlagVar(t *testing.T) {
	ctx := t.Context()
	f := forgetest.New()
	f.AddRepo("acme/lib", map[string][]byte{
		".github/workflows/release.yml": []byte(tokenWorkflow("24")),
		"package.json":                  []byte(`{"name":"lib"}`),
	})
	led, err := ledger.Open(ctx, filepath.Join(t.TempDir(), "cutover.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { led.Close() })
	reg := &fakeRegistry{trust: map[string][]npm.TrustConfig{"lib": {npm.GitHubTrust("acme/lib", "release.yml", "")}}, docs: map[string]*npm.Packument{}}
	e := &batch.Engine{Forge: f, Ledger: led, Registry: reg, Opts: batch.Options{
		Org: "acme", Registry: testRegistry, Concurrency: 2, FlagVar: "RELEASE_OIDC",
		Plan: batch.PlanOptions{Canaries: []string{"acme/lib"}, Sizes: []int{10}},
		Gate: batch.Gate{Require: []string{"checks"}},
	}}
	if s, err := e.Inventory(ctx); err != nil || s.Failed() {
		t.Fatalf("inventory: %v %+v", err, s)
	}
	if _, err := e.PlanCampaign(ctx); err != nil {
		t.Fatal(err)
	}
	if s, err := e.Apply(ctx, batch.ApplyOptions{Wave: 0, Execute: true}); err != nil || s.Count(batch.OK) != 1 {
		t.Fatalf("apply: %v %+v", err, s)
	}
	ch, err := led.Change(ctx, "acme/lib")
	if err != nil || ch.PRNumber == 0 {
		t.Fatalf("no pull request: %v", err)
	}
	f.SetChecks("acme/lib", ch.PRNumber, "success")
	if s, err := e.Merge(ctx, batch.MergeOptions{Target: batch.RepoTarget{Repos: []string{"acme/lib"}}, Execute: true}); err != nil || s.Count(batch.OK) != 1 {
		t.Fatalf("merge: %v %+v", err, s)
	}
	s, err := e.Flag(ctx, batch.FlagOptions{On: true, Target: batch.FlagTarget{Repos: []string{"acme/lib"}}})
	if err != nil || s.Count(batch.OK) != 1 {
		t.Fatalf("flag on: %v %+v", err, s)
	}
	if v, ok := f.VariableValue("acme/lib", "RELEASE_OIDC"); !ok || v != "true" {
		t.Errorf("RELEASE_OIDC = %q (set %v), want true", v, ok)
	}
	if _, ok := f.VariableValue("acme/lib", "CUTOVER_NPM_OIDC"); ok {
		t.Error("the default flag variable was set as well")
	}
}
