package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// ErrNotFound is returned (wrapped) when a record asked for is not in the ledger.
var ErrNotFound = errors.New("not found in the ledger")

// Options configure a ledger. The zero value means the defaults.
type Options struct {
	// Now is the clock for every timestamp the ledger writes; time.Now when nil.
	Now func() time.Time
	// BusyTimeout is how long a write waits for another process's write
	// to finish; 10 seconds when zero.
	BusyTimeout time.Duration
}

// Ledger is an open campaign ledger. It is safe for concurrent use; writes
// from one process are serialised, and writes from several processes wait
// for each other up to Options.BusyTimeout.
type Ledger struct {
	db      *sql.DB
	path    string
	now     func() time.Time
	version int
	// mu serialises this process's write transactions, so they queue here
	// instead of polling SQLite's busy handler.
	mu sync.Mutex
}

// Open opens the ledger at path, creating it when missing, and migrates an
// older schema to the current one. It fails when the file was written by a
// newer cutover, and with ErrDamaged, writing nothing, when an existing
// file is empty, is not a cutover ledger, or fails PRAGMA quick_check. The
// path ":memory:" opens a private in-memory ledger.
func Open(ctx context.Context, path string, opts Options) (*Ledger, error) {
	if path == "" {
		return nil, errors.New("could not open ledger: no path given")
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = 10 * time.Second
	}
	memory := path == ":memory:"
	if !memory {
		if err := checkExisting(ctx, path); err != nil {
			return nil, err
		}
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if !memory {
		q.Add("_pragma", "journal_mode(WAL)")
	}
	// Write transactions take the write lock at BEGIN, so that two
	// processes never deadlock upgrading read locks; read-only
	// transactions stay deferred.
	q.Set("_txlock", "immediate")
	dsn := "file:" + escapePath(path) + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("could not open ledger %q: %w", path, err)
	}
	if memory {
		// Each connection to ":memory:" is a database of its own.
		db.SetMaxOpenConns(1)
	} else {
		db.SetMaxOpenConns(8)
	}
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(time.Minute)
	l := &Ledger{db: db, path: path, now: now}
	if err := l.checkPragmas(ctx, memory); err != nil {
		db.Close()
		return nil, fmt.Errorf("could not open ledger %q: %w", path, err)
	}
	if err := l.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return l, nil
}

// escapePath keeps a file path intact inside a "file:" URI.
func escapePath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

// checkPragmas makes sure the connection settings took effect, so a
// ledger never runs without foreign keys or WAL by accident.
func (l *Ledger) checkPragmas(ctx context.Context, memory bool) error {
	var fk int
	if err := l.db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		return err
	}
	if fk != 1 {
		return errors.New("sqlite did not enable foreign keys")
	}
	if memory {
		return nil
	}
	var mode string
	if err := l.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("sqlite journal mode is %q, want \"wal\"", mode)
	}
	return nil
}

// Close closes the ledger's database connections.
func (l *Ledger) Close() error {
	if err := l.db.Close(); err != nil {
		return fmt.Errorf("could not close ledger %q: %w", l.path, err)
	}
	return nil
}

// Path returns the path the ledger was opened with.
func (l *Ledger) Path() string { return l.path }

// SchemaVersion returns the schema version of the open ledger.
func (l *Ledger) SchemaVersion() int { return l.version }

// tx is a write transaction. Every statement goes through exec, query or
// queryRow, which refuse token-shaped arguments before SQLite sees them.
type tx struct {
	ctx context.Context
	tx  *sql.Tx
	// now is the transaction's timestamp: every row it writes gets the same.
	now time.Time
}

func (t *tx) exec(query string, args ...any) (sql.Result, error) {
	if err := checkArgs(args); err != nil {
		return nil, err
	}
	return t.tx.ExecContext(t.ctx, query, args...)
}

func (t *tx) queryRow(query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(t.ctx, query, args...)
}

func (t *tx) query(query string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(t.ctx, query, args...)
}

// write runs fn in one write transaction, committed when fn returns nil.
// Errors are prefixed with what, which says what the step was doing.
func (l *Ledger) write(ctx context.Context, what string, fn func(*tx) error) error {
	return scrub(l.writeTx(ctx, what, fn))
}

func (l *Ledger) writeTx(ctx context.Context, what string, fn func(*tx) error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("could not %s: %w", what, err)
	}
	sqlTx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("could not %s: %w", what, err)
	}
	t := &tx{ctx: ctx, tx: sqlTx, now: l.now().UTC()}
	if err := fn(t); err != nil {
		_ = sqlTx.Rollback()
		return fmt.Errorf("could not %s: %w", what, err)
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("could not %s: commit: %w", what, err)
	}
	return nil
}

// reader is a read transaction.
type reader struct {
	ctx context.Context
	tx  *sql.Tx
}

func (r *reader) queryRow(query string, args ...any) *sql.Row {
	return r.tx.QueryRowContext(r.ctx, query, args...)
}

func (r *reader) query(query string, args ...any) (*sql.Rows, error) {
	return r.tx.QueryContext(r.ctx, query, args...)
}

// read runs fn in one read-only transaction, which sees one consistent
// state of the ledger however long it runs.
func (l *Ledger) read(ctx context.Context, what string, fn func(*reader) error) error {
	return scrub(l.readTx(ctx, what, fn))
}

func (l *Ledger) readTx(ctx context.Context, what string, fn func(*reader) error) error {
	sqlTx, err := l.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("could not %s: %w", what, err)
	}
	defer sqlTx.Rollback()
	if err := fn(&reader{ctx: ctx, tx: sqlTx}); err != nil {
		return fmt.Errorf("could not %s: %w", what, err)
	}
	return nil
}

// queryer is what the shared row readers need from either transaction kind.
type queryer interface {
	query(query string, args ...any) (*sql.Rows, error)
	queryRow(query string, args ...any) *sql.Row
}

// collect runs a query and scans every row with scan.
func collect[T any](q queryer, scan func(rowScanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// one runs a query expected to return at most one row; a missing row is
// ErrNotFound wrapped with what.
func one[T any](q queryer, what string, scan func(rowScanner) (T, error), query string, args ...any) (T, error) {
	v, err := scan(q.queryRow(query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return v, err
}

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

// timeLayout is fixed-width UTC, so stored times sort as text.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// dbTime encodes a time for a column; the zero time is NULL.
func dbTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeLayout)
}

// dbTimePtr encodes an optional time.
func dbTimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return dbTime(*t)
}

// nullTime scans a time column that may be NULL.
type nullTime struct{ sql.NullString }

// Time returns the time, zero for NULL.
func (n nullTime) Time() (time.Time, error) {
	if !n.Valid || n.String == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, n.String)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad time %q in ledger: %w", n.String, err)
	}
	return t.UTC(), nil
}

// Ptr returns the time, nil for NULL.
func (n nullTime) Ptr() (*time.Time, error) {
	t, err := n.Time()
	if err != nil || t.IsZero() {
		return nil, err
	}
	return &t, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// prefixed qualifies every column of a comma-separated list with prefix.
func prefixed(prefix, columns string) string {
	parts := strings.Split(columns, ",")
	for i, c := range parts {
		parts[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}
