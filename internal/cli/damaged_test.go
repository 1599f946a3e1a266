package cli

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/ledger"
)

// TestDamagedLedger: every command that opens a ledger stops with exit
// code 3 and the restore hint on an empty file, a foreign one, or a ledger
// with garbage in the middle, and writes nothing to it or beside it.
func TestDamagedLedger(t *testing.T) {
	t.Parallel()
	// A real ledger, many pages long, with 8 KiB of garbage in its middle.
	good := filepath.Join(t.TempDir(), "good.db")
	led, err := ledger.Open(t.Context(), good, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		if err := led.UpsertRepo(t.Context(), ledger.Repo{FullName: fmt.Sprintf("acme/repo-%03d", i), DefaultBranch: "main",
			CloneURL: "https://git.example.invalid/acme/" + strings.Repeat("a-repository-that-publishes-to-npm-", 8)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := led.Close(); err != nil {
		t.Fatal(err)
	}
	midFile, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	garbage := rand.New(rand.NewPCG(15, 2))
	for i := len(midFile) / 2; i < len(midFile)/2+8<<10; i++ {
		midFile[i] = byte(garbage.Uint32())
	}

	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"not a ledger", []byte("this is not a database\n")},
		{"garbage mid-file", midFile},
	} {
		for _, args := range [][]string{
			{"status"}, {"plan"}, {"inventory"}, {"apply", "--wave", "0", "--execute"}, {"merge", "--wave", "0", "--execute"},
			{"flag", "on", "--wave", "0", "--otp", "000000"}, {"trust", "--wave", "0", "--otp", "000000"}, {"verify", "--wave", "0"},
			{"lockdown", "--wave", "0", "--otp", "000000"}, {"revoke", "secrets", "--wave", "0"}, {"revoke", "tokens", "--migrated", "--otp", "000000"},
			{"retry", "--failed"}, {"sweep", "--execute"}, {"dashboard", "--dry-run"},
			{"report", "--out", "out"}, {"ledger", "export"}, {"ledger", "backup", "copy.db"}, {"show", "acme/widget"},
		} {
			t.Run(tc.name+"/"+strings.Join(args, " "), func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				path := filepath.Join(dir, "cutover.db")
				if err := os.WriteFile(path, tc.data, 0o600); err != nil {
					t.Fatal(err)
				}
				old := time.Now().Add(-time.Hour).Truncate(time.Second)
				if err := os.Chtimes(path, old, old); err != nil {
					t.Fatal(err)
				}
				args = append(slices.Clone(args), "--ledger", path)
				switch args[0] {
				case "report":
					args[2] = filepath.Join(dir, "out")
				case "ledger", "show":
				default:
					args = append(args, "--registry", "https://npm-registry.invalid/")
				}
				if args[0] == "ledger" && args[1] == "backup" {
					args[2] = filepath.Join(dir, "copy.db")
				}
				r := run(t, map[string]string{"GITHUB_TOKEN": "ghp_x", "CUTOVER_ORG": "acme", "NPM_TOKEN": "npm_x", "HOME": dir}, args...)
				if r.code != ExitFatal || !strings.Contains(r.err, "restore it from a backup") {
					t.Errorf("exit %d, want %d with the restore hint\n%s", r.code, ExitFatal, r.err)
				}
				after, err := os.ReadFile(path)
				if err != nil || !bytes.Equal(after, tc.data) {
					t.Errorf("the ledger changed: %q (%v)", after, err)
				}
				if fi, err := os.Stat(path); err != nil || !fi.ModTime().Equal(old) {
					t.Errorf("the ledger's modification time changed: %v (%v)", fi.ModTime(), err)
				}
				if _, err := os.Stat(filepath.Join(dir, "copy.db")); err == nil {
					t.Error("a backup of a damaged ledger was written")
				}
				for _, side := range []string{"-wal", "-shm", "-journal"} {
					if _, err := os.Stat(path + side); err == nil {
						t.Errorf("%s was left beside the damaged ledger", filepath.Base(path+side))
					}
				}
			})
		}
	}
}
