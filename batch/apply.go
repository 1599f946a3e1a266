package batch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/cutover/cutover/internal/circleci"
	"github.com/cutover/cutover/internal/forge"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/rewrite"
	"github.com/cutover/cutover/templates"
)

// GateError is returned when a wave may not start because the wave before
// it has not met its gate.
type GateError struct {
	Wave    int
	Reasons []string
}

func (e *GateError) Error() string {
	return fmt.Sprintf("wave %d may not start: wave %d has not met its gate: %s (use --force with a reason to override)", e.Wave, e.Wave-1, strings.Join(e.Reasons, "; "))
}

// ApplyOptions select what Apply does.
type ApplyOptions struct {
	// Wave is the wave to apply.
	Wave int
	// Execute pushes branches and opens pull requests; false is a dry run.
	Execute bool
	// Force starts the wave even if the previous gate is not met; it is the
	// reason recorded in the event log.
	Force string
	// Repos, when set, limits the run to these repositories (retry).
	Repos []string
	// Select narrows the wave's members (--repo, --skip-repo, --topic,
	// --repos-file); a repository named must be a member. The gate still
	// applies.
	Select Selection
}

// Apply rewrites every repository of a wave and, with Execute, pushes the
// campaign branch and opens or updates its pull request. Running it again
// finishes what an interrupted run left and duplicates nothing.
func (e *Engine) Apply(ctx context.Context, o ApplyOptions) (Summary, error) {
	e.defaults()
	sum := Summary{Step: "apply"}
	if !o.Execute {
		sum.Step = "apply (dry run)"
	}
	waves, err := e.Ledger.Waves(ctx)
	if err != nil {
		return sum, err
	}
	var wave *ledger.Wave
	for i := range waves {
		if waves[i].Number == o.Wave {
			wave = &waves[i]
		}
	}
	if wave == nil {
		return sum, fmt.Errorf("wave %d is not planned: run cutover plan first (planned waves: %d)", o.Wave, len(waves))
	}
	if o.Wave > 0 && len(o.Repos) == 0 {
		res, err := e.gate(ctx, waves, o.Wave-1)
		if err != nil {
			return sum, err
		}
		if !res.OK && !o.Execute {
			// A dry run starts nothing: show it, and say the gate is closed.
			e.Logger.Warn("the previous wave has not met its gate; --execute will be refused", "wave", o.Wave-1, "reasons", strings.Join(res.Reasons, "; "))
		}
		if !res.OK && o.Execute {
			if o.Force == "" {
				return sum, &GateError{Wave: o.Wave, Reasons: res.Reasons}
			}
			e.Logger.Warn(fmt.Sprintf("--force: starting wave %d although wave %d has not met its gate", o.Wave, o.Wave-1),
				"command", "apply", "wave", o.Wave, "repos", wave.Members, "reason", o.Force, "overrode", strings.Join(res.Reasons, "; "))
			e.event(ctx, "gate.forced", "", &o.Wave, fmt.Sprintf("gate of wave %d overridden: %s (was: %s)", o.Wave-1, o.Force, strings.Join(res.Reasons, "; ")))
		}
		if res.OK && o.Force != "" {
			e.Logger.Info(fmt.Sprintf("--force: wave %d has met its gate, so nothing is overridden", o.Wave-1), "command", "apply", "wave", o.Wave, "reason", o.Force)
		}
	}
	members := wave.Members
	if len(o.Repos) > 0 {
		members = o.Repos
	}
	if !o.Select.IsZero() {
		chosen, err := e.Select(ctx, members, o.Select)
		if err != nil {
			return sum, err
		}
		for _, n := range o.Select.Repos {
			if !slices.ContainsFunc(chosen, func(c string) bool { return strings.EqualFold(c, n) }) &&
				!slices.ContainsFunc(members, func(m string) bool { return strings.EqualFold(m, n) }) {
				return sum, fmt.Errorf("%s is not in wave %d: apply the wave it is in (cutover plan lists them)", n, o.Wave)
			}
		}
		if len(chosen) == 0 {
			return sum, fmt.Errorf("no repositories of wave %d left: --skip-repo and --topic leave none of its %d", o.Wave, len(members))
		}
		members = chosen
	}
	if o.Execute && len(members) > 0 {
		if err := e.preflight(ctx, members[0]); err != nil {
			return sum, err
		}
	}
	if o.Execute {
		if err := e.Ledger.SetWaveState(ctx, o.Wave, ledger.WaveRunning, ""); err != nil {
			return sum, err
		}
	}
	sum.Outcomes = each(ctx, e, sum.Step, members, func(s string) string { return s }, func(ctx context.Context, name string) Outcome {
		out := e.applyRepo(ctx, name, o.Execute)
		if o.Execute {
			e.step(ctx, "apply", out)
		}
		return out
	})
	if o.Execute && ctx.Err() == nil {
		if err := e.Ledger.SetWaveState(ctx, o.Wave, ledger.WaveGated, ""); err != nil {
			return sum, err
		}
		e.event(ctx, "wave.applied", "", &o.Wave, fmt.Sprintf("wave %d applied: %d ok, %d manual, %d failed", o.Wave, sum.Count(OK), sum.Count(Manual), sum.Count(Failed)))
	}
	return sum, ctx.Err()
}

// preflight checks, before the first write of a run, that the identity has
// every permission the campaign needs, when the forge can tell.
func (e *Engine) preflight(ctx context.Context, name string) error {
	pf, ok := e.Forge.(forge.Preflighter)
	if !ok {
		return nil
	}
	row, err := e.Ledger.Repo(ctx, name)
	if err != nil {
		return err
	}
	if err := pf.Preflight(ctx, e.forgeRepo(row)); err != nil {
		if errors.Is(err, forge.ErrPermission) {
			return fmt.Errorf("preflight on %s: %w; nothing was written: grant what is missing (a fine-grained token's repository permissions, a classic token's scopes, or the GitHub App's permissions) or use an identity that has it, then run apply again", name, err)
		}
		return fmt.Errorf("preflight on %s: %w", name, err)
	}
	return nil
}

func (e *Engine) forgeRepo(r ledger.Repo) forge.Repo {
	return forge.Repo{FullName: r.FullName, ID: r.ID, DefaultBranch: r.DefaultBranch, Visibility: r.Visibility, CloneURL: r.CloneURL}
}

// applyRepo runs the oidc playbook on one repository.
func (e *Engine) applyRepo(ctx context.Context, name string, execute bool) Outcome {
	row, err := e.Ledger.Repo(ctx, name)
	if errors.Is(err, ledger.ErrNotFound) {
		return Outcome{Repo: name, Kind: Failed, Reason: "not inventoried", Detail: "the repository is not in the ledger", Hint: "run cutover inventory"}
	}
	if err != nil {
		return failed(name, "ledger error", err, "check the ledger file")
	}
	fr := e.forgeRepo(row)
	snap, _, err := e.Forge.Snapshot(ctx, fr, "", rewrite.Relevant)
	if err != nil {
		return failed(name, "snapshot failed", err, "check the token can read the repository's contents")
	}
	res, err := rewrite.Rewrite(rewrite.Snapshot{Repo: name, Files: snap.Files, Problems: snap.Problems}, rewrite.RewriteOptions{
		Registry: e.Opts.Registry, FlagVar: e.Opts.FlagVar, NPMVersion: e.Opts.NPMVersion, MaxFileBytes: e.Opts.MaxFileBytes,
	})
	if err != nil {
		return failed(name, "rewrite failed", err, "check the campaign's flag variable and npm version")
	}
	files := map[string][]byte{}
	var manual, todo []string
	for _, f := range res.Files {
		switch f.Status {
		case rewrite.StatusManual:
			for _, r := range f.Reasons {
				manual = append(manual, f.Path+": "+r)
			}
		case rewrite.StatusRewritten:
			files[f.Path] = f.After
		}
		for _, s := range f.ManualSteps {
			todo = append(todo, f.Path+": "+s)
		}
	}
	if len(manual) > 0 {
		return Outcome{Repo: name, Kind: Manual, Reason: "needs manual work", Detail: strings.Join(manual, "; "), Hint: "edit the workflow by hand or fix the cause, then run apply again"}
	}
	if len(files) == 0 {
		return Outcome{Repo: name, Kind: Skipped, Reason: "nothing to change", Detail: "no token-publishing workflow left to rewrite on " + row.DefaultBranch}
	}
	if !execute {
		// The diff is made only here, where it is shown; rewrite's is
		// linear in the file size.
		var diff strings.Builder
		for _, f := range res.Files {
			if f.Status == rewrite.StatusRewritten {
				diff.WriteString(rewrite.UnifiedDiff(f.Path, f.Before, f.After))
			}
		}
		return Outcome{Repo: name, Kind: OK, Detail: fmt.Sprintf("would change %d file(s)", len(files)), Diff: diff.String()}
	}
	prev, err := e.Ledger.Change(ctx, name)
	if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		return failed(name, "ledger error", err, "check the ledger file")
	}
	title, body, err := e.prText(name, res, todo)
	if err != nil {
		return failed(name, "template error", err, "")
	}
	push, err := e.Forge.Push(ctx, fr, forge.Change{
		Branch: e.Opts.Branch, Base: row.DefaultBranch, Files: files, Author: e.Opts.Author,
		Message: title + "\n\n" + "Made by cutover, campaign " + e.Opts.Campaign + ".", LastPushed: prev.PushedSHA,
	})
	switch {
	case errors.Is(err, forge.ErrForeignBranch):
		return failed(name, "branch changed by someone else", err, fmt.Sprintf("delete or rename branch %s, or remove the commits others added, then run apply again", e.Opts.Branch))
	case errors.Is(err, forge.ErrPermission):
		return failed(name, "missing permission", err, "give the token the permission named in the error")
	case err != nil:
		return failed(name, "push failed", err, "run apply again; pushes are idempotent")
	}
	ch := ledger.Change{Repo: name, Branch: e.Opts.Branch, Base: row.DefaultBranch, Playbook: string(rewrite.PlaybookOIDC), PushedSHA: push.SHA, State: ledger.ChangeOpen, PRNumber: prev.PRNumber, URL: prev.URL, Title: title}
	if err := e.Ledger.RecordChange(ctx, ch); err != nil {
		return failed(name, "ledger error", err, "check the ledger file")
	}
	pr, err := e.Forge.EnsurePR(ctx, fr, forge.PRSpec{
		Head: e.Opts.Branch, Base: row.DefaultBranch, Title: title, Body: body, Draft: e.Opts.PR.Draft,
		Labels: e.Opts.PR.Labels, Reviewers: e.Opts.PR.Reviewers, TeamReviewers: e.Opts.PR.TeamReviewers, Assignees: e.Opts.PR.Assignees,
	})
	if err != nil && pr.Number == 0 {
		return failed(name, "pull request failed", err, "run apply again; the branch is pushed and the pull request will be found or opened")
	}
	// A pull request opened is recorded, even when what followed its
	// opening (labels, reviewers) failed or was interrupted.
	prErr := err
	ch.PRNumber, ch.URL, ch.State, ch.Draft, ch.Checks, ch.Mergeable = pr.Number, pr.URL, prState(pr.State), pr.Draft, pr.Checks, pr.Mergeable
	if err := e.Ledger.RecordChange(ctx, ch); err != nil {
		return failed(name, "ledger error", err, "check the ledger file")
	}
	kind := "pr.updated"
	if prev.PRNumber == 0 {
		kind = "pr.opened"
	}
	e.event(ctx, kind, name, nil, fmt.Sprintf("%s #%d (%s)", name, pr.Number, short(push.SHA)))
	if prErr != nil {
		o := failed(name, "pull request not finished", fmt.Errorf("PR #%d: %w", pr.Number, prErr), "run apply again; it brings the pull request's labels, reviewers and assignees to the configuration")
		o.URL = pr.URL
		return o
	}
	detail := fmt.Sprintf("PR #%d", pr.Number)
	if push.Unchanged {
		detail += " (branch already up to date)"
	}
	if len(todo) > 0 {
		detail += fmt.Sprintf("; %d follow-up(s) listed in the PR", len(todo))
	}
	return Outcome{Repo: name, Kind: OK, Detail: detail, URL: pr.URL}
}

func prState(s string) string {
	switch s {
	case "merged":
		return ledger.ChangeMerged
	case "closed":
		return ledger.ChangeClosed
	}
	return ledger.ChangeOpen
}

// inferredJobs lists the publishing jobs cutover inferred (confidence
// inferred), as "workflow#job".
func inferredJobs(r *rewrite.Result) []string {
	var out []string
	for _, p := range r.Pipelines {
		if p.Confidence == rewrite.ConfidenceInferred {
			out = append(out, p.Workflow+"#"+p.Job)
		}
	}
	return out
}

// prText renders the pull request's title and body.
func (e *Engine) prText(repo string, res *rewrite.RewriteResult, todo []string) (string, string, error) {
	var gh, gl, cc bool
	if res.Detect != nil {
		for _, pl := range res.Detect.Pipelines {
			switch pl.Provider {
			case rewrite.ProviderCircleCI:
				cc = true
			case rewrite.ProviderGitLab:
				gl = true
			default:
				gh = true
			}
		}
	}
	if !gh && !gl && !cc {
		gh = true
	}
	// A CircleCI publisher's IDs come from [[circleci.project]].
	var trust []rewrite.TrustNeed
	if res.Detect != nil {
		for _, t := range res.Detect.Trust {
			if c, ok := e.Opts.CircleCI[repo]; ok && t.Provider == rewrite.ProviderCircleCI {
				if c.VCSOrigin == "" && t.CircleCI != nil {
					c.VCSOrigin = t.CircleCI.VCSOrigin
				}
				t.CircleCI, t.Needed = &c, c.Missing()
			}
			trust = append(trust, t)
		}
	}
	data := map[string]any{
		"Repo": repo, "FlagVar": e.Opts.FlagVar, "Campaign": e.Opts.Campaign,
		"Marker": forge.MarkerComment("campaign:" + e.Opts.Campaign), "Files": res.Files,
		"Trust": trust, "Manual": todo, "Inferred": inferredJobs(res.Detect),
		"GitHub": gh, "GitLab": gl, "CircleCI": cc, "CircleCIAPI": e.CircleCI != nil,
		"CircleCISlug": circleci.ProjectSlug(repo), "CircleCISettings": circleci.SettingsURL(repo),
	}
	title, err := templates.Render("pr/title.tmpl", data)
	if err != nil {
		return "", "", err
	}
	body, err := templates.Render("pr/body.md.tmpl", data)
	return strings.TrimSpace(title), body, err
}

// gate evaluates wave n's gate from the ledger.
func (e *Engine) gate(ctx context.Context, waves []ledger.Wave, n int) (GateResult, error) {
	var w *ledger.Wave
	for i := range waves {
		if waves[i].Number == n {
			w = &waves[i]
		}
	}
	if w == nil {
		return GateResult{}, fmt.Errorf("wave %d is not planned", n)
	}
	var members []MemberState
	for _, name := range w.Members {
		m, err := e.memberState(ctx, name)
		if err != nil {
			return GateResult{}, err
		}
		members = append(members, m)
	}
	g := Gate{Require: w.Gate.Require, MaxFailureRatio: w.Gate.MaxFailureRatio}
	return g.Evaluate(members), nil
}

func (e *Engine) memberState(ctx context.Context, name string) (MemberState, error) {
	m := MemberState{Repo: name}
	step, err := e.Ledger.LastStep(ctx, name)
	if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		return m, err
	}
	ch, err := e.Ledger.Change(ctx, name)
	hasChange := err == nil
	if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		return m, err
	}
	if step.Outcome == ledger.OutcomeFailed {
		m.Manual = strings.HasPrefix(step.Reason, "manual")
		m.Failed = !m.Manual
		m.Why = step.Name + ": " + step.Reason
	}
	if step.Name == "apply" && step.Outcome == ledger.OutcomeSkipped && step.Reason != ReasonInterrupted && !hasChange {
		// Nothing to change counts as done.
		m.Checks, m.Merged, m.Verified = "success", true, true
	}
	if hasChange {
		m.Checks, m.Merged = ch.Checks, ch.State == ledger.ChangeMerged
	}
	vs, err := e.Ledger.LatestVerifications(ctx, name)
	if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		return m, err
	}
	m.Verified = m.Verified || len(vs) > 0
	for _, v := range vs {
		m.Verified = m.Verified && v.Passed
	}
	return m, nil
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
