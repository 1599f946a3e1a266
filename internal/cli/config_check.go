package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/cutover/cutover/internal/config"
	"github.com/cutover/cutover/internal/logging"
	"github.com/spf13/cobra"
)

func newConfigCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Work with configuration files",
		Long: `Work with cutover's TOML configuration files.

config.example.toml at the root of the source documents every key with its
default. Pass a file to any command with --config FILE or CUTOVER_CONFIG.`,
		Example:     example("cutover config check cutover.toml"),
		Args:        cobra.ArbitraryArgs,
		RunE:        groupRunE,
		Annotations: map[string]string{annotationNoConfig: ""},
	}
	cmd.AddCommand(newConfigCheckCmd(app))
	return cmd
}

type configCheckOptions struct {
	files    []string
	out      io.Writer
	redactor *logging.Redactor
}

func newConfigCheckCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "check FILE...",
		Short: "Check configuration files strictly",
		Long: `Decode each configuration file strictly and validate it.

For a good file it prints "ok: FILE". Otherwise it prints every problem with
its line: unknown keys (with the nearest valid key), values of the wrong type
and invalid values. Environment overrides are not applied.

Exit code 0 when every file is good, 1 when a file has problems, 2 for usage
errors.`,
		Example: example(
			"cutover config check cutover.toml",
			"cutover config check config.example.toml staging.toml",
		),
		Args: minArgs(1, "FILE"),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return []cobra.Completion{"toml"}, cobra.ShellCompDirectiveFilterFileExt
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConfigCheck(cmd.Context(), &configCheckOptions{files: args, out: app.Out, redactor: app.Redactor})
		},
	}
}

func runConfigCheck(_ context.Context, opts *configCheckOptions) error {
	bad := false
	for _, f := range opts.files {
		_, err := config.Load(f)
		if err == nil {
			fmt.Fprintf(opts.out, "ok: %s\n", f)
			continue
		}
		bad = true
		for _, e := range config.Errors(err) {
			fmt.Fprintln(opts.out, opts.redactor.Redact(e.Error()))
		}
	}
	if bad {
		return ErrFindings
	}
	return nil
}
