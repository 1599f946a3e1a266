package github_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
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

// prScale makes an emulated hour last 30 s.
const prScale = 120

// BenchmarkPRsPerHour opens 1,000 pull requests, each with the default
// labels (one create and one issue update: two writes), under GitHub's
// real limits in the sandbox (80 content-creating requests a minute, 500
// an hour, 5,000 requests an hour, 100 concurrent), time-scaled 120×, with
// the branches pushed beforehand. It reports the rate they were opened at
// per emulated hour and as a share of GitHub's 500, the most opened in any
// emulated hour (never more than 500), and the secondary-limit answers
// (the goal is none). The pacer fills the hour window in its first
// emulated quarter hour, then opens the next as the window slides: the
// rate tends to 475 an hour (95% of 500) over a long campaign.
func BenchmarkPRsPerHour(b *testing.B) {
	for range b.N {
		prsPerHour(b, 1000)
	}
}

// creations notes when each pull request was created.
type creations struct {
	next http.RoundTripper
	mu   sync.Mutex
	at   []time.Time
}

func (c *creations) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusCreated && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/pulls") {
		c.mu.Lock()
		c.at = append(c.at, time.Now())
		c.mu.Unlock()
	}
	return resp, err
}

func prsPerHour(b *testing.B, n int) {
	b.StopTimer()
	w := startWorld(b, sandbox.Options{TimeScale: prScale})
	var g errgroup.Group
	g.SetLimit(4)
	for i := range n {
		g.Go(func() error {
			name := fmt.Sprintf("svc-%04d", i)
			mustCreate(b, w, "acme", name, ghapi.RepoOptions{Files: map[string][]byte{"package.json": []byte("{}\n")}})
			commitOn(b, w, "acme", name, campaignBranch, "main", map[string][]byte{"MIGRATED.md": []byte("yes\n")})
			return nil
		})
	}
	_ = g.Wait()
	created := &creations{next: http.DefaultTransport}
	f, err := github.New(context.Background(), github.Options{BaseURL: w.URL, Token: tokFull, Transport: created,
		Limits: github.Limits{TimeScale: prScale}})
	if err != nil {
		b.Fatal(err)
	}
	// Budgets start afresh now.
	w.API.SetLimits(ghapi.Limits{})
	b.StartTimer()
	g = errgroup.Group{}
	g.SetLimit(8)
	for i := range n {
		r := forge.Repo{FullName: fmt.Sprintf("acme/svc-%04d", i), DefaultBranch: "main"}
		g.Go(func() error {
			_, err := f.EnsurePR(context.Background(), r, forge.PRSpec{Head: campaignBranch, Title: "Publish with OIDC",
				Labels: []string{"cutover", "npm-oidc"}})
			if err != nil {
				b.Error(err)
			}
			return nil
		})
	}
	_ = g.Wait()
	b.StopTimer()
	st := f.Stats()
	at := created.at
	if len(at) != n {
		b.Fatalf("%d pull requests opened, want %d", len(at), n)
	}
	emulated := func(d time.Duration) time.Duration { return time.Duration(float64(d) * prScale) }
	span := emulated(at[len(at)-1].Sub(at[0]))
	perHour := float64(n-1) / span.Hours()
	b.ReportMetric(perHour, "PRs/emulated-h")
	b.ReportMetric(100*perHour/500, "%-of-500/h")
	b.ReportMetric(float64(maxInWindow(at, time.Duration(float64(time.Hour)/prScale))), "max-PRs-in-an-emulated-h")
	b.ReportMetric(span.Minutes(), "emulated-min")
	b.ReportMetric(float64(st.Writes)/float64(n), "writes/PR")
	b.ReportMetric(float64(st.SecondaryLimits), "secondary-limits")
	b.ReportMetric(0, "ns/op")
	if st.SecondaryLimits > 0 {
		b.Errorf("%d secondary-limit answers", st.SecondaryLimits)
	}
}

// maxInWindow returns the most times of ts (in order) within any window of
// length d.
func maxInWindow(ts []time.Time, d time.Duration) int {
	best, j := 0, 0
	for i := range ts {
		for ts[i].Sub(ts[j]) >= d {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}
