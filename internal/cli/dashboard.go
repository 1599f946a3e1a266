package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/batch"
)

func newDashboardCmd(app *App) *cobra.Command {
	f := &campaignFlags{}
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "dashboard [--dry-run]",
		Short: "Open or rewrite the campaign's dashboard issue",
		Long: `Keep one issue in [dashboard] repo that a war room can watch, as Renovate's
Dependency Dashboard does: progress per wave, blocked repositories with the
reason and the command that moves each on, pull requests waiting for review,
and the npm tokens and token secrets that remain.

The issue is found again by a hidden marker naming the campaign, so it is
never opened twice; a closed one is reopened. cutover status and the
scheduler's status jobs rewrite it too. --dry-run prints the issue's body
instead and needs neither the forge nor [dashboard] repo.`,
		Example: example("cutover dashboard --dry-run", "cutover dashboard"),
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !dryRun && app.Config.Dashboard.Repo == "" {
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("no dashboard repository: set [dashboard] repo = \"OWNER/REPO\" in the configuration, or use --dry-run")}
			}
			return app.withEngine(cmd, f, !dryRun, func(e *batch.Engine) error {
				if dryRun {
					title, body, err := e.DashboardBody(cmd.Context())
					if err != nil {
						return err
					}
					_, err = io.WriteString(app.Out, app.Redactor.Redact("# "+title+"\n\n"+string(body)))
					return err
				}
				is, err := e.UpdateDashboard(cmd.Context())
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(app.Out, "dashboard: %s#%d %s\n", app.Config.Dashboard.Repo, is.Number, is.URL)
				return err
			})
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the dashboard's body instead of writing the issue")
	f.register(cmd, false)
	return cmd
}
