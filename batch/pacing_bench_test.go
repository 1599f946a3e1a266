package batch_test

import (
	"cmp"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/internal/config"
	"github.com/cutover/cutover/internal/forge"
	gh "github.com/cutover/cutover/internal/forge/github"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

// pacingSeed is the generated organisation the pacing figures use.
const pacingSeed = 7

// pacingEnv gates BenchmarkPacing: it runs in real time, for minutes.
const pacingEnv = "CUTOVER_BENCH_PACING"

// BenchmarkPacing runs a whole campaign the way an operator does
// (inventory, plan, then apply every wave with --execute and --force) on a
// sandbox with GitHub's limits on and no time scaling: 80 content-creating
// requests a minute and 500 an hour, 5,000 requests an hour, 100 at once.
// The forge paces as the cutover command builds it (pacing "github") and
// the pull requests get the configuration's default labels.
//
// It reports the wall time of the campaign (s/campaign) and of its apply
// steps (s/apply), the pull requests opened, the writes and the
// content-creating requests per pull request (preflight probes included),
// the physical bound (every write 1 s after the one before, or the hourly
// content window when that is longer) and the campaign's ratio to it, and
// every secondary-limit answer (the goal is none; within 1.15 of the bound).
//
// It takes minutes (the 200-repository run about six), so it only runs with
// CUTOVER_BENCH_PACING=1: go test -run '^$' -bench Pacing -benchtime 1x ./batch
func BenchmarkPacing(b *testing.B) {
	if os.Getenv(pacingEnv) == "" {
		b.Skip("a real-time run of minutes: set " + pacingEnv + "=1")
	}
	for _, n := range []int{30, 200} {
		b.Run(fmt.Sprintf("repos=%d", n), func(b *testing.B) {
			for range b.N {
				pacingRun(b, n)
			}
		})
	}
}

// pacingRun is one run of BenchmarkPacing on n repositories.
func pacingRun(b *testing.B, n int) {
	ctx := b.Context()
	b.StopTimer()
	w, err := sandbox.Start(ctx, sandbox.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	seeded, err := w.Seed(ctx, sandbox.Generate(pacingSeed, n, sandbox.PortfolioOptions{Org: "sandbox-org"}))
	if err != nil {
		b.Fatal(err)
	}
	cfg := config.Default()
	writes := &writeLog{next: http.DefaultTransport}
	counter := &statusCounter{next: writes}
	fg, err := gh.New(ctx, gh.Options{APIURL: w.URL, Token: seeded.GitHubToken, Transport: counter,
		Author: forge.Author{Name: cfg.Campaign.AuthorName, Email: cfg.Campaign.AuthorEmail}})
	if err != nil {
		b.Fatal(err)
	}
	led, err := ledger.Open(ctx, filepath.Join(b.TempDir(), "cutover.db"), ledger.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer led.Close()
	e := &batch.Engine{Forge: fg, Ledger: led, Opts: batch.Options{
		Campaign: cfg.Campaign.Name, Org: seeded.Org, Registry: w.RegistryURL,
		FlagVar: cfg.Rewrite.FlagVar, NPMVersion: cfg.Rewrite.NPMVersion, Branch: cfg.Campaign.Branch,
		Author: forge.Author{Name: cfg.Campaign.AuthorName, Email: cfg.Campaign.AuthorEmail},
		PR:     batch.PROptions{Draft: cfg.PR.Draft, Labels: cfg.PR.Labels, Reviewers: cfg.PR.Reviewers, TeamReviewers: cfg.PR.TeamReviewers, Assignees: cfg.PR.Assignees},
		Plan:   batch.PlanOptions{Canaries: cfg.Waves.Canaries, Sizes: cfg.Waves.Sizes},
		Gate:   batch.Gate{Require: cfg.Waves.Require, MaxFailureRatio: cfg.Waves.MaxFailureRatio},
	}}
	// The sandbox's budgets start afresh with the campaign.
	w.API.SetLimits(ghapi.Limits{})
	b.StartTimer()
	start := time.Now()
	if sum, err := e.Inventory(ctx); err != nil || sum.Failed() {
		b.Fatalf("inventory: %v (%d failed)", err, sum.Count(batch.Failed))
	}
	plan, err := e.PlanCampaign(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var applyTime time.Duration
	failed := 0
	for _, wave := range plan.Waves {
		t0 := time.Now()
		sum, err := e.Apply(ctx, batch.ApplyOptions{Wave: wave.Number, Execute: true, Force: "benchmark"})
		applyTime += time.Since(t0)
		if err != nil {
			b.Fatalf("wave %d: %v", wave.Number, err)
		}
		if sum.Failed() {
			var s strings.Builder
			sum.Write(&s, nil)
			b.Logf("wave %d:\n%s", wave.Number, s.String())
			failed += sum.Count(batch.Failed)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()

	st := fg.Stats()
	prs := len(counter.created)
	if prs == 0 {
		b.Fatal("no pull request opened")
	}
	bound := pacingBound(st.Writes, st.Content, time.Second, 500*95/100)
	b.ReportMetric(elapsed.Seconds(), "s/campaign")
	b.ReportMetric(applyTime.Seconds(), "s/apply")
	b.ReportMetric(float64(prs), "PRs")
	b.ReportMetric(float64(len(plan.Waves)), "waves")
	b.ReportMetric(float64(st.Writes)/float64(prs), "writes/PR")
	b.ReportMetric(float64(st.Content)/float64(prs), "content/PR")
	b.ReportMetric(bound.Seconds(), "bound-s")
	b.ReportMetric(elapsed.Seconds()/bound.Seconds(), "ratio-to-bound")
	b.ReportMetric(float64(st.SecondaryLimits), "secondary-limits")
	b.ReportMetric(float64(counter.limited.Load()), "403/429-answers")
	b.ReportMetric(float64(failed), "failed-repos")
	b.ReportMetric(0, "ns/op")
	reportLoad(b)
	b.Logf("%d repositories (seed %d): %d PRs in %d waves, %.1f s (apply %.1f s); %d writes (%d content), bound %.0f s, ratio %.2f; %d secondary-limit answers; %s",
		n, pacingSeed, prs, len(plan.Waves), elapsed.Seconds(), applyTime.Seconds(), st.Writes, st.Content, bound.Seconds(), elapsed.Seconds()/bound.Seconds(), st.SecondaryLimits, fg.Pace())
	b.Logf("the longest gaps between two writes: %s", writes.longest(start, 8))
	if st.SecondaryLimits > 0 || counter.limited.Load() > 0 {
		b.Errorf("%d secondary-limit answers, %d 403/429 answers", st.SecondaryLimits, counter.limited.Load())
	}
}

// pacingBound is the least time a campaign of writes (content of them
// content-creating) can take at one write per interval, or under a cap of
// perHour content requests in any hour, whichever is longer: the last
// content request cannot start before (content-1)/perHour hours.
func pacingBound(writes, content int64, interval time.Duration, perHour int64) time.Duration {
	bound := time.Duration(max(0, writes-1)) * interval
	if content > perHour {
		bound = max(bound, time.Duration((content-1)/perHour)*time.Hour)
	}
	return bound
}

// writeLog notes when each write was sent and what it was.
type writeLog struct {
	next http.RoundTripper
	mu   sync.Mutex
	at   []time.Time
	what []string
}

func (l *writeLog) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		l.mu.Lock()
		l.at = append(l.at, time.Now())
		l.what = append(l.what, r.Method+" "+r.URL.Path)
		l.mu.Unlock()
	}
	return l.next.RoundTrip(r)
}

// longest describes the k longest gaps before a write (the first measured
// from start), with the write that ended each.
func (l *writeLog) longest(start time.Time, k int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	type gap struct {
		d    time.Duration
		at   time.Duration
		what string
	}
	var gaps []gap
	prev := start
	for i, t := range l.at {
		gaps = append(gaps, gap{t.Sub(prev), t.Sub(start), l.what[i]})
		prev = t
	}
	slices.SortFunc(gaps, func(a, b gap) int { return cmp.Compare(b.d, a.d) })
	var out []string
	for _, g := range gaps[:min(k, len(gaps))] {
		out = append(out, fmt.Sprintf("%.2fs before %s at %.1fs", g.d.Seconds(), g.what, g.at.Seconds()))
	}
	return strings.Join(out, "; ")
}
