package interrupt

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

func TestSleep(t *testing.T) {
	tests := []struct {
		name      string
		interrupt time.Duration // 0: never
		cancel    time.Duration // 0: never
		carries   bool          // the context carries an interrupt
		want      error
		took      time.Duration
	}{
		{"no interrupt: the whole wait", 0, 0, true, nil, time.Minute},
		{"not carried: the whole wait", 0, 0, false, nil, time.Minute},
		{"interrupt ends the wait", time.Second, 0, true, ErrInterrupted, time.Second},
		{"cancel ends the wait", 0, 2 * time.Second, true, context.Canceled, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				stop, interruptNow := context.WithCancel(context.Background())
				defer interruptNow()
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				if tt.carries {
					ctx = With(ctx, stop)
				}
				if tt.interrupt > 0 {
					time.AfterFunc(tt.interrupt, interruptNow)
				}
				if tt.cancel > 0 {
					time.AfterFunc(tt.cancel, cancel)
				}
				start := time.Now()
				err := Sleep(ctx, time.Minute, "the test")
				if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
					t.Errorf("err %v, want %v", err, tt.want)
				}
				if got := time.Since(start); got != tt.took {
					t.Errorf("waited %v, want %v", got, tt.took)
				}
				if errors.Is(err, ErrInterrupted) && err.Error() != "interrupted while waiting for the test" {
					t.Errorf("error %q", err)
				}
			})
		})
	}
}

func TestWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stop, interruptNow := context.WithCancel(context.Background())
		ctx := With(t.Context(), stop)
		wctx, done := Waits(ctx)
		defer done()
		if Interrupted(ctx) || wctx.Err() != nil {
			t.Fatal("interrupted before the interrupt")
		}
		interruptNow()
		<-wctx.Done()
		if !Interrupted(ctx) || ctx.Err() != nil {
			t.Errorf("after the interrupt: Interrupted %v, ctx.Err %v", Interrupted(ctx), ctx.Err())
		}
		if err := Err(wctx, wctx.Err(), "x"); !errors.Is(err, ErrInterrupted) {
			t.Errorf("Err gave %v", err)
		}
		other := errors.New("other")
		if err := Err(t.Context(), other, "x"); err != other {
			t.Errorf("Err changed an error the interrupt did not cause: %v", err)
		}
		// A second wait after the interrupt ends at once.
		w2, done2 := Waits(ctx)
		defer done2()
		select {
		case <-w2.Done():
		case <-time.After(time.Hour):
			t.Error("a wait begun after the interrupt did not end")
		}
	})
}
