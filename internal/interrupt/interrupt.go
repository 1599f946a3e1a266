package interrupt

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrInterrupted is what a wait cut by the interrupt returns, wrapped with
// what it was waiting for.
var ErrInterrupted = errors.New("interrupted")

type key struct{}

// With returns ctx carrying stop as its interrupt: when stop ends, waits
// made through [Sleep] or [Waits] on the result end with [ErrInterrupted],
// while the result itself stays uncancelled by stop.
func With(ctx, stop context.Context) context.Context {
	return context.WithValue(ctx, key{}, stop)
}

// Done returns a channel closed at ctx's interrupt, or nil when ctx
// carries none.
func Done(ctx context.Context) <-chan struct{} {
	if stop, ok := ctx.Value(key{}).(context.Context); ok {
		return stop.Done()
	}
	return nil
}

// Interrupted reports whether ctx's interrupt has come.
func Interrupted(ctx context.Context) bool {
	stop, ok := ctx.Value(key{}).(context.Context)
	return ok && stop.Err() != nil
}

// Waits returns a context to wait on: it ends when ctx ends or, with the
// cause [ErrInterrupted], at ctx's interrupt. Call stop when the wait is
// over.
func Waits(ctx context.Context) (wctx context.Context, stop func()) {
	s, ok := ctx.Value(key{}).(context.Context)
	if !ok {
		return ctx, func() {}
	}
	wctx, cancel := context.WithCancelCause(ctx)
	after := context.AfterFunc(s, func() { cancel(ErrInterrupted) })
	return wctx, func() { after(); cancel(nil) }
}

// Err turns the error of a wait on wctx (from [Waits]) into an error that
// says what the interrupt cut, when it did; other errors are returned as
// they are.
func Err(wctx context.Context, err error, waitingFor string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrInterrupted) {
		return err
	}
	if errors.Is(context.Cause(wctx), ErrInterrupted) {
		return Waiting(waitingFor)
	}
	return err
}

// Waiting is the error of a wait for what the interrupt cut:
// "interrupted while waiting for GitHub's write spacing".
func Waiting(what string) error {
	if what == "" {
		return ErrInterrupted
	}
	return fmt.Errorf("%w while waiting for %s", ErrInterrupted, what)
}

// Sleep waits d. It returns ctx's error when ctx ends first and an
// [ErrInterrupted] error naming waitingFor when ctx's interrupt comes first.
func Sleep(ctx context.Context, d time.Duration, waitingFor string) error {
	if d <= 0 {
		return ctx.Err()
	}
	if Interrupted(ctx) {
		return Waiting(waitingFor)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-Done(ctx):
		return Waiting(waitingFor)
	}
}
