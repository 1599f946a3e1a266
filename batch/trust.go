package batch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/npm"
	"github.com/cutover/cutover/rewrite"
)

// TrustOptions select what Trust does. The zero value is a dry run that
// selects nothing.
type TrustOptions struct {
	// Target selects the repositories whose publishable packages are configured.
	Target RepoTarget
	// Execute creates (and with Replace, replaces) configurations; false is a dry run.
	Execute bool
	// Replace deletes a configuration that names something else and creates the right one.
	Replace bool
}

// Trust actions: what Trust did, or in a dry run would do, to a package.
const (
	TrustActionNone    = "none"
	TrustActionCreate  = "create"
	TrustActionReplace = "replace"
)

// TrustWant is the trusted publisher a package needs: the repository, the
// calling workflow's file name and the environment, as detection found them.
type TrustWant struct {
	Repository  string `json:"repository"`
	Workflow    string `json:"workflow"`
	Environment string `json:"environment,omitempty"`
}

// String describes the trusted publisher in one line, in the words of its
// provider.
func (w TrustWant) String() string {
	var s string
	switch providerOf(w.Workflow) {
	case rewrite.ProviderGitLab:
		s = fmt.Sprintf("GitLab project %q, CI file %q", w.Repository, w.Workflow)
	case rewrite.ProviderCircleCI:
		return fmt.Sprintf("the CircleCI project of %q (its [[circleci.project]] IDs)", w.Repository)
	default:
		s = fmt.Sprintf("repository %q, workflow %q", w.Repository, w.Workflow)
	}
	if w.Environment != "" {
		s += fmt.Sprintf(", environment %q", w.Environment)
	}
	return s
}

// TrustResult is what Trust found and did for one package.
type TrustResult struct {
	// Repo is the repository the package belongs to.
	Repo string `json:"repo"`
	// Package is the package name.
	Package string `json:"package"`
	// Want is the trusted publisher the package needs.
	Want TrustWant `json:"want"`
	// State is the trust state recorded in the ledger; "" when the registry
	// could not be asked.
	State string `json:"state,omitempty"`
	// Action is TrustActionNone, TrustActionCreate or TrustActionReplace.
	Action string `json:"action,omitempty"`
	// Done is true when Action was carried out (not a dry run).
	Done bool `json:"done,omitempty"`
	// Diff lists how the registry's configuration differs from Want.
	Diff []string `json:"diff,omitempty"`
	// Kind is OK, Skipped, Manual or Failed.
	Kind string `json:"kind"`
	// Reason is a short, stable cause for grouping.
	Reason string `json:"reason,omitempty"`
	// Detail says what was found or done.
	Detail string `json:"detail,omitempty"`
	// Hint says what a person can do about it.
	Hint string `json:"hint,omitempty"`
}

// TrustReport is the outcome of Trust for every selected package, in plan
// order.
type TrustReport struct {
	// Step is "trust" or "trust (dry run)".
	Step string `json:"step"`
	// Packages are the per-package results.
	Packages []TrustResult `json:"packages"`
}

// Summary returns one outcome per package, its repository as Repo and the
// package name leading the detail.
func (r TrustReport) Summary() Summary {
	s := Summary{Step: r.Step, Outcomes: make([]Outcome, 0, len(r.Packages))}
	for _, p := range r.Packages {
		s.Outcomes = append(s.Outcomes, Outcome{Repo: p.Repo, Kind: p.Kind, Reason: p.Reason, Detail: p.Package + ": " + p.Detail, Hint: p.Hint})
	}
	return s
}

// Trust brings the trusted-publisher configuration of every publishable
// package of the targeted repositories to what detection says it needs: it
// reads each package's configuration, creates a missing one, reports one that
// names another repository, workflow file (case included) or environment,
// and replaces it only with Replace. A package the registry does not know is
// reported as unpublished: its first publish cannot use OIDC. Without Execute
// nothing is changed on the registry. Every outcome is recorded with
// ledger.SetTrust and an event.
//
// Packages are handled in the engine's pool; the registry's two-factor
// challenges are answered once per window by the client's OTP source. An
// authentication failure stops the packages not yet started.
func (n *NPM) Trust(ctx context.Context, o TrustOptions) (TrustReport, error) {
	e := n.Engine
	e.defaults()
	rep := TrustReport{Step: "trust"}
	if !o.Execute {
		rep.Step = "trust (dry run)"
	}
	pkgs, err := e.publishablePackages(ctx, o.Target)
	if err != nil {
		return rep, err
	}
	rep.Packages = make([]TrustResult, len(pkgs))
	idx := make([]int, len(pkgs))
	for i := range idx {
		idx[i] = i
	}
	var stop stopper
	outs := each(ctx, e, rep.Step, idx, func(i int) string { return pkgs[i].Repo }, func(ctx context.Context, i int) Outcome {
		r := n.trustPackage(ctx, pkgs[i], o, &stop)
		rep.Packages[i] = r
		return Outcome{Repo: r.Repo, Kind: r.Kind}
	})
	for i, out := range outs {
		if rep.Packages[i].Package == "" { // the worker panicked or never ran
			p := pkgs[i]
			rep.Packages[i] = TrustResult{Repo: p.Repo, Package: p.Name, Want: wantOf(p), Kind: out.Kind, Reason: out.Reason, Detail: out.Detail, Hint: out.Hint}
		}
	}
	return rep, ctx.Err()
}

// publishablePackages returns the publishable packages of the targeted
// repositories, in plan (or given) order, then by name.
func (e *Engine) publishablePackages(ctx context.Context, t RepoTarget) ([]ledger.Package, error) {
	if t.Wave != nil && len(t.Repos) == 0 && len(t.Skip) == 0 && len(t.Topics) == 0 {
		if _, err := e.Ledger.Wave(ctx, *t.Wave); err != nil {
			return nil, fmt.Errorf("wave %d: %w (run cutover plan first)", *t.Wave, err)
		}
		return e.Ledger.PackagesInWave(ctx, *t.Wave)
	}
	repos, err := e.targetRepos(ctx, t)
	if err != nil {
		return nil, err
	}
	var out []ledger.Package
	for _, r := range repos {
		if _, err := e.Ledger.Repo(ctx, r); err != nil {
			return nil, fmt.Errorf("repository %q: %w (run cutover inventory first)", r, err)
		}
		ps, err := e.Ledger.Packages(ctx, r)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			if p.Publishable && !p.Private {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

func wantOf(p ledger.Package) TrustWant {
	return TrustWant{Repository: p.TrustRepository, Workflow: p.TrustWorkflow, Environment: p.TrustEnvironment}
}

// trustDiff lists how have differs from want in what npm matches, and
// whether have allows npm publish at all (a stage-only configuration does
// not; an empty permission list is an older configuration, publish only).
func trustDiff(have, want npm.TrustConfig) []string {
	d := npm.TrustDiff(have, want)
	if len(have.Permissions) > 0 && !slices.Contains(have.Permissions, npm.PermissionPublish) {
		d = append(d, fmt.Sprintf("permissions are %q, which do not allow npm publish (%q)", have.Permissions, npm.PermissionPublish))
	}
	return d
}

// trustPackage handles one package; it never returns a Go error.
func (n *NPM) trustPackage(ctx context.Context, p ledger.Package, o TrustOptions, stop *stopper) TrustResult {
	r := TrustResult{Repo: p.Repo, Package: p.Name, Want: wantOf(p)}
	if err := stop.stopped(); err != nil {
		r.Kind, r.Reason = Skipped, "not tried"
		r.Detail = fmt.Sprintf("stopped after an earlier failure: %v", err)
		r.Hint = "fix the cause and run the command again"
		return r
	}
	if proxy, err := n.Engine.packageProxy(ctx, p); err != nil || proxy != "" {
		if err != nil {
			r.Kind, r.Reason, r.Detail, r.Hint = Failed, "ledger error", err.Error(), "check the ledger file"
			return r
		}
		r.Want = TrustWant{}
		r.Kind, r.Reason = Skipped, rewrite.ProxyReason(proxy)
		r.Detail = fmt.Sprintf("not configured: the package is published through the registry proxy %s with a token, and a trusted publisher would serve no publish", rewrite.RegistryHost(proxy))
		r.Hint = "remove the proxy from the publish path and run cutover inventory again; until then the repository stays on the token-bridge path"
		n.Engine.npmEvent(ctx, "trust.skipped", r.Repo, r.Package+": "+r.Reason, map[string]any{"package": r.Package, "reason": r.Reason})
		return r
	}
	if r.Want.Repository == "" || r.Want.Workflow == "" {
		r.Kind, r.Reason = Manual, "no publishing workflow known"
		r.Detail = "detection found no workflow that publishes this package, so the trusted publisher's repository and workflow file are unknown"
		r.Hint = "check the repository's release workflow, then run cutover inventory again"
		return r
	}
	want, err := n.Engine.trustConfigFor(p.Repo, r.Want.Repository, r.Want.Workflow, r.Want.Environment)
	if err != nil {
		r.Kind, r.Reason = Manual, "CircleCI IDs not configured"
		r.Detail = err.Error()
		r.Hint = "add the [[circleci.project]] table, then run cutover trust again"
		return r
	}
	have, err := n.Registry.TrustList(ctx, p.Name)
	if errors.Is(err, npm.ErrNotFound) && !errors.Is(err, npm.ErrOTPRequired) {
		// The registry answers 404 to a login that may not see a package's
		// settings as well as for a package it does not have: ask the
		// package itself before calling it unpublished.
		if _, perr := n.Registry.Packument(ctx, p.Name); perr == nil {
			r.Action, r.Kind, r.Reason = TrustActionNone, Failed, "no access to the package's settings"
			r.Detail = "the package is on the registry, but the registry answered 404 to its trusted-publisher settings: " + err.Error()
			r.Hint = "log in as one of the package's maintainers (npm owner ls " + p.Name + "), then run cutover trust again"
			n.Engine.npmEvent(ctx, "trust.failed", r.Repo, r.Package+": "+r.Detail, map[string]any{"package": r.Package, "reason": r.Reason})
			return r
		} else if !errors.Is(perr, npm.ErrNotFound) {
			return n.trustFailed(ctx, r, perr, stop)
		}
		r.State, r.Action, r.Kind, r.Reason = ledger.TrustUnpublished, TrustActionNone, Manual, "not on the registry"
		r.Detail = "the package is not on the registry yet (or not visible to this login), and its first publish cannot use OIDC"
		r.Hint = "publish the first version by hand (with 2FA) or with a token, then run cutover trust again; for a private package, log in as one of its maintainers"
		return n.recordTrust(ctx, r, o)
	}
	if err != nil {
		return n.trustFailed(ctx, r, err, stop)
	}
	if len(have) == 0 {
		r.Action = TrustActionCreate
		if !o.Execute {
			r.State, r.Kind = ledger.TrustMissing, OK
			r.Detail = "no trusted publisher; would create one: " + r.Want.String()
			return n.recordTrust(ctx, r, o)
		}
		return n.trustCreate(ctx, r, want, o, stop)
	}
	cur := have[0]
	r.Diff = trustDiff(cur, want)
	switch {
	case len(r.Diff) == 0:
		r.State, r.Action, r.Kind = ledger.TrustConfigured, TrustActionNone, OK
		r.Detail = "already configured: " + r.Want.String()
		return n.recordTrust(ctx, r, o)
	case !o.Replace:
		r.State, r.Action, r.Kind, r.Reason = ledger.TrustMismatch, TrustActionNone, Manual, "trusted publisher mismatch"
		r.Detail = "the registry's trusted publisher differs: " + strings.Join(r.Diff, "; ")
		r.Hint = "check the differences, then run cutover trust --replace --execute to replace it"
		return n.recordTrust(ctx, r, o)
	case !o.Execute:
		r.State, r.Action, r.Kind = ledger.TrustMismatch, TrustActionReplace, OK
		r.Detail = "would replace the trusted publisher: " + strings.Join(r.Diff, "; ")
		return n.recordTrust(ctx, r, o)
	}
	r.Action = TrustActionReplace
	if err := n.Registry.TrustDelete(ctx, p.Name, cur.ID); err != nil && !errors.Is(err, npm.ErrNotFound) {
		return n.trustFailed(ctx, r, err, stop)
	}
	return n.trustCreate(ctx, r, want, o, stop)
}

// trustCreate creates the configuration; a 409 means someone configured
// the package since it was read, and the configuration is read again.
func (n *NPM) trustCreate(ctx context.Context, r TrustResult, want npm.TrustConfig, o TrustOptions, stop *stopper) TrustResult {
	replaced := r.Action == TrustActionReplace
	_, err := n.Registry.TrustCreate(ctx, r.Package, want)
	if errors.Is(err, npm.ErrConflict) {
		have, lerr := n.Registry.TrustList(ctx, r.Package)
		if lerr != nil {
			return n.trustFailed(ctx, r, lerr, stop)
		}
		if len(have) > 0 {
			r.Diff = trustDiff(have[0], want)
		}
		if len(have) > 0 && len(r.Diff) == 0 {
			r.State, r.Action, r.Kind = ledger.TrustConfigured, TrustActionNone, OK
			r.Detail = "already configured (the registry answered 409): " + r.Want.String()
			return n.recordTrust(ctx, r, o)
		}
		r.State, r.Action, r.Kind, r.Reason = ledger.TrustMismatch, TrustActionNone, Manual, "trusted publisher mismatch"
		r.Detail = "someone configured another trusted publisher meanwhile (409): " + strings.Join(r.Diff, "; ")
		r.Hint = "check the differences, then run cutover trust --replace --execute to replace it"
		return n.recordTrust(ctx, r, o)
	}
	if err != nil {
		return n.trustFailed(ctx, r, err, stop)
	}
	r.State, r.Kind, r.Done = ledger.TrustConfigured, OK, true
	if replaced {
		r.Detail = fmt.Sprintf("replaced the trusted publisher (%s) with: %s", strings.Join(r.Diff, "; "), r.Want)
	} else {
		r.Detail = "created the trusted publisher: " + r.Want.String()
	}
	return n.recordTrust(ctx, r, o)
}

// trustFailed turns a registry error into a failed result, records an
// event, and stops the batch when the error would repeat for every package.
func (n *NPM) trustFailed(ctx context.Context, r TrustResult, err error, stop *stopper) TrustResult {
	reason, hint, halt := registryFailure(err)
	if halt {
		stop.stop(err)
	}
	r.Kind, r.Reason, r.Detail, r.Hint = Failed, reason, err.Error(), hint
	if reason == ReasonInterrupted {
		r.Kind = Skipped
	}
	n.Engine.npmEvent(ctx, "trust.failed", r.Repo, r.Package+": "+r.Detail, map[string]any{"package": r.Package, "reason": reason})
	return r
}

// recordTrust records the state in the ledger and an event.
func (n *NPM) recordTrust(ctx context.Context, r TrustResult, o TrustOptions) TrustResult {
	e := n.Engine
	detail := r.Detail
	if r.State == ledger.TrustMismatch {
		detail = strings.Join(r.Diff, "; ")
	}
	if err := e.Ledger.SetTrust(ctx, r.Repo, r.Package, r.State, ledger.Redact(detail)); err != nil {
		r.Kind, r.Reason, r.Detail, r.Hint = Failed, "ledger error", err.Error(), "check the ledger file"
		return r
	}
	kind := "trust." + r.State
	switch {
	case r.Done && r.Action == TrustActionReplace:
		kind = "trust.replaced"
	case r.Done:
		kind = "trust.created"
	}
	msg := r.Package + ": " + r.Detail
	if !o.Execute {
		msg += " (dry run)"
	}
	e.npmEvent(ctx, kind, r.Repo, msg, map[string]any{
		"package": r.Package, "state": r.State, "action": r.Action, "done": r.Done, "dry_run": !o.Execute,
		"repository": r.Want.Repository, "workflow": r.Want.Workflow, "environment": r.Want.Environment,
	})
	e.Logger.Debug("trust", "repo", r.Repo, "package", r.Package, "state", r.State, "action", r.Action, "done", r.Done)
	return r
}

// packageProxy returns the registry proxy a package is published through,
// per its repository's last detection; "" when it is not.
func (e *Engine) packageProxy(ctx context.Context, p ledger.Package) (string, error) {
	row, err := e.Ledger.Repo(ctx, p.Repo)
	if errors.Is(err, ledger.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return row.Classification.ProxyFor(p.Name), nil
}
