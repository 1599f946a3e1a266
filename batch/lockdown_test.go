package batch_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/npm"
	"github.com/cutover/cutover/internal/sandbox/npmreg"
)

// lockdownEnv seeds acme/widget, whose canary is verified through OIDC, and
// acme/gadget, whose canary went out with a token and failed verification,
// and acme/fresh, never verified.
func lockdownEnv(t *testing.T) *npmEnv {
	t.Helper()
	e := newNPMEnv(t, npmreg.Options{})
	_, err := e.reg.AddToken(npmreg.TokenSpec{User: "alice", Value: npmCIToken, Name: "ci", Bypass2FA: true})
	npmMust(t, err)
	e.seed(t, []string{"verified"},
		npmRepo{name: "acme/widget", workflow: "release.yml", pkgs: []string{"widget"}},
		npmRepo{name: "acme/gadget", workflow: "release.yml", pkgs: []string{"gadget"}},
		npmRepo{name: "acme/fresh", workflow: "release.yml", pkgs: []string{"fresh"}},
	)
	for _, p := range []string{"widget", "gadget", "fresh"} {
		e.addPackage(t, p)
		_, err := e.reg.SetTrust(p, npmreg.TrustSpec{Repository: "acme/" + p, File: "release.yml"})
		npmMust(t, err)
	}
	e.clk.Advance(time.Hour)
	e.release(t, "acme/widget", "release.yml", "", "widget", "2.0.0-canary.1", "canary")
	npmMust(t, e.reg.PublishCanary("gadget", "2.0.0-canary.1", "canary", npmreg.PublishPath{Token: npmCIToken}))
	_, err = e.npm(e.client("", nil)).Verify(t.Context(), batch.VerifyOptions{Target: batch.RepoTarget{Repos: []string{"acme/widget", "acme/gadget"}}, Version: "2.0.0-canary.1"})
	npmMust(t, err)
	return e
}

func lockdownByPackage(rep batch.LockdownReport) map[string]batch.LockdownResult {
	m := map[string]batch.LockdownResult{}
	for _, p := range rep.Packages {
		m[p.Package] = p
	}
	return m
}

func mfaOf(t *testing.T, e *npmEnv, pkg string) string {
	t.Helper()
	m, ok := e.reg.PackageMFA(pkg)
	if !ok {
		t.Fatalf("package %q is not on the registry", pkg)
	}
	return m
}

func TestLockdown(t *testing.T) {
	t.Parallel()
	e := lockdownEnv(t)
	ctx := t.Context()
	wave := 0
	n := e.npm(e.client(npmAliceToken, npm.StaticOTP(npmAliceOTP)))

	// A dry run changes nothing and refuses the unverified packages.
	rep, err := n.Lockdown(ctx, batch.LockdownOptions{Target: batch.RepoTarget{Wave: &wave}})
	npmMust(t, err)
	got := lockdownByPackage(rep)
	if w := got["widget"]; w.Kind != batch.OK || w.Action != batch.LockdownActionLock || w.Done || w.Verified != "2.0.0-canary.1" {
		t.Errorf("widget (dry run): %+v", w)
	}
	if g := got["gadget"]; g.Kind != batch.Skipped || g.Reason != "not verified through OIDC" || !strings.Contains(g.Hint, "cutover verify --repo acme/gadget") {
		t.Errorf("gadget: %+v", g)
	}
	if f := got["fresh"]; f.Kind != batch.Skipped || f.Reason != "not verified" {
		t.Errorf("fresh: %+v", f)
	}
	if e.count("POST", "/access") != 0 || mfaOf(t, e, "widget") != npmreg.MFAAutomation {
		t.Fatalf("a dry run changed the registry")
	}
	if rep.LockedDown() != 1 || rep.Step != "lockdown (dry run)" {
		t.Errorf("dry run: %d locked down, step %q", rep.LockedDown(), rep.Step)
	}

	// Executed: widget is locked down and the change recorded.
	rep, err = n.Lockdown(ctx, batch.LockdownOptions{Target: batch.RepoTarget{Wave: &wave}, Execute: true})
	npmMust(t, err)
	if w := lockdownByPackage(rep)["widget"]; w.Kind != batch.OK || !w.Done {
		t.Fatalf("widget: %+v", w)
	}
	for p, want := range map[string]string{"widget": npmreg.MFAPublish, "gadget": npmreg.MFAAutomation, "fresh": npmreg.MFAAutomation} {
		if got := mfaOf(t, e, p); got != want {
			t.Errorf("%s: publishing access %q, want %q", p, got, want)
		}
	}
	evs, err := e.led.Events(ctx, ledger.EventFilter{Kind: ledger.EventLockdown})
	npmMust(t, err)
	if len(evs) != 1 || evs[0].Repo != "acme/widget" {
		t.Fatalf("lockdown events: %+v", evs)
	}
	var ch ledger.LockdownChange
	npmMust(t, json.Unmarshal(evs[0].Data, &ch))
	if ch.Package != "widget" || ch.To != "publish" || ch.From != "" || ch.Undo || ch.By != "test" {
		t.Errorf("recorded change: %+v", ch)
	}

	// The registry enforces it: a token publish fails, an OIDC publish passes.
	err = e.reg.PublishCanary("widget", "2.0.1", "latest", npmreg.PublishPath{Token: npmCIToken})
	if err == nil || !strings.Contains(err.Error(), "disallows tokens") {
		t.Errorf("token publish on a locked-down package: %v", err)
	}
	e.release(t, "acme/widget", "release.yml", "", "widget", "2.0.1", "latest")

	// Again: nothing to do, no registry call.
	before := e.count("POST", "/access")
	rep, err = n.Lockdown(ctx, batch.LockdownOptions{Target: batch.RepoTarget{Repos: []string{"acme/widget"}}, Execute: true})
	npmMust(t, err)
	if w := lockdownByPackage(rep)["widget"]; w.Kind != batch.OK || w.Done || !strings.Contains(w.Detail, "already locked down") {
		t.Errorf("widget again: %+v", w)
	}
	if e.count("POST", "/access") != before {
		t.Errorf("a second lockdown called the registry")
	}

	// Undo restores the default (the registry does not say what it was).
	rep, err = n.Lockdown(ctx, batch.LockdownOptions{Target: batch.RepoTarget{Wave: &wave}, Execute: true, Undo: true})
	npmMust(t, err)
	got = lockdownByPackage(rep)
	if w := got["widget"]; w.Kind != batch.OK || !w.Done || w.To != npm.MFAAutomation || !strings.Contains(w.Detail, "unknown") {
		t.Errorf("widget undo: %+v", w)
	}
	if g := got["gadget"]; g.Kind != batch.Skipped || g.Reason != "not locked down" {
		t.Errorf("gadget undo: %+v", g)
	}
	if m := mfaOf(t, e, "widget"); m != npmreg.MFAAutomation {
		t.Errorf("after undo: %q", m)
	}
	npmMust(t, e.reg.PublishCanary("widget", "2.0.2", "latest", npmreg.PublishPath{Token: npmCIToken}))

	// Locking down again records what it was before: the undo's setting.
	_, err = n.Lockdown(ctx, batch.LockdownOptions{Target: batch.RepoTarget{Repos: []string{"acme/widget"}}, Execute: true})
	npmMust(t, err)
	state := ledger.LockdownState(mustEvents(t, e))
	if c := state["acme/widget"]["widget"]; c.To != "publish" || c.From != "automation" {
		t.Errorf("second lockdown recorded %+v", c)
	}
	// But the widget's new token release broke verification: the latest
	// verification is what counts.
	_, err = e.npm(e.client("", nil)).Verify(ctx, batch.VerifyOptions{Target: batch.RepoTarget{Repos: []string{"acme/widget"}}, Version: "2.0.2"})
	npmMust(t, err)
	rep, err = n.Lockdown(ctx, batch.LockdownOptions{Target: batch.RepoTarget{Repos: []string{"acme/widget"}}})
	npmMust(t, err)
	if w := lockdownByPackage(rep)["widget"]; w.Kind != batch.Skipped {
		t.Errorf("widget after a failed verification: %+v", w)
	}
	if logs := e.logs.String(); strings.Contains(logs, npmAliceToken) || strings.Contains(logs, npmCIToken) {
		t.Error("a token reached the log")
	}
}

func mustEvents(t *testing.T, e *npmEnv) []ledger.Event {
	t.Helper()
	evs, err := e.led.Events(t.Context(), ledger.EventFilter{})
	npmMust(t, err)
	return evs
}

func TestLockdownAuth(t *testing.T) {
	t.Parallel()
	wave := 0
	for _, tt := range []struct {
		name   string
		token  string
		otp    npm.OTPSource
		reason string
	}{
		{name: "a token that bypasses 2FA", token: npmCIToken, otp: npm.StaticOTP(npmAliceOTP), reason: "not allowed by the registry"},
		{name: "no one-time password", token: npmAliceToken, reason: "two-factor authentication needed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := lockdownEnv(t)
			rep, err := e.npm(e.client(tt.token, tt.otp)).Lockdown(t.Context(), batch.LockdownOptions{Target: batch.RepoTarget{Wave: &wave}, Execute: true})
			npmMust(t, err)
			w := lockdownByPackage(rep)["widget"]
			if w.Kind != batch.Failed || w.Reason != tt.reason {
				t.Errorf("widget: %+v", w)
			}
			if m := mfaOf(t, e, "widget"); m != npmreg.MFAAutomation {
				t.Errorf("publishing access changed to %q", m)
			}
			if evs, _ := e.led.Events(t.Context(), ledger.EventFilter{Kind: ledger.EventLockdown}); len(evs) != 0 {
				t.Errorf("a failed change was recorded: %+v", evs)
			}
		})
	}
}
