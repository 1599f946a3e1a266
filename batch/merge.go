package batch

import (
	"context"
	"errors"
	"fmt"

	"github.com/cutover/cutover/internal/forge"
	"github.com/cutover/cutover/internal/ledger"
)

// MergeOptions select what Merge does.
type MergeOptions struct {
	// Target selects the repositories.
	Target RepoTarget
	// Execute merges; false is a dry run that says what would be merged.
	Execute bool
}

// Merge merges the targeted repositories' campaign pull requests whose
// checks passed, with Options.MergeMethod. It reads each pull request from
// the forge first and never merges a draft, one whose checks did not pass
// or one with conflicts; it merges only the head it checked, and a merge
// the forge refuses (branch protection, a moved head) is reported, never
// forced. Every merge is recorded in the ledger.
func (e *Engine) Merge(ctx context.Context, o MergeOptions) (Summary, error) {
	e.defaults()
	sum := Summary{Step: "merge"}
	if !o.Execute {
		sum.Step = "merge (dry run)"
	}
	names, err := e.targetRepos(ctx, o.Target)
	if err != nil {
		return sum, err
	}
	method := e.Opts.MergeMethod
	if method == "" {
		method = "merge"
	}
	sum.Outcomes = each(ctx, e, sum.Step, names, func(s string) string { return s }, func(ctx context.Context, name string) Outcome {
		return e.mergeRepo(ctx, name, method, o.Execute)
	})
	return sum, ctx.Err()
}

func (e *Engine) mergeRepo(ctx context.Context, name, method string, execute bool) Outcome {
	row, err := e.Ledger.Repo(ctx, name)
	if err != nil {
		return failed(name, "not inventoried", err, "run cutover inventory")
	}
	ch, err := e.Ledger.Change(ctx, name)
	if errors.Is(err, ledger.ErrNotFound) || (err == nil && ch.PRNumber == 0) {
		return Outcome{Repo: name, Kind: Skipped, Reason: "no pull request", Detail: "cutover opened no pull request on this repository", Hint: "run cutover apply --execute first"}
	}
	if err != nil {
		return failed(name, "ledger error", err, "check the ledger file")
	}
	fr := e.forgeRepo(row)
	pr, err := e.Forge.PR(ctx, fr, ch.PRNumber)
	if err != nil {
		return failed(name, "forge error", err, "run merge again")
	}
	ch.State, ch.Checks, ch.Mergeable, ch.Draft = prState(pr.State), pr.Checks, pr.Mergeable, pr.Draft
	if err := e.Ledger.RecordChange(ctx, ch); err != nil {
		return failed(name, "ledger error", err, "check the ledger file")
	}
	skip := func(reason, detail, hint string) Outcome {
		return Outcome{Repo: name, Kind: Skipped, Reason: reason, Detail: fmt.Sprintf("#%d: %s", pr.Number, detail), Hint: hint, URL: pr.URL}
	}
	switch {
	case ch.State == ledger.ChangeMerged:
		return Outcome{Repo: name, Kind: OK, Detail: fmt.Sprintf("#%d already merged", pr.Number), URL: pr.URL}
	case ch.State == ledger.ChangeClosed:
		return skip("pull request closed", "closed without merging", "reopen it, or run apply again to open a new one")
	case pr.Draft:
		return skip("draft", "drafts are never merged", "mark it ready for review when it is")
	case pr.Checks == "failure":
		return skip("checks failed", "a required check failed", "fix the failing check (cutover status names it), then merge again")
	case pr.Checks != "success":
		return skip("checks not passed yet", "checks are "+pr.Checks, "wait for the checks, then merge again")
	case pr.Mergeable == "no":
		return skip("conflicts", "the pull request conflicts with its base branch", "run apply again to rebuild the branch, then merge again")
	}
	if !execute {
		return Outcome{Repo: name, Kind: OK, Detail: fmt.Sprintf("would merge #%d (%s)", pr.Number, method), URL: pr.URL}
	}
	err = e.Forge.MergePR(ctx, fr, pr.Number, method, pr.HeadSHA)
	switch {
	case errors.Is(err, forge.ErrMergeRefused):
		e.event(ctx, "pr.merge_refused", name, nil, fmt.Sprintf("%s #%d: %v", name, pr.Number, err))
		return Outcome{Repo: name, Kind: Failed, Reason: "merge refused", Detail: err.Error(), URL: pr.URL,
			Hint: "the forge refused the merge (branch protection, a moved head): get the approvals it asks for, or merge it on the forge; cutover never forces a merge"}
	case errors.Is(err, forge.ErrPermission):
		o := failed(name, "missing permission", err, "give the token the permission named in the error (contents write)")
		e.step(ctx, "merge", o)
		return o
	case err != nil:
		o := failed(name, "merge failed", err, "run merge again")
		e.step(ctx, "merge", o)
		return o
	}
	ch.State = ledger.ChangeMerged
	if err := e.Ledger.RecordChange(ctx, ch); err != nil {
		return failed(name, "ledger error", err, "check the ledger file")
	}
	e.event(ctx, "pr.merged", name, nil, fmt.Sprintf("%s #%d merged (%s)", name, pr.Number, method))
	o := Outcome{Repo: name, Kind: OK, Detail: fmt.Sprintf("merged #%d (%s)", pr.Number, method), URL: pr.URL}
	e.step(ctx, "merge", o)
	return o
}
