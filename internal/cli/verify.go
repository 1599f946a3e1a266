package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/internal/logging"
)

func newVerifyCmd(app *App) *cobra.Command {
	f := &campaignFlags{}
	tf := &targetFlags{}
	var version, tag string
	cmd := &cobra.Command{
		Use:   "verify (--wave N | --repo OWNER/NAME... | --repos-file FILE | --topic T) [--skip-repo R...] [--version V] [--tag canary]",
		Short: "Prove that a canary release went through trusted publishing",
		Long: `Check the canary release of every publishable package of the selected
repositories on the npm registry:
  - the version exists;
  - it was published through trusted publishing (_npmUser.trustedPublisher);
  - for public repositories, it carries SLSA v1 provenance whose statement
    names the repository and the trusted workflow, built on a GitHub-hosted
    runner;
  - the dist-tag points at it, and "latest" did not move to a prerelease;
  - no trust downgrade: it is not weaker than an earlier version, and no
    later version is weaker than it (pnpm's no-downgrade rule).

The canary is --version, or the version --tag (default "canary") points at,
provided it was published after the repository's flag went on (cutover flag
on). Without --version, repositories whose flag is not on are skipped.
Every check's outcome is recorded in the ledger; the "verified" wave gate
reads the latest verification of each package. Reading needs no token for
public packages; private ones use the npm token as trust does.
Exit code 1 when a canary failed verification.`,
		Example: example("cutover verify --wave 0", "cutover verify --repo acme/widget --version 2.1.0-canary.3", "cutover verify --wave 1 --tag next --format json"),
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			target, err := tf.target(cmd, app)
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("tag") && version != "" {
				tag = ""
			}
			n, done, err := app.npmSteps(cmd, f, nil, false, false)
			if err != nil {
				return err
			}
			defer done()
			rep, err := n.Verify(cmd.Context(), batch.VerifyOptions{Target: target, Version: version, Tag: tag})
			if err != nil && len(rep.Summary.Outcomes) == 0 {
				return err
			}
			doc := map[string]any{"step": rep.Summary.Step, "packages": rep.Packages, "summary": rep.Summary}
			if werr := app.writeNPMDoc(f.format, "cutover.verify/v1", doc, verifyText(rep, app.Redactor), rep.Summary.Failed()); werr != nil {
				return werr
			}
			return err
		},
	}
	tf.register(cmd)
	cmd.Flags().StringVar(&version, "version", "", "the canary `VERSION` to check in every package (default: the one --tag points at)")
	cmd.Flags().StringVar(&tag, "tag", batch.DefaultCanaryTag, "the dist-tag the canary was published under; it must point at the canary")
	f.register(cmd, true)
	return cmd
}

// verifyText renders a verification report: a line per package, then the
// summary per repository.
func verifyText(rep batch.VerifyReport, r *logging.Redactor) string {
	var b strings.Builder
	if len(rep.Packages) > 0 {
		tw := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PACKAGE\tVERSION\tREPO\tRESULT\tDETAIL")
		for _, p := range rep.Packages {
			result, detail := "passed", ""
			switch {
			case p.Checks == nil:
				result, detail = "not checked", p.Problem
			case !p.Passed:
				result = "FAILED"
				var fs []string
				for _, c := range p.Checks {
					if !c.OK {
						fs = append(fs, string(c.Name)+": "+c.Message)
					}
				}
				detail = strings.Join(fs, "; ")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Package, orDash(p.Version), p.Repo, result, oneLine(r, detail, 200))
		}
		tw.Flush()
		b.WriteString("\n")
	}
	rep.Summary.Write(&b, r)
	return b.String()
}
