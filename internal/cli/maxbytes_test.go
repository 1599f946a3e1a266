package cli

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestMaxFileBytesConfigured: scan.max_file_bytes is the one limit scan,
// lint (a checkout or one file) and rewrite read files under. A workflow of
// 1.2 MiB is unreadable by default and read under a 2 MiB limit; a rewrite
// whose result would pass the limit is refused and the file kept as is.
func TestMaxFileBytesConfigured(t *testing.T) {
	t.Parallel()
	big := tokenWorkflow + strings.Repeat("# padding line for size\n", 1_200_000/24)
	repo := writeRepo(t, map[string]string{".github/workflows/release.yml": big, "package.json": `{"name":"big","version":"1.0.0"}`})
	wf := filepath.Join(repo, ".github", "workflows", "release.yml")
	config := func(limit int) map[string]string {
		p := filepath.Join(t.TempDir(), "cutover.toml")
		if err := os.WriteFile(p, []byte("[scan]\nmax_file_bytes = "+strconv.Itoa(limit)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		env := map[string]string{"CUTOVER_CONFIG": p}
		for k, v := range testEnv {
			env[k] = v
		}
		return env
	}
	def, raised, tight := testEnv, config(2<<20), config(len(big)+40)

	if r := run(t, def, "scan", "--format", "json", repo); !strings.Contains(r.out, "over the 1048576-byte limit") {
		t.Errorf("scan under the default limit: no finding for the file (code %d)\n%s", r.code, r.err)
	}
	if r := run(t, raised, "scan", "--format", "json", repo); strings.Contains(r.out, "byte limit") || !strings.Contains(r.out, `"publishes": true`) {
		t.Errorf("scan under a 2 MiB limit: code %d\n%s\n%s", r.code, r.out, r.err)
	}
	if r := run(t, def, "lint", wf); r.code != ExitUsage && r.code != ExitFindings || !strings.Contains(r.err+r.out, "over the 1048576-byte limit") {
		t.Errorf("lint FILE under the default limit: code %d\n%s%s", r.code, r.out, r.err)
	}
	for _, target := range []string{wf, repo} {
		if r := run(t, raised, "lint", "--format", "json", target); strings.Contains(r.out+r.err, "byte limit") || !strings.Contains(r.out, `"token-publish"`) {
			t.Errorf("lint %s under a 2 MiB limit: code %d\n%s\n%s", target, r.code, r.out, r.err)
		}
	}
	r := run(t, tight, "rewrite", "--write", repo)
	if !strings.Contains(r.out+r.err, "over the "+strconv.Itoa(len(big)+40)+"-byte limit cutover reads") {
		t.Errorf("rewrite past the limit: code %d, no refusal\n%s\n%s", r.code, r.out, r.err)
	}
	if b, _ := os.ReadFile(wf); string(b) != big {
		t.Error("a refused rewrite changed the file")
	}
	if r := run(t, raised, "rewrite", "--write", repo); r.code != ExitOK {
		t.Errorf("rewrite under a 2 MiB limit: code %d\n%s\n%s", r.code, r.out, r.err)
	}
	if b, _ := os.ReadFile(wf); !strings.Contains(string(b), "vars.CUTOVER_NPM_OIDC != 'true'") {
		t.Error("the rewrite under a 2 MiB limit did not guard the token")
	}
}
