package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/internal/logging"
)

func newTrustCmd(app *App) *cobra.Command {
	f := &campaignFlags{}
	nf := &npmFlags{}
	tf := &targetFlags{}
	var execute, replace bool
	cmd := &cobra.Command{
		Use:   "trust (--wave N | --repo OWNER/NAME... | --repos-file FILE | --topic T) [--skip-repo R...] [--execute] [--replace] [--otp CODE | --web]",
		Short: "Link every package to its release workflow as an npm trusted publisher",
		Long: `Configure the npm trusted publisher of every publishable package of the
selected repositories: the repository, the calling workflow's file name and
the environment that detection found (cutover plan lists them).

For each package it reads the registry's configuration and
  - creates one when there is none;
  - reports one that names another repository, workflow file (npm compares
    case-sensitively) or environment, and replaces it only with --replace;
  - treats a 409 from the registry as already configured (after reading it
    again);
  - reports a package the registry does not have yet: its first publish cannot
    use OIDC, so publish it once by hand or with a token.

Without --execute it is a dry run: it reads, reports and records what the
registry holds, and changes nothing. Every outcome is recorded in the ledger.

The registry wants two-factor authentication for every trusted-publisher
call, dry runs included: --otp CODE; or --web, which prints one approval
link for the whole batch (approve it in the browser with "skip 2FA for the
next 5 minutes") and counts down the five minutes it waits; or, on a
terminal, the web login or a prompt. Off a terminal without --otp or --web
it fails at once (exit code 2) instead of waiting for a login nobody sees.
Ctrl-C or SIGTERM stops the wait at once. One approval is reused for the
registry's five-minute window. The token is the variable named by [npm]
token_env (NPM_TOKEN), else your npm login in .npmrc; tokens that bypass 2FA
are refused by the registry here.

A package the registry answers 404 for is checked once more: when the
package itself is there, the login may not see its settings (it is not a
maintainer), and trust says so rather than "not on the registry".
Exit code 1 when a package failed or needs attention.`,
		Example: example("cutover trust --wave 0 --web", "cutover trust --wave 0 --execute --otp 123456", "cutover trust --repo acme/widget --execute --replace --otp 123456"),
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			target, err := tf.target(cmd, app)
			if err != nil {
				return err
			}
			nf.need2FA = true // even a dry run reads the settings, which needs 2FA
			n, done, err := app.npmSteps(cmd, f, nf, true, false)
			if err != nil {
				return err
			}
			defer done()
			rep, err := n.Trust(cmd.Context(), batch.TrustOptions{Target: target, Execute: execute, Replace: replace})
			if err != nil && len(rep.Packages) == 0 {
				return err
			}
			sum := rep.Summary()
			findings := sum.Failed() || sum.Count(batch.Manual) > 0
			if werr := app.writeNPMDoc(f.format, "cutover.trust/v1", map[string]any{"step": rep.Step, "packages": rep.Packages, "summary": sum}, trustText(rep, app.Redactor), findings); werr != nil {
				return werr
			}
			return err
		},
	}
	tf.register(cmd)
	cmd.Flags().BoolVar(&execute, "execute", false, "create (and with --replace, replace) configurations (default: dry run)")
	cmd.Flags().BoolVar(&replace, "replace", false, "replace a configuration that names another repository, workflow or environment")
	nf.register(cmd)
	f.register(cmd, true)
	return cmd
}

// trustText renders a trust report as a table and the grouped summary.
func trustText(rep batch.TrustReport, r *logging.Redactor) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PACKAGE\tREPO\tSTATE\tACTION\tRESULT\tDETAIL")
	for _, p := range rep.Packages {
		action := p.Action
		switch {
		case action == "":
			action = "-"
		case p.Done:
			action += "d"
		case action != batch.TrustActionNone:
			action = "would " + action
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Package, p.Repo, orDash(p.State), action, p.Kind, oneLine(r, packageDetail(p.Kind, p.Reason, p.Detail), 160))
	}
	tw.Flush()
	b.WriteString("\n")
	writePackageSummary(&b, rep.Summary(), r)
	return b.String()
}

// packageDetail is the DETAIL cell of a package's row: the detail, led by
// the reason when the outcome is not OK.
func packageDetail(kind, reason, detail string) string {
	if reason != "" && kind != batch.OK {
		return reason + ": " + detail
	}
	return detail
}

// writePackageSummary writes sum, whose outcomes are per package, to b:
// the grouped summary, counting packages instead of repositories.
func writePackageSummary(b *strings.Builder, sum batch.Summary, r *logging.Redactor) {
	var s strings.Builder
	sum.Write(&s, r)
	b.WriteString(strings.Replace(s.String(), " repositories: ", " packages: ", 1))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
