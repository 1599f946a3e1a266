package cli

import (
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// schema4Fixture is a ledger of schema version 4 written by the cutover of
// that schema (an inventory of `sandbox serve`'s organisation, seed 1, and
// detections of rewrite's test cases as fixture/<case>), dumped as SQL.
const schema4Fixture = "../ledger/testdata/schema4-inventory.sql"

// loadSchema4 writes the schema 4 fixture into a new ledger file.
func loadSchema4(t *testing.T, path string) {
	t.Helper()
	dump, err := os.ReadFile(schema4Fixture)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(string(dump)); err != nil {
		t.Fatalf("load %s: %v", schema4Fixture, err)
	}
}

// TestSchema4LedgerReadsAsBefore: plan, report and show on a schema 4
// ledger, which this cutover migrates to schema 5 (classification
// documents) when it opens it, print what the cutover of schema 4 printed
// on the same ledger (testdata/ledger-v4, made with that cutover). The
// only difference allowed is the report's ledger_schema.
func TestSchema4LedgerReadsAsBefore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "cutover.db")
	loadSchema4(t, db)
	env := map[string]string{"GITHUB_TOKEN": "ghp_x", "CUTOVER_ORG": "sandbox-org"}

	check := func(name, got string) {
		t.Helper()
		want, err := os.ReadFile(filepath.Join("testdata/ledger-v4", name))
		if err != nil {
			t.Fatal(err)
		}
		w, g := string(want), got
		if name == "report.json" {
			if !strings.Contains(w, `"ledger_schema": 4,`) || !strings.Contains(g, `"ledger_schema": 5,`) {
				t.Errorf("report.json: want ledger_schema 4 before and 5 after the migration")
			}
			w, g = normalizeReport(w), normalizeReport(g)
		}
		if d := cmp.Diff(w, g); d != "" {
			t.Errorf("%s differs from what the cutover of schema 4 printed (-before +now):\n%s", name, d)
		}
	}

	r := run(t, env, "plan", "--format", "json", "--ledger", db, "--registry", "https://npm-registry.invalid/")
	if r.code != ExitOK {
		t.Fatalf("plan: exit %d\n%s", r.code, r.err)
	}
	check("plan.json", r.out)

	out := filepath.Join(dir, "out")
	if r := run(t, env, "report", "--format", "json", "--out", out, "--ledger", db); r.code != ExitOK {
		t.Fatalf("report: exit %d\n%s", r.code, r.err)
	}
	rep, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	check("report.json", string(rep))

	for _, repo := range []string{"sandbox-org/rapid-nebula-ui", "fixture/guard-exact", "fixture/gitlab-guard-shapes",
		"fixture/circleci-command-orb", "fixture/proxy-npmrc-committed"} {
		r := run(t, env, "show", repo, "--ledger", db, "--format", "json")
		if r.code != ExitOK {
			t.Fatalf("show %s: exit %d\n%s", repo, r.code, r.err)
		}
		check("show-"+strings.ReplaceAll(repo, "/", "_")+".json", r.out)
	}
}

// reportVolatile matches the report's fields that differ from run to run:
// when it was made, by which build, and the burndown point of its snapshot.
var reportVolatile = regexp.MustCompile(`"(generated_at|snapshot_at|tool_version)": "[^"]*"|"ledger_schema": \d+`)

func normalizeReport(s string) string {
	var snap string
	if m := regexp.MustCompile(`"snapshot_at": "([^"]*)"`).FindStringSubmatch(s); m != nil {
		snap = m[1]
	}
	s = reportVolatile.ReplaceAllStringFunc(s, func(m string) string {
		k, _, _ := strings.Cut(m, ":")
		return k + ": (varies)"
	})
	if snap != "" {
		s = strings.ReplaceAll(s, snap, "(snapshot time)")
	}
	return s
}

// TestNewerClassificationExits3: a classification document of a version
// this cutover does not know (a ledger written by a newer cutover) stops
// the commands that read it with exit code 3, naming the repository.
func TestNewerClassificationExits3(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "cutover.db")
	loadSchema4(t, path)
	env := map[string]string{"GITHUB_TOKEN": "ghp_x", "CUTOVER_ORG": "sandbox-org"}
	if r := run(t, env, "show", "fixture/guard-exact", "--ledger", path); r.code != ExitOK {
		t.Fatalf("show: exit %d\n%s", r.code, r.err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`UPDATE repos SET classification = '{"version":2,"publishes":true}' WHERE full_name = 'fixture/guard-exact'`)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"plan", "--registry", "https://npm-registry.invalid/"},
		{"report", "--out", filepath.Join(dir, "out")},
		{"show", "fixture/guard-exact"},
		{"ledger", "export"},
	} {
		t.Run(args[0], func(t *testing.T) {
			r := run(t, env, append(args, "--ledger", path)...)
			if r.code != ExitFatal || !strings.Contains(r.err, `classification of "fixture/guard-exact"`) ||
				!strings.Contains(r.err, "ledger written by a newer cutover; upgrade cutover") {
				t.Errorf("exit %d, want %d naming the repository and the newer cutover\n%s", r.code, ExitFatal, r.err)
			}
		})
	}
}

// TestSchema4BadRowExits3: a schema 4 classification that cannot be
// converted stops the command with exit code 3, naming the repository, and
// the ledger stays at schema 4.
func TestSchema4BadRowExits3(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "cutover.db")
	loadSchema4(t, path)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE repos SET classification = '{"publishes":true,"credential":"token","pipelines":7}' WHERE full_name = 'fixture/guard-exact'`); err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, "show", "sandbox-org/rapid-nebula-ui", "--ledger", path)
	if r.code != ExitFatal || !strings.Contains(r.err, `classification of repository "fixture/guard-exact" cannot be converted`) {
		t.Errorf("exit %d, want %d naming the repository\n%s", r.code, ExitFatal, r.err)
	}
	var v int
	if err := db.QueryRow(`SELECT max(version) FROM schema_version`).Scan(&v); err != nil || v != 4 {
		t.Errorf("schema version %d (%v) after a failed migration, want 4", v, err)
	}
}
