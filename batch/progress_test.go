package batch_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/cutover/cutover/batch"
	"github.com/cutover/cutover/internal/forge/forgetest"
	"github.com/cutover/cutover/internal/ledger"
)

// TestProgressFromStart: a phase reports itself before its first
// repository is done (done 0 of the total), so a progress bar shows from
// the start, then once per repository, the last with every one done.
func TestProgressFromStart(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := forgetest.New()
	for i := range 5 {
		f.AddRepo(fmt.Sprintf("acme/r%d", i), map[string][]byte{
			".github/workflows/release.yml": []byte(tokenWorkflow("24")),
			"package.json":                  []byte(fmt.Sprintf(`{"name":"r%d"}`, i)),
		})
	}
	led, err := ledger.Open(ctx, filepath.Join(t.TempDir(), "cutover.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { led.Close() })
	type call struct {
		phase               string
		done, failed, total int
	}
	var mu sync.Mutex
	var calls []call
	e := &batch.Engine{Forge: f, Ledger: led, Opts: batch.Options{Org: "acme", Registry: testRegistry, Concurrency: 2},
		Progress: func(phase string, done, failed, total int) {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, call{phase, done, failed, total})
		}}
	if _, err := e.Inventory(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 6 {
		t.Fatalf("%d progress calls, want 6 (the start and one per repository): %v", len(calls), calls)
	}
	if c := calls[0]; c != (call{"inventory", 0, 0, 5}) {
		t.Errorf("first call %+v, want inventory 0 of 5", c)
	}
	for i, c := range calls[1:] {
		if c.done != i+1 || c.total != 5 {
			t.Errorf("call %d: %+v", i+1, c)
		}
	}
}
