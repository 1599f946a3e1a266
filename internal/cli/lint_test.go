package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

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

	// SARIF: URIs are relative to the repository root (%SRCROOT%), wherever
	// the checkout is.
	r = run(t, env, "lint", "--format", "sarif", tokenRepo)
	if r.code != ExitFindings || !strings.Contains(r.out, `"version": "2.1.0"`) || !strings.Contains(r.out, `"ruleId": "token-publish"`) ||
		!strings.Contains(r.out, `"uri": ".github/workflows/release.yml",`) || !strings.Contains(r.out, `"uriBaseId": "%SRCROOT%"`) || strings.Contains(r.out, "file://") || !strings.Contains(r.out, `"startLine": 16`) {
		t.Errorf("sarif: code %d\n%s", r.code, r.out)
	}

	r = run(t, env, "lint", "--format", "xml", tokenRepo)
	if r.code != ExitUsage || !strings.Contains(r.err, `--format "xml": use text, json, sarif or github`) {
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

// TestLintFailOn: --fail-on picks the lowest severity that fails the run,
// with the names scan and SARIF share, and refuses any other name.
func TestLintFailOn(t *testing.T) {
	t.Parallel()
	env := map[string]string{"NPM_CONFIG_REGISTRY": "https://npm-registry.invalid/"}
	// id-token: write in a workflow pull_request_target starts: a warning.
	warning := writeRepo(t, map[string]string{".github/workflows/release.yml": strings.Replace(lintOIDCWorkflow, "on: push", "on: pull_request_target", 1), "package.json": `{"name":"w"}`})
	// A token publish on a self-hosted runner: a note.
	note := writeRepo(t, map[string]string{".github/workflows/release.yml": strings.Replace(tokenWorkflow, "runs-on: ubuntu-latest", "runs-on: [self-hosted, linux]", 1), "package.json": `{"name":"n"}`})
	if r := run(t, env, "lint", warning); !strings.HasSuffix(r.out, "0 error(s), 1 warning(s), 0 note(s)\n") || !strings.Contains(r.out, "[id-token-untrusted-trigger]") {
		t.Fatalf("warning fixture: code %d\n%s%s", r.code, r.out, r.err)
	}
	if r := run(t, env, "lint", note); !strings.HasSuffix(r.out, "0 error(s), 0 warning(s), 1 note(s)\n") {
		t.Fatalf("note fixture: code %d\n%s%s", r.code, r.out, r.err)
	}
	for _, tc := range []struct {
		failOn, fixture string
		want            int
	}{
		{"warning", "warning", ExitFindings},
		{"error", "warning", ExitOK},
		{"never", "warning", ExitOK},
		{"note", "warning", ExitFindings},
		{"note", "note", ExitFindings},
		{"warning", "note", ExitOK},
		{"never", "note", ExitOK},
	} {
		repo := map[string]string{"warning": warning, "note": note}[tc.fixture]
		if r := run(t, env, "lint", "--fail-on", tc.failOn, repo); r.code != tc.want {
			t.Errorf("--fail-on %s on the %s fixture: code %d, want %d\n%s%s", tc.failOn, tc.fixture, r.code, tc.want, r.out, r.err)
		}
	}
	r := run(t, env, "lint", "--fail-on", "info", warning)
	if r.code != ExitUsage || !strings.Contains(r.err, `--fail-on "info": use error, warning, note or never`) {
		t.Errorf("--fail-on info: code %d, want %d\n%s%s", r.code, ExitUsage, r.out, r.err)
	}
}

func TestLintPrintWorkflow(t *testing.T) {
	t.Parallel()
	env := map[string]string{"NPM_CONFIG_REGISTRY": testRegistry}
	r := run(t, env, "lint", "--print-workflow", "--pin", "v1.4.2")
	if r.code != ExitOK {
		t.Fatalf("code %d: %s", r.code, r.err)
	}
	for _, want := range []string{
		"pull_request:", "push:", "github.ref_name == github.event.repository.default_branch",
		"security-events: write",
		`CUTOVER_REGISTRY: "` + testRegistry + `"`,
		`cutover lint --registry "$CUTOVER_REGISTRY" --format sarif --fail-on never . > cutover.sarif`,
		`cutover lint --registry "$CUTOVER_REGISTRY" --format github .`,
		"github/codeql-action/upload-sarif@v4",
		"go install github.com/cutover/cutover/cmd/cutover@v1.4.2",
		"github.event.pull_request.head.repo.full_name == github.repository",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("workflow does not contain %q:\n%s", want, r.out)
		}
	}
	if strings.Contains(r.out, "cutover@latest") {
		t.Errorf("workflow does not pin cutover:\n%s", r.out)
	}
	// A pull request from a fork gets no secrets and a read-only token: the
	// workflow needs neither, and the one step that writes (the SARIF
	// upload) is skipped there.
	var wf struct {
		On          map[string]any    `yaml:"on"`
		Permissions map[string]string `yaml:"permissions"`
		Jobs        map[string]struct {
			If          string            `yaml:"if"`
			Permissions map[string]string `yaml:"permissions"`
			Steps       []struct {
				Uses string `yaml:"uses"`
				If   string `yaml:"if"`
				Run  string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal([]byte(r.out), &wf); err != nil {
		t.Fatalf("printed workflow: %v", err)
	}
	_, push := wf.On["push"]
	if _, pr := wf.On["pull_request"]; !pr || !push {
		t.Errorf("triggers %v: want push and pull_request", wf.On)
	}
	if _, ok := wf.On["pull_request_target"]; ok || strings.Contains(r.out, "secrets.") {
		t.Error("the printed workflow reads secrets or runs on pull_request_target")
	}
	if len(wf.Permissions) != 1 || wf.Permissions["contents"] != "read" {
		t.Errorf("workflow permissions %v, want contents: read only", wf.Permissions)
	}
	job, ok := wf.Jobs["lint"]
	if !ok || !strings.Contains(job.If, "github.ref_name == github.event.repository.default_branch") {
		t.Fatalf("lint job %+v: pushes must be limited to the default branch", job)
	}
	for k, v := range job.Permissions {
		if v != "read" && k != "security-events" {
			t.Errorf("job permission %s: %s", k, v)
		}
	}
	uploads := 0
	for _, st := range job.Steps {
		if strings.HasPrefix(st.Uses, "github/codeql-action/upload-sarif@") {
			uploads++
			if !strings.Contains(st.If, "github.event.pull_request.head.repo.full_name == github.repository") {
				t.Errorf("SARIF upload not skipped for forks: if %q", st.If)
			}
		}
		if strings.Contains(st.Run, "cutover lint") && !strings.Contains(st.Run, `--registry "$CUTOVER_REGISTRY"`) {
			t.Errorf("a lint step without the explicit registry: %q", st.Run)
		}
	}
	if uploads != 1 {
		t.Errorf("%d SARIF uploads", uploads)
	}
	problems, err := rewrite.LintWorkflow(".github/workflows/cutover-lint.yml", []byte(r.out))
	if err != nil || len(problems) > 0 {
		t.Errorf("the printed workflow does not pass actionlint: %v %v", problems, err)
	}
	// It is a workflow cutover itself has nothing against.
	repo := writeRepo(t, map[string]string{".github/workflows/cutover-lint.yml": r.out})
	if r := run(t, env, "lint", repo); r.code != ExitOK {
		t.Errorf("lint of the printed workflow: %d\n%s", r.code, r.out)
	}
	if r := run(t, env, "lint", "--print-workflow", "."); r.code != ExitUsage {
		t.Errorf("--print-workflow with a PATH: %d", r.code)
	}
	// A development build has no version to pin: say so instead of @latest.
	if r := run(t, env, "lint", "--print-workflow"); r.code != ExitUsage || !strings.Contains(r.err, "--pin") {
		t.Errorf("--print-workflow from a development build: %d %s", r.code, r.err)
	}
	if r := run(t, env, "lint", "--print-workflow", "--pin", "latest"); r.code != ExitUsage {
		t.Errorf("--pin latest: %d", r.code)
	}
	if r := run(t, env, "lint", "--print-workflow", "--pin", "v1.0.0", "--registry", "https://npm-registry.invalid/mirror"); r.code != ExitOK || !strings.Contains(r.out, `CUTOVER_REGISTRY: "https://npm-registry.invalid/mirror/"`) {
		t.Errorf("--registry: %d\n%s", r.code, r.out)
	}
}

// TestLintNpmrcRegistryTrick: a checkout whose committed .npmrc names
// another registry must not turn lint green on a workflow that publishes
// to the real registry with a token. cutover runs npm (for the registry)
// outside the checkout, so only the user's npm config counts.
func TestLintNpmrcRegistryTrick(t *testing.T) {
	if _, err := exec.LookPath("npm"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("npm is not installed and CI is set: %v", err)
		}
		t.Skipf("npm is not installed: %v", err)
	}
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, ".npmrc"), []byte("registry="+testRegistry+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("npm_config_userconfig", filepath.Join(home, ".npmrc"))
	t.Setenv("npm_config_cache", filepath.Join(home, ".npm"))
	for _, k := range []string{"NPM_CONFIG_REGISTRY", "npm_config_registry", "NPM_CONFIG_USERCONFIG"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	repo := writeRepo(t, map[string]string{
		".github/workflows/release.yml": tokenWorkflow,
		"package.json":                  `{"name":"victim","version":"1.0.0"}`,
		".npmrc":                        "registry=https://attacker.invalid/\n",
	})
	t.Chdir(repo)
	r := run(t, map[string]string{"HOME": home}, "lint", ".")
	// Judged against the user's registry, the workflow publishes to npm
	// itself. Had npm read the checkout's .npmrc, the workflow's registry
	// would only look like a proxy of attacker.invalid: still an error,
	// but for the wrong reason, so the message is checked too.
	if r.code != ExitFindings || !strings.Contains(r.out, `job "publish" publishes to npm with the stored token NPM_TOKEN; use trusted publishing instead`) || strings.Contains(r.out, "proxy") {
		t.Errorf("lint in a checkout with a registry .npmrc: code %d, want %d with a token-publish error against the user's registry\n%s\n%s", r.code, ExitFindings, r.out, r.err)
	}
	// The same check, had the checkout chosen the registry: what the test
	// above must not see.
	r = run(t, map[string]string{"HOME": home}, "lint", "--registry", "https://attacker.invalid/", ".")
	if !strings.Contains(r.out, "through the registry proxy npm-registry.invalid") {
		t.Errorf("against the checkout's registry the workflow's registry is a proxy:\n%s", r.out)
	}
}

// TestLintFileFromInsideRepository: a workflow named from inside .github
// (cd .github/workflows; cutover lint release.yml) is checked with the rest
// of its repository (here the committed .npmrc that makes its registry a
// proxy) and reported, in SARIF and annotations, by its repository-relative
// path.
func TestLintFileFromInsideRepository(t *testing.T) {
	wf := `name: release
on: push
jobs:
  publish:
    runs-on: ubuntu-latest
    env:
      NPM_TOKEN: ${{ secrets.NPM_TOKEN }}
    steps:
      - uses: actions/setup-node@v4
        with:
          node-version: 24
      - run: npm publish
`
	repo := writeRepo(t, map[string]string{
		".github/workflows/release.yml": wf,
		".npmrc":                        "registry=https://artifacts.corp.invalid/npm/\n//artifacts.corp.invalid/npm/:_authToken=${NPM_TOKEN}\n",
		"package.json":                  `{"name":"proxied","version":"1.0.0"}`,
	})
	t.Chdir(filepath.Join(repo, ".github", "workflows"))
	r := run(t, testEnv, "lint", "release.yml")
	if r.code != ExitFindings || !strings.HasPrefix(r.out, "release.yml:") || !strings.Contains(r.out, "through the registry proxy artifacts.corp.invalid") {
		t.Errorf("lint release.yml from .github/workflows: code %d\n%s\n%s", r.code, r.out, r.err)
	}
	r = run(t, testEnv, "lint", "--format", "sarif", "release.yml")
	if !strings.Contains(r.out, `"uri": ".github/workflows/release.yml",`) {
		t.Errorf("sarif from .github/workflows:\n%s", r.out)
	}
	t.Chdir(filepath.Join(repo, ".github"))
	r = run(t, testEnv, "lint", "--format", "github", "workflows/release.yml")
	if !strings.Contains(r.out, "::error file=.github/workflows/release.yml,line=7,title=cutover token-publish::") || !strings.Contains(r.out, "registry proxy") {
		t.Errorf("annotations from .github:\n%s", r.out)
	}
}
