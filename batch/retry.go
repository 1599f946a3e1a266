package batch

import (
	"context"
	"fmt"
	"slices"

	"github.com/cutover/cutover/internal/forge"
	"github.com/cutover/cutover/internal/ledger"
)

// Retry redoes the repositories whose last step failed: inventory and apply
// (executed) are redone here; other steps are redone by their own commands.
// With Opts.Select only the failed repositories it keeps are redone.
func (e *Engine) Retry(ctx context.Context) (Summary, error) {
	e.defaults()
	sum := Summary{Step: "retry"}
	steps, err := e.Ledger.FailedRepos(ctx)
	if err != nil {
		return sum, err
	}
	keep, err := e.selected(ctx)
	if err != nil {
		return sum, err
	}
	steps = slices.DeleteFunc(steps, func(s ledger.Step) bool { return !keep(s.Repo) })
	sum.Outcomes = each(ctx, e, "retry", steps, func(s ledger.Step) string { return s.Repo }, func(ctx context.Context, s ledger.Step) Outcome {
		switch s.Name {
		case "inventory":
			row, err := e.Ledger.Repo(ctx, s.Repo)
			if err != nil {
				return failed(s.Repo, "ledger error", err, "check the ledger file")
			}
			return e.inventoryRepo(ctx, forge.Repo{FullName: row.FullName, ID: row.ID, DefaultBranch: row.DefaultBranch, Visibility: row.Visibility, CloneURL: row.CloneURL})
		case "apply":
			o := e.applyRepo(ctx, s.Repo, true)
			e.step(ctx, "apply", o)
			return o
		}
		return Outcome{Kind: Skipped, Reason: "retry with its own command", Detail: fmt.Sprintf("last step %q failed: run cutover %s again", s.Name, s.Name)}
	})
	return sum, ctx.Err()
}
