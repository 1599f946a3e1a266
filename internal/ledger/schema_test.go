package ledger

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMigrationsAreFrozen holds released migrations to their text: a
// ledger migrated by an older cutover must match what this one would build.
func TestMigrationsAreFrozen(t *testing.T) {
	t.Parallel()
	ms, err := migrations()
	must(t, err)
	v1, err := os.ReadFile("testdata/schema-v1.sql")
	must(t, err)
	if ms[0].sql != string(v1) {
		t.Error("migration 1 differs from testdata/schema-v1.sql: released migrations are never edited, add a new one")
	}
	for i, m := range ms {
		if m.version != i+1 {
			t.Errorf("migration %d has version %d", i, m.version)
		}
	}
}

// createV1 writes a version 1 ledger the way cutover's first schema did,
// with a few rows in it.
func createV1(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	must(t, err)
	defer db.Close()
	v1, err := os.ReadFile("testdata/schema-v1.sql")
	must(t, err)
	for _, stmt := range []string{
		createVersionTable,
		string(v1),
		`INSERT INTO schema_version (version, applied) VALUES (1, '2026-01-01T00:00:00.000000000Z')`,
		`INSERT INTO campaign (id, name, created, updated) VALUES (1, 'old', '2026-01-01T00:00:00.000000000Z', '2026-01-01T00:00:00.000000000Z')`,
		`INSERT INTO repos (full_name, default_branch, visibility, credential, publishes, updated)
			VALUES ('acme/a', 'main', 'public', 'token', 1, '2026-01-01T00:00:00.000000000Z')`,
		`INSERT INTO tokens (key, prefix, name, repo, updated) VALUES ('k1', 'npm_Ab', 'ci', 'acme/a', '2026-01-01T00:00:00.000000000Z')`,
		`INSERT INTO events (time, kind, repo, message) VALUES ('2026-01-01T00:00:00.000000000Z', 'inventory', 'acme/a', 'v1 event')`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
}

func TestMigrateFromV1(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "v1.db")
	createV1(t, path)

	l, err := Open(ctx, path, Options{Now: newClock().Now})
	must(t, err)
	defer l.Close()
	if l.SchemaVersion() != LatestSchemaVersion() {
		t.Fatalf("schema version after migration = %d, want %d", l.SchemaVersion(), LatestSchemaVersion())
	}
	r, err := l.Repo(ctx, "acme/a")
	must(t, err)
	if r.Owner != "" || r.Credential != "token" || !r.Publishes {
		t.Errorf("v1 repository after migration = %+v", r)
	}
	tok, err := l.Token(ctx, "k1")
	must(t, err)
	if tok.Bypass2FA != nil || tok.Repo != "acme/a" {
		t.Errorf("v1 token after migration = %+v (bypass-2FA must be unknown)", tok)
	}
	// Version 2 tables work, and version 1 rows are still protected.
	must(t, l.UpsertRepo(ctx, Repo{FullName: "acme/a", Owner: "@acme/web"}))
	must(t, l.RecordReminder(ctx, Reminder{Repo: "acme/a", Topic: "token-age"}))
	if _, err := l.AcquireLock(ctx, "scheduler", "me", 60e9); err != nil {
		t.Error(err)
	}
	if _, err := l.db.ExecContext(ctx, `DELETE FROM events`); err == nil {
		t.Error("events of a migrated ledger can be deleted")
	}
	evs, err := l.Events(ctx, EventFilter{})
	must(t, err)
	if len(evs) != 1 || evs[0].Message != "v1 event" {
		t.Errorf("events after migration = %+v", evs)
	}
	var versions []int
	rows, err := l.db.QueryContext(ctx, `SELECT version FROM schema_version ORDER BY version`)
	must(t, err)
	for rows.Next() {
		var v int
		must(t, rows.Scan(&v))
		versions = append(versions, v)
	}
	rows.Close()
	if len(versions) != LatestSchemaVersion() || versions[0] != 1 {
		t.Errorf("schema_version rows = %v", versions)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "future.db")
	l, err := Open(ctx, path, Options{})
	must(t, err)
	future := LatestSchemaVersion() + 1
	_, err = l.db.ExecContext(ctx, `INSERT INTO schema_version (version, applied) VALUES (?, 'later')`, future)
	must(t, err)
	must(t, l.Close())

	_, err = Open(ctx, path, Options{})
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("Open of a newer ledger: %v, want ErrNewerSchema", err)
	}
	want := `has schema version 3, this cutover understands up to 2: upgrade cutover`
	if LatestSchemaVersion() == 2 && !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the ledger", err)
	}
}

func TestMigrationFailureRollsBack(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "broken.db")
	createV1(t, path)
	// A table migration 2 creates already exists: migration 2 fails and
	// must leave version 1 intact, not half a version 2.
	db, err := sql.Open("sqlite", path)
	must(t, err)
	_, err = db.Exec(`CREATE TABLE locks (x INTEGER)`)
	must(t, err)
	db.Close()

	if _, err := Open(ctx, path, Options{}); err == nil || !strings.Contains(err.Error(), "schema version 2") {
		t.Fatalf("Open with a failing migration: %v", err)
	}
	db, err = sql.Open("sqlite", path)
	must(t, err)
	defer db.Close()
	var v, owner int
	must(t, db.QueryRow(`SELECT max(version) FROM schema_version`).Scan(&v))
	must(t, db.QueryRow(`SELECT count(*) FROM pragma_table_info('repos') WHERE name = 'owner'`).Scan(&owner))
	if v != 1 || owner != 0 {
		t.Errorf("after a failed migration: version %d, owner column %d; want 1 and 0", v, owner)
	}
}
