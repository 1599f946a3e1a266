package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/batch/schedule"
	"github.com/cutover/cutover/batch/sweep"
	"github.com/cutover/cutover/internal/config"
	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/npm"
)

type scheduleOptions struct {
	// once is the job to run now; "" runs the scheduler.
	once string
	// list prints the jobs and their next runs.
	list bool
	// reportDir is where report jobs write.
	reportDir string
	// next is how many run times --list shows per job.
	next int
}

func newScheduleCmd(app *App) *cobra.Command {
	f := &campaignFlags{}
	opts := &scheduleOptions{}
	cmd := &cobra.Command{
		Use:   "schedule [--once JOB] [--list]",
		Short: "Run the configured jobs on their cron schedules",
		Long: `Run the jobs of the config's [[schedule.job]] tables on their cron schedules:

  status           refresh pull requests and wave gates, and watch the releases
                   after flag on, blocking a repository whose release failed or
                   whose new version did not come through OIDC (cutover status)
  apply-next-wave  apply the next wave, only when the wave before met its
                   gate (wave 0, the canaries, is started by hand)
  sweep            send rotation reminders and look for drift (cutover sweep --execute)
  report           write the campaign report (cutover report) into --report-dir

A spec has five fields (minute hour day-of-month month day-of-week) or is a
descriptor (@hourly, @daily, @weekly, @every 6h), with an optional time zone
prefix: "CRON_TZ=Europe/Berlin 0 3 * * *". Specs without one use the
machine's local time zone. Every spec is checked at start; an error names the
job. Next run times are logged.

A job whose previous run is still going is skipped (and the skip recorded).
Only one scheduler acts on a ledger at a time: it holds a lock in the ledger,
renewed while it runs; a second one waits in standby and takes over when the
first stops. On SIGTERM or Ctrl-C the scheduler starts nothing new, lets the
running job finish the repositories in flight, records the run and exits.
Every run is recorded in the ledger with an event.

--once JOB runs one job now and exits, for Kubernetes CronJobs and scheduled
GitHub Actions workflows; its exit code is 1 when the run failed.`,
		Example: example(
			"cutover schedule --list",
			"cutover schedule",
			"cutover schedule --once nightly-sweep",
		),
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.once != "" && opts.list {
				return usageErrorf(cmd, "give --once or --list, not both")
			}
			return app.runSchedule(cmd, f, opts)
		},
	}
	f.register(cmd, false)
	cmd.Flags().StringVar(&opts.once, "once", "", "run the job named `JOB` now and exit")
	cmd.Flags().BoolVar(&opts.list, "list", false, "print the jobs and their next run times, then exit")
	cmd.Flags().IntVar(&opts.next, "next", 3, "how many next run times --list shows per job")
	cmd.Flags().StringVar(&opts.reportDir, "report-dir", "reports", "folder report jobs write the campaign report into")
	_ = cmd.RegisterFlagCompletionFunc("once", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var names []string
		for _, j := range app.Config.Schedule.Job {
			names = append(names, j.Name)
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

// jobSpecs converts the config's jobs.
func jobSpecs(jobs []config.Job) []schedule.JobSpec {
	out := make([]schedule.JobSpec, len(jobs))
	for i, j := range jobs {
		out[i] = schedule.JobSpec{Name: j.Name, Spec: j.Spec, Run: j.Run}
	}
	return out
}

func (app *App) runSchedule(cmd *cobra.Command, f *campaignFlags, opts *scheduleOptions) error {
	ctx := cmd.Context()
	jobs, err := schedule.ParseJobs(jobSpecs(app.Config.Schedule.Job), nil, app.Now())
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("[[schedule.job]] in the config: %w", err)}
	}
	if opts.list {
		s := &schedule.Scheduler{Jobs: jobs, Funcs: map[string]schedule.JobFunc{}}
		for _, k := range schedule.JobKinds {
			s.Funcs[k] = func(context.Context) (schedule.RunResult, error) { return schedule.RunResult{}, nil }
		}
		return writeJobList(app.Out, s.NextRuns(app.Now(), max(opts.next, 1)))
	}
	if len(jobs) == 0 {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("no jobs to run: add [[schedule.job]] tables to the config (see cutover schedule --help)")}
	}
	if opts.once != "" {
		if err := checkOnce(opts.once, jobs); err != nil {
			return &ExitError{Code: ExitUsage, Err: err}
		}
	}
	e, done, err := app.engine(cmd, f, true)
	if err != nil {
		return err
	}
	defer done()
	// The status job watches releases after flag on as status does: it
	// reads the versions published since with the same registry client.
	if err := app.watchRegistry(cmd, f, e); err != nil {
		return err
	}
	report := func(ctx context.Context) (schedule.RunResult, error) {
		ro := &reportOptions{
			ledgerPath: e.Ledger.Path(), outDir: opts.reportDir, formats: []string{"json", "html", "md"},
			campaign: app.Config.Campaign.Name, now: app.Now, out: io.Discard,
		}
		ro.meta.ToolVersion = buildVersion(debug.ReadBuildInfo)
		ro.meta.FlagVariable = app.Config.Rewrite.FlagVar
		ro.meta.Redactor = app.Redactor
		if err := runReport(ctx, ro); err != nil {
			return schedule.RunResult{}, err
		}
		return schedule.RunResult{Outcome: ledger.OutcomeOK, Message: "report written to " + opts.reportDir}, nil
	}
	s := &schedule.Scheduler{
		Jobs:     jobs,
		Funcs:    schedule.JobFuncs(e, app.sweepOptions(e.Opts.Registry), report),
		Store:    e.Ledger,
		Owner:    app.lockOwner, // the campaign lock engine took is the scheduler's lock,
		LockHeld: true,          // released by the command when it is done
		Now:      app.Now,
		Logger:   app.Logger,
	}
	if opts.once != "" {
		res, err := s.RunOnce(ctx, opts.once)
		if err != nil {
			return err
		}
		fmt.Fprintf(app.Out, "%s: %s: %s\n", opts.once, res.Outcome, app.Redactor.Redact(res.Message))
		if res.Outcome == ledger.OutcomeFailed {
			return ErrFindings
		}
		return nil
	}
	return s.Run(ctx)
}

// writeJobList prints the jobs and their next runs.
func writeJobList(w io.Writer, runs []schedule.NextRun) error {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tRUN\tSPEC\tNEXT RUNS")
	for _, r := range runs {
		var next []string
		for _, t := range r.Next {
			next = append(next, t.Format("2006-01-02 15:04 MST"))
		}
		line := strings.Join(next, ", ")
		if r.Unavailable != "" {
			line += " (cannot run: " + r.Unavailable + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Job.Name, r.Job.Run, r.Job.Spec, line)
	}
	tw.Flush()
	if len(runs) == 0 {
		b.WriteString("no jobs: add [[schedule.job]] tables to the config\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// sweepOptions builds the sweep's options from the config: thresholds, the
// webhook (CUTOVER_SWEEP_WEBHOOK when the config has none) and an npm
// client for the registry at reg.
func (app *App) sweepOptions(reg string) sweep.Options {
	c := app.Config.Sweep
	o := sweep.Options{AgeDays: c.AgeDays, ExpiryDays: c.ExpiryDays, EscalateDays: c.EscalateDays, Webhook: c.WebhookURL}
	if o.Webhook == "" {
		o.Webhook = strings.TrimSpace(app.Getenv("CUTOVER_SWEEP_WEBHOOK"))
	}
	if reg != "" {
		o.Registry = &sweepRegistry{
			client: &npm.Client{BaseURL: reg, Token: npm.Secret(app.Getenv(app.Config.NPM.TokenEnv)), Logger: app.Logger, Now: app.Now, Redactor: app.Redactor},
			env:    app.Config.NPM.TokenEnv,
		}
	}
	return o
}

// sweepRegistry reads packuments without a token and lists tokens only
// when one is set.
type sweepRegistry struct {
	client *npm.Client
	env    string
}

func (r *sweepRegistry) Tokens(ctx context.Context) ([]npm.Token, error) {
	if r.client.Token == "" {
		return nil, fmt.Errorf("%s is not set: %w", r.env, sweep.ErrNoRegistryToken)
	}
	return r.client.Tokens(ctx)
}

func (r *sweepRegistry) Packument(ctx context.Context, name string) (*npm.Packument, error) {
	return r.client.Packument(ctx, name)
}

type sweepFlags struct {
	execute bool
}

func newSweepCmd(app *App) *cobra.Command {
	f := &campaignFlags{}
	sf := &sweepFlags{}
	cmd := &cobra.Command{
		Use:   "sweep [--execute]",
		Short: "Remind owners of npm tokens due for rotation, and find drift back to tokens",
		Long: `Find every credential that still needs care, and remind its owners:

  - npm token secrets in the inventoried repositories (GitHub's updated_at is
    the last rotation) and npm tokens known to the ledger or listed by the
    registry (with the token in [npm] token_env): a reminder when a token is
    [sweep] age_days old (60), escalating from expiry_days (14) before it
    expires and at each of escalate_days; a write token whose expiry is not
    known is taken to expire 90 days after it was created or last rotated;
  - drift: a cut-over repository (feature flag on) whose workflows publish
    with a token again, or a package whose newest release lacks the
    trusted-publisher evidence an earlier one had.

Without --execute this is a dry run: it prints what it would send. With
--execute each reminder is one issue per repository and topic, found again by
a hidden marker (updated, never duplicated, closed when resolved), and the
new, escalated and resolved reminders are posted to [sweep] webhook_url (or
$CUTOVER_SWEEP_WEBHOOK) as JSON with a Slack-compatible "text" field.
Reminders for tokens no repository is known for go to the webhook and the
event log only. Results are recorded in the ledger either way.

Exit code 1 when a repository could not be checked.`,
		Example: example(
			"cutover sweep",
			"cutover sweep --execute",
			"cutover sweep --format json > sweep.json",
		),
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, done, err := app.engine(cmd, f, true)
			if err != nil {
				return err
			}
			defer done()
			o := app.sweepOptions(e.Opts.Registry)
			o.Execute = sf.execute
			res, err := sweep.Run(cmd.Context(), e, o)
			if err != nil {
				return err
			}
			return app.writeSweep(f.format, res)
		},
	}
	f.register(cmd, true)
	cmd.Flags().BoolVar(&sf.execute, "execute", false, "open, update and close reminder issues and post the webhook (default: dry run)")
	return cmd
}

// writeSweep prints a sweep's result.
func (app *App) writeSweep(format string, res sweep.Result) error {
	var b strings.Builder
	if format == "json" {
		out, err := json.MarshalIndent(map[string]any{"schema": "cutover.sweep/v1", "result": res}, "", "  ")
		if err != nil {
			return err
		}
		b.Write(out)
		b.WriteString("\n")
	} else {
		tw := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "REPO\tTOPIC\tLEVEL\tCHANGE\tREMINDER")
		for _, d := range append(append([]sweep.Due(nil), res.Reminders...), res.Resolved...) {
			repo := d.Repo
			if repo == "" {
				repo = "(account)"
			}
			text := d.Message
			if d.IssueURL != "" {
				text += " " + d.IssueURL
			}
			if d.Error != "" {
				text += " (error: " + d.Error + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", repo, d.Topic, d.Level, d.Change, oneLine(app.Redactor, text, 200))
		}
		tw.Flush()
		fmt.Fprintf(&b, "\n%d reminder(s) due, %d new or escalated, %d resolved", len(res.Reminders), len(res.Changed()), len(res.Resolved))
		if res.Webhook != "" {
			fmt.Fprintf(&b, "; webhook: %s", res.Webhook)
		}
		b.WriteString("\n")
		for _, p := range res.Problems {
			fmt.Fprintf(&b, "problem: %s\n", p)
		}
		res.Summary.Write(&b, app.Redactor)
	}
	if _, err := io.WriteString(app.Out, app.Redactor.Redact(b.String())); err != nil {
		return err
	}
	if res.Summary.Failed() || len(res.Problems) > 0 {
		return ErrFindings
	}
	return nil
}

// parseDay reads a date (2026-05-01) or a timestamp (RFC 3339).
func parseDay(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date such as 2026-05-01 or a time such as 2026-05-01T12:00:00Z", s)
	}
	return t, nil
}

// checkOnce says why --once NAME names no job of the config: --once takes a
// job's name, and a job kind (sweep, status, ...) is a common mistake, so
// the error names the jobs that run that kind.
func checkOnce(name string, jobs []schedule.ScheduledJob) error {
	var names, ofKind []string
	for _, j := range jobs {
		if j.Name == name {
			return nil
		}
		names = append(names, fmt.Sprintf("%s (%s)", j.Name, j.Run))
		if j.Run == name {
			ofKind = append(ofKind, j.Name)
		}
	}
	switch {
	case len(ofKind) > 0:
		return fmt.Errorf("--once %q: %q is a job kind, not a job name; --once takes the name of a [[schedule.job]]: %s (the job running %s: %s)",
			name, name, strings.Join(names, ", "), name, strings.Join(ofKind, ", "))
	case slices.Contains(schedule.JobKinds, name):
		return fmt.Errorf("--once %q: %q is a job kind, not a job name, and no job of the config runs it; --once takes the name of a [[schedule.job]]: %s",
			name, name, strings.Join(names, ", "))
	}
	return fmt.Errorf("--once %q: no job %q in the config; jobs: %s", name, name, strings.Join(names, ", "))
}
