package cli

import (
	"errors"
	"fmt"
)

// Exit codes of the cutover command.
const (
	// ExitOK means success and nothing to report.
	ExitOK = 0
	// ExitFindings means findings were reported or some repositories failed.
	ExitFindings = 1
	// ExitUsage means the command line or the configuration is wrong.
	ExitUsage = 2
	// ExitFatal means the command could not do its work.
	ExitFatal = 3
	// ExitGate means a wave's gate refused to let the next wave start.
	ExitGate = 4
	// ExitInterrupted means a signal (Ctrl-C, SIGTERM) stopped the command.
	ExitInterrupted = 130
)

// ErrFindings is returned by a command that has already printed its findings
// (or its per-repository failures) to make cutover exit with ExitFindings
// without printing an error line.
var ErrFindings = errors.New("findings reported")

// UsageError is an error in how cutover was invoked: an unknown flag or
// command, a missing or extra argument, a bad flag value. Main prints it with
// a hint to the command's help and exits with ExitUsage.
type UsageError struct {
	// Cmd is the command path, such as "cutover scan", named in the hint.
	Cmd string
	// Err says what is wrong.
	Err error
}

// Error returns the message without the hint.
func (e *UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *UsageError) Unwrap() error { return e.Err }

// ExitError makes cutover print Err (if not nil) and exit with Code.
type ExitError struct {
	// Code is the exit code.
	Code int
	// Err is printed as "error: ..." unless nil.
	Err error
}

// Error returns the message of Err.
func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit code %d", e.Code)
	}
	return e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *ExitError) Unwrap() error { return e.Err }
