package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/rewrite"
)

const lintOIDCWorkflow = `name: release
on: push
permissions:
  contents: read
jobs:
  publish:
    runs-on: ubuntu-latest
    permissions:
      id-token: write
    steps:
      - uses: actions/setup-node@v4
        with:
          node-version: 24
          registry-url: https://npm-registry.invalid/
      - run: npm publish
`

func TestLintCommand(t *testing.T) {
	t.Parallel()
	tokenRepo := writeRepo(t, map[string]string{".github/workflows/release.yml": tokenWorkflow, "package.json": `{"name":"a"}`})
	oidcRepo := writeRepo(t, map[string]string{".github/workflows/release.yml": lintOIDCWorkflow, "package.json": `{"name":"b"}`})
	env := map[string]string{"NPM_CONFIG_REGISTRY": "https://npm-registry.invalid/"}

	r := run(t, env, "lint", tokenRepo)
	if r.code != ExitFindings || !strings.Contains(r.out, "/.github/workflows/release.yml:16: error: job \"publish\" publishes to npm with the stored token NPM_TOKEN") || !strings.Contains(r.out, "[token-publish]") {
		t.Errorf("token repo: code %d\n%s\n%s", r.code, r.out, r.err)
	}
	r = run(t, env, "lint", oidcRepo)
	if r.code != ExitOK || r.out != "0 error(s), 0 warning(s), 0 note(s)\n" {
		t.Errorf("oidc repo: code %d\n%s\n%s", r.code, r.out, r.err)
	}
	r = run(t, env, "lint", "--fail-on", "never", tokenRepo)
	if r.code != ExitOK {
		t.Errorf("--fail-on never: code %d", r.code)
	}

	// One file of a checkout: its path is kept as given.
	file := filepath.Join(tokenRepo, ".github", "workflows", "release.yml")
	r = run(t, env, "lint", "--format", "json", file, oidcRepo)
	var doc struct {
		Schema  string `json:"schema"`
		Results []struct {
			Rule, Level, File string
			Line              int
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		t.Fatalf("json: %v\n%s", err, r.out)
	}
	if r.code != ExitFindings || doc.Schema != LintSchema || len(doc.Results) != 1 || doc.Results[0].File != filepath.ToSlash(file) || doc.Results[0].Line != 16 {
		t.Errorf("json: code %d %+v", r.code, doc)
	}

	// SARIF: a checkout outside the working directory gets file URIs.
	r = run(t, env, "lint", "--format", "sarif", tokenRepo)
	if r.code != ExitFindings || !strings.Contains(r.out, `"version": "2.1.0"`) || !strings.Contains(r.out, `"ruleId": "token-publish"`) || !strings.Contains(r.out, `"uri": "file://`+filepath.ToSlash(tokenRepo)) || !strings.Contains(r.out, `"startLine": 16`) {
		t.Errorf("sarif: code %d\n%s", r.code, r.out)
	}

	r = run(t, env, "lint", "--format", "xml", tokenRepo)
	if r.code != ExitUsage || !strings.Contains(r.err, `--format "xml": use text, json or sarif`) {
		t.Errorf("bad format: %d %s", r.code, r.err)
	}
	r = run(t, env, "lint")
	if r.code != ExitUsage {
		t.Errorf("no PATH: %d %s", r.code, r.err)
	}
	r = run(t, env, "lint", filepath.Join(tokenRepo, "missing"))
	if r.code != ExitFindings || !strings.Contains(r.err, "could not read") {
		t.Errorf("missing PATH: %d %s", r.code, r.err)
	}

	// [lint] require_environment turns a job without an environment into an error.
	cfg := filepath.Join(t.TempDir(), "c.toml")
	if err := os.WriteFile(cfg, []byte("[lint]\nrequire_environment = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, env, "--config", cfg, "lint", oidcRepo)
	if r.code != ExitFindings || !strings.Contains(r.out, "[missing-environment]") {
		t.Errorf("require_environment: %d\n%s\n%s", r.code, r.out, r.err)
	}
}

func TestLintPrintWorkflow(t *testing.T) {
	t.Parallel()
	r := run(t, nil, "lint", "--print-workflow")
	if r.code != ExitOK {
		t.Fatalf("code %d: %s", r.code, r.err)
	}
	for _, want := range []string{"pull_request:", "security-events: write", "cutover lint --format sarif . > cutover.sarif", "github/codeql-action/upload-sarif@v3", "go install github.com/cutover/cutover/cmd/cutover@latest", "${{ always() && hashFiles('cutover.sarif') != '' }}"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("workflow does not contain %q:\n%s", want, r.out)
		}
	}
	problems, err := rewrite.LintWorkflow(".github/workflows/cutover-lint.yml", []byte(r.out))
	if err != nil || len(problems) > 0 {
		t.Errorf("the printed workflow does not pass actionlint: %v %v", problems, err)
	}
	// It is a workflow cutover itself has nothing against.
	repo := writeRepo(t, map[string]string{".github/workflows/cutover-lint.yml": r.out})
	if r := run(t, map[string]string{"NPM_CONFIG_REGISTRY": "https://npm-registry.invalid/"}, "lint", repo); r.code != ExitOK {
		t.Errorf("lint of the printed workflow: %d\n%s", r.code, r.out)
	}
	if r := run(t, nil, "lint", "--print-workflow", "."); r.code != ExitUsage {
		t.Errorf("--print-workflow with a PATH: %d", r.code)
	}
}
