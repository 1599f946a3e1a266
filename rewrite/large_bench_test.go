package rewrite

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// largeWorkflow is a workflow of about 1 MiB with n jobs, each publishing
// with a token: the size the rewrite must handle well under a second.
func largeWorkflow(n int) []byte {
	var b strings.Builder
	b.WriteString("name: release\non:\n  push:\n    tags: [\"v*\"]\njobs:\n")
	for i := range n {
		fmt.Fprintf(&b, `  p%04d:
    runs-on: ubuntu-latest
    steps:
      - run: npm publish
        env:
          NODE_AUTH_TOKEN: ${{ secrets.T }}
`, i)
	}
	return []byte(b.String())
}

// BenchmarkRewriteLarge runs the oidc playbook, validation included, over a
// 1 MiB workflow with 8,000 jobs (the target is well under 1 s per op), and
// renders the diff as `cutover rewrite --diff` prints it. The result is
// about 2.9 MB: the file limit is raised to 4 MiB (scan.max_file_bytes),
// since under the default 1 MiB the rewrite is refused.
func BenchmarkRewriteLarge(b *testing.B) {
	src := largeWorkflow(8000)
	snap := Snapshot{Repo: "acme/large", Files: map[string][]byte{".github/workflows/release.yml": src}}
	b.SetBytes(int64(len(src)))
	var before, after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	for b.Loop() {
		res, err := Rewrite(snap, RewriteOptions{Registry: TestRegistry, MaxFileBytes: 4 << 20})
		if err != nil {
			b.Fatal(err)
		}
		f := res.Files[0]
		if f.Status != StatusRewritten {
			b.Fatalf("status %s %v", f.Status, f.Reasons)
		}
		if d := UnifiedDiff(f.Path, f.Before, f.After); d == "" {
			b.Fatal("empty diff")
		}
	}
	// CPU time per op: wall time on a shared machine says little.
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) / time.Duration(b.N)
	b.ReportMetric(float64(cpu.Milliseconds()), "cpu-ms/op")
}
