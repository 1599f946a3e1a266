package logging

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
)

// ownPrefix starts the function names of cutover's own code.
const ownPrefix = "github.com/cutover/cutover/"

// PanicSite names where a panic happened, for a hint: the first frame of
// cutover's own code below the panic, such as
// "batch/apply.go:42 (batch.(*Engine).applyRepo)". Call it from the
// deferred function that recovers; "" when no such frame is found.
func PanicSite() string {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(2, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	panicking := false
	for {
		f, more := frames.Next()
		switch {
		case strings.HasPrefix(f.Function, "runtime."):
			// runtime.gopanic and the runtime's own faults (nil
			// dereference, index out of range) sit between the
			// recovering function and the code that panicked.
			panicking = true
		case panicking && strings.HasPrefix(f.Function, ownPrefix):
			fn := strings.TrimPrefix(f.Function, ownPrefix)
			dir := filepath.Base(filepath.Dir(f.File))
			return fmt.Sprintf("%s/%s:%d (%s)", dir, filepath.Base(f.File), f.Line, fn)
		}
		if !more {
			return ""
		}
	}
}

// PanicHint is the hint for a recovered panic at site (from PanicSite):
// "a bug in cutover at batch/apply.go:42 (…): report it with the log (its
// stack is logged at error level)", without "at …" when site is "".
func PanicHint(site string) string {
	if site == "" {
		return "a bug in cutover: report it with the log (its stack is logged at error level)"
	}
	return "a bug in cutover at " + site + ": report it with the log (its stack is logged at error level)"
}
