package cli

import (
	"bytes"
	"context"
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
