package ledger

import (
	"errors"
	"testing"
	"time"
)

func TestLock(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	l, clk := openTest(t)
	const ttl = time.Minute

	a, err := l.AcquireLock(ctx, "scheduler", "host-a:1", ttl)
	must(t, err)
	if !a.Expires.Equal(clk.Now().Add(ttl)) {
		t.Errorf("lock = %+v", a)
	}
	if _, err := l.AcquireLock(ctx, "scheduler", "host-b:2", ttl); !errors.Is(err, ErrLocked) {
		t.Fatalf("second holder while the lock is live: %v, want ErrLocked", err)
	}
	// Another lock name is independent.
	if _, err := l.AcquireLock(ctx, "other", "host-b:2", ttl); err != nil {
		t.Fatal(err)
	}

	// Renewing keeps it live past the first expiry.
	clk.Advance(50 * time.Second)
	if _, err := l.RenewLock(ctx, "scheduler", "host-a:1", ttl); err != nil {
		t.Fatal(err)
	}
	clk.Advance(50 * time.Second)
	if _, err := l.AcquireLock(ctx, "scheduler", "host-b:2", ttl); !errors.Is(err, ErrLocked) {
		t.Fatalf("after renewal: %v, want ErrLocked", err)
	}
	// Re-acquiring by the holder renews and keeps the acquisition time.
	again, err := l.AcquireLock(ctx, "scheduler", "host-a:1", ttl)
	must(t, err)
	if !again.Acquired.Equal(a.Acquired) {
		t.Errorf("re-acquire moved Acquired from %v to %v", a.Acquired, again.Acquired)
	}

	// Expired: another owner takes over; the old holder has lost it.
	clk.Advance(ttl)
	b, err := l.AcquireLock(ctx, "scheduler", "host-b:2", ttl)
	must(t, err)
	if b.Owner != "host-b:2" || !b.Acquired.Equal(clk.Now()) {
		t.Errorf("taken-over lock = %+v", b)
	}
	if _, err := l.RenewLock(ctx, "scheduler", "host-a:1", ttl); !errors.Is(err, ErrLockLost) {
		t.Errorf("renewal by the old holder: %v, want ErrLockLost", err)
	}
	if err := l.ReleaseLock(ctx, "scheduler", "host-a:1"); !errors.Is(err, ErrLockLost) {
		t.Errorf("release by the old holder: %v, want ErrLockLost", err)
	}
	holder, err := l.LockHolder(ctx, "scheduler")
	must(t, err)
	if holder.Owner != "host-b:2" {
		t.Errorf("holder = %+v", holder)
	}

	// An expired lock nobody took is still renewable by its holder.
	clk.Advance(2 * ttl)
	if _, err := l.RenewLock(ctx, "scheduler", "host-b:2", ttl); err != nil {
		t.Errorf("renewing an expired lock nobody took: %v", err)
	}

	// Release frees it at once; releasing twice is fine.
	must(t, l.ReleaseLock(ctx, "scheduler", "host-b:2"))
	must(t, l.ReleaseLock(ctx, "scheduler", "host-b:2"))
	if _, err := l.RenewLock(ctx, "scheduler", "host-b:2", ttl); !errors.Is(err, ErrLockLost) {
		t.Errorf("renewing a released lock: %v, want ErrLockLost", err)
	}
	if _, err := l.AcquireLock(ctx, "scheduler", "host-a:1", ttl); err != nil {
		t.Errorf("acquire after release: %v", err)
	}
	for _, bad := range []struct {
		name, owner string
		ttl         time.Duration
	}{{"", "x", ttl}, {"x", "", ttl}, {"x", "y", 0}} {
		if _, err := l.AcquireLock(ctx, bad.name, bad.owner, bad.ttl); err == nil {
			t.Errorf("AcquireLock(%q, %q, %v): no error", bad.name, bad.owner, bad.ttl)
		}
	}
}

// TestLockAcrossProcesses opens the same file twice, as two schedulers
// on one ledger would: only one of them gets the lock.
func TestLockAcrossProcesses(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	l1, clk := openTest(t)
	l2, err := Open(ctx, l1.Path(), Options{Now: clk.Now})
	must(t, err)
	defer l2.Close()
	if _, err := l1.AcquireLock(ctx, "scheduler", "one", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := l2.AcquireLock(ctx, "scheduler", "two", time.Minute); !errors.Is(err, ErrLocked) {
		t.Errorf("second ledger handle: %v, want ErrLocked", err)
	}
}

func TestScheduleRuns(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	l, clk := openTest(t)
	id, err := l.StartRun(ctx, "nightly-status", "host:1")
	must(t, err)
	running, err := l.ScheduleRuns(ctx, "nightly-status")
	must(t, err)
	if len(running) != 1 || running[0].Outcome != RunRunning || running[0].Finished != nil {
		t.Errorf("running = %+v", running)
	}
	end := clk.Advance(time.Minute)
	must(t, l.FinishRun(ctx, id, OutcomeFailed, "forge unreachable"))
	if err := l.FinishRun(ctx, id, OutcomeOK, ""); err == nil {
		t.Error("finishing a run twice: no error")
	}
	if err := l.FinishRun(ctx, 999, OutcomeOK, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("finishing an unknown run: %v", err)
	}
	_, err = l.StartRun(ctx, "sweep", "host:1")
	must(t, err)
	runs, err := l.ScheduleRuns(ctx, "")
	must(t, err)
	if len(runs) != 2 || runs[0].Outcome != OutcomeFailed || !runs[0].Finished.Equal(end) {
		t.Errorf("runs = %+v", runs)
	}
	evs, err := l.Events(ctx, EventFilter{Kind: EventScheduleRun})
	must(t, err)
	if len(evs) != 1 {
		t.Errorf("run events = %+v", evs)
	}
}
