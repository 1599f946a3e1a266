package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// RecordVerification records a canary verification and returns it with its
// ID and time. Passed is computed: true when there is at least one check
// and every check passed. An EventVerified event is appended.
func (l *Ledger) RecordVerification(ctx context.Context, v Verification) (Verification, error) {
	err := l.write(ctx, fmt.Sprintf("record verification of %s@%s", v.Package, v.Version), func(t *tx) error {
		if v.Package == "" || v.Version == "" {
			return errors.New("the verification has no package or version")
		}
		if err := requireRepo(t, v.Repo); err != nil {
			return err
		}
		if v.Checks == nil {
			v.Checks = []Check{}
		}
		v.Passed = len(v.Checks) > 0
		for _, c := range v.Checks {
			v.Passed = v.Passed && c.OK
		}
		checks, err := json.Marshal(v.Checks)
		if err != nil {
			return err
		}
		v.VerifiedAt = t.now
		res, err := t.exec(`INSERT INTO verifications (repo, package, version, tag, checks, passed, verified_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			v.Repo, v.Package, v.Version, v.Tag, string(checks), boolInt(v.Passed), dbTime(v.VerifiedAt))
		if err != nil {
			return err
		}
		if v.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		verdict := "failed"
		if v.Passed {
			verdict = "passed"
		}
		_, err = appendEvent(t, Event{Kind: EventVerified, Repo: v.Repo,
			Message: fmt.Sprintf("%s@%s %s verification", v.Package, v.Version, verdict),
			Data:    eventData(map[string]any{"package": v.Package, "version": v.Version, "passed": v.Passed, "id": v.ID})})
		return err
	})
	return v, err
}

const verificationColumns = `id, repo, package, version, tag, checks, passed, verified_at`

func scanVerification(s rowScanner) (Verification, error) {
	var v Verification
	var checks string
	var passed int
	var at nullTime
	if err := s.Scan(&v.ID, &v.Repo, &v.Package, &v.Version, &v.Tag, &checks, &passed, &at); err != nil {
		return v, err
	}
	v.Passed = passed != 0
	if err := json.Unmarshal([]byte(checks), &v.Checks); err != nil {
		return v, fmt.Errorf("checks of verification %d: %w", v.ID, err)
	}
	if v.Checks == nil {
		v.Checks = []Check{}
	}
	var err error
	v.VerifiedAt, err = at.Time()
	return v, err
}

// Verifications returns a repository's canary verifications, oldest first.
func (l *Ledger) Verifications(ctx context.Context, repo string) ([]Verification, error) {
	var out []Verification
	err := l.read(ctx, fmt.Sprintf("read verifications of %q", repo), func(r *reader) error {
		var err error
		out, err = collect(r, scanVerification,
			`SELECT `+verificationColumns+` FROM verifications WHERE repo = ? ORDER BY id`, repo)
		return err
	})
	return out, err
}

// LatestVerifications returns the newest verification of each package of
// a repository, by package: what the verified gate reads.
func (l *Ledger) LatestVerifications(ctx context.Context, repo string) ([]Verification, error) {
	var out []Verification
	err := l.read(ctx, fmt.Sprintf("read verifications of %q", repo), func(r *reader) error {
		var err error
		out, err = collect(r, scanVerification, `SELECT `+verificationColumns+` FROM verifications
			WHERE id IN (SELECT max(id) FROM verifications WHERE repo = ? GROUP BY package)
			ORDER BY package`, repo)
		return err
	})
	return out, err
}
