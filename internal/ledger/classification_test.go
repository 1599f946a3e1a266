package ledger

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/classdoc"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// schema4Fixture is a ledger of schema version 4 written by the cutover of
// that schema: an inventory of `sandbox serve`'s organisation (seed 1) and
// detections of rewrite's test cases recorded as fixture/<case>, dumped
// with sqlite3 .dump.
const schema4Fixture = "testdata/schema4-inventory.sql"

// loadSchema4 writes the schema 4 fixture, changed by edit (SQL run after
// it, may be empty), into a new file and returns its path.
func loadSchema4(t testing.TB, edit string) string {
	t.Helper()
	dump, err := os.ReadFile(schema4Fixture)
	must(t, err)
	path := filepath.Join(t.TempDir(), "v4.db")
	db, err := sql.Open("sqlite", path)
	must(t, err)
	defer db.Close()
	if _, err := db.Exec(string(dump)); err != nil {
		t.Fatalf("load %s: %v", schema4Fixture, err)
	}
	if edit != "" {
		if _, err := db.Exec(edit); err != nil {
			t.Fatalf("%s: %v", edit, err)
		}
	}
	return path
}

// rawRows returns a table's rows as text, for before/after comparisons.
func rawRows(t *testing.T, path, query string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	must(t, err)
	defer db.Close()
	rows, err := db.Query(query)
	must(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	must(t, err)
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		must(t, rows.Scan(ptrs...))
		var b strings.Builder
		for _, v := range vals {
			b.WriteString(v.String + "|")
		}
		out = append(out, b.String())
	}
	must(t, rows.Err())
	return out
}

// TestMigrateSchema4Classifications opens the schema 4 fixture with this
// cutover: migration 5 turns every stored rewrite.Result into a
// classification document, equal to testdata/schema5-classifications.golden.json,
// and changes nothing else.
func TestMigrateSchema4Classifications(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := loadSchema4(t, "")
	others := `SELECT full_name, forge_id, default_branch, visibility, clone_url, owner, topics, commit_sha, publishes,
		credential, detected_at, updated FROM repos ORDER BY full_name`
	beforeRepos := rawRows(t, path, others)
	beforePkgs := rawRows(t, path, `SELECT * FROM packages ORDER BY repo, name`)
	beforeEvents := rawRows(t, path, `SELECT * FROM events ORDER BY id`)
	var stored int
	must(t, sqlOne(path, `SELECT count(*) FROM repos WHERE classification IS NOT NULL`, &stored))
	if stored < 40 {
		t.Fatalf("the fixture has %d classifications, want at least 40", stored)
	}

	l, err := Open(ctx, path, Options{})
	must(t, err)
	if l.SchemaVersion() != 5 || LatestSchemaVersion() < 5 {
		t.Fatalf("schema version %d after opening a schema 4 ledger", l.SchemaVersion())
	}
	repos, err := l.Repos(ctx)
	must(t, err)
	docs := map[string]*classdoc.Doc{}
	for _, r := range repos {
		if r.Classification != nil {
			docs[r.FullName] = r.Classification
		}
	}
	must(t, l.Close())
	if len(docs) != stored {
		t.Errorf("%d documents read back, %d classifications stored", len(docs), stored)
	}
	got, err := json.MarshalIndent(docs, "", "  ")
	must(t, err)
	got = append(got, '\n')
	goldenPath := "testdata/schema5-classifications.golden.json"
	if *update {
		must(t, os.WriteFile(goldenPath, got, 0o644))
	}
	want, err := os.ReadFile(goldenPath)
	must(t, err)
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("migrated documents differ from %s (-golden +now):\n%s", goldenPath, d)
	}

	// Every row holds a version 1 document, read as the ledger reads it.
	for _, raw := range rawRows(t, path, `SELECT classification FROM repos WHERE classification IS NOT NULL`) {
		if !strings.HasPrefix(raw, `{"version":1,`) {
			t.Errorf("stored classification after migration: %.80s", raw)
		}
	}
	// Nothing else changed.
	if d := cmp.Diff(beforeRepos, rawRows(t, path, others)); d != "" {
		t.Errorf("repository columns changed (-before +after):\n%s", d)
	}
	if d := cmp.Diff(beforePkgs, rawRows(t, path, `SELECT * FROM packages ORDER BY repo, name`)); d != "" {
		t.Errorf("packages changed (-before +after):\n%s", d)
	}
	if d := cmp.Diff(beforeEvents, rawRows(t, path, `SELECT * FROM events ORDER BY id`)); d != "" {
		t.Errorf("events changed (-before +after):\n%s", d)
	}
}

func sqlOne(path, query string, dest any) error {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.QueryRow(query).Scan(dest)
}

// TestConvertClassificationsIdempotent runs migration 5's conversion again
// on a migrated ledger, and on a ledger where one row is already a
// document: no row changes.
func TestConvertClassificationsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := loadSchema4(t, "")
	l, err := Open(ctx, path, Options{})
	must(t, err)
	defer l.Close()
	query := `SELECT full_name, classification FROM repos ORDER BY full_name`
	before := rawRows(t, path, query)
	must(t, l.write(ctx, "convert again", convertClassifications))
	if d := cmp.Diff(before, rawRows(t, path, query)); d != "" {
		t.Errorf("a second conversion changed rows (-first +second):\n%s", d)
	}

	// A schema 4 ledger with a row already converted (as by a conversion
	// interrupted in another process, were that possible) converts the rest.
	path2 := loadSchema4(t, "")
	var doc string
	must(t, sqlOne(path, `SELECT classification FROM repos WHERE full_name = 'fixture/guard-exact'`, &doc))
	db, err := sql.Open("sqlite", path2)
	must(t, err)
	_, err = db.Exec(`UPDATE repos SET classification = ? WHERE full_name = 'fixture/guard-exact'`, doc)
	must(t, err)
	db.Close()
	l2, err := Open(ctx, path2, Options{})
	must(t, err)
	defer l2.Close()
	if d := cmp.Diff(before, rawRows(t, path2, query)); d != "" {
		t.Errorf("a ledger with one row converted migrates differently (-all at once +one first):\n%s", d)
	}
}

// TestMigrateSchema4BadRow: a stored classification that cannot be
// converted fails the migration with an error naming the repository, and
// the ledger stays at schema 4 with every row as it was.
func TestMigrateSchema4BadRow(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, value string }{
		{"not JSON", `{"publishes": tru`},
		{"wrong type", `{"publishes": true, "credential": "token", "pipelines": 7}`},
		{"not a result", `["acme"]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			edit := `UPDATE repos SET classification = '` + strings.ReplaceAll(tt.value, "'", "''") + `' WHERE full_name = 'fixture/guard-inverted'`
			path := loadSchema4(t, edit)
			query := `SELECT * FROM repos ORDER BY full_name`
			before := rawRows(t, path, query)
			_, err := Open(t.Context(), path, Options{})
			if err == nil {
				t.Fatal("Open converted a classification that is not one")
			}
			for _, want := range []string{`schema version 5`, `classification of repository "fixture/guard-inverted" cannot be converted`, "left at schema version 4"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			var v int
			must(t, sqlOne(path, `SELECT max(version) FROM schema_version`, &v))
			if v != 4 {
				t.Errorf("schema version %d after a failed migration, want 4", v)
			}
			if d := cmp.Diff(before, rawRows(t, path, query)); d != "" {
				t.Errorf("rows changed by a failed migration (-before +after):\n%s", d)
			}
		})
	}
}

// TestNewerClassificationRefused: a document of a version this cutover
// does not know (written by a newer cutover) is refused when read, naming
// the repository, never misread.
func TestNewerClassificationRefused(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	l, _ := openTest(t)
	addRepos(t, l, "acme/mono", "acme/single")
	must(t, l.RecordDetection(ctx, "acme/mono", "c1", sampleResult("acme/mono")))
	_, err := l.db.ExecContext(ctx, `UPDATE repos SET classification = '{"version":2,"publishes":true,"credential":"token"}' WHERE full_name = 'acme/mono'`)
	must(t, err)
	for name, read := range map[string]func() error{
		"Repo":     func() error { _, err := l.Repo(ctx, "acme/mono"); return err },
		"Repos":    func() error { _, err := l.Repos(ctx); return err },
		"Snapshot": func() error { _, err := l.Snapshot(ctx); return err },
	} {
		err := read()
		if !errors.Is(err, classdoc.ErrNewer) || !strings.Contains(err.Error(), `classification of "acme/mono"`) ||
			!strings.Contains(err.Error(), "ledger written by a newer cutover") {
			t.Errorf("%s: %v, want classdoc.ErrNewer naming acme/mono", name, err)
		}
	}
	if _, err := l.Repo(ctx, "acme/single"); err != nil {
		t.Errorf("a repository without the newer document: %v", err)
	}
}

// TestRecordDetectionStoresDocument: what RecordDetection writes is the
// document's JSON, not rewrite.Result's.
func TestRecordDetectionStoresDocument(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	l, _ := openTest(t)
	addRepos(t, l, "acme/mono")
	must(t, l.RecordDetection(ctx, "acme/mono", "c1", sampleResult("acme/mono")))
	var raw string
	must(t, l.db.QueryRowContext(ctx, `SELECT classification FROM repos WHERE full_name = 'acme/mono'`).Scan(&raw))
	want, err := classdoc.Encode(classdoc.FromResult(sampleResult("acme/mono")))
	must(t, err)
	if raw != string(want) {
		t.Errorf("stored %s\nwant %s", raw, want)
	}
	if bytes.Contains([]byte(raw), []byte(`"job_line"`)) || bytes.Contains([]byte(raw), []byte(`"workflows"`)) {
		t.Errorf("rewrite.Result's fields are stored: %s", raw)
	}
}
