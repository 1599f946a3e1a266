package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/ledger"
)

func TestLedgerBackupAndExport(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	db := filepath.Join(dir, "cutover.db")
	led, err := ledger.Open(ctx, db, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer led.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(led.UpsertRepo(ctx, ledger.Repo{FullName: "acme/a", DefaultBranch: "main"}))
	must(led.UpsertTokens(ctx, []ledger.Token{{Key: "k1", Prefix: "npm_Ab", Name: "ci", Repo: "acme/a", Created: time.Now()}}))
	if _, err := led.AppendEvent(ctx, ledger.Event{Kind: "note", Repo: "acme/a", Message: "hello"}); err != nil {
		t.Fatal(err)
	}

	// Backup while the ledger is open here.
	copyPath := filepath.Join(dir, "copy.db")
	if r := run(t, nil, "ledger", "backup", "--ledger", db, copyPath); r.code != ExitOK || strings.TrimSpace(r.out) != copyPath {
		t.Fatalf("backup: exit %d\n%s%s", r.code, r.out, r.err)
	}
	if r := run(t, nil, "ledger", "backup", "--ledger", db, copyPath); r.code != ExitFatal || !strings.Contains(r.err, "exists") {
		t.Errorf("backup over an existing file: exit %d\n%s", r.code, r.err)
	}
	if r := run(t, nil, "ledger", "backup", "--ledger", filepath.Join(dir, "nope.db"), filepath.Join(dir, "x.db")); r.code != ExitFatal || !strings.Contains(r.err, "no ledger at") {
		t.Errorf("backup of a missing ledger: exit %d\n%s", r.code, r.err)
	}

	// The export of the backup equals the export of the ledger.
	export := func(path string) ledgerExport {
		t.Helper()
		r := run(t, nil, "ledger", "export", "--ledger", path)
		if r.code != ExitOK {
			t.Fatalf("export: exit %d\n%s", r.code, r.err)
		}
		var doc ledgerExport
		if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
			t.Fatal(err)
		}
		return doc
	}
	orig, backup := export(db), export(copyPath)
	if orig.Schema != ledgerExportSchema || len(orig.Repositories) != 1 || len(orig.Tokens) != 1 || orig.Tokens[0].Key != "k1" ||
		len(orig.Events) == 0 || orig.LedgerSchemaVersion != ledger.LatestSchemaVersion() {
		t.Errorf("export = %+v", orig)
	}
	orig.ExportedAt, backup.ExportedAt = time.Time{}, time.Time{}
	a, _ := json.Marshal(orig)
	b, _ := json.Marshal(backup)
	if string(a) != string(b) {
		t.Errorf("the backup's export differs:\n%s\n%s", a, b)
	}
	if _, err := os.Stat(copyPath); err != nil {
		t.Fatal(err)
	}
}
