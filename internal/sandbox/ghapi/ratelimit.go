package ghapi

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Limits configure the rate limits. The zero value is GitHub's for a user
// token: 5,000 requests an hour, 80 content-creating requests a minute and
// 500 an hour, 100 concurrent requests, 403 for secondary limits.
type Limits struct {
	// Disabled turns rate limiting off, as on a GitHub Enterprise Server by
	// default: no limits and no x-ratelimit-* headers.
	Disabled bool
	// Primary is the request budget per identity per window; negative means unlimited.
	Primary int
	// PrimaryWindow is the emulated length of the primary window; zero means an hour.
	PrimaryWindow time.Duration
	// ContentPerMinute is the content-creating budget per emulated minute; negative means unlimited.
	ContentPerMinute int
	// ContentPerHour is the content-creating budget per emulated hour; negative means unlimited.
	ContentPerHour int
	// MaxConcurrent is the number of requests one identity may have in flight; negative means unlimited.
	MaxConcurrent int
	// SecondaryStatus is the status of a secondary-limit answer: 403 (zero) or 429.
	SecondaryStatus int
	// OmitRetryAfter leaves retry-after out of secondary-limit answers, as
	// GitHub sometimes does.
	OmitRetryAfter bool
}

// withDefaults fills zero fields with GitHub's values.
func (l Limits) withDefaults() Limits {
	if l.Primary == 0 {
		l.Primary = 5000
	}
	if l.PrimaryWindow <= 0 {
		l.PrimaryWindow = time.Hour
	}
	if l.ContentPerMinute == 0 {
		l.ContentPerMinute = 80
	}
	if l.ContentPerHour == 0 {
		l.ContentPerHour = 500
	}
	if l.MaxConcurrent == 0 {
		l.MaxConcurrent = 100
	}
	if l.SecondaryStatus == 0 {
		l.SecondaryStatus = http.StatusForbidden
	}
	return l
}

// Documentation URLs go-github uses to tell the two kinds of limit apart.
const (
	primaryDocsURL   = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#primary-rate-limit"
	secondaryDocsURL = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
)

// limiter keeps the budgets of every identity. Windows are measured on the
// clock and divided by the time scale.
type limiter struct {
	now   func() time.Time
	scale float64

	mu     sync.Mutex
	limits Limits
	users  map[int64]*budget
}

// budget is one identity's use of its limits.
type budget struct {
	windowEnd time.Time
	used      int
	content   []time.Time // content-creating requests in the last emulated hour
	inFlight  int
}

func newLimiter(l Limits, now func() time.Time, scale float64) *limiter {
	return &limiter{now: now, scale: scale, limits: l.withDefaults(), users: map[int64]*budget{}}
}

func (l *limiter) reset(limits Limits) {
	l.mu.Lock()
	l.limits = limits.withDefaults()
	l.users = map[int64]*budget{}
	l.mu.Unlock()
}

// real converts an emulated duration to clock time.
func (l *limiter) real(d time.Duration) time.Duration {
	return time.Duration(float64(d) / l.scale)
}

// budgetFor returns id's budget, rolling its primary window when it has ended.
func (l *limiter) budgetFor(id int64, now time.Time) *budget {
	b, ok := l.users[id]
	if !ok {
		b = &budget{}
		l.users[id] = b
	}
	if !now.Before(b.windowEnd) {
		b.windowEnd = now.Add(l.real(l.limits.PrimaryWindow))
		b.used = 0
	}
	return b
}

// Rate is one identity's primary budget, as /rate_limit reports it.
type Rate struct {
	Limit, Remaining, Used int
	Reset                  time.Time
}

// rate returns id's primary budget.
func (l *limiter) rate(id int64) Rate {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.budgetFor(id, l.now())
	return Rate{Limit: l.limits.Primary, Remaining: max(0, l.limits.Primary-b.used), Used: b.used, Reset: b.windowEnd}
}

// primary counts the request against the caller's primary budget, sets the
// x-ratelimit-* headers, and answers 403 when the budget is spent.
func (l *limiter) primary(c *call, free bool) bool {
	l.mu.Lock()
	if l.limits.Disabled {
		l.mu.Unlock()
		return true
	}
	now := l.now()
	b := l.budgetFor(c.id.ID, now)
	limit := l.limits.Primary
	if c.id == anonymous && (limit < 0 || limit > anonymousLimit) {
		limit = anonymousLimit
	}
	unlimited := limit < 0
	if unlimited {
		limit = 1 << 30
	}
	exceeded := !free && !unlimited && b.used >= limit
	if !free && !exceeded {
		b.used++
		c.counted = true
	}
	used, reset := b.used, b.windowEnd
	l.mu.Unlock()

	h := c.w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(0, limit-used)))
	h.Set("X-RateLimit-Used", strconv.Itoa(used))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(ceilUnix(reset), 10))
	h.Set("X-RateLimit-Resource", "core")
	if exceeded {
		c.json(http.StatusForbidden, map[string]any{
			"message":           fmt.Sprintf("API rate limit exceeded for user ID %d. If you reach out to GitHub Support for help, please include the request ID sandbox.", c.id.ID),
			"documentation_url": primaryDocsURL,
			"status":            "403",
		})
		return false
	}
	return true
}

// refund gives back the request's count, for a 304 (GitHub does not count
// conditional requests answered with 304), and corrects its headers.
func (l *limiter) refund(c *call) {
	l.mu.Lock()
	b := l.budgetFor(c.id.ID, l.now())
	b.used = max(0, b.used-1)
	used, limit := b.used, l.limits.Primary
	l.mu.Unlock()
	c.counted = false
	if limit < 0 {
		return
	}
	h := c.w.Header()
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(0, limit-used)))
	h.Set("X-RateLimit-Used", strconv.Itoa(used))
}

// secondary enforces the concurrency and content-creation limits. When it
// lets the request through, the caller must call release once it is done.
func (l *limiter) secondary(c *call, content bool) (release func(), ok bool) {
	l.mu.Lock()
	lim := l.limits
	if lim.Disabled {
		l.mu.Unlock()
		return func() {}, true
	}
	now := l.now()
	b := l.budgetFor(c.id.ID, now)
	var wait time.Duration
	limited := false
	if lim.MaxConcurrent > 0 && b.inFlight >= lim.MaxConcurrent {
		limited, wait = true, l.real(time.Minute)
	}
	if content && !limited {
		hour, minute := l.real(time.Hour), l.real(time.Minute)
		keep := b.content[:0]
		for _, t := range b.content {
			if now.Sub(t) < hour {
				keep = append(keep, t)
			}
		}
		b.content = keep
		inMinute := 0
		var oldestInMinute time.Time
		for _, t := range b.content {
			if now.Sub(t) < minute {
				if inMinute == 0 {
					oldestInMinute = t
				}
				inMinute++
			}
		}
		switch {
		case lim.ContentPerHour >= 0 && len(b.content) >= lim.ContentPerHour:
			limited, wait = true, b.content[len(b.content)-lim.ContentPerHour].Add(hour).Sub(now)
		case lim.ContentPerMinute >= 0 && inMinute >= lim.ContentPerMinute:
			limited, wait = true, oldestInMinute.Add(minute).Sub(now)
		default:
			b.content = append(b.content, now)
		}
	}
	if !limited {
		b.inFlight++
		l.mu.Unlock()
		return func() {
			l.mu.Lock()
			b.inFlight--
			l.mu.Unlock()
		}, true
	}
	l.mu.Unlock()
	if !lim.OmitRetryAfter {
		c.w.Header().Set("Retry-After", strconv.Itoa(int(max(1, math.Ceil(wait.Seconds())))))
	}
	c.json(lim.SecondaryStatus, map[string]any{
		"message":           "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID sandbox.",
		"documentation_url": secondaryDocsURL,
		"status":            strconv.Itoa(lim.SecondaryStatus),
	})
	return nil, false
}

// ceilUnix is t in Unix seconds, rounded up.
func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// disabled reports whether rate limiting is off.
func (l *limiter) disabled() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limits.Disabled
}
