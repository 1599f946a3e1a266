package github

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/interrupt"
)

// Limits pace the requests of one identity. The zero value follows GitHub's
// documentation: 8 reads in flight, writes one at a time and at least 1 s
// apart, content creation within 95% of the published secondary limits (80
// a minute and 500 an hour, as sliding windows), 60 s pause after a
// secondary limit without retry-after.
type Limits struct {
	// Disabled turns pacing off: no write spacing and no content windows
	// (reads stay at most Reads in flight, writes one at a time), while
	// rate-limit answers are still waited out. For servers without rate
	// limits, benchmarks and tests.
	Disabled bool
	// Reads is how many reads may be in flight at once; zero means 8.
	Reads int
	// WriteInterval is the least time between the starts of two writes;
	// zero means 1 s. Writes go one at a time.
	WriteInterval time.Duration
	// ContentPerMinute is the published limit of content-creating requests
	// (pull requests, issues, comments) in any 60 s; zero means 80,
	// negative means no limit.
	ContentPerMinute int
	// ContentPerHour is the published limit of content-creating requests
	// in any hour; zero means 500, negative means no limit.
	ContentPerHour int
	// Margin is the share of each content window cutover uses, in (0, 1];
	// zero means 0.95.
	Margin float64
	// SecondaryPause is how long writes pause after a secondary limit that
	// gives no retry-after; it doubles on each hit in a row up to
	// MaxSecondaryPause. Zero means 60 s.
	SecondaryPause time.Duration
	// MaxSecondaryPause caps SecondaryPause's doubling; zero means 15 min.
	MaxSecondaryPause time.Duration
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
	// minute and hour of the content windows, to match a time-scaled
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
		l.ContentPerHour = 500
	}
	if l.Margin <= 0 || l.Margin > 1 {
		l.Margin = 0.95
	}
	def(&l.SecondaryPause, time.Minute)
	def(&l.MaxSecondaryPause, 15*time.Minute)
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

// windowCap is the share margin of a published limit; negative means none.
func windowCap(published int, margin float64) int {
	if published < 0 {
		return -1
	}
	return max(1, int(float64(published)*margin))
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

// shrink is what a secondary-limit answer leaves of each content window
// (and of the reads in flight, after a refused read) for the rest of the run.
const shrink = 0.75

// limiter is the shared pacer of one identity: a semaphore for reads, one
// write at a time at least WriteInterval after the previous one started,
// two sliding windows for content creation, and the pauses rate-limit
// answers impose. A request goes as soon as every rule lets it. All its
// times come from now and all its waits from sleep.
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
	lastWrite         time.Time   // when the last write started
	content           []time.Time // starts of content requests, last hour, in order
	perMinute         int         // content window caps in force; -1 none
	perHour           int
	readsHeld         int // read slots withdrawn after refused reads
	hits              int // secondary hits in a row without retry-after
	shrinks           int // secondary-limit events that shrank the windows
	waitingWrites     int // writes waiting for their turn
	waitingContent    int // content requests waiting for a window
}

func newLimiter(lim Limits, now func() time.Time, sleep func(context.Context, time.Duration) error, rnd func() float64, log *slog.Logger, stats *counters) *limiter {
	return &limiter{
		lim: lim, now: now, sleep: sleep, rand: rnd, log: log, stats: stats,
		reads: make(chan struct{}, lim.Reads), writes: make(chan struct{}, 1),
		perMinute: windowCap(lim.ContentPerMinute, lim.Margin), perHour: windowCap(lim.ContentPerHour, lim.Margin),
	}
}

// acquire waits until a request of kind may go out and returns the function
// that reports its end. The interrupt (package interrupt) ends the wait at
// once with an error naming the rule it waited for.
func (l *limiter) acquire(ctx context.Context, kind requestKind) (release func(), err error) {
	wctx, stop := interrupt.Waits(ctx)
	defer stop()
	release, err = l.acquireOn(wctx, kind)
	if err != nil {
		return nil, interrupt.Err(wctx, err, "its turn under GitHub's pacing ("+l.rule(kind)+")")
	}
	return release, nil
}

// take takes a slot of sem, at once when one is free (also after the
// interrupt), else when one frees up or ctx ends.
func take(ctx context.Context, sem chan struct{}) error {
	select {
	case sem <- struct{}{}:
		return nil
	default:
	}
	select {
	case sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// rule names the rule a request of kind waits for now: one of the
// Bottleneck constants, or "reads in flight".
func (l *limiter) rule(kind requestKind) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	switch {
	case now.Before(l.blockedUntil):
		return BottleneckPrimary
	case kind == kindRead && now.Before(l.readsPausedUntil), kind != kindRead && now.Before(l.writesPausedUntil):
		return BottleneckSecondary
	case kind == kindRead:
		return "reads in flight"
	case kind == kindContent && !l.lim.Disabled && l.contentReadyLocked(now).After(now):
		if n := len(l.content); l.perHour > 0 && n >= l.perHour && !l.content[n-l.perHour].Add(l.lim.scaled(time.Hour)).Before(l.contentReadyLocked(now)) {
			return BottleneckHour
		}
		return BottleneckMinute
	}
	return BottleneckWrites
}

// wait sleeps d, for what (a retry's backoff, a rate-limit pause); the
// interrupt ends it at once.
func (l *limiter) wait(ctx context.Context, d time.Duration, what string) error {
	wctx, stop := interrupt.Waits(ctx)
	defer stop()
	return interrupt.Err(wctx, l.sleep(wctx, d), what)
}

func (l *limiter) acquireOn(ctx context.Context, kind requestKind) (release func(), err error) {
	if kind == kindRead {
		for {
			readReady := func() time.Time { return later(l.blockedUntil, l.readsPausedUntil) }
			if err := l.waitUntil(ctx, readReady); err != nil {
				return nil, err
			}
			if err := take(ctx, l.reads); err != nil {
				return nil, err
			}
			// A pause may have begun while this read waited for a slot.
			l.mu.Lock()
			ok := !readReady().After(l.now())
			l.mu.Unlock()
			if ok {
				return func() { <-l.reads }, nil
			}
			<-l.reads
		}
	}
	content := kind == kindContent && !l.lim.Disabled
	l.mu.Lock()
	l.waitingWrites++
	if content {
		l.waitingContent++
	}
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.waitingWrites--
		if content {
			l.waitingContent--
		}
		l.mu.Unlock()
	}()
	for {
		// A content request waits for room in its windows without holding
		// the write turn, so other writes go meanwhile.
		if content {
			if err := l.waitUntil(ctx, func() time.Time { return l.contentReadyLocked(l.now()) }); err != nil {
				return nil, err
			}
		}
		if err := take(ctx, l.writes); err != nil {
			return nil, err
		}
		for {
			l.mu.Lock()
			now := l.now()
			t := l.writeReadyLocked()
			if content && l.contentReadyLocked(now).After(now) {
				// Another request took the room meanwhile.
				l.mu.Unlock()
				<-l.writes
				break
			}
			if !t.After(now) {
				l.lastWrite = now
				if content {
					l.content = append(l.content, now)
					l.stats.content.Add(1)
				}
				l.stats.writes.Add(1)
				l.mu.Unlock()
				return func() { <-l.writes }, nil
			}
			l.mu.Unlock()
			if err := l.sleep(ctx, t.Sub(now)); err != nil {
				<-l.writes
				return nil, err
			}
		}
	}
}

// writeReadyLocked returns when the next write may start.
func (l *limiter) writeReadyLocked() time.Time {
	t := later(l.blockedUntil, l.writesPausedUntil)
	if !l.lim.Disabled && !l.lastWrite.IsZero() {
		t = later(t, l.lastWrite.Add(l.lim.scaled(l.lim.WriteInterval)))
	}
	return t
}

// contentReadyLocked returns when both content windows have room for one
// more request: fewer than perHour in the last hour and fewer than
// perMinute in the last minute.
func (l *limiter) contentReadyLocked(now time.Time) time.Time {
	minute, hour := l.lim.scaled(time.Minute), l.lim.scaled(time.Hour)
	keep := l.content[:0]
	for _, t := range l.content {
		if now.Sub(t) < hour {
			keep = append(keep, t)
		}
	}
	l.content = keep
	t := later(l.blockedUntil, l.writesPausedUntil)
	if n := len(l.content); l.perHour > 0 && n >= l.perHour {
		t = later(t, l.content[n-l.perHour].Add(hour))
	}
	if n := len(l.content); l.perMinute > 0 && n >= l.perMinute {
		t = later(t, l.content[n-l.perMinute].Add(minute))
	}
	return t
}

// inWindowLocked counts the content requests of the last d.
func (l *limiter) inWindowLocked(now time.Time, d time.Duration) int {
	n := 0
	for _, t := range l.content {
		if now.Sub(t) < d {
			n++
		}
	}
	return n
}

// waitUntil sleeps until the time until returns (read under l.mu) has passed.
func (l *limiter) waitUntil(ctx context.Context, until func() time.Time) error {
	for {
		l.mu.Lock()
		d := until().Sub(l.now())
		l.mu.Unlock()
		if d <= 0 {
			// Nothing to wait for: after the interrupt, the request goes.
			if errors.Is(context.Cause(ctx), interrupt.ErrInterrupted) {
				return nil
			}
			return ctx.Err()
		}
		if err := l.sleep(ctx, d); err != nil {
			return err
		}
	}
}

// secondaryHit records a secondary-limit answer. Writes (and reads, when a
// read was refused) pause for exactly retryAfter, or for SecondaryPause
// doubling with each hit in a row when the answer gave none. Answers that
// arrive during one pause are one event; each event shrinks for the rest of
// the run: a refused write makes both content windows three quarters of
// what they were, a refused content request also makes the minute window
// at most three quarters of what the last minute used (or of a quarter of
// its first cap, when the last minute used less), and a refused read
// makes the reads in flight three quarters. It returns how long the refused
// request waits.
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
	until := now.Add(d)
	paused := l.writesPausedUntil
	if kind == kindRead {
		paused = l.readsPausedUntil
	}
	if !now.Before(paused) {
		l.shrinks++
		switch kind {
		case kindRead:
			l.shrinkReadsLocked()
		case kindContent:
			// GitHub refused the content request the windows allowed: the
			// minute window becomes smaller than what the last minute used.
			if l.perMinute > 0 {
				used := max(windowCap(l.lim.ContentPerMinute, l.lim.Margin)/4, l.inWindowLocked(now, l.lim.scaled(time.Minute)))
				l.perMinute = max(1, int(float64(min(l.perMinute, used))*shrink))
			}
			fallthrough
		default:
			if l.perMinute > 0 && kind == kindWrite {
				l.perMinute = max(1, int(float64(l.perMinute)*shrink))
			}
			if l.perHour > 0 {
				l.perHour = max(1, int(float64(l.perHour)*shrink))
			}
		}
	}
	l.writesPausedUntil = later(l.writesPausedUntil, until)
	if kind == kindRead {
		l.readsPausedUntil = later(l.readsPausedUntil, until)
	}
	l.stats.secondary.Add(1)
	l.log.Warn("github: secondary rate limit, pausing", "kind", kind.String(), "pause", d,
		"content_per_minute", l.perMinute, "content_per_hour", l.perHour)
	return d
}

// shrinkReadsLocked withdraws read slots so that about three quarters of
// the reads in flight remain (at least one). The slots are taken as reads
// in flight end, and never given back.
func (l *limiter) shrinkReadsLocked() {
	allowed := cap(l.reads) - l.readsHeld
	keep := max(1, int(float64(allowed)*shrink))
	for range allowed - keep {
		l.readsHeld++
		go func() { l.reads <- struct{}{} }()
	}
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

// Bottlenecks [Pace.Bottleneck] names.
const (
	BottleneckNone      = ""              // nothing waits
	BottleneckWrites    = "write spacing" // writes wait for their second
	BottleneckMinute    = "content per minute"
	BottleneckHour      = "content per hour"
	BottleneckSecondary = "secondary-limit pause"
	BottleneckPrimary   = "primary limit reset"
	BottleneckPacingOff = "pacing off"
)

// Pace is a read-only view of the limiter, for progress lines.
type Pace struct {
	// Disabled is true when pacing is off.
	Disabled bool
	// Bottleneck names the rule requests wait for now: one of the
	// Bottleneck constants.
	Bottleneck string
	// Until is when the pause or window named by Bottleneck ends; zero for
	// write spacing and none.
	Until time.Time
	// WriteInterval is the least time between two writes (scaled).
	WriteInterval time.Duration
	// ContentPerMinute and ContentPerHour are the window caps in force
	// (after the margin and any shrinking); -1 means none.
	ContentPerMinute, ContentPerHour int
	// ContentLastMinute and ContentLastHour are the content requests sent
	// in the last (scaled) minute and hour.
	ContentLastMinute, ContentLastHour int
	// WaitingWrites and WaitingContent are the writes, and of them the
	// content requests, waiting to go.
	WaitingWrites, WaitingContent int
	// Shrinks is how many secondary-limit events shrank the windows.
	Shrinks int
}

// pace returns the limiter's state now.
func (l *limiter) pace() Pace {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	p := Pace{
		Disabled: l.lim.Disabled, WriteInterval: l.lim.scaled(l.lim.WriteInterval),
		ContentPerMinute: l.perMinute, ContentPerHour: l.perHour,
		WaitingWrites: l.waitingWrites, WaitingContent: l.waitingContent, Shrinks: l.shrinks,
	}
	ready := l.contentReadyLocked(now)
	p.ContentLastMinute = l.inWindowLocked(now, l.lim.scaled(time.Minute))
	p.ContentLastHour = len(l.content)
	switch {
	case now.Before(l.blockedUntil):
		p.Bottleneck, p.Until = BottleneckPrimary, l.blockedUntil
	case now.Before(later(l.writesPausedUntil, l.readsPausedUntil)):
		p.Bottleneck, p.Until = BottleneckSecondary, later(l.writesPausedUntil, l.readsPausedUntil)
	case l.lim.Disabled:
		p.Bottleneck = BottleneckPacingOff
	case l.waitingContent > 0 && ready.After(now):
		p.Bottleneck, p.Until = BottleneckMinute, ready
		if n := len(l.content); l.perHour > 0 && n >= l.perHour && !l.content[n-l.perHour].Add(l.lim.scaled(time.Hour)).Before(ready) {
			p.Bottleneck = BottleneckHour
		}
	case l.waitingWrites > 0:
		p.Bottleneck = BottleneckWrites
	}
	return p
}

// String renders the pace as one line: "paced: …".
func (p Pace) String() string {
	if p.Disabled {
		return "paced: off (rate-limit answers are still waited out)"
	}
	var b strings.Builder
	b.WriteString("paced: ")
	switch p.Bottleneck {
	case BottleneckNone:
		b.WriteString("nothing waiting")
	case BottleneckWrites:
		fmt.Fprintf(&b, "writes %s apart (%d waiting)", p.WriteInterval, p.WaitingWrites)
	default:
		b.WriteString(p.Bottleneck)
		if !p.Until.IsZero() {
			fmt.Fprintf(&b, " until %s", p.Until.Format("15:04:05"))
		}
	}
	window := func(used, limit int, per string) {
		if limit < 0 {
			fmt.Fprintf(&b, "%d a%s", used, per)
			return
		}
		fmt.Fprintf(&b, "%d/%d a%s", used, limit, per)
	}
	b.WriteString("; content ")
	window(p.ContentLastMinute, p.ContentPerMinute, " minute")
	b.WriteString(", ")
	window(p.ContentLastHour, p.ContentPerHour, "n hour")
	if p.Shrinks > 0 {
		fmt.Fprintf(&b, "; windows shrunk %d× after secondary limits", p.Shrinks)
	}
	return b.String()
}
