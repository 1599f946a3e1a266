package cli

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// served is a `cutover sandbox serve` running in-process.
type served struct {
	// env holds the variables serve printed as export lines.
	env map[string]string
	// printed is what serve printed up to the line "# the same lines".
	printed string
	// done gives serve's exit code once it stopped.
	done <-chan int
}

// startServe runs `cutover sandbox serve` with args in-process until ctx
// is cancelled, its stderr to errw, and reads what it prints up to the
// line "# the same lines"; the rest of its output is discarded.
func startServe(ctx context.Context, errw io.Writer, args ...string) served {
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		code := Main(ctx, append([]string{"sandbox", "serve"}, args...),
			Streams{In: strings.NewReader(""), Out: pw, Err: errw}, func(string) string { return "" })
		pw.Close()
		done <- code
	}()
	s := served{env: map[string]string{}, done: done}
	var printed strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		printed.WriteString(line + "\n")
		if k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "="); ok && strings.HasPrefix(line, "export ") {
			s.env[k] = strings.Trim(v, "'")
		}
		if strings.HasPrefix(line, "# the same lines") {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	s.printed = printed.String()
	return s
}

// stop cancels serve's context and waits for it to stop, failing t when
// it has not within 10 seconds.
func (s served) stop(t *testing.T, cancel context.CancelFunc) {
	t.Helper()
	cancel()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Error("serve did not stop after cancel")
	}
}
