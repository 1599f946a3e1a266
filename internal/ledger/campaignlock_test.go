package ledger

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestCampaignLock(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	l, clk := openTest(t)

	a, err := l.LockCampaign(ctx, LockOptions{Command: "cutover apply"}, nil)
	must(t, err)
	holder, err := l.LockHolder(ctx, CampaignLockName)
	must(t, err)
	host, _ := os.Hostname()
	if holder.Command != "cutover apply" || holder.PID != os.Getpid() || holder.Host != host || !holder.Acquired.Equal(clk.Now()) {
		t.Errorf("holder = %+v", holder)
	}

	// Wait 0 refuses at once, naming the holder.
	_, err = l.LockCampaign(ctx, LockOptions{Command: "cutover status"}, nil)
	var locked *LockedError
	if !errors.As(err, &locked) || !errors.Is(err, ErrLocked) || locked.Holder.Command != "cutover apply" {
		t.Fatalf("second holder with no wait: %v", err)
	}
	for _, want := range []string{`"cutover apply"`, "pid ", host, "since 2026-03-01T09:00:00Z"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}

	// A waiting second holder says so once, and gets the lock when the
	// first lets go.
	var waits atomic.Int32
	got := make(chan error, 1)
	go func() {
		b, err := l.LockCampaign(ctx, LockOptions{Command: "cutover plan", Wait: time.Minute, Poll: 5 * time.Millisecond,
			OnWait: func(h Lock) { waits.Add(1) }}, nil)
		if err == nil {
			err = b.Release(ctx)
		}
		got <- err
	}()
	for waits.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(30 * time.Millisecond)
	must(t, a.Release(ctx))
	must(t, <-got)
	if n := waits.Load(); n != 1 {
		t.Errorf("OnWait called %d times, want 1", n)
	}

	// A bounded wait ends with the holder named.
	c, err := l.LockCampaign(ctx, LockOptions{Command: "cutover apply"}, nil)
	must(t, err)
	start := time.Now()
	_, err = l.LockCampaign(ctx, LockOptions{Command: "cutover plan", Wait: 50 * time.Millisecond, Poll: 5 * time.Millisecond}, nil)
	if !errors.Is(err, ErrLocked) || time.Since(start) < 50*time.Millisecond {
		t.Errorf("bounded wait: %v after %v", err, time.Since(start))
	}
	must(t, c.Release(ctx))
	must(t, c.Release(ctx)) // a second release does nothing
}

// TestCampaignLockDeadHolder takes over at once a lock whose process on
// this host is gone, as after a crash, and waits for one whose process runs.
func TestCampaignLockDeadHolder(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	l, _ := openTest(t)
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	dead := cmd.Process.Pid
	if _, err := l.acquireLock(ctx, Lock{Name: CampaignLockName, Owner: "crashed", Host: host, PID: dead, Command: "cutover apply"}, time.Hour, nil); err != nil {
		t.Fatal(err)
	}
	c, err := l.LockCampaign(ctx, LockOptions{Command: "cutover apply"}, nil)
	if err != nil {
		t.Fatalf("lock of a process that is gone was not taken over: %v", err)
	}
	must(t, c.Release(ctx))

	// Another host's process cannot be checked: its lock holds until it lapses.
	if _, err := l.acquireLock(ctx, Lock{Name: CampaignLockName, Owner: "elsewhere", Host: host + "-other", PID: dead, Command: "cutover apply"}, time.Hour, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := l.LockCampaign(ctx, LockOptions{Command: "cutover apply"}, nil); !errors.Is(err, ErrLocked) {
		t.Fatalf("lock of another host's process: %v, want ErrLocked", err)
	}
}

// TestCampaignLockLost: a holder whose lock another process took over
// (after it lapsed) is told, and its Release reports it.
func TestCampaignLockLost(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	l, clk := openTest(t)
	lost := make(chan error, 1)
	c, err := l.LockCampaign(ctx, LockOptions{Command: "cutover apply", TTL: 30 * time.Millisecond}, func(err error) { lost <- err })
	must(t, err)
	clk.Advance(time.Hour)
	if _, err := l.AcquireLock(ctx, CampaignLockName, "thief", time.Hour); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-lost:
		if !errors.Is(err, ErrCampaignLockLost) {
			t.Errorf("lost with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the holder was not told it lost the lock")
	}
	if err := c.Release(ctx); !errors.Is(err, ErrCampaignLockLost) {
		t.Errorf("release after loss: %v", err)
	}
}
