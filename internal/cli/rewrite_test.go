package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRewriteCommand(t *testing.T) {
	t.Parallel()
	wf := ".github/workflows/release.yml"
	t.Run("diff is the default and touches nothing", func(t *testing.T) {
		t.Parallel()
		repo := writeRepo(t, map[string]string{wf: tokenWorkflow})
		r := run(t, testEnv, "rewrite", repo)
		if r.code != ExitOK {
			t.Fatalf("exit %d: %s", r.code, r.err)
		}
		for _, s := range []string{"+++ b/", "+    permissions:", "+      id-token: write", "vars.CUTOVER_NPM_OIDC != 'true' && secrets.NPM_TOKEN || ''", "npm@^11.5.1"} {
			if !strings.Contains(r.out, s) {
				t.Errorf("diff lacks %q:\n%s", s, r.out)
			}
		}
		if !strings.Contains(r.err, "rewritten (") {
			t.Errorf("stderr lacks the summary: %s", r.err)
		}
		if b, _ := os.ReadFile(filepath.Join(repo, wf)); string(b) != tokenWorkflow {
			t.Error("--diff changed the file")
		}
	})
	t.Run("write then check", func(t *testing.T) {
		t.Parallel()
		repo := writeRepo(t, map[string]string{wf: tokenWorkflow})
		if r := run(t, testEnv, "rewrite", "--check", repo); r.code != ExitFindings {
			t.Fatalf("check before write: exit %d, want 1", r.code)
		}
		if r := run(t, testEnv, "rewrite", "--write", "--flag-var", "NPM_OIDC", repo); r.code != ExitOK {
			t.Fatalf("write: exit %d: %s", r.code, r.err)
		}
		b, _ := os.ReadFile(filepath.Join(repo, wf))
		if !strings.Contains(string(b), "vars.NPM_OIDC != 'true'") {
			t.Fatalf("written file lacks the guard:\n%s", b)
		}
		if r := run(t, testEnv, "rewrite", "--check", "--flag-var", "NPM_OIDC", repo); r.code != ExitOK {
			t.Fatalf("check after write: exit %d, want 0: %s", r.code, r.err)
		}
	})
	t.Run("json", func(t *testing.T) {
		t.Parallel()
		repo := writeRepo(t, map[string]string{wf: tokenWorkflow})
		r := run(t, testEnv, "rewrite", "--format", "json", repo)
		var doc struct {
			Schema string `json:"schema"`
			Repos  []struct {
				Result struct {
					Files []struct {
						Path   string `json:"path"`
						Status string `json:"status"`
						Edits  []any  `json:"edits"`
					} `json:"files"`
				} `json:"result"`
			} `json:"repos"`
		}
		if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, r.out)
		}
		f := doc.Repos[0].Result.Files[0]
		if doc.Schema != RewriteSchema || f.Status != "rewritten" || len(f.Edits) != 3 {
			t.Errorf("unexpected: %+v", doc)
		}
	})
	t.Run("usage", func(t *testing.T) {
		t.Parallel()
		for _, args := range [][]string{
			{"rewrite", "--write", "--check", "."},
			{"rewrite", "--playbook", "magic", "."},
			{"rewrite", "--flag-var", "GITHUB_X", "."},
			{"rewrite", "--flag-var", "1bad", "."},
			{"rewrite", "--format", "yaml", "."},
		} {
			if r := run(t, testEnv, args...); r.code != ExitUsage {
				t.Errorf("%v: exit %d, want 2 (%s)", args, r.code, r.err)
			}
		}
	})
}
