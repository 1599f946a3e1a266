package ledger

import "time"

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
