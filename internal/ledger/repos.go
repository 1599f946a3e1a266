package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cutover/cutover/internal/classdoc"
	"github.com/cutover/cutover/rewrite"
)

// SetCampaign records the campaign's name and config digest. A ledger
// holds one campaign: a different name than the one recorded is an error.
func (l *Ledger) SetCampaign(ctx context.Context, name, configDigest string) error {
	return l.write(ctx, fmt.Sprintf("record campaign %q", name), func(t *tx) error {
		if name == "" {
			return errors.New("the campaign has no name")
		}
		var have string
		err := t.queryRow(`SELECT name FROM campaign WHERE id = 1`).Scan(&have)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = t.exec(`INSERT INTO campaign (id, name, config_digest, created, updated) VALUES (1, ?, ?, ?, ?)`,
				name, configDigest, dbTime(t.now), dbTime(t.now))
			return err
		case err != nil:
			return err
		case have != name:
			return fmt.Errorf("the ledger belongs to campaign %q", have)
		}
		_, err = t.exec(`UPDATE campaign SET config_digest = ?, updated = ? WHERE id = 1 AND config_digest <> ?`,
			configDigest, dbTime(t.now), configDigest)
		return err
	})
}

// Campaign returns the campaign; its Name is empty before SetCampaign.
func (l *Ledger) Campaign(ctx context.Context) (Campaign, error) {
	var c Campaign
	err := l.read(ctx, "read campaign", func(r *reader) error {
		var err error
		c, err = readCampaign(r)
		return err
	})
	return c, err
}

func readCampaign(q queryer) (Campaign, error) {
	var c Campaign
	var created, updated nullTime
	err := q.queryRow(`SELECT name, config_digest, created, updated FROM campaign WHERE id = 1`).
		Scan(&c.Name, &c.ConfigDigest, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return Campaign{}, nil
	}
	if err != nil {
		return c, err
	}
	if c.Created, err = created.Time(); err != nil {
		return c, err
	}
	c.Updated, err = updated.Time()
	return c, err
}

// UpsertRepo records a repository as the forge lists it: id, default
// branch, visibility, clone URL, owner and topics. What detection and later steps
// recorded about it is kept.
func (l *Ledger) UpsertRepo(ctx context.Context, r Repo) error {
	return l.write(ctx, fmt.Sprintf("record repository %q", r.FullName), func(t *tx) error {
		if r.FullName == "" {
			return errors.New("the repository has no full name")
		}
		topics, err := json.Marshal(nonNil(r.Topics))
		if err != nil {
			return err
		}
		_, err = t.exec(`INSERT INTO repos (full_name, forge_id, default_branch, visibility, clone_url, owner, topics, updated)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (full_name) DO UPDATE SET
				forge_id = excluded.forge_id, default_branch = excluded.default_branch,
				visibility = excluded.visibility, clone_url = excluded.clone_url,
				owner = excluded.owner, topics = excluded.topics, updated = excluded.updated`,
			r.FullName, r.ID, r.DefaultBranch, r.Visibility, r.CloneURL, r.Owner, string(topics), dbTime(t.now))
		return err
	})
}

// RecordDetection records what detection found in a repository at commit:
// the classification (as a classification document, see package
// classdoc), and the packages with the trusted-publisher settings
// they need. A package whose needed settings changed goes back to
// TrustUnknown; packages no longer found are removed. The repository must
// have been recorded with UpsertRepo.
func (l *Ledger) RecordDetection(ctx context.Context, repo, commit string, res *rewrite.Result) error {
	return l.write(ctx, fmt.Sprintf("record detection for %q", repo), func(t *tx) error {
		if res == nil {
			return errors.New("no detection result")
		}
		if err := requireRepo(t, repo); err != nil {
			return err
		}
		doc, err := encodeClassification(classdoc.FromResult(res))
		if err != nil {
			return err
		}
		_, err = t.exec(`UPDATE repos SET commit_sha = ?, publishes = ?, credential = ?, classification = ?,
				detected_at = ?, updated = ? WHERE full_name = ?`,
			commit, boolInt(res.Publishes), string(res.Credential), doc, dbTime(t.now), dbTime(t.now), repo)
		if err != nil {
			return err
		}
		return recordPackages(t, repo, res)
	})
}

// recordPackages brings the repository's package rows to the detection result.
func recordPackages(t *tx, repo string, res *rewrite.Result) error {
	needs := map[string]rewrite.TrustNeed{}
	for _, n := range res.Trust {
		if _, ok := needs[n.Package]; !ok {
			needs[n.Package] = n
		}
	}
	seen := map[string]bool{}
	for _, p := range res.Packages {
		if p.Name == "" {
			continue
		}
		n := needs[p.Name]
		_, err := t.exec(`INSERT INTO packages (repo, name, dir, private, publishable, access, registry,
				trust_repository, trust_workflow, trust_environment)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (repo, name) DO UPDATE SET
				dir = excluded.dir, private = excluded.private, publishable = excluded.publishable,
				access = excluded.access, registry = excluded.registry,
				trust_state = CASE WHEN trust_repository IS excluded.trust_repository
						AND trust_workflow IS excluded.trust_workflow
						AND trust_environment IS excluded.trust_environment
					THEN trust_state ELSE 'unknown' END,
				trust_detail = CASE WHEN trust_repository IS excluded.trust_repository
						AND trust_workflow IS excluded.trust_workflow
						AND trust_environment IS excluded.trust_environment
					THEN trust_detail ELSE '' END,
				trust_repository = excluded.trust_repository,
				trust_workflow = excluded.trust_workflow,
				trust_environment = excluded.trust_environment`,
			repo, p.Name, p.Dir, boolInt(p.Private), boolInt(p.Publishable), p.Access, p.Registry,
			n.Repository, n.Workflow, n.Environment)
		if err != nil {
			return err
		}
		seen[p.Name] = true
	}
	have, err := collect(t, func(s rowScanner) (string, error) {
		var name string
		return name, s.Scan(&name)
	}, `SELECT name FROM packages WHERE repo = ?`, repo)
	if err != nil {
		return err
	}
	for _, name := range have {
		if !seen[name] {
			if _, err := t.exec(`DELETE FROM packages WHERE repo = ? AND name = ?`, repo, name); err != nil {
				return err
			}
		}
	}
	return nil
}

// SetTrust records what the registry holds for a package's trusted
// publisher: one of TrustMissing, TrustConfigured, TrustMismatch,
// TrustUnpublished or TrustUnknown, and a detail such as which claim differs.
func (l *Ledger) SetTrust(ctx context.Context, repo, pkg, state, detail string) error {
	return l.write(ctx, fmt.Sprintf("record trust state of %q in %q", pkg, repo), func(t *tx) error {
		switch state {
		case TrustUnknown, TrustMissing, TrustConfigured, TrustMismatch, TrustUnpublished:
		default:
			return fmt.Errorf("unknown trust state %q", state)
		}
		res, err := t.exec(`UPDATE packages SET trust_state = ?, trust_detail = ?, trust_checked = ? WHERE repo = ? AND name = ?`,
			state, detail, dbTime(t.now), repo, pkg)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("package %q of %q: %w", pkg, repo, ErrNotFound)
		}
		return nil
	})
}

// requireRepo fails with ErrNotFound when the repository is not recorded.
func requireRepo(q queryer, repo string) error {
	var n int
	if err := q.queryRow(`SELECT count(*) FROM repos WHERE full_name = ?`, repo).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("repository %q: %w", repo, ErrNotFound)
	}
	return nil
}

const repoColumns = `full_name, forge_id, default_branch, visibility, clone_url, owner, commit_sha,
	publishes, credential, classification, detected_at, updated, topics`

func scanRepo(s rowScanner) (Repo, error) {
	var r Repo
	var class sql.NullString
	var detected, updated nullTime
	var publishes int
	var cred, topics string
	err := s.Scan(&r.FullName, &r.ID, &r.DefaultBranch, &r.Visibility, &r.CloneURL, &r.Owner, &r.Commit,
		&publishes, &cred, &class, &detected, &updated, &topics)
	if err != nil {
		return r, err
	}
	if topics != "" && topics != "[]" {
		if err := json.Unmarshal([]byte(topics), &r.Topics); err != nil {
			return r, fmt.Errorf("topics of %q: %w", r.FullName, err)
		}
	}
	r.Publishes = publishes != 0
	r.Credential = rewrite.Credential(cred)
	if r.Classification, err = decodeClassification(r.FullName, class); err != nil {
		return r, err
	}
	if r.DetectedAt, err = detected.Time(); err != nil {
		return r, err
	}
	r.Updated, err = updated.Time()
	return r, err
}

// Repo returns a repository by full name, or an error wrapping ErrNotFound.
func (l *Ledger) Repo(ctx context.Context, name string) (Repo, error) {
	var out Repo
	err := l.read(ctx, fmt.Sprintf("read repository %q", name), func(r *reader) error {
		var err error
		out, err = one(r, fmt.Sprintf("repository %q", name), scanRepo,
			`SELECT `+repoColumns+` FROM repos WHERE full_name = ?`, name)
		return err
	})
	return out, err
}

// Repos returns every repository, by full name.
func (l *Ledger) Repos(ctx context.Context) ([]Repo, error) {
	var out []Repo
	err := l.read(ctx, "read repositories", func(r *reader) error {
		var err error
		out, err = collect(r, scanRepo, `SELECT `+repoColumns+` FROM repos ORDER BY full_name`)
		return err
	})
	return out, err
}

// ReposInWave returns the repositories of wave n, in plan order.
func (l *Ledger) ReposInWave(ctx context.Context, n int) ([]Repo, error) {
	var out []Repo
	err := l.read(ctx, fmt.Sprintf("read repositories of wave %d", n), func(r *reader) error {
		var err error
		out, err = collect(r, scanRepo, `SELECT `+prefixed("r.", repoColumns)+`
			FROM wave_members m JOIN repos r ON r.full_name = m.repo
			WHERE m.wave = ? ORDER BY m.position`, n)
		return err
	})
	return out, err
}

const packageColumns = `repo, name, dir, private, publishable, access, registry, trust_repository,
	trust_workflow, trust_environment, trust_state, trust_detail, trust_checked`

func scanPackage(s rowScanner) (Package, error) {
	var p Package
	var private, publishable int
	var checked nullTime
	err := s.Scan(&p.Repo, &p.Name, &p.Dir, &private, &publishable, &p.Access, &p.Registry,
		&p.TrustRepository, &p.TrustWorkflow, &p.TrustEnvironment, &p.TrustState, &p.TrustDetail, &checked)
	if err != nil {
		return p, err
	}
	p.Private, p.Publishable = private != 0, publishable != 0
	p.TrustChecked, err = checked.Time()
	return p, err
}

// Packages returns a repository's packages, by name.
func (l *Ledger) Packages(ctx context.Context, repo string) ([]Package, error) {
	var out []Package
	err := l.read(ctx, fmt.Sprintf("read packages of %q", repo), func(r *reader) error {
		var err error
		out, err = collect(r, scanPackage, `SELECT `+packageColumns+` FROM packages WHERE repo = ? ORDER BY name`, repo)
		return err
	})
	return out, err
}

// PackagesInWave returns the publishable packages of the repositories in
// wave n: the ones trust must configure. They come in plan order, then by name.
func (l *Ledger) PackagesInWave(ctx context.Context, n int) ([]Package, error) {
	var out []Package
	err := l.read(ctx, fmt.Sprintf("read packages of wave %d", n), func(r *reader) error {
		var err error
		out, err = collect(r, scanPackage, `SELECT `+prefixed("p.", packageColumns)+`
			FROM wave_members m JOIN packages p ON p.repo = m.repo
			WHERE m.wave = ? AND p.publishable = 1 ORDER BY m.position, p.name`, n)
		return err
	})
	return out, err
}

// RecordStep records the outcome of an engine step on a repository. The
// attempt count goes up while the same step is recorded again and starts
// over at 1 for a different step.
func (l *Ledger) RecordStep(ctx context.Context, s Step) error {
	return l.write(ctx, fmt.Sprintf("record step %q of %q", s.Name, s.Repo), func(t *tx) error {
		if s.Name == "" {
			return errors.New("the step has no name")
		}
		switch s.Outcome {
		case OutcomeOK, OutcomeSkipped, OutcomeFailed:
		default:
			return fmt.Errorf("unknown outcome %q", s.Outcome)
		}
		if err := requireRepo(t, s.Repo); err != nil {
			return err
		}
		_, err := t.exec(`INSERT INTO steps (repo, name, outcome, reason, error, hint, attempts, at)
			VALUES (?, ?, ?, ?, ?, ?, 1, ?)
			ON CONFLICT (repo) DO UPDATE SET
				attempts = CASE WHEN name = excluded.name THEN attempts + 1 ELSE 1 END,
				name = excluded.name, outcome = excluded.outcome, reason = excluded.reason,
				error = excluded.error, hint = excluded.hint, at = excluded.at`,
			s.Repo, s.Name, s.Outcome, s.Reason, s.Error, s.Hint, dbTime(t.now))
		return err
	})
}

const stepColumns = `repo, name, outcome, reason, error, hint, attempts, at`

func scanStep(s rowScanner) (Step, error) {
	var st Step
	var at nullTime
	if err := s.Scan(&st.Repo, &st.Name, &st.Outcome, &st.Reason, &st.Error, &st.Hint, &st.Attempts, &at); err != nil {
		return st, err
	}
	var err error
	st.At, err = at.Time()
	return st, err
}

// LastStep returns the last step recorded for a repository, or an error
// wrapping ErrNotFound when none was.
func (l *Ledger) LastStep(ctx context.Context, repo string) (Step, error) {
	var out Step
	err := l.read(ctx, fmt.Sprintf("read last step of %q", repo), func(r *reader) error {
		var err error
		out, err = one(r, fmt.Sprintf("step of %q", repo), scanStep,
			`SELECT `+stepColumns+` FROM steps WHERE repo = ?`, repo)
		return err
	})
	return out, err
}

// FailedRepos returns the last steps of the repositories whose last step
// failed, by repository: what retry --failed redoes.
func (l *Ledger) FailedRepos(ctx context.Context) ([]Step, error) {
	var out []Step
	err := l.read(ctx, "read failed repositories", func(r *reader) error {
		var err error
		out, err = collect(r, scanStep, `SELECT `+stepColumns+` FROM steps WHERE outcome = 'failed' ORDER BY repo`)
		return err
	})
	return out, err
}

// nonNil returns s, or an empty slice for nil, so JSON says [] not null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
