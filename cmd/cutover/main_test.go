package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/cli"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

// lines collects a process's stderr and tells when a line holds a string.
type lines struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	seen chan struct{} // pinged on every line
}

func (l *lines) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		l.mu.Lock()
		l.buf.WriteString(sc.Text() + "\n")
		l.mu.Unlock()
		select {
		case l.seen <- struct{}{}:
		default:
		}
	}
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// await waits up to d for s on stderr.
func (l *lines) await(t *testing.T, s string, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for !strings.Contains(l.String(), s) {
		select {
		case <-l.seen:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no %q on stderr after %v:\n%s", s, d, l.String())
		}
	}
}

// TestSecondSignalExitsAtOnce runs the cutover binary's apply --execute
// against a sandbox whose pull requests take a minute to open, and sends it
// SIGINT twice: the first makes it say what it finishes, and it keeps
// running (a pull request being opened is not cut, for up to the stop
// grace); the second makes it exit 130 at once, and the ledger it leaves
// opens whole.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	t.Parallel()
	secondSignalExitsAtOnce(t, syscall.SIGINT)
}

// TestSecondSIGTERMExitsAtOnce: SIGTERM (what a service manager or a CI
// runner's cancel sends) stops the command as SIGINT does: the first says
// what it finishes, the second exits 130 at once.
func TestSecondSIGTERMExitsAtOnce(t *testing.T) {
	t.Parallel()
	secondSignalExitsAtOnce(t, syscall.SIGTERM)
}

func secondSignalExitsAtOnce(t *testing.T, sig syscall.Signal) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("this test builds the cutover binary and needs the go command: %v", err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "cutover")
	if out, err := exec.Command(goBin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	ctx := t.Context()
	w, err := sandbox.Start(ctx, sandbox.Options{Limits: ghapi.Limits{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	p := sandbox.Generate(5, 4, sandbox.PortfolioOptions{Org: "acme", CIFailureRate: -1, Weights: map[sandbox.Kind]int{sandbox.KindNPM: 1}})
	s, err := w.Seed(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	var canaries []string
	for _, r := range p.Repos {
		canaries = append(canaries, fmt.Sprintf("%q", r.FullName(p.Org)))
	}
	cfg := filepath.Join(dir, "cutover.toml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, "[github]\norg = %q\napi_url = %q\npacing = \"off\"\n\n[npm]\nregistry = %q\n\n[waves]\ncanaries = [%s]\n",
		s.Org, w.URL, w.RegistryURL, strings.Join(canaries, ", ")), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "cutover.db")
	env := map[string]string{"CUTOVER_CONFIG": cfg, "GITHUB_TOKEN": s.GitHubToken, "USER": "tester", "HOME": dir, "XDG_CACHE_HOME": filepath.Join(dir, "cache")}
	for _, args := range [][]string{{"inventory"}, {"plan"}} {
		var out, errb bytes.Buffer
		if code := cli.Main(ctx, append(args, "--ledger", db), cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, func(k string) string { return env[k] }); code != cli.ExitOK {
			t.Fatalf("cutover %s: exit %d\n%s%s", args[0], code, out.String(), errb.String())
		}
	}

	w.API.SetFaults(ghapi.Faults{Rules: []ghapi.FaultRule{{Route: "POST /repos/{owner}/{repo}/pulls", Latency: time.Minute}}})
	cmd := exec.Command(bin, "apply", "--wave", "0", "--execute", "--ledger", db, "--log-format", "json")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	errs := &lines{seen: make(chan struct{}, 1)}
	go func() {
		errs.read(stderr)
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	errs.await(t, `"msg":"github: pushed"`, 2*time.Minute) // a pull request is being opened
	time.Sleep(200 * time.Millisecond)
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	first := time.Now()
	errs.await(t, "stopping: finishing", 10*time.Second)
	select {
	case <-exited:
		t.Fatalf("the first signal ended the command while a pull request was being opened:\n%s", errs.String())
	case <-time.After(500 * time.Millisecond):
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	second := time.Now()
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatalf("still running 5 s after the second signal:\n%s", errs.String())
	}
	took := time.Since(second)
	t.Logf("exit %v after the second signal (%v after the first)", took.Round(time.Millisecond), time.Since(first).Round(time.Millisecond))
	if code := cmd.ProcessState.ExitCode(); code != cli.ExitInterrupted {
		t.Errorf("exit %d (%v), want %d\n%s", code, waitErr, cli.ExitInterrupted, errs.String())
	}
	// Only the second signal's exit says this: the stop grace did not end it.
	if !strings.Contains(errs.String(), "stopped at once") {
		t.Errorf("the second signal's exit says nothing:\n%s", errs.String())
	}

	// What the ledger holds is whole: it opens, and no repository failed.
	led, err := ledger.Open(ctx, db, ledger.Options{})
	if err != nil {
		t.Fatalf("the ledger after the second signal: %v", err)
	}
	for _, r := range p.Repos {
		if st, err := led.LastStep(ctx, r.FullName(p.Org)); err == nil && st.Outcome == ledger.OutcomeFailed {
			t.Errorf("%s failed: %s: %s", r.FullName(p.Org), st.Reason, st.Error)
		}
	}
	led.Close()

	// Running apply again (the dead process's campaign lock is taken over)
	// opens every pull request, with one pr.opened each.
	w.API.SetFaults(ghapi.Faults{})
	var out, errb bytes.Buffer
	if code := cli.Main(ctx, []string{"apply", "--wave", "0", "--execute", "--ledger", db}, cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, func(k string) string { return env[k] }); code != cli.ExitOK {
		t.Fatalf("apply after the stop: exit %d\n%s%s", code, out.String(), errb.String())
	}
	led, err = ledger.Open(ctx, db, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer led.Close()
	for _, r := range p.Repos {
		opened, err := led.Events(ctx, ledger.EventFilter{Kind: "pr.opened", Repo: r.FullName(p.Org)})
		if err != nil || len(opened) != 1 {
			t.Errorf("%s: %d pr.opened events (%v), want 1", r.FullName(p.Org), len(opened), err)
		}
	}
}
