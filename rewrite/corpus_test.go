package rewrite

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/corpus"
)

// TestRegistry is the public npm registry as the corpus and tests write it.
const TestRegistry = "https://npm-registry.invalid/"

// The corpus thresholds are today's results exactly, so one regression
// fails: every labelled file agrees with detection, and all token
// publishers but one are rewritten automatically.
const (
	wantDetectAgree     = 54
	wantCorpusFiles     = 54
	wantRewriteAuto     = 23
	wantRewriteTokenPub = 24
)

type corpusRow = corpus.Row

func loadCorpus(tb testing.TB) []corpusRow { return corpus.Load(tb) }

func corpusSnapshot(tb testing.TB, row corpusRow) Snapshot {
	tb.Helper()
	return Snapshot{Repo: row.Repo, Files: map[string][]byte{row.Path: corpus.Data(tb, row)}}
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
	if agree < wantDetectAgree || len(rows) != wantCorpusFiles {
		t.Errorf("agreement %d/%d, want %d/%d: detection regressed (or the corpus changed: update the thresholds)", agree, len(rows), wantDetectAgree, wantCorpusFiles)
	}
}

func boolStr(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
