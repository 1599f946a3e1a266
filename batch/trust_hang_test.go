package batch_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/npm"
	"github.com/cutover/cutover/internal/sandbox/npmreg"
)

// countingOpen is a web login nobody approves; it counts the links shown.
type countingOpen struct {
	mu sync.Mutex
	n  int
	// then runs after a link is shown.
	then func()
}

func (c *countingOpen) open(context.Context, string) error {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	if c.then != nil {
		c.then()
	}
	return nil
}

func (c *countingOpen) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// TestTrustWebLoginNotApproved: nobody approves the web login and the
// registry forgets it (its doneUrl answers 404) before the client gives up.
// That is a two-factor failure shown once for the batch, not six packages
// "not on the registry".
func TestTrustWebLoginNotApproved(t *testing.T) {
	t.Parallel()
	env := newNPMEnv(t, npmreg.Options{})
	seedTrust(t, env)
	open := &countingOpen{}
	n := env.npm(env.client(npmBobToken, npm.WebOTP{Open: open.open, Timeout: time.Hour}))
	zero := 0
	rep, err := n.Trust(t.Context(), batch.TrustOptions{Target: batch.RepoTarget{Wave: &zero}})
	npmMust(t, err)
	if open.count() != 1 {
		t.Errorf("%d approval links shown for one batch, want 1", open.count())
	}
	failed := 0
	for _, r := range rep.Packages {
		if r.Package == "@acme/fresh" { // really not on the registry
			continue
		}
		if r.State == ledger.TrustUnpublished || strings.Contains(r.Detail, "not on the registry") {
			t.Errorf("%s reported as not on the registry: %+v", r.Package, r)
		}
		switch r.Kind {
		case batch.Failed:
			failed++
			if r.Reason != "two-factor authentication needed" || !strings.Contains(r.Detail, "expired") {
				t.Errorf("%s: %+v", r.Package, r)
			}
		case batch.Skipped:
		default:
			t.Errorf("%s: %+v", r.Package, r)
		}
	}
	if failed == 0 {
		t.Error("no package failed")
	}
	for _, p := range []string{"@acme/a", "single"} {
		repo := map[string]string{"@acme/a": "acme/mono", "single": "acme/single"}[p]
		if s := ledgerTrust(t, env, repo, p).TrustState; s == ledger.TrustUnpublished {
			t.Errorf("%s recorded as %q", p, s)
		}
	}
}

// TestTrustWebLoginInterrupted: an interrupt stops the wait for the
// approval at once, although the batch's requests run on a context that
// lets requests in flight finish.
func TestTrustWebLoginInterrupted(t *testing.T) {
	t.Parallel()
	env := newNPMEnv(t, npmreg.Options{})
	seedTrust(t, env)
	interrupt, cancel := context.WithCancel(t.Context())
	open := &countingOpen{then: cancel}
	// A real clock for the waits: without the interrupt this would wait a
	// second per poll for an hour.
	c := env.client(npmBobToken, npm.WebOTP{Open: open.open, Timeout: time.Hour, Interrupt: interrupt})
	c.Sleep = nil
	zero := 0
	start := time.Now()
	rep, err := env.npm(c).Trust(context.WithoutCancel(t.Context()), batch.TrustOptions{Target: batch.RepoTarget{Wave: &zero}})
	npmMust(t, err)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the interrupted wait took %s", d)
	}
	if open.count() != 1 {
		t.Errorf("%d approval links, want 1", open.count())
	}
	for _, r := range rep.Packages {
		if r.Package == "@acme/fresh" { // really not on the registry
			continue
		}
		if r.Kind == batch.OK || r.State == ledger.TrustUnpublished {
			t.Errorf("%s: %+v", r.Package, r)
		}
		if r.Kind == batch.Failed && r.Reason != "interrupted" {
			t.Errorf("%s: reason %q, want interrupted", r.Package, r.Reason)
		}
	}
}

// TestTrustSettingsHidden: the registry answers 404 to the trusted-publisher
// settings of a package it has (a login that may not see them). Trust says
// so instead of calling the package unpublished; a package the registry
// really does not have is still reported as unpublished.
func TestTrustSettingsHidden(t *testing.T) {
	t.Parallel()
	env := newNPMEnv(t, npmreg.Options{})
	seedTrust(t, env)
	env.setWrap(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if strings.HasSuffix(r.URL.Path, "/single/trust") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":"Not found"}`))
			return
		}
		next.ServeHTTP(w, r)
	})
	zero := 0
	rep, err := env.npm(env.client(npmAliceToken, npm.StaticOTP(npmAliceOTP))).Trust(t.Context(), batch.TrustOptions{Target: batch.RepoTarget{Wave: &zero}})
	npmMust(t, err)
	got := byPackage(rep)
	if s := got["single"]; s.Kind != batch.Failed || s.Reason != "no access to the package's settings" || s.State == ledger.TrustUnpublished || !strings.Contains(s.Hint, "maintainers") {
		t.Errorf("single: %+v", s)
	}
	if f := got["@acme/fresh"]; f.State != ledger.TrustUnpublished {
		t.Errorf("@acme/fresh: %+v", f)
	}
}
