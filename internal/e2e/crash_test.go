package e2e_test

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-github/v66/github"
	"golang.org/x/sync/errgroup"

	"github.com/cutover/cutover/internal/e2e"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

const (
	// crashRepos is how many repositories the crash test's wave holds.
	crashRepos = 200
	// crashKills is how many times the crash test kills cutover.
	crashKills = 20
)

// crashSeed seeds the kill points; the log names it so a failure can be
// replayed.
var crashSeed = flag.Uint64("crash.seed", 6, "seed of TestCrashResume's kill points")

// TestCrashResume kills `cutover apply --wave 0 --execute` with SIGKILL at
// crashKills random points over a wave of crashRepos repositories, resumes
// it each time, and runs it once more to the end. Then every repository
// has exactly one campaign branch, one commit on it and one pull request,
// and the ledger's changes name those pull requests and pushed commits.
func TestCrashResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cutover and runs a 200-repository campaign; skipped with -short")
	}
	if raceEnabled {
		t.Skip("too slow under the race detector; the scenarios cover the same code with -race")
	}
	start := time.Now()
	ctx := t.Context()
	dir := t.TempDir()
	bin := buildCutover(t, dir)
	t.Logf("built cutover in %v", time.Since(start).Round(time.Millisecond))

	w, err := sandbox.Start(ctx, sandbox.Options{Limits: ghapi.Limits{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	w.API.AddToken(token, ghapi.Identity{Login: "campaigner", Permissions: ghapi.AllPermissions()})
	repos := e2e.Publishers(crashRepos)
	if err := e2e.SeedConcurrently(w, org, repos, 8); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(repos))
	for n := range repos {
		names = append(names, org+"/"+n)
	}
	cfg := filepath.Join(dir, "cutover.toml")
	writeFile(t, cfg, fmt.Sprintf(`[github]
org = %q
api_url = %q
pacing = "off"

[campaign]
ledger = %q
concurrency = 8

[waves]
canaries = ["%s"]
`, org, w.URL, filepath.Join(dir, "cutover.db"), strings.Join(names, `", "`)))
	run := func(args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir = dir
		cmd.Env = []string{
			"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + dir, "NO_COLOR=1",
			"CUTOVER_CONFIG=" + cfg, "GITHUB_TOKEN=" + token, "NPM_CONFIG_REGISTRY=" + e2e.Registry,
		}
		return cmd
	}
	for _, step := range [][]string{{"inventory"}, {"plan"}} {
		if out, err := run(step...).CombinedOutput(); err != nil {
			t.Fatalf("cutover %s: %v\n%s", step[0], err, out)
		}
	}
	t.Logf("seeded, inventoried and planned %d repositories at %v", crashRepos, time.Since(start).Round(time.Millisecond))

	rng := rand.New(rand.NewPCG(*crashSeed, *crashSeed))
	t.Logf("kill points from -crash.seed=%d", *crashSeed)
	killed, finished := 0, 0 // runs killed, runs that ended by themselves
	for round := range crashKills {
		cmd := run("apply", "--wave", "0", "--execute")
		events, wait := startWatched(t, cmd)
		var point string
		var exited error
		done := false
		if rng.IntN(4) == 0 {
			// By time: anywhere from start-up (ledger open, listing,
			// snapshots) to the first pushes.
			d := time.Duration(rng.IntN(600)) * time.Millisecond
			point = fmt.Sprintf("%v after start", d)
			select {
			case <-time.After(d):
			case exited = <-wait:
				done = true
			}
		} else {
			// By progress: after k new pushes or pull requests, then a
			// little later, to land between a forge write and its record.
			k := 1 + rng.IntN(12)
			d := time.Duration(rng.IntN(30)) * time.Millisecond
			point = fmt.Sprintf("%d forge writes + %v", k, d)
			for i := 0; i < k; i++ {
				if _, ok := <-events; !ok {
					break
				}
			}
			time.Sleep(d)
		}
		if !done {
			_ = cmd.Process.Kill()
			exited = <-wait
		}
		if ee, ok := exited.(*exec.ExitError); ok && ee.ProcessState.Sys().(syscall.WaitStatus).Signaled() {
			killed++
			t.Logf("round %d: killed at %s", round, point)
			continue
		}
		finished++
		t.Logf("round %d: cutover ended by itself (%v) before the kill at %s", round, exited, point)
	}
	if killed < crashKills/2 {
		t.Errorf("only %d of %d kills hit a running cutover", killed, crashKills)
	}

	out, err := run("apply", "--wave", "0", "--execute").Output()
	if err != nil {
		t.Fatalf("final apply: %v\n%s", err, tail(out))
	}
	if !bytes.Contains(out, []byte(fmt.Sprintf("apply: %d repositories: %d ok, 0 skipped, 0 manual, 0 failed", crashRepos, crashRepos))) {
		t.Fatalf("final apply did not finish every repository:\n%s", tail(out))
	}
	checkCrashState(t, w, filepath.Join(dir, "cutover.db"), repos)
	t.Logf("crash test: %d rounds (%d killed a running apply, %d ended by themselves), %d repositories, %v in all",
		crashKills, killed, finished, crashRepos, time.Since(start).Round(time.Millisecond))
}

// checkCrashState asserts one branch, one commit and one pull request per
// repository, and a ledger that agrees with the sandbox.
func checkCrashState(t *testing.T, w *sandbox.World, dbPath string, repos map[string]e2e.Shape) {
	t.Helper()
	ctx := t.Context()
	c, err := github.NewClient(nil).WithAuthToken(token).WithEnterpriseURLs(w.URL, w.URL)
	if err != nil {
		t.Fatal(err)
	}
	led, err := ledger.Open(ctx, dbPath, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer led.Close()
	changes, err := led.Changes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byRepo := map[string]ledger.Change{}
	for _, ch := range changes {
		byRepo[ch.Repo] = ch
	}
	if len(changes) != len(repos) {
		t.Errorf("the ledger records %d changes, want %d", len(changes), len(repos))
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for name := range repos {
		g.Go(func() error {
			full := org + "/" + name
			ch, ok := byRepo[full]
			if !ok {
				mu.Lock()
				t.Errorf("%s: no change in the ledger", full)
				mu.Unlock()
				return nil
			}
			if err := e2eAgree(c, org, name, ch); err != nil {
				mu.Lock()
				t.Error(err)
				mu.Unlock()
			}
			branches, _, err := c.Repositories.ListBranches(gctx, org, name, &github.BranchListOptions{ListOptions: github.ListOptions{PerPage: 100}})
			if err != nil {
				return err
			}
			var campaign []string
			for _, b := range branches {
				if strings.HasPrefix(b.GetName(), "cutover/") {
					campaign = append(campaign, b.GetName())
				}
			}
			// One commit on top of the default branch: the branch was
			// pushed once, never stacked or replaced.
			mainRef, _, err := c.Git.GetRef(gctx, org, name, "heads/main")
			if err != nil {
				return fmt.Errorf("%s: main: %w", full, err)
			}
			commit, _, err := c.Git.GetCommit(gctx, org, name, ch.PushedSHA)
			if err != nil {
				return fmt.Errorf("%s: commit %s: %w", full, ch.PushedSHA, err)
			}
			var parents []string
			for _, p := range commit.Parents {
				parents = append(parents, p.GetSHA())
			}
			mu.Lock()
			defer mu.Unlock()
			if len(campaign) != 1 || campaign[0] != ch.Branch {
				t.Errorf("%s: campaign branches %v, want [%s]", full, campaign, ch.Branch)
			}
			if want := mainRef.GetObject().GetSHA(); len(parents) != 1 || parents[0] != want {
				t.Errorf("%s: the pushed commit's parents are %v, want [%s] (the head of main)", full, parents, want)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	evs, err := led.Events(ctx, ledger.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	opened := map[string]int{}
	for _, ev := range evs {
		if ev.Kind == "pr.opened" {
			opened[ev.Repo]++
		}
	}
	twice := 0
	for _, n := range opened {
		if n > 1 {
			twice++
		}
	}
	// A kill between recording a pull request and appending its event
	// leaves the event out (the change.state event has it); a kill between
	// opening it and recording it makes the next run report it opened.
	t.Logf("ledger: %d changes, %d events; pr.opened for %d of %d repositories, more than once for %d",
		len(changes), len(evs), len(opened), len(repos), twice)
}

// buildCutover builds ./cmd/cutover into dir with the go tool of the
// toolchain running the test (go test puts its GOROOT/bin first in PATH).
func buildCutover(t *testing.T, dir string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go tool to build cutover with: %v", err)
	}
	bin := filepath.Join(dir, "cutover")
	cmd := exec.CommandContext(t.Context(), goTool, "build", "-o", bin, "github.com/cutover/cutover/cmd/cutover")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startWatched starts cmd and returns a channel that receives a value for
// each forge write it logs (a push or a pull request opened), closed when
// its stderr ends, and a channel that receives its exit error.
func startWatched(t *testing.T, cmd *exec.Cmd) (<-chan struct{}, <-chan error) {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = nil
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	events := make(chan struct{}, 1024)
	wait := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if strings.Contains(line, `"msg":"github: pushed"`) || strings.Contains(line, `"msg":"github: opened a pull request"`) {
				events <- struct{}{}
			}
		}
		close(events)
		wait <- cmd.Wait()
	}()
	return events, wait
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// tail returns the last lines of out.
func tail(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return strings.Join(lines, "\n")
}
