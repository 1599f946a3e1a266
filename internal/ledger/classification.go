package ledger

import (
	"database/sql"
	"fmt"

	"github.com/cutover/cutover/internal/classdoc"
)

// migrationSteps are the Go conversions of stored data, by the schema
// version whose migration runs them (in its transaction, after its SQL).
var migrationSteps = map[int]func(*tx) error{
	5: convertClassifications,
}

// convertClassifications rewrites every stored classification of schema
// 4 (rewrite.Result's JSON) as a classification document. A row already
// holding a document is left as it is, so the step can run twice. A row
// that cannot be converted fails the migration, naming the repository, and
// the transaction leaves the ledger at schema 4.
func convertClassifications(t *tx) error {
	type row struct{ repo, class string }
	rows, err := collect(t, func(s rowScanner) (row, error) {
		var r row
		return r, s.Scan(&r.repo, &r.class)
	}, `SELECT full_name, classification FROM repos
		WHERE classification IS NOT NULL AND classification <> '' ORDER BY full_name`)
	if err != nil {
		return err
	}
	for _, r := range rows {
		doc, err := classdoc.FromSchema4([]byte(r.class))
		if err != nil {
			return fmt.Errorf("the stored classification of repository %q cannot be converted to a classification document: %w; "+
				"the ledger is left at schema version 4, unchanged: open it with the cutover that wrote it and run inventory --repo %s to record it again, or restore a backup", r.repo, err, r.repo)
		}
		b, err := classdoc.Encode(doc)
		if err != nil {
			return fmt.Errorf("repository %q: %w", r.repo, err)
		}
		if string(b) == r.class {
			continue
		}
		if _, err := t.exec(`UPDATE repos SET classification = ? WHERE full_name = ?`, string(b), r.repo); err != nil {
			return fmt.Errorf("repository %q: %w", r.repo, err)
		}
	}
	return nil
}

// encodeClassification is the stored form of a repository's classification.
func encodeClassification(doc *classdoc.Doc) (any, error) {
	if doc == nil {
		return nil, nil
	}
	b, err := classdoc.Encode(doc)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// decodeClassification reads a stored classification; nil for none.
func decodeClassification(repo string, class sql.NullString) (*classdoc.Doc, error) {
	if !class.Valid || class.String == "" {
		return nil, nil
	}
	doc, err := classdoc.Decode([]byte(class.String))
	if err != nil {
		return nil, fmt.Errorf("classification of %q: %w", repo, err)
	}
	return doc, nil
}
