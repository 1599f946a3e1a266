package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
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
	var pin string
	cmd := &cobra.Command{
		Use:   "lint [--format text|json|sarif|github] PATH...",
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
github/codeql-action/upload-sarif); --format github writes workflow-command
annotations (::error file=…,line=…::) that GitHub Actions shows on the pull
request; --print-workflow prints a ready workflow that runs the check on
pull requests and pushes to the default branch, with this cutover version
and the npm registry pinned.

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
				reg, err := app.Registry(cmd, registryFlag)
				if err != nil {
					return err
				}
				v, _, _ := strings.Cut(opts.version, " ")
				if pin != "" {
					v = pin
				}
				if !pinnableVersion(v) {
					return usageErrorf(cmd, "this cutover build has no release version (%q) to pin in the workflow: pass --pin vX.Y.Z", v)
				}
				return printLintWorkflow(app.Out, v, reg)
			}
			switch opts.format {
			case "text", "json", "sarif", "github":
			default:
				return usageErrorf(cmd, "--format %q: use text, json, sarif or github", opts.format)
			}
			if err := checkFailOn(cmd, opts.failOn); err != nil {
				return err
			}
			reg, err := app.Registry(cmd, registryFlag)
			if err != nil {
				return err
			}
			opts.paths = args
			opts.opts = lint.Options{Registry: reg, FlagVar: app.Config.Rewrite.FlagVar, RequireEnvironment: app.Config.Lint.RequireEnvironment, MaxFileBytes: app.Config.Scan.MaxFileBytes}
			for _, ig := range app.Config.Lint.Ignore {
				opts.opts.Ignore = append(opts.opts.Ignore, lint.Ignore{Rule: ig.Rule, Path: ig.Path, Reason: ig.Reason})
			}
			opts.maxBytes = app.Config.Scan.MaxFileBytes
			opts.out, opts.redactor = app.Out, app.Redactor
			return runLint(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.format, "format", "text", "output format: text, json, sarif or github (workflow-command annotations)")
	f.StringVar(&opts.failOn, "fail-on", "error", failOnHelp)
	f.StringVar(&registryFlag, "registry", "", "npm registry URL publishes must target (default: config, NPM_CONFIG_REGISTRY, npm config)")
	f.BoolVar(&printWorkflow, "print-workflow", false, "print a GitHub Actions workflow that runs cutover lint on pull requests and default-branch pushes, then exit")
	f.StringVar(&pin, "pin", "", "with --print-workflow: the cutover version the workflow installs (default: this build's version)")
	_ = cmd.RegisterFlagCompletionFunc("format", fixedCompletions("text", "json", "sarif", "github"))
	_ = cmd.RegisterFlagCompletionFunc("fail-on", fixedCompletions(failOnLevels...))
	return cmd
}

// pinnableVersion reports whether v is a release version (v1.2.3, with an
// optional pre-release or pseudo-version suffix) go install can pin.
func pinnableVersion(v string) bool {
	return semverRe.MatchString(v)
}

var semverRe = regexp.MustCompile(`^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// printLintWorkflow renders templates/lint/cutover-lint.yml with cutover's
// version pinned and the npm registry given explicitly.
func printLintWorkflow(w io.Writer, version, registry string) error {
	text, err := templates.Render("lint/cutover-lint.yml", map[string]string{"Version": version, "Registry": registry})
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, text)
	return err
}

// lintHit is one result with its path as the user sees it (relative to
// the working directory, as PATH was given); Result.File stays relative to
// the repository root, as SARIF and annotations want it.
type lintHit struct {
	lint.Result
	display string
}

func runLint(ctx context.Context, opts *lintOptions) error {
	var hits []lintHit
	problems := []string{}
	for _, p := range opts.paths {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		hs, err := lintPath(p, opts)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		hits = append(hits, hs...)
	}
	repoRel := make([]lint.Result, len(hits))
	shown := make([]lint.Result, len(hits))
	for i, h := range hits {
		repoRel[i] = h.Result
		shown[i] = h.Result
		shown[i].File = h.display
	}
	var b []byte
	switch opts.format {
	case "sarif":
		out, err := lint.SARIF(repoRel, opts.version)
		if err != nil {
			return err
		}
		b = out
	case "github":
		b = []byte(lint.GitHubAnnotations(repoRel))
	case "json":
		doc := map[string]any{"schema": LintSchema, "results": nonNil(shown), "rules": lint.Rules(), "problems": problems}
		out, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return err
		}
		b = append(out, '\n')
	default:
		var sb strings.Builder
		suppressed := 0
		for _, r := range shown {
			// File names and messages quote the repository (job ids,
			// file names, comments): no control character reaches the
			// terminal raw.
			loc := termSafe(r.File)
			if r.Line > 0 {
				loc = fmt.Sprintf("%s:%d", loc, r.Line)
			}
			if r.Suppressed() {
				suppressed++
				fmt.Fprintf(&sb, "%s: %s (suppressed: %s): %s [%s]\n", loc, r.Level, termSafe(r.Suppression.Justification), termSafe(r.Message), r.Rule)
				continue
			}
			fmt.Fprintf(&sb, "%s: %s: %s [%s]\n", loc, r.Level, termSafe(r.Message), r.Rule)
		}
		fmt.Fprintf(&sb, "%d error(s), %d warning(s), %d note(s)",
			count(shown, lint.LevelError), count(shown, lint.LevelWarning), count(shown, lint.LevelNote))
		if suppressed > 0 {
			fmt.Fprintf(&sb, ", %d suppressed", suppressed)
		}
		sb.WriteString("\n")
		b = []byte(sb.String())
	}
	if _, err := io.WriteString(opts.out, opts.redactor.Redact(string(b))); err != nil {
		return err
	}
	if len(problems) > 0 {
		return &ExitError{Code: ExitFindings, Err: fmt.Errorf("%s", strings.Join(problems, "\n"))}
	}
	if opts.failOn != "never" && lint.Violations(shown, opts.failOn) > 0 {
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

// count counts the results at level that are not suppressed.
func count(rs []lint.Result, level string) int {
	n := 0
	for _, r := range rs {
		if r.Level == level && !r.Suppressed() {
			n++
		}
	}
	return n
}

// lintPath lints a repository checkout, or one file of one.
func lintPath(p string, opts *lintOptions) ([]lintHit, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("could not read %q: %w", p, err)
	}
	if fi.IsDir() {
		snap, err := checkout.Read(p, checkout.Options{MaxFileBytes: opts.maxBytes})
		if err != nil {
			return nil, err
		}
		var out []lintHit
		for _, r := range lint.Check(snap, opts.opts) {
			out = append(out, lintHit{r, joinDisplay(p, r.File)})
		}
		return out, nil
	}
	// A single file: lint the repository it belongs to and keep its results,
	// or, outside one, read it as a workflow.
	slash := filepath.ToSlash(filepath.Clean(p))
	// The repository is found from the absolute path, so a file named from
	// inside .github (cd .github/workflows; cutover lint release.yml) is
	// still checked with the rest of its repository and reported by its
	// repository-relative path.
	abs := slash
	if a, err := filepath.Abs(p); err == nil {
		abs = filepath.ToSlash(a)
	}
	if i := strings.LastIndex(abs, "/.github/"); i >= 0 {
		root, rel := abs[:i], abs[i+1:]
		if root == "" {
			root = "/"
		}
		snap, err := checkout.Read(filepath.FromSlash(root), checkout.Options{MaxFileBytes: opts.maxBytes})
		if err != nil {
			return nil, err
		}
		var out []lintHit
		for _, r := range lint.Check(snap, opts.opts) {
			if r.File == rel {
				out = append(out, lintHit{r, slash})
			}
		}
		return out, nil
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("could not read %q: not a regular file", p)
	}
	limit := opts.opts.MaxFileBytes
	if limit <= 0 {
		limit = rewrite.MaxFileBytes
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("could not read %q: %d bytes, over the %d-byte limit (scan.max_file_bytes)", p, fi.Size(), limit)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("could not read %q: %w", p, err)
	}
	rel := ".github/workflows/" + filepath.Base(p)
	var out []lintHit
	for _, r := range lint.Check(rewrite.Snapshot{Files: map[string][]byte{rel: data}}, opts.opts) {
		if r.File == rel {
			out = append(out, lintHit{r, slash})
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
