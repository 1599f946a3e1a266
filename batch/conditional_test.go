package batch_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/internal/e2e"
	gh "github.com/cutover/cutover/internal/forge/github"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"

	github "github.com/google/go-github/v66/github"
)

// countedUsed is how many requests the sandbox has counted against token's
// primary budget (GET /rate_limit, which itself is not counted).
func countedUsed(t testing.TB, w *sandbox.World, token string) int {
	t.Helper()
	c, err := github.NewClient(nil).WithAuthToken(token).WithEnterpriseURLs(w.URL, w.URL)
	if err != nil {
		t.Fatal(err)
	}
	rl, _, err := c.RateLimit.Get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return rl.GetCore().Limit - rl.GetCore().Remaining
}

// TestInventoryRerunIsConditional inventories an unchanged organisation of
// 150 repositories (two listing pages) twice, each time with a new Forge (a
// new process) over one ledger and one conditional-request cache folder,
// against the sandbox counting requests as GitHub does (a 304 is not
// counted). The first inventory reads everything; the second must spend at
// most one counted request per 100 repositories: listing pages come back
// 304 to their kept ETags, and every repository's head 304 to its recorded
// commit. BenchmarkInventoryRerun reports the same for 100 and 500.
func TestInventoryRerunIsConditional(t *testing.T) {
	t.Parallel()
	inventoryRerun(t, 150)
}

// BenchmarkInventoryRerun reports the counted requests of a first and a
// second inventory of an unchanged organisation of 100 and 500
// repositories, and of a second one without the kept ETags.
func BenchmarkInventoryRerun(b *testing.B) {
	for _, n := range []int{100, 500} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for range b.N {
				first, second, cold := inventoryRerun(b, n)
				b.ReportMetric(float64(first), "counted-first")
				b.ReportMetric(float64(second), "counted-second")
				b.ReportMetric(float64(cold), "counted-second-without-etags")
				b.ReportMetric(100*float64(second)/float64(n), "counted-second/100-repos")
				b.ReportMetric(0, "ns/op")
			}
		})
	}
}

// inventoryRerun seeds n generated repositories and returns the counted
// requests of a first and a second inventory, and of a third one whose
// Forge keeps no ETags from before; it fails t when the second spends more
// than one per 100 repositories.
func inventoryRerun(t testing.TB, n int) (first, second, cold int) {
	t.Helper()
	w, err := sandbox.Start(t.Context(), sandbox.Options{Limits: ghapi.Limits{Primary: 1 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	w.API.AddToken(benchToken, ghapi.Identity{Login: "campaigner", Permissions: ghapi.AllPermissions()})
	p := sandbox.Generate(benchSeed, n, sandbox.PortfolioOptions{Org: "acme", CIFailureRate: -1})
	var g errgroup.Group
	g.SetLimit(8)
	for _, r := range p.Repos {
		g.Go(func() error {
			files, err := p.Files(r, e2e.Registry)
			if err != nil {
				return err
			}
			return w.CreateRepo(p.Org, r.Name, ghapi.RepoOptions{
				Files: files, Private: r.Private, DefaultBranch: r.DefaultBranch, Topics: r.Topics,
			})
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	led, err := ledger.Open(t.Context(), filepath.Join(dir, "cutover.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer led.Close()
	cache := filepath.Join(dir, "cutover.db.etags")
	inventory := func(cache string) (int, gh.Stats) {
		fg, err := gh.New(t.Context(), gh.Options{APIURL: w.URL, Token: benchToken,
			Limits: gh.Limits{Disabled: true}, ETagCacheDir: cache})
		if err != nil {
			t.Fatal(err)
		}
		e := &batch.Engine{Forge: fg, Ledger: led, Opts: batch.Options{Org: "acme", Registry: e2e.Registry}}
		before := countedUsed(t, w, benchToken)
		sum, err := e.Inventory(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(sum.Outcomes) != n || sum.Failed() {
			t.Fatalf("inventory: %d outcomes, want %d; %d failed", len(sum.Outcomes), n, sum.Count(batch.Failed))
		}
		return countedUsed(t, w, benchToken) - before, fg.Stats()
	}
	first, st1 := inventory(cache)
	second, st2 := inventory(cache)
	// Without the kept ETags (a new process, cache in memory only)
	// only the heads are conditional: every listing page counts.
	cold, _ = inventory("")
	pages := (n + 99) / 100
	t.Logf("%d repositories: first inventory %d counted requests (%d sent), second %d counted (%d sent, %d revalidated from the cache); without the kept ETags %d counted",
		n, first, st1.Requests, second, st2.Requests, st2.Revalidated, cold)
	if cold != pages {
		t.Errorf("inventory with no kept ETags: %d counted requests, want the %d listing pages", cold, pages)
	}
	if first < n {
		t.Errorf("first inventory: %d counted requests for %d repositories; the sandbox is not counting", first, n)
	}
	if limit := n / 100; second > limit {
		t.Errorf("second inventory of an unchanged organisation: %d counted requests, want at most %d (one per 100 repositories)", second, limit)
	}
	if second >= pages || st2.Revalidated < int64(pages) {
		t.Errorf("second inventory: %d counted, %d responses revalidated; want every listing page (%d) revalidated and not counted", second, st2.Revalidated, pages)
	}
	// The cache holds no token.
	err = filepath.WalkDir(cache, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if bytes.Contains(b, []byte(benchToken)) {
			t.Errorf("%s holds the token", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return first, second, cold
}
