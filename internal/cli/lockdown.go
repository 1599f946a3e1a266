package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/internal/logging"
)

func newLockdownCmd(app *App) *cobra.Command {
	f := &campaignFlags{}
	nf := &npmFlags{}
	tf := &targetFlags{}
	var execute, undo bool
	cmd := &cobra.Command{
		Use:   "lockdown (--wave N | --repo OWNER/NAME... | --repos-file FILE | --topic T) [--skip-repo R...] [--execute] [--undo] [--otp CODE | --web]",
		Short: "Disallow token publishing on packages whose canary was verified through OIDC",
		Long: `Set the publishing access of every publishable package of the selected
repositories to "Require two-factor authentication and disallow tokens"
(what npm access set mfa=publish does): from then on no token can publish
the package, leaked or not, and trusted publishing (OIDC) still can. It is
the last step npm recommends after a verified cutover, before the tokens are
revoked.

A package is locked down only when its latest canary verification (cutover
verify) passed with the release published through trusted publishing;
other packages are refused with the reason and the command that fixes it.
Each change is recorded in the ledger with the setting before it, and the
report shows which packages are locked down.

--undo restores the setting from before the lockdown. The registry offers no
way to read the setting, so when the ledger knows no earlier one, --undo
restores the registry's default ("Require two-factor authentication or a
granular access token with bypass 2FA", mfa=automation) and says so.

Without --execute it is a dry run. The registry wants two-factor
authentication for every change, as for cutover trust: --otp CODE, the web
login with --web (one approval covers the batch for five minutes), or a
prompt on a terminal. Tokens that bypass 2FA are refused by the registry.
Exit code 1 when a package failed or was refused.`,
		Example: example("cutover lockdown --wave 0", "cutover lockdown --wave 0 --execute --otp 123456", "cutover lockdown --repo acme/widget --undo --execute"),
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			target, err := tf.target(cmd, app)
			if err != nil {
				return err
			}
			nf.need2FA = execute
			n, done, err := app.npmSteps(cmd, f, nf, true, false)
			if err != nil {
				return err
			}
			defer done()
			rep, err := n.Lockdown(cmd.Context(), batch.LockdownOptions{Target: target, Execute: execute, Undo: undo})
			if err != nil && len(rep.Packages) == 0 {
				return err
			}
			sum := rep.Summary()
			findings := sum.Failed() || sum.Count(batch.Manual) > 0 || sum.Count(batch.Skipped) > 0
			doc := map[string]any{"step": rep.Step, "packages": rep.Packages, "summary": sum, "locked_down": rep.LockedDown()}
			if werr := app.writeNPMDoc(f.format, "cutover.lockdown/v1", doc, lockdownText(rep, undo, app.Redactor), findings); werr != nil {
				return werr
			}
			return err
		},
	}
	tf.register(cmd)
	cmd.Flags().BoolVar(&execute, "execute", false, "change the publishing access on the registry (default: dry run)")
	cmd.Flags().BoolVar(&undo, "undo", false, "restore the publishing access from before the lockdown")
	nf.register(cmd)
	f.register(cmd, true)
	return cmd
}

// lockdownText renders a lockdown report as a table and the grouped summary.
func lockdownText(rep batch.LockdownReport, undo bool, r *logging.Redactor) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PACKAGE\tREPO\tCANARY\tACTION\tRESULT\tDETAIL")
	for _, p := range rep.Packages {
		action := p.Action
		switch {
		case action == batch.LockdownActionNone:
			action = "-"
		case !p.Done:
			action = "would " + action
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Package, p.Repo, orDash(p.Verified), action, p.Kind, oneLine(r, packageDetail(p.Kind, p.Reason, p.Detail), 160))
	}
	tw.Flush()
	b.WriteString("\n")
	if !undo {
		fmt.Fprintf(&b, "%d of %d packages locked down\n", rep.LockedDown(), len(rep.Packages))
	}
	writePackageSummary(&b, rep.Summary(), r)
	return b.String()
}
