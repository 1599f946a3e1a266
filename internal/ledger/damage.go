package ledger

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
)

// ErrDamaged is returned (wrapped) by Open for a ledger file that is
// empty, is not a cutover ledger, or fails SQLite's integrity check. Open
// writes nothing to such a file.
var ErrDamaged = errors.New("the ledger is damaged or is not a cutover ledger")

// restoreHint says what to do about a damaged ledger.
const restoreHint = "restore it from a backup (cutover ledger backup makes one), or give --ledger another file; cutover has not written to it"

// sqliteMagic starts every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// checkExisting checks an existing ledger file before Open writes to it: it
// must be a SQLite database that passes PRAGMA quick_check and is either
// empty of tables or has cutover's schema_version table. A missing file is
// fine: Open creates it.
func checkExisting(ctx context.Context, path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("could not open ledger %q: %w", path, err)
	}
	damaged := func(format string, args ...any) error {
		return fmt.Errorf("ledger %q %s: %w; %s", path, fmt.Sprintf(format, args...), ErrDamaged, restoreHint)
	}
	if fi.IsDir() {
		return fmt.Errorf("could not open ledger %q: it is a folder, not a file", path)
	}
	if fi.Size() == 0 {
		return damaged("is empty (0 bytes), not a cutover ledger")
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("could not open ledger %q: %w", path, err)
	}
	head := make([]byte, len(sqliteMagic))
	_, err = io.ReadFull(f, head)
	f.Close()
	if err != nil || !bytes.Equal(head, sqliteMagic) {
		return damaged("is not a SQLite database, so not a cutover ledger")
	}
	// SQLite may create the -wal and -shm files of a WAL ledger even on a
	// read-only connection; those the check made are removed again when
	// the ledger turns out damaged, so that nothing is left beside it.
	var made []string
	for _, side := range []string{path + "-wal", path + "-shm"} {
		if _, err := os.Lstat(side); errors.Is(err, os.ErrNotExist) {
			made = append(made, side)
		}
	}
	err = quickCheck(ctx, path, damaged)
	if errors.Is(err, ErrDamaged) {
		for _, side := range made {
			if fi, serr := os.Lstat(side); serr == nil && fi.Mode().IsRegular() && (fi.Size() == 0 || strings.HasSuffix(side, "-shm")) {
				_ = os.Remove(side)
			}
		}
	}
	return err
}

// quickCheck runs PRAGMA quick_check on an existing SQLite file and checks
// it holds a cutover ledger, or no tables at all.
func quickCheck(ctx context.Context, path string, damaged func(format string, args ...any) error) error {
	// A read-only connection with no settings, so that the check itself
	// writes nothing (no journal mode change, no migration).
	db, err := sql.Open("sqlite", "file:"+escapePath(path)+"?"+url.Values{"mode": {"ro"}, "_pragma": {"busy_timeout(10000)"}}.Encode())
	if err != nil {
		return fmt.Errorf("could not open ledger %q: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	rows, err := db.QueryContext(ctx, "PRAGMA quick_check(5)")
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("could not check ledger %q: %w", path, ctx.Err())
		}
		return damaged("fails SQLite's integrity check (%v)", err)
	}
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return damaged("fails SQLite's integrity check (%v)", err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return damaged("fails SQLite's integrity check (%v)", err)
	}
	if len(problems) > 0 {
		return damaged("fails SQLite's integrity check (%s)", strings.Join(problems, "; "))
	}
	var tables, versions int
	err = db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE name = 'schema_version') FROM sqlite_schema WHERE type = 'table'`).Scan(&tables, &versions)
	if err != nil {
		return damaged("cannot be read (%v)", err)
	}
	if tables > 0 && versions == 0 {
		return damaged("is a SQLite database of something else, not a cutover ledger (it has no schema_version table)")
	}
	return nil
}

// Backup writes a consistent copy of the ledger to dest with VACUUM INTO,
// which reads in one transaction: it is safe while other processes use the
// ledger. dest must not exist.
func (l *Ledger) Backup(ctx context.Context, dest string) error {
	if dest == "" {
		return errors.New("could not back up the ledger: no file given")
	}
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("could not back up ledger %q: %q exists; give a new file", l.path, dest)
	}
	if _, err := l.db.ExecContext(ctx, `VACUUM INTO ?`, dest); err != nil {
		return fmt.Errorf("could not back up ledger %q to %q: %w", l.path, dest, err)
	}
	return nil
}
