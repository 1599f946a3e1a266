package github_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	gh "github.com/google/go-github/v66/github"
	"golang.org/x/sync/errgroup"

	"github.com/cutover/cutover/internal/forge"
	"github.com/cutover/cutover/internal/forge/github"
	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

// loseResponses sends writes and then, now and then, throws the answer
// away and reports a reset connection: GitHub did the work, the client
// does not know. The emulator's own faults strike before the work.
type loseResponses struct {
	next http.RoundTripper
	rate float64

	mu   sync.Mutex
	rng  *rand.Rand
	lost atomic.Int64
}

func (l *loseResponses) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(req)
	if err != nil || req.Method == http.MethodGet {
		return resp, err
	}
	l.mu.Lock()
	lose := l.rng.Float64() < l.rate
	l.mu.Unlock()
	if lose {
		resp.Body.Close()
		l.lost.Add(1)
		return nil, fmt.Errorf("read tcp: %w", syscall.ECONNRESET)
	}
	return resp, nil
}

// campaign is what the engine would do for one repository, resumable: the
// ledger keeps the last pushed SHA and the PR number.
type ledgerEntry struct {
	commit, pushed string
	pr             int
	attempts       int
	errs           []string
}

const (
	campaignBranch = "cutover/npm-oidc"
	faultScale     = 1000
)

var migrated = []byte("on: push\npermissions:\n  id-token: write\njobs:\n  publish:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm publish --provenance\n")

// runCampaign snapshots, pushes and opens a PR in every repository, each
// step retried (resumed) until it succeeds, as the engine does.
func runCampaign(ctx context.Context, f *github.Forge, repos []forge.Repo, ledger []*ledgerEntry, workers int) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i, repo := range repos {
		e := ledger[i]
		g.Go(func() error {
			for e.pr == 0 {
				if e.attempts++; e.attempts > 12 {
					return fmt.Errorf("%s: gave up: %v", repo.FullName, e.errs)
				}
				if err := step(ctx, f, repo, e); err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					e.errs = append(e.errs, err.Error())
				}
			}
			return nil
		})
	}
	return g.Wait()
}

var stepTimes [3]atomic.Int64

func step(ctx context.Context, f *github.Forge, repo forge.Repo, e *ledgerEntry) error {
	t0 := time.Now()
	defer func() { stepTimes[2].Add(int64(time.Since(t0))) }()
	if e.commit == "" {
		snap, _, err := f.Snapshot(ctx, repo, "", relevant)
		if err != nil {
			return err
		}
		if len(snap.Files) != 2 {
			return fmt.Errorf("snapshot has %d files", len(snap.Files))
		}
		e.commit = snap.Commit
		stepTimes[0].Add(int64(time.Since(t0)))
	}
	if e.pushed == "" {
		res, err := f.Push(ctx, repo, forge.Change{Branch: campaignBranch, LastPushed: e.pushed, Message: "ci: publish with OIDC",
			Files: map[string][]byte{".github/workflows/release.yml": migrated}})
		if err != nil {
			return err
		}
		e.pushed = res.SHA
		stepTimes[1].Add(int64(time.Since(t0)))
	}
	pr, err := f.EnsurePR(ctx, repo, forge.PRSpec{Head: campaignBranch, Title: "Publish to npm with OIDC", Body: "cutover", Labels: []string{"cutover"}})
	if err != nil {
		return err
	}
	e.pr = pr.Number
	return nil
}

// TestFaultsAndStorms runs a 200-repository campaign through injected
// server errors, resets, lost answers and a secondary-limit storm (429
// without retry-after, content budget and concurrency lower than the
// client assumes), time-scaled 1000×, and checks that every repository
// ends with exactly one branch commit and one pull request.
func TestFaultsAndStorms(t *testing.T) {
	if testing.Short() {
		t.Skip("a 200-repository campaign")
	}
	t.Parallel()
	w := startWorld(t, sandbox.Options{
		TimeScale: faultScale,
		Limits:    ghapi.Limits{ContentPerMinute: 4, MaxConcurrent: 4, SecondaryStatus: 429, OmitRetryAfter: true},
		Faults: ghapi.Faults{Seed: 42, Rules: []ghapi.FaultRule{
			{ErrorRate: 0.03, Status: 502}, {ErrorRate: 0.01, Status: 500}, {ErrorRate: 0.01, Status: 503}, {ResetRate: 0.02},
		}},
	})
	const n = 200
	for i := range n {
		mustCreate(t, w, "acme", fmt.Sprintf("svc-%03d", i), ghapi.RepoOptions{Files: map[string][]byte{
			"package.json": []byte(fmt.Sprintf(`{"name":"@acme/svc-%03d"}`, i)), ".github/workflows/release.yml": widgetFiles[".github/workflows/release.yml"],
			"src/index.js": []byte("x\n")}})
	}
	lose := &loseResponses{next: http.DefaultTransport, rate: 0.03, rng: rand.New(rand.NewPCG(1, 2))}
	log, _ := logger()
	f, err := github.New(t.Context(), github.Options{BaseURL: w.URL, Token: tokFull, Transport: lose, Logger: log,
		Limits: github.Limits{TimeScale: faultScale}, GitConcurrency: 8,
		Author: forge.Author{Name: "cutover", Email: "cutover@example.invalid"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	var repos []forge.Repo
	for {
		all, err := f.Repos(ctx, "acme", forge.ListOptions{Include: []string{"svc-*"}})
		if err == nil {
			repos = all
			break
		}
		t.Logf("listing: %v", err)
	}
	if len(repos) != n {
		t.Fatalf("%d repositories", len(repos))
	}
	ledger := make([]*ledgerEntry, n)
	for i := range ledger {
		ledger[i] = &ledgerEntry{}
	}
	// Storms: every 1.5 s the emulator's secondary limits drop to one
	// content-creating request a minute and two requests at once, for 0.5 s.
	calm := ghapi.Limits{ContentPerMinute: 4, MaxConcurrent: 4, SecondaryStatus: 429, OmitRetryAfter: true}
	storm := ghapi.Limits{ContentPerMinute: 1, MaxConcurrent: 2, SecondaryStatus: 429, OmitRetryAfter: true}
	done := make(chan struct{})
	stormed := make(chan int)
	go func() {
		n := 0
		defer func() { stormed <- n }()
		for {
			select {
			case <-done:
				return
			case <-time.After(1500 * time.Millisecond):
			}
			w.API.SetLimits(storm)
			n++
			select {
			case <-done:
				return
			case <-time.After(500 * time.Millisecond):
			}
			w.API.SetLimits(calm)
		}
	}()
	start := time.Now()
	err = runCampaign(ctx, f, repos, ledger, 16)
	took := time.Since(start)
	close(done)
	storms := <-stormed
	if err != nil {
		t.Fatal(err)
	}

	raw := rawClient(t, w, tokFull)
	w.API.SetFaults(ghapi.Faults{})
	w.API.SetLimits(ghapi.Limits{Disabled: true})
	retried := 0
	for i, repo := range repos {
		e := ledger[i]
		if e.attempts > 1 {
			retried++
		}
		owner, name := "acme", repo.FullName[len("acme/"):]
		prs, _, err := raw.PullRequests.List(ctx, owner, name, &gh.PullRequestListOptions{State: "all"})
		if err != nil {
			t.Fatal(err)
		}
		head := branchSHA(t, w, owner, name, campaignBranch)
		if len(prs) != 1 || prs[0].GetNumber() != e.pr || prs[0].GetState() != "open" || prs[0].GetHead().GetSHA() != head {
			t.Errorf("%s: %d pull requests (ledger #%d)", repo.FullName, len(prs), e.pr)
			continue
		}
		if len(prs[0].Labels) != 1 || prs[0].Labels[0].GetName() != "cutover" {
			t.Errorf("%s: labels %v", repo.FullName, prs[0].Labels)
		}
		if bs := branches(t, w, owner, name); len(bs) != 2 {
			t.Errorf("%s: branches %v", repo.FullName, bs)
		}
		c := commitAt(t, w, repo.FullName, head)
		if len(c.ParentHashes) != 1 || c.ParentHashes[0].String() != branchSHA(t, w, owner, name, "main") {
			t.Errorf("%s: the branch is not one commit on main", repo.FullName)
		}
		if e.pushed != head {
			t.Errorf("%s: ledger says %s, branch is at %s", repo.FullName, e.pushed, head)
		}
	}
	t.Logf("snapshot %v push %v all %v", time.Duration(stepTimes[0].Load()), time.Duration(stepTimes[1].Load()), time.Duration(stepTimes[2].Load()))
	st := f.Stats()
	t.Logf("200 repositories in %v (%.0f emulated minutes, %d storms): %d requests, %d retried reads, %d secondary limits, %d primary, %d answers lost after the work, %d unclear writes looked up (%d found done), %d repositories resumed after an error",
		took.Round(time.Millisecond), took.Minutes()*faultScale, storms, st.Requests, st.Retries, st.SecondaryLimits, st.PrimaryLimits, lose.lost.Load(), st.Lookups, st.LookupsDone, retried)
	if st.SecondaryLimits == 0 || st.Retries == 0 || lose.lost.Load() == 0 {
		t.Errorf("the storm did not happen: %+v", st)
	}
}
