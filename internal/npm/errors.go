package npm

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Sentinel errors an *Error wraps; test them with errors.Is.
var (
	// ErrUnauthorized is a 401: the token is missing, invalid, expired or revoked.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden is a 403: the token may not do this (read-only, bypass-2FA
	// token on a management call, not a maintainer, 2FA required).
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound is a 404. The registry also answers 404 for many
	// authentication failures on writes (publish above all), so on a write it
	// may mean "not allowed" as well as "no such package".
	ErrNotFound = errors.New("not found")
	// ErrOTPRequired is EOTP: the registry wants a one-time password and none
	// was available or the one given was rejected.
	ErrOTPRequired = errors.New("one-time password required (EOTP)")
	// ErrConflict is a 409, such as creating a trust config when one exists.
	ErrConflict = errors.New("conflict")
	// ErrRateLimited is a 429 that persisted through the retries.
	ErrRateLimited = errors.New("rate limited")
	// ErrServer is a 5xx that persisted through the retries.
	ErrServer = errors.New("registry server error")
	// ErrBadRequest is any other 4xx, such as a 400 or a 422.
	ErrBadRequest = errors.New("request refused")
)

// Error is a failed registry operation. It names the operation and the
// package, never a credential.
type Error struct {
	// Op is the operation, such as "create trust config".
	Op string
	// Package is the package name, "" for account-level operations.
	Package string
	// Status is the HTTP status, 0 when no answer arrived.
	Status int
	// Message is the registry's own message, if it sent one.
	Message string
	// Notice is the registry's npm-notice header, if any.
	Notice string
	// Err is one of the sentinel errors, or the transport failure.
	Err error

	write bool // a 404 on a write, which may hide an auth failure
}

// Error says what failed, for which package, and what the registry answered.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("could not ")
	b.WriteString(e.Op)
	if e.Package != "" {
		fmt.Fprintf(&b, " for package %q", e.Package)
	}
	if e.Status == 0 {
		fmt.Fprintf(&b, ": %v", e.Err)
		return b.String()
	}
	fmt.Fprintf(&b, ": registry answered %d %s", e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		fmt.Fprintf(&b, ": %q", e.Message)
	}
	if e.Notice != "" {
		fmt.Fprintf(&b, " (notice: %q)", e.Notice)
	}
	if e.write {
		b.WriteString(" (the registry also answers 404 when the token may not write to the package)")
	}
	if e.Err != nil && !errors.Is(e.Err, sentinelFor(e.Status)) {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap returns the sentinel or transport error.
func (e *Error) Unwrap() error { return e.Err }

func sentinelFor(status int) error {
	switch {
	case status == http.StatusUnauthorized:
		return ErrUnauthorized
	case status == http.StatusForbidden:
		return ErrForbidden
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusConflict:
		return ErrConflict
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status >= 500:
		return ErrServer
	}
	return ErrBadRequest
}
