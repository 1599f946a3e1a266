package ledger

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// CampaignLockName is the lock every command that writes to a campaign's
// ledger holds while it runs, so that one writer works on a ledger at a
// time. The scheduler holds it for as long as it runs.
const CampaignLockName = "campaign"

// LockOptions configure LockCampaign.
type LockOptions struct {
	// Command names the holder for others, such as "cutover apply".
	Command string
	// Wait is how long to wait for another holder to let go: 0 refuses at
	// once, a negative duration waits until ctx ends.
	Wait time.Duration
	// OnWait is called once, with the holder, when LockCampaign starts
	// waiting; nil says nothing.
	OnWait func(holder Lock)
	// TTL is how long the lock lasts unless renewed; one minute when zero.
	// It is renewed every third of it while held, so a process that dies
	// without letting go holds it at most TTL (or not at all when it ran on
	// this host: a lock whose process is gone is taken over at once).
	TTL time.Duration
	// Poll is how often a waiting LockCampaign tries again; 200ms when zero.
	Poll time.Duration
}

// ErrCampaignLockLost is the cause of the context of a CampaignLock whose
// lock another process took over (this one could not renew it in time).
var ErrCampaignLockLost = errors.New("the campaign lock was taken over by another process")

// CampaignLock is a held campaign lock. Release it when done.
type CampaignLock struct {
	l     *Ledger
	lock  Lock
	ttl   time.Duration
	stop  context.CancelFunc
	done  chan struct{}
	once  sync.Once
	mu    sync.Mutex
	lost  error
	onLos func(error)
}

// LockCampaign takes the campaign lock for this process, waiting for
// another holder as opts say. While another process holds it, it fails
// with a *LockedError (wrapping ErrLocked) naming the holder: at once when
// opts.Wait is 0, after opts.Wait otherwise. onLost, when not nil, is
// called once if the lock is lost while held.
func (l *Ledger) LockCampaign(ctx context.Context, opts LockOptions, onLost func(error)) (*CampaignLock, error) {
	ttl := opts.TTL
	if ttl <= 0 {
		ttl = time.Minute
	}
	poll := opts.Poll
	if poll <= 0 {
		poll = 200 * time.Millisecond
	}
	host, _ := os.Hostname()
	nonce := make([]byte, 6)
	_, _ = rand.Read(nonce)
	want := Lock{Name: CampaignLockName, Owner: fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(nonce)),
		Host: host, PID: os.Getpid(), Command: opts.Command}
	stale := func(have Lock) bool {
		return have.Host == host && have.PID > 0 && have.PID != os.Getpid() && !processAlive(have.PID)
	}
	var deadline <-chan time.Time
	if opts.Wait > 0 {
		t := time.NewTimer(opts.Wait)
		defer t.Stop()
		deadline = t.C
	}
	waiting := false
	for {
		got, err := l.acquireLock(ctx, want, ttl, stale)
		if err == nil {
			return l.hold(got, ttl, onLost), nil
		}
		var locked *LockedError
		if !errors.As(err, &locked) || opts.Wait == 0 {
			return nil, err
		}
		if !waiting && opts.OnWait != nil {
			opts.OnWait(locked.Holder)
		}
		waiting = true
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("stopped waiting for the campaign lock: %w", context.Cause(ctx))
		case <-deadline:
			t.Stop()
			return nil, fmt.Errorf("waited %s: %w", opts.Wait, err)
		case <-t.C:
		}
	}
}

// hold starts renewing a lock just taken.
func (l *Ledger) hold(got Lock, ttl time.Duration, onLost func(error)) *CampaignLock {
	ctx, stop := context.WithCancel(context.Background())
	c := &CampaignLock{l: l, lock: got, ttl: ttl, stop: stop, done: make(chan struct{}), onLos: onLost}
	go c.renew(ctx)
	return c
}

func (c *CampaignLock) renew(ctx context.Context) {
	defer close(c.done)
	t := time.NewTicker(c.ttl / 3)
	defer t.Stop()
	expires := c.lock.Expires
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		got, err := c.l.RenewLock(ctx, CampaignLockName, c.lock.Owner, c.ttl)
		switch {
		case err == nil:
			expires = got.Expires
			continue
		case ctx.Err() != nil:
			return
		case errors.Is(err, ErrLockLost):
		case c.l.now().Before(expires):
			continue // try again; the lock is still ours
		}
		c.mu.Lock()
		c.lost = fmt.Errorf("%w: %v", ErrCampaignLockLost, err)
		c.mu.Unlock()
		if c.onLos != nil {
			c.onLos(c.lost)
		}
		return
	}
}

// Lock returns the lock as taken.
func (c *CampaignLock) Lock() Lock { return c.lock }

// Owner returns the owner string the lock is held under.
func (c *CampaignLock) Owner() string { return c.lock.Owner }

// Release stops renewing the lock and lets go of it. It does nothing the
// second time.
func (c *CampaignLock) Release(ctx context.Context) error {
	var err error
	c.once.Do(func() {
		c.stop()
		<-c.done
		c.mu.Lock()
		lost := c.lost
		c.mu.Unlock()
		if lost != nil {
			err = lost
			return
		}
		err = c.l.ReleaseLock(context.WithoutCancel(ctx), CampaignLockName, c.lock.Owner)
	})
	return err
}
