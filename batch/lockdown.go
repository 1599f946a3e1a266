package batch

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/npm"
)

// LockdownOptions select what Lockdown does. The zero value is a dry run
// that selects nothing.
type LockdownOptions struct {
	// Target selects the repositories whose packages are locked down.
	Target RepoTarget
	// Execute changes the setting on the registry; false is a dry run.
	Execute bool
	// Undo restores each package's setting from before its lockdown.
	Undo bool
}

// Lockdown actions: what Lockdown did, or in a dry run would do, to a package.
const (
	LockdownActionNone    = "none"
	LockdownActionLock    = "lock down"
	LockdownActionRestore = "restore"
)

// LockdownResult is what Lockdown found and did for one package.
type LockdownResult struct {
	// Repo is the repository the package belongs to.
	Repo string `json:"repo"`
	// Package is the package name.
	Package string `json:"package"`
	// Verified names the canary version verified through OIDC, if any.
	Verified string `json:"verified,omitempty"`
	// From is the setting before, as far as the campaign knows ("" unknown).
	From string `json:"from,omitempty"`
	// To is the setting Lockdown set or would set.
	To string `json:"to,omitempty"`
	// Action is LockdownActionNone, LockdownActionLock or LockdownActionRestore.
	Action string `json:"action"`
	// Done is true when Action was carried out (not a dry run).
	Done bool `json:"done,omitempty"`
	// Kind is OK, Skipped, Manual or Failed.
	Kind string `json:"kind"`
	// Reason is a short, stable cause for grouping.
	Reason string `json:"reason,omitempty"`
	// Detail says what was found or done.
	Detail string `json:"detail,omitempty"`
	// Hint says what a person can do about it.
	Hint string `json:"hint,omitempty"`
}

// LockdownReport is the outcome of Lockdown for every selected package.
type LockdownReport struct {
	// Step is "lockdown", "lockdown --undo", with " (dry run)" without Execute.
	Step string `json:"step"`
	// Packages are the per-package results, by repository then package.
	Packages []LockdownResult `json:"packages"`
}

// Summary returns one outcome per package, its repository as Repo and the
// package name leading the detail.
func (r LockdownReport) Summary() Summary {
	s := Summary{Step: r.Step, Outcomes: make([]Outcome, 0, len(r.Packages))}
	for _, p := range r.Packages {
		s.Outcomes = append(s.Outcomes, Outcome{Repo: p.Repo, Kind: p.Kind, Reason: p.Reason, Detail: p.Package + ": " + p.Detail, Hint: p.Hint})
	}
	return s
}

// LockedDown counts the packages that are locked down after the run (or
// would be, in a dry run).
func (r LockdownReport) LockedDown() int {
	n := 0
	for _, p := range r.Packages {
		if p.Kind == OK && p.To == npm.MFAPublish {
			n++
		}
	}
	return n
}

// Lockdown sets the publishing access of every publishable package of the
// targeted repositories to "Require two-factor authentication and disallow
// tokens" (npm access set mfa=publish): after it, a leaked token can no
// longer publish, and trusted publishing (OIDC) still can. It refuses a
// package whose latest canary verification did not pass with the release
// published through trusted publishing (cutover verify). Each change is
// recorded in the ledger as an EventLockdown event with the setting before.
//
// With Undo it restores the setting recorded before each package's
// lockdown; the registry offers no way to read the setting, so when nothing
// earlier is recorded it restores the registry's default, "Require
// two-factor authentication or a granular access token with bypass 2FA"
// (mfa=automation), and says so.
//
// Without Execute nothing is changed. The registry's two-factor challenges
// are answered once per window by the client's OTP source, as for Trust.
func (n *NPM) Lockdown(ctx context.Context, o LockdownOptions) (LockdownReport, error) {
	e := n.Engine
	e.defaults()
	rep := LockdownReport{Step: "lockdown"}
	if o.Undo {
		rep.Step = "lockdown --undo"
	}
	if !o.Execute {
		rep.Step += " (dry run)"
	}
	pkgs, err := e.publishablePackages(ctx, o.Target)
	if err != nil {
		return rep, err
	}
	events, err := e.Ledger.Events(ctx, ledger.EventFilter{Kind: ledger.EventLockdown})
	if err != nil {
		return rep, err
	}
	state := ledger.LockdownState(events)
	verified := map[string]map[string]ledger.Verification{}
	for _, p := range pkgs {
		if verified[p.Repo] != nil {
			continue
		}
		vs, err := e.Ledger.LatestVerifications(ctx, p.Repo)
		if err != nil {
			return rep, err
		}
		verified[p.Repo] = map[string]ledger.Verification{}
		for _, v := range vs {
			verified[p.Repo][v.Package] = v
		}
	}
	rep.Packages = make([]LockdownResult, len(pkgs))
	idx := make([]int, len(pkgs))
	for i := range idx {
		idx[i] = i
	}
	var stop stopper
	outs := each(ctx, e, rep.Step, idx, func(i int) string { return pkgs[i].Repo }, func(ctx context.Context, i int) Outcome {
		p := pkgs[i]
		last, seen := state[p.Repo][p.Name]
		var r LockdownResult
		if o.Undo {
			r = n.unlockPackage(ctx, p, last, seen, o, &stop)
		} else {
			r = n.lockPackage(ctx, p, verified[p.Repo][p.Name], last, seen, o, &stop)
		}
		rep.Packages[i] = r
		return Outcome{Repo: r.Repo, Kind: r.Kind}
	})
	for i, out := range outs {
		if rep.Packages[i].Package == "" { // the worker panicked or never ran
			rep.Packages[i] = LockdownResult{Repo: pkgs[i].Repo, Package: pkgs[i].Name, Action: LockdownActionNone, Kind: out.Kind, Reason: out.Reason, Detail: out.Detail, Hint: out.Hint}
		}
	}
	return rep, ctx.Err()
}

// verifiedThroughOIDC reports whether a verification passed with the
// release published through trusted publishing.
func verifiedThroughOIDC(v ledger.Verification) bool {
	if v.ID == 0 || !v.Passed {
		return false
	}
	for _, c := range v.Checks {
		if c.Name == string(npm.CheckTrustedPublisher) {
			return c.OK && !c.Skipped
		}
	}
	return false
}

// lockPackage locks one package down; it never returns a Go error.
func (n *NPM) lockPackage(ctx context.Context, p ledger.Package, v ledger.Verification, last ledger.LockdownChange, seen bool, o LockdownOptions, stop *stopper) LockdownResult {
	r := LockdownResult{Repo: p.Repo, Package: p.Name, Action: LockdownActionNone, To: npm.MFAPublish}
	if seen {
		r.From = last.To
	}
	switch {
	case v.ID == 0:
		r.Kind, r.Reason = Skipped, "not verified"
		r.Detail = "no canary of this package was verified, so nothing proves it can publish without a token"
		r.Hint = fmt.Sprintf("release a canary through OIDC and run cutover verify --repo %s first", p.Repo)
		return r
	case !verifiedThroughOIDC(v):
		r.Kind, r.Reason = Skipped, "not verified through OIDC"
		r.Detail = fmt.Sprintf("the latest verification of %s@%s did not pass with a trusted-publishing release", v.Package, v.Version)
		r.Hint = fmt.Sprintf("fix what cutover verify --repo %s reports, release a canary, and verify it again", p.Repo)
		return r
	}
	r.Verified = v.Version
	if seen && last.To == npm.MFAPublish {
		r.Kind = OK
		r.Detail = fmt.Sprintf("already locked down (recorded %s)", last.At.UTC().Format(time.RFC3339))
		return r
	}
	r.Action = LockdownActionLock
	if !o.Execute {
		r.Kind = OK
		r.Detail = fmt.Sprintf("would require two-factor authentication and disallow tokens (canary %s verified through OIDC)", v.Version)
		return r
	}
	if err := stop.stopped(); err != nil {
		return stoppedResult(r, err)
	}
	if err := n.Registry.SetPublishAccess(ctx, p.Name, npm.MFAPublish); err != nil {
		return n.lockdownFailed(ctx, r, err, stop)
	}
	r.Done, r.Kind = true, OK
	r.Detail = fmt.Sprintf("now requires two-factor authentication and disallows tokens (canary %s verified through OIDC)", v.Version)
	return n.recordLockdown(ctx, r, false)
}

// unlockPackage restores the setting recorded before a lockdown.
func (n *NPM) unlockPackage(ctx context.Context, p ledger.Package, last ledger.LockdownChange, seen bool, o LockdownOptions, stop *stopper) LockdownResult {
	r := LockdownResult{Repo: p.Repo, Package: p.Name, Action: LockdownActionNone}
	if !seen || last.To != npm.MFAPublish {
		r.Kind, r.Reason = Skipped, "not locked down"
		r.Detail = "the ledger records no lockdown of this package to undo"
		if seen {
			r.Detail = fmt.Sprintf("its lockdown was already undone (recorded %s)", last.At.UTC().Format(time.RFC3339))
		}
		return r
	}
	r.From, r.To, r.Action = last.To, last.From, LockdownActionRestore
	note := ""
	if !npm.ValidMFA(r.To) || r.To == npm.MFAPublish {
		r.To = npm.MFAAutomation
		note = " (the setting before the lockdown is unknown, because the registry does not say; this is the registry's default)"
	}
	what := accessText(r.To) + note
	if !o.Execute {
		r.Kind, r.Detail = OK, "would restore: "+what
		return r
	}
	if err := stop.stopped(); err != nil {
		return stoppedResult(r, err)
	}
	if err := n.Registry.SetPublishAccess(ctx, p.Name, r.To); err != nil {
		return n.lockdownFailed(ctx, r, err, stop)
	}
	r.Done, r.Kind, r.Detail = true, OK, "restored: "+what
	return n.recordLockdown(ctx, r, true)
}

// accessText says what a publishing-access level means.
func accessText(level string) string {
	switch level {
	case npm.MFAPublish:
		return "two-factor authentication required, tokens disallowed (mfa=publish)"
	case npm.MFAAutomation:
		return "two-factor authentication or a granular token with bypass 2FA (mfa=automation)"
	case npm.MFANone:
		return "tokens publish without two-factor authentication (mfa=none)"
	}
	return level
}

func stoppedResult(r LockdownResult, err error) LockdownResult {
	r.Kind, r.Reason = Skipped, "not tried"
	r.Detail = fmt.Sprintf("stopped after an earlier failure: %v", err)
	r.Hint = "fix the cause and run the command again"
	return r
}

// lockdownFailed turns a registry error into a failed result and records an
// event; it stops the batch when every further call would fail the same way.
func (n *NPM) lockdownFailed(ctx context.Context, r LockdownResult, err error, stop *stopper) LockdownResult {
	reason, hint, halt := registryFailure(err)
	if halt {
		stop.stop(err)
	}
	r.Kind, r.Reason, r.Detail, r.Hint = Failed, reason, err.Error(), hint
	if reason == ReasonInterrupted {
		r.Kind = Skipped
	}
	n.Engine.npmEvent(ctx, "lockdown.failed", r.Repo, r.Package+": "+r.Detail, map[string]any{"package": r.Package, "reason": reason})
	return r
}

// recordLockdown records a change that was made on the registry.
func (n *NPM) recordLockdown(ctx context.Context, r LockdownResult, undo bool) LockdownResult {
	data, err := json.Marshal(ledger.LockdownChange{Package: r.Package, From: r.From, To: r.To, Undo: undo, By: n.by()})
	if err == nil {
		_, err = n.Engine.Ledger.AppendEvent(ctx, ledger.Event{Kind: ledger.EventLockdown, Repo: r.Repo, Message: ledger.Redact(r.Package + ": " + r.Detail), Data: data})
	}
	if err != nil {
		r.Kind, r.Reason, r.Hint = Failed, "ledger error", "check the ledger file; the registry has the new setting"
		r.Detail = "changed on the registry, but not recorded: " + err.Error()
		return r
	}
	n.Engine.Logger.Info("npm publishing access", "repo", r.Repo, "package", r.Package, "to", r.To, "undo", undo)
	return r
}
