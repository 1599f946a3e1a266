// Package corpus loads the shared corpus of real workflows that detection,
// rewrite and lint tests measure themselves against: ../shared/corpus beside
// the module root, a manifest.tsv with hand labels and files/ with the
// workflows. It is for tests only.
package corpus

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"
)

// Row is one labelled file of the manifest.
type Row struct {
	// File is the name under files/.
	File string
	// Repo is "owner/name" and Path the file's path in it.
	Repo, Path string
	Category   string
	// Publishes is "yes" or "no": the file publishes to the npm registry.
	Publishes string
	// Credential is classic-or-unknown-token, token+provenance, oidc or none.
	Credential string
	Notes      string
}

// TokenPublisher reports whether the row is labelled as publishing to npm
// with a stored token.
func (r Row) TokenPublisher() bool {
	return r.Publishes == "yes" && (r.Credential == "classic-or-unknown-token" || r.Credential == "token+provenance")
}

// Dir returns the corpus directory: ../shared/corpus beside the module root
// (found by walking up from the working directory to go.mod).
func Dir() string {
	dir, err := os.Getwd()
	if err != nil {
		return filepath.Join("..", "shared", "corpus")
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "corpus")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return filepath.Join("..", "shared", "corpus")
		}
		dir = parent
	}
}

// Load reads the manifest. Without the corpus the test is skipped, or,
// when the CI environment variable is set, fails: CI must not pass by
// measuring nothing.
func Load(tb testing.TB) []Row {
	tb.Helper()
	f, err := os.Open(filepath.Join(Dir(), "manifest.tsv"))
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("shared corpus not found beside the checkout and CI is set: %v", err)
		}
		tb.Skipf("shared corpus not found beside the checkout: %v", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma, r.LazyQuotes, r.FieldsPerRecord = '\t', true, -1
	recs, err := r.ReadAll()
	if err != nil {
		tb.Fatalf("read the corpus manifest: %v", err)
	}
	if len(recs) < 2 {
		tb.Fatal("the corpus manifest has no rows")
	}
	var rows []Row
	for i, rec := range recs[1:] {
		if len(rec) < 7 {
			tb.Fatalf("corpus manifest row %d has %d fields, want at least 7", i+2, len(rec))
		}
		row := Row{File: rec[0], Repo: rec[1], Path: rec[2], Category: rec[4], Publishes: rec[5], Credential: rec[6]}
		if len(rec) > 7 {
			row.Notes = rec[7]
		}
		rows = append(rows, row)
	}
	return rows
}

// Data reads a row's file.
func Data(tb testing.TB, row Row) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(Dir(), "files", row.File))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
