package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

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
