package batch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/interrupt"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/npm"
	"github.com/cutover/cutover/rewrite"
)

// DefaultCanaryTag is the dist-tag a canary release is published under.
const DefaultCanaryTag = "canary"

// VerifyOptions select what Verify checks. The zero value verifies the
// newest "canary" release of each package published after the repository's
// flag went on.
type VerifyOptions struct {
	// Target selects the repositories.
	Target RepoTarget
	// Version is the canary version to check in every package; "" picks the
	// version Tag points at, provided it was published after the flag went on.
	Version string
	// Tag is the dist-tag the canary was published under; it must point at the
	// canary. "" means DefaultCanaryTag when Version is "", and no dist-tag
	// check when Version is given.
	Tag string
}

// VerifyResult is the verification of one package's canary.
type VerifyResult struct {
	// Repo is the repository.
	Repo string `json:"repo"`
	// Package is the package name.
	Package string `json:"package"`
	// Version is the canary checked; "" when none was found.
	Version string `json:"version,omitempty"`
	// Tag is the dist-tag checked, if any.
	Tag string `json:"tag,omitempty"`
	// Passed is true when every check passed.
	Passed bool `json:"passed"`
	// Checks are every check's outcome, in order; empty when nothing was checked.
	Checks []npm.Check `json:"checks,omitempty"`
	// Problem says why nothing was checked.
	Problem string `json:"problem,omitempty"`
}

// VerifyReport is the outcome of Verify: one outcome per repository and
// the per-package results.
type VerifyReport struct {
	// Summary has one outcome per repository, in target order.
	Summary Summary `json:"summary"`
	// Packages are the per-package results, by repository then package.
	Packages []VerifyResult `json:"packages"`
}

// Verify checks each publishable package's canary release in the targeted
// repositories: it exists, was published through trusted publishing, carries
// SLSA v1 provenance naming the repository and the trusted workflow (public
// repositories), its dist-tag points at it, "latest" did not move to a
// prerelease, and it is no weaker than the versions around it (npm.Verify).
// Every verification is recorded in the ledger with each check's outcome;
// the verified gate reads the latest per package.
//
// A repository whose flag is not on is skipped unless Version is given; a
// package without a canary published after the flag went on is reported and
// nothing is recorded for it, so an earlier verification stands.
func (n *NPM) Verify(ctx context.Context, o VerifyOptions) (VerifyReport, error) {
	e := n.Engine
	e.defaults()
	rep := VerifyReport{Summary: Summary{Step: "verify"}}
	repos, err := e.targetRepos(ctx, o.Target)
	if err != nil {
		return rep, err
	}
	per := make([][]VerifyResult, len(repos))
	idx := make([]int, len(repos))
	for i := range idx {
		idx[i] = i
	}
	rep.Summary.Outcomes = each(ctx, e, "verify", idx, func(i int) string { return repos[i] }, func(ctx context.Context, i int) Outcome {
		out, res := n.verifyRepo(ctx, repos[i], o)
		per[i] = res
		return out
	})
	for _, rs := range per {
		rep.Packages = append(rep.Packages, rs...)
	}
	if rep.Packages == nil {
		rep.Packages = []VerifyResult{}
	}
	return rep, ctx.Err()
}

// verifyRepo verifies one repository's packages.
func (n *NPM) verifyRepo(ctx context.Context, name string, o VerifyOptions) (Outcome, []VerifyResult) {
	e := n.Engine
	row, err := e.Ledger.Repo(ctx, name)
	if errors.Is(err, ledger.ErrNotFound) {
		return Outcome{Repo: name, Kind: Failed, Reason: "not inventoried", Detail: "the repository is not in the ledger", Hint: "run cutover inventory"}, nil
	}
	if err != nil {
		return failed(name, "ledger error", err, "check the ledger file"), nil
	}
	pkgs, err := e.Ledger.Packages(ctx, name)
	if err != nil {
		return failed(name, "ledger error", err, "check the ledger file"), nil
	}
	var after time.Time
	fl, err := e.Ledger.Flag(ctx, name, e.Opts.FlagVar)
	switch {
	case err == nil && fl.Value == "true":
		after = fl.Updated
	case err != nil && !errors.Is(err, ledger.ErrNotFound):
		return failed(name, "ledger error", err, "check the ledger file"), nil
	case o.Version == "":
		return Outcome{Repo: name, Kind: Skipped, Reason: "flag not on", Detail: fmt.Sprintf("the flag %s is not on, so no canary can have gone through OIDC yet", e.Opts.FlagVar),
			Hint: "turn it on with cutover flag on, publish a canary, then run verify (or name the version with --version)"}, nil
	}
	tag := o.Tag
	if tag == "" && o.Version == "" {
		tag = DefaultCanaryTag
	}
	var results []VerifyResult
	var failedPkgs, pending, problems, proxied []string
	checked := 0
	proxy := ""
	for _, p := range pkgs {
		if !p.Publishable || p.Private {
			continue
		}
		if px := row.Classification.ProxyFor(p.Name); px != "" {
			// Published through a registry proxy with a token: there is
			// no trusted-publishing canary to verify, and its token is
			// not displaced.
			proxied, proxy = append(proxied, p.Name), px
			continue
		}
		if ctx.Err() != nil || interrupt.Interrupted(ctx) {
			return interrupted(name, "stopped during verification"), results
		}
		r, err := n.verifyPackage(ctx, row, p, o.Version, tag, after)
		if errors.Is(err, interrupt.ErrInterrupted) {
			return interrupted(name, fmt.Sprintf("stopped during verification: %s: %v", p.Name, err)), results
		}
		if err != nil {
			reason, _, _ := registryFailure(err)
			problems = append(problems, fmt.Sprintf("%s: %s: %v", p.Name, reason, err))
			r.Problem = err.Error()
			results = append(results, r)
			continue
		}
		results = append(results, r)
		switch {
		case r.Checks == nil:
			pending = append(pending, fmt.Sprintf("%s: %s", p.Name, r.Problem))
		case !r.Passed:
			checked++
			var fs []string
			for _, c := range r.Checks {
				if !c.OK {
					fs = append(fs, string(c.Name)+": "+c.Message)
				}
			}
			failedPkgs = append(failedPkgs, fmt.Sprintf("%s@%s: %s", p.Name, r.Version, strings.Join(fs, "; ")))
		default:
			checked++
		}
	}
	switch {
	case len(problems) > 0:
		return Outcome{Repo: name, Kind: Failed, Reason: "registry error", Detail: strings.Join(problems, "; "), Hint: "run verify again"}, results
	case len(failedPkgs) > 0:
		return Outcome{Repo: name, Kind: Failed, Reason: "verification failed", Detail: strings.Join(failedPkgs, " | "),
			Hint: "the canary did not go through trusted publishing as configured: check the trusted publisher (cutover trust), the workflow and the flag, publish a new canary, then verify again"}, results
	case checked == 0 && len(pending) == 0 && len(proxied) > 0:
		return Outcome{Repo: name, Kind: Skipped, Reason: rewrite.ProxyReason(proxy), Detail: fmt.Sprintf("not verified: %s published through the registry proxy %s with a token", strings.Join(proxied, ", "), rewrite.RegistryHost(proxy)),
			Hint: "remove the proxy from the publish path and run cutover inventory again; until then the repository stays on the token-bridge path"}, results
	case checked == 0 && len(pending) == 0:
		return Outcome{Repo: name, Kind: Skipped, Reason: "nothing to verify", Detail: "the repository has no publishable package"}, results
	case checked == 0:
		return Outcome{Repo: name, Kind: Skipped, Reason: "no canary yet", Detail: strings.Join(pending, "; "),
			Hint: fmt.Sprintf("publish a canary with --tag %s from the migrated workflow, then run verify again", orDefault(tag, DefaultCanaryTag))}, results
	}
	detail := fmt.Sprintf("%d package(s) verified", checked)
	if len(pending) > 0 {
		detail += fmt.Sprintf("; no canary yet: %s", strings.Join(pending, "; "))
	}
	if len(proxied) > 0 {
		detail += fmt.Sprintf("; not verified, published through the registry proxy %s: %s", rewrite.RegistryHost(proxy), strings.Join(proxied, ", "))
	}
	return Outcome{Repo: name, Kind: OK, Detail: detail}, results
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// verifyPackage picks and verifies one package's canary and records the
// result. A result without checks (Problem set) means there was no canary
// to check; an error means the registry could not be read.
func (n *NPM) verifyPackage(ctx context.Context, row ledger.Repo, p ledger.Package, version, tag string, after time.Time) (VerifyResult, error) {
	e := n.Engine
	r := VerifyResult{Repo: row.FullName, Package: p.Name, Version: version, Tag: tag}
	pk, err := n.Registry.Packument(ctx, p.Name)
	switch {
	case errors.Is(err, npm.ErrNotFound) && version == "":
		r.Problem = "the package is not on the registry"
		return r, nil
	case errors.Is(err, npm.ErrNotFound):
		pk = &npm.Packument{Name: p.Name}
	case err != nil:
		return r, err
	}
	if version == "" {
		v, err := npm.CanaryVersion(pk, tag, after)
		if err != nil {
			r.Problem = err.Error()
			return r, nil
		}
		r.Version = v
	}
	var statements []npm.Statement
	if v := pk.Versions[r.Version]; v != nil && v.Dist.Attestations != nil {
		atts, err := n.Registry.Attestations(ctx, p.Name, r.Version)
		if err != nil && !errors.Is(err, npm.ErrNotFound) {
			return r, err
		}
		for _, a := range atts {
			st, err := a.Statement()
			if err != nil {
				e.Logger.Warn("verify: unreadable attestation", "repo", row.FullName, "package", p.Name, "version", r.Version, "predicate", a.PredicateType, "error", err)
				continue
			}
			statements = append(statements, *st)
		}
	}
	provider := providerOf(p.TrustWorkflow)
	if provider == rewrite.ProviderGitHub {
		provider = ""
	}
	res := npm.Verify(pk, statements, npm.Expectation{
		Provider: provider,
		Package:  p.Name, Version: r.Version, DistTag: tag,
		Repository: orDefault(p.TrustRepository, row.FullName), Workflow: p.TrustWorkflow,
		PublicRepo: row.Visibility == "public" || row.Visibility == "",
	})
	r.Checks, r.Passed = res.Checks, res.OK()
	checks := make([]ledger.Check, len(res.Checks))
	for i, c := range res.Checks {
		checks[i] = ledger.Check{Name: string(c.Name), OK: c.OK, Skipped: c.Skipped, Message: ledger.Redact(c.Message)}
	}
	if _, err := e.Ledger.RecordVerification(ctx, ledger.Verification{Repo: row.FullName, Package: p.Name, Version: r.Version, Tag: tag, Checks: checks}); err != nil {
		return r, fmt.Errorf("could not record the verification: %w", err)
	}
	e.Logger.Info("verified", "repo", row.FullName, "package", p.Name, "version", r.Version, "passed", r.Passed)
	return r, nil
}
