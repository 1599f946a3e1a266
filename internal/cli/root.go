package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/batch"

	"github.com/cutover/cutover/internal/logging"
)

// Main runs cutover with args (without the program name) and returns the
// exit code. It never calls os.Exit and uses only the given streams and
// getenv, so tests run it in-process.
func Main(ctx context.Context, args []string, s Streams, getenv func(string) string) (code int) {
	app := newApp(s, getenv)
	return app.execute(ctx, newRootCmd(app), args)
}

// execute runs root with args and turns the outcome, a panic included, into
// an exit code.
func (app *App) execute(ctx context.Context, root *cobra.Command, args []string) (code int) {
	defer func() {
		if p := recover(); p != nil {
			site := logging.PanicSite()
			app.Logger.Error("internal error: a panic stopped cutover", "panic", fmt.Sprint(p), "at", site, "stack", string(debug.Stack()))
			fmt.Fprintf(app.Err, "error: internal error: %s\nhint: %s\n", app.Redactor.Redact(fmt.Sprint(p)), logging.PanicHint(site))
			code = ExitFatal
		}
	}()
	// The first interrupt says what the command still waits for; the
	// command then stops as soon as that is done. A command it cut short
	// exits 130; one that runs until interrupted (sandbox serve) exits 0.
	stopLog := context.AfterFunc(ctx, func() {
		if app.campaign.Load() {
			app.Logger.Warn(fmt.Sprintf("stopping: finishing %d repositories in flight; interrupt again to stop at once", app.inFlight.Load()))
		}
	})
	defer stopLog()
	root.SetArgs(args)
	_, err := root.ExecuteContextC(ctx)
	code = app.exit(ctx, err)
	if ctx.Err() != nil && err != nil && code != ExitUsage {
		code = ExitInterrupted
	}
	return code
}

// recovered logs msg and a panic recovered while working on one item (args
// name it) at error level with its stack, and returns the item's error: the
// panic and a hint naming the first frame of cutover's own code. Call it
// from the deferred function that recovers.
func (app *App) recovered(msg string, p any, args ...any) string {
	site := logging.PanicSite()
	app.Logger.Error(msg, append(args, "panic", fmt.Sprint(p), "at", site, "stack", string(debug.Stack()))...)
	return fmt.Sprintf("internal error: %v (%s)", p, logging.PanicHint(site))
}

// commands lists the top-level commands, in help order. To add a command,
// write newXCmd(app) in its own file and list it here.
func commands(app *App) []*cobra.Command {
	return []*cobra.Command{
		newDemoCmd(app),
		newScanCmd(app),
		newRewriteCmd(app),
		newInventoryCmd(app),
		newPlanCmd(app),
		newApplyCmd(app),
		newStatusCmd(app),
		newShowCmd(app),
		newDashboardCmd(app),
		newFlagCmd(app),
		newMergeCmd(app),
		newTrustCmd(app),
		newVerifyCmd(app),
		newLockdownCmd(app),
		newRevokeCmd(app),
		newRetryCmd(app),
		newReportCmd(app),
		newLedgerCmd(app),
		newScheduleCmd(app),
		newSweepCmd(app),
		newPreflightCmd(app),
		newLintCmd(app),
		newSandboxCmd(app),
		newConfigCmd(app),
		newVersionCmd(app),
		// cobra adds "completion" and "help" itself.
	}
}

func newRootCmd(app *App) *cobra.Command {
	root := &cobra.Command{
		Use:   "cutover",
		Short: "Move a portfolio of npm packages from publish tokens to trusted publishing",
		Long: strings.TrimSpace(`
cutover finds how each repository of an organisation publishes to npm, and
migrates its publishing from long-lived npm tokens to OIDC trusted publishing
in waves, behind a per-repository flag that makes rollback a variable flip.

Exit codes: 0 ok, 1 findings or some repositories failed, 2 usage or
configuration error, 3 fatal error, 4 a wave's gate refused the next wave,
130 interrupted.`),
		Example: example(
			"cutover config check cutover.toml",
			"cutover --config cutover.toml --log-level debug version",
			"source <(cutover completion bash)",
		),
		SilenceUsage:               true,
		SilenceErrors:              true,
		SuggestionsMinimumDistance: 2,
		// Args and RunE make the root report an unknown command as a usage
		// error rather than cobra's plain error.
		Args: cobra.ArbitraryArgs,
		RunE: groupRunE,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return app.setup(cmd)
		},
	}
	root.SetIn(app.In)
	root.SetOut(app.Out)
	root.SetErr(app.Err)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &UsageError{Cmd: cmd.CommandPath(), Err: err}
	})

	pf := root.PersistentFlags()
	pf.StringVar(&app.flags.configPath, "config", "", "read configuration from `FILE` (default: $CUTOVER_CONFIG, else built-in defaults)")
	pf.StringVar(&app.flags.logLevel, "log-level", "", "lowest level logged: debug, info, warn or error (default: log.level of the config, else info)")
	pf.StringVar(&app.flags.logFormat, "log-format", "", "log format: auto (text on a terminal, JSON lines otherwise), text or json (default: log.format of the config, else auto)")
	pf.BoolVar(&app.flags.noColor, "no-color", false, "no colours (also when NO_COLOR is set)")
	_ = root.RegisterFlagCompletionFunc("log-level", fixedCompletions("debug", "info", "warn", "error"))
	_ = root.RegisterFlagCompletionFunc("log-format", fixedCompletions("auto", "text", "json"))
	_ = root.MarkPersistentFlagFilename("config", "toml")

	root.AddCommand(commands(app)...)
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	if c, _, err := root.Find([]string{"completion"}); err == nil && c.Name() == "completion" {
		c.Example = example("cutover completion zsh > \"${fpath[1]}/_cutover\"", "source <(cutover completion bash)")
		c.Annotations = map[string]string{annotationNoConfig: ""}
		c.Args, c.RunE = cobra.ArbitraryArgs, groupRunE
		for _, sub := range c.Commands() {
			sub.Example = example(fmt.Sprintf("cutover completion %s --help", sub.Name()))
		}
	}
	if c, _, err := root.Find([]string{"help"}); err == nil && c.Name() == "help" {
		c.Example = example("cutover help config check")
	}
	usageArgs(root)
	return root
}

// usageArgs makes every positional-argument check in the tree return a
// *UsageError, so that cobra.ExactArgs and friends exit with ExitUsage.
func usageArgs(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			err := check(cmd, args)
			var usage *UsageError
			if err != nil && !errors.As(err, &usage) {
				return &UsageError{Cmd: cmd.CommandPath(), Err: err}
			}
			return err
		}
	}
	for _, sub := range c.Commands() {
		usageArgs(sub)
	}
}

// exit prints err as its kind requires and returns the exit code.
func (app *App) exit(ctx context.Context, err error) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, ErrFindings) {
		return ExitFindings
	}
	var usage *UsageError
	if errors.As(err, &usage) {
		app.printError(usage.Err)
		cmd := usage.Cmd
		if cmd == "" {
			cmd = "cutover"
		}
		fmt.Fprintf(app.Err, "Run '%s --help' for usage.\n", cmd)
		return ExitUsage
	}
	// A repository named on the command line that does not exist is a
	// mistake in the command line.
	var unknown *batch.UnknownRepoError
	if errors.As(err, &unknown) {
		app.printError(err)
		return ExitUsage
	}
	var exitErr *ExitError
	if errors.As(err, &exitErr) {
		if exitErr.Err != nil {
			app.printError(exitErr.Err)
		}
		return exitErr.Code
	}
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		app.printError(errors.New("interrupted: run the command again to continue"))
		return ExitInterrupted
	}
	app.printError(err)
	return ExitFatal
}

// printError writes err to Err, one "error: " line per joined error, redacted.
func (app *App) printError(err error) {
	printErrors(app.Err, app.Redactor.Redact(err.Error()))
}

func printErrors(w io.Writer, text string) {
	for line := range strings.SplitSeq(text, "\n") {
		fmt.Fprintf(w, "error: %s\n", line)
	}
}
