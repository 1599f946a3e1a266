package lint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cutover/cutover/internal/checkout"
	"github.com/cutover/cutover/internal/corpus"
	"github.com/cutover/cutover/rewrite"
)

const testRegistry = "https://npm-registry.invalid/"

// A committed token value: the literal-token rule must not repeat any of it.
const committedToken = "npm_LINTtestCOMMITTEDvalue0123456789abcd"

const tokenRelease = `name: release
on:
  release:
    types: [published]
env:
  NPM_TOKEN: ${{ secrets.NPM_TOKEN }}
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 22
          registry-url: https://npm-registry.invalid/
      - run: npm install -g npm@latest
      - run: npm ci
      - run: npm publish
        env:
          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}
`

const oidcOnTarget = `name: preview
on:
  pull_request_target:
permissions:
  id-token: write
  contents: read
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/setup-node@v4
        with:
          node-version: 24
          registry-url: https://npm-registry.invalid/
      - run: npm publish --tag preview
`

const bridged = `name: release
on: push
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
        env:
          NODE_AUTH_TOKEN: ${{ vars.CUTOVER_NPM_OIDC != 'true' && secrets.NPM_TOKEN || '' }}
`

const selfHosted = `name: release
on: push
jobs:
  publish:
    runs-on: [self-hosted, linux]
    steps:
      - run: npm publish
        env:
          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}
`

func snapshot(files map[string]string) rewrite.Snapshot {
	s := rewrite.Snapshot{Repo: "acme/widget", Files: map[string][]byte{}}
	for p, b := range files {
		s.Files[p] = []byte(b)
	}
	return s
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string
		opts  Options
		want  []string // rule level file:line
	}{
		{
			name:  "token publishing, exposed, npm latest",
			files: map[string]string{".github/workflows/release.yml": tokenRelease, "package.json": `{"name":"widget"}`},
			want: []string{
				"token-exposed warning .github/workflows/release.yml:6",
				"token-publish error .github/workflows/release.yml:6",
				"npm-latest warning .github/workflows/release.yml:8",
			},
		},
		{
			name:  "environment required",
			files: map[string]string{".github/workflows/release.yml": tokenRelease, "package.json": `{"name":"widget"}`},
			opts:  Options{RequireEnvironment: true},
			want: []string{
				"token-exposed warning .github/workflows/release.yml:6",
				"token-publish error .github/workflows/release.yml:6",
				"missing-environment error .github/workflows/release.yml:8",
				"npm-latest warning .github/workflows/release.yml:8",
			},
		},
		{
			name:  "id-token on an untrusted trigger",
			files: map[string]string{".github/workflows/preview.yml": oidcOnTarget, "package.json": `{"name":"widget"}`},
			want:  []string{"id-token-untrusted-trigger warning .github/workflows/preview.yml:4"},
		},
		{
			name:  "token kept behind the flag",
			files: map[string]string{".github/workflows/release.yml": bridged, "package.json": `{"name":"widget"}`},
			opts:  Options{FlagVar: "CUTOVER_NPM_OIDC"},
			want:  []string{"token-publish note .github/workflows/release.yml:15"},
		},
		{
			name:  "self-hosted",
			files: map[string]string{".github/workflows/release.yml": selfHosted, "package.json": `{"name":"widget"}`},
			want:  []string{"token-publish note .github/workflows/release.yml:9"},
		},
		{
			name:  "committed token",
			files: map[string]string{".npmrc": "//npm-registry.invalid/:_authToken=" + committedToken + "\n", "package.json": `{"name":"widget"}`},
			want:  []string{"literal-token error .npmrc:1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.opts.Registry = testRegistry
			res := Check(snapshot(tt.files), tt.opts)
			var got []string
			for _, r := range res {
				got = append(got, fmt.Sprintf("%s %s %s:%d", r.Rule, r.Level, r.File, r.Line))
				if strings.Contains(r.Message, committedToken[:8]) {
					t.Errorf("message shows the token: %s", r.Message)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s\nresults: %+v", diff, res)
			}
		})
	}
}

func compileSARIFSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	b, err := os.ReadFile("testdata/sarif-2.1.0-subset.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("sarif.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("sarif.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSARIFSchema validates the output against the SARIF 2.1.0 schema
// (a trimmed copy, see testdata) and checks by hand what GitHub code
// scanning requires beyond it.
func TestSARIFSchema(t *testing.T) {
	t.Parallel()
	schema := compileSARIFSchema(t)
	files := map[string]string{
		".github/workflows/release.yml": tokenRelease,
		".github/workflows/preview.yml": oidcOnTarget,
		".npmrc":                        "//npm-registry.invalid/:_authToken=" + committedToken + "\n",
		"package.json":                  `{"name":"widget"}`,
	}
	res := Check(snapshot(files), Options{Registry: testRegistry, RequireEnvironment: true})
	for i := range res {
		res[i].File = "sub dir/" + res[i].File // a path that needs escaping
	}
	out, err := SARIF(res, "v1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(inst); err != nil {
		t.Fatalf("SARIF output does not validate:\n%v\n%s", err, out)
	}
	if bytes.Contains(out, []byte(committedToken[:8])) {
		t.Error("the SARIF file contains the committed token's characters")
	}

	// The schema catches what it should: a broken log does not validate.
	for _, broken := range []string{
		`{"version":"2.0.0","runs":[]}`,
		`{"version":"2.1.0","runs":[{"tool":{"driver":{}}}]}`,
		`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"message":{"text":"m"},"level":"fatal"}]}]}`,
		`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"message":{"text":"m"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a"},"region":{"startLine":0}}}]}]}]}`,
		`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x","rules":[{"name":"no id"}]}}}]}`,
	} {
		inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(broken))
		if schema.Validate(inst) == nil {
			t.Errorf("the schema accepts %s", broken)
		}
	}

	// GitHub code scanning: rules with ids, descriptions, help and links;
	// results with a rule, a message, a file URI and a start line.
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID               string            `json:"id"`
						ShortDescription map[string]string `json:"shortDescription"`
						Help             map[string]string `json:"help"`
						HelpURI          string            `json:"helpUri"`
						Properties       map[string]any    `json:"properties"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string            `json:"ruleId"`
				RuleIndex int               `json:"ruleIndex"`
				Level     string            `json:"level"`
				Message   map[string]string `json:"message"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out, &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	if len(run.Tool.Driver.Rules) != len(Rules()) {
		t.Fatalf("%d rules in the driver", len(run.Tool.Driver.Rules))
	}
	for _, r := range run.Tool.Driver.Rules {
		if r.ID == "" || r.ShortDescription["text"] == "" || r.Help["text"] == "" || r.Help["markdown"] == "" || !strings.HasPrefix(r.HelpURI, "https://") || r.Properties["security-severity"] == "" {
			t.Errorf("rule %+v lacks what code scanning shows", r)
		}
		if !strings.Contains(r.Help["markdown"], r.HelpURI) {
			t.Errorf("rule %s: help does not link %s", r.ID, r.HelpURI)
		}
	}
	if len(run.Results) != len(res) {
		t.Fatalf("%d results, want %d", len(run.Results), len(res))
	}
	seen := map[string]bool{}
	for _, r := range run.Results {
		seen[r.RuleID] = true
		if run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID || r.Message["text"] == "" || len(r.Locations) != 1 {
			t.Errorf("result %+v", r)
			continue
		}
		loc := r.Locations[0].PhysicalLocation
		if !strings.HasPrefix(loc.ArtifactLocation.URI, "sub%20dir/") || loc.Region.StartLine < 1 {
			t.Errorf("location %+v", loc)
		}
	}
	for _, id := range []string{RuleTokenPublish, RuleTokenExposed, RuleLiteralToken, RuleIDTokenUntrusted, RuleNPMLatest, RuleMissingEnvironment} {
		if !seen[id] {
			t.Errorf("no %s result in the test input", id)
		}
	}

	// No results is a valid log too.
	empty, err := SARIF(nil, "(devel)")
	if err != nil {
		t.Fatal(err)
	}
	inst, _ = jsonschema.UnmarshalJSON(bytes.NewReader(empty))
	if err := schema.Validate(inst); err != nil || !bytes.Contains(empty, []byte(`"results": []`)) {
		t.Errorf("empty log: %v\n%s", err, empty)
	}
}

// TestCorpus lints every file of the shared corpus, each at its manifest
// path in a repository of its own: every file that publishes with a token
// has a token-publish error, and no OIDC or non-publishing file has an
// error. Warnings are counted and logged.
func TestCorpus(t *testing.T) {
	rows := corpus.Load(t)
	var tokenFiles, cleanFiles, warned int
	warnings := map[string]int{}
	for _, row := range rows {
		file, repo, rel, publishes, cred := row.File, row.Repo, row.Path, row.Publishes, row.Credential
		data := corpus.Data(t, row)
		root := t.TempDir()
		dst := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
		snap, err := checkout.Read(root, checkout.Options{Repo: repo})
		if err != nil {
			t.Fatal(err)
		}
		res := Check(snap, Options{Registry: testRegistry, FlagVar: rewrite.DefaultFlagVar})
		var errs []Result
		tokenError := false
		for _, x := range res {
			switch x.Level {
			case LevelError:
				errs = append(errs, x)
				tokenError = tokenError || x.Rule == RuleTokenPublish
			case LevelWarning:
				warnings[x.Rule]++
			}
		}
		if Violations(res, LevelWarning) > len(errs) {
			warned++
		}
		token := row.TokenPublisher()
		if token {
			tokenFiles++
			if !tokenError {
				t.Errorf("%s publishes with a token but has no token-publish error: %+v", file, res)
			}
			continue
		}
		cleanFiles++
		if len(errs) > 0 {
			t.Errorf("%s (publishes=%s, credential=%s) has errors: %+v", file, publishes, cred, errs)
		}
	}
	t.Logf("corpus: %d token-publishing files flagged, %d OIDC or non-publishing files without errors; %d files with warnings %v", tokenFiles, cleanFiles, warned, warnings)
	// Today's counts exactly: a file that stops being flagged fails above,
	// and a changed corpus fails here until the counts are updated.
	if tokenFiles != 24 || cleanFiles != 30 {
		t.Errorf("corpus: %d token-publishing and %d clean files, want 24 and 30", tokenFiles, cleanFiles)
	}
}
