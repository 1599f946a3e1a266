package ledger

import (
	"context"
	"time"
)

// Snapshot is everything reports need, read from the ledger in one read
// transaction so that its parts agree with each other. It is plain data:
// json.Marshal gives the whole ledger as a document. Slices are never nil
// and are sorted as their comments say, so equal ledgers give equal
// snapshots.
type Snapshot struct {
	// SchemaVersion is the ledger schema version the snapshot was read from.
	SchemaVersion int `json:"schema_version"`
	// TakenAt is when the snapshot was read (the ledger's clock).
	TakenAt time.Time `json:"taken_at"`
	// Campaign names the campaign; its Name is empty before SetCampaign.
	Campaign Campaign `json:"campaign"`
	// Repos are the repositories with everything recorded about each, by full name.
	Repos []RepoState `json:"repos"`
	// Waves are the planned waves with their members, by number.
	Waves []Wave `json:"waves"`
	// Tokens are the npm tokens known to the campaign, revoked or not, by key.
	Tokens []Token `json:"tokens"`
	// Revocations are the npm tokens cutover revoked, oldest first.
	Revocations []Revocation `json:"revocations"`
	// OrgSecrets are the organisation secrets recorded, by name.
	OrgSecrets []Secret `json:"org_secrets"`
	// ScheduleRuns are the scheduler's runs, oldest first.
	ScheduleRuns []ScheduleRun `json:"schedule_runs"`
	// Events is the whole event log, oldest first.
	Events []Event `json:"events"`
}

// RepoState is one repository with the latest of everything recorded about it.
type RepoState struct {
	// Repo is the repository as inventory saw it, with its classification.
	Repo Repo `json:"repo"`
	// Wave is the number of the wave the repository belongs to; nil when unplanned.
	Wave *int `json:"wave,omitempty"`
	// Packages are the repository's packages and their trust settings, by name.
	Packages []Package `json:"packages"`
	// Step is the outcome of the last engine step run on it; nil when none ran.
	Step *Step `json:"step,omitempty"`
	// Change is its campaign branch and pull request; nil before apply pushed.
	Change *Change `json:"change,omitempty"`
	// Flags are the variables cutover set on it, by variable name.
	Flags []Flag `json:"flags"`
	// Verifications are its canary verifications, oldest first.
	Verifications []Verification `json:"verifications"`
	// Tokens are the npm tokens recorded for it, by key.
	Tokens []Token `json:"tokens"`
	// Revocations are the revocations of tokens recorded for it, oldest first.
	Revocations []Revocation `json:"revocations"`
	// Secrets are its repository and environment secrets, deleted or not,
	// by scope, environment and name.
	Secrets []Secret `json:"secrets"`
	// Reminders are its reminder issues, by topic.
	Reminders []Reminder `json:"reminders"`
}

// Snapshot reads everything reports need in one read transaction.
func (l *Ledger) Snapshot(ctx context.Context) (*Snapshot, error) {
	s := &Snapshot{SchemaVersion: l.version, TakenAt: l.now().UTC()}
	err := l.read(ctx, "read ledger snapshot", func(r *reader) error {
		var err error
		if s.Campaign, err = readCampaign(r); err != nil {
			return err
		}
		repos, err := collect(r, scanRepo, `SELECT `+repoColumns+` FROM repos ORDER BY full_name`)
		if err != nil {
			return err
		}
		s.Repos = make([]RepoState, len(repos))
		idx := make(map[string]*RepoState, len(repos))
		for i, repo := range repos {
			s.Repos[i] = RepoState{Repo: repo, Packages: []Package{}, Flags: []Flag{},
				Verifications: []Verification{}, Tokens: []Token{}, Revocations: []Revocation{},
				Secrets: []Secret{}, Reminders: []Reminder{}}
			idx[repo.FullName] = &s.Repos[i]
		}
		// each adds rows of one table to their repositories.
		each := func(repo string, add func(*RepoState)) {
			if rs := idx[repo]; rs != nil {
				add(rs)
			}
		}

		if s.Waves, err = readWaves(r); err != nil {
			return err
		}
		for _, w := range s.Waves {
			for _, m := range w.Members {
				each(m, func(rs *RepoState) { rs.Wave = &w.Number })
			}
		}
		pkgs, err := collect(r, scanPackage, `SELECT `+packageColumns+` FROM packages ORDER BY repo, name`)
		if err != nil {
			return err
		}
		for _, p := range pkgs {
			each(p.Repo, func(rs *RepoState) { rs.Packages = append(rs.Packages, p) })
		}
		steps, err := collect(r, scanStep, `SELECT `+stepColumns+` FROM steps`)
		if err != nil {
			return err
		}
		for _, st := range steps {
			each(st.Repo, func(rs *RepoState) { rs.Step = &st })
		}
		changes, err := collect(r, scanChange, `SELECT `+changeColumns+` FROM changes`)
		if err != nil {
			return err
		}
		for _, c := range changes {
			each(c.Repo, func(rs *RepoState) { rs.Change = &c })
		}
		flags, err := collect(r, scanFlag, `SELECT repo, variable, value, updated FROM flags ORDER BY repo, variable`)
		if err != nil {
			return err
		}
		for _, f := range flags {
			each(f.Repo, func(rs *RepoState) { rs.Flags = append(rs.Flags, f) })
		}
		vs, err := collect(r, scanVerification, `SELECT `+verificationColumns+` FROM verifications ORDER BY id`)
		if err != nil {
			return err
		}
		for _, v := range vs {
			each(v.Repo, func(rs *RepoState) { rs.Verifications = append(rs.Verifications, v) })
		}
		if s.Tokens, err = collect(r, scanToken, `SELECT `+tokenColumns+` FROM tokens ORDER BY key`); err != nil {
			return err
		}
		for _, tok := range s.Tokens {
			each(tok.Repo, func(rs *RepoState) { rs.Tokens = append(rs.Tokens, tok) })
		}
		if s.Revocations, err = collect(r, scanRevocation, `SELECT `+revocationColumns+`
			FROM revocations v JOIN tokens k ON k.key = v.key ORDER BY v.revoked_at, v.key`); err != nil {
			return err
		}
		for _, v := range s.Revocations {
			each(v.Repo, func(rs *RepoState) { rs.Revocations = append(rs.Revocations, v) })
		}
		secrets, err := collect(r, scanSecret, `SELECT `+secretColumns+` FROM secrets
			ORDER BY ifnull(repo, ''), scope, environment, name`)
		if err != nil {
			return err
		}
		s.OrgSecrets = []Secret{}
		for _, sec := range secrets {
			if sec.Scope == ScopeOrg {
				s.OrgSecrets = append(s.OrgSecrets, sec)
				continue
			}
			each(sec.Repo, func(rs *RepoState) { rs.Secrets = append(rs.Secrets, sec) })
		}
		reminders, err := collect(r, scanReminder, `SELECT `+reminderColumns+` FROM reminders ORDER BY repo, topic`)
		if err != nil {
			return err
		}
		for _, rem := range reminders {
			each(rem.Repo, func(rs *RepoState) { rs.Reminders = append(rs.Reminders, rem) })
		}
		if s.ScheduleRuns, err = collect(r, scanRun, `SELECT `+runColumns+` FROM schedule_runs ORDER BY id`); err != nil {
			return err
		}
		s.Events, err = collect(r, scanEvent, `SELECT `+eventColumns+` FROM events ORDER BY id`)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}
