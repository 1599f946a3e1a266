// Command cutover moves a portfolio of npm packages from long-lived publish
// tokens to OIDC trusted publishing. See README.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/cutover/cutover/internal/cli"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	var interrupted atomic.Bool
	go func() {
		// The first signal stops the command: it starts nothing new and
		// finishes the repositories in flight (each step is a ledger
		// transaction), saying how many; a second one exits at once.
		<-sigs
		interrupted.Store(true)
		cancel()
		<-sigs
		fmt.Fprintln(os.Stderr, "stopped at once: run the command again to continue")
		os.Exit(cli.ExitInterrupted)
	}()
	code := cli.Main(ctx, os.Args[1:], cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, os.Getenv)
	signal.Stop(sigs)
	if interrupted.Load() && code != cli.ExitUsage {
		code = cli.ExitInterrupted
	}
	os.Exit(code)
}
