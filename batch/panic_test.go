package batch_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/cutover/cutover/batch"
)

// TestStepPanic: a repository's step that panics fails that repository
// alone, with a hint naming the first frame of cutover's own code, and its
// stack is logged at error level.
func TestStepPanic(t *testing.T) {
	t.Parallel()
	var logs npmSink
	e := &batch.Engine{Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	e.Defaults()
	out := batch.Each(t.Context(), e, "apply", []string{"acme/fine", "acme/broken"}, func(s string) string { return s },
		func(_ context.Context, repo string) batch.Outcome {
			if repo == "acme/broken" {
				panic("boom on " + repo)
			}
			return batch.Outcome{Kind: batch.OK}
		})
	if out[0].Kind != batch.OK {
		t.Errorf("acme/fine: %+v", out[0])
	}
	if o := out[1]; o.Kind != batch.Failed || o.Reason != "internal error" || !strings.HasPrefix(o.Hint, "a bug in cutover at batch/panic_test.go:") {
		t.Errorf("acme/broken: %+v, want failed with a hint naming the test's frame", o)
	}
	log := logs.String()
	if !strings.Contains(log, `"level":"ERROR","msg":"internal error: a panic stopped this repository's step","repo":"acme/broken"`) ||
		!strings.Contains(log, `"stack":"goroutine `) || !strings.Contains(log, "batch_test.TestStepPanic") {
		t.Errorf("log:\n%s", log)
	}
}
