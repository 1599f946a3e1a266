package github

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"time"
)

// Limits pace the requests of one identity. The zero value follows GitHub's
// advice: 8 reads in flight, writes 1 s apart, content creation at 80 a
// minute and 400 an hour, 60 s pause after a secondary limit without
// retry-after.
type Limits struct {
	// Disabled turns pacing off: no write spacing and no content budget
	// (reads stay at most Reads in flight, writes one at a time), while
	// rate-limit answers are still waited out. For benchmarks and tests.
	Disabled bool
	// Reads is how many reads may be in flight at once; zero means 8.
	Reads int
	// WriteInterval is the least time between two writes; zero means 1 s.
	WriteInterval time.Duration
	// ContentPerMinute caps content-creating requests (pull requests,
	// issues, comments) per minute; zero means 80, negative means no cap.
	ContentPerMinute int
	// ContentPerHour caps content-creating requests per hour; zero means
	// 400, negative means no cap.
	ContentPerHour int
	// SecondaryPause is how long writes pause after a secondary limit that
	// gives no retry-after; it doubles on each hit in a row up to
	// MaxSecondaryPause. Zero means 60 s.
	SecondaryPause time.Duration
	// MaxSecondaryPause caps SecondaryPause's doubling; zero means 15 min.
	MaxSecondaryPause time.Duration
	// Recovery is how long the creation rate stays halved after a secondary
	// limit before it doubles again; zero means 15 min.
	Recovery time.Duration
	// RateLimitRetries is how often one request is retried after a rate
	// limit answer before the error is returned; zero means 5.
	RateLimitRetries int
	// Retries is how often an idempotent read, or a write whose effect a
	// lookup disproved, is retried after a server error or a broken
	// connection; zero means 4.
	Retries int
	// RetryBackoff is the first wait before such a retry; it doubles with
	// each attempt, with jitter. Zero means 1 s.
	RetryBackoff time.Duration
	// RequestTimeout bounds one attempt of one request; zero means 60 s.
	// It is not scaled.
	RequestTimeout time.Duration
	// TimeScale divides every duration above but RequestTimeout, and the
	// minute and hour of the content budget, to match a time-scaled
	// emulator; zero means 1.
	TimeScale float64
}

// withDefaults fills zero fields and applies the time scale.
func (l Limits) withDefaults() Limits {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if l.Reads <= 0 {
		l.Reads = 8
	}
	def(&l.WriteInterval, time.Second)
	if l.ContentPerMinute == 0 {
		l.ContentPerMinute = 80
	}
	if l.ContentPerHour == 0 {
		l.ContentPerHour = 400
	}
	def(&l.SecondaryPause, time.Minute)
	def(&l.MaxSecondaryPause, 15*time.Minute)
	def(&l.Recovery, 15*time.Minute)
	if l.RateLimitRetries <= 0 {
		l.RateLimitRetries = 5
	}
	if l.Retries <= 0 {
		l.Retries = 4
	}
	def(&l.RetryBackoff, time.Second)
	def(&l.RequestTimeout, time.Minute)
	if l.TimeScale <= 0 {
		l.TimeScale = 1
	}
	return l
}

// scaled divides d by the time scale.
func (l Limits) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) / l.TimeScale)
}

// requestKind tells the limiter how to pace a request.
type requestKind int

const (
	kindRead requestKind = iota
	kindWrite
	kindContent
)

// String names the kind for logs.
func (k requestKind) String() string {
	switch k {
	case kindWrite:
		return "write"
	case kindContent:
		return "content"
	}
	return "read"
}

// minFactor is the lowest the creation rate is halved to.
const minFactor = 1.0 / 64

// limiter is the shared pacer of one identity: a semaphore for reads, one
// queue for writes, a budget for content creation, and the pauses rate-limit
// answers impose. All its times come from now and all its waits from sleep.
type limiter struct {
	lim   Limits
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
	rand  func() float64
	log   *slog.Logger
	stats *counters

	reads  chan struct{}
	writes chan struct{}

	mu                sync.Mutex
	blockedUntil      time.Time   // primary limit: nothing goes out before
	writesPausedUntil time.Time   // secondary limit: no write before
	readsPausedUntil  time.Time   // secondary limit hit by a read
	lastWrite         time.Time   // when the last write ended
	nextContent       time.Time   // earliest next content slot
	content           []time.Time // content slots handed out, last hour
	gen               int         // bumped by every secondary hit
	factor            float64     // creation rate multiplier, (0, 1]
	lastChange        time.Time   // last hit or recovery step
	hits              int         // secondary hits in a row without retry-after
}

func newLimiter(lim Limits, now func() time.Time, sleep func(context.Context, time.Duration) error, rnd func() float64, log *slog.Logger, stats *counters) *limiter {
	l := &limiter{
		lim: lim, now: now, sleep: sleep, rand: rnd, log: log, stats: stats,
		reads: make(chan struct{}, lim.Reads), writes: make(chan struct{}, 1), factor: 1,
	}
	return l
}

// acquire waits until a request of kind may go out and returns the function
// that reports its end.
func (l *limiter) acquire(ctx context.Context, kind requestKind) (release func(), err error) {
	if kind == kindContent && !l.lim.Disabled {
		if err := l.waitContentSlot(ctx); err != nil {
			return nil, err
		}
	}
	if kind == kindRead {
		if err := l.waitUntil(ctx, func() time.Time { return later(l.blockedUntil, l.readsPausedUntil) }); err != nil {
			return nil, err
		}
		select {
		case l.reads <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return func() { <-l.reads }, nil
	}
	select {
	case l.writes <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	err = l.waitUntil(ctx, func() time.Time {
		t := later(l.blockedUntil, l.writesPausedUntil)
		if !l.lim.Disabled && !l.lastWrite.IsZero() {
			t = later(t, l.lastWrite.Add(l.lim.scaled(l.lim.WriteInterval)))
		}
		return t
	})
	if err != nil {
		<-l.writes
		return nil, err
	}
	return func() {
		l.mu.Lock()
		l.lastWrite = l.now()
		l.mu.Unlock()
		<-l.writes
	}, nil
}

// waitUntil sleeps until the time until returns (read under l.mu) has passed.
func (l *limiter) waitUntil(ctx context.Context, until func() time.Time) error {
	for {
		l.mu.Lock()
		d := until().Sub(l.now())
		l.mu.Unlock()
		if d <= 0 {
			return ctx.Err()
		}
		if err := l.sleep(ctx, d); err != nil {
			return err
		}
	}
}

// waitContentSlot reserves the next content-creation slot and sleeps until
// it; a secondary-limit hit while sleeping voids the slot and reserves anew.
func (l *limiter) waitContentSlot(ctx context.Context) error {
	for {
		l.mu.Lock()
		slot, gen := l.reserveLocked(), l.gen
		d := slot.Sub(l.now())
		l.mu.Unlock()
		if d > 0 {
			if err := l.sleep(ctx, d); err != nil {
				return err
			}
		}
		l.mu.Lock()
		same := l.gen == gen
		l.mu.Unlock()
		if same {
			return ctx.Err()
		}
	}
}

// reserveLocked hands out the next content slot: evenly spaced at the rate
// the budgets allow, and never more in a sliding minute or hour than they
// allow, both scaled down by the current factor.
func (l *limiter) reserveLocked() time.Time {
	now := l.now()
	l.recoverLocked(now)
	minute, hour := l.lim.scaled(time.Minute), l.lim.scaled(time.Hour)
	var interval time.Duration
	perMin, perHour := -1, -1
	if l.lim.ContentPerMinute > 0 {
		perMin = max(1, int(float64(l.lim.ContentPerMinute)*l.factor))
		interval = max(interval, minute/time.Duration(perMin))
	}
	if l.lim.ContentPerHour > 0 {
		perHour = max(1, int(float64(l.lim.ContentPerHour)*l.factor))
		interval = max(interval, hour/time.Duration(perHour))
	}
	slot := later(now, l.nextContent, l.writesPausedUntil, l.blockedUntil)
	keep := l.content[:0]
	for _, t := range l.content {
		if slot.Sub(t) < hour {
			keep = append(keep, t)
		}
	}
	l.content = keep
	if perHour > 0 && len(l.content) >= perHour {
		slot = later(slot, l.content[len(l.content)-perHour].Add(hour))
	}
	if perMin > 0 {
		n := 0
		for _, t := range l.content {
			if slot.Sub(t) < minute {
				n++
			}
		}
		if n >= perMin {
			slot = later(slot, l.content[len(l.content)-perMin].Add(minute))
		}
	}
	l.content = append(l.content, slot)
	l.nextContent = slot.Add(interval)
	l.stats.content.Add(1)
	return slot
}

// recoverLocked doubles the creation rate again once per Recovery period
// without a secondary-limit hit.
func (l *limiter) recoverLocked(now time.Time) {
	rec := l.lim.scaled(l.lim.Recovery)
	for l.factor < 1 && now.Sub(l.lastChange) >= rec {
		l.factor = math.Min(1, l.factor*2)
		l.lastChange = l.lastChange.Add(rec)
		l.log.Info("github: creation rate raised after a quiet period", "factor", l.factor)
	}
}

// secondaryHit records a secondary-limit answer: writes (and reads, when a
// read was refused) pause for retryAfter, or for SecondaryPause doubling
// with each hit in a row when the answer gave none, and the creation rate
// halves, once for refusals that arrive during one pause. It returns how
// long the refused request should wait.
func (l *limiter) secondaryHit(kind requestKind, retryAfter time.Duration, given bool) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	d := retryAfter
	if !given {
		d = l.lim.scaled(l.lim.SecondaryPause) << min(l.hits, 10)
		d = min(d, l.lim.scaled(l.lim.MaxSecondaryPause))
		l.hits++
	}
	d += time.Duration(l.rand() * float64(d) / 10)
	until := now.Add(d)
	// Requests refused together are one event: halve once per pause.
	if !now.Before(l.writesPausedUntil) {
		l.factor = math.Max(minFactor, l.factor/2)
	}
	l.writesPausedUntil = later(l.writesPausedUntil, until)
	if kind == kindRead {
		l.readsPausedUntil = later(l.readsPausedUntil, until)
	}
	l.lastChange = now
	l.gen++
	l.nextContent = later(l.nextContent, until)
	// Slots handed out for later no longer stand.
	keep := l.content[:0]
	for _, t := range l.content {
		if !t.After(now) {
			keep = append(keep, t)
		}
	}
	l.content = keep
	l.stats.secondary.Add(1)
	l.log.Warn("github: secondary rate limit, pausing writes", "kind", kind.String(), "pause", d, "factor", l.factor)
	return d
}

// succeeded ends a run of secondary hits.
func (l *limiter) succeeded() {
	l.mu.Lock()
	l.hits = 0
	l.mu.Unlock()
}

// primaryHit blocks every request until reset.
func (l *limiter) primaryHit(reset time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if !reset.After(now) {
		reset = now.Add(l.lim.scaled(l.lim.RetryBackoff))
	}
	// A second's grace: the reset is given in whole seconds.
	until := reset.Add(time.Second / time.Duration(max(1, int(l.lim.TimeScale))))
	l.blockedUntil = later(l.blockedUntil, until)
	l.stats.primary.Add(1)
	l.log.Warn("github: primary rate limit spent, waiting for the reset", "until", until)
	return until.Sub(now)
}

// observe notes a response's remaining budget: when it is spent, nothing
// goes out until the reset.
func (l *limiter) observe(remaining int, reset time.Time) {
	if remaining != 0 || reset.IsZero() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if reset.After(l.now()) {
		l.blockedUntil = later(l.blockedUntil, reset)
	}
}

// backoff is the jittered wait before retry attempt n (0-based).
func (l *limiter) backoff(n int) time.Duration {
	d := l.lim.scaled(l.lim.RetryBackoff) << min(n, 10)
	d = min(d, l.lim.scaled(30*time.Second))
	return d/2 + time.Duration(l.rand()*float64(d)/2)
}

// later returns the latest of ts.
func later(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t
		}
	}
	return out
}
