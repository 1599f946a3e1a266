package npm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Challenge is a registry's request for a one-time password.
type Challenge struct {
	// Operation and Package say what the OTP is for.
	Operation, Package string
	// AuthURL is the page where the user approves a web login ("" when the
	// account uses an authenticator app).
	AuthURL string
	// DoneURL is polled until the web login is approved.
	DoneURL string

	client *Client
}

// OTPSource supplies one-time passwords when the registry asks for one.
type OTPSource interface {
	// OTP returns a one-time password for the challenge, or an error.
	OTP(ctx context.Context, ch Challenge) (string, error)
}

// StaticOTP is an OTP given up front, such as the --otp flag.
type StaticOTP string

// OTP returns the static value.
func (s StaticOTP) OTP(context.Context, Challenge) (string, error) {
	if s == "" {
		return "", errors.New("no one-time password was given")
	}
	return string(s), nil
}

// String keeps the value out of formatted output.
func (StaticOTP) String() string { return redacted }

// PromptOTP asks a person, for example on a terminal; the func gets the prompt
// text and returns what was typed.
type PromptOTP func(ctx context.Context, prompt string) (string, error)

// OTP prompts for a code.
func (p PromptOTP) OTP(ctx context.Context, ch Challenge) (string, error) {
	what := ch.Operation
	if ch.Package != "" {
		what += fmt.Sprintf(" for %q", ch.Package)
	}
	return p(ctx, fmt.Sprintf("The npm registry needs a one-time password to %s. Enter the code from your authenticator: ", what))
}

// WebOTP drives the registry's web login: it hands AuthURL to Open (which
// opens a browser or prints the URL) and polls DoneURL, honouring Retry-After,
// until the login is approved, the timeout passes, ctx ends or Interrupt
// ends. Challenges without an AuthURL go to Fallback.
type WebOTP struct {
	// Open shows the user the approval page.
	Open func(ctx context.Context, authURL string) error
	// Fallback answers challenges that carry no web login; nil fails them.
	Fallback OTPSource
	// Timeout bounds the wait for approval; zero means DefaultWebLoginTimeout.
	Timeout time.Duration
	// Interrupt, when set, stops the wait as soon as it ends, even when the
	// request's own context does not (a batch lets requests in flight
	// finish after an interrupt; a person's approval is not such a request).
	Interrupt context.Context
	// Countdown, when set, is called while waiting with the time left.
	Countdown func(left time.Duration)
}

// DefaultWebLoginTimeout is how long WebOTP waits for an approval by
// default: the registry's five-minute window.
const DefaultWebLoginTimeout = 5 * time.Minute

// OTP opens the login page and waits for approval.
func (w WebOTP) OTP(ctx context.Context, ch Challenge) (string, error) {
	if ch.AuthURL == "" || ch.DoneURL == "" {
		if w.Fallback != nil {
			return w.Fallback.OTP(ctx, ch)
		}
		return "", errors.New("the registry asked for an authenticator code, not a web login; pass --otp")
	}
	if w.Open != nil {
		if err := w.Open(ctx, ch.AuthURL); err != nil {
			return "", fmt.Errorf("could not open the login page %q: %w", ch.AuthURL, err)
		}
	}
	timeout := w.Timeout
	if timeout <= 0 {
		timeout = DefaultWebLoginTimeout
	}
	if w.Interrupt != nil {
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		defer cancel(nil)
		stop := context.AfterFunc(w.Interrupt, func() { cancel(context.Cause(w.Interrupt)) })
		defer stop()
	}
	return ch.waitForApproval(ctx, timeout, w.Countdown)
}

// WaitForApproval polls DoneURL until it answers with the OTP, honouring the
// registry's Retry-After between polls, and gives up after timeout (measured
// with the client's clock) or when ctx ends.
func (ch Challenge) WaitForApproval(ctx context.Context, timeout time.Duration) (string, error) {
	return ch.waitForApproval(ctx, timeout, nil)
}

func (ch Challenge) waitForApproval(ctx context.Context, timeout time.Duration, countdown func(time.Duration)) (string, error) {
	c := ch.client
	if c == nil || ch.DoneURL == "" {
		return "", errors.New("the challenge has no web login to wait for")
	}
	base, err := c.base()
	if err != nil {
		return "", err
	}
	done, err := c.resolve(base, ch.DoneURL)
	if err != nil {
		return "", err
	}
	if !sameOrigin(base, done) {
		return "", fmt.Errorf("the registry's doneUrl %q is not on the registry's host; refusing to poll it", ch.DoneURL)
	}
	deadline := c.now().Add(timeout)
	cl := call{op: "wait for web login approval", pkg: ch.Package, method: http.MethodGet, path: done.String()}
	for {
		rep, err := c.roundTrip(ctx, cl, "")
		if err != nil {
			return "", &Error{Op: cl.op, Package: cl.pkg, Err: err}
		}
		switch rep.status {
		case http.StatusOK:
			var body struct {
				Token string `json:"token"`
			}
			if err := json.Unmarshal(rep.body, &body); err != nil || body.Token == "" {
				return "", &Error{Op: cl.op, Package: cl.pkg, Status: rep.status, Err: errors.New("the approval carried no one-time password")}
			}
			c.log().Info("npm web login approved", "op", ch.Operation, "package", ch.Package)
			return body.Token, nil
		case http.StatusAccepted:
		case http.StatusNotFound, http.StatusGone:
			// Not the package's absence: the login itself expired or is
			// unknown, so no ErrNotFound that callers would misread.
			return "", &Error{Op: cl.op, Package: cl.pkg, Status: rep.status, Err: errors.New("the registry says the web login expired or is unknown")}
		default:
			return "", c.statusError(cl, rep)
		}
		wait, ok := c.retryAfter(rep.header)
		if !ok || wait <= 0 {
			wait = time.Second
		}
		if c.now().Add(wait).After(deadline) {
			return "", &Error{Op: cl.op, Package: cl.pkg, Err: fmt.Errorf("the web login was not approved within %s", timeout)}
		}
		if countdown != nil {
			countdown(deadline.Sub(c.now()))
		}
		c.log().Debug("waiting for npm web login approval", "retry_after", wait)
		if err := c.sleep(ctx, wait); err != nil {
			return "", &Error{Op: cl.op, Package: cl.pkg, Err: err}
		}
	}
}
