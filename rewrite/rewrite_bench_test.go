package rewrite

import (
	"testing"
)

// BenchmarkRewriteCorpus runs the oidc playbook, actionlint validation
// included, over every file of the shared corpus and reports files per
// second.
func BenchmarkRewriteCorpus(b *testing.B) {
	benchmarkRewriteCorpus(b, nil)
}

// BenchmarkRewriteCorpusNoValidate is BenchmarkRewriteCorpus with
// validation off: the difference is what actionlint costs.
func BenchmarkRewriteCorpusNoValidate(b *testing.B) {
	benchmarkRewriteCorpus(b, func(string, []byte, []byte) error { return nil })
}

func benchmarkRewriteCorpus(b *testing.B, validate func(string, []byte, []byte) error) {
	rows := loadCorpus(b)
	snaps := make([]Snapshot, len(rows))
	for i, row := range rows {
		snaps[i] = corpusSnapshot(b, row)
	}
	opts := RewriteOptions{Registry: TestRegistry, Validate: validate}
	rewritten := 0
	for b.Loop() {
		rewritten = 0
		for _, snap := range snaps {
			res, err := Rewrite(snap, opts)
			if err != nil {
				b.Fatal(err)
			}
			if res.Changed() {
				rewritten++
			}
		}
	}
	b.ReportMetric(float64(b.N*len(snaps))/b.Elapsed().Seconds(), "files/s")
	b.ReportMetric(float64(rewritten), "rewritten/op")
}
