package npm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/cutover/cutover/internal/interrupt"
	"github.com/cutover/cutover/internal/logging"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults used when the matching Client field is zero.
const (
	DefaultMaxRetries    = 3
	DefaultOTPWindow     = 5 * time.Minute
	DefaultBackoff       = 500 * time.Millisecond
	DefaultMaxBackoff    = 20 * time.Second
	DefaultMaxRetryAfter = 2 * time.Minute
	maxResponse          = 64 << 20
)

// Secret is a credential. It formats as "[redacted]" with every verb, in JSON
// and in slog, so printing a Client or a config never reveals it.
type Secret string

const redacted = "[redacted]"

// String returns "[redacted]".
func (Secret) String() string { return redacted }

// GoString returns "[redacted]".
func (Secret) GoString() string { return redacted }

// Format writes "[redacted]" whatever the verb.
func (Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// LogValue keeps the secret out of slog output.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText keeps the secret out of JSON and TOML output.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Client talks to one npm registry. Its zero value needs only BaseURL; set
// Token for anything but public reads. A Client is safe for concurrent use and
// must not be copied after first use.
type Client struct {
	// BaseURL is the registry root, from configuration (never a built-in default).
	BaseURL string
	// HTTP sends requests; nil means http.DefaultClient.
	HTTP *http.Client
	// Token is the bearer token; it is sent only to BaseURL's origin.
	Token Secret
	// OTP answers two-factor challenges; nil makes them ErrOTPRequired errors.
	OTP OTPSource
	// Logger receives request logs without credentials; nil discards them.
	Logger *slog.Logger
	// Now is the clock for the OTP window and Retry-After dates; nil means time.Now.
	Now func() time.Time
	// Sleep waits between retries and polls; nil sleeps on a timer and stops with ctx.
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter spreads a backoff delay; nil picks uniformly in [d/2, d].
	Jitter func(d time.Duration) time.Duration
	// MaxRetries is how often a 5xx, 429 or network failure is retried.
	MaxRetries int
	// OTPWindow is how long an approved OTP is reused (the registry allows 5 minutes).
	OTPWindow time.Duration
	// UserAgent is sent with every request; "" means "cutover".
	UserAgent string
	// Redactor removes the configured secrets from the registry's messages
	// before they are cut; nil removes the token patterns (and this
	// client's own token and one-time password, always).
	Redactor *logging.Redactor

	// remembered is the last approved OTP; a pointer, so that printing a
	// Client value shows an address, never the code.
	remembered atomic.Pointer[otpMemo]
	// asking lets one request at a time ask OTP for a code.
	asking  chan struct{}
	askOnce sync.Once
	// otpFailed is the first failure of OTP to supply a code; the requests
	// challenged after it fail with it at once instead of asking again, so
	// that a batch shows a person one approval, not one per request.
	otpFailed atomic.Pointer[error]
}

// otpMemo is an approved OTP and when it was approved; never mutated.
type otpMemo struct {
	otp   string
	since time.Time
}

// String describes the client without its credentials.
func (c *Client) String() string {
	auth := "anonymous"
	if c.Token != "" {
		auth = "token " + redacted
	}
	return fmt.Sprintf("npm.Client{BaseURL: %q, auth: %s}", c.BaseURL, auth)
}

// GoString describes the client without its credentials.
func (c *Client) GoString() string { return c.String() }

// LogValue describes the client to slog without its credentials.
func (c *Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("registry", c.BaseURL), slog.Bool("authenticated", c.Token != ""))
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) log() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// sleep waits d between retries and polls; the interrupt (package
// interrupt) ends the wait at once.
func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	wctx, stop := interrupt.Waits(ctx)
	defer stop()
	if c.Sleep != nil {
		return interrupt.Err(wctx, c.Sleep(wctx, d), "a retry of an npm registry request")
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-wctx.Done():
		return interrupt.Err(wctx, wctx.Err(), "a retry of an npm registry request")
	case <-t.C:
		return nil
	}
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

func (c *Client) window() time.Duration {
	if c.OTPWindow > 0 {
		return c.OTPWindow
	}
	return DefaultOTPWindow
}

// rememberedOTP returns the last approved OTP while its window lasts.
func (c *Client) rememberedOTP() string {
	m := c.remembered.Load()
	if m != nil && c.now().Before(m.since.Add(c.window())) {
		return m.otp
	}
	return ""
}

func (c *Client) rememberOTP(otp string) {
	c.remembered.Store(&otpMemo{otp: otp, since: c.now()})
}

func (c *Client) forgetOTP(otp string) {
	if m := c.remembered.Load(); m != nil && m.otp == otp {
		c.remembered.CompareAndSwap(m, nil)
	}
}

// redact removes the client's credentials from text that came from the network.
func (c *Client) redact(s string) string {
	if c.Token != "" {
		s = strings.ReplaceAll(s, string(c.Token), redacted)
	}
	if m := c.remembered.Load(); m != nil && len(m.otp) >= 4 {
		s = strings.ReplaceAll(s, m.otp, redacted)
	}
	return s
}

// redactedError carries a transport error whose text had credentials removed.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func (c *Client) base() (*url.URL, error) {
	if c.BaseURL == "" {
		return nil, errors.New("npm registry URL is not configured")
	}
	u, err := url.Parse(strings.TrimSuffix(c.BaseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("npm registry URL %q is not an http(s) URL", c.BaseURL)
	}
	return u, nil
}

// sameOrigin reports whether u is on the registry's scheme and host, where the
// token may go.
func sameOrigin(base, u *url.URL) bool {
	return strings.EqualFold(base.Scheme, u.Scheme) && strings.EqualFold(base.Host, u.Host)
}

// call is one logical registry operation.
type call struct {
	op     string // "get packument", for errors and logs
	pkg    string // package name, "" when none
	method string
	path   string // escaped path below BaseURL, or an absolute URL on its origin
	body   []byte
	otp    bool // a write that may need two-factor authentication
}

// reply is a finished HTTP exchange.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// do runs a call, answering two-factor challenges, and decodes a 2xx body into out.
func (c *Client) do(ctx context.Context, cl call, out any) error {
	otp := ""
	if cl.otp {
		otp = c.rememberedOTP()
	}
	rejected := ""
	for asked := 0; ; asked++ {
		rep, err := c.roundTrip(ctx, cl, otp)
		if err != nil {
			return &Error{Op: cl.op, Package: cl.pkg, Err: err}
		}
		ch, isOTP := c.challenge(cl, rep)
		if !isOTP {
			if rep.status >= 200 && rep.status < 300 {
				if out == nil || len(rep.body) == 0 {
					return nil
				}
				if err := json.Unmarshal(rep.body, out); err != nil {
					return &Error{Op: cl.op, Package: cl.pkg, Status: rep.status, Err: fmt.Errorf("could not decode the registry's answer: %w", err)}
				}
				return nil
			}
			return c.statusError(cl, rep)
		}
		if otp != "" {
			c.forgetOTP(otp)
			rejected = otp
		}
		if !cl.otp || c.OTP == nil {
			return &Error{Op: cl.op, Package: cl.pkg, Status: rep.status, Message: "the registry requires a one-time password; pass --otp or use the web login", Err: ErrOTPRequired}
		}
		if asked >= 3 {
			return &Error{Op: cl.op, Package: cl.pkg, Status: rep.status, Message: "the one-time password was rejected three times", Err: ErrOTPRequired}
		}
		next, err := c.askOTP(ctx, cl, ch, rejected)
		if err != nil {
			return &Error{Op: cl.op, Package: cl.pkg, Status: rep.status, Message: "no one-time password", Err: fmt.Errorf("%w: %w", ErrOTPRequired, err)}
		}
		if next == "" || next == rejected {
			return &Error{Op: cl.op, Package: cl.pkg, Status: rep.status, Message: "the one-time password was rejected", Err: ErrOTPRequired}
		}
		otp = next
	}
}

// askOTP answers a challenge. Concurrent requests that are challenged
// together ask the OTPSource one at a time, and a request that waited takes
// the OTP the one before it got approved (unless that is the one its
// registry just rejected), so a batch needs one approval per window.
func (c *Client) askOTP(ctx context.Context, cl call, ch Challenge, rejected string) (string, error) {
	c.askOnce.Do(func() { c.asking = make(chan struct{}, 1) })
	select {
	case c.asking <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-c.asking }()
	if otp := c.rememberedOTP(); otp != "" && otp != rejected {
		return otp, nil
	}
	if p := c.otpFailed.Load(); p != nil {
		return "", fmt.Errorf("an earlier request could not get one: %w", *p)
	}
	c.log().Info("npm registry asks for a one-time password", "op", cl.op, "package", cl.pkg, "web", ch.AuthURL != "")
	next, err := c.OTP.OTP(ctx, ch)
	if err != nil {
		c.otpFailed.CompareAndSwap(nil, &err)
		return "", err
	}
	if next != "" && next != rejected {
		c.rememberOTP(next)
	}
	return next, nil
}

// challenge recognises an EOTP answer: 401 with www-authenticate naming OTP,
// or a body that mentions a one-time password.
func (c *Client) challenge(cl call, rep reply) (Challenge, bool) {
	if rep.status != http.StatusUnauthorized {
		return Challenge{}, false
	}
	var body struct {
		Error   string `json:"error"`
		AuthURL string `json:"authUrl"`
		DoneURL string `json:"doneUrl"`
	}
	_ = json.Unmarshal(rep.body, &body)
	wa := strings.ToLower(rep.header.Get("WWW-Authenticate"))
	if !strings.Contains(wa, "otp") && !strings.Contains(strings.ToLower(body.Error), "one-time pass") {
		return Challenge{}, false
	}
	return Challenge{Operation: cl.op, Package: cl.pkg, AuthURL: body.AuthURL, DoneURL: body.DoneURL, client: c}, true
}

// roundTrip sends one request, retrying 5xx, 429 and network failures with
// jittered backoff.
func (c *Client) roundTrip(ctx context.Context, cl call, otp string) (reply, error) {
	base, err := c.base()
	if err != nil {
		return reply{}, err
	}
	target, err := c.resolve(base, cl.path)
	if err != nil {
		return reply{}, err
	}
	maxRetries := c.MaxRetries
	if maxRetries <= 0 {
		maxRetries = DefaultMaxRetries
	}
	idempotent := cl.method != http.MethodPost
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return reply{}, err
		}
		req, err := http.NewRequestWithContext(ctx, cl.method, target.String(), bytes.NewReader(cl.body))
		if err != nil {
			return reply{}, err
		}
		req.Header.Set("Accept", "application/json")
		ua := c.UserAgent
		if ua == "" {
			ua = "cutover"
		}
		req.Header.Set("User-Agent", ua)
		if cl.body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if c.Token != "" && sameOrigin(base, target) {
			req.Header.Set("Authorization", "Bearer "+string(c.Token))
		}
		if otp != "" && sameOrigin(base, target) {
			req.Header.Set("npm-otp", otp)
		}
		start := c.now()
		resp, err := c.httpClient().Do(req)
		var rep reply
		if err == nil {
			var body []byte
			body, err = io.ReadAll(io.LimitReader(resp.Body, maxResponse))
			resp.Body.Close()
			rep = reply{status: resp.StatusCode, header: resp.Header, body: body}
		}
		log := c.log().With("op", cl.op, "method", cl.method, "path", target.Path, "attempt", attempt+1)
		retryable := err != nil && idempotent && ctx.Err() == nil
		if err == nil {
			log.Debug("npm request", "status", rep.status, "duration", c.now().Sub(start))
			retryable = rep.status == http.StatusTooManyRequests || rep.status >= 500
		}
		if !retryable || attempt >= maxRetries {
			if err != nil {
				if ctx.Err() != nil {
					return reply{}, ctx.Err()
				}
				return reply{}, &redactedError{msg: c.redact(err.Error()), err: err}
			}
			return rep, nil
		}
		delay := c.backoff(attempt)
		if err == nil {
			if ra, ok := c.retryAfter(rep.header); ok {
				delay = ra
			}
			log.Warn("npm registry busy, retrying", "status", rep.status, "delay", delay)
		} else {
			log.Warn("npm request failed, retrying", "error", c.redact(err.Error()), "delay", delay)
		}
		if err := c.sleep(ctx, delay); err != nil {
			return reply{}, err
		}
	}
}

// resolve turns a call path into a URL: an escaped path is appended to
// BaseURL (which may have a path of its own); an absolute URL is used as is.
func (c *Client) resolve(base *url.URL, p string) (*url.URL, error) {
	if strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "https://") {
		u, err := url.Parse(p)
		if err != nil {
			return nil, fmt.Errorf("registry gave an invalid URL: %w", err)
		}
		return u, nil
	}
	return url.Parse(strings.TrimSuffix(base.String(), "/") + p)
}

func (c *Client) backoff(attempt int) time.Duration {
	d := min(DefaultBackoff<<attempt, DefaultMaxBackoff)
	if c.Jitter != nil {
		return c.Jitter(d)
	}
	return d/2 + rand.N(d/2+1)
}

func (c *Client) retryAfter(h http.Header) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.Atoi(v); err == nil {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(c.now())
	} else {
		return 0, false
	}
	return min(max(d, 0), DefaultMaxRetryAfter), true
}

// statusError turns a non-2xx answer into an *Error.
func (c *Client) statusError(cl call, rep reply) error {
	var body struct {
		Error   string `json:"error"`
		Message string `json:"message"`
		Reason  string `json:"reason"`
	}
	_ = json.Unmarshal(rep.body, &body)
	msg := body.Error
	if msg == "" {
		msg = body.Message
	}
	if msg == "" {
		msg = body.Reason
	}
	// Redact first, then cut: a secret cut in two would no longer be found.
	msg = c.Redactor.RedactCut(c.redact(msg), 300)
	e := &Error{Op: cl.op, Package: cl.pkg, Status: rep.status, Message: msg, Notice: c.redact(rep.header.Get("npm-notice"))}
	e.Err = sentinelFor(rep.status)
	e.write = rep.status == http.StatusNotFound && cl.method != http.MethodGet
	return e
}
