package rewrite

import "testing"

// BenchmarkDetectCorpus runs Detect over every corpus workflow, each in its
// own repository snapshot as the agreement test builds them, and reports
// workflows per second.
func BenchmarkDetectCorpus(b *testing.B) {
	rows := loadCorpus(b)
	snaps := make([]Snapshot, len(rows))
	bytes := 0
	for i, row := range rows {
		snaps[i] = corpusSnapshot(b, row)
		for _, d := range snaps[i].Files {
			bytes += len(d)
		}
	}
	opts := Options{Registry: TestRegistry}
	b.SetBytes(int64(bytes))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, s := range snaps {
			Detect(s, opts)
		}
	}
	b.ReportMetric(float64(b.N*len(snaps))/b.Elapsed().Seconds(), "workflows/s")
}
