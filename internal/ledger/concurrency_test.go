package ledger

import (
	"fmt"
	"sync"
	"testing"
)

// TestConcurrentWriters appends events from two goroutines on one handle
// and from a second handle on the same file (as a second process would),
// while a third goroutine takes snapshots. Every event lands exactly once,
// IDs are unique, and each writer's events keep their order.
func TestConcurrentWriters(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	l, clk := openTest(t)
	other, err := Open(ctx, l.Path(), Options{Now: clk.Now})
	must(t, err)
	defer other.Close()
	addRepos(t, l, "acme/a")

	const perWriter = 200
	writers := []struct {
		name string
		l    *Ledger
	}{{"w1", l}, {"w2", l}, {"w3", other}}
	var wg sync.WaitGroup
	errs := make(chan error, len(writers)+1)
	for _, w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				if _, err := w.l.AppendEvent(ctx, Event{Kind: "test." + w.name, Repo: "acme/a", Message: fmt.Sprint(i)}); err != nil {
					errs <- fmt.Errorf("%s event %d: %w", w.name, i, err)
					return
				}
				if i%50 == 0 {
					if err := w.l.SetFlag(ctx, "acme/a", "V", fmt.Sprint(w.name, i)); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			if _, err := other.Snapshot(ctx); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	for _, w := range writers {
		evs, err := l.Events(ctx, EventFilter{Kind: "test." + w.name})
		must(t, err)
		if len(evs) != perWriter {
			t.Fatalf("%s: %d events, want %d", w.name, len(evs), perWriter)
		}
		for i, e := range evs {
			if e.Message != fmt.Sprint(i) {
				t.Fatalf("%s: event %d says %q", w.name, i, e.Message)
			}
		}
	}
	all, err := l.Events(ctx, EventFilter{Kind: "test.*"})
	must(t, err)
	seen := map[int64]bool{}
	for _, e := range all {
		if seen[e.ID] {
			t.Fatalf("event id %d twice", e.ID)
		}
		seen[e.ID] = true
	}
}
