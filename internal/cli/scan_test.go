package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/corpus"
	"github.com/cutover/cutover/rewrite"
)

const testRegistry = "https://npm-registry.invalid/"

// testEnv configures the registry the way users do, through the environment.
var testEnv = map[string]string{"NPM_CONFIG_REGISTRY": testRegistry}

func writeRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for rel, body := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const tokenWorkflow = `name: release
on:
  release:
    types: [published]
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 22
          registry-url: https://npm-registry.invalid/
      - run: npm publish --provenance
        env:
          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}
`

func TestScan(t *testing.T) {
	t.Parallel()
	repo := writeRepo(t, map[string]string{".github/workflows/release.yml": tokenWorkflow, "package.json": `{"name":"widget"}`})
	broken := writeRepo(t, map[string]string{".github/workflows/bad.yml": "on: [push\njobs: {"})
	missing := filepath.Join(t.TempDir(), "gone")
	// A proxy reached through an .npmrc write, then a package script.
	inferredProxy := writeRepo(t, map[string]string{"package.json": `{"name":"root","private":true}`, ".github/workflows/release.yml": `on: push
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "//proxy.example.invalid/:_authToken=${NPM_TOKEN}" > .npmrc
          echo registry=https://proxy.example.invalid/ >> .npmrc
        env:
          NPM_TOKEN: ${{ secrets.NPM_TOKEN }}
      - run: pnpm release
`})
	// Scope @acme goes to a proxy; the package is in it.
	scoped := writeRepo(t, map[string]string{"package.json": `{"name":"@acme/widget"}`, ".npmrc": "@acme:registry=https://proxy.example.invalid/\n//proxy.example.invalid/:_authToken=${NODE_AUTH_TOKEN}\n",
		".github/workflows/release.yml": strings.Replace(tokenWorkflow, " --provenance", "", 1)})
	// The same, but the package is unscoped: the scope serves installs.
	scopedOther := writeRepo(t, map[string]string{"package.json": `{"name":"widget"}`, ".npmrc": "@acme:registry=https://proxy.example.invalid/\n//proxy.example.invalid/:_authToken=${NODE_AUTH_TOKEN}\n",
		".github/workflows/release.yml": strings.Replace(tokenWorkflow, " --provenance", "", 1)})
	// A caller of a local reusable workflow that is not there.
	noCallee := writeRepo(t, map[string]string{"package.json": `{"name":"widget"}`, ".github/workflows/release.yml": `on: push
jobs:
  publish:
    uses: ./.github/workflows/publish.yml
    secrets:
      NPM_TOKEN: ${{ secrets.NPM_TOKEN }}
`})
	tests := []struct {
		name string
		args []string
		code int
		out  []string
		// absent must not be printed.
		absent []string
	}{
		{"table", []string{"scan", repo}, ExitOK, []string{"PUBLISHES", "token", "release.yml#publish", "trust widget", "0 error, 0 warning, 0 note"}, nil},
		{"broken workflow is a finding, not a stop", []string{"scan", broken, repo}, ExitFindings, []string{"workflow-invalid", "release.yml#publish"}, nil},
		{"missing path fails but others are scanned", []string{"scan", missing, repo}, ExitFindings, []string{"no such directory", "release.yml#publish"}, nil},
		{"fail on warning", []string{"scan", "--fail-on", "warning", repo}, ExitOK, []string{"token"}, nil},
		// Against another configured registry the workflow's registry is a
		// proxy fed an npm token.
		{"registry flag", []string{"scan", "--registry", "https://other.invalid/", repo}, ExitOK, []string{"via proxy: npm-registry.invalid", "registry-proxy"}, nil},
		{"inferred publisher via proxy", []string{"scan", inferredProxy}, ExitOK, []string{"release.yml#release  token", "confidence: inferred", "via proxy: proxy.example.invalid", "registry-proxy"}, nil},
		{"scoped proxy", []string{"scan", scoped}, ExitOK, []string{"via proxy: proxy.example.invalid (scope @acme)", "publishes the packages of scope @acme"}, nil},
		{"scope serving installs only", []string{"scan", scopedOther}, ExitOK, []string{"release.yml#publish  token", "trust widget"}, []string{"via proxy", "registry-proxy"}},
		{"missing reusable workflow", []string{"scan", noCallee}, ExitOK, []string{"reusable-workflow-missing", "calls .github/workflows/publish.yml, which is not in the repository"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, testEnv, tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tc.code, r.out, r.err)
			}
			for _, s := range tc.out {
				if !strings.Contains(r.out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, r.out)
				}
			}
			for _, s := range tc.absent {
				if strings.Contains(r.out, s) {
					t.Errorf("stdout has %q:\n%s", s, r.out)
				}
			}
		})
	}
}

func TestScanUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"scan"}, {"scan", "--format", "xml", "."}, {"scan", "--fail-on", "info", "."}, {"scan", "--registry", "ftp://x", "."}} {
		if r := run(t, testEnv, args...); r.code != ExitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, r.code, ExitUsage, r.err)
		}
	}
}

func TestScanJSON(t *testing.T) {
	t.Parallel()
	repo := writeRepo(t, map[string]string{".github/workflows/release.yml": tokenWorkflow})
	r := run(t, testEnv, "scan", "--format", "json", repo)
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	var doc struct {
		Schema   string `json:"schema"`
		Registry string `json:"registry"`
		Repos    []struct {
			Result rewrite.Result `json:"result"`
		} `json:"repos"`
	}
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.out)
	}
	if doc.Schema != ScanSchema || doc.Registry != testRegistry || len(doc.Repos) != 1 {
		t.Fatalf("unexpected document: %+v", doc)
	}
	if got := doc.Repos[0].Result.Credential; got != rewrite.CredTokenProvenance {
		t.Errorf("credential %q, want token+provenance", got)
	}
}

// TestScanNeverPrintsTokens commits a literal token and sets token env
// vars: neither value may reach stdout or stderr.
func TestScanNeverPrintsTokens(t *testing.T) {
	t.Parallel()
	literal := "npm_" + strings.Repeat("a1B2", 9)
	envToken := "ghp_" + strings.Repeat("Z9", 18)
	repo := writeRepo(t, map[string]string{
		".github/workflows/release.yml": tokenWorkflow,
		".npmrc":                        "//npm-registry.invalid/:_authToken=" + literal + "\n",
	})
	env := map[string]string{"NPM_CONFIG_REGISTRY": testRegistry, "GITHUB_TOKEN": envToken}
	for _, format := range []string{"table", "json"} {
		r := run(t, env, "--log-level", "debug", "scan", "--format", format, repo)
		if !strings.Contains(r.out, "literal-token") {
			t.Errorf("%s: committed token not reported:\n%s", format, r.out)
		}
		for _, secret := range []string{literal, envToken} {
			if strings.Contains(r.out, secret) || strings.Contains(r.err, secret) {
				t.Errorf("%s: a token value reached the output", format)
			}
		}
	}
}

// TestScanCorpus puts every corpus workflow into its own temporary
// repository, scans them all in one run and compares with the manifest.
func TestScanCorpus(t *testing.T) {
	t.Parallel()
	rows := corpus.Load(t)
	args := []string{"scan", "--format", "json", "--fail-on", "never"}
	for _, row := range rows {
		args = append(args, writeRepo(t, map[string]string{row.Path: string(corpus.Data(t, row))}))
	}
	r := run(t, testEnv, args...)
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	var doc struct {
		Repos []struct {
			Error  string         `json:"error"`
			Result rewrite.Result `json:"result"`
		} `json:"repos"`
	}
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]rewrite.Credential{"classic-or-unknown-token": rewrite.CredToken, "token+provenance": rewrite.CredTokenProvenance, "oidc": rewrite.CredOIDC, "none": rewrite.CredNone}
	agree := 0
	for i, row := range rows {
		got := doc.Repos[i].Result
		if got.Publishes == (row.Publishes == "yes") && got.Credential == want[row.Credential] {
			agree++
		} else {
			t.Logf("disagreement: %s: got publishes=%v credential=%s, manifest %s %s", row.File, got.Publishes, got.Credential, row.Publishes, row.Credential)
		}
	}
	// Today's result exactly: one regression fails.
	if agree != 54 || len(rows) != 54 {
		t.Errorf("agreement %d/%d, want 54/54", agree, len(rows))
	}
}

// TestScanTableEscapesControlCharacters: job ids and file names come from
// the repository; escape sequences in them must not reach the terminal.
func TestScanTableEscapesControlCharacters(t *testing.T) {
	t.Parallel()
	wf := strings.Replace(tokenWorkflow, "  publish:\n", "  \"pub\\e[2Jlish\\r\":\n", 1)
	repo := writeRepo(t, map[string]string{".github/workflows/re\x1b]0;owned\alease.yml": wf})
	r := run(t, testEnv, "scan", "--fail-on", "never", repo)
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	for _, c := range []string{"\x1b", "\a", "\r"} {
		if strings.Contains(r.out, c) {
			t.Errorf("raw control character %q in the table:\n%q", c, r.out)
		}
	}
	if !strings.Contains(r.out, `pub\x1b[2Jlish\x0d`) || !strings.Contains(r.out, `re\x1b]0;owned\x07lease.yml`) {
		t.Errorf("control characters not shown escaped:\n%s", r.out)
	}
	// lint's text output and rewrite's diff and status lines name the same
	// job and file: escaped there too.
	for _, args := range [][]string{{"lint", "--fail-on", "never", repo}, {"rewrite", repo}, {"rewrite", "--check", repo}} {
		r := run(t, testEnv, args...)
		for _, c := range []string{"\x1b", "\a", "\r"} {
			if strings.Contains(r.out+r.err, c) {
				t.Errorf("%v: raw control character %q:\n%q\n%q", args, c, r.out, r.err)
			}
		}
		if !strings.Contains(r.out+r.err, `re\x1b]0;owned\x07lease.yml`) {
			t.Errorf("%v: file name not shown escaped:\n%s\n%s", args, r.out, r.err)
		}
	}
}
