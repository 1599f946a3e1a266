package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/reports"
)

// reportFormats are the formats cutover report writes, in writing order,
// with their file names.
var reportFormats = []struct{ name, file string }{
	{"json", "report.json"},
	{"html", "report.html"},
	{"md", "report.md"},
}

type reportOptions struct {
	// ledgerPath is the campaign ledger read.
	ledgerPath string
	// outDir is the folder the reports are written to.
	outDir string
	// formats are the formats written: json, html, md.
	formats []string
	// stepSummary is a file the Markdown summary is appended to; "" for none.
	stepSummary string
	// campaign names the campaign when the ledger has no name.
	campaign string
	// meta is what the reports need besides the ledger.
	meta reports.Meta
	// now is the clock.
	now func() time.Time
	// out receives the paths written, one a line.
	out io.Writer
}

func newReportCmd(app *App) *cobra.Command {
	opts := &reportOptions{}
	var ledgerFlag, formatFlag string
	var stepSummary bool
	cmd := &cobra.Command{
		Use:   "report [flags]",
		Short: "Write the campaign report: JSON, a self-contained HTML page and a Markdown summary",
		Long: `Write the campaign's report from its ledger: how far along the campaign is,
what is blocked and why, which npm tokens are revoked and which canary
releases are verified, with a cutover card per repository.

  report.json  the versioned document (schema "cutover.report/v1", described
               by reports/schema/report.v1.json in cutover's source)
  report.html  one self-contained page: inline CSS and SVG charts, sortable
               and filterable tables, no external requests; fit for a CI
               artifact, readable offline and printable
  report.md    a short summary for $GITHUB_STEP_SUMMARY, pull request
               comments and chat, linking the HTML report

The files are replaced atomically, and their paths printed on stdout. The
report changes nothing in the campaign. No token value ever appears in a
report.`,
		Example: example(
			"cutover report",
			"cutover report --out public --format html,md --html-url https://ci.invalid/artifacts/report.html",
			"cutover report --ledger campaign.db --format md --step-summary",
		),
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			formats, err := parseReportFormats(formatFlag)
			if err != nil {
				return usageErrorf(cmd, "--format %q: %v", formatFlag, err)
			}
			opts.formats = formats
			opts.ledgerPath = ledgerFlag
			if opts.ledgerPath == "" {
				opts.ledgerPath = app.Config.Campaign.Ledger
			}
			if stepSummary {
				opts.stepSummary = app.Getenv("GITHUB_STEP_SUMMARY")
				if opts.stepSummary == "" {
					app.Logger.Warn("--step-summary: GITHUB_STEP_SUMMARY is not set; no summary appended")
				}
			}
			if opts.meta.HTMLURL == "" {
				opts.meta.HTMLURL = actionsRunURL(app.Getenv)
			}
			opts.campaign = app.Config.Campaign.Name
			opts.meta.ToolVersion = buildVersion(debug.ReadBuildInfo)
			opts.meta.FlagVariable = app.Config.Rewrite.FlagVar
			opts.meta.Redactor = app.Redactor
			opts.now, opts.out = app.Now, app.Out
			return runReport(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&ledgerFlag, "ledger", "", "read the campaign ledger from `FILE` (default: [campaign] ledger, cutover.db)")
	f.StringVarP(&opts.outDir, "out", "o", ".", "write the reports into `DIR` (created if missing)")
	f.StringVar(&formatFlag, "format", "json,html,md", "formats to write, comma-separated: json, html, md")
	f.StringVar(&opts.meta.HTMLURL, "html-url", "", "`URL` of the published report.html, linked from the Markdown summary (default: the GitHub Actions run's page, whose artifacts hold it, when GITHUB_SERVER_URL, GITHUB_REPOSITORY and GITHUB_RUN_ID are set; else report.html)")
	f.StringVar(&opts.meta.PackageURL, "package-url", "", "base `URL` of the npm website's package pages, for package and trusted-publisher links (default: no links)")
	f.BoolVar(&stepSummary, "step-summary", false, "also append the Markdown summary to the file named by $GITHUB_STEP_SUMMARY")
	_ = cmd.RegisterFlagCompletionFunc("format", fixedCompletions("json", "html", "md", "json,html,md"))
	_ = cmd.MarkFlagFilename("ledger", "db")
	_ = cmd.MarkFlagDirname("out")
	return cmd
}

// parseReportFormats reads --format: names separated by commas, each once.
func parseReportFormats(s string) ([]string, error) {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		if f == "markdown" {
			f = "md"
		}
		if !slices.ContainsFunc(reportFormats, func(rf struct{ name, file string }) bool { return rf.name == f }) {
			return nil, fmt.Errorf("unknown format %q: use json, html or md", f)
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

func runReport(ctx context.Context, opts *reportOptions) error {
	if _, err := os.Stat(opts.ledgerPath); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no ledger at %q: run the campaign's inventory first, or name the ledger with --ledger or [campaign] ledger", opts.ledgerPath)
	}
	led, err := ledger.Open(ctx, opts.ledgerPath, ledger.Options{Now: opts.now})
	if err != nil {
		return err
	}
	defer led.Close()
	snap, err := led.Snapshot(ctx)
	if err != nil {
		return err
	}
	meta := opts.meta
	meta.GeneratedAt = opts.now()
	if snap.Campaign.Name == "" {
		meta.Campaign = opts.campaign
	}
	r := reports.Build(snap, meta)

	if err := os.MkdirAll(opts.outDir, 0o755); err != nil {
		return fmt.Errorf("could not create the report folder: %w", err)
	}
	render := map[string]func(*reports.Report) ([]byte, error){"json": reports.JSON, "html": reports.HTML, "md": reports.Markdown}
	var md []byte
	for _, rf := range reportFormats {
		if !slices.Contains(opts.formats, rf.name) {
			continue
		}
		b, err := render[rf.name](r)
		if err != nil {
			return err
		}
		if rf.name == "md" {
			md = b
		}
		p := filepath.Join(opts.outDir, rf.file)
		if err := writeAtomic(p, b); err != nil {
			return err
		}
		if _, err := fmt.Fprintln(opts.out, p); err != nil {
			return err
		}
	}
	if opts.stepSummary != "" {
		if md == nil {
			if md, err = reports.Markdown(r); err != nil {
				return err
			}
		}
		if err := appendFile(opts.stepSummary, md); err != nil {
			return err
		}
	}
	return nil
}

// actionsRunURL is the page of the GitHub Actions run cutover runs in
// (its summary, which lists the run's artifacts), from GITHUB_SERVER_URL,
// GITHUB_REPOSITORY and GITHUB_RUN_ID; "" outside Actions.
func actionsRunURL(getenv func(string) string) string {
	server, repo, run := strings.TrimRight(getenv("GITHUB_SERVER_URL"), "/"), getenv("GITHUB_REPOSITORY"), getenv("GITHUB_RUN_ID")
	if server == "" || repo == "" || run == "" || strings.Count(repo, "/") != 1 {
		return ""
	}
	return server + "/" + repo + "/actions/runs/" + run
}

// appendFile appends b to the file at p, creating it if missing.
func appendFile(p string, b []byte) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("could not append the summary to %q: %w", p, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("could not append the summary to %q: %w", p, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("could not append the summary to %q: %w", p, err)
	}
	return nil
}

// buildVersion is cutover's version as the build recorded it: the module
// version, or "(devel)" with the VCS revision when known.
func buildVersion(info func() (*debug.BuildInfo, bool)) string {
	version, revision := "(devel)", ""
	if bi, ok := info(); ok && bi != nil {
		if v := bi.Main.Version; v != "" {
			version = v
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				revision = s.Value[:12]
			}
		}
	}
	if revision != "" {
		return version + " " + revision
	}
	return version
}
