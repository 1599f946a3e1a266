package sandbox_test

import (
	"testing"
	"time"

	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

// BenchmarkSeed measures how many generated repositories World.Seed creates
// per second (files rendered, bare repositories written, secrets, packages
// with histories and tokens on the registry).
func BenchmarkSeed(b *testing.B) {
	const n = 100
	p := sandbox.Generate(1, n, sandbox.PortfolioOptions{})
	var seeding time.Duration
	for b.Loop() {
		w, err := sandbox.Start(b.Context(), sandbox.Options{Limits: ghapi.Limits{Disabled: true}})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if _, err := w.Seed(b.Context(), p); err != nil {
			b.Fatal(err)
		}
		seeding += time.Since(start)
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/seeding.Seconds(), "repos/s")
}

// BenchmarkGenerate measures portfolio generation and rendering alone.
func BenchmarkGenerate(b *testing.B) {
	const n = 100
	for b.Loop() {
		p := sandbox.Generate(1, n, sandbox.PortfolioOptions{})
		for _, r := range p.Repos {
			if _, err := p.Files(r, testRegistry); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "repos/s")
}

// BenchmarkRelease measures simulated releases per second over publishing
// repositories of every kind (detection, the job model, ID token, exchange,
// canary publish with provenance when it applies).
func BenchmarkRelease(b *testing.B) {
	w, p, _ := seedWorld(b, 2, 60)
	var repos []string
	for _, r := range p.Repos {
		if r.Publishes {
			repos = append(repos, r.FullName(p.Org))
		}
	}
	i, published := 0, 0
	for b.Loop() {
		res, err := w.Release(b.Context(), repos[i%len(repos)], sandbox.ReleaseOptions{})
		if err != nil {
			b.Fatal(err)
		}
		for _, pr := range res.Packages {
			if pr.Published {
				published++
			}
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "releases/s")
	b.ReportMetric(float64(published)/b.Elapsed().Seconds(), "packages/s")
}
