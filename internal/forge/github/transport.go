package github

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"sync/atomic"
	"time"

	gh "github.com/google/go-github/v66/github"
)

// Stats counts what the transport did; every field only grows.
type Stats struct {
	// Requests is the number of HTTP attempts sent, retries included.
	Requests int64
	// Writes is the number of write attempts sent (POST, PATCH, PUT,
	// DELETE), content-creating ones included, retries included.
	Writes int64
	// Content is the number of content-creating attempts sent.
	Content int64
	// Retries is the number of attempts repeated after a server error or a
	// broken connection.
	Retries int64
	// SecondaryLimits is the number of secondary-limit answers received.
	SecondaryLimits int64
	// PrimaryLimits is the number of times the primary budget ran out.
	PrimaryLimits int64
	// BlobsFetched and BlobsCached count blobs read from the API and from
	// the cache by Snapshot.
	BlobsFetched, BlobsCached int64
	// Lookups counts writes that failed without a clear answer and were
	// looked up; LookupsDone those the lookup found done, not sent again.
	Lookups, LookupsDone int64
	// Revalidated counts reads answered 304 Not Modified to the ETag the
	// Forge kept, served from its conditional-request cache; GitHub does
	// not count them against the primary rate limit.
	Revalidated int64
}

// counters are the live Stats.
type counters struct {
	requests, writes, content, retries, secondary, primary, blobsFetched, blobsCached, lookups, lookupsDone, revalidated atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Requests: c.requests.Load(), Writes: c.writes.Load(), Content: c.content.Load(), Retries: c.retries.Load(),
		SecondaryLimits: c.secondary.Load(), PrimaryLimits: c.primary.Load(),
		BlobsFetched: c.blobsFetched.Load(), BlobsCached: c.blobsCached.Load(),
		Lookups: c.lookups.Load(), LookupsDone: c.lookupsDone.Load(), Revalidated: c.revalidated.Load(),
	}
}

// contentPath matches the API paths whose POST creates content, as
// GitHub's rate-limit documentation counts it: pull requests, issues,
// comments (on issues, pull requests, commits) and reviews. Labels, review
// requests and assignees are writes, not content.
var contentPath = regexp.MustCompile(`/repos/[^/]+/[^/]+/(pulls|issues|issues/[0-9]+/comments|pulls/[0-9]+/comments|pulls/[0-9]+/reviews|commits/[0-9a-f]+/comments)$`)

// classify tells reads from writes and content-creating writes.
func classify(r *http.Request) requestKind {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return kindRead
	case http.MethodPost:
		if contentPath.MatchString(r.URL.Path) {
			return kindContent
		}
	}
	return kindWrite
}

// transport paces every API request through the identity's limiter, waits
// out rate-limit answers and retries them (GitHub did not perform a
// refused request), and retries idempotent reads after server errors and
// broken connections. Writes that fail otherwise are returned as they are:
// the caller decides, after a lookup, whether to send them again.
type transport struct {
	next  http.RoundTripper
	lim   *limiter
	log   *slog.Logger
	stats *counters
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	kind := classify(req)
	lim := t.lim.lim
	rateTries, errTries := 0, 0
	first := true
	for {
		attempt := req
		if !first {
			if req.Body != nil && req.GetBody == nil {
				return nil, errors.New("could not retry a request whose body cannot be read again")
			}
			attempt = req.Clone(ctx)
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				attempt.Body = body
			}
		}
		first = false
		release, err := t.lim.acquire(ctx, kind)
		if err != nil {
			closeBody(req)
			return nil, err
		}
		t.stats.requests.Add(1)
		actx, cancel := context.WithTimeout(ctx, lim.RequestTimeout)
		resp, err := t.next.RoundTrip(attempt.WithContext(actx))
		release()
		if err != nil {
			cancel()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if kind == kindRead && errTries < lim.Retries {
				if err := t.retryWait(ctx, errTries, req, "error", err.Error()); err != nil {
					return nil, err
				}
				errTries++
				continue
			}
			return nil, err
		}
		resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
		t.observe(resp)

		if resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests {
			wait, limited := t.rateLimited(kind, resp)
			if limited && rateTries < lim.RateLimitRetries {
				drain(resp)
				rateTries++
				if err := t.lim.wait(ctx, wait, "the end of GitHub's rate-limit pause"); err != nil {
					return nil, err
				}
				continue
			}
			return resp, nil
		}
		if resp.StatusCode >= 500 && kind == kindRead && errTries < lim.Retries {
			drain(resp)
			if err := t.retryWait(ctx, errTries, req, "status", resp.Status); err != nil {
				return nil, err
			}
			errTries++
			continue
		}
		if resp.StatusCode < 400 {
			t.lim.succeeded()
		}
		return resp, nil
	}
}

// retryWait logs and sleeps before retrying a read.
func (t *transport) retryWait(ctx context.Context, n int, req *http.Request, key, val string) error {
	t.stats.retries.Add(1)
	d := t.lim.backoff(n)
	t.log.Debug("github: retrying a read", "method", req.Method, "path", req.URL.Path, key, val, "in", d)
	return t.lim.wait(ctx, d, "a retry of a GitHub read")
}

// observe feeds the x-ratelimit-* headers to the limiter.
func (t *transport) observe(resp *http.Response) {
	rem := resp.Header.Get("X-Ratelimit-Remaining")
	if rem == "" {
		return
	}
	n, err := strconv.Atoi(rem)
	if err != nil {
		return
	}
	t.lim.observe(n, resetTime(resp))
}

// rateLimited classifies a 403 or 429: a spent primary budget (remaining
// 0), a secondary limit (go-github's AbuseRateLimitError, or any other 429),
// or neither (a permission error). It records the hit and returns how long
// the request must wait before it is sent again.
func (t *transport) rateLimited(kind requestKind, resp *http.Response) (time.Duration, bool) {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	probe := *resp
	probe.Body = io.NopCloser(bytes.NewReader(data))
	err := gh.CheckResponse(&probe)

	var primary *gh.RateLimitError
	var secondary *gh.AbuseRateLimitError
	switch {
	case errors.As(err, &primary), resp.Header.Get("X-Ratelimit-Remaining") == "0":
		return t.lim.primaryHit(resetTime(resp)), true
	case errors.As(err, &secondary), resp.StatusCode == http.StatusTooManyRequests:
		// go-github derives RetryAfter from x-ratelimit-reset when
		// retry-after is absent, which is the primary window: GitHub says
		// to wait a minute then, so only retry-after counts here.
		d, given := retryAfter(resp, t.lim.now())
		return t.lim.secondaryHit(kind, d, given), true
	}
	return 0, false
}

// retryAfter parses retry-after: seconds or an HTTP date.
func retryAfter(resp *http.Response, now time.Time) (time.Duration, bool) {
	v := resp.Header.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(0, s)) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(0, at.Sub(now)), true
	}
	return 0, false
}

// resetTime parses x-ratelimit-reset (Unix seconds); zero when absent.
func resetTime(resp *http.Response) time.Time {
	v := resp.Header.Get("X-Ratelimit-Reset")
	if v == "" {
		return time.Time{}
	}
	s, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.Unix(s, 0)
}

// cancelBody ends an attempt's context when its body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

// Close closes the body and ends the attempt.
func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// drain reads and closes a response body so the connection is reused.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
}

// closeBody closes a request body the transport will not send.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// authTransport sets a token on every request.
type authTransport struct {
	next http.RoundTripper
	cred *credential
}

// RoundTrip implements http.RoundTripper.
func (a *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+a.cred.token)
	return a.next.RoundTrip(r)
}
