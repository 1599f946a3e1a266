package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/checkout"
	"github.com/cutover/cutover/internal/lint"
	"github.com/cutover/cutover/internal/logging"
	"github.com/cutover/cutover/rewrite"
	"github.com/cutover/cutover/templates"
)

// LintSchema names the version of lint's JSON output.
const LintSchema = "cutover.lint/v1"

type lintOptions struct {
	paths    []string
	format   string
	failOn   string
	opts     lint.Options
	maxBytes int64
	version  string
	out      io.Writer
	redactor *logging.Redactor
}

func newLintCmd(app *App) *cobra.Command {
	opts := &lintOptions{}
	var registryFlag string
	var printWorkflow bool
	cmd := &cobra.Command{
		Use:   "lint [--format text|json|sarif] PATH...",
		Short: "Check workflows against the npm publishing policy (for CI and code scanning)",
		Long: `Check repository checkouts (or single workflow files) against the npm
publishing policy:

  token-publish               publishing with a stored npm token where trusted
                              publishing (OIDC) is possible (error; a note on
                              self-hosted runners and for a token path kept
                              behind the campaign's flag)
  token-exposed               an npm token set beyond the publish step (warning)
  literal-token               an npm token value committed (error)
  id-token-untrusted-trigger  id-token: write in a workflow that
                              pull_request_target, issue_comment or
                              workflow_run can start (warning)
  npm-latest                  npm upgraded to @latest, which is npm 12 (warning)
  missing-environment         a publishing job without a GitHub environment,
                              when [lint] require_environment is set (error)

--format sarif writes SARIF 2.1.0 for GitHub code scanning (upload it with
github/codeql-action/upload-sarif); --print-workflow prints a ready workflow
that runs the check on pull requests and uploads the findings.

Exit code 1 when a result reaches --fail-on (default error), 2 for usage errors.`,
		Example: example(
			"cutover lint .",
			"cutover lint --format sarif . > cutover.sarif",
			"cutover lint --print-workflow > .github/workflows/cutover-lint.yml",
		),
		Args: func(cmd *cobra.Command, args []string) error {
			if printWorkflow {
				return noArgs(cmd, args)
			}
			return minArgs(1, "PATH")(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.version = buildVersion(debug.ReadBuildInfo)
			if printWorkflow {
				return printLintWorkflow(app.Out, opts.version)
			}
			switch opts.format {
			case "text", "json", "sarif":
			default:
				return usageErrorf(cmd, "--format %q: use text, json or sarif", opts.format)
			}
			switch opts.failOn {
			case lint.LevelError, lint.LevelWarning, lint.LevelNote, "never":
			default:
				return usageErrorf(cmd, "--fail-on %q: use error, warning, note or never", opts.failOn)
			}
			reg, err := app.Registry(cmd, registryFlag)
			if err != nil {
				return err
			}
			opts.paths = args
			opts.opts = lint.Options{Registry: reg, FlagVar: app.Config.Rewrite.FlagVar, RequireEnvironment: app.Config.Lint.RequireEnvironment}
			opts.maxBytes = app.Config.Scan.MaxFileBytes
			opts.out, opts.redactor = app.Out, app.Redactor
			return runLint(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.format, "format", "text", "output format: text, json or sarif")
	f.StringVar(&opts.failOn, "fail-on", "error", "exit 1 when a result reaches this level: error, warning, note or never")
	f.StringVar(&registryFlag, "registry", "", "npm registry URL publishes must target (default: config, NPM_CONFIG_REGISTRY, npm config)")
	f.BoolVar(&printWorkflow, "print-workflow", false, "print a GitHub Actions workflow that runs cutover lint on pull requests, then exit")
	_ = cmd.RegisterFlagCompletionFunc("format", fixedCompletions("text", "json", "sarif"))
	_ = cmd.RegisterFlagCompletionFunc("fail-on", fixedCompletions("error", "warning", "note", "never"))
	return cmd
}

// printLintWorkflow renders templates/lint/cutover-lint.yml.
func printLintWorkflow(w io.Writer, version string) error {
	v, _, _ := strings.Cut(version, " ")
	if v == "" || v == "(devel)" {
		v = "latest"
	}
	text, err := templates.Render("lint/cutover-lint.yml", map[string]string{"Version": v})
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, text)
	return err
}

func runLint(ctx context.Context, opts *lintOptions) error {
	var results []lint.Result
	var problems []string
	for _, p := range opts.paths {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rs, err := lintPath(p, opts)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		results = append(results, rs...)
	}
	var b []byte
	switch opts.format {
	case "sarif":
		out, err := lint.SARIF(results, opts.version)
		if err != nil {
			return err
		}
		b = out
	case "json":
		doc := map[string]any{"schema": LintSchema, "results": nonNil(results), "rules": lint.Rules(), "problems": problems}
		out, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return err
		}
		b = append(out, '\n')
	default:
		var sb strings.Builder
		for _, r := range results {
			loc := r.File
			if r.Line > 0 {
				loc = fmt.Sprintf("%s:%d", r.File, r.Line)
			}
			fmt.Fprintf(&sb, "%s: %s: %s [%s]\n", loc, r.Level, r.Message, r.Rule)
		}
		fmt.Fprintf(&sb, "%d error(s), %d warning(s), %d note(s)\n",
			count(results, lint.LevelError), count(results, lint.LevelWarning), count(results, lint.LevelNote))
		b = []byte(sb.String())
	}
	if _, err := io.WriteString(opts.out, opts.redactor.Redact(string(b))); err != nil {
		return err
	}
	if len(problems) > 0 {
		return &ExitError{Code: ExitFindings, Err: fmt.Errorf("%s", strings.Join(problems, "\n"))}
	}
	if opts.failOn != "never" && lint.Violations(results, opts.failOn) > 0 {
		return ErrFindings
	}
	return nil
}

func nonNil(rs []lint.Result) []lint.Result {
	if rs == nil {
		return []lint.Result{}
	}
	return rs
}

func count(rs []lint.Result, level string) int {
	n := 0
	for _, r := range rs {
		if r.Level == level {
			n++
		}
	}
	return n
}

// lintPath lints a repository checkout, or one file of one. Result paths
// are given relative to the working directory, as PATH was.
func lintPath(p string, opts *lintOptions) ([]lint.Result, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("could not read %q: %w", p, err)
	}
	if fi.IsDir() {
		snap, err := checkout.Read(p, checkout.Options{MaxFileBytes: opts.maxBytes})
		if err != nil {
			return nil, err
		}
		rs := lint.Check(snap, opts.opts)
		for i := range rs {
			rs[i].File = joinDisplay(p, rs[i].File)
		}
		return rs, nil
	}
	// A single file: lint the repository it belongs to and keep its results,
	// or, outside one, read it as a workflow.
	slash := filepath.ToSlash(filepath.Clean(p))
	if i := strings.LastIndex("/"+slash, "/.github/"); i >= 0 {
		root, rel := slash[:i], slash[i:]
		if root == "" {
			root = "."
		}
		snap, err := checkout.Read(filepath.FromSlash(root), checkout.Options{MaxFileBytes: opts.maxBytes})
		if err != nil {
			return nil, err
		}
		var out []lint.Result
		for _, r := range lint.Check(snap, opts.opts) {
			if r.File == rel {
				r.File = joinDisplay(root, r.File)
				out = append(out, r)
			}
		}
		return out, nil
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("could not read %q: %w", p, err)
	}
	rel := ".github/workflows/" + filepath.Base(p)
	var out []lint.Result
	for _, r := range lint.Check(rewrite.Snapshot{Files: map[string][]byte{rel: data}}, opts.opts) {
		if r.File == rel {
			r.File = slash
			out = append(out, r)
		}
	}
	return out, nil
}

// joinDisplay joins a PATH argument and a repository-relative path with
// slashes, relative to the working directory where possible.
func joinDisplay(root, rel string) string {
	if filepath.IsAbs(root) {
		if wd, err := os.Getwd(); err == nil {
			if r, err := filepath.Rel(wd, root); err == nil && !strings.HasPrefix(r, "..") {
				root = r
			}
		}
	}
	root = filepath.ToSlash(filepath.Clean(root))
	if root == "." {
		return rel
	}
	return root + "/" + rel
}
