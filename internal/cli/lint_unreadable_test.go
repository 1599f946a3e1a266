package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// unreadableRepos builds checkouts whose only workflow cutover cannot read.
func unreadableRepos(t *testing.T) map[string]string {
	t.Helper()
	bomb := "a: &a [x,x,x,x,x,x,x,x,x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		bomb += n + ": &" + n + " [*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + "]\n"
		prev = n
	}
	repos := map[string]string{
		"unparseable":  writeRepo(t, map[string]string{".github/workflows/release.yml": "on: push\njobs: [\n"}),
		"oversized":    writeRepo(t, map[string]string{".github/workflows/release.yml": tokenWorkflow + strings.Repeat("# pad\n", 200_000)}),
		"alias-bomb":   writeRepo(t, map[string]string{".github/workflows/release.yml": bomb}),
		"invalid-utf8": writeRepo(t, map[string]string{".github/workflows/release.yml": tokenWorkflow + "# \xff\xfe\n"}),
	}
	// A workflow that is a symlink leaving the repository.
	outside := filepath.Join(t.TempDir(), "release.yml")
	if err := os.WriteFile(outside, []byte(tokenWorkflow), 0o644); err != nil {
		t.Fatal(err)
	}
	esc := writeRepo(t, map[string]string{"package.json": `{"name":"x"}`})
	if err := os.MkdirAll(filepath.Join(esc, ".github", "workflows"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(esc, ".github", "workflows", "release.yml")); err != nil {
		t.Fatal(err)
	}
	repos["escaping-symlink"] = esc
	// The whole workflows directory is a symlink leaving the repository.
	dir := writeRepo(t, map[string]string{"package.json": `{"name":"x"}`})
	if err := os.MkdirAll(filepath.Join(dir, ".github"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Dir(outside), filepath.Join(dir, ".github", "workflows")); err != nil {
		t.Fatal(err)
	}
	repos["escaping-workflows-dir"] = dir
	// A named pipe where a workflow should be.
	fifo := writeRepo(t, map[string]string{"package.json": `{"name":"x"}`})
	if err := os.MkdirAll(filepath.Join(fifo, ".github", "workflows"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(fifo, ".github", "workflows", "release.yml"), 0o644); err != nil {
		t.Fatal(err)
	}
	repos["fifo"] = fifo
	return repos
}

// TestLintUnreadable: a file lint could not read is an error-level result
// (in SARIF too) and exit 1, never a silent pass; rewrite --check fails too.
func TestLintUnreadable(t *testing.T) {
	t.Parallel()
	for name, repo := range unreadableRepos(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := run(t, testEnv, "lint", "--format", "json", repo)
			var doc struct {
				Results []struct{ Rule, Level, File string } `json:"results"`
			}
			if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
				t.Fatalf("json: %v\n%s", err, r.out)
			}
			found := false
			for _, x := range doc.Results {
				found = found || x.Rule == "unreadable-file" && x.Level == "error" && strings.HasPrefix(x.File, filepath.ToSlash(repo)+"/.github/workflows")
			}
			if r.code != ExitFindings || !found {
				t.Errorf("lint: code %d, want 1 with an unreadable-file error\n%s\n%s", r.code, r.out, r.err)
			}
			r = run(t, testEnv, "lint", "--format", "sarif", repo)
			if r.code != ExitFindings || !strings.Contains(r.out, `"ruleId": "unreadable-file"`) || !strings.Contains(r.out, `"level": "error"`) {
				t.Errorf("sarif: code %d\n%s", r.code, r.out)
			}
			r = run(t, testEnv, "rewrite", "--check", repo)
			if r.code != ExitFindings || !strings.Contains(r.err, "unreadable") {
				t.Errorf("rewrite --check: code %d, want 1\n%s", r.code, r.err)
			}
		})
	}
}

// TestRewriteWriteKeepsSymlink: --write edits the file a symlinked
// workflow points at and leaves the link a link.
func TestRewriteWriteKeepsSymlink(t *testing.T) {
	t.Parallel()
	repo := writeRepo(t, map[string]string{"ci/release.yml": tokenWorkflow})
	link := filepath.Join(repo, ".github", "workflows", "release.yml")
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("..", "..", "ci", "release.yml"), link); err != nil {
		t.Fatal(err)
	}
	if r := run(t, testEnv, "rewrite", "--write", repo); r.code != ExitOK {
		t.Fatalf("write: %d %s", r.code, r.err)
	}
	fi, err := os.Lstat(link)
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the workflow is no longer a symlink: %v %v", fi.Mode(), err)
	}
	b, _ := os.ReadFile(filepath.Join(repo, "ci", "release.yml"))
	if !strings.Contains(string(b), "vars.CUTOVER_NPM_OIDC != 'true'") {
		t.Errorf("the link's target was not rewritten:\n%s", b)
	}
}
