package ledger

import (
	"bytes"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenDamaged: an existing file that is empty, is not a cutover
// ledger, or is damaged makes Open fail with ErrDamaged and a hint, and
// leaves the file exactly as it was.
func TestOpenDamaged(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()

	// A healthy ledger with enough rows to span many pages.
	good := filepath.Join(dir, "good.db")
	l, err := Open(ctx, good, Options{Now: newClock().Now})
	must(t, err)
	for i := range 400 {
		must(t, l.UpsertRepo(ctx, Repo{FullName: fmt.Sprintf("acme/repo-%03d", i), DefaultBranch: "main",
			CloneURL: "https://git.example.invalid/acme/" + strings.Repeat("a-repository-that-publishes-to-npm-", 8)}))
	}
	must(t, l.Close())
	healthy, err := os.ReadFile(good)
	must(t, err)
	if len(healthy) < 64<<10 {
		t.Fatalf("the healthy ledger is only %d bytes", len(healthy))
	}

	garbage := make([]byte, 8<<10)
	_, _ = rand.Read(garbage)
	midFile := bytes.Clone(healthy)
	copy(midFile[len(midFile)/2:], garbage)

	other := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", other)
	must(t, err)
	_, err = db.Exec(`CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)`)
	must(t, err)
	must(t, db.Close())
	otherBytes, err := os.ReadFile(other)
	must(t, err)

	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "is empty (0 bytes)"},
		{"text", []byte("repo,wave\nacme/a,1\n"), "is not a SQLite database"},
		{"garbage header", append(bytes.Clone(garbage), healthy[8<<10:]...), "is not a SQLite database"},
		{"other database", otherBytes, "not a cutover ledger"},
		{"garbage mid-file", midFile, "integrity check"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cutover.db")
			must(t, os.WriteFile(path, tc.data, 0o600))
			l, err := Open(ctx, path, Options{})
			if err == nil {
				l.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "restore it from a backup") {
				t.Errorf("error = %v, want ErrDamaged saying %q and the hint", err, tc.want)
			}
			after, err := os.ReadFile(path)
			must(t, err)
			if !bytes.Equal(after, tc.data) {
				t.Error("Open changed the damaged file")
			}
			for _, suffix := range []string{"-wal", "-shm", "-journal"} {
				if fi, err := os.Stat(path + suffix); err == nil {
					t.Errorf("Open left %s (%d bytes) beside the damaged ledger", path+suffix, fi.Size())
				}
			}
		})
	}

	// The healthy one still opens.
	l, err = Open(ctx, good, Options{})
	must(t, err)
	must(t, l.Close())
}
