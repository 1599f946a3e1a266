package npm_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/clocktest"
	"github.com/cutover/cutover/internal/npm"
	"github.com/cutover/cutover/internal/sandbox/npmreg"
)

// clock is a fake clock shared by the emulator and the client; the client's
// Sleep advances it, so waits take no real time, and records each wait.
type clock struct {
	*clocktest.Clock
	mu     sync.Mutex
	sleeps []time.Duration
	onWait func(n int) // called after each sleep with the count so far
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := c.Clock.Sleep(ctx, d); err != nil {
		return err
	}
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	n, hook := len(c.sleeps), c.onWait
	c.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	return nil
}

func (c *clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const prefix = "/registry"

// Distinctive values the leak test searches for.
const (
	aliceToken = "npm_ALICEdistinctiveTOKENvalue0000000001"
	bobToken   = "npm_BOBdistinctiveTOKENvalue00000000002"
	botToken   = "npm_BOTdistinctiveTOKENvalue00000000003"
	aliceOTP   = "314159"
)

type world struct {
	reg  *npmreg.Registry
	clk  *clock
	srv  *httptest.Server
	logs *syncBuffer
	// wrap, when set before requests, intercepts requests to the emulator.
	mu   sync.Mutex
	wrap func(w http.ResponseWriter, r *http.Request, next http.Handler)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newWorld(t testing.TB) *world {
	t.Helper()
	clk := &clock{Clock: clocktest.New(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))}
	reg := npmreg.New(npmreg.Options{Now: clk.Now, Seed: 42, Prefix: prefix, TokensPerPage: 2})
	w := &world{reg: reg, clk: clk, logs: &syncBuffer{}}
	must(t, reg.AddUser(npmreg.UserSpec{Name: "alice", OTP: aliceOTP}))
	must(t, reg.AddUser(npmreg.UserSpec{Name: "bob", WebAuth: true}))
	for _, s := range []npmreg.TokenSpec{
		{User: "alice", Value: aliceToken, Name: "alice-login", Session: true},
		{User: "bob", Value: bobToken, Name: "bob-login", Session: true},
		{User: "alice", Value: botToken, Name: "ci-publish", Bypass2FA: true, Created: clk.Now().Add(-30 * 24 * time.Hour), Expires: clk.Now().Add(60 * 24 * time.Hour)},
	} {
		_, err := reg.AddToken(s)
		must(t, err)
	}
	day := 24 * time.Hour
	for _, name := range []string{"@acme/widget", "@acme/gadget", "solo", "@acme/internal"} {
		must(t, reg.AddPackage(npmreg.PackageSpec{Name: name, Maintainers: []string{"alice", "bob"}, Private: name == "@acme/internal", Created: clk.Now().Add(-100 * day)}))
		must(t, reg.AddVersion(name, npmreg.VersionSpec{Version: "1.0.0", By: "alice", Published: clk.Now().Add(-90 * day)}))
	}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		wrap := w.wrap
		w.mu.Unlock()
		if wrap != nil {
			wrap(rw, r, reg)
			return
		}
		reg.ServeHTTP(rw, r)
	}))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *world) setWrap(f func(w http.ResponseWriter, r *http.Request, next http.Handler)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.wrap = f
}

// client returns a client for the emulator with the token and OTP source.
func (w *world) client(token string, otp npm.OTPSource) *npm.Client {
	return &npm.Client{
		BaseURL: w.srv.URL + prefix,
		HTTP:    w.srv.Client(),
		Token:   npm.Secret(token),
		OTP:     otp,
		Logger:  slog.New(slog.NewJSONHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:     w.clk.Now,
		Sleep:   w.clk.Sleep,
		Jitter:  func(d time.Duration) time.Duration { return d },
	}
}

// countingOTP wraps an OTPSource and counts how often it is asked.
type countingOTP struct {
	mu   sync.Mutex
	n    int
	next npm.OTPSource
}

func (c *countingOTP) OTP(ctx context.Context, ch npm.Challenge) (string, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return c.next.OTP(ctx, ch)
}

func (c *countingOTP) Count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
