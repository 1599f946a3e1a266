package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// usageErrorf returns a *UsageError for cmd, so that cutover prints the
// message and a hint to cmd's help, and exits with ExitUsage.
func usageErrorf(cmd *cobra.Command, format string, args ...any) error {
	return &UsageError{Cmd: cmd.CommandPath(), Err: fmt.Errorf(format, args...)}
}

// noArgs is a cobra.PositionalArgs that accepts no arguments.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf(cmd, "%s takes no arguments, got %q", cmd.CommandPath(), args)
	}
	return nil
}

// exactArgs is a cobra.PositionalArgs that wants exactly n arguments named what.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf(cmd, "%s wants %d %s argument(s), got %d", cmd.CommandPath(), n, what, len(args))
		}
		return nil
	}
}

// minArgs is a cobra.PositionalArgs that wants at least n arguments named what.
func minArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usageErrorf(cmd, "%s wants at least %d %s argument(s), got %d", cmd.CommandPath(), n, what, len(args))
		}
		return nil
	}
}

// groupRunE is the RunE of a command that only groups subcommands: without
// arguments it prints help, with one it reports an unknown command as a
// usage error, suggesting the nearest names.
func groupRunE(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", quoteAll(s))
	}
	return usageErrorf(cmd, "%s", msg)
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, " or ")
}

// fixedCompletions completes a flag from a fixed list of values.
func fixedCompletions(values ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// example formats an Example block: one command per line, indented.
func example(lines ...string) string {
	for i, l := range lines {
		lines[i] = "  " + l
	}
	return strings.Join(lines, "\n")
}
