package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/cutover/cutover/internal/checkout"
	"github.com/cutover/cutover/internal/logging"
	"github.com/cutover/cutover/rewrite"
)

// ScanSchema names the version of scan's JSON output.
const ScanSchema = "cutover.scan/v1"

type scanOptions struct {
	paths      []string
	format     string
	failOn     string
	registry   string
	maxBytes   int64
	manualDocs []string
	out        io.Writer
	redactor   *logging.Redactor
	app        *App
}

func newScanCmd(app *App) *cobra.Command {
	opts := &scanOptions{}
	var registryFlag string
	cmd := &cobra.Command{
		Use:   "scan [flags] PATH...",
		Short: "Classify how repository checkouts publish to npm",
		Long: `Scan local repository checkouts and say exactly how each publishes to npm.

For every PATH (a repository root) scan reads the workflows, local actions,
package.json files, workspace and tool configuration, .npmrc and .yarnrc.yml,
and release documentation, then reports:

  - each publishing pipeline (workflow and job), its tool (npm, pnpm, yarn,
    lerna, changesets, semantic-release, release-it, np, nx, JS-DevTools, …)
    and its credential: token, token+provenance, oidc or none;
  - per repository, the least migrated credential;
  - the packages (root and workspaces, private or not) and what each npm
    trusted publisher must name: owner/repo, workflow file, environment;
  - findings with file and line: self-hosted runners, untrusted triggers,
    tokens exposed beyond the publish step, committed tokens (masked), npm too
    old for OIDC, npm@latest (npm 12), tool versions without OIDC support,
    documented manual publishing, and files that could not be read.

Only publishes to the npm registry count (--registry, else [npm] registry in
the config, NPM_CONFIG_REGISTRY, or npm config get registry). A broken file
or repository is reported and the scan goes on.

Exit code 0 when no finding reaches --fail-on, 1 when one does or a PATH could
not be read, 2 for usage errors.`,
		Example: example(
			"cutover scan .",
			"cutover scan --format json ~/src/*/ > inventory.json",
			"cutover scan --registry https://npm-registry.invalid/ --fail-on warning ./repo",
		),
		Args: minArgs(1, "PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch opts.format {
			case "table", "json":
			default:
				return usageErrorf(cmd, "--format %q: use table or json", opts.format)
			}
			if err := checkFailOn(cmd, opts.failOn); err != nil {
				return err
			}
			reg, err := app.Registry(cmd, registryFlag)
			if err != nil {
				return err
			}
			opts.paths, opts.registry = args, reg
			opts.maxBytes = app.Config.Scan.MaxFileBytes
			opts.manualDocs = app.Config.Scan.ManualDocs
			opts.out, opts.redactor, opts.app = app.Out, app.Redactor, app
			return runScan(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.format, "format", "table", "output format: table or json")
	cmd.Flags().StringVar(&opts.failOn, "fail-on", "error", failOnHelp)
	cmd.Flags().StringVar(&registryFlag, "registry", "", "npm registry URL publishes must target (default: config, NPM_CONFIG_REGISTRY, npm config)")
	_ = cmd.RegisterFlagCompletionFunc("format", fixedCompletions("table", "json"))
	_ = cmd.RegisterFlagCompletionFunc("fail-on", fixedCompletions(failOnLevels...))
	return cmd
}

// failOnLevels are the values of every --fail-on: the severity names scan,
// lint and SARIF share, and never.
var failOnLevels = []string{"error", "warning", "note", "never"}

const failOnHelp = "exit 1 on a finding of this severity or worse: error, warning, note or never"

func checkFailOn(cmd *cobra.Command, v string) error {
	if slices.Contains(failOnLevels, v) {
		return nil
	}
	return usageErrorf(cmd, "--fail-on %q: use error, warning, note or never", v)
}

// reaches reports whether severity sev reaches the --fail-on level failOn.
func reaches(sev, failOn string) bool {
	return failOn != "never" && rewrite.SeverityRank(sev) >= rewrite.SeverityRank(failOn)
}

// scanEntry is one PATH's outcome.
type scanEntry struct {
	Path   string          `json:"path"`
	Error  string          `json:"error,omitempty"`
	Result *rewrite.Result `json:"result,omitempty"`
}

// scanRepos reads and classifies every path concurrently, in input order.
func scanRepos(ctx context.Context, paths []string, registry string, maxBytes int64, manualDocs []string, app *App) []scanEntry {
	out := make([]scanEntry, len(paths))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0) * 2)
	docs := map[string]bool{}
	for _, d := range manualDocs {
		docs[strings.ToLower(d)] = true
	}
	circle := app.Config.CircleCIProjects()
	for i, p := range paths {
		g.Go(func() (err error) {
			out[i].Path = p
			defer func() {
				if r := recover(); r != nil {
					out[i].Error = app.recovered("internal error: a panic stopped the scan of this path", r, "path", p)
				}
			}()
			if ctx.Err() != nil {
				out[i].Error = ctx.Err().Error()
				return nil
			}
			snap, err := checkout.Read(p, checkout.Options{
				MaxFileBytes: maxBytes,
				Extra: func(rel string) bool {
					l := strings.ToLower(rel)
					return docs[l] || !strings.Contains(l, "/") && docs[path.Base(l)]
				},
			})
			if err != nil {
				out[i].Error = err.Error()
				app.Logger.Warn("repository not scanned", "path", p, "error", err)
				return nil
			}
			dopts := rewrite.Options{Registry: registry, ManualDocs: manualDocs, FlagVar: app.Config.Rewrite.FlagVar, MaxFileBytes: maxBytes}
			if c, ok := circle[snap.Repo]; ok {
				dopts.CircleCI = &c
			}
			out[i].Result = rewrite.Detect(snap, dopts)
			app.Logger.Debug("scanned", "path", p, "repo", snap.Repo, "publishes", out[i].Result.Publishes)
			return nil
		})
	}
	_ = g.Wait()
	return out
}

func runScan(ctx context.Context, opts *scanOptions) error {
	entries := scanRepos(ctx, opts.paths, opts.registry, opts.maxBytes, opts.manualDocs, opts.app)
	var buf strings.Builder
	switch opts.format {
	case "json":
		doc := struct {
			Schema   string      `json:"schema"`
			Registry string      `json:"registry"`
			Repos    []scanEntry `json:"repos"`
		}{ScanSchema, opts.registry, entries}
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return err
		}
		buf.Write(b)
		buf.WriteString("\n")
	default:
		writeScanTable(&buf, entries)
	}
	if _, err := io.WriteString(opts.out, opts.redactor.Redact(buf.String())); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return scanVerdict(entries, opts.failOn)
}

// scanVerdict returns ErrFindings when a path failed or a finding reaches failOn.
func scanVerdict(entries []scanEntry, failOn string) error {
	for _, e := range entries {
		if e.Error != "" {
			return ErrFindings
		}
		if failOn == "never" {
			continue
		}
		for _, f := range e.Result.Findings {
			if reaches(string(f.Severity), failOn) {
				return ErrFindings
			}
		}
	}
	return nil
}

func writeScanTable(w io.Writer, entries []scanEntry) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REPO\tPATH\tPUBLISHES\tCREDENTIAL\tPIPELINES\tPACKAGES\tFINDINGS")
	for _, e := range entries {
		if e.Error != "" {
			fmt.Fprintf(tw, "-\t%s\tfailed\t-\t-\t-\t%s\n", termSafe(e.Path), termSafe(e.Error))
			continue
		}
		r := e.Result
		pub := "no"
		if r.Publishes {
			pub = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", termSafe(r.Repo), termSafe(e.Path), pub, r.Credential, len(r.Pipelines), publishable(r), countFindings(r))
	}
	tw.Flush()
	for _, e := range entries {
		if e.Result == nil || (len(e.Result.Pipelines) == 0 && len(e.Result.Findings) == 0) {
			continue
		}
		r := e.Result
		fmt.Fprintf(w, "\n%s (%s)\n", termSafe(r.Repo), termSafe(e.Path))
		for _, p := range r.Pipelines {
			prov := ""
			if p.Provider != "" {
				prov = "[" + p.Provider + "] "
			}
			fmt.Fprintf(w, "  %s%s#%s  %s  via %s", prov, termSafe(p.Workflow), termSafe(p.Job), p.Credential, termSafe(strings.Join(p.Tools, ", ")))
			if len(p.Feeds) > 0 {
				var names []string
				for _, f := range p.Feeds {
					names = append(names, feedLabel(p, f))
				}
				fmt.Fprintf(w, "  token: %s", termSafe(strings.Join(names, ", ")))
			}
			if p.Confidence != "" {
				fmt.Fprintf(w, "  confidence: %s", p.Confidence)
			}
			if p.Proxy != "" {
				fmt.Fprintf(w, "  via proxy: %s", termSafe(rewrite.RegistryHost(p.Proxy)))
				if len(p.ProxyScopes) > 0 {
					fmt.Fprintf(w, " (scope %s)", termSafe(strings.Join(p.ProxyScopes, ", ")))
				}
			}
			fmt.Fprintf(w, "  npm>=11.5.1: %s\n", p.NPMReady)
		}
		for _, t := range r.Trust {
			pkg := t.Package
			if pkg == "" {
				pkg = "(package name unknown)"
			}
			env := ""
			if t.Environment != "" {
				env = ", environment " + t.Environment
			}
			switch t.Provider {
			case rewrite.ProviderGitLab:
				fmt.Fprintf(w, "  trust %s -> GitLab project %s, CI file %s%s\n", termSafe(pkg), termSafe(t.Repository), termSafe(t.Workflow), termSafe(env))
			case rewrite.ProviderCircleCI:
				c := t.CircleCI
				fmt.Fprintf(w, "  trust %s -> CircleCI organization %s, project %s, pipeline definition %s, VCS origin %s\n", termSafe(pkg), orNeeded(c.OrgID), orNeeded(c.ProjectID), orNeeded(c.PipelineDefinitionID), orNeeded(c.VCSOrigin))
			default:
				fmt.Fprintf(w, "  trust %s -> %s, workflow %s%s\n", termSafe(pkg), termSafe(t.Repository), termSafe(t.Workflow), termSafe(env))
			}
		}
		for _, f := range r.Findings {
			loc := f.File
			if f.Line > 0 {
				loc = fmt.Sprintf("%s:%d", f.File, f.Line)
			}
			fmt.Fprintf(w, "  %-7s %s %s: %s\n", f.Severity, termSafe(loc), f.Code, termSafe(f.Message))
		}
	}
}

func publishable(r *rewrite.Result) int {
	n := 0
	for _, p := range r.Packages {
		if p.Publishable {
			n++
		}
	}
	return n
}

func countFindings(r *rewrite.Result) string {
	var e, w, i int
	for _, f := range r.Findings {
		switch f.Severity {
		case rewrite.SevError:
			e++
		case rewrite.SevWarning:
			w++
		default:
			i++
		}
	}
	return fmt.Sprintf("%d error, %d warning, %d note", e, w, i)
}

// feedLabel says where a pipeline's token comes from, in its provider's terms.
func feedLabel(p rewrite.Pipeline, f rewrite.TokenFeed) string {
	guard := ""
	if f.Guarded {
		guard = " (behind the flag)"
	}
	switch {
	case p.Provider == "":
		n := f.Level + " " + f.Name
		if f.Secret != "" {
			n += "=secrets." + f.Secret
		}
		return n + guard
	case f.Kind == "circleci-context" || p.Provider == rewrite.ProviderCircleCI && len(p.Contexts) > 0:
		return fmt.Sprintf("variable %s (context %s)%s", f.Secret, strings.Join(p.Contexts, ", "), guard)
	case p.Provider == rewrite.ProviderCircleCI:
		return fmt.Sprintf("project variable %s%s", f.Secret, guard)
	}
	return fmt.Sprintf("CI/CD variable %s%s", f.Secret, guard)
}

// orNeeded shows an ID cutover cannot know from a checkout as needed.
func orNeeded(s string) string {
	if s == "" {
		return "(needed: [[circleci.project]] in the config)"
	}
	return s
}

// termSafe escapes what must not reach a terminal raw from a repository's
// names (job ids, file names, messages quoting them): C0 and C1 control
// characters (escape sequences, carriage returns, tabs and newlines that
// would break the table), DEL and the bidirectional overrides that reorder
// text, as \xNN or \uNNNN.
func termSafe(s string) string {
	clean := true
	for _, r := range s {
		if unsafeRune(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !unsafeRune(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			fmt.Fprintf(&b, "\\u%04x", r)
		}
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	return r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == utf8.RuneError
}
