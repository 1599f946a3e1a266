package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/npm"
)

type preflightOptions struct {
	// tokenEnv names the environment variable holding the token.
	tokenEnv string
	// token is its value (never printed).
	token string
	// expires is the token's expiry when given; zero when not.
	expires time.Time
	// minDays is the lifetime the token must have left.
	minDays int
	// export is a ledger export (JSON) the expiry is looked up in.
	export string
	// tokenName selects the token in the export by name.
	tokenName string
	// registry is the npm registry URL.
	registry string
	// now is the clock.
	now func() time.Time
	// client is the registry client; built from registry and token when nil.
	client *npm.Client
	// out receives the result and GitHub annotations.
	out io.Writer
}

func newPreflightCmd(app *App) *cobra.Command {
	opts := &preflightOptions{}
	var registryFlag, expiresFlag string
	cmd := &cobra.Command{
		Use:   "preflight [flags]",
		Short: "Check, in a CI publish job, that its npm token works and lives long enough",
		Long: `Check the npm token a CI publish job still uses, before the publish step:

  1. the environment variable (--token-env, default [npm] token_env) is set
     and not empty;
  2. the registry accepts it (GET /-/whoami);
  3. when its expiry is known (--expires, or the token in a ledger export
     matched by its displayed prefix or by --token-name), at least --min-days
     days of its lifetime are left. A write token whose expiry the export
     does not give is taken to expire 90 days after it was created.

It fails fast with an actionable message and a GitHub Actions annotation
(::error::) that shows on the run's summary; a token with less than twice
--min-days left also gets a ::warning::. The token value is never printed.

Exit code 0 when the token passes, 1 when a check fails, 2 for usage errors.`,
		Example: example(
			"cutover preflight",
			"cutover preflight --token-env NODE_AUTH_TOKEN --expires 2026-09-01",
			"cutover preflight --ledger-export ledger.json --min-days 14",
		),
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.tokenEnv == "" {
				opts.tokenEnv = app.Config.NPM.TokenEnv
			}
			if !envNameOK(opts.tokenEnv) {
				return usageErrorf(cmd, "--token-env %q is not an environment variable name", opts.tokenEnv)
			}
			if expiresFlag != "" {
				t, err := parseDay(expiresFlag)
				if err != nil {
					return usageErrorf(cmd, "--expires: %v", err)
				}
				opts.expires = t
			}
			if opts.minDays < 0 {
				return usageErrorf(cmd, "--min-days %d: want 0 or more", opts.minDays)
			}
			reg, err := app.Registry(cmd, registryFlag)
			if err != nil {
				return err
			}
			opts.registry, opts.now, opts.out = reg, app.Now, app.Out
			opts.token = app.Getenv(opts.tokenEnv)
			return runPreflight(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.tokenEnv, "token-env", "", "environment variable holding the npm token (default: [npm] token_env, NPM_TOKEN)")
	fl.StringVar(&expiresFlag, "expires", "", "the token's expiry, `DATE` (2026-09-01) or RFC 3339 time")
	fl.IntVar(&opts.minDays, "min-days", 7, "days of lifetime the token must have left")
	fl.StringVar(&opts.export, "ledger-export", "", "the JSON document of cutover ledger export to look the expiry up in")
	fl.StringVar(&opts.tokenName, "token-name", "", "name of the token in the ledger export, when its prefix does not identify it")
	fl.StringVar(&registryFlag, "registry", "", "npm registry URL (default: config, NPM_CONFIG_REGISTRY, npm config)")
	_ = cmd.MarkFlagFilename("ledger-export", "json")
	return cmd
}

func envNameOK(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r != '_' && (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// preflightFailure is a failed check: printed as an annotation, exit 1.
func preflightFailure(w io.Writer, msg string) error {
	fmt.Fprintf(w, "::error title=cutover preflight::%s\n", annotationEscape(msg))
	return &ExitError{Code: ExitFindings, Err: errors.New(msg)}
}

// annotationEscape escapes a message for a GitHub Actions workflow command.
func annotationEscape(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func runPreflight(ctx context.Context, opts *preflightOptions) error {
	name := opts.tokenEnv
	if strings.TrimSpace(opts.token) == "" {
		return preflightFailure(opts.out, fmt.Sprintf("%s is not set or empty: pass the secret to this job (env: %s: ${{ secrets.%s }}), or publish with npm trusted publishing (OIDC) and drop the token", name, name, name))
	}
	if opts.token != strings.TrimSpace(opts.token) {
		return preflightFailure(opts.out, fmt.Sprintf("%s has leading or trailing white space: set the secret again without it", name))
	}
	client := opts.client
	if client == nil {
		client = &npm.Client{BaseURL: opts.registry, Token: npm.Secret(opts.token), Now: opts.now, MaxRetries: 2}
	}
	user, err := client.Whoami(ctx)
	switch {
	case errors.Is(err, npm.ErrUnauthorized):
		return preflightFailure(opts.out, fmt.Sprintf("the registry %s refused the token in %s (401): it is expired, revoked or mistyped; create a new granular access token with publish rights and update the secret", opts.registry, name))
	case errors.Is(err, npm.ErrForbidden):
		return preflightFailure(opts.out, fmt.Sprintf("the registry %s refused the token in %s (403): it may be limited to other addresses (CIDR) or lack the rights; check the token's settings on npm", opts.registry, name))
	case err != nil:
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return preflightFailure(opts.out, fmt.Sprintf("could not check the token in %s with the registry %s: %v", name, opts.registry, err))
	}

	now := opts.now()
	expires, source := opts.expires, "--expires"
	if expires.IsZero() && opts.export != "" {
		t, how, err := exportExpiry(opts.export, opts.token, opts.tokenName)
		if err != nil {
			return &ExitError{Code: ExitUsage, Err: err}
		}
		expires, source = t, how
	}
	if expires.IsZero() {
		fmt.Fprintf(opts.out, "ok: %s is accepted by %s as %q; its expiry is not known (give --expires or --ledger-export to check it)\n", name, opts.registry, user)
		return nil
	}
	left := expires.Sub(now)
	days := int(left.Hours() / 24)
	when := expires.UTC().Format(time.DateOnly)
	switch {
	case left <= 0:
		return preflightFailure(opts.out, fmt.Sprintf("the token in %s expired on %s (%s) although the registry still accepts it now: rotate it before publishing", name, when, source))
	case left < time.Duration(opts.minDays)*24*time.Hour:
		return preflightFailure(opts.out, fmt.Sprintf("the token in %s expires on %s, in %d day(s), less than --min-days %d (%s): create a new token, update the secret, and revoke this one; or move this package to npm trusted publishing", name, when, days, opts.minDays, source))
	case left < time.Duration(2*opts.minDays)*24*time.Hour:
		fmt.Fprintf(opts.out, "::warning title=cutover preflight::%s\n", annotationEscape(fmt.Sprintf("the token in %s expires on %s, in %d day(s): rotate it soon", name, when, days)))
	}
	fmt.Fprintf(opts.out, "ok: %s is accepted by %s as %q; it expires on %s, in %d day(s) (%s)\n", name, opts.registry, user, when, days, source)
	return nil
}

// exportExpiry finds the token in a ledger export (any JSON document with a
// "tokens" list of ledger tokens, at the top or under "ledger") by its
// displayed prefix or by name, and returns its expiry: recorded, or 90 days
// after creation for a write token. Zero means not found or not known.
func exportExpiry(path, token, name string) (time.Time, string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("could not read the ledger export %q: %w", path, err)
	}
	var doc struct {
		Tokens []ledger.Token `json:"tokens"`
		Ledger struct {
			Tokens []ledger.Token `json:"tokens"`
		} `json:"ledger"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return time.Time{}, "", fmt.Errorf("the ledger export %q is not JSON: %w", path, err)
	}
	tokens := append(doc.Tokens, doc.Ledger.Tokens...)
	var match []ledger.Token
	for _, t := range tokens {
		switch {
		case name != "" && t.Name == name:
			match = append(match, t)
		case name == "" && len(t.Prefix) >= 4 && strings.HasPrefix(token, strings.TrimRight(t.Prefix, ".…*")):
			match = append(match, t)
		}
	}
	if len(match) != 1 {
		return time.Time{}, "", nil
	}
	t := match[0]
	switch {
	case t.Expires != nil:
		return *t.Expires, "from the ledger export", nil
	case !t.Readonly && !t.Created.IsZero():
		return t.Created.Add(90 * 24 * time.Hour), "estimated: created " + t.Created.UTC().Format(time.DateOnly) + " plus npm's 90-day cap on write tokens", nil
	}
	return time.Time{}, "", nil
}
