package cli

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/internal/circleci"
	"github.com/cutover/cutover/internal/forge"
	gh "github.com/cutover/cutover/internal/forge/github"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/logging"
	"github.com/cutover/cutover/reports"
)

// campaignFlags are the flags every campaign command shares.
type campaignFlags struct {
	ledger   string
	registry string
	format   string
	// wait is how long to wait for the campaign lock another command holds.
	wait time.Duration
}

// defaultLockWait is how long a command waits for another one writing to
// the same ledger, unless --wait says otherwise.
const defaultLockWait = 10 * time.Minute

func (f *campaignFlags) register(cmd *cobra.Command, withFormat bool) {
	cmd.Flags().StringVar(&f.ledger, "ledger", "", "campaign ledger file (default: [campaign] ledger, cutover.db)")
	cmd.Flags().DurationVar(&f.wait, "wait", defaultLockWait, "how long to wait while another cutover command writes to the ledger (0: refuse at once)")
	cmd.Flags().StringVar(&f.registry, "registry", "", "npm registry URL (default: config, NPM_CONFIG_REGISTRY, npm config)")
	if withFormat {
		cmd.Flags().StringVar(&f.format, "format", "table", "output format: table or json")
		_ = cmd.RegisterFlagCompletionFunc("format", fixedCompletions("table", "json"))
	}
}

// newForge builds the GitHub forge from the configuration. Blobs are cached
// by SHA in the user's cache folder, so a second inventory fetches only what
// changed; the ETags of what a re-run reads again (listing pages, refs,
// trees) are kept in ledgerPath+".etags", beside the campaign's ledger, so
// the re-run's reads come back 304, which GitHub does not count.
func (app *App) newForge(ctx context.Context, ledgerPath string) (forge.Forge, error) {
	token := app.Getenv(app.Config.GitHub.TokenEnv)
	ghApp, err := app.githubApp()
	if err != nil {
		return nil, err
	}
	if ghApp != nil && ghApp.InstallationID == 0 && ghApp.Org == "" {
		// The App's installation is found on the organisation: without
		// either, it is a configuration error, as a missing token is.
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("the GitHub App %d has no installation id and no organisation to find it on: set installation_id in [github.app], or [github] org (or CUTOVER_ORG)", ghApp.ID)}
	}
	fg, err := gh.New(ctx, gh.Options{
		APIURL: app.Config.GitHub.APIURL, Token: token, App: ghApp, Getenv: app.Getenv, Logger: app.Logger,
		Limits:   gh.Limits{Disabled: app.Config.GitHub.Pacing == "off"},
		Author:   forge.Author{Name: app.Config.Campaign.AuthorName, Email: app.Config.Campaign.AuthorEmail},
		CacheDir: app.blobCacheDir(), ETagCacheDir: etagCacheDir(ledgerPath),
		ProbeWorkflows: app.Config.GitHub.ProbeWorkflows, MaxFileSize: app.Config.Scan.MaxFileBytes,
	})
	if errors.Is(err, gh.ErrNoToken) {
		// No credential is a configuration error, as the README promises.
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	return fg, err
}

// errNoOrg is the configuration error of a command that needs the
// organisation when neither [github] org nor CUTOVER_ORG names one.
var errNoOrg = errors.New("no organisation: set [github] org in the config or CUTOVER_ORG (for example CUTOVER_ORG=acme)")

// requireOrg returns a configuration error (exit code 2) when no
// organisation is configured.
func (app *App) requireOrg() error {
	if app.Config.GitHub.Org == "" {
		return &ExitError{Code: ExitUsage, Err: errNoOrg}
	}
	return nil
}

// etagCacheDir is the folder beside the ledger that keeps the forge's ETags;
// empty (in memory only) for an in-memory ledger.
func etagCacheDir(ledgerPath string) string {
	if ledgerPath == "" || ledgerPath == ":memory:" {
		return ""
	}
	return ledgerPath + ".etags"
}

// blobCacheDir is $XDG_CACHE_HOME/cutover/blobs or ~/.cache/cutover/blobs;
// empty (no cache) when neither is known.
func (app *App) blobCacheDir() string {
	base := app.Getenv("XDG_CACHE_HOME")
	if base == "" {
		if home := app.Getenv("HOME"); home != "" {
			base = filepath.Join(home, ".cache")
		}
	}
	if base == "" {
		return ""
	}
	return filepath.Join(base, "cutover", "blobs")
}

// engine opens the ledger and builds the engine for a campaign command.
func (app *App) engine(cmd *cobra.Command, f *campaignFlags, needForge bool) (*batch.Engine, func(), error) {
	ctx := cmd.Context()
	if f.format != "" && f.format != "table" && f.format != "json" {
		return nil, nil, usageErrorf(cmd, "--format %q: use table or json", f.format)
	}
	c := app.Config
	path := f.ledger
	if path == "" {
		path = c.Campaign.Ledger
	}
	reg, err := app.Registry(cmd, f.registry)
	if err != nil {
		return nil, nil, err
	}
	led, err := ledger.Open(ctx, path, ledger.Options{Now: app.Now})
	if err != nil {
		return nil, nil, err
	}
	// Every command that opens the engine writes to the ledger, so it
	// holds the campaign lock until it is done.
	unlock, err := app.lockCampaign(cmd, led, f)
	if err != nil {
		led.Close()
		return nil, nil, err
	}
	ctx = cmd.Context()
	closeLedger := func() {
		if err := unlock(); err != nil {
			app.Logger.Warn("could not release the campaign lock; it lapses by itself within a minute", "error", err)
		}
		led.Close()
	}
	digest := ""
	if app.ConfigPath != "" {
		if b, err := os.ReadFile(app.ConfigPath); err == nil {
			digest = fmt.Sprintf("sha256:%x", sha256.Sum256(b))
		}
	}
	if err := led.SetCampaign(ctx, c.Campaign.Name, digest); err != nil {
		closeLedger()
		return nil, nil, err
	}
	e := &batch.Engine{Ledger: led, Logger: app.Logger, Now: app.Now, Opts: batch.Options{
		Campaign: c.Campaign.Name, Org: c.GitHub.Org, Registry: reg,
		FlagVar: c.Rewrite.FlagVar, NPMVersion: c.Rewrite.NPMVersion, Branch: c.Campaign.Branch,
		MaxFileBytes: c.Scan.MaxFileBytes,
		Author:       forge.Author{Name: c.Campaign.AuthorName, Email: c.Campaign.AuthorEmail},
		PR:           batch.PROptions{Draft: c.PR.Draft, Labels: c.PR.Labels, Reviewers: c.PR.Reviewers, TeamReviewers: c.PR.TeamReviewers, Assignees: c.PR.Assignees},
		Plan:         batch.PlanOptions{Canaries: c.Waves.Canaries, Sizes: c.Waves.Sizes},
		Gate:         batch.Gate{Require: c.Waves.Require, MaxFailureRatio: c.Waves.MaxFailureRatio},
		CanaryGate:   batch.Gate{Require: c.Waves.CanaryRequire, MaxFailureRatio: c.Waves.MaxFailureRatio},
		Concurrency:  c.Campaign.Concurrency, AutoRollback: c.Flag.AutoRollback, MergeMethod: c.PR.MergeMethod,
		CircleCI: c.CircleCIProjects(), OwnerOf: c.OwnerOf,
		Dashboard: batch.DashboardOptions{Repo: c.Dashboard.Repo, Labels: c.Dashboard.Labels, Meta: reports.Meta{
			ToolVersion: buildVersion(debug.ReadBuildInfo), FlagVariable: c.Rewrite.FlagVar, Redactor: app.Redactor,
		}},
	}}
	if env := c.CircleCI.TokenEnv; env != "" {
		if tok := app.Getenv(env); tok != "" {
			e.CircleCI = &circleci.Client{BaseURL: c.CircleCI.APIURL, Token: circleci.Token(tok)}
		} else {
			app.Logger.Warn("[circleci] token_env is set but the variable is empty: flag on prints the CircleCI settings to change", "token_env", env)
		}
	}
	if needForge {
		fg, err := app.newForge(ctx, led.Path())
		if err != nil {
			closeLedger()
			return nil, nil, err
		}
		e.Forge = fg
	}
	var pace func() gh.Pace
	if pf, ok := e.Forge.(interface{ Pace() gh.Pace }); ok {
		pace = pf.Pace
	}
	progress, wait := app.progress(pace)
	e.Progress = progress
	e.InFlight = &app.inFlight
	app.campaign.Store(true)
	return e, func() { wait(); closeLedger() }, nil
}

// lockCampaign takes the ledger's campaign lock for cmd, waiting up to
// --wait (with a line saying for whom) while another command holds it. The
// command's context ends if the lock is lost. unlock lets go of it.
func (app *App) lockCampaign(cmd *cobra.Command, led *ledger.Ledger, f *campaignFlags) (unlock func() error, err error) {
	wait := f.wait
	if cmd.Name() == "schedule" && !cmd.Flags().Changed("wait") {
		wait = -1 // a second scheduler stands by until the first stops
	}
	ctx, cancel := context.WithCancelCause(cmd.Context())
	lk, err := led.LockCampaign(ctx, ledger.LockOptions{
		Command: cmd.CommandPath(),
		Wait:    wait,
		OnWait: func(h ledger.Lock) {
			limit := "until it is done"
			if wait > 0 {
				limit = "up to " + wait.String() + " (--wait)"
			}
			app.Logger.Warn(fmt.Sprintf("waiting %s: %s is writing to the ledger", limit, h.Describe()),
				"ledger", led.Path(), "holder_command", h.Command, "holder_pid", h.PID, "holder_host", h.Host,
				"since", h.Acquired.UTC().Format(time.RFC3339))
		},
	}, func(err error) {
		app.Logger.Error("stopping: the campaign lock was lost", "error", err)
		cancel(err)
	})
	if err != nil {
		cancel(nil)
		var locked *ledger.LockedError
		if errors.As(err, &locked) {
			waited := "refused at once (--wait 0)"
			if wait > 0 {
				waited = "waited " + wait.String()
			}
			return nil, fmt.Errorf("ledger %s is in use: %s is writing to it; %s; try again when it is done, or give --wait a longer time (%w)",
				led.Path(), locked.Holder.Describe(), waited, ledger.ErrLocked)
		}
		return nil, err
	}
	app.lockOwner = lk.Owner()
	cmd.SetContext(ctx)
	return func() error {
		defer cancel(nil)
		return lk.Release(context.WithoutCancel(ctx))
	}, nil
}

// withEngine runs fn with the campaign engine and closes its ledger after.
func (app *App) withEngine(cmd *cobra.Command, f *campaignFlags, needForge bool, fn func(*batch.Engine) error) error {
	e, done, err := app.engine(cmd, f, needForge)
	if err != nil {
		return err
	}
	defer done()
	return fn(e)
}

// jsonDoc renders a versioned JSON document for stdout.
func jsonDoc(schema string, fields map[string]any) ([]byte, error) {
	doc := map[string]any{"schema": schema}
	for k, v := range fields {
		doc[k] = v
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	return append(out, '\n'), err
}

// writeSummary prints a step's summary in the chosen format and returns
// ErrFindings when a repository failed.
func (app *App) writeSummary(format string, sum batch.Summary, extra any) error {
	var b strings.Builder
	if format == "json" {
		fields := map[string]any{"summary": sum}
		if extra != nil {
			fields["detail"] = extra
		}
		out, err := jsonDoc("cutover.summary/v1", fields)
		if err != nil {
			return err
		}
		b.Write(out)
	} else {
		// Details are cut to fit a terminal; into a file or a pipe they go whole.
		width := 0
		if logging.IsTerminal(app.Out) {
			width = 160
		}
		tw := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "REPO\tOUTCOME\tDETAIL")
		for _, o := range sum.Outcomes {
			d := o.Detail
			if o.URL != "" {
				d += " " + o.URL
			}
			if o.Reason != "" && o.Kind != batch.OK {
				d = o.Reason + ": " + d
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", o.Repo, o.Kind, oneLine(app.Redactor, d, width))
		}
		tw.Flush()
		b.WriteString("\n")
		sum.WriteWidth(&b, width, app.Redactor)
	}
	if _, err := io.WriteString(app.Out, app.Redactor.Redact(b.String())); err != nil {
		return err
	}
	if sum.Failed() {
		return ErrFindings
	}
	return nil
}

// dryRunHeader introduces one repository's diffs in apply's dry run:
// "=== acme/widget: would open a pull request (2 files)".
func dryRunHeader(o batch.Outcome) string {
	h := "=== " + o.Repo
	if d := strings.TrimSpace(o.Detail); d != "" {
		h += ": " + oneLine(nil, d, 0)
	}
	return h + "\n"
}

// oneLine redacts s with r (the token patterns when nil), puts it on one
// line and cuts it to max bytes; max 0 keeps it whole. Redacting comes
// first: a secret cut in two would no longer be found.
func oneLine(r *logging.Redactor, s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if max <= 0 {
		return r.Redact(s)
	}
	return r.RedactCut(s, max)
}

func newInventoryCmd(app *App) *cobra.Command {
	f := &campaignFlags{}
	sf := &selectFlags{}
	var archived, forks bool
	cmd := &cobra.Command{
		Use:   "inventory [--repo R... | --repos-file FILE] [--skip-repo R...] [--topic T...] [--include-archived] [--include-forks]",
		Short: "List the organisation's repositories and classify how each publishes to npm",
		Long: `List the organisation's repositories ([github] org or CUTOVER_ORG), read the
files detection needs from each through the API (no clone), classify how it
publishes to npm, and record the results in the ledger.

Repositories whose default branch did not move since the last inventory keep
their recorded classification; blobs are fetched only when they changed.
A repository that cannot be read is recorded as failed and the inventory
goes on. Archived repositories and forks are skipped and counted ("skipped 3
archived, 2 forks"); --include-archived and --include-forks take them in. The
selection flags narrow the listing; a repository they name must be in the
organisation. Exit code 1 when any repository failed.`,
		Example: example("cutover inventory", "CUTOVER_ORG=acme cutover --config campaign.toml inventory --format json"),
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := app.requireOrg(); err != nil {
				return err
			}
			sel, err := sf.selection(cmd, app)
			if err != nil {
				return err
			}
			return app.withEngine(cmd, f, true, func(e *batch.Engine) error {
				e.Opts.Select = sel
				e.Opts.List.Archived, e.Opts.List.Forks = archived, forks
				sum, err := e.Inventory(cmd.Context())
				if err != nil {
					return err
				}
				return app.writeSummary(f.format, sum, nil)
			})
		},
	}
	cmd.Flags().BoolVar(&archived, "include-archived", false, "inventory archived repositories too")
	cmd.Flags().BoolVar(&forks, "include-forks", false, "inventory forks too")
	sf.register(cmd)
	f.register(cmd, true)
	return cmd
}

func newPlanCmd(app *App) *cobra.Command {
	f := &campaignFlags{}
	sf := &selectFlags{}
	cmd := &cobra.Command{
		Use:   "plan [--repo R... | --repos-file FILE] [--skip-repo R...] [--topic T...]",
		Short: "Assign the inventoried repositories to waves, canaries first",
		Long: `Plan the campaign's waves from the inventory in the ledger.

Wave 0 holds the canaries: the repositories named in [waves] canaries, or one
monorepo, one single-package repository and one repository with a private
package picked from the inventory (the ones with the fewest findings). The
other repositories that publish with a token follow in waves of [waves]
sizes; the rest form a last wave. Repositories that do not publish, already
use OIDC or run on self-hosted runners are listed as skipped with the reason.
Waves that already started keep their members.

The plan also lists, per package, the trusted publisher npm will need
(repository, workflow file, environment). With the selection flags only the
repositories they keep are planned.`,
		Example: example("cutover plan", "cutover plan --format json"),
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sel, err := sf.selection(cmd, app)
			if err != nil {
				return err
			}
			return app.withEngine(cmd, f, false, func(e *batch.Engine) error {
				e.Opts.Select = sel
				plan, err := e.PlanCampaign(cmd.Context())
				if err != nil {
					return err
				}
				return app.writePlan(f.format, plan)
			})
		},
	}
	sf.register(cmd)
	f.register(cmd, true)
	return cmd
}

func (app *App) writePlan(format string, plan batch.Plan) error {
	var b strings.Builder
	if format == "json" {
		out, err := jsonDoc("cutover.plan/v1", map[string]any{"plan": plan})
		if err != nil {
			return err
		}
		b.Write(out)
	} else {
		for _, w := range plan.Waves {
			fmt.Fprintf(&b, "wave %d (%s): %d repositories; gate before the next wave: %s\n", w.Number, w.Name, len(w.Repos), w.Gate)
			for _, r := range w.Repos {
				if why := w.Why[r]; why != "" {
					fmt.Fprintf(&b, "  %s  (%s)\n", r, why)
				} else {
					fmt.Fprintf(&b, "  %s\n", r)
				}
			}
		}
		if len(plan.Skipped) > 0 {
			fmt.Fprintf(&b, "skipped: %d repositories\n", len(plan.Skipped))
			for _, s := range plan.Skipped {
				if s.Path != "" {
					fmt.Fprintf(&b, "  %s: %s (path: %s)\n", s.Repo, s.Reason, s.Path)
					continue
				}
				fmt.Fprintf(&b, "  %s: %s\n", s.Repo, s.Reason)
			}
		}
		if len(plan.Inferred) > 0 {
			fmt.Fprintf(&b, "confidence inferred: %d publishing jobs cutover could not read (check them before their wave)\n", len(plan.Inferred))
			for _, s := range plan.Inferred {
				fmt.Fprintf(&b, "  %s\n", termSafe(s))
			}
		}
		if len(plan.Trust) > 0 {
			b.WriteString("\ntrusted publishers npm will need:\n")
			tw := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "  PACKAGE\tREPOSITORY\tWORKFLOW\tENVIRONMENT")
			for _, t := range plan.Trust {
				env := t.Environment
				if env == "" {
					env = "-"
				}
				pkg := t.Package
				if pkg == "" {
					pkg = "(no package.json)"
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", pkg, t.Repository, t.Workflow, env)
			}
			tw.Flush()
		}
	}
	_, err := io.WriteString(app.Out, app.Redactor.Redact(b.String()))
	return err
}

func newApplyCmd(app *App) *cobra.Command {
	f := &campaignFlags{}
	sf := &selectFlags{}
	var (
		wave    int
		execute bool
		force   string
	)
	cmd := &cobra.Command{
		Use:   "apply --wave N [--repo R... | --repos-file FILE] [--skip-repo R...] [--topic T...] [--execute] [--force REASON]",
		Short: "Rewrite a wave's repositories and open their pull requests",
		Long: `Apply the oidc playbook to every repository of a wave.

Without --execute it is a dry run: it reads each repository through the API,
rewrites its workflows and prints the diffs and what it would do. With
--execute it commits the edits on the campaign branch, pushes it and opens or
updates the pull request (labels, reviewers, draft as configured), recording
every step in the ledger. It never replaces a campaign branch someone else
changed, and never opens a second pull request for the same branch.

A wave may start only when the previous wave meets its gate ([waves] require
and max_failure_ratio; the canary wave's is [waves] canary_require, by default
merged and verified); --force REASON overrides that and records the reason.
Stopping it (Ctrl-C) finishes the repositories in flight; running it again
continues where it stopped. The selection flags narrow the wave to some of
its members (a repository named must be one); the gate still applies. Exit
code 1 when a repository failed, 4 when the gate refused the wave.`,
		Example: example("cutover apply --wave 0", "cutover apply --wave 0 --execute", `cutover apply --wave 2 --execute --force "canary checks flaky, verified by hand"`),
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("wave") {
				return usageErrorf(cmd, "--wave is required")
			}
			sel, err := sf.selection(cmd, app)
			if err != nil {
				return err
			}
			return app.withEngine(cmd, f, true, func(e *batch.Engine) error {
				sum, err := e.Apply(cmd.Context(), batch.ApplyOptions{Wave: wave, Execute: execute, Force: force, Select: sel})
				var ge *batch.GateError
				if errors.As(err, &ge) {
					return &ExitError{Code: ExitGate, Err: err}
				}
				if err != nil && len(sum.Outcomes) == 0 {
					return err
				}
				if !execute && f.format != "json" {
					for _, o := range sum.Outcomes {
						if o.Diff == "" {
							continue
						}
						io.WriteString(app.Out, app.Redactor.Redact(dryRunHeader(o)+o.Diff))
					}
				}
				if werr := app.writeSummary(f.format, sum, nil); werr != nil {
					return werr
				}
				return err
			})
		},
	}
	cmd.Flags().IntVar(&wave, "wave", 0, "wave to apply (0 is the canaries)")
	cmd.Flags().BoolVar(&execute, "execute", false, "push branches and open pull requests (default: dry run)")
	cmd.Flags().StringVar(&force, "force", "", "start the wave although the previous gate is not met; the reason is recorded")
	sf.register(cmd)
	f.register(cmd, true)
	return cmd
}

func newStatusCmd(app *App) *cobra.Command {
	f := &campaignFlags{}
	sf := &selectFlags{}
	cmd := &cobra.Command{
		Use:   "status [--repo R... | --repos-file FILE] [--skip-repo R...] [--topic T...]",
		Short: "Refresh pull request states and checks, and evaluate wave gates",
		Long: `Read every campaign pull request's state, mergeability and checks from the
forge, record them in the ledger, and mark a wave done when it meets its gate
(gates are reported for the waves that started).

It also watches every repository whose flag is on: a release run that failed
since the flag went on, or a version published since then without trusted
publishing (no _npmUser.trustedPublisher), blocks the repository with the
reason "release failed after flag on" and the hint cutover flag off --repo R.
With [flag] auto_rollback = true the flag is turned off by itself and the
rollback is recorded as an event. Exit code 1 when a repository failed or is
blocked.
With [dashboard] repo set it then rewrites the campaign's dashboard issue
(see cutover dashboard). With the selection flags only the repositories they
keep are refreshed, watched and listed; gates are still those of whole waves.`,
		Example: example("cutover status", "cutover status --format json"),
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sel, err := sf.selection(cmd, app)
			if err != nil {
				return err
			}
			return app.withEngine(cmd, f, true, func(e *batch.Engine) error {
				e.Opts.Select = sel
				if err := app.watchRegistry(cmd, f, e); err != nil {
					return err
				}
				sum, waves, err := e.Status(cmd.Context())
				if err != nil {
					return err
				}
				if f.format != "json" {
					var b strings.Builder
					for _, w := range waves {
						if w.Gate == nil {
							fmt.Fprintf(&b, "wave %d (%s): %s; gate: %s\n", w.Number, w.Name, w.State, w.Requires)
							continue
						}
						gate := "gate met"
						if !w.Gate.OK {
							gate = "gate not met: " + strings.Join(w.Gate.Reasons, "; ")
						}
						fmt.Fprintf(&b, "wave %d (%s): %s, %d/%d passed, %d failed; %s\n", w.Number, w.Name, w.State, w.Gate.Passed, w.Gate.Members, w.Gate.Failed, gate)
					}
					b.WriteString("\n")
					io.WriteString(app.Out, app.Redactor.Redact(b.String()))
				}
				werr := app.writeSummary(f.format, sum, waves)
				if e.Opts.Dashboard.Repo != "" {
					if _, err := e.UpdateDashboard(cmd.Context()); err != nil {
						return err
					}
				}
				return werr
			})
		},
	}
	sf.register(cmd)
	f.register(cmd, true)
	return cmd
}

func newFlagCmd(app *App) *cobra.Command {
	f := &campaignFlags{}
	nf := &npmFlags{}
	tf := &targetFlags{}
	var (
		force   string
		confirm bool
	)
	cmd := &cobra.Command{
		Use:   "flag on|off (--wave N | --repo OWNER/NAME... | --repos-file FILE | --topic T) [--skip-repo R...]",
		Short: "Switch repositories to OIDC publishing, or back",
		Long: `Set the feature-flag variable ([rewrite] flag_var, CUTOVER_NPM_OIDC) on a
wave's repositories or on named ones: "on" makes the migrated workflows
publish with OIDC, "off" is the rollback to the token path, with no revert.
Every flip is recorded as an event.

"on" first checks each repository, live, and refuses it when a check fails,
naming the reason and the command that fixes it:

  - its campaign pull request is merged (asked from the forge, not the ledger);
  - every publishing workflow on the default branch carries the flag's guard,
    may request an ID token (id-token: write) and runs npm 11.5.1 or newer;
  - every publishable package exists on the registry and its trusted
    publisher names exactly (case included) the repository, the workflow
    file and the environment (fix: cutover trust --repo R [--replace] --execute).

Reading the trusted publishers needs the registry login and, where the
account has it, two-factor authentication (--otp). --force REASON turns the
flag on despite failed checks and records the reason with what it overrode.

A repository that publishes from CircleCI reads the flag from a CircleCI
project environment variable: with [circleci] token_env naming a CircleCI
API token, flag on and off set it through CircleCI's API; without one they
print the exact setting (project, variable, value, settings page) and
record nothing until it is set by hand and the command runs again with
--confirm.
Exit code 1 when any repository was refused, failed or waits for --confirm.`,
		Example:   example("cutover flag on --wave 0", "cutover flag on --repo acme/widget --otp 123456", `cutover flag on --repo acme/widget --force "publisher set up by hand"`, "cutover flag on --repo acme/circle-widget --confirm", "cutover flag off --repo acme/widget"),
		Args:      exactArgs(1, "on|off"),
		ValidArgs: []string{"on", "off"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] != "on" && args[0] != "off" {
				return usageErrorf(cmd, "want on or off, got %q", args[0])
			}
			target, err := tf.target(cmd, app)
			if err != nil {
				return err
			}
			opts := batch.FlagOptions{On: args[0] == "on", Target: target, Force: force, Confirm: confirm}
			if opts.Force != "" && !opts.On {
				return usageErrorf(cmd, "--force applies to flag on only")
			}
			run := func(e *batch.Engine) error {
				sum, err := e.Flag(cmd.Context(), opts)
				if err != nil && len(sum.Outcomes) == 0 {
					return err
				}
				if err := app.writeSummary(f.format, sum, nil); err != nil {
					return err
				}
				// A flip cutover could not make (a CircleCI variable with
				// no API token) is not done: exit 1 until --confirm.
				if sum.Count(batch.Manual) > 0 {
					return ErrFindings
				}
				return nil
			}
			if !opts.On {
				return app.withEngine(cmd, f, true, run)
			}
			n, done, err := app.npmSteps(cmd, f, nf, true, true)
			if err != nil {
				if opts.Force == "" {
					return err
				}
				// --force overrides the checks; without an npm login the
				// trusted publishers are one of them, unchecked and said so.
				app.Logger.Warn("flag on --force without an npm login: trusted publishers are not checked", "error", err)
				return app.withEngine(cmd, f, true, run)
			}
			defer done()
			n.Engine.Registry = n.Registry
			return run(n.Engine)
		},
	}
	tf.register(cmd)
	cmd.Flags().StringVar(&force, "force", "", "turn the flag on although a check failed; the `REASON` is recorded")
	cmd.Flags().BoolVar(&confirm, "confirm", false, "record the flip of a CircleCI pipeline's flag that you set in CircleCI (no [circleci] token_env)")
	nf.register(cmd)
	f.register(cmd, true)
	return cmd
}

// watchRegistry gives the engine the registry client the release watch of
// status reads packuments with (the login when there is one, else
// anonymous).
func (app *App) watchRegistry(cmd *cobra.Command, f *campaignFlags, e *batch.Engine) error {
	reg, err := app.Registry(cmd, f.registry)
	if err != nil {
		return err
	}
	c, err := app.npmClient(cmd, reg, nil, false)
	if err != nil {
		return err
	}
	e.Registry = c
	return nil
}

func newRetryCmd(app *App) *cobra.Command {
	f := &campaignFlags{}
	sf := &selectFlags{}
	var onlyFailed bool
	cmd := &cobra.Command{
		Use:   "retry --failed [--repo R... | --repos-file FILE] [--skip-repo R...] [--topic T...]",
		Short: "Redo the repositories whose last step failed",
		Long: `Redo only the repositories whose last recorded step failed: inventory and
apply (executed) are redone; other steps are redone by their own commands.
With the selection flags only the failed repositories they keep are redone.`,
		Example: example("cutover retry --failed"),
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !onlyFailed {
				return usageErrorf(cmd, "--failed is required (retry redoes failed repositories only)")
			}
			sel, err := sf.selection(cmd, app)
			if err != nil {
				return err
			}
			return app.withEngine(cmd, f, true, func(e *batch.Engine) error {
				e.Opts.Select = sel
				sum, err := e.Retry(cmd.Context())
				if err != nil && len(sum.Outcomes) == 0 {
					return err
				}
				return app.writeSummary(f.format, sum, nil)
			})
		},
	}
	cmd.Flags().BoolVar(&onlyFailed, "failed", false, "redo the repositories whose last step failed")
	sf.register(cmd)
	f.register(cmd, true)
	return cmd
}
