package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/internal/logging"
)

func newRevokeCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "revoke tokens|secrets",
		Short: "Revoke the npm tokens and delete the CI secrets that OIDC replaced",
		Long: `Remove the credentials trusted publishing made unnecessary: npm access tokens
on the registry (revoke tokens) and the CI secrets holding them on the forge
(revoke secrets). Both show a plan by default and act only with --execute;
both record what they removed, where and when, in the ledger.`,
		Example: example("cutover revoke tokens --migrated", "cutover revoke secrets --wave 0 --execute"),
		Args:    cobra.ArbitraryArgs,
		RunE:    groupRunE,
	}
	cmd.AddCommand(newRevokeTokensCmd(app), newRevokeSecretsCmd(app))
	return cmd
}

func newRevokeTokensCmd(app *App) *cobra.Command {
	f := &campaignFlags{}
	nf := &npmFlags{}
	var (
		o       batch.RevokeTokensOptions
		created string
	)
	cmd := &cobra.Command{
		Use:   "tokens [--key KEY...] [--name GLOB] [--created-before DATE] [--migrated] [--include-self] [--execute] [--otp CODE]",
		Short: "Revoke npm access tokens, after showing which",
		Long: `List the account's npm access tokens (every page), select some, show the plan
(key, the token's first characters as npm displays them, name, created,
expiry, CIDR ranges; never a token) and, with --execute, revoke them.

Selectors combine: a token is selected when it matches every one given, and
at least one is required.
  --key KEY              the token with this key (or a unique prefix of 8+ characters); repeatable
  --name GLOB            tokens whose name matches the pattern (* and ?)
  --created-before DATE  tokens created before DATE (2006-01-02 or RFC 3339)
  --migrated             tokens the ledger records for repositories that are
                         cut over (flag on) and verified

The token cutover itself authenticates with ([npm] token_env or the .npmrc
login) is never selected unless --include-self is given: it is recognised in
the registry's list by its key (when the key is the token's SHA-512) or by
the first characters the registry displays of it, and reported as
"skipped KEY: cutover authenticates with this token; pass --include-self".
Every listed token that is not selected is reported with why: the selector
it does not match, or for --migrated no owner mapping ([[npm.token_owner]]),
an owner not in the inventory, a repository not migrated (flag off) or not
verified.

Revoking needs two-factor authentication (--otp, --web for one browser
approval that covers the batch, or a prompt on a terminal; off a terminal
without --otp or --web it fails at once) and a login that does not bypass 2FA. Each
revocation is recorded in the ledger with its time. Exit code 1 when a token
could not be revoked.`,
		Example: example("cutover revoke tokens --migrated", `cutover revoke tokens --name "ci-*" --created-before 2026-01-01 --execute`, "cutover revoke tokens --key 6f1c2a9e --execute --otp 123456"),
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if created != "" {
				t, err := parseDate(created)
				if err != nil {
					return usageErrorf(cmd, "--created-before %q: %v", created, err)
				}
				o.CreatedBefore = t
			}
			if len(o.Keys) == 0 && o.Name == "" && o.CreatedBefore.IsZero() && !o.Migrated {
				return usageErrorf(cmd, "select tokens with --key, --name, --created-before or --migrated")
			}
			for _, ow := range app.Config.NPM.TokenOwner {
				o.Owners = append(o.Owners, batch.TokenOwner{Name: ow.Name, Repo: ow.Repo})
			}
			nf.need2FA = o.Execute
			n, done, err := app.npmSteps(cmd, f, nf, true, false)
			if err != nil {
				return err
			}
			defer done()
			rep, err := n.RevokeTokens(cmd.Context(), o)
			if err != nil && rep.Listed == 0 && len(rep.Tokens) == 0 {
				return err
			}
			doc := map[string]any{"step": rep.Step, "listed": rep.Listed, "tokens": rep.Tokens, "not_selected": rep.NotSelected}
			if werr := app.writeNPMDoc(f.format, "cutover.revoke-tokens/v1", doc, tokensText(rep, o.Migrated, app.Redactor), rep.Failed()); werr != nil {
				return werr
			}
			return err
		},
	}
	cmd.Flags().StringSliceVar(&o.Keys, "key", nil, "the token with this `KEY` (repeatable)")
	cmd.Flags().StringVar(&o.Name, "name", "", "tokens whose name matches this `GLOB`")
	cmd.Flags().StringVar(&created, "created-before", "", "tokens created before this `DATE`")
	cmd.Flags().BoolVar(&o.Migrated, "migrated", false, "tokens recorded for repositories that are cut over and verified")
	cmd.Flags().BoolVar(&o.IncludeSelf, "include-self", false, "also select the token cutover itself authenticates with")
	cmd.Flags().BoolVar(&o.Execute, "execute", false, "revoke the selected tokens (default: show the plan)")
	nf.register(cmd)
	f.register(cmd, true)
	return cmd
}

// parseDate accepts a date (midnight UTC) or an RFC 3339 time.
func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want a date such as 2026-01-31 or a time such as 2026-01-31T12:00:00Z")
	}
	return t, nil
}

// tokensText renders the token plan or what was revoked, then the tokens
// left out: cutover's own token always by key, the others one by one with
// why when perToken (--migrated), else counted by reason.
func tokensText(rep batch.RevokeTokensReport, perToken bool, r *logging.Redactor) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d tokens listed, %d selected, %d not selected\n", rep.Step, rep.Listed, len(rep.Tokens), len(rep.NotSelected))
	if len(rep.Tokens) > 0 {
		tw := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KEY\tTOKEN\tNAME\tCREATED\tEXPIRES\tCIDR\tREPO\tRESULT")
		for _, t := range rep.Tokens {
			exp := "-"
			if t.Expires != nil {
				exp = t.Expires.UTC().Format(time.DateOnly)
			}
			cidr := "-"
			if len(t.CIDR) > 0 {
				cidr = strings.Join(t.CIDR, ",")
			}
			result := t.Detail
			if t.Kind != batch.OK {
				result = t.Kind + ": " + t.Reason + ": " + t.Detail
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Key, tokenPrefix(t), orDash(t.Name), tokenCreated(t), exp, cidr, orDash(t.Repo), oneLine(r, result, 160))
		}
		tw.Flush()
	}
	for _, t := range rep.Self() {
		fmt.Fprintf(&b, "skipped %s: %s\n", t.Key, t.Detail)
	}
	var others []batch.TokenAction
	for _, t := range rep.NotSelected {
		if t.Reason != batch.NotSelectedSelf {
			others = append(others, t)
		}
	}
	if len(others) == 0 {
		return b.String()
	}
	if !perToken {
		count := map[string]int{}
		var order []string
		for _, t := range others {
			if count[t.Reason] == 0 {
				order = append(order, t.Reason)
			}
			count[t.Reason]++
		}
		parts := make([]string, 0, len(order))
		for _, r := range order {
			parts = append(parts, fmt.Sprintf("%d %s", count[r], r))
		}
		fmt.Fprintf(&b, "not selected: %s\n", strings.Join(parts, ", "))
		return b.String()
	}
	b.WriteString("not selected:\n")
	tw := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  KEY\tTOKEN\tNAME\tCREATED\tREPO\tWHY")
	for _, t := range others {
		why := t.Reason + ": " + t.Detail
		if t.Hint != "" {
			why += " (" + t.Hint + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", t.Key, tokenPrefix(t), orDash(t.Name), tokenCreated(t), orDash(t.Repo), oneLine(r, why, 200))
	}
	tw.Flush()
	return b.String()
}

// tokenPrefix is the token's displayed first characters, or "-".
func tokenPrefix(t batch.TokenAction) string {
	if t.Prefix == "" {
		return "-"
	}
	return t.Prefix + "…"
}

// tokenCreated is the token's creation date, or "-".
func tokenCreated(t batch.TokenAction) string {
	if t.Created.IsZero() {
		return "-"
	}
	return t.Created.UTC().Format(time.DateOnly)
}

func newRevokeSecretsCmd(app *App) *cobra.Command {
	f := &campaignFlags{}
	tf := &targetFlags{}
	var execute bool
	cmd := &cobra.Command{
		Use:   "secrets (--wave N | --repo OWNER/NAME... | --repos-file FILE | --topic T) [--skip-repo R...] [--execute]",
		Short: "Delete the npm token secrets of repositories that are cut over and verified",
		Long: `Delete the CI secrets that carried npm publish tokens, for the selected
repositories that are cut over (flag on) and verified (every package's latest
canary passed cutover verify): repository secrets, environment secrets and
organisation secrets. A secret counts when detection saw it feed a publish,
or when its name is a conventional npm publish token name (NPM_TOKEN,
NODE_AUTH_TOKEN, NPM_AUTH_TOKEN, NPM_PUBLISH_TOKEN, NPMJS_TOKEN); install
tokens such as NPM_READ_TOKEN are left alone.

An organisation secret still read by a repository that is not cut over
(according to the inventory) is kept, and the repositories and workflow
files are named. Without --execute it only shows the plan. Each deletion is
recorded in the ledger with where it was. Exit code 1 when a deletion failed
or a secret had to be kept.`,
		Example: example("cutover revoke secrets --wave 0", "cutover revoke secrets --repo acme/widget --execute"),
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			target, err := tf.target(cmd, app)
			if err != nil {
				return err
			}
			e, done, err := app.engine(cmd, f, true)
			if err != nil {
				return err
			}
			defer done()
			rep, err := e.RevokeSecrets(cmd.Context(), batch.RevokeSecretsOptions{Target: target, Execute: execute, By: app.actor()})
			if err != nil && len(rep.Summary.Outcomes) == 0 {
				return err
			}
			findings := rep.Summary.Failed() || rep.Summary.Count(batch.Manual) > 0
			doc := map[string]any{"step": rep.Summary.Step, "secrets": rep.Secrets, "summary": rep.Summary}
			if werr := app.writeNPMDoc(f.format, "cutover.revoke-secrets/v1", doc, secretsText(rep, app.Redactor), findings); werr != nil {
				return werr
			}
			return err
		},
	}
	tf.register(cmd)
	cmd.Flags().BoolVar(&execute, "execute", false, "delete the secrets (default: show the plan)")
	f.register(cmd, true)
	return cmd
}

// secretsText renders the secrets plan or what was deleted.
func secretsText(rep batch.RevokeSecretsReport, r *logging.Redactor) string {
	var b strings.Builder
	if len(rep.Secrets) > 0 {
		tw := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SECRET\tSCOPE\tWHERE\tRESULT")
		for _, s := range rep.Secrets {
			where := s.Repo
			switch s.Scope {
			case "env":
				where = s.Repo + " environment " + s.Environment
			case "org":
				owner, _, _ := strings.Cut(s.Repo, "/")
				where = owner + " (seen from " + s.Repo + ")"
			}
			result := s.Detail
			if s.Kind != batch.OK {
				result = s.Kind + ": " + s.Detail
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Name, s.Scope, where, oneLine(r, result, 200))
		}
		tw.Flush()
		b.WriteString("\n")
	}
	rep.Summary.Write(&b, r)
	return b.String()
}
