package rewrite

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusDir is where CI and developers keep the shared corpus, beside the
// checkout.
const corpusDir = "../../shared/corpus"

// TestRegistry is the public npm registry as the corpus and tests write it.
const TestRegistry = "https://npm-registry.invalid/"

type corpusRow struct {
	File, Repo, Path, Category, Publishes, Credential, Notes string
}

func loadCorpus(tb testing.TB) []corpusRow {
	tb.Helper()
	f, err := os.Open(filepath.Join(corpusDir, "manifest.tsv"))
	if err != nil {
		tb.Skipf("shared corpus not found beside the checkout: %v", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma, r.LazyQuotes, r.FieldsPerRecord = '\t', true, -1
	recs, err := r.ReadAll()
	if err != nil {
		tb.Fatalf("read manifest: %v", err)
	}
	var rows []corpusRow
	for _, rec := range recs[1:] {
		rows = append(rows, corpusRow{rec[0], rec[1], rec[2], rec[4], rec[5], rec[6], rec[7]})
	}
	return rows
}

func corpusSnapshot(tb testing.TB, row corpusRow) Snapshot {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(corpusDir, "files", row.File))
	if err != nil {
		tb.Fatal(err)
	}
	return Snapshot{Repo: row.Repo, Files: map[string][]byte{row.Path: data}}
}

// manifestCredential maps the corpus labels to Credential values.
func manifestCredential(label string) Credential {
	switch label {
	case "classic-or-unknown-token":
		return CredToken
	case "token+provenance":
		return CredTokenProvenance
	case "oidc":
		return CredOIDC
	}
	return CredNone
}

func TestDetectCorpusAgreement(t *testing.T) {
	rows := loadCorpus(t)
	agree := 0
	var report strings.Builder
	for _, row := range rows {
		res := Detect(corpusSnapshot(t, row), Options{Registry: TestRegistry})
		wantPub := row.Publishes == "yes"
		wantCred := manifestCredential(row.Credential)
		if res.Publishes == wantPub && res.Credential == wantCred {
			agree++
			continue
		}
		report.WriteString("  " + row.File + ": got publishes=" + boolStr(res.Publishes) + " credential=" + string(res.Credential) +
			", manifest publishes=" + row.Publishes + " credential=" + string(wantCred) + "\n")
	}
	ratio := float64(agree) / float64(len(rows))
	t.Logf("corpus agreement: %d/%d (%.1f%%)", agree, len(rows), 100*ratio)
	if report.Len() > 0 {
		t.Logf("disagreements:\n%s", report.String())
	}
	if ratio < 0.98 {
		t.Errorf("agreement %.1f%% is below 98%%", 100*ratio)
	}
}

func boolStr(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
