package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/checkout"
	"github.com/cutover/cutover/rewrite"
)

// RewriteSchema names the version of rewrite's JSON output.
const RewriteSchema = "cutover.rewrite/v1"

type rewriteOptions struct {
	paths    []string
	mode     string // diff, write or check
	format   string
	opts     rewrite.RewriteOptions
	maxBytes int64
	app      *App
}

func newRewriteCmd(app *App) *cobra.Command {
	o := &rewriteOptions{}
	var (
		playbook, registryFlag string
		diff, write, check     bool
	)
	cmd := &cobra.Command{
		Use:   "rewrite [flags] PATH...",
		Short: "Rewrite publishing workflows for trusted publishing, with minimal diffs",
		Long: `Rewrite the GitHub Actions workflows of repository checkouts.

Playbooks:
  oidc          keep both paths behind a repository Actions variable (--flag-var,
                default CUTOVER_NPM_OIDC): every token feed of a publish path
                becomes ${{ vars.FLAG != 'true' && secrets.X || '' }}, the
                publishing job (and callers of a reusable workflow) get
                id-token: write, and where npm may be older than 11.5.1 a step
                guarded by the flag installs npm@^11.5.1 before publishing.
  cleanup       after a verified cutover: remove the guarded token feeds and
                the flag; id-token: write stays, the npm upgrade becomes
                unconditional (or goes on Node 24+).
  token-bridge  for pipelines that cannot use OIDC: confine the token to the
                publish steps, add provenance (--public), and optionally
                switch to npm stage publish (--stage).

Edits splice the original bytes: comments, quoting, indentation and CRLF line
endings outside the edited lines stay as they were, and a second run changes
nothing. Each rewritten file must parse and pass actionlint with no new error,
or it is left untouched and reported as manual, like shapes cutover will not
guess at (anchors, multi-line flow mappings, yarn 1 or bun publishing).

Modes: --diff prints a unified diff (default), --write edits files in place
atomically, --check exits 1 when a file would change, needs manual work or could not be
read. --write edits the target of a symlinked workflow, never the link.`,
		Example: example(
			"cutover rewrite .",
			"cutover rewrite --write --flag-var NPM_OIDC ./repo",
			"cutover rewrite --check --format json ./repo",
			"cutover rewrite --playbook token-bridge --stage --public ./repo",
		),
		Args: minArgs(1, "PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			n := 0
			for _, b := range []bool{diff, write, check} {
				if b {
					n++
				}
			}
			switch {
			case n > 1:
				return usageErrorf(cmd, "--diff, --write and --check exclude each other")
			case write:
				o.mode = "write"
			case check:
				o.mode = "check"
			default:
				o.mode = "diff"
			}
			if o.format != "text" && o.format != "json" {
				return usageErrorf(cmd, "--format %q: use text or json", o.format)
			}
			switch rewrite.Playbook(playbook) {
			case rewrite.PlaybookOIDC, rewrite.PlaybookCleanup, rewrite.PlaybookTokenBridge:
			default:
				return usageErrorf(cmd, "--playbook %q: use oidc, cleanup or token-bridge", playbook)
			}
			if o.opts.FlagVar == "" {
				o.opts.FlagVar = app.Config.Rewrite.FlagVar
			}
			if err := rewrite.ValidFlagVar(o.opts.FlagVar); err != nil {
				return usageErrorf(cmd, "--flag-var: %v", err)
			}
			reg, err := app.Registry(cmd, registryFlag)
			if err != nil {
				return err
			}
			o.opts.Playbook, o.opts.Registry = rewrite.Playbook(playbook), reg
			o.opts.NPMVersion = app.Config.Rewrite.NPMVersion
			o.paths, o.maxBytes, o.app = args, app.Config.Scan.MaxFileBytes, app
			o.opts.MaxFileBytes = app.Config.Scan.MaxFileBytes
			return runRewrite(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&playbook, "playbook", "oidc", "playbook: oidc, cleanup or token-bridge")
	f.StringVar(&o.opts.FlagVar, "flag-var", "", "repository Actions variable that selects the OIDC path (default: [rewrite] flag_var, CUTOVER_NPM_OIDC)")
	f.StringVar(&registryFlag, "registry", "", "npm registry URL (default: config, NPM_CONFIG_REGISTRY, npm config)")
	f.BoolVar(&diff, "diff", false, "print a unified diff (default)")
	f.BoolVar(&write, "write", false, "write the rewritten files in place")
	f.BoolVar(&check, "check", false, "exit 1 when changes are pending")
	f.StringVar(&o.format, "format", "text", "output format: text or json")
	f.BoolVar(&o.opts.Stage, "stage", false, "token-bridge: publish with npm stage publish")
	f.BoolVar(&o.opts.PublicRepo, "public", false, "token-bridge: the repository is public, add provenance")
	_ = cmd.RegisterFlagCompletionFunc("playbook", fixedCompletions("oidc", "cleanup", "token-bridge"))
	_ = cmd.RegisterFlagCompletionFunc("format", fixedCompletions("text", "json"))
	return cmd
}

type rewriteEntry struct {
	Path  string `json:"path"`
	Error string `json:"error,omitempty"`
	// Unreadable lists the files cutover could not read (and so could not
	// rewrite or vouch for); --check fails on them.
	Unreadable []rewrite.Finding      `json:"unreadable,omitempty"`
	Result     *rewrite.RewriteResult `json:"result,omitempty"`
	Diffs      map[string]string      `json:"diffs,omitempty"`
}

func runRewrite(ctx context.Context, o *rewriteOptions) error {
	app := o.app
	var entries []rewriteEntry
	failed, pending := false, false
	for _, p := range o.paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		e := rewriteEntry{Path: p, Diffs: map[string]string{}}
		snap, err := checkout.Read(p, checkout.Options{MaxFileBytes: o.maxBytes})
		if err == nil {
			e.Result, err = rewrite.Rewrite(snap, o.opts)
		}
		if err != nil {
			e.Error, failed = err.Error(), true
			app.Logger.Warn("repository not rewritten", "path", p, "error", err)
			entries = append(entries, e)
			continue
		}
		if e.Result.Detect != nil {
			if u := e.Result.Detect.Unreadable(); len(u) > 0 {
				e.Unreadable, pending = u, true
			}
		}
		for _, f := range e.Result.Files {
			switch f.Status {
			case rewrite.StatusRewritten:
				pending = true
				// The diff is made only where it is printed: never for
				// --write (on large files it used to dominate the run).
				if o.mode != "write" {
					e.Diffs[f.Path] = rewrite.UnifiedDiff(termSafe(filepath.ToSlash(filepath.Join(p, f.Path))), f.Before, f.After)
				}
				if o.mode == "write" {
					// An interrupt stops between files: each file
					// written so far is whole, the rest untouched.
					if err := ctx.Err(); err != nil {
						return err
					}
					if err := writeAtomic(filepath.Join(p, filepath.FromSlash(f.Path)), f.After); err != nil {
						e.Error, failed = err.Error(), true
					}
				}
			case rewrite.StatusManual:
				pending = true
			}
		}
		entries = append(entries, e)
	}
	var out strings.Builder
	if o.format == "json" {
		b, err := json.MarshalIndent(struct {
			Schema string         `json:"schema"`
			Mode   string         `json:"mode"`
			Repos  []rewriteEntry `json:"repos"`
		}{RewriteSchema, o.mode, entries}, "", "  ")
		if err != nil {
			return err
		}
		out.Write(b)
		out.WriteString("\n")
	} else {
		writeRewriteText(&out, app.Err, entries, o.mode)
	}
	if _, err := io.WriteString(app.Out, app.Redactor.Redact(out.String())); err != nil {
		return err
	}
	if failed || o.mode == "check" && pending {
		return ErrFindings
	}
	return nil
}

// writeRewriteText prints diffs to out (diff mode) and a per-file summary
// to status (stderr), so the diff stays a clean patch.
func writeRewriteText(out *strings.Builder, status io.Writer, entries []rewriteEntry, mode string) {
	for _, e := range entries {
		if e.Error != "" {
			fmt.Fprintf(status, "%s: error: %s\n", termSafe(e.Path), termSafe(e.Error))
			continue
		}
		for _, u := range e.Unreadable {
			fmt.Fprintf(status, "%s: unreadable: %s\n", termSafe(filepath.ToSlash(filepath.Join(e.Path, u.File))), termSafe(u.Message))
		}
		for _, f := range e.Result.Files {
			if mode == "diff" && f.Status == rewrite.StatusRewritten {
				out.WriteString(e.Diffs[f.Path])
			}
			name := termSafe(filepath.ToSlash(filepath.Join(e.Path, f.Path)))
			verb := string(f.Status)
			if mode == "write" && f.Status == rewrite.StatusRewritten {
				verb = "written"
			}
			fmt.Fprintf(status, "%s: %s", name, verb)
			if len(f.Edits) > 0 {
				fmt.Fprintf(status, " (%d edits)", len(f.Edits))
			}
			fmt.Fprintln(status)
			for _, r := range f.Reasons {
				fmt.Fprintf(status, "  manual: %s\n", termSafe(r))
			}
			for _, s := range f.ManualSteps {
				fmt.Fprintf(status, "  todo: %s\n", termSafe(s))
			}
		}
	}
}

// writeAtomic replaces a file through a temporary file in the same
// directory, keeping its mode. A symlink stays a symlink: the file it points
// at is replaced (checkout.Read only follows links that stay inside the
// repository).
func writeAtomic(p string, data []byte) error {
	if fi, err := os.Lstat(p); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		target, err := filepath.EvalSymlinks(p)
		if err != nil {
			return fmt.Errorf("write %q: %w", p, err)
		}
		p = target
	}
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(p); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".cutover-*")
	if err != nil {
		return fmt.Errorf("write %q: %w", p, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %q: %w", p, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write %q: %w", p, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %q: %w", p, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("write %q: %w", p, err)
	}
	return nil
}
