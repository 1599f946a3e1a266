package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/ledger"
	"github.com/cutover/cutover/internal/sandbox"
	"github.com/cutover/cutover/internal/sandbox/ghapi"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// runWith runs cutover in-process like run, with an App the test adjusts
// first (an injected browser opener).
func runWith(t *testing.T, env map[string]string, adjust func(*App), args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	app := newApp(Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, func(k string) string { return env[k] })
	adjust(app)
	code := app.execute(t.Context(), newRootCmd(app), args)
	return result{code: code, out: out.String(), err: errb.String()}
}

// TestShowDemoCampaign runs a small demo campaign on the sandbox and shows
// its repositories: a canary that went all the way (pull request, flag,
// trusted publisher, canary checks, revoked token, deleted secret, events),
// by ORG/NAME and by NAME, as text and JSON, --web with an injected opener,
// and the errors (unknown repository, no pull request, no ledger).
func TestShowDemoCampaign(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo runs a whole campaign")
	}
	t.Parallel()
	out := t.TempDir()
	if r := run(t, nil, "demo", "--repos", "8", "--seed", "3", "--out", out); r.code != ExitOK {
		t.Fatalf("demo: exit %d\n%s\n%s", r.code, r.out, tail(r.err, 30))
	}
	db := filepath.Join(out, "cutover.db")
	led, err := ledger.Open(t.Context(), db, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := led.Snapshot(t.Context())
	led.Close()
	if err != nil {
		t.Fatal(err)
	}
	// A canary with a merged pull request and a verification, and a
	// repository with no pull request.
	var done, noPR string
	for _, rs := range snap.Repos {
		switch {
		case done == "" && rs.Change != nil && rs.Change.State == ledger.ChangeMerged && len(rs.Verifications) > 0 && len(rs.Revocations) > 0:
			done = rs.Repo.FullName
		case noPR == "" && rs.Change == nil:
			noPR = rs.Repo.FullName
		}
	}
	if done == "" || noPR == "" {
		t.Fatalf("the demo ledger has no verified canary with a revoked token (%q) or no repository without a pull request (%q)", done, noPR)
	}
	org, name, _ := strings.Cut(done, "/")

	r := run(t, nil, "show", "--ledger", db, done)
	if r.code != ExitOK {
		t.Fatalf("show: exit %d\n%s", r.code, r.err)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(done) + `$`),
		regexp.MustCompile(`(?m)^state +(done|verified)`),
		regexp.MustCompile(`(?m)^wave +0 \(canary\)$`),
		regexp.MustCompile(`(?m)^path +oidc \(publishes with token`),
		regexp.MustCompile(`(?m)^pull request +#\d+ merged, checks success.*http://127\.0\.0\.1:\d+/` + regexp.QuoteMeta(done) + `/pull/\d+$`),
		regexp.MustCompile(`(?m)^flag +CUTOVER_NPM_OIDC on \(set \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\)$`),
		regexp.MustCompile(`(?m)^  FILE +JOB +TOOL +CREDENTIAL +NOTES$`),
		regexp.MustCompile(`(?m)^  \.github/workflows/\S+:\d+ +\S+ +npm`),
		regexp.MustCompile(`(?m)^  PACKAGE +STATE +REPOSITORY +WORKFLOW +ENVIRONMENT +CHECKED$`),
		regexp.MustCompile(`(?m)^  \S+ +configured +` + regexp.QuoteMeta(done) + ` `),
		regexp.MustCompile(`(?m)^canary checks:\n  \S+@\S+ +passed, \d+/\d+ checks`),
		regexp.MustCompile(`(?m)^    ok   trusted-publisher: published through trusted publishing`),
		regexp.MustCompile(`(?m)^npm tokens remaining: none$`),
		regexp.MustCompile(`(?m)^token secrets remaining: none$`),
		regexp.MustCompile(`(?m)^  npm token \S+ revoked \d{4}-`),
		regexp.MustCompile(`(?m)^  secret NPM_TOKEN \(repo\) deleted \d{4}-`),
		regexp.MustCompile(`(?m)^last (\d+ of \d+ )?events:$`),
		regexp.MustCompile(`(?m)^  \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ  flag\.set +` + regexp.QuoteMeta(done) + `: CUTOVER_NPM_OIDC=true$`),
	} {
		if !want.MatchString(r.out) {
			t.Errorf("show does not match %s:\n%s", want, r.out)
		}
	}
	if regexp.MustCompile(`npm_[A-Za-z0-9]{36}|gh[pousr]_[A-Za-z0-9]{20,}`).MatchString(r.out + r.err) {
		t.Error("show printed a credential value")
	}

	// NAME within the configured organisation is the same repository.
	bare := run(t, map[string]string{"CUTOVER_ORG": org}, "show", "--ledger", db, name)
	if bare.code != ExitOK || bare.out != r.out {
		t.Errorf("show %s in org %s: exit %d, differs from show %s:\n%s", name, org, bare.code, done, bare.out)
	}

	// JSON: the documented fields, in snake_case, for the same repository.
	r = run(t, nil, "show", "--ledger", db, "--format", "json", done)
	var doc ShowDoc
	if r.code != ExitOK || json.Unmarshal([]byte(r.out), &doc) != nil {
		t.Fatalf("show --format json: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	if doc.Schema != "cutover.show/v1" || doc.Repo != done || doc.PR == nil || doc.PR.State != "merged" || doc.Flag.State != "on" ||
		len(doc.Pipelines) == 0 || len(doc.Canaries) == 0 || !doc.Canaries[0].Passed || len(doc.Events) == 0 || doc.EventsTotal < len(doc.Events) ||
		len(doc.Revocations) == 0 || doc.Wave == nil || *doc.Wave != 0 || doc.WaveName != "canary" {
		t.Errorf("show --format json: %+v", doc)
	}
	checkSnakeCase(t, r.out)

	// --web opens the pull request with the injected opener, and nothing else.
	var opened []string
	opener := func(a *App) {
		a.OpenURL = func(_ context.Context, u string) error { opened = append(opened, u); return nil }
	}
	r = runWith(t, nil, opener, "show", "--ledger", db, "--web", done)
	if r.code != ExitOK || len(opened) != 1 || opened[0] != doc.PR.URL || r.out != "" || !strings.Contains(r.err, "Opening "+doc.PR.URL) {
		t.Errorf("--web: exit %d, opened %q, want %q\nstdout: %s\nstderr: %s", r.code, opened, doc.PR.URL, r.out, r.err)
	}
	r = runWith(t, nil, opener, "show", "--ledger", db, "--web", noPR)
	if r.code != ExitFindings || len(opened) != 1 || !strings.Contains(r.err, noPR+" has no campaign pull request yet") {
		t.Errorf("--web without a pull request: exit %d, opened %q\n%s", r.code, opened, r.err)
	}
	r = runWith(t, nil, func(a *App) {
		a.OpenURL = func(context.Context, string) error { return errors.New("no display") }
	}, "show", "--ledger", db, "--web", done)
	if r.code != ExitFatal || !strings.Contains(r.err, "could not open the browser (no display): open "+doc.PR.URL+" yourself") {
		t.Errorf("--web with a failing opener: exit %d\n%s", r.code, r.err)
	}

	// Unknown repositories are usage errors with a hint.
	for _, tt := range []struct {
		env  map[string]string
		repo string
		want string
	}{
		{nil, done + "x", fmt.Sprintf(`no repository %q in the ledger; did you mean %q?`, done+"x", done)},
		{map[string]string{"CUTOVER_ORG": "other"}, name, fmt.Sprintf(`no repository "other/%s" in the ledger; did you mean %s?`, name, done)},
		{nil, "acme/nothing-like-it-at-all", `no repository "acme/nothing-like-it-at-all" in the ledger (the ledger has 8 repositories; cutover status lists them, cutover inventory adds new ones)`},
	} {
		r = run(t, tt.env, "show", "--ledger", db, tt.repo)
		if r.code != ExitUsage || !strings.Contains(r.err, "error: "+tt.want) {
			t.Errorf("show %s: exit %d, want 2 and %q\n%s", tt.repo, r.code, tt.want, r.err)
		}
	}
	r = run(t, nil, "show", "--ledger", filepath.Join(t.TempDir(), "none.db"), done)
	if r.code != ExitUsage || !strings.Contains(r.err, "run cutover inventory first") {
		t.Errorf("show without a ledger: exit %d\n%s", r.code, r.err)
	}
	r = run(t, nil, "show", "--ledger", db, "--format", "yaml", done)
	if r.code != ExitUsage {
		t.Errorf("show --format yaml: exit %d", r.code)
	}
}

// TestJSONFields runs inventory, plan, apply, status and show with
// --format json against a sandbox organisation and compares each document's
// field names (every key path, values left out) with the golden files under
// testdata/jsonfields: these names are a contract (see the README's
// "--format json" section). go test -run TestJSONFields -update rewrites them.
func TestJSONFields(t *testing.T) {
	t.Parallel()
	const ghToken = "ghp_JSONFIELDSclitestTOKEN00000000001"
	w, err := sandbox.Start(context.Background(), sandbox.Options{Limits: ghapi.Limits{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	w.API.AddToken(ghToken, ghapi.Identity{Login: "ops", Permissions: ghapi.AllPermissions()})
	for name, files := range map[string]map[string][]byte{
		"widget": {".github/workflows/release.yml": []byte(tokenWorkflow), "package.json": []byte(`{"name":"widget"}`)},
		"gadget": {".github/workflows/release.yml": []byte(tokenWorkflow), "package.json": []byte(`{"name":"gadget"}`)},
		"docs":   {"README.md": []byte("# docs\n")},
	} {
		if err := w.API.CreateRepo("acme", name, ghapi.RepoOptions{Files: files}); err != nil {
			t.Fatal(err)
		}
	}
	db := filepath.Join(t.TempDir(), "cutover.db")
	cfg := writeConfig(t, `
[github]
org = "acme"
api_url = "`+w.URL+`"
pacing = "off"

[campaign]
ledger = "`+filepath.ToSlash(db)+`"

[waves]
canaries = ["acme/widget"]
`)
	// The workflows publish to the registry of tokenWorkflow; flag on is
	// not part of this test, so the registry is never asked.
	env := map[string]string{"GITHUB_TOKEN": ghToken, "NPM_CONFIG_REGISTRY": "https://npm-registry.invalid/"}
	for _, step := range []struct {
		golden string
		args   []string
	}{
		{"inventory", []string{"inventory"}},
		{"plan", []string{"plan"}},
		{"apply", []string{"apply", "--wave", "0", "--execute"}},
		{"status", []string{"status"}},
		{"show", []string{"show", "widget"}},
	} {
		r := run(t, env, append([]string{"--config", cfg}, append(step.args, "--format", "json")...)...)
		if r.code != ExitOK {
			t.Fatalf("%s: exit %d\n%s\n%s", step.golden, r.code, r.out, r.err)
		}
		checkSnakeCase(t, r.out)
		var v any
		if err := json.Unmarshal([]byte(r.out), &v); err != nil {
			t.Fatalf("%s: %v\n%s", step.golden, err, r.out)
		}
		var paths []string
		keyPaths(v, "", &paths)
		slices.Sort(paths)
		got := strings.Join(slices.Compact(paths), "\n") + "\n"
		file := filepath.Join("testdata", "jsonfields", step.golden+".txt")
		if *update {
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v (run go test -run TestJSONFields -update)", err)
		}
		if diff := cmp.Diff(string(want), got); diff != "" {
			t.Errorf("%s --format json: field names changed (-golden +got); they are a contract: add fields, never rename them, and update the README:\n%s", step.golden, diff)
		}
	}
}

// keyPaths lists the key path of every value in v: "summary.outcomes[].repo".
func keyPaths(v any, prefix string, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			*out = append(*out, p)
			if k != "why" { // keyed by repository
				keyPaths(e, p, out)
			}
		}
	case []any:
		for _, e := range v {
			keyPaths(e, prefix+"[]", out)
		}
	}
}

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// checkSnakeCase fails when a key of the JSON document doc is not
// snake_case. Maps keyed by data (repository names in a plan's "why") are
// the exception, and are left out by their parent's name.
func checkSnakeCase(t *testing.T, doc string) {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, doc)
	}
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if !snakeCase.MatchString(k) {
					t.Errorf("key %q at %s is not snake_case", k, path)
				}
				if k == "why" {
					continue // keyed by repository
				}
				walk(e, path+"."+k)
			}
		case []any:
			for _, e := range v {
				walk(e, path+"[]")
			}
		}
	}
	walk(v, "$")
}
