package rewrite

import (
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/cutover/cutover/internal/corpus"
)

// fuzzSeeds returns (workflow, package.json) pairs: each corpus file with an
// empty package.json, and the first workflow and package.json of each
// golden case.
func fuzzSeeds(tb testing.TB) [][2][]byte {
	tb.Helper()
	var seeds [][2][]byte
	files, _ := filepath.Glob(filepath.Join(corpus.Dir(), "files", "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, [2][]byte{b, []byte(`{"name":"seed","version":"1.0.0"}`)})
	}
	cases, _ := filepath.Glob(filepath.Join(detectDir, "*.txtar"))
	for _, c := range cases {
		ar, err := txtar.ParseFile(c)
		if err != nil {
			tb.Fatal(err)
		}
		var seed [2][]byte
		for _, f := range ar.Files {
			switch {
			case seed[0] == nil && isWorkflowPath(f.Name):
				seed[0] = f.Data
			case seed[1] == nil && f.Name == "package.json":
				seed[1] = f.Data
			}
		}
		seeds = append(seeds, seed)
	}
	return seeds
}

// fuzzSnapshot puts the fuzzed bytes where Detect reads them: the workflow
// bytes as a workflow and as a local composite action (so a job may call
// itself), the package.json bytes as the root and a workspace package, an
// .npmrc and a release script (so a script may run itself).
func fuzzSnapshot(wf, pkg []byte) Snapshot {
	return Snapshot{
		Repo: "fuzz/repo",
		Files: map[string][]byte{
			".github/workflows/fuzz.yml":         wf,
			".github/actions/publish/action.yml": wf,
			"package.json":                       pkg,
			"packages/a/package.json":            pkg,
			".npmrc":                             pkg,
			"scripts/release.sh":                 pkg,
			"RELEASING.md":                       wf,
		},
		Problems: map[string]string{"big.bin": "file is too large"},
	}
}

// checkResult verifies what every Result must satisfy, whatever the input.
func checkResult(t *testing.T, snap Snapshot, res *Result) {
	t.Helper()
	if res == nil {
		t.Fatal("Detect returned nil")
	}
	if res.Pipelines == nil || res.Packages == nil || res.Findings == nil {
		t.Errorf("nil slices in result: pipelines %v, packages %v, findings %v", res.Pipelines == nil, res.Packages == nil, res.Findings == nil)
	}
	known := func(p string) bool {
		_, inFiles := snap.Files[p]
		_, inProblems := snap.Problems[p]
		return inFiles || inProblems
	}
	for _, f := range res.Findings {
		if f.File != "" && !known(f.File) {
			t.Errorf("finding %s names %q, which is not in the snapshot", f.Code, f.File)
		}
		if f.Line < 0 {
			t.Errorf("finding %s has line %d", f.Code, f.Line)
		}
	}
	if res.Publishes != (len(res.Pipelines) > 0) {
		t.Errorf("Publishes = %v with %d pipelines", res.Publishes, len(res.Pipelines))
	}
	if res.Credential.rank() > CredNone.rank() {
		t.Errorf("unknown repository credential %q", res.Credential)
	}
	for _, p := range res.Pipelines {
		if !known(p.Workflow) {
			t.Errorf("pipeline names workflow %q, which is not in the snapshot", p.Workflow)
		}
		if p.Credential.rank() > CredNone.rank() {
			t.Errorf("unknown pipeline credential %q", p.Credential)
		}
		if p.Credential.rank() < res.Credential.rank() {
			t.Errorf("pipeline credential %s is less migrated than the repository's %s", p.Credential, res.Credential)
		}
		for _, fd := range p.Feeds {
			if !known(fd.File) {
				t.Errorf("token feed names %q, which is not in the snapshot", fd.File)
			}
		}
		for _, w := range p.TrustedWorkflow {
			if w == "" || strings.Contains(w, "/") && p.Provider == "" {
				t.Errorf("trusted workflow %q is not a file name", w)
			}
		}
	}
	out, err := json.Marshal(res)
	if err != nil {
		t.Fatalf("result does not marshal: %v", err)
	}
	// A committed token is shown only masked.
	for _, b := range snap.Files {
		for _, tok := range literalTokenRe.FindAll(b, -1) {
			if strings.Contains(string(out), string(tok)) {
				t.Errorf("result shows the token %s… in full", tok[:8])
			}
		}
	}
}

func FuzzDetect(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, wf, pkg []byte) {
		snap := fuzzSnapshot(wf, pkg)
		res := Detect(snap, Options{Registry: TestRegistry})
		if len(snap.Files) != 7 {
			t.Fatalf("Detect changed the snapshot: %d files", len(snap.Files))
		}
		checkResult(t, snap, res)
		// With no registry configured every publish counts; it must hold too.
		checkResult(t, snap, Detect(snap, Options{}))
	})
}

func FuzzSplitCommands(f *testing.F) {
	f.Add("npm ci && npm publish --provenance")
	f.Add("npx semantic-release \\\n  --dry-run\n")
	f.Add("echo '//npm-registry.invalid/:_authToken=${{ secrets.NPM_TOKEN }}' >> ~/.npmrc")
	f.Add("if [ \"$X\" = y ]; then (cd a && yarn npm publish); fi # comment")
	f.Add("NPM_CONFIG_PROVENANCE=true pnpm -r publish --filter \"./packages/**\"")
	f.Add("echo $(npm view x version) `npm whoami` ${{ ")
	f.Add("cat <<EOF\n//x/:_authToken=$T\nEOF\n\\\r\n\"unterminated")
	cases, _ := filepath.Glob(filepath.Join(detectDir, "*.txtar"))
	for _, c := range cases {
		ar, err := txtar.ParseFile(c)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range ar.Files {
			if path.Base(file.Name) == "package.json" {
				var pj packageJSON
				if json.Unmarshal(file.Data, &pj) == nil {
					for _, s := range pj.Scripts {
						f.Add(s)
					}
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, script string) {
		lines := strings.Count(script, "\n")
		prev := 0
		for _, c := range splitCommands(script) {
			if len(c.words) == 0 {
				t.Errorf("empty command in %q", script)
			}
			if c.line < prev || c.line > lines {
				t.Errorf("command %q at line %d (previous %d, %d lines)", c.words, c.line, prev, lines)
			}
			prev = c.line
			classify(c.words, 0)
			commandWords(c.words)
			provenancePrefix(c.words)
		}
	})
}
