package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/internal/logging"
	"github.com/cutover/cutover/internal/npm"
)

// npmFlags are the flags of the commands that call the npm registry with
// two-factor authentication.
type npmFlags struct {
	otp string
}

func (f *npmFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.otp, "otp", "", "one-time `CODE` for the registry's two-factor authentication (default: the web login when the registry offers it, else a prompt on a terminal)")
}

// targetFlags select repositories by wave or by name.
type targetFlags struct {
	wave  int
	repos []string
}

func (f *targetFlags) register(cmd *cobra.Command) {
	cmd.Flags().IntVar(&f.wave, "wave", 0, "the repositories of this wave (0 is the canaries)")
	cmd.Flags().StringSliceVar(&f.repos, "repo", nil, "this repository, OWNER/NAME (repeatable)")
}

// target returns the selection, or a usage error when it is missing or
// ambiguous.
func (f *targetFlags) target(cmd *cobra.Command) (batch.RepoTarget, error) {
	waveSet := cmd.Flags().Changed("wave")
	switch {
	case waveSet && len(f.repos) > 0:
		return batch.RepoTarget{}, usageErrorf(cmd, "give --wave or --repo, not both")
	case waveSet:
		if f.wave < 0 {
			return batch.RepoTarget{}, usageErrorf(cmd, "--wave %d: waves are numbered from 0", f.wave)
		}
		w := f.wave
		return batch.RepoTarget{Wave: &w}, nil
	case len(f.repos) == 0:
		return batch.RepoTarget{}, usageErrorf(cmd, "give --wave N or --repo OWNER/NAME")
	}
	for _, r := range f.repos {
		if o, n, ok := strings.Cut(r, "/"); !ok || o == "" || n == "" || strings.Contains(n, "/") {
			return batch.RepoTarget{}, usageErrorf(cmd, "--repo %q: want OWNER/NAME", r)
		}
	}
	return batch.RepoTarget{Repos: f.repos}, nil
}

// npmrcPath is the user's npm config file: $NPM_CONFIG_USERCONFIG, else
// ~/.npmrc.
func (app *App) npmrcPath() string {
	for _, k := range []string{"NPM_CONFIG_USERCONFIG", "npm_config_userconfig"} {
		if p := app.Getenv(k); p != "" {
			return p
		}
	}
	if home := app.Getenv("HOME"); home != "" {
		return filepath.Join(home, ".npmrc")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".npmrc")
	}
	return ""
}

// npmToken finds the token for registry calls: the variable named by [npm]
// token_env, else the user's npm login for the registry in .npmrc. It
// returns where it came from, never the value, for logs.
func (app *App) npmToken(registry string) (npm.Secret, string) {
	env := app.Config.NPM.TokenEnv
	if v := strings.TrimSpace(app.Getenv(env)); v != "" {
		return npm.Secret(v), "$" + env
	}
	p := app.npmrcPath()
	if p == "" {
		return "", ""
	}
	b, err := os.ReadFile(p)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			app.Logger.Warn("could not read the npm config file", "file", p, "error", err)
		}
		return "", ""
	}
	tok, ok := npm.NpmrcToken(b, registry, app.Getenv)
	if !ok {
		return "", ""
	}
	return tok, p
}

// addSecret makes the redactor and the logger also remove v, a credential
// that did not come from a configured variable (the .npmrc login).
func (app *App) addSecret(v string) {
	const key = "\x00cutover-extra-secret"
	get := app.Getenv
	app.Redactor = logging.NewEnvRedactor(func(k string) string {
		if k == key {
			return v
		}
		return get(k)
	}, append(app.Config.SecretEnvNames(), key)...)
	app.Logger = slog.New(logging.NewRedactingHandler(app.Logger.Handler(), app.Redactor))
}

// npmClient builds the registry client: the token (required when needAuth),
// and the two-factor source (--otp, the web login, or a terminal prompt).
func (app *App) npmClient(cmd *cobra.Command, registry string, f *npmFlags, needAuth bool) (*npm.Client, error) {
	tok, from := app.npmToken(registry)
	switch {
	case tok == "" && needAuth:
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("no npm token for %q: set %s, or log in with npm login (the token in %q is used)", registry, app.Config.NPM.TokenEnv, app.npmrcPath())}
	case tok == "":
		app.Logger.Debug("npm registry calls are anonymous", "registry", registry)
	case !strings.HasPrefix(from, "$"):
		app.addSecret(string(tok))
		app.Logger.Debug("npm token", "source", from)
	default:
		app.Logger.Debug("npm token", "source", from)
	}
	var otp npm.OTPSource
	if f != nil {
		otp = app.otpSource(cmd, f.otp)
	}
	return &npm.Client{
		BaseURL: registry, HTTP: &http.Client{Timeout: 2 * time.Minute}, Token: tok, OTP: otp,
		Logger: app.Logger,
	}, nil
}

// otpSource answers the registry's two-factor challenges: the --otp value,
// else the web login (its page printed on stderr), falling back to a prompt
// when stdin and stderr are a terminal.
func (app *App) otpSource(_ *cobra.Command, code string) npm.OTPSource {
	if code != "" {
		return npm.StaticOTP(code)
	}
	var fallback npm.OTPSource
	if isTerminalReader(app.In) && logging.IsTerminal(app.Err) {
		fallback = npm.PromptOTP(app.promptLine())
	}
	return npm.WebOTP{
		Open: func(_ context.Context, authURL string) error {
			fmt.Fprintf(app.Err, "The npm registry asks you to approve this login in a browser (tick \"skip for 5 minutes\" to approve the whole batch):\n  %s\n", authURL)
			return nil
		},
		Fallback: fallback,
	}
}

// promptLine returns a prompt that writes to stderr and reads a line from
// stdin; prompts never overlap.
func (app *App) promptLine() func(ctx context.Context, prompt string) (string, error) {
	var mu sync.Mutex
	in := bufio.NewReader(app.In)
	return func(ctx context.Context, prompt string) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if err := ctx.Err(); err != nil {
			return "", err
		}
		fmt.Fprint(app.Err, prompt)
		line, err := in.ReadString('\n')
		if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
			return "", fmt.Errorf("could not read the one-time password: %w", err)
		}
		return strings.TrimSpace(line), nil
	}
}

func isTerminalReader(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// npmSteps builds the engine and the npm steps for a command.
func (app *App) npmSteps(cmd *cobra.Command, f *campaignFlags, nf *npmFlags, needAuth, needForge bool) (*batch.NPM, func(), error) {
	// The client first: it may add a credential to the redactor and the
	// logger the engine then uses.
	reg, err := app.Registry(cmd, f.registry)
	if err != nil {
		return nil, nil, err
	}
	c, err := app.npmClient(cmd, reg, nf, needAuth)
	if err != nil {
		return nil, nil, err
	}
	e, done, err := app.engine(cmd, f, needForge)
	if err != nil {
		return nil, nil, err
	}
	return &batch.NPM{Engine: e, Registry: c, By: app.actor()}, done, nil
}

// actor says who acts, for the ledger: "cutover" and the local user.
func (app *App) actor() string {
	for _, k := range []string{"USER", "LOGNAME", "USERNAME"} {
		if u := app.Getenv(k); u != "" {
			return "cutover (" + u + ")"
		}
	}
	return "cutover"
}

// writeNPMDoc writes a step's result to stdout, redacted: doc with its
// schema as JSON, or text. It returns ErrFindings when findings is true.
func (app *App) writeNPMDoc(format, schema string, doc map[string]any, text string, findings bool) error {
	if format == "json" {
		doc["schema"] = schema
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return err
		}
		text = string(b) + "\n"
	}
	if _, err := io.WriteString(app.Out, app.Redactor.Redact(text)); err != nil {
		return err
	}
	if findings {
		return ErrFindings
	}
	return nil
}
