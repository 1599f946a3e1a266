package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

// syncBuffer is stderr read while the command writes it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestInterruptSaysWhatItWaitsFor interrupts apply --execute while its
// repositories wait for GitHub to open their pull requests: the command
// says how many repositories it is finishing, starts no other, and exits
// 130 once they are done.
func TestInterruptSaysWhatItWaitsFor(t *testing.T) {
	t.Parallel()
	c := newNPMCLI(t, 8, sandbox.KindNPM)
	c.mustRun(t, []int{ExitOK}, "inventory")
	c.mustRun(t, []int{ExitOK}, "plan")
	c.w.API.SetFaults(ghapi.Faults{Rules: []ghapi.FaultRule{{Route: "POST /repos/{owner}/{repo}/pulls", Latency: 2 * time.Second}}})

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stderr := &syncBuffer{}
	app := newApp(Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: stderr}, func(k string) string { return c.env[k] })
	codes := make(chan int, 1)
	go func() {
		codes <- app.execute(ctx, newRootCmd(app), []string{"apply", "--wave", "0", "--execute", "--ledger", c.ledger, "--log-format", "json"})
	}()
	for deadline := time.Now().Add(30 * time.Second); app.inFlight.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("no repository in flight after 30 s:\n%s", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	stopped := time.Now()
	code := <-codes
	elapsed := time.Since(stopped)
	t.Logf("exit %d, %v after the interrupt", code, elapsed)
	if code != ExitInterrupted {
		t.Errorf("exit %d, want %d\n%s", code, ExitInterrupted, stderr.String())
	}
	if !regexp.MustCompile(`stopping: finishing [1-9][0-9]* repositories in flight`).MatchString(stderr.String()) {
		t.Errorf("no line saying how many repositories are in flight:\n%s", stderr.String())
	}
	if elapsed > 10*time.Second {
		t.Errorf("the command took %v to stop, want less than 10 s", elapsed)
	}
	if n := app.inFlight.Load(); n != 0 {
		t.Errorf("%d repositories still counted in flight", n)
	}
}

// interruptAfterWrite is a context that the interrupt reaches as soon as
// one of files differs from want on disk, as a Ctrl-C arriving while
// rewrite --write goes through a tree.
type interruptAfterWrite struct {
	context.Context
	files []string
	want  string
}

func (c interruptAfterWrite) Err() error {
	for _, f := range c.files {
		if b, err := os.ReadFile(f); err == nil && string(b) != c.want {
			return context.Canceled
		}
	}
	return c.Context.Err()
}

// TestRewriteWriteStopsBetweenFiles interrupts rewrite --write after its
// first file: it writes no other, the file written is whole, and it exits
// 130.
func TestRewriteWriteStopsBetweenFiles(t *testing.T) {
	t.Parallel()
	names := []string{".github/workflows/a.yml", ".github/workflows/b.yml", ".github/workflows/c.yml"}
	files := map[string]string{}
	for _, n := range names {
		files[n] = tokenWorkflow
	}
	repo := writeRepo(t, files)
	ctx := interruptAfterWrite{Context: t.Context(), want: tokenWorkflow}
	for _, n := range names {
		ctx.files = append(ctx.files, filepath.Join(repo, filepath.FromSlash(n)))
	}
	var out, errb bytes.Buffer
	code := Main(ctx, []string{"rewrite", "--write", repo}, Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, func(k string) string { return testEnv[k] })
	if code != ExitInterrupted {
		t.Errorf("exit %d, want %d\n%s", code, ExitInterrupted, errb.String())
	}
	changed := 0
	for _, p := range ctx.files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tokenWorkflow {
			changed++
			if !strings.Contains(string(b), "id-token: write") || !strings.HasSuffix(string(b), "\n") {
				t.Errorf("%s is not a whole rewrite:\n%s", p, b)
			}
		}
	}
	if changed != 1 {
		t.Errorf("%d files written, want 1: the interrupt came after the first", changed)
	}
}

// TestInterruptUnderPacing interrupts apply --execute while its workers
// wait for GitHub's pacing: the forge paces as it does against GitHub, and
// the emulator allows two pull requests a minute, so that the third meets
// a secondary limit and every write then waits out its pause. The command
// exits 130 well within 10 s of the interrupt (the issue asks this test to
// measure it), and the ledger agrees with the forge: one pr.opened per pull
// request that exists, none for a repository without one, no repository
// failed, and no wave.applied. Running apply again opens the rest, each
// once.
func TestInterruptUnderPacing(t *testing.T) {
	t.Parallel()
	c := newNPMCLI(t, 8, sandbox.KindNPM)
	ctx := t.Context()
	var canaries []string
	for _, r := range c.p.Repos {
		canaries = append(canaries, strconv.Quote(r.FullName(c.p.Org)))
	}
	base := fmt.Sprintf("[github]\norg = %q\napi_url = %q\n\n[npm]\nregistry = %q\n\n[waves]\ncanaries = [%s]\n",
		c.s.Org, c.w.URL, c.w.RegistryURL, strings.Join(canaries, ", "))
	c.write(t, "cutover.toml", strings.Replace(base, "[github]\n", "[github]\npacing = \"off\"\n", 1))
	c.mustRun(t, []int{ExitOK}, "inventory")
	c.mustRun(t, []int{ExitOK}, "plan")

	// GitHub's limits, but two pull requests a minute; cutover paces as
	// against GitHub (pacing = "github", the default).
	c.w.API.SetLimits(ghapi.Limits{ContentPerMinute: 2})
	c.write(t, "cutover.toml", base)
	ictx, interruptNow := context.WithCancel(ctx)
	defer interruptNow()
	stderr, stdout := &syncBuffer{}, &syncBuffer{}
	app := newApp(Streams{In: strings.NewReader(""), Out: stdout, Err: stderr}, func(k string) string { return c.env[k] })
	codes := make(chan int, 1)
	started := time.Now()
	go func() {
		codes <- app.execute(ictx, newRootCmd(app), []string{"apply", "--wave", "0", "--execute", "--ledger", c.ledger, "--log-format", "json"})
	}()
	// Wait for the secondary limit's pause, every branch pushed: then the
	// repositories in flight all wait for GitHub's pacing.
	for deadline := time.Now().Add(3 * time.Minute); !strings.Contains(stderr.String(), "secondary rate limit, pausing") ||
		strings.Count(stderr.String(), `"msg":"github: pushed"`) < len(c.p.Repos); {
		if time.Now().After(deadline) {
			t.Fatalf("no secondary-limit pause after every branch was pushed, after 3 minutes:\n%s", stderr.String())
		}
		select {
		case code := <-codes:
			t.Fatalf("apply ended (exit %d) before the interrupt:\n%s", code, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	time.Sleep(200 * time.Millisecond) // every worker settles into its wait
	inFlight := app.inFlight.Load()
	interruptNow()
	stopped := time.Now()
	code := <-codes
	elapsed := time.Since(stopped)
	t.Logf("apply ran %v; interrupted with %d repositories in flight, exit %d %v after the interrupt", stopped.Sub(started).Round(time.Millisecond), inFlight, code, elapsed)
	if code != ExitInterrupted {
		t.Errorf("exit %d, want %d\n%s", code, ExitInterrupted, stderr.String())
	}
	if elapsed > 10*time.Second {
		t.Errorf("the command took %v to stop under pacing, want less than 10 s", elapsed)
	}
	if strings.Contains(stderr.String(), "cancelling them") {
		t.Errorf("the steps in flight were cancelled after the grace, not ended by the interrupt:\n%s", stderr.String())
	}
	if inFlight == 0 || !strings.Contains(stdout.String(), "interrupted while waiting for") {
		t.Errorf("%d repositories in flight, and none says the interrupt ended its wait:\n%s", inFlight, stdout.String())
	}

	// The ledger agrees with the forge.
	check := func(wantPRs int) {
		t.Helper()
		led, err := ledger.Open(ctx, c.ledger, ledger.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer led.Close()
		gc := c.github(t)
		prs := 0
		for _, r := range c.p.Repos {
			full := r.FullName(c.p.Org)
			list, _, err := gc.PullRequests.List(ctx, c.p.Org, r.Name, &github.PullRequestListOptions{State: "all"})
			if err != nil {
				t.Fatal(err)
			}
			opened, err := led.Events(ctx, ledger.EventFilter{Kind: "pr.opened", Repo: full})
			if err != nil {
				t.Fatal(err)
			}
			if len(list) > 1 || len(opened) != len(list) {
				t.Errorf("%s: %d pull requests on the forge, %d pr.opened events in the ledger", full, len(list), len(opened))
			}
			prs += len(list)
			step, err := led.LastStep(ctx, full)
			if err == nil && step.Outcome == ledger.OutcomeFailed {
				t.Errorf("%s marked failed: %s: %s", full, step.Reason, step.Error)
			}
			if err == nil && step.Outcome == ledger.OutcomeSkipped && step.Reason != batch.ReasonInterrupted {
				t.Errorf("%s skipped for %q", full, step.Reason)
			}
		}
		if wantPRs >= 0 && prs != wantPRs {
			t.Errorf("%d pull requests, want %d", prs, wantPRs)
		}
		applied, err := led.Events(ctx, ledger.EventFilter{Kind: "wave.applied"})
		if err != nil {
			t.Fatal(err)
		}
		if want := min(1, max(wantPRs, 0)); len(applied) != want {
			t.Errorf("%d wave.applied events, want %d: %v", len(applied), want, applied)
		}
	}
	check(-1)

	// Without limits, apply finishes what the interrupt left, once each.
	c.w.API.SetLimits(ghapi.Limits{Disabled: true})
	c.write(t, "cutover.toml", strings.Replace(base, "[github]\n", "[github]\npacing = \"off\"\n", 1))
	c.mustRun(t, []int{ExitOK}, "apply", "--wave", "0", "--execute")
	check(len(c.p.Repos))
}
