package batch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cutover/cutover/internal/interrupt"
)

// TestInterruptStopsWaitingSteps interrupts a pool of three workers and four
// repositories a second in: the steps waiting (as for GitHub's pacing) end
// at once as interrupted, a write in flight finishes, the fourth repository
// does not start, and a step that ignores the interrupt is cancelled
// StopGrace after it.
func TestInterruptStopsWaitingSteps(t *testing.T) {
	const grace = 10 * time.Second
	tests := []struct {
		name string
		// step is repository i's step.
		step func(ctx context.Context, i int) Outcome
		// want is each repository's "kind: detail" (a prefix).
		want []string
		took time.Duration
	}{
		{
			name: "waits end at once, a write finishes",
			step: func(ctx context.Context, i int) Outcome {
				if i == 0 {
					time.Sleep(3 * time.Second) // a write in flight
					if ctx.Err() != nil {
						return failed("r0", "push failed", ctx.Err(), "")
					}
					return Outcome{Kind: OK, Detail: "PR #1"}
				}
				if err := interrupt.Sleep(ctx, time.Hour, "its turn under GitHub's pacing"); err != nil {
					return failed(fmt.Sprint("r", i), "pull request failed", fmt.Errorf("open the pull request: %w", err), "run apply again")
				}
				return Outcome{Kind: OK}
			},
			want: []string{
				"ok: PR #1",
				"skipped: pull request failed: open the pull request: interrupted while waiting for its turn under GitHub's pacing",
				"skipped: pull request failed: open the pull request: interrupted while waiting for its turn under GitHub's pacing",
				"skipped: stopped before this repository started",
			},
			took: 3 * time.Second,
		},
		{
			name: "a step that ignores the interrupt is cancelled after the grace",
			step: func(ctx context.Context, i int) Outcome {
				select {
				case <-time.After(time.Hour):
					return Outcome{Kind: OK}
				case <-ctx.Done():
					return failed(fmt.Sprint("r", i), "push failed", ctx.Err(), "run apply again")
				}
			},
			want: []string{
				"skipped: cancelled 10s after the interrupt: context canceled",
				"skipped: cancelled 10s after the interrupt: context canceled",
				"skipped: cancelled 10s after the interrupt: context canceled",
				"skipped: stopped before this repository started",
			},
			took: time.Second + grace,
		},
		{
			name: "a failure of its own stays a failure",
			step: func(ctx context.Context, i int) Outcome {
				if err := interrupt.Sleep(ctx, 400*time.Millisecond, "x"); err != nil {
					return failed(fmt.Sprint("r", i), "wait", err, "")
				}
				return failed(fmt.Sprint("r", i), "push failed", errors.New("remote: refused"), "")
			},
			want: []string{"failed: remote: refused", "failed: remote: refused", "failed: remote: refused", "failed: remote: refused"},
			took: 800 * time.Millisecond,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var inFlight atomic.Int64
				e := &Engine{Opts: Options{Concurrency: 3}, StopGrace: grace, InFlight: &inFlight}
				ctx, interruptNow := context.WithCancel(t.Context())
				defer interruptNow()
				start := time.Now()
				time.AfterFunc(time.Second, interruptNow)
				var cancelled atomic.Bool
				outs := each(ctx, e, "apply", []int{0, 1, 2, 3}, func(i int) string { return fmt.Sprint("r", i) }, func(ctx context.Context, i int) Outcome {
					o := tt.step(ctx, i)
					if ctx.Err() != nil && !strings.Contains(tt.name, "grace") {
						cancelled.Store(true)
					}
					return o
				})
				if took := time.Since(start); took != tt.took {
					t.Errorf("the pool ended %v after it started, want %v", took, tt.took)
				}
				for i, o := range outs {
					if got := o.Kind + ": " + o.Detail; !strings.HasPrefix(got, tt.want[i]) {
						t.Errorf("repository %d: %q, want %q", i, got, tt.want[i])
					}
					if o.Kind == Skipped && (o.Reason != ReasonInterrupted || o.Hint == "") {
						t.Errorf("repository %d skipped for %q (hint %q), want %q and a hint", i, o.Reason, o.Hint, ReasonInterrupted)
					}
				}
				if cancelled.Load() {
					t.Error("the interrupt cancelled the steps' context before the grace was over")
				}
				if n := inFlight.Load(); n != 0 {
					t.Errorf("%d still in flight", n)
				}
			})
		})
	}
}
