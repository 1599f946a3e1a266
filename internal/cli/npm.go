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
	web bool
	// need2FA says the command will make calls that need two-factor
	// authentication; set by the command before it builds the client.
	need2FA bool
}

func (f *npmFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.otp, "otp", "", "one-time `CODE` for the registry's two-factor authentication")
	cmd.Flags().BoolVar(&f.web, "web", false, "approve the registry's web login in a browser: one link for the batch, valid five minutes")
}

// webLoginTimeout is how long cutover waits for a web login approval: the
// registry's five-minute window.
const webLoginTimeout = npm.DefaultWebLoginTimeout

// errNo2FA is what a command that needs two-factor authentication says when
// it runs off a terminal with no way to get a code: it fails at once
// instead of waiting for a login nobody will see.
func errNo2FA(cmd *cobra.Command) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s needs the npm registry's two-factor authentication, and there is no terminal to ask on: "+
		"pass --otp CODE (the code from your authenticator), or --web to approve one login in a browser for the whole batch "+
		"(the link is printed on stderr and is valid for five minutes)", cmd.CommandPath())}
}

// targetFlags select repositories by wave, by name, by topic or from a
// list, with the selection flags every campaign command shares.
type targetFlags struct {
	wave int
	sel  selectFlags
}

func (f *targetFlags) register(cmd *cobra.Command) {
	cmd.Flags().IntVar(&f.wave, "wave", 0, "the repositories of this wave (0 is the canaries)")
	f.sel.register(cmd)
}

// target returns the selection, or a usage error when it is missing or
// ambiguous.
func (f *targetFlags) target(cmd *cobra.Command, app *App) (batch.RepoTarget, error) {
	waveSet := cmd.Flags().Changed("wave")
	switch {
	case waveSet && f.sel.named():
		return batch.RepoTarget{}, usageErrorf(cmd, "give --wave or --repo/--repos-file, not both")
	case waveSet && f.wave < 0:
		return batch.RepoTarget{}, usageErrorf(cmd, "--wave %d: waves are numbered from 0", f.wave)
	case !waveSet && !f.sel.named() && len(f.sel.topics) == 0:
		return batch.RepoTarget{}, usageErrorf(cmd, "give --wave N, --repo OWNER/NAME, --repos-file FILE or --topic TOPIC")
	}
	s, err := f.sel.selection(cmd, app)
	if err != nil {
		return batch.RepoTarget{}, err
	}
	t := batch.RepoTarget{Repos: s.Repos, Skip: s.Skip, Topics: s.Topics}
	if waveSet {
		w := f.wave
		t.Wave = &w
	}
	return t, nil
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
		if f.need2FA && f.otp == "" && !f.web && !app.interactive() {
			return nil, errNo2FA(cmd)
		}
		otp = app.otpSource(cmd, f)
	}
	return &npm.Client{
		BaseURL: registry, HTTP: &http.Client{Timeout: 2 * time.Minute}, Token: tok, OTP: otp,
		Logger: app.Logger, Redactor: app.Redactor,
	}, nil
}

// otpSource answers the registry's two-factor challenges: the --otp value;
// else with --web the web login (its link and a countdown on stderr,
// falling back to a prompt on a terminal); else on a terminal the web login
// when the registry offers one, and a prompt otherwise. Off a terminal
// without --otp or --web a challenge fails at once. The wait for a web
// approval ends at once when the command is interrupted.
func (app *App) otpSource(cmd *cobra.Command, f *npmFlags) npm.OTPSource {
	if f.otp != "" {
		return npm.StaticOTP(f.otp)
	}
	var fallback npm.OTPSource
	if app.interactive() {
		fallback = npm.PromptOTP(app.promptLine())
	}
	if !f.web && fallback == nil {
		return nil
	}
	var last time.Duration
	return npm.WebOTP{
		Open: func(_ context.Context, authURL string) error {
			last = webLoginTimeout
			fmt.Fprintf(app.Err, "The npm registry asks you to approve this login in a browser within %s; tick \"skip 2FA for the next 5 minutes\" and this one approval covers the whole batch:\n  %s\n", fmtLeft(webLoginTimeout), authURL)
			return nil
		},
		Fallback:  fallback,
		Timeout:   webLoginTimeout,
		Interrupt: cmd.Context(),
		Countdown: func(left time.Duration) {
			if last-left >= 30*time.Second || left < 10*time.Second && last >= 10*time.Second {
				fmt.Fprintf(app.Err, "  waiting for the approval: %s left\n", fmtLeft(left))
				last = left
			}
		},
	}
}

// fmtLeft formats a countdown as m:ss.
func fmtLeft(d time.Duration) string {
	d = max(d.Round(time.Second), 0)
	return fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

// interactive reports whether a person can be asked: stdin and stderr are
// a terminal.
func (app *App) interactive() bool {
	return isTerminalReader(app.In) && logging.IsTerminal(app.Err)
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
