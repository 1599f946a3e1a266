package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkRewriteCommandLarge runs `cutover rewrite` (the diff printed) and
// `cutover rewrite --write` on a repository whose one workflow is about
// 1 MiB with 8,000 token-publishing jobs: the whole command path, reading,
// detection, the oidc playbook, validation, the diff and the output. The
// goal is under 1 s per run. The result is about 2.9 MB, so the config
// raises scan.max_file_bytes to 4 MiB.
func BenchmarkRewriteCommandLarge(b *testing.B) {
	var wf strings.Builder
	wf.WriteString("name: release\non:\n  push:\n    tags: [\"v*\"]\njobs:\n")
	for i := range 8000 {
		fmt.Fprintf(&wf, "  p%04d:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm publish\n        env:\n          NODE_AUTH_TOKEN: ${{ secrets.T }}\n", i)
	}
	src := []byte(wf.String())
	for _, mode := range []string{"diff", "write"} {
		b.Run(mode, func(b *testing.B) {
			root := b.TempDir()
			p := filepath.Join(root, ".github", "workflows", "release.yml")
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, "package.json"), []byte(`{"name":"big","version":"1.0.0"}`), 0o644); err != nil {
				b.Fatal(err)
			}
			cfg := filepath.Join(b.TempDir(), "cutover.toml")
			if err := os.WriteFile(cfg, []byte("[scan]\nmax_file_bytes = 4194304\n"), 0o644); err != nil {
				b.Fatal(err)
			}
			args := []string{"--config", cfg, "rewrite", root}
			if mode == "write" {
				args = []string{"--config", cfg, "rewrite", "--write", root}
			}
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				b.StopTimer()
				if err := os.WriteFile(p, src, 0o644); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				var out, errb bytes.Buffer
				code := Main(context.Background(), args, Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, func(k string) string { return testEnv[k] })
				if code != ExitOK && code != ExitFindings {
					b.Fatalf("exit %d: %s", code, errb.String())
				}
			}
		})
	}
}
