package ledger

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkAppendEvent measures events appended per second, one
// transaction each, on a ledger file.
func BenchmarkAppendEvent(b *testing.B) {
	l, err := Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	b.ReportAllocs()
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		if _, err := l.AppendEvent(b.Context(), Event{Kind: "bench", Repo: "acme/a", Message: "event",
			Data: []byte(`{"n":1}`)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkAppendEventParallel measures events per second with writers
// on every CPU sharing one handle.
func BenchmarkAppendEventParallel(b *testing.B) {
	l, err := Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.AppendEvent(b.Context(), Event{Kind: "bench", Message: "event"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkSnapshot1000 measures a snapshot of a campaign of 1,000
// repositories, each detected, planned, with a change, a flag, a
// verification, a secret and a few events.
func BenchmarkSnapshot1000(b *testing.B) {
	ctx := b.Context()
	clk := newClock()
	l, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"), Options{Now: clk.Now})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	seedCampaign(b, l, 1000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s, err := l.Snapshot(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(s.Repos) != 1000 {
			b.Fatalf("%d repos", len(s.Repos))
		}
	}
}

// seedCampaign fills a ledger with n repositories in waves of 10, 50 and the rest.
func seedCampaign(b *testing.B, l *Ledger, n int) {
	ctx := b.Context()
	must(b, l.SetCampaign(ctx, "bench", "sha256:0"))
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("acme/repo-%04d", i)
	}
	addRepos(b, l, names...)
	waves := []Wave{{Number: 0, Name: "canaries"}, {Number: 1}, {Number: 2}}
	for i, name := range names {
		must(b, l.RecordDetection(ctx, name, "c1", sampleResult(name)))
		w := 2
		switch {
		case i < 10:
			w = 0
		case i < 60:
			w = 1
		}
		waves[w].Members = append(waves[w].Members, name)
		must(b, l.RecordChange(ctx, Change{Repo: name, Branch: "cutover/npm-oidc", PushedSHA: "abc", PRNumber: i + 1,
			URL: "https://github.example/" + name + "/pull/1", Checks: "success"}))
		must(b, l.SetFlag(ctx, name, "CUTOVER_NPM_OIDC", "true"))
		_, err := l.RecordVerification(ctx, Verification{Repo: name, Package: "@acme/a", Version: "1.0.0",
			Checks: []Check{{Name: "exists", OK: true}, {Name: "trusted-publisher", OK: true}}})
		must(b, err)
		must(b, l.RecordSecret(ctx, Secret{Repo: name, Scope: ScopeRepo, Name: "NPM_TOKEN"}))
		must(b, l.RecordStep(ctx, Step{Repo: name, Name: "verify", Outcome: OutcomeOK}))
	}
	must(b, l.SetWaves(ctx, waves))
}
