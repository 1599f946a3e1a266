package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/cutover/cutover/internal/config"
	"github.com/cutover/cutover/internal/logging"
	"github.com/spf13/cobra"
)

// Streams are the standard streams of one invocation.
type Streams struct {
	// In is standard input.
	In io.Reader
	// Out carries data: reports, tables, JSON.
	Out io.Writer
	// Err carries logs, progress and error messages.
	Err io.Writer
}

// App holds what every command needs. The root command fills it in from the
// global flags, the environment and the config file before a command runs.
type App struct {
	// Logger writes diagnostics to Err, redacted; never nil.
	Logger *slog.Logger
	// In is standard input.
	In io.Reader
	// Out carries the command's data.
	Out io.Writer
	// Err carries logs and messages.
	Err io.Writer
	// Getenv reads the environment; never nil.
	Getenv func(string) string
	// Config is the loaded configuration (defaults when no file is given), with
	// environment overrides applied; never nil.
	Config *config.Config
	// ConfigPath is the file Config came from, or "" for the defaults.
	ConfigPath string
	// Redactor removes secrets; use it on anything printed that did not go
	// through Logger.
	Redactor *logging.Redactor
	// Color says whether Out is a terminal and colours are allowed.
	Color bool
	// Now is the clock.
	Now func() time.Time
	// NPMConfigGet asks npm for its registry setting; config.NPMConfigGet by default.
	NPMConfigGet func(ctx context.Context) (string, error)
	// OpenURL opens a web address in the user's browser (show --web); the
	// operating system's opener by default.
	OpenURL func(ctx context.Context, url string) error

	flags globalFlags
	// logOut is where the logger writes: Err, or the progress bars while
	// they run.
	logOut *switchWriter
	// lockOwner is the owner of the campaign lock the command holds, if any.
	lockOwner string
	// inFlight counts the repositories whose step is running, for the
	// interrupt's message.
	inFlight atomic.Int64
	// campaign says a campaign engine was built: the interrupt's message
	// counts its repositories in flight.
	campaign atomic.Bool
}

// globalFlags are the persistent flags of the root command.
type globalFlags struct {
	configPath string
	logLevel   string
	logFormat  string
	noColor    bool
}

func newApp(s Streams, getenv func(string) string) *App {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if s.In == nil {
		s.In = eofReader{}
	}
	if s.Out == nil {
		s.Out = io.Discard
	}
	if s.Err == nil {
		s.Err = io.Discard
	}
	r := &logging.Redactor{}
	return &App{
		Logger:   logging.New(s.Err, logging.Options{Redactor: r}),
		In:       s.In,
		Out:      s.Out,
		Err:      s.Err,
		Getenv:   getenv,
		Config:   config.Default(),
		Redactor: r,
		Now:      time.Now,

		NPMConfigGet: config.NPMConfigGet,
		OpenURL:      openBrowser(getenv),
	}
}

// Registry returns the npm registry URL for cmd: flagValue (a --registry
// flag) if not empty, else config.ResolveRegistry over the config, the
// environment and npm's own setting. An invalid flagValue is a usage error.
func (app *App) Registry(cmd *cobra.Command, flagValue string) (string, error) {
	if flagValue != "" {
		u, err := config.NormalizeRegistry(flagValue)
		if err != nil {
			return "", &UsageError{Cmd: cmd.CommandPath(), Err: fmt.Errorf("--registry: %w", err)}
		}
		if err := config.CheckSecureURL(u, app.Config.NPM.AllowInsecureHTTP, "npm"); err != nil {
			return "", &ExitError{Code: ExitUsage, Err: fmt.Errorf("--registry: %w", err)}
		}
		app.Logger.Debug("npm registry", "url", u, "source", "flag")
		return u, nil
	}
	u, src, err := config.ResolveRegistry(cmd.Context(), app.Config.NPM.Registry, app.Getenv, app.NPMConfigGet)
	if err != nil {
		return "", err
	}
	if err := config.CheckSecureURL(u, app.Config.NPM.AllowInsecureHTTP, "npm"); err != nil {
		from := map[config.Source]string{config.SourceEnv: "NPM_CONFIG_REGISTRY", config.SourceNPM: "npm config get registry"}[src]
		return "", &ExitError{Code: ExitUsage, Err: fmt.Errorf("the npm registry from %s: %w", cmp.Or(from, string(src)), err)}
	}
	app.Logger.Debug("npm registry", "url", u, "source", string(src))
	return u, nil
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// annotationNoConfig marks a command (and its subcommands) that must work
// without reading the --config file, such as "config check" and "completion".
const annotationNoConfig = "cutover/no-config"

// setup fills in the App for cmd: config, redactor, logger, colour.
func (app *App) setup(cmd *cobra.Command) error {
	f := &app.flags
	if f.configPath == "" {
		f.configPath = app.Getenv("CUTOVER_CONFIG")
	}

	cfg := config.Default()
	if f.configPath != "" && !skipsConfig(cmd) {
		c, err := config.Load(f.configPath)
		if err != nil {
			return &ExitError{Code: ExitUsage, Err: err}
		}
		cfg = c
		app.ConfigPath = f.configPath
	}
	cfg.ApplyEnv(app.Getenv)
	if err := cfg.Validate(); err != nil {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("configuration after environment overrides: %w", err)}
	}
	app.Config = cfg
	app.Redactor = logging.NewEnvRedactor(app.Getenv, cfg.SecretEnvNames()...)

	levelText := cfg.Log.Level
	if cmd.Flags().Changed("log-level") {
		levelText = f.logLevel
	}
	level, err := logging.ParseLevel(levelText)
	if err != nil {
		return &UsageError{Cmd: cmd.CommandPath(), Err: err}
	}
	formatText := cfg.Log.Format
	if cmd.Flags().Changed("log-format") {
		formatText = f.logFormat
	}
	format, err := logging.ParseFormat(formatText)
	if err != nil {
		return &UsageError{Cmd: cmd.CommandPath(), Err: err}
	}
	noColor := f.noColor || app.Getenv("NO_COLOR") != ""
	// Logs go through logOut, which the progress bars take over while
	// they run, so that a log line prints above the bars, not into them.
	errTerminal := logging.IsTerminal(app.Err)
	app.logOut = &switchWriter{w: app.Err, base: app.Err}
	app.Logger = logging.New(app.logOut, logging.Options{
		Level:    level,
		Format:   format,
		NoColor:  noColor,
		Redactor: app.Redactor,
		Terminal: func(io.Writer) bool { return errTerminal },
	})
	app.Color = !noColor && logging.IsTerminal(app.Out)
	if app.ConfigPath != "" {
		app.Logger.Debug("loaded config", "file", app.ConfigPath)
	}
	return nil
}

// skipsConfig reports whether cmd or one of its parents is marked
// annotationNoConfig, or is one of cobra's completion commands.
func skipsConfig(cmd *cobra.Command) bool {
	for c := cmd; c != nil; c = c.Parent() {
		if _, ok := c.Annotations[annotationNoConfig]; ok {
			return true
		}
		switch c.Name() {
		case "completion", cobra.ShellCompRequestCmd, cobra.ShellCompNoDescRequestCmd:
			return true
		}
	}
	return false
}
