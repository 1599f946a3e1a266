package github_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cutover/cutover/internal/forge"
	"github.com/cutover/cutover/internal/forge/github"
	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

// benchFiles is a typical repository: a monorepo with workflows and
// packages, most of whose files detection does not read.
func benchFiles(i int) map[string][]byte {
	files := map[string][]byte{
		"package.json":                  []byte(fmt.Sprintf(`{"name":"@acme/r%d","private":true}`, i)),
		".github/workflows/release.yml": widgetFiles[".github/workflows/release.yml"],
		".github/workflows/ci.yml":      []byte(fmt.Sprintf("on: pull_request\n# %d\n", i)),
		"README.md":                     []byte("# readme\n"),
	}
	for p := range 4 {
		files[fmt.Sprintf("packages/p%d/package.json", p)] = []byte(fmt.Sprintf(`{"name":"@acme/r%d-p%d"}`, i, p))
		for s := range 8 {
			files[fmt.Sprintf("packages/p%d/src/f%d.js", p, s)] = []byte(fmt.Sprintf("module.exports = %d\n", s))
		}
	}
	return files
}

// BenchmarkSnapshot measures snapshot throughput with rate limits off on
// both sides: cold (every blob fetched), warm (blobs from the disk cache)
// and unchanged (one conditional request per repository).
func BenchmarkSnapshot(b *testing.B) {
	w := startWorld(b, sandbox.Options{Limits: ghapi.Limits{Disabled: true}})
	const n = 100
	for i := range n {
		mustCreate(b, w, "acme", fmt.Sprintf("r%03d", i), ghapi.RepoOptions{Files: benchFiles(i)})
	}
	for _, reads := range []int{8, 32} {
		newF := func(cache string) *github.Forge {
			f, _ := newForge(b, w, github.Options{BaseURL: w.URL, CacheDir: cache, Limits: github.Limits{Disabled: true, Reads: reads}}, tokFull)
			return f
		}
		repos, err := newF("").Repos(context.Background(), "acme", forge.ListOptions{Include: []string{"r*"}})
		if err != nil || len(repos) != n {
			b.Fatal(len(repos), err)
		}
		snapAll := func(b *testing.B, f *github.Forge, known map[string]string) map[string]string {
			out := make([]string, len(repos))
			g, ctx := errgroup.WithContext(context.Background())
			g.SetLimit(reads)
			for i, r := range repos {
				g.Go(func() error {
					s, _, err := f.Snapshot(ctx, r, known[r.FullName], relevant)
					out[i] = s.Commit
					return err
				})
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
			m := map[string]string{}
			for i, r := range repos {
				m[r.FullName] = out[i]
			}
			return m
		}
		report := func(b *testing.B, start time.Time) {
			b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "repos/s")
			b.ReportMetric(0, "ns/op")
		}
		b.Run(fmt.Sprintf("cold/reads=%d", reads), func(b *testing.B) {
			start := time.Now()
			for range b.N {
				snapAll(b, newF(""), nil)
			}
			report(b, start)
		})
		b.Run(fmt.Sprintf("warm/reads=%d", reads), func(b *testing.B) {
			cache := b.TempDir()
			snapAll(b, newF(cache), nil)
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				snapAll(b, newF(cache), nil)
			}
			report(b, start)
		})
		b.Run(fmt.Sprintf("unchanged/reads=%d", reads), func(b *testing.B) {
			f := newF("")
			known := snapAll(b, f, nil)
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				snapAll(b, f, known)
			}
			report(b, start)
		})
	}
}

// prScale makes an emulated hour last 10 s.
const prScale = 360

// BenchmarkPRsPerHour opens pull requests for one emulated hour under
// GitHub's real limits (80 content-creating requests a minute, 500 an
// hour, 5,000 requests an hour, 100 concurrent), time-scaled 360×, with
// branches pushed beforehand, and reports how many it opened and how many
// secondary-limit answers it met (the goal is none).
func BenchmarkPRsPerHour(b *testing.B) {
	for _, perHour := range []int{0, 480} {
		name := "budget=default"
		if perHour > 0 {
			name = fmt.Sprintf("budget=%d", perHour)
		}
		b.Run(name, func(b *testing.B) {
			for range b.N {
				prsPerHour(b, perHour)
			}
		})
	}
}

func prsPerHour(b *testing.B, perHour int) {
	w := startWorld(b, sandbox.Options{TimeScale: prScale})
	const n = 600
	for i := range n {
		name := fmt.Sprintf("svc-%03d", i)
		mustCreate(b, w, "acme", name, ghapi.RepoOptions{Files: map[string][]byte{"package.json": []byte("{}\n")}})
		commitOn(b, w, "acme", name, campaignBranch, "main", map[string][]byte{"MIGRATED.md": []byte("yes\n")})
	}
	f, _ := newForge(b, w, github.Options{BaseURL: w.URL, Limits: github.Limits{TimeScale: prScale, ContentPerHour: perHour}}, tokFull)
	repos := make([]forge.Repo, n)
	for i := range n {
		full := fmt.Sprintf("acme/svc-%03d", i)
		repos[i] = forge.Repo{FullName: full, DefaultBranch: "main"}
	}
	// Budgets start afresh now.
	w.API.SetLimits(ghapi.Limits{})
	hour := time.Duration(float64(time.Hour) / prScale)
	ctx, cancel := context.WithTimeout(context.Background(), hour)
	defer cancel()
	var opened atomic.Int64
	g := errgroup.Group{}
	g.SetLimit(8)
	start := time.Now()
	for _, r := range repos {
		g.Go(func() error {
			if _, err := f.EnsurePR(ctx, r, forge.PRSpec{Head: campaignBranch, Title: "Publish with OIDC"}); err == nil {
				opened.Add(1)
			} else if ctx.Err() == nil {
				b.Error(err)
			}
			return nil
		})
	}
	_ = g.Wait()
	elapsed := time.Since(start)
	st := f.Stats()
	perEmulatedHour := float64(opened.Load()) / (float64(elapsed) * prScale / float64(time.Hour))
	b.ReportMetric(float64(opened.Load()), "PRs/emulated-hour")
	b.ReportMetric(perEmulatedHour, "PRs/h-measured")
	b.ReportMetric(float64(st.SecondaryLimits), "secondary-limits")
	b.ReportMetric(0, "ns/op")
	if st.SecondaryLimits > 0 {
		b.Errorf("%d secondary-limit answers", st.SecondaryLimits)
	}
}
