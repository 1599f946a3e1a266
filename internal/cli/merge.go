package cli

import (
	"github.com/spf13/cobra"

	"github.com/cutover/cutover/batch"
)

func newMergeCmd(app *App) *cobra.Command {
	f := &campaignFlags{}
	tf := &targetFlags{}
	var execute bool
	cmd := &cobra.Command{
		Use:   "merge (--wave N | --repo OWNER/NAME... | --repos-file FILE | --topic T) [--skip-repo R...] [--execute]",
		Short: "Merge the campaign pull requests whose checks passed",
		Long: `Merge the campaign pull requests of a wave, or of named repositories, whose
required checks passed, with [pr] merge_method (merge, squash or rebase).

Each pull request is read from the forge first. Drafts are never merged, nor
pull requests whose checks failed or are still running, nor ones that
conflict with their base. Only the head that was checked is merged: when
branch protection (required reviews, required checks) or a moved head makes
the forge refuse, the refusal is reported and nothing is forced. Every merge
is recorded in the ledger, so the "merged" gate no longer waits for people
where a team allows cutover to merge.

Without --execute it is a dry run that says what would be merged. Exit code 1
when a merge was refused or failed.`,
		Example: example("cutover merge --wave 0", "cutover merge --wave 0 --execute", "cutover merge --repo acme/widget --execute"),
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			target, err := tf.target(cmd, app)
			if err != nil {
				return err
			}
			return app.withEngine(cmd, f, true, func(e *batch.Engine) error {
				sum, err := e.Merge(cmd.Context(), batch.MergeOptions{Target: target, Execute: execute})
				if err != nil && len(sum.Outcomes) == 0 {
					return err
				}
				if werr := app.writeSummary(f.format, sum, nil); werr != nil {
					return werr
				}
				return err
			})
		},
	}
	tf.register(cmd)
	cmd.Flags().BoolVar(&execute, "execute", false, "merge (default: dry run)")
	f.register(cmd, true)
	return cmd
}
