// Package cli is cutover's command tree, built with github.com/spf13/cobra.
//
// Main runs one invocation in-process and returns the exit code; nothing
// below it calls os.Exit or touches os.Stdin, os.Stdout or os.Stderr, so
// tests call Main with buffers.
//
// To add a command "x": write x.go with
//
//	type xOptions struct{ ... }              // parsed flags and dependencies
//	func newXCmd(app *App) *cobra.Command     // flags, help, examples
//	func runX(ctx context.Context, opts *xOptions) error
//
// and list newXCmd(app) in commands in root.go. Set Args on every command
// (any cobra.PositionalArgs; its errors become usage errors). A command
// returns errors: a *UsageError (see usageErrorf) for bad input, ErrFindings
// to exit 1 without an error line, an *ExitError for another code with a
// message, any other error to exit 3. Every command gets its dependencies
// from *App, which the root command fills in before the command runs;
// App.Registry resolves the npm registry URL for a --registry flag.
//
// Two cobra features bypass the usage-error path and should not be used:
// MarkFlagRequired and flag groups (check those in runX and return
// usageErrorf), and PersistentPreRun on a subcommand (it would replace the
// root's, which sets up App).
package cli
