//go:build unix

package ledger

import (
	"errors"
	"os"
	"syscall"
)

// processAlive reports whether the process pid runs on this host; signal 0
// checks without signalling.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	defer p.Release()
	err = p.Signal(syscall.Signal(0))
	return !errors.Is(err, os.ErrProcessDone) && !errors.Is(err, syscall.ESRCH)
}
