package batch

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/npm"
	"github.com/cutover/cutover/rewrite"
)

// FlagTarget selects repositories for Flag, as for every step.
type FlagTarget = RepoTarget

// FlagOptions select what Flag does.
type FlagOptions struct {
	// On switches publishing to OIDC; false is the rollback.
	On     bool
	Target FlagTarget
	// Force turns the flag on where a check failed; it is the reason,
	// recorded in the event log with the checks it overrode.
	Force string
	// Confirm records the flip of a CircleCI pipeline's flag that a person
	// set in CircleCI, where no CircleCI API token is configured.
	Confirm bool
}

// Flag sets the feature-flag variable on the targeted repositories: on
// switches publishing to OIDC, off is the rollback. Off always applies.
//
// On first checks each repository live, and refuses it (a failed outcome
// naming the reason and the command that fixes it) unless Force is given:
// the campaign pull request is merged (asked from the forge); every
// publishing workflow on the default branch carries the flag's guard, may
// request an ID token and runs npm 11.5.1 or newer; every publishable
// package exists on the registry and its trusted publisher names exactly
// (case included) the repository, the workflow file and the environment.
//
// A repository that publishes from CircleCI reads the flag from a CircleCI
// project environment variable: Engine.CircleCI sets it; without one the
// outcome is Manual, naming the exact setting, until o.Confirm records
// that a person set it.
func (e *Engine) Flag(ctx context.Context, o FlagOptions) (Summary, error) {
	e.defaults()
	value, kind := "false", "flag off"
	if o.On {
		value, kind = "true", "flag on"
	}
	sum := Summary{Step: kind}
	names, err := e.targetRepos(ctx, o.Target)
	if err != nil {
		return sum, err
	}
	sum.Outcomes = each(ctx, e, kind, names, func(s string) string { return s }, func(ctx context.Context, name string) Outcome {
		row, err := e.Ledger.Repo(ctx, name)
		if err != nil {
			return failed(name, "not inventoried", err, "run cutover inventory")
		}
		if o.On {
			probs := e.flagChecks(ctx, row)
			if len(probs) > 0 && o.Force == "" {
				o := probs.outcome(name)
				// A pull request not merged yet is work in progress, not a
				// failure of the wave: recorded as skipped.
				rec := o
				if probs[0].pending {
					rec.Kind = Skipped
				}
				e.step(ctx, "flag", rec)
				e.event(ctx, "flag.refused", name, nil, fmt.Sprintf("flag on refused for %s: %s", name, probs))
				return o
			}
			if len(probs) > 0 {
				overrode := probs.String()
				e.Logger.Warn("--force: turning the flag on although its checks failed", "command", "flag on", "repos", []string{name}, "reason", o.Force, "overrode", overrode)
				e.event(ctx, "flag.forced", name, nil, fmt.Sprintf("flag on forced for %s: %s (overrode: %s)", name, o.Force, overrode))
			}
		}
		github, circle := publishesFrom(row)
		where := ""
		if circle {
			done, how, mo := e.flagCircleCI(ctx, name, value, o.On, o.Confirm)
			if !done {
				e.step(ctx, "flag", mo)
				return mo
			}
			where = " (" + how + ")"
		}
		if github {
			if err := e.Forge.SetVariable(ctx, e.forgeRepo(row), e.Opts.FlagVar, value); err != nil {
				o := failed(name, "set variable failed", err, "the token needs the variables (actions_variables) write permission")
				e.step(ctx, "flag", o)
				return o
			}
		}
		if err := e.Ledger.SetFlag(ctx, name, e.Opts.FlagVar, value); err != nil {
			return failed(name, "ledger error", err, "check the ledger file")
		}
		out := Outcome{Repo: name, Kind: OK, Detail: e.Opts.FlagVar + "=" + value + where}
		if o.On && o.Force != "" {
			out.Detail += " (forced: " + o.Force + ")"
		}
		e.step(ctx, "flag", out)
		return out
	})
	return sum, ctx.Err()
}

// flagProblem is one failed flag-on check.
type flagProblem struct {
	reason, detail, hint string
	// pending is true when the campaign pull request is not merged yet.
	pending bool
}

type flagProblems []flagProblem

// String is every problem with its reason, for the event log.
func (ps flagProblems) String() string {
	var parts []string
	for _, p := range ps {
		parts = append(parts, p.reason+": "+p.detail)
	}
	return strings.Join(parts, "; ")
}

// outcome is the refusal: the first problem's reason and hint, every
// problem's detail (each after the first with its reason; the first one's
// is the outcome's reason already).
func (ps flagProblems) outcome(repo string) Outcome {
	var details []string
	for i, p := range ps {
		if i > 0 {
			p.detail = p.reason + ": " + p.detail
		}
		details = append(details, p.detail)
	}
	if ps[0].reason == ReasonInterrupted {
		return interrupted(repo, strings.Join(details, "; "))
	}
	return Outcome{Repo: repo, Kind: Failed, Reason: "refused: " + ps[0].reason, Detail: strings.Join(details, "; "), Hint: ps[0].hint}
}

// flagChecks runs the flag-on checks on one repository, live.
func (e *Engine) flagChecks(ctx context.Context, row ledger.Repo) flagProblems {
	name := row.FullName
	fr := e.forgeRepo(row)
	var probs flagProblems
	add := func(reason, hint, format string, args ...any) {
		probs = append(probs, flagProblem{reason: reason, detail: fmt.Sprintf(format, args...), hint: hint})
	}
	mergeHint := fmt.Sprintf("cutover merge --repo %s --execute (or merge it on the forge), then cutover flag on --repo %s", name, name)

	// 1. The campaign pull request is merged, as the forge says now.
	ch, err := e.Ledger.Change(ctx, name)
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		// No campaign change: the repository needed none, or apply never
		// ran; the guard check below decides.
	case err != nil:
		add("ledger error", "check the ledger file", "%v", err)
		return probs
	case ch.PRNumber == 0:
		add("pull request not opened", fmt.Sprintf("cutover apply --repo %s --execute", name), "the campaign branch is pushed but its pull request was not opened")
		probs[0].pending = true
	default:
		pr, err := e.Forge.PR(ctx, fr, ch.PRNumber)
		if err != nil {
			add("forge error", "run flag on again", "%v", err) // the forge's error names the pull request
			return probs
		}
		ch.State, ch.Checks, ch.Mergeable, ch.Draft = prState(pr.State), pr.Checks, pr.Mergeable, pr.Draft
		if err := e.Ledger.RecordChange(ctx, ch); err != nil {
			e.Logger.Warn("flag: could not record the pull request state", "repo", name, "error", err)
		}
		if ch.State != ledger.ChangeMerged {
			add("pull request not merged", mergeHint, "pull request #%d is %s (checks %s): the workflows on %s do not read the flag yet", pr.Number, ch.State, pr.Checks, row.DefaultBranch)
			probs[0].pending = true
			return probs
		}
	}

	// 2. The default branch's publishing workflows carry the guard, may
	// request an ID token, and run an npm that can use trusted publishing.
	snap, _, err := e.Forge.Snapshot(ctx, fr, "", rewrite.Relevant)
	if err != nil {
		add("forge error", "check the token can read the repository's contents, then run flag on again", "%v", err) // it names the branch
		return probs
	}
	det := rewrite.Detect(rewrite.Snapshot{Repo: name, Files: snap.Files, Problems: snap.Problems}, rewrite.Options{Registry: e.Opts.Registry, FlagVar: e.Opts.FlagVar, MaxFileBytes: e.Opts.MaxFileBytes})
	if !det.Publishes {
		add("no publishing workflow", "check the workflows publish to the campaign's registry, then run cutover inventory", "no workflow on %s publishes to %s", row.DefaultBranch, e.Opts.Registry)
		return probs
	}
	applyHint := fmt.Sprintf("cutover apply --repo %s --execute, merge the pull request, then cutover flag on --repo %s", name, name)
	for _, pl := range det.Pipelines {
		var unguarded []string
		for _, f := range pl.Feeds {
			if !f.Guarded {
				unguarded = append(unguarded, fmt.Sprintf("%s:%d %s", f.File, f.Line, f.Name))
			}
		}
		if len(unguarded) > 0 {
			add("workflow not guarded", applyHint, "job %q of %s hands a token to npm whatever the flag says (%s)", pl.Job, pl.Workflow, strings.Join(unguarded, ", "))
		}
		switch {
		case pl.IDToken:
		case pl.Provider == rewrite.ProviderCircleCI:
			add("no ID token", applyHint, "job %q of %s does not export NPM_ID_TOKEN from `circleci run oidc get` before it publishes", pl.Job, pl.Workflow)
		case pl.Provider == rewrite.ProviderGitLab:
			add("no ID token", applyHint, "job %q of %s declares no id_tokens: NPM_ID_TOKEN", pl.Job, pl.Workflow)
		default:
			add("no id-token permission", applyHint, "job %q of %s may not request an ID token (permissions: id-token: write)", pl.Job, pl.Workflow)
		}
		if pl.NPMReady == "no" {
			add("npm too old", applyHint, "job %q of %s runs npm older than 11.5.1 (Node %s), which cannot use trusted publishing", pl.Job, pl.Workflow, pl.NodeVersion)
		}
	}

	// 3. Every publishable package is on the registry with a trusted
	// publisher that matches exactly.
	if e.Registry == nil {
		add("registry not available", "configure the npm registry and its login, then run flag on again", "the trusted publishers cannot be checked without the registry")
		return probs
	}
	private := map[string]bool{}
	for _, p := range det.Packages {
		private[p.Name] = !p.Publishable
	}
	trustHint := fmt.Sprintf("cutover trust --repo %s --execute, then cutover flag on --repo %s", name, name)
	for _, need := range det.Trust {
		if need.Package == "" || private[need.Package] {
			continue
		}
		want, werr := e.trustConfigFor(name, need.Repository, need.Workflow, need.Environment)
		if werr != nil {
			add("trusted publisher unknown", "configure the IDs, then "+trustHint, "%s: %v", need.Package, werr)
			continue
		}
		have, err := e.Registry.TrustList(ctx, need.Package)
		switch {
		case errors.Is(err, npm.ErrNotFound):
			add("package not on the registry", "publish its first version by hand (with 2FA), then "+trustHint,
				"%s is not on the registry (or not visible to this login): its first publish cannot use OIDC", need.Package)
		case err != nil:
			reason, hint, _ := registryFailure(err)
			add(reason, hint, "%s: %v", need.Package, err)
		case len(have) == 0:
			add("no trusted publisher", trustHint, "%s has no trusted publisher; it needs %s", need.Package, TrustWant{Repository: need.Repository, Workflow: need.Workflow, Environment: need.Environment})
		default:
			if d := trustDiff(have[0], want); len(d) > 0 {
				add("trusted publisher mismatch", fmt.Sprintf("cutover trust --repo %s --replace --execute, then cutover flag on --repo %s", name, name),
					"%s: %s", need.Package, strings.Join(d, "; "))
			}
		}
	}
	return probs
}

// workflowBase returns a workflow path's file name.
func workflowBase(p string) string { return path.Base(p) }
