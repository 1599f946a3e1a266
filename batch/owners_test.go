package batch_test

import (
	"path/filepath"
	"testing"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/internal/config"
	gh "github.com/cutover/cutover/internal/forge/github"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

// TestInventoryOwners inventories a generated sandbox portfolio: each
// repository's owner comes from its CODEOWNERS, and an [[owners]] table of
// the config wins over it and fills in where there is none.
func TestInventoryOwners(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	w, err := sandbox.Start(ctx, sandbox.Options{Limits: ghapi.Limits{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	p := sandbox.Generate(11, 24, sandbox.PortfolioOptions{})
	seeded, err := w.Seed(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	// One repository with CODEOWNERS and one without are mapped by config.
	var withOwner, without string
	for _, r := range p.Repos {
		switch o := p.CodeOwner(r); {
		case o != "" && withOwner == "":
			withOwner = r.FullName(p.Org)
		case o == "" && without == "":
			without = r.FullName(p.Org)
		}
	}
	if withOwner == "" || without == "" {
		t.Fatalf("portfolio of %d repositories: want one with CODEOWNERS and one without", len(p.Repos))
	}
	cfg := config.Config{Owners: []config.Owners{{Repos: []string{withOwner, without}, Owner: "@" + p.Org + "/war-room"}}}
	fg, err := gh.New(ctx, gh.Options{APIURL: w.URL, Token: seeded.GitHubToken, Limits: gh.Limits{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	led, err := ledger.Open(ctx, filepath.Join(t.TempDir(), "cutover.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { led.Close() })
	e := &batch.Engine{Forge: fg, Ledger: led, Opts: batch.Options{Org: seeded.Org, Registry: w.RegistryURL, OwnerOf: cfg.OwnerOf}}
	sum, err := e.Inventory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed() {
		t.Fatalf("inventory failed: %+v", sum.Outcomes)
	}
	owned := 0
	for _, r := range p.Repos {
		full := r.FullName(p.Org)
		got, err := led.Repo(ctx, full)
		if err != nil {
			t.Fatal(err)
		}
		want := p.CodeOwner(r)
		if full == withOwner || full == without {
			want = "@" + p.Org + "/war-room"
		}
		if got.Owner != want {
			t.Errorf("%s: owner %q, want %q", full, got.Owner, want)
		}
		if got.Owner != "" {
			owned++
		}
	}
	if owned < len(p.Repos)/2 {
		t.Errorf("only %d of %d repositories have an owner", owned, len(p.Repos))
	}
}
