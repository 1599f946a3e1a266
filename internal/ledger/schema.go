package ledger

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// migrationFiles holds the schema, one file per version, named
// "NNNN_what.sql". A released migration is never edited: changes go into
// a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one schema version's DDL.
type migration struct {
	version int
	name    string
	sql     string
	// step, when set, runs in the migration's transaction after sql:
	// a conversion of stored data that SQL alone cannot do.
	step func(*tx) error
}

// migrations returns the migrations in version order. The versions must
// run 1, 2, 3… without gaps; a test holds the embedded files to that.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	out := make([]migration, 0, len(names))
	for i, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v != i+1 {
			return nil, fmt.Errorf("migration %q: want version %d first in its name", base, i+1)
		}
		b, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(b), step: migrationSteps[v]})
	}
	return out, nil
}

// LatestSchemaVersion returns the schema version this cutover writes.
func LatestSchemaVersion() int {
	ms, err := migrations()
	if err != nil {
		return 0
	}
	return len(ms)
}

// ErrNewerSchema is returned (wrapped) by Open for a ledger written by a
// newer cutover.
var ErrNewerSchema = errors.New("ledger schema is newer than this cutover")

const createVersionTable = `CREATE TABLE IF NOT EXISTS schema_version (
	version INTEGER PRIMARY KEY,
	applied TEXT NOT NULL
)`

// migrate brings the ledger to SchemaVersion, one transaction per
// migration, and refuses a ledger from a newer cutover.
func (l *Ledger) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("could not read ledger migrations: %w", err)
	}
	current, err := l.storedVersion(ctx)
	if err != nil {
		return fmt.Errorf("could not read schema version of ledger %q: %w", l.path, err)
	}
	if current > len(ms) {
		return fmt.Errorf("ledger %q has schema version %d, this cutover understands up to %d: upgrade cutover: %w",
			l.path, current, len(ms), ErrNewerSchema)
	}
	for _, m := range ms[current:] {
		err := l.write(ctx, fmt.Sprintf("migrate ledger %q to schema version %d (%s)", l.path, m.version, m.name), func(t *tx) error {
			if _, err := t.tx.ExecContext(ctx, createVersionTable); err != nil {
				return err
			}
			// Another process may have migrated since we looked.
			var have int
			if err := t.queryRow(`SELECT ifnull(max(version), 0) FROM schema_version`).Scan(&have); err != nil {
				return err
			}
			if have >= m.version {
				return nil
			}
			if have != m.version-1 {
				return fmt.Errorf("schema version is %d, want %d", have, m.version-1)
			}
			if _, err := t.tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			if m.step != nil {
				if err := m.step(t); err != nil {
					return err
				}
			}
			_, err := t.exec(`INSERT INTO schema_version (version, applied) VALUES (?, ?)`, m.version, dbTime(t.now))
			return err
		})
		if err != nil {
			return err
		}
	}
	l.version, err = l.storedVersion(ctx)
	if err != nil {
		return fmt.Errorf("could not read schema version of ledger %q: %w", l.path, err)
	}
	if l.version > len(ms) {
		return fmt.Errorf("ledger %q has schema version %d, this cutover understands up to %d: upgrade cutover: %w",
			l.path, l.version, len(ms), ErrNewerSchema)
	}
	return nil
}

// storedVersion reads the schema version; 0 for a new, empty file.
func (l *Ledger) storedVersion(ctx context.Context) (int, error) {
	var n int
	err := l.db.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'`).Scan(&n)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	var v sql.NullInt64
	if err := l.db.QueryRowContext(ctx, `SELECT max(version) FROM schema_version`).Scan(&v); err != nil {
		return 0, err
	}
	return int(v.Int64), nil
}
