package batch_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/internal/forge/forgetest"
	"github.com/cutover/cutover/internal/ledger"
)

// TestRetry: on the in-memory forge, retry redoes exactly the repositories
// whose last step failed: an inventory that failed is read again, an apply
// whose push failed is pushed and opened, a failed merge is left to its
// own command, and the repositories that did not fail are not touched.
func TestRetry(t *testing.T) {
	ctx := t.Context()
	f := forgetest.New()
	var canaries []string
	for _, n := range []string{"inv", "push", "merge", "fine"} {
		f.AddRepo("acme/"+n, map[string][]byte{
			".github/workflows/release.yml": []byte(tokenWorkflow("24")),
			"package.json":                  []byte(fmt.Sprintf(`{"name":"%s"}`, n)),
		})
		if n != "inv" {
			canaries = append(canaries, "acme/"+n)
		}
	}
	led, err := ledger.Open(ctx, filepath.Join(t.TempDir(), "cutover.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { led.Close() })
	e := &batch.Engine{Forge: f, Ledger: led, Opts: batch.Options{
		Org: "acme", Registry: testRegistry, Concurrency: 2,
		Plan: batch.PlanOptions{Canaries: canaries, Sizes: []int{10}},
	}}

	f.Fail("Snapshot", "acme/inv", forgetest.ErrInjected, 1)
	if s, err := e.Inventory(ctx); err != nil || s.Count(batch.Failed) != 1 {
		t.Fatalf("inventory: %v %+v", err, s)
	}
	if _, err := e.PlanCampaign(ctx); err != nil {
		t.Fatal(err)
	}
	f.Fail("Push", "acme/push", forgetest.ErrInjected, 1)
	if s, err := e.Apply(ctx, batch.ApplyOptions{Wave: 0, Execute: true}); err != nil || s.Count(batch.Failed) != 1 || s.Count(batch.OK) != 2 {
		t.Fatalf("apply: %v %+v", err, s)
	}
	ch, err := led.Change(ctx, "acme/merge")
	if err != nil || ch.PRNumber == 0 {
		t.Fatalf("acme/merge has no pull request: %v", err)
	}
	f.SetChecks("acme/merge", ch.PRNumber, "success")
	f.Fail("MergePR", "acme/merge", forgetest.ErrInjected, 1)
	if s, err := e.Merge(ctx, batch.MergeOptions{Target: batch.RepoTarget{Repos: []string{"acme/merge"}}, Execute: true}); err != nil || s.Count(batch.Failed) != 1 {
		t.Fatalf("merge: %v %+v", err, s)
	}

	f.Reset()
	before := len(f.Calls())
	sum, err := e.Retry(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]batch.Outcome{}
	for _, o := range sum.Outcomes {
		got[o.Repo] = o
	}
	if len(got) != 3 {
		t.Errorf("retry touched %d repositories, want the 3 that failed: %+v", len(got), sum.Outcomes)
	}
	if o := got["acme/inv"]; o.Kind != batch.OK {
		t.Errorf("inventory not redone: %+v", o)
	}
	if o := got["acme/push"]; o.Kind != batch.OK {
		t.Errorf("apply not redone: %+v", o)
	}
	if ch, err := led.Change(ctx, "acme/push"); err != nil || ch.PRNumber == 0 {
		t.Errorf("acme/push has no pull request after retry: %+v %v", ch, err)
	}
	if o := got["acme/merge"]; o.Kind != batch.Skipped || o.Reason != "retry with its own command" || o.Detail != `last step "merge" failed: run cutover merge again` {
		t.Errorf("failed merge: %+v", o)
	}
	for _, c := range f.Calls()[before:] {
		if c.Repo == "acme/fine" || (c.Repo == "acme/merge" && c.Method == "MergePR") {
			t.Errorf("retry called %s on %s", c.Method, c.Repo)
		}
	}
	if st, _ := led.LastStep(ctx, "acme/push"); st.Name != "apply" || st.Outcome != ledger.OutcomeOK {
		t.Errorf("acme/push's last step: %+v", st)
	}
}
