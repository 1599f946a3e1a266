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
// and list newXCmd(app) in commands in root.go. A command returns errors:
// a *UsageError (see usageErrorf and the argument checkers in helpers.go) for
// bad input, ErrFindings to exit 1 without an error line, any other error to
// exit 3. Every command gets its dependencies from *App, which the root
// command fills in before the command runs.
package cli
