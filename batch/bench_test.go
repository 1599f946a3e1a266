package batch_test

import (
	"bufio"
	"cmp"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/internal/e2e"
	gh "github.com/cutover/cutover/internal/forge/github"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

// benchToken is the campaign's token in the benchmarks' sandbox.
const benchToken = "ghp_benchCampaignToken00000000000000000"

// benchSeed seeds the benchmarks' generated portfolios.
const benchSeed = 2026

// tokenKinds are the generator's kinds that publish with a token from a
// GitHub-hosted runner: the ones a campaign rewrites.
var tokenKinds = map[sandbox.Kind]int{
	sandbox.KindNPM: 30, sandbox.KindNPMWorkspaces: 5, sandbox.KindPNPM: 6, sandbox.KindYarn: 3,
	sandbox.KindLerna: 3, sandbox.KindPrivate: 8, sandbox.KindSemanticRelease: 10, sandbox.KindChangesets: 10,
	sandbox.KindReleasePlease: 5, sandbox.KindJSDevTools: 4, sandbox.KindNpmrc: 4, sandbox.KindReusable: 4,
}

// benchWorld starts a World with the limits given, a token with every
// permission, and n generated repositories (weights nil: the default mix)
// whose workflows publish to e2e.Registry.
func benchWorld(b *testing.B, opts sandbox.Options, n int, weights map[sandbox.Kind]int) (*sandbox.World, sandbox.Portfolio) {
	b.Helper()
	w, err := sandbox.Start(b.Context(), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.Close() })
	w.API.AddToken(benchToken, ghapi.Identity{Login: "campaigner", Permissions: ghapi.AllPermissions()})
	p := sandbox.Generate(benchSeed, n, sandbox.PortfolioOptions{Org: "acme", Weights: weights, CIFailureRate: -1})
	var g errgroup.Group
	g.SetLimit(8)
	for _, r := range p.Repos {
		g.Go(func() error {
			files, err := p.Files(r, e2e.Registry)
			if err != nil {
				return err
			}
			return w.CreateRepo(p.Org, r.Name, ghapi.RepoOptions{
				Files: files, Private: r.Private, Archived: r.Archived, DefaultBranch: r.DefaultBranch, Topics: r.Topics,
			})
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	return w, p
}

// benchEngine returns an engine over a fresh forge and a fresh ledger,
// with the default concurrency (8). cacheDir is the forge's blob cache;
// empty means none, as the cutover command builds it.
func benchEngine(b *testing.B, w *sandbox.World, lim gh.Limits, transport http.RoundTripper, cacheDir string) (*batch.Engine, *gh.Forge) {
	b.Helper()
	fg, err := gh.New(b.Context(), gh.Options{APIURL: w.URL, Token: benchToken, Limits: lim, Transport: transport, CacheDir: cacheDir})
	if err != nil {
		b.Fatal(err)
	}
	led, err := ledger.Open(b.Context(), filepath.Join(b.TempDir(), "cutover.db"), ledger.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { led.Close() })
	// The pull request options are the configuration's defaults.
	opts := batch.Options{Org: "acme", Registry: e2e.Registry, PR: batch.PROptions{Labels: []string{"cutover", "npm-oidc"}}}
	return &batch.Engine{Forge: fg, Ledger: led, Opts: opts}, fg
}

// memWatch samples the Go heap while a benchmark runs and reads the
// process's peak resident set, which includes the sandbox serving it.
type memWatch struct {
	stop     chan struct{}
	done     chan struct{}
	peakHeap atomic.Uint64
}

// watchMemory resets the kernel's peak RSS mark and starts sampling.
func watchMemory() *memWatch {
	// Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0+).
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	m := &memWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > m.peakHeap.Load() {
				m.peakHeap.Store(ms.HeapInuse)
			}
			select {
			case <-m.stop:
				return
			case <-t.C:
			}
		}
	}()
	return m
}

// report stops sampling and reports peak-RSS-MB (VmHWM of the whole test
// process: campaign engine, sandbox and the git processes' parent) and
// peak-heap-MB (largest sampled HeapInuse).
func (m *memWatch) report(b *testing.B) {
	close(m.stop)
	<-m.done
	if hwm := vmHWM(); hwm > 0 {
		b.ReportMetric(float64(hwm)/(1<<20), "peak-RSS-MB")
	}
	b.ReportMetric(float64(m.peakHeap.Load())/(1<<20), "peak-heap-MB")
}

// vmHWM returns the process's peak resident set in bytes, or 0 where
// /proc is not there.
func vmHWM() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkInventory1000 inventories 1,000 generated repositories (the
// default mix) with the sandbox's and the forge's limits off, from a cold
// ledger: it reports repos/s and peak memory. Target: under 20 s, peak RSS
// under 300 MB, on 2 cores.
func BenchmarkInventory1000(b *testing.B) {
	const n = 1000
	w, p := benchWorld(b, sandbox.Options{Limits: ghapi.Limits{Disabled: true}}, n, nil)
	listed := 0 // archived repositories are not listed
	for _, r := range p.Repos {
		if !r.Archived {
			listed++
		}
	}
	var elapsed, cpuSelf, cpuGit time.Duration
	mem := watchMemory()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e, _ := benchEngine(b, w, gh.Limits{Disabled: true}, nil, "")
		b.StartTimer()
		start := time.Now()
		self0, children0 := cpuTimes()
		sum, err := e.Inventory(b.Context())
		elapsed += time.Since(start)
		self1, children1 := cpuTimes()
		cpuSelf, cpuGit = cpuSelf+self1-self0, cpuGit+children1-children0
		if err != nil {
			b.Fatal(err)
		}
		if len(sum.Outcomes) != listed || sum.Failed() {
			b.Fatalf("inventory: %d outcomes, want %d; %d failed", len(sum.Outcomes), listed, sum.Count(batch.Failed))
		}
	}
	mem.report(b)
	b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "repos/s")
	b.ReportMetric(elapsed.Seconds()/float64(b.N), "s/inventory")
	reportCPU(b, cpuSelf, cpuGit)
	reportLoad(b)
}

// BenchmarkApply500 applies a wave of 500 generated token-publishing
// repositories with --execute (rewrite, clone, commit, push, open and
// label the pull request, record) with the limits off; inventory and plan
// are not timed. It reports repos/s and peak memory. Target: under 60 s,
// peak RSS under 300 MB, on 2 cores.
func BenchmarkApply500(b *testing.B) {
	const n = 500
	var elapsed, cpuSelf, cpuGit time.Duration
	var mem *memWatch
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		w, p := benchWorld(b, sandbox.Options{Limits: ghapi.Limits{Disabled: true}}, n, tokenKinds)
		e, _ := benchEngine(b, w, gh.Limits{Disabled: true}, nil, "")
		planWave(b, e, p)
		if mem == nil {
			mem = watchMemory()
		}
		b.StartTimer()
		start := time.Now()
		self0, children0 := cpuTimes()
		sum, err := e.Apply(b.Context(), batch.ApplyOptions{Wave: 0, Execute: true})
		elapsed += time.Since(start)
		b.StopTimer()
		self1, children1 := cpuTimes()
		cpuSelf, cpuGit = cpuSelf+self1-self0, cpuGit+children1-children0
		if err != nil {
			b.Fatal(err)
		}
		if sum.Failed() {
			var s strings.Builder
			sum.Write(&s, nil)
			b.Fatalf("apply failed:\n%s", s.String())
		}
		b.ReportMetric(float64(sum.Count(batch.OK)), "PRs")
		w.Close()
	}
	mem.report(b)
	b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "repos/s")
	b.ReportMetric(elapsed.Seconds()/float64(b.N), "s/apply")
	reportCPU(b, cpuSelf, cpuGit)
	reportLoad(b)
}

// planWave inventories the portfolio and plans every repository that
// needs the campaign into wave 0.
func planWave(b *testing.B, e *batch.Engine, p sandbox.Portfolio) []string {
	b.Helper()
	ctx := b.Context()
	if sum, err := e.Inventory(ctx); err != nil || sum.Failed() {
		b.Fatalf("inventory: %v (%d failed)", err, sum.Count(batch.Failed))
	}
	var names []string
	for _, r := range p.Repos {
		if !r.Archived {
			names = append(names, r.FullName(p.Org))
		}
	}
	e.Opts.Plan = batch.PlanOptions{Canaries: names}
	plan, err := e.PlanCampaign(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if len(plan.Waves) != 1 {
		b.Fatalf("plan: %d waves, want the one named", len(plan.Waves))
	}
	return names
}

// statusCounter counts the answers of a transport with a status of 403 or
// 429, the statuses of GitHub's rate-limit answers, and those that say the
// primary budget is spent (x-ratelimit-remaining: 0), and notes when each
// pull request was created.
type statusCounter struct {
	next    http.RoundTripper
	limited atomic.Int64
	spent   atomic.Int64
	mu      sync.Mutex
	created []time.Time // 201 answers to POST …/pulls, in real time
}

func (c *statusCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	if resp.Header.Get("X-Ratelimit-Remaining") == "0" {
		c.spent.Add(1)
	}
	switch {
	case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests:
		c.limited.Add(1)
	case resp.StatusCode == http.StatusCreated && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/pulls"):
		c.mu.Lock()
		c.created = append(c.created, time.Now())
		c.mu.Unlock()
	}
	return resp, err
}

// timeScale is how many times faster than real time the rate-limited
// benchmark runs, on both the sandbox and the forge.
const timeScale = 60

// BenchmarkCampaignRateLimited applies a wave of 500 token-publishing
// repositories with GitHub's limits on in the sandbox (80 content requests
// a minute, 500 an hour, 5,000 requests an hour) and the forge's pacing on
// (sliding windows at 95% of those), both time-scaled by timeScale. It
// reports the rate pull requests were opened at per emulated hour
// (PRs/emulated-h) and as a share of GitHub's 500 an hour, the most opened
// in any emulated hour and minute, the API requests per repository, and the
// rate-limit answers: 403/429-answers (refusals seen on the wire),
// secondary-limits and primary-limits (as the forge counted them; go-github
// refuses a request itself when it knows the budget is spent) and
// budget-spent-answers (answers with x-ratelimit-remaining 0, after which
// the forge waits for the reset). The target is within 5% of 500 an hour
// and no secondary limit.
//
// Reads count too: GitHub's primary budget is 5,000 requests an hour. The
// sub-benchmark cache=off runs the forge as the cutover command builds it
// without a cache folder, re-reading every blob inventory read; cache=on
// gives it a blob cache (Options.CacheDir) shared by inventory and apply.
func BenchmarkCampaignRateLimited(b *testing.B) {
	b.Run("cache=off", func(b *testing.B) { benchRateLimited(b, false) })
	b.Run("cache=on", func(b *testing.B) { benchRateLimited(b, true) })
}

// benchRateLimited is one run of BenchmarkCampaignRateLimited; cache gives
// the forge a blob cache.
func benchRateLimited(b *testing.B, cache bool) {
	const n = 500
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		w, p := benchWorld(b, sandbox.Options{TimeScale: timeScale, Limits: ghapi.Limits{Disabled: true}}, n, tokenKinds)
		counter := &statusCounter{next: http.DefaultTransport}
		cacheDir := ""
		if cache {
			cacheDir = b.TempDir()
		}
		e, fg := benchEngine(b, w, gh.Limits{TimeScale: timeScale}, counter, cacheDir)
		// Inventory and plan are not what is measured: they run with the
		// sandbox's limits off, which are then turned on for the apply.
		w.API.SetLimits(ghapi.Limits{Disabled: true})
		planWave(b, e, p)
		w.API.SetLimits(ghapi.Limits{})
		before := fg.Stats()
		limitedBefore, spentBefore := counter.limited.Load(), counter.spent.Load()
		b.StartTimer()
		start := time.Now()
		sum, err := e.Apply(b.Context(), batch.ApplyOptions{Wave: 0, Execute: true})
		real := time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if sum.Failed() {
			var s strings.Builder
			sum.Write(&s, nil)
			b.Fatalf("apply failed:\n%s", s.String())
		}
		after := fg.Stats()
		// Creation times in emulated time: the sandbox's timestamps are
		// whole seconds, too coarse at this scale, so the client's clock
		// is used, scaled.
		created := counter.created
		if len(created) < 2 {
			b.Fatalf("%d pull requests opened", len(created))
		}
		span := time.Duration(float64(created[len(created)-1].Sub(created[0])) * timeScale)
		perHour := float64(len(created)-1) / span.Hours()
		perMinute := maxPerWindow(created, time.Minute/timeScale)
		inHour := maxPerWindow(created, time.Hour/timeScale)
		if perHour < 0.95*500 {
			b.Logf("below 95%% of 500 an hour; the longest gaps between two pull requests (emulated): %v; load average %s",
				longestGaps(created, timeScale, 5), loadAverage())
		}
		b.ReportMetric(float64(len(created)), "PRs")
		b.ReportMetric(perHour, "PRs/emulated-h")
		b.ReportMetric(100*perHour/500, "%-of-500/h")
		b.ReportMetric(float64(inHour), "max-PRs/emulated-h")
		b.ReportMetric(float64(perMinute), "max-PRs/emulated-min")
		b.ReportMetric(float64(after.SecondaryLimits-before.SecondaryLimits), "secondary-limits")
		b.ReportMetric(float64(after.PrimaryLimits-before.PrimaryLimits), "primary-limits")
		b.ReportMetric(float64(after.Requests-before.Requests)/n, "requests/repo")
		b.ReportMetric(float64(counter.limited.Load()-limitedBefore), "403/429-answers")
		b.ReportMetric(float64(counter.spent.Load()-spentBefore), "budget-spent-answers")
		b.ReportMetric(real.Seconds()*timeScale/60, "emulated-min")
		b.ReportMetric(real.Seconds(), "s/apply")
		reportLoad(b)
		w.Close()
	}
}

// longestGaps returns the k longest gaps between consecutive times, scaled.
func longestGaps(ts []time.Time, scale float64, k int) []time.Duration {
	var gaps []time.Duration
	for i := 1; i < len(ts); i++ {
		gaps = append(gaps, time.Duration(float64(ts[i].Sub(ts[i-1]))*scale).Round(100*time.Millisecond))
	}
	slices.SortFunc(gaps, func(a, b time.Duration) int { return cmp.Compare(b, a) })
	return gaps[:min(k, len(gaps))]
}

// loadAverage returns the first fields of /proc/loadavg: the benchmarks
// share the machine's two cores with whatever else runs.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// cpuTimes returns the CPU time (user and system) used so far by this
// process and by its children that ended: the sandbox serves git through
// git http-backend processes.
func cpuTimes() (self, children time.Duration) {
	get := func(who int) time.Duration {
		var ru syscall.Rusage
		if syscall.Getrusage(who, &ru) != nil {
			return 0
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return get(syscall.RUSAGE_SELF), get(syscall.RUSAGE_CHILDREN)
}

// reportCPU reports the CPU time of the timed runs per run: cpu-s-process
// (cutover and the sandbox, in this process) and cpu-s-git (the sandbox's
// git processes).
func reportCPU(b *testing.B, self, git time.Duration) {
	b.ReportMetric(self.Seconds()/float64(b.N), "cpu-s-process")
	b.ReportMetric(git.Seconds()/float64(b.N), "cpu-s-git")
}

// reportLoad reports the one-minute load average as load-avg: on a
// two-core machine, anything above 2 means the benchmark shared the cores.
func reportLoad(b *testing.B) {
	if f := strings.Fields(loadAverage()); len(f) > 0 {
		if v, err := strconv.ParseFloat(f[0], 64); err == nil {
			b.ReportMetric(v, "load-avg")
		}
	}
}

// maxPerWindow returns the most times of ts (in order) within any window
// of length d.
func maxPerWindow(ts []time.Time, d time.Duration) int {
	best, j := 0, 0
	for i := range ts {
		for ts[i].Sub(ts[j]) >= d {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}
