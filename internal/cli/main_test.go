package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// result is what one in-process run of cutover produced.
type result struct {
	code     int
	out, err string
}

func run(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(t.Context(), args, Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, func(k string) string { return env[k] })
	return result{code: code, out: out.String(), err: errb.String()}
}

func TestMain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		code    int
		out     []string // substrings of stdout
		err     []string // substrings of stderr
		errNone bool     // stderr must be empty
	}{
		{name: "no args prints help", args: nil, code: ExitOK, out: []string{"Usage:", "Available Commands:", "Exit codes:"}, errNone: true},
		{name: "help flag", args: []string{"--help"}, code: ExitOK, out: []string{"cutover config check"}},
		{name: "help command", args: []string{"help", "config", "check"}, code: ExitOK, out: []string{"check FILE..."}},
		{name: "version", args: []string{"version"}, code: ExitOK, out: []string{"cutover ", "go1."}, errNone: true},
		{name: "version extra arg", args: []string{"version", "x"}, code: ExitUsage, err: []string{`error: cutover version takes no arguments, got ["x"]`, "Run 'cutover version --help' for usage."}},
		{name: "unknown flag", args: []string{"--bogus"}, code: ExitUsage, err: []string{"error: unknown flag: --bogus", "Run 'cutover --help' for usage."}},
		{name: "unknown flag on subcommand", args: []string{"config", "check", "--bogus", "x"}, code: ExitUsage, err: []string{"unknown flag: --bogus", "Run 'cutover config check --help' for usage."}},
		{name: "unknown command", args: []string{"versoin"}, code: ExitUsage, err: []string{`unknown command "versoin" for "cutover" (did you mean "version"?)`}},
		{name: "unknown subcommand", args: []string{"config", "chek"}, code: ExitUsage, err: []string{`unknown command "chek" for "cutover config" (did you mean "check"?)`}},
		{name: "bad log level", args: []string{"--log-level", "loud", "version"}, code: ExitUsage, err: []string{`unknown log level "loud"`}},
		{name: "bad log format", args: []string{"--log-format=xml", "version"}, code: ExitUsage, err: []string{`unknown log format "xml"`}},
		{name: "config check without file", args: []string{"config", "check"}, code: ExitUsage, err: []string{"wants at least 1 FILE argument(s), got 0", "Run 'cutover config check --help' for usage."}},
		{name: "config check good", args: []string{"config", "check", "testdata/good.toml", "../../config.example.toml"}, code: ExitOK, out: []string{"ok: testdata/good.toml\n", "ok: ../../config.example.toml\n"}, errNone: true},
		{
			name: "config check bad", args: []string{"config", "check", "testdata/good.toml", "testdata/bad.toml"}, code: ExitFindings,
			out: []string{
				"ok: testdata/good.toml\n",
				`config "testdata/bad.toml": line 2: unknown key "registy" in [npm] (did you mean "registry"?)` + "\n" +
					`config "testdata/bad.toml": line 5: log.level: "loud" is not a log level; want one of debug, info, warn, error` + "\n",
			},
			errNone: true,
		},
		{name: "config check missing file", args: []string{"config", "check", "testdata/missing.toml"}, code: ExitFindings, out: []string{`could not read config file "testdata/missing.toml"`}},
		{name: "config check ignores a broken --config", args: []string{"--config", "testdata/bad.toml", "config", "check", "testdata/good.toml"}, code: ExitOK},
		{name: "broken --config", args: []string{"--config", "testdata/bad.toml"}, code: ExitUsage, err: []string{`error: config "testdata/bad.toml": line 2: unknown key "registy"`, "\nerror: config \"testdata/bad.toml\": line 5:"}},
		{name: "broken CUTOVER_CONFIG", env: map[string]string{"CUTOVER_CONFIG": "testdata/bad.toml"}, code: ExitUsage, err: []string{`config "testdata/bad.toml"`}},
		{name: "missing --config", args: []string{"--config", "testdata/missing.toml"}, code: ExitUsage, err: []string{`could not read config file "testdata/missing.toml"`}},
		{name: "bad CUTOVER_ORG", env: map[string]string{"CUTOVER_ORG": "not an org"}, code: ExitUsage, err: []string{`github.org: "not an org"`}},
		{name: "completion", args: []string{"completion", "bash"}, code: ExitOK, out: []string{"bash completion"}},
		{name: "completion unknown shell", args: []string{"completion", "tcsh"}, code: ExitUsage, err: []string{`unknown command "tcsh"`}},
		{name: "completion of a flag value", args: []string{"__complete", "--log-level", ""}, code: ExitOK, out: []string{"debug\ninfo\nwarn\nerror\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, tt.env, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.out, r.err)
			}
			for _, s := range tt.out {
				if !strings.Contains(r.out, s) {
					t.Errorf("stdout does not contain %q:\n%s", s, r.out)
				}
			}
			for _, s := range tt.err {
				if !strings.Contains(r.err, s) {
					t.Errorf("stderr does not contain %q:\n%s", s, r.err)
				}
			}
			if tt.errNone && r.err != "" {
				t.Errorf("stderr should be empty:\n%s", r.err)
			}
		})
	}
}

// TestHelpEverywhere checks that every command has help with examples.
func TestHelpEverywhere(t *testing.T) {
	t.Parallel()
	root := newRootCmd(newApp(Streams{}, nil))
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden {
			return
		}
		path := strings.Fields(c.CommandPath())[1:]
		t.Run(strings.Join(append([]string{"cutover"}, path...), " "), func(t *testing.T) {
			t.Parallel()
			r := run(t, nil, append(path, "--help")...)
			if r.code != ExitOK {
				t.Errorf("exit code %d; stderr:\n%s", r.code, r.err)
			}
			for _, want := range []string{"Usage:", "Examples:\n  cutover"} {
				if !strings.Contains(r.out, want) {
					t.Errorf("help does not contain %q:\n%s", want, r.out)
				}
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func TestExit(t *testing.T) {
	t.Parallel()
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		code int
		want string
	}{
		{"nil", t.Context(), nil, ExitOK, ""},
		{"findings", t.Context(), ErrFindings, ExitFindings, ""},
		{"wrapped findings", t.Context(), fmt.Errorf("scan: %w", ErrFindings), ExitFindings, ""},
		{"usage", t.Context(), &UsageError{Cmd: "cutover scan", Err: errors.New("no PATH")}, ExitUsage, "error: no PATH\nRun 'cutover scan --help' for usage.\n"},
		{"exit error", t.Context(), &ExitError{Code: ExitFindings, Err: errors.New("2 of 5 repositories failed")}, ExitFindings, "error: 2 of 5 repositories failed\n"},
		{"fatal", t.Context(), errors.New("disk on fire"), ExitFatal, "error: disk on fire\n"},
		{"joined", t.Context(), errors.Join(errors.New("a"), errors.New("b")), ExitFatal, "error: a\nerror: b\n"},
		{"interrupted", canceled, fmt.Errorf("listing: %w", context.Canceled), ExitInterrupted, "error: interrupted: run the command again to continue\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var errb bytes.Buffer
			app := newApp(Streams{Err: &errb}, nil)
			if got := app.exit(tt.ctx, tt.err); got != tt.code {
				t.Errorf("code %d, want %d", got, tt.code)
			}
			if errb.String() != tt.want {
				t.Errorf("stderr %q, want %q", errb.String(), tt.want)
			}
		})
	}
}

// TestCommandErrors runs extra commands through the real root to check how
// what a command returns becomes an exit code, and that secrets in error
// messages and panics are redacted.
func TestCommandErrors(t *testing.T) {
	t.Parallel()
	const secret = "hunter2-but-longer"
	token := "npm_" + strings.Repeat("a", 36)
	env := map[string]string{"NPM_TOKEN": secret}
	tests := []struct {
		name string
		run  func(*App) error
		code int
		want string
	}{
		{"ok", func(*App) error { return nil }, ExitOK, ""},
		{"findings", func(*App) error { return ErrFindings }, ExitFindings, ""},
		{"fatal redacted", func(*App) error { return fmt.Errorf("login with %s and %s failed", secret, token) }, ExitFatal, "error: login with [REDACTED] and [REDACTED] failed\n"},
		{"panic redacted", func(*App) error { panic("token " + token) }, ExitFatal, "internal error: token [REDACTED]\n"},
		{"panic site named", func(*App) error { panic("boom") }, ExitFatal, "hint: a bug in cutover at cli/main_test.go:"},
		{"panic stack logged", func(*App) error { panic("boom") }, ExitFatal, `"level":"ERROR","msg":"internal error: a panic stopped cutover"`},
		{"logger redacts env secrets", func(a *App) error { a.Logger.Warn("using " + secret); return nil }, ExitOK, `"msg":"using [REDACTED]"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			app := newApp(Streams{Out: &out, Err: &errb}, func(k string) string { return env[k] })
			root := newRootCmd(app)
			root.AddCommand(&cobra.Command{Use: "probe", Args: cobra.NoArgs, RunE: func(*cobra.Command, []string) error { return tt.run(app) }})
			code := app.execute(t.Context(), root, []string{"--log-format", "json", "probe"})
			if code != tt.code {
				t.Errorf("code %d, want %d; stderr:\n%s", code, tt.code, errb.String())
			}
			if !strings.Contains(errb.String(), tt.want) {
				t.Errorf("stderr does not contain %q:\n%s", tt.want, errb.String())
			}
			if strings.Contains(errb.String(), secret) || strings.Contains(errb.String(), token) {
				t.Errorf("a secret reached stderr:\n%s", errb.String())
			}
		})
	}
}

func TestAppSetup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const secret = "value-of-the-npm-token"
	path := filepath.Join(dir, secret+".toml")
	if err := os.WriteFile(path, []byte("[github]\norg = \"from-file\"\n[log]\nlevel = \"debug\"\nformat = \"json\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"CUTOVER_CONFIG": path, "CUTOVER_ORG": "from-env", "NPM_TOKEN": secret, "NO_COLOR": "1"}
	var out, errb bytes.Buffer
	app := newApp(Streams{Out: &out, Err: &errb}, func(k string) string { return env[k] })
	root := newRootCmd(app)
	var seen *App
	root.AddCommand(&cobra.Command{Use: "probe", Args: cobra.NoArgs, RunE: func(*cobra.Command, []string) error { seen = app; return nil }})
	if code := app.execute(t.Context(), root, []string{"probe"}); code != ExitOK {
		t.Fatalf("code %d; stderr:\n%s", code, errb.String())
	}
	if seen.ConfigPath != path || seen.Config.GitHub.Org != "from-env" || seen.Config.Log.Level != "debug" || seen.Color {
		t.Errorf("app not set up from config and env: path %q org %q level %q color %v", seen.ConfigPath, seen.Config.GitHub.Org, seen.Config.Log.Level, seen.Color)
	}
	if seen.Logger == nil || seen.Now == nil || seen.Getenv == nil || seen.Redactor == nil {
		t.Error("a dependency is nil")
	}
	// The debug line names the config file, whose name is the secret.
	if got := errb.String(); !strings.Contains(got, `"msg":"loaded config","file":"`) || strings.Contains(got, secret) {
		t.Errorf("want a redacted JSON debug line; got:\n%s", got)
	}
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		flag    string
		cfg     string
		env     map[string]string
		npm     string
		want    string
		wantErr string
	}{
		{name: "flag", flag: "https://npm-registry.invalid", cfg: "https://other.invalid/", want: "https://npm-registry.invalid/"},
		{name: "bad flag is usage", flag: "npm-registry.invalid", wantErr: "--registry:"},
		{name: "config", cfg: "https://npm-registry.invalid/x", want: "https://npm-registry.invalid/x/"},
		{name: "env", env: map[string]string{"NPM_CONFIG_REGISTRY": "https://npm-registry.invalid"}, want: "https://npm-registry.invalid/"},
		{name: "npm", npm: "https://npm-registry.invalid/", want: "https://npm-registry.invalid/"},
		{name: "none", wantErr: "no npm registry URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			app := newApp(Streams{}, func(k string) string { return tt.env[k] })
			app.Config.NPM.Registry = tt.cfg
			app.NPMConfigGet = func(context.Context) (string, error) { return tt.npm, nil }
			cmd := &cobra.Command{Use: "scan"}
			cmd.SetContext(t.Context())
			got, err := app.Registry(cmd, tt.flag)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				var usage *UsageError
				if tt.flag != "" && !errors.As(err, &usage) {
					t.Errorf("a bad flag should be a *UsageError, got %T", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
