package cli

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// TestRecovered: a panic recovered while working on one item is logged at
// error level with its stack, and the item's error names the first frame
// of cutover's own code.
func TestRecovered(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	app := newApp(Streams{}, nil)
	app.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	var msg string
	func() {
		defer func() {
			if r := recover(); r != nil {
				msg = app.recovered("internal error: a panic stopped the scan of this path", r, "path", "/src/widget")
			}
		}()
		panic("boom")
	}()
	if !strings.HasPrefix(msg, "internal error: boom (a bug in cutover at cli/panic_test.go:") ||
		!strings.Contains(msg, "cli.TestRecovered") {
		t.Errorf("error %q, want the panic and the test's own frame", msg)
	}
	var rec struct {
		Level, Msg, Path, At, Stack string
	}
	if err := json.Unmarshal(logs.Bytes(), &rec); err != nil {
		t.Fatalf("log %q: %v", logs.String(), err)
	}
	if rec.Level != "ERROR" || rec.Path != "/src/widget" || !strings.HasPrefix(rec.At, "cli/panic_test.go:") ||
		!strings.Contains(rec.Stack, "goroutine ") || !strings.Contains(rec.Stack, "cli.TestRecovered") {
		t.Errorf("log record %+v, want the stack at error level", rec)
	}
}
