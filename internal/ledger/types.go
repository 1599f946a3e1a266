package ledger

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/classdoc"
	"github.com/cutover/cutover/rewrite"
)

// The types in this file are the ledger's records as the API takes and
// returns them, and the parts of a [Snapshot]. They are plain data with JSON
// tags so that reports can marshal them as they are. Changes to them are
// additive only: reports are built on them.

// Campaign names the campaign a ledger belongs to. A ledger holds one campaign.
type Campaign struct {
	// Name is the campaign's name, from the config; empty until SetCampaign.
	Name string `json:"name"`
	// ConfigDigest is a digest of the config the campaign last ran with
	// (for example "sha256:…"), so reports can tell which config produced them.
	ConfigDigest string `json:"config_digest,omitempty"`
	// Created is when the campaign was first recorded.
	Created time.Time `json:"created"`
	// Updated is when the name or config digest was last recorded.
	Updated time.Time `json:"updated"`
}

// Repo is one repository of the portfolio as the inventory last saw it.
type Repo struct {
	// FullName is "owner/name"; it is the repository's key in the ledger.
	FullName string `json:"full_name"`
	// ID is the forge's numeric repository id (0 when unknown).
	ID int64 `json:"id,omitempty"`
	// DefaultBranch is the branch changes are based on.
	DefaultBranch string `json:"default_branch,omitempty"`
	// Visibility is public, private or internal.
	Visibility string `json:"visibility,omitempty"`
	// CloneURL is the URL the repository is cloned from.
	CloneURL string `json:"clone_url,omitempty"`
	// Owner is who answers for the repository (a team or user, from
	// CODEOWNERS or config); empty when unknown.
	Owner string `json:"owner,omitempty"`
	// Topics are the repository's topics as the forge lists them.
	Topics []string `json:"topics,omitempty"`
	// Commit is the default-branch commit the last detection read; the
	// inventory re-reads a repository only when its head moved.
	Commit string `json:"commit,omitempty"`
	// Publishes is true when detection found a pipeline publishing to npm.
	Publishes bool `json:"publishes"`
	// Credential is the least migrated credential among the pipelines
	// (token, token+provenance, oidc or none); empty before detection.
	Credential rewrite.Credential `json:"credential,omitempty"`
	// Classification is what detection found, as the ledger stores it
	// (a versioned classification document); nil before detection.
	Classification *classdoc.Doc `json:"classification,omitempty"`
	// DetectedAt is when the classification was recorded; zero before detection.
	DetectedAt time.Time `json:"detected_at,omitzero"`
	// Updated is when the repository's row last changed.
	Updated time.Time `json:"updated"`
}

// Trust states of a package's npm trusted-publisher configuration.
const (
	// TrustUnknown means the registry was not asked yet, or the settings
	// the package needs changed since it was.
	TrustUnknown = "unknown"
	// TrustMissing means the package has no trusted publisher.
	TrustMissing = "missing"
	// TrustConfigured means the trusted publisher names exactly the
	// repository, workflow and environment the package needs.
	TrustConfigured = "configured"
	// TrustMismatch means a trusted publisher exists but names something
	// else; Package.TrustDetail says what.
	TrustMismatch = "mismatch"
	// TrustUnpublished means the package does not exist on the registry
	// yet, so its first publish cannot use OIDC.
	TrustUnpublished = "unpublished"
)

// Package is one npm package of a repository with the trusted-publisher
// settings it needs and what the registry was last found to hold.
type Package struct {
	// Repo is the repository's full name.
	Repo string `json:"repo"`
	// Name is the package name, such as "@scope/name".
	Name string `json:"name"`
	// Dir is the package's directory relative to the repository root ("." for the root).
	Dir string `json:"dir"`
	// Private is package.json "private": never published.
	Private bool `json:"private,omitempty"`
	// Publishable is true when npm trusted publishing applies to the package.
	Publishable bool `json:"publishable"`
	// Access is publishConfig.access (public or restricted), if set.
	Access string `json:"access,omitempty"`
	// Registry is publishConfig.registry, if set.
	Registry string `json:"registry,omitempty"`
	// TrustRepository is the repository ("owner/name") the trusted publisher must name.
	TrustRepository string `json:"trust_repository,omitempty"`
	// TrustWorkflow is the workflow file name the trusted publisher must name.
	TrustWorkflow string `json:"trust_workflow,omitempty"`
	// TrustEnvironment is the GitHub environment the trusted publisher must
	// name; empty for none.
	TrustEnvironment string `json:"trust_environment,omitempty"`
	// TrustState is one of TrustUnknown, TrustMissing, TrustConfigured,
	// TrustMismatch or TrustUnpublished.
	TrustState string `json:"trust_state"`
	// TrustDetail explains the trust state, such as which claim differs.
	TrustDetail string `json:"trust_detail,omitempty"`
	// TrustChecked is when the trust state was last read from the
	// registry; zero when never.
	TrustChecked time.Time `json:"trust_checked,omitzero"`
}

// Wave states.
const (
	// WavePlanned means no repository of the wave was applied yet.
	WavePlanned = "planned"
	// WaveRunning means apply is working through the wave.
	WaveRunning = "running"
	// WaveGated means the wave was applied and waits for its gate.
	WaveGated = "gated"
	// WaveDone means the wave met its gate.
	WaveDone = "done"
)

// Gate conditions a wave must meet before the next one may start.
const (
	// GateChecks requires every pull request's checks to be green.
	GateChecks = "checks"
	// GateMerged requires every pull request to be merged.
	GateMerged = "merged"
	// GateVerified requires a passing canary verification per repository.
	GateVerified = "verified"
)

// Gate is what a wave must meet before the next wave may start.
type Gate struct {
	// Require lists the conditions: GateChecks, GateMerged, GateVerified.
	Require []string `json:"require,omitempty"`
	// MaxFailureRatio is the largest share of failed repositories (0 to 1)
	// the gate tolerates.
	MaxFailureRatio float64 `json:"max_failure_ratio"`
}

// Wave is one wave of the plan. Wave 0 holds the canaries.
type Wave struct {
	// Number orders the waves, from 0.
	Number int `json:"number"`
	// Name is a label for people, such as "canaries".
	Name string `json:"name,omitempty"`
	// Gate is what this wave must meet before the next one starts.
	Gate Gate `json:"gate"`
	// State is WavePlanned, WaveRunning, WaveGated or WaveDone.
	State string `json:"state"`
	// Started is when the wave left WavePlanned; zero before.
	Started time.Time `json:"started,omitzero"`
	// Finished is when the wave reached WaveDone; zero before.
	Finished time.Time `json:"finished,omitzero"`
	// Members are the full names of the wave's repositories, in plan order.
	Members []string `json:"members"`
}

// Change states: the pull request's state on the forge.
const (
	// ChangeOpen is an open pull request (or a pushed branch without one yet).
	ChangeOpen = "open"
	// ChangeMerged is a merged pull request.
	ChangeMerged = "merged"
	// ChangeClosed is a pull request closed without merging.
	ChangeClosed = "closed"
)

// Change is a repository's campaign branch and pull request.
type Change struct {
	// Repo is the repository's full name.
	Repo string `json:"repo"`
	// Branch is the campaign branch, such as "cutover/npm-oidc".
	Branch string `json:"branch"`
	// Base is the branch the pull request targets.
	Base string `json:"base,omitempty"`
	// Playbook is the rewrite applied: oidc, token-bridge or cleanup.
	Playbook string `json:"playbook,omitempty"`
	// PushedSHA is the commit cutover last pushed to Branch; empty before the push.
	PushedSHA string `json:"pushed_sha,omitempty"`
	// PRNumber is the pull request's number; 0 before it is opened.
	PRNumber int `json:"pr_number,omitempty"`
	// URL is the pull request's web address.
	URL string `json:"url,omitempty"`
	// Title is the pull request's title.
	Title string `json:"title,omitempty"`
	// State is ChangeOpen, ChangeMerged or ChangeClosed.
	State string `json:"state"`
	// Draft is true for a draft pull request.
	Draft bool `json:"draft,omitempty"`
	// Checks is success, failure, pending or none.
	Checks string `json:"checks,omitempty"`
	// Mergeable is "", "yes" or "no".
	Mergeable string `json:"mergeable,omitempty"`
	// Updated is when the change was last recorded.
	Updated time.Time `json:"updated"`
}

// Step outcomes.
const (
	// OutcomeOK means the step did what it had to.
	OutcomeOK = "ok"
	// OutcomeSkipped means the step had nothing to do; Reason says why.
	OutcomeSkipped = "skipped"
	// OutcomeFailed means the step failed; Reason and Hint say why and what to do.
	OutcomeFailed = "failed"
)

// Step is the outcome of the last engine step run on a repository; retry
// --failed redoes the repositories whose last step failed.
type Step struct {
	// Repo is the repository's full name.
	Repo string `json:"repo"`
	// Name is the step, such as inventory, apply, push, pr, trust, flag,
	// verify or revoke.
	Name string `json:"name"`
	// Outcome is OutcomeOK, OutcomeSkipped or OutcomeFailed.
	Outcome string `json:"outcome"`
	// Reason is a short, stable cause for grouping failures ("push rejected").
	Reason string `json:"reason,omitempty"`
	// Error is the full error text of a failure.
	Error string `json:"error,omitempty"`
	// Hint says what a person can do about a failure.
	Hint string `json:"hint,omitempty"`
	// Attempts counts consecutive runs of this step on the repository,
	// reset when a different step is recorded.
	Attempts int `json:"attempts"`
	// At is when the outcome was recorded.
	At time.Time `json:"at"`
}

// Flag is a repository Actions variable cutover set, such as the
// CUTOVER_NPM_OIDC feature flag.
type Flag struct {
	// Repo is the repository's full name.
	Repo string `json:"repo"`
	// Variable is the variable's name.
	Variable string `json:"variable"`
	// Value is the value set ("true" turns the OIDC path on).
	Value string `json:"value"`
	// Updated is when the value was set.
	Updated time.Time `json:"updated"`
}

// Check is one check of a canary verification.
type Check struct {
	// Name identifies the check, such as trusted-publisher or provenance.
	Name string `json:"name"`
	// OK is true when the check passed or did not apply.
	OK bool `json:"ok"`
	// Skipped is true when the check did not apply.
	Skipped bool `json:"skipped,omitempty"`
	// Message says what was found.
	Message string `json:"message"`
}

// Verification is one canary verification of a package version.
type Verification struct {
	// ID is the verification's row id, increasing in recording order.
	ID int64 `json:"id"`
	// Repo is the repository's full name.
	Repo string `json:"repo"`
	// Package is the package name.
	Package string `json:"package"`
	// Version is the canary version checked.
	Version string `json:"version"`
	// Tag is the dist-tag the canary was published under, if any.
	Tag string `json:"tag,omitempty"`
	// Checks are every check's outcome, in the order they ran.
	Checks []Check `json:"checks"`
	// Passed is true when every check passed.
	Passed bool `json:"passed"`
	// VerifiedAt is when the verification ran.
	VerifiedAt time.Time `json:"verified_at"`
}

// Token is an npm access token known to the campaign. Its value is never
// stored: Key is the id npm revokes it by and Prefix the few characters npm
// displays.
type Token struct {
	// Key is the token's key in npm's token list, used to revoke it.
	Key string `json:"key"`
	// Prefix is the start of the token as npm displays it (not a usable token).
	Prefix string `json:"prefix,omitempty"`
	// Name is the token's name or description.
	Name string `json:"name,omitempty"`
	// Created is when npm created the token; zero when unknown.
	Created time.Time `json:"created,omitzero"`
	// Expires is when the token expires; nil when it does not or is unknown.
	Expires *time.Time `json:"expires,omitempty"`
	// Readonly is true for a read-only token.
	Readonly bool `json:"readonly,omitempty"`
	// CIDR lists the address ranges the token is limited to.
	CIDR []string `json:"cidr,omitempty"`
	// Bypass2FA is whether the token bypasses 2FA; nil when unknown.
	Bypass2FA *bool `json:"bypass_2fa,omitempty"`
	// Source says where the token became known: registry, config or ledger.
	Source string `json:"source,omitempty"`
	// Repo is the repository whose publishing used the token, when known.
	Repo string `json:"repo,omitempty"`
	// Updated is when the token's row was last recorded.
	Updated time.Time `json:"updated"`
}

// Revocation records one npm token cutover revoked.
type Revocation struct {
	// Key is the revoked token's key.
	Key string `json:"key"`
	// Prefix is the revoked token's display prefix, copied from its Token.
	Prefix string `json:"prefix,omitempty"`
	// Name is the revoked token's name, copied from its Token.
	Name string `json:"name,omitempty"`
	// Repo is the repository the token was recorded for, copied from its Token.
	Repo string `json:"repo,omitempty"`
	// RevokedAt is when npm accepted the revocation.
	RevokedAt time.Time `json:"revoked_at"`
	// By says who or what revoked it (a user, or "cutover revoke").
	By string `json:"by,omitempty"`
}

// Secret scopes.
const (
	// ScopeRepo is a repository secret.
	ScopeRepo = "repo"
	// ScopeEnv is an environment secret of a repository.
	ScopeEnv = "env"
	// ScopeOrg is an organisation secret; it has no repository.
	ScopeOrg = "org"
)

// Secret is a CI secret that carries (or carried) an npm token. Only its
// name and dates are known; values are never readable.
type Secret struct {
	// Repo is the repository's full name; empty for organisation secrets.
	Repo string `json:"repo,omitempty"`
	// Scope is ScopeRepo, ScopeEnv or ScopeOrg.
	Scope string `json:"scope"`
	// Environment names the environment of a ScopeEnv secret.
	Environment string `json:"environment,omitempty"`
	// Name is the secret's name, such as NPM_TOKEN.
	Name string `json:"name"`
	// UpdatedAt is GitHub's updated_at: when the value was last rotated.
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	// Seen is when cutover last saw the secret on the forge.
	Seen time.Time `json:"seen"`
	// DeletedAt is when cutover deleted the secret; nil while it exists.
	DeletedAt *time.Time `json:"deleted_at,omitempty"`
	// DeletedBy says who or what deleted it.
	DeletedBy string `json:"deleted_by,omitempty"`
}

// Reminder states.
const (
	// ReminderOpen is a reminder whose issue is open.
	ReminderOpen = "open"
	// ReminderClosed is a reminder resolved and its issue closed.
	ReminderClosed = "closed"
)

// Reminder is the reminder issue of one repository and topic (such as
// "token-age:NPM_TOKEN"), updated rather than duplicated.
type Reminder struct {
	// Repo is the repository's full name.
	Repo string `json:"repo"`
	// Topic identifies what the reminder is about; with Repo it is the key.
	Topic string `json:"topic"`
	// IssueNumber is the reminder issue's number; 0 when none was opened
	// (dry run, or webhook only).
	IssueNumber int `json:"issue_number,omitempty"`
	// IssueURL is the reminder issue's web address.
	IssueURL string `json:"issue_url,omitempty"`
	// Level is the escalation level last sent: 0 for the first reminder,
	// higher as the deadline nears.
	Level int `json:"level"`
	// State is ReminderOpen or ReminderClosed.
	State string `json:"state"`
	// Message is the reminder's summary line as last sent.
	Message string `json:"message,omitempty"`
	// LastSent is when the reminder was last sent.
	LastSent time.Time `json:"last_sent"`
	// ClosedAt is when the reminder was resolved; nil while open.
	ClosedAt *time.Time `json:"closed_at,omitempty"`
}

// Event is one entry of the append-only event log.
type Event struct {
	// ID is the event's sequence number, increasing in append order.
	ID int64 `json:"id"`
	// Time is when the event was appended.
	Time time.Time `json:"time"`
	// Kind classifies the event, such as "flag.on", "wave.start" or "pr.opened".
	Kind string `json:"kind"`
	// Repo is the repository the event is about, if any.
	Repo string `json:"repo,omitempty"`
	// Wave is the wave the event is about, if any.
	Wave *int `json:"wave,omitempty"`
	// Message is a sentence for people.
	Message string `json:"message,omitempty"`
	// Data is a JSON document with the event's details, if any.
	Data json.RawMessage `json:"data,omitempty"`
}

// Run outcomes of a scheduled job, besides OutcomeOK, OutcomeSkipped and OutcomeFailed.
const (
	// RunRunning is a run that started and has not finished (or crashed).
	RunRunning = "running"
)

// ScheduleRun is one run of a scheduled job.
type ScheduleRun struct {
	// ID is the run's row id.
	ID int64 `json:"id"`
	// Job is the job's name from the config.
	Job string `json:"job"`
	// Owner identifies the scheduler process that ran it.
	Owner string `json:"owner,omitempty"`
	// Started is when the run started.
	Started time.Time `json:"started"`
	// Finished is when the run ended; nil while running.
	Finished *time.Time `json:"finished,omitempty"`
	// Outcome is RunRunning, OutcomeOK, OutcomeSkipped or OutcomeFailed.
	Outcome string `json:"outcome"`
	// Message says what the run did or why it failed or was skipped.
	Message string `json:"message,omitempty"`
}

// Lock is a named lease held by one owner until it expires.
type Lock struct {
	// Name is the lock's name, such as "scheduler".
	Name string `json:"name"`
	// Owner identifies the holder, such as "host:pid".
	Owner string `json:"owner"`
	// Acquired is when the current holder took the lock.
	Acquired time.Time `json:"acquired"`
	// Expires is when the lock lapses unless renewed.
	Expires time.Time `json:"expires"`
	// Host, PID and Command say which process holds the lock (the campaign
	// lock records them; the older scheduler lock left them empty).
	Host    string `json:"host,omitempty"`
	PID     int    `json:"pid,omitempty"`
	Command string `json:"command,omitempty"`
}

// Describe names the holder for a person: command, process, host and since
// when, such as `"cutover apply" (pid 4242 on build-1, since 2026-12-04T18:59:01Z)`.
func (lk Lock) Describe() string {
	since := lk.Acquired.UTC().Format(time.RFC3339)
	if lk.Command == "" {
		return fmt.Sprintf("%q (since %s)", lk.Owner, since)
	}
	return fmt.Sprintf("%q (pid %d on %s, since %s)", lk.Command, lk.PID, lk.Host, since)
}
