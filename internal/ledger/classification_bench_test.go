package ledger

import (
	"database/sql"
	"fmt"
	"testing"
)

// BenchmarkMigrateSchema4 opens a schema 4 ledger of 1,000 repositories
// (the fixture's classifications, repeated) with this cutover: migration
// 5 converts every classification in one transaction.
func BenchmarkMigrateSchema4(b *testing.B) {
	const n = 1000
	for b.Loop() {
		b.StopTimer()
		path := loadSchema4(b, "")
		db, err := sql.Open("sqlite", path)
		must(b, err)
		var have int
		must(b, db.QueryRow(`SELECT count(*) FROM repos`).Scan(&have))
		for i := have; i < n; i++ {
			_, err := db.Exec(`INSERT INTO repos (full_name, publishes, credential, classification, updated)
				SELECT ?, publishes, credential, classification, updated FROM repos
				WHERE classification IS NOT NULL ORDER BY full_name LIMIT 1 OFFSET ?`,
				fmt.Sprintf("bench/r%04d", i), i%have)
			must(b, err)
		}
		db.Close()
		b.StartTimer()
		l, err := Open(b.Context(), path, Options{})
		must(b, err)
		b.StopTimer()
		must(b, l.Close())
		b.StartTimer()
	}
	b.ReportMetric(n, "repos/op")
}
