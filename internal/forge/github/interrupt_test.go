package github

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	gh "github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/internal/interrupt"
)

// TestInterruptEndsWaits checks that the interrupt a context carries ends
// every wait of the limiter and the transport at once, with an error that
// names what it waited for, while a request already sent finishes and the
// context itself stays uncancelled.
func TestInterruptEndsWaits(t *testing.T) {
	writes := func(ctx context.Context, f *Forge, n int) []error {
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, errs[i] = f.client.Actions.UpdateRepoVariable(ctx, "o", "r", &gh.ActionsVariable{Name: "V", Value: "x"})
			})
			time.Sleep(time.Millisecond) // in order
		}
		wg.Wait()
		return errs
	}
	prs := func(ctx context.Context, f *Forge, n int) []error {
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, _, errs[i] = f.client.PullRequests.Create(ctx, "o", "r", &gh.NewPullRequest{Title: gh.String("t")})
			})
			time.Sleep(time.Millisecond)
		}
		wg.Wait()
		return errs
	}
	tests := []struct {
		name string
		api  *fakeAPI
		lim  Limits
		// call makes the requests and returns their errors.
		call func(ctx context.Context, f *Forge) []error
		// ok is how many requests succeed, sent is how many were sent.
		ok, sent int
		why      string
	}{
		{"write spacing", &fakeAPI{delay: 500 * time.Millisecond}, Limits{},
			func(ctx context.Context, f *Forge) []error { return writes(ctx, f, 3) }, 1, 1, "write spacing"},
		{"content per minute", &fakeAPI{}, Limits{ContentPerMinute: 1, ContentPerHour: -1, Margin: 1},
			func(ctx context.Context, f *Forge) []error { return prs(ctx, f, 3) }, 1, 1, "content per minute"},
		{"secondary-limit pause", &fakeAPI{answer: func(n int, r *http.Request) *http.Response {
			return answer(403, secondaryBody, map[string]string{"Retry-After": "3600"})
		}}, Limits{}, func(ctx context.Context, f *Forge) []error { return writes(ctx, f, 1) }, 0, 1, "rate-limit pause"},
		{"primary limit reset", &fakeAPI{answer: func(n int, r *http.Request) *http.Response {
			return answer(403, `{"message":"API rate limit exceeded"}`, map[string]string{
				"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)})
		}}, Limits{}, func(ctx context.Context, f *Forge) []error {
			_, _, err := f.client.Repositories.Get(ctx, "o", "r")
			return []error{err}
		}, 0, 1, "rate-limit pause"},
		{"read retry backoff", &fakeAPI{answer: func(n int, r *http.Request) *http.Response {
			return answer(502, `{"message":"bad gateway"}`, nil)
		}}, Limits{RetryBackoff: time.Minute}, func(ctx context.Context, f *Forge) []error {
			_, _, err := f.client.Repositories.Get(ctx, "o", "r")
			return []error{err}
		}, 0, 1, "a retry of a GitHub read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake(t, tt.api, tt.lim)
				stop, interruptNow := context.WithCancel(context.Background())
				ctx := interrupt.With(t.Context(), stop)
				start := time.Now()
				time.AfterFunc(200*time.Millisecond, interruptNow)
				errs := tt.call(ctx, f)
				if elapsed := time.Since(start); elapsed > time.Second {
					t.Errorf("the requests ended %v after they started, want at the interrupt (200ms), or when the one sent was answered", elapsed)
				}
				ok := 0
				for _, err := range errs {
					switch {
					case err == nil:
						ok++
					case !errors.Is(err, interrupt.ErrInterrupted):
						t.Errorf("error %v, want one that is interrupt.ErrInterrupted", err)
					case !strings.Contains(err.Error(), "interrupted while waiting for") || !strings.Contains(err.Error(), tt.why):
						t.Errorf("error %q does not say it waited for %q", err, tt.why)
					}
				}
				if ok != tt.ok || len(tt.api.log()) != tt.sent {
					t.Errorf("%d requests succeeded and %d were sent, want %d and %d", ok, len(tt.api.log()), tt.ok, tt.sent)
				}
				if ctx.Err() != nil {
					t.Errorf("the interrupt cancelled the context: %v", ctx.Err())
				}
				// Without an interrupt the same context waits as before.
				interrupted := interrupt.Interrupted(ctx)
				if !interrupted {
					t.Error("the context does not say it was interrupted")
				}
			})
		})
	}
}

// TestNoInterruptWaitsAsBefore checks that a context whose interrupt has
// not come waits out the pacing.
func TestNoInterruptWaitsAsBefore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &fakeAPI{}
		f := newFake(t, api, Limits{})
		stop, interruptNow := context.WithCancel(context.Background())
		defer interruptNow()
		ctx := interrupt.With(t.Context(), stop)
		for range 3 {
			if _, err := f.client.Actions.UpdateRepoVariable(ctx, "o", "r", &gh.ActionsVariable{Name: "V", Value: "x"}); err != nil {
				t.Fatal(err)
			}
		}
		for _, g := range gaps(api.log()) {
			if g != time.Second {
				t.Errorf("gap %v, want 1s", g)
			}
		}
	})
}

// TestInterruptLetsUnpacedRequestsGo checks that a request with nothing to
// wait for still goes after the interrupt: a step finishing (reading back the
// pull request it opened) is not cut for nothing.
func TestInterruptLetsUnpacedRequestsGo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &fakeAPI{}
		f := newFake(t, api, Limits{Disabled: true})
		stop, interruptNow := context.WithCancel(context.Background())
		interruptNow()
		ctx := interrupt.With(t.Context(), stop)
		for range 20 {
			if _, _, err := f.client.Repositories.Get(ctx, "o", "r"); err != nil {
				t.Fatalf("a read after the interrupt: %v", err)
			}
			if _, err := f.client.Actions.UpdateRepoVariable(ctx, "o", "r", &gh.ActionsVariable{Name: "V", Value: "x"}); err != nil {
				t.Fatalf("an unpaced write after the interrupt: %v", err)
			}
		}
		if n := len(api.log()); n != 40 {
			t.Errorf("%d requests sent, want 40", n)
		}
	})
}
