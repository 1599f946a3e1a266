package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDamagedLedger: every command that opens a ledger stops with exit
// code 3 and the restore hint on an empty or foreign file, and writes
// nothing to it.
func TestDamagedLedger(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"not a ledger", []byte("this is not a database\n")},
	} {
		for _, args := range [][]string{
			{"status"}, {"plan"}, {"inventory"}, {"report", "--out", "out"}, {"ledger", "export"}, {"ledger", "backup", "copy.db"}, {"show", "acme/widget"},
		} {
			t.Run(tc.name+"/"+strings.Join(args, " "), func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				path := filepath.Join(dir, "cutover.db")
				if err := os.WriteFile(path, tc.data, 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(slices.Clone(args), "--ledger", path)
				switch args[0] {
				case "report":
					args[2] = filepath.Join(dir, "out")
				case "status", "plan", "inventory":
					args = append(args, "--registry", "https://npm-registry.invalid/")
				}
				if args[0] == "ledger" && args[1] == "backup" {
					args[2] = filepath.Join(dir, "copy.db")
				}
				r := run(t, map[string]string{"GITHUB_TOKEN": "ghp_x", "CUTOVER_ORG": "acme"}, args...)
				if r.code != ExitFatal || !strings.Contains(r.err, "restore it from a backup") {
					t.Errorf("exit %d, want %d with the restore hint\n%s", r.code, ExitFatal, r.err)
				}
				after, err := os.ReadFile(path)
				if err != nil || !bytes.Equal(after, tc.data) {
					t.Errorf("the ledger changed: %q (%v)", after, err)
				}
				if _, err := os.Stat(filepath.Join(dir, "copy.db")); err == nil {
					t.Error("a backup of a damaged ledger was written")
				}
			})
		}
	}
}
