package reports

import (
	"time"

	"github.com/cutover/cutover/internal/logging"
)

// Schema names the version of the JSON report document.
const Schema = "cutover.report/v1"

// Repository states, in campaign order. Every repository is in exactly one.
const (
	// StateNotPublishing is a repository detection found no npm publishing in.
	StateNotPublishing = "not-publishing"
	// StateInventoried is a publishing (or not yet classified) repository in no wave.
	StateInventoried = "inventoried"
	// StatePlanned is a repository in a wave without a campaign branch yet.
	StatePlanned = "planned"
	// StatePROpen is a repository whose campaign pull request is open.
	StatePROpen = "pr-open"
	// StateMerged is a repository whose campaign pull request is merged and
	// whose flag is not on yet.
	StateMerged = "merged"
	// StateFlagOn is a repository publishing through OIDC (flag on, or
	// already migrated) without a verified canary yet.
	StateFlagOn = "flag-on"
	// StateVerified is a repository with a verified canary whose token or
	// token secrets are not all gone yet.
	StateVerified = "verified"
	// StateBridged is a repository on the token-bridge path whose pull
	// request is merged: a token remains by design, confined to the publish step.
	StateBridged = "bridged"
	// StateDone is a repository publishing through OIDC, verified, with no
	// npm token or token secret left.
	StateDone = "done"
	// StateBlocked is a repository whose last step failed, whose pull
	// request was closed unmerged, or whose last canary verification failed.
	StateBlocked = "blocked"
)

// States returns every repository state in campaign order.
func States() []string {
	return []string{StateNotPublishing, StateInventoried, StatePlanned, StatePROpen, StateMerged,
		StateFlagOn, StateVerified, StateBridged, StateDone, StateBlocked}
}

// Paths a repository takes to trusted publishing.
const (
	// PathOIDC is the oidc playbook: trusted publishing behind the flag, then cleanup.
	PathOIDC = "oidc"
	// PathTokenBridge is the token-bridge playbook: the token stays, confined
	// to the publish step, where OIDC cannot be used (self-hosted runners).
	PathTokenBridge = "token-bridge"
	// PathUndecided is a repository not classified yet.
	PathUndecided = "undecided"
	// PathNone is a repository that does not publish to npm.
	PathNone = "none"
)

// Post-check statuses.
const (
	// CheckPass means the check holds.
	CheckPass = "pass"
	// CheckFail means the check failed and needs attention.
	CheckFail = "fail"
	// CheckPending means the campaign has not got there yet.
	CheckPending = "pending"
	// CheckSkipped means the check does not apply to the repository.
	CheckSkipped = "skipped"
)

// Meta is what a report needs besides the ledger snapshot. The zero value
// is usable: it gives a report without links generated at the snapshot's time.
type Meta struct {
	// GeneratedAt is when the report was generated; the snapshot's TakenAt when zero.
	GeneratedAt time.Time
	// ToolVersion is cutover's version; "(devel)" when empty.
	ToolVersion string
	// Campaign overrides the campaign name recorded in the ledger when not empty.
	Campaign string
	// ConfigDigest overrides the config digest recorded in the ledger when not empty.
	ConfigDigest string
	// FlagVariable is the repository variable that switches OIDC on;
	// CUTOVER_NPM_OIDC when empty.
	FlagVariable string
	// HTMLURL is where the HTML report is published, linked from the
	// Markdown summary; "report.html" when empty.
	HTMLURL string
	// PackageURL is the base URL of the npm website's package pages (such as
	// "https://npm-registry.invalid/package/"); package and trusted-publisher
	// links are left out when empty.
	PackageURL string
	// Redactor removes secret values from every string taken from the
	// ledger; nil redacts the token patterns only.
	Redactor *logging.Redactor
	// Sandbox says the campaign ran against a sandbox forge (cutover demo
	// or sandbox serve), whose links no longer work once it stops. A
	// report also counts as a sandbox one when its pull requests live on a
	// loopback address.
	Sandbox bool
}

// Report is a campaign report: the model the JSON document marshals as it
// is and the HTML page and Markdown summary are rendered from.
type Report struct {
	// Schema is always Schema ("cutover.report/v1").
	Schema string `json:"schema"`
	// Campaign names the campaign and says how the report was made.
	Campaign Campaign `json:"campaign"`
	// Summary holds the campaign's counts.
	Summary Summary `json:"summary"`
	// Waves are the planned waves, by number.
	Waves []Wave `json:"waves"`
	// Repos are the per-repository cutover cards, by full name.
	Repos []Card `json:"repos"`
	// RevokedTokens are the npm tokens cutover revoked, oldest first.
	RevokedTokens []Revocation `json:"revoked_tokens"`
	// VerifiedCanaries are the latest passing canary verification of each
	// package, by repository and package.
	VerifiedCanaries []Canary `json:"verified_canaries"`
	// Failures are the blocked repositories grouped by reason, largest group first.
	Failures []FailureGroup `json:"failures"`
	// Burndown is the number of unfinished repositories over time, from the event log.
	Burndown []BurndownPoint `json:"burndown"`

	// red redacts the rendered outputs once more.
	red *logging.Redactor
}

// Campaign names the campaign and says how the report was made.
type Campaign struct {
	// Name is the campaign's name.
	Name string `json:"name"`
	// ConfigDigest is a digest of the config the campaign last ran with.
	ConfigDigest string `json:"config_digest,omitempty"`
	// Created is when the campaign was first recorded.
	Created time.Time `json:"created,omitzero"`
	// GeneratedAt is when the report was generated.
	GeneratedAt time.Time `json:"generated_at"`
	// SnapshotAt is when the ledger was read.
	SnapshotAt time.Time `json:"snapshot_at"`
	// ToolVersion is the version of cutover that generated the report.
	ToolVersion string `json:"tool_version"`
	// LedgerSchema is the schema version of the ledger read.
	LedgerSchema int `json:"ledger_schema"`
	// FlagVariable is the repository variable that switches OIDC on.
	FlagVariable string `json:"flag_variable"`
	// ReportURL is where the HTML report is published, if known.
	ReportURL string `json:"report_url,omitempty"`
	// Sandbox is true when the campaign ran against a sandbox forge: its
	// pull request links point at a server that no longer runs.
	Sandbox bool `json:"sandbox,omitempty"`
}

// Summary holds the campaign's counts.
type Summary struct {
	// Repos counts every repository in the ledger.
	Repos int `json:"repos"`
	// InScope counts the repositories that publish to npm or are not classified yet.
	InScope int `json:"in_scope"`
	// Finished counts the in-scope repositories that are done or bridged.
	Finished int `json:"finished"`
	// ProgressPercent is Finished over InScope in percent, to one decimal.
	ProgressPercent float64 `json:"progress_percent"`
	// Blocked counts the blocked repositories.
	Blocked int `json:"blocked"`
	// ByState counts the repositories in each state; every state is present.
	ByState map[string]int `json:"by_state"`
	// ByPath counts the repositories on each path; every path is present.
	ByPath map[string]int `json:"by_path"`
	// Packages counts the publishable packages.
	Packages int `json:"packages"`
	// TrustConfigured counts the publishable packages whose trusted publisher is configured.
	TrustConfigured int `json:"trust_configured"`
	// PROpen counts the open campaign pull requests.
	PROpen int `json:"prs_open"`
	// PRMerged counts the merged campaign pull requests.
	PRMerged int `json:"prs_merged"`
	// FlagOn counts the repositories whose flag is on.
	FlagOn int `json:"flags_on"`
	// CanariesVerified counts the packages whose latest canary verification passed.
	CanariesVerified int `json:"canaries_verified"`
	// PackagesLockedDown counts the packages cutover lockdown set to
	// "require two-factor authentication and disallow tokens".
	PackagesLockedDown int `json:"packages_locked_down"`
	// TokensRevoked counts the npm tokens cutover revoked.
	TokensRevoked int `json:"tokens_revoked"`
	// TokensRemaining counts the npm tokens known and not revoked.
	TokensRemaining int `json:"tokens_remaining"`
	// SecretsDeleted counts the token secrets cutover deleted.
	SecretsDeleted int `json:"secrets_deleted"`
	// SecretsRemaining counts the token secrets (repository, environment
	// and organisation) that still exist.
	SecretsRemaining int `json:"secrets_remaining"`
}

// Gate is what a wave must meet before the next one starts.
type Gate struct {
	// Require lists the conditions: checks, merged, verified.
	Require []string `json:"require"`
	// MaxFailureRatio is the largest share of failed repositories tolerated (0 to 1).
	MaxFailureRatio float64 `json:"max_failure_ratio"`
}

// Wave is one wave of the plan with its members' progress.
type Wave struct {
	// Number orders the waves, from 0 (the canaries).
	Number int `json:"number"`
	// Name is a label for people.
	Name string `json:"name,omitempty"`
	// State is planned, running, gated or done.
	State string `json:"state"`
	// Gate is what the wave must meet.
	Gate Gate `json:"gate"`
	// Started is when the wave left planned.
	Started time.Time `json:"started,omitzero"`
	// Finished is when the wave met its gate.
	Finished time.Time `json:"finished,omitzero"`
	// Members are the wave's repositories, in plan order.
	Members []string `json:"members"`
	// ByState counts the members in each state; every state is present.
	ByState map[string]int `json:"by_state"`
	// ProgressPercent is the share of members done or bridged, in percent.
	ProgressPercent float64 `json:"progress_percent"`
}

// Card is one repository's cutover card: everything a person needs to
// know about its migration on one page.
type Card struct {
	// Repo is the repository's full name, "owner/name".
	Repo string `json:"repo"`
	// Wave is the number of the repository's wave; null when unplanned.
	Wave *int `json:"wave"`
	// State is one of the repository states (see States).
	State string `json:"state"`
	// Stage is the furthest state reached, blocked or not (never blocked).
	Stage string `json:"stage"`
	// Blocked says why the repository is blocked; absent when it is not.
	Blocked *Blocker `json:"blocked,omitempty"`
	// Owner is who answers for the repository (CODEOWNERS or config).
	Owner string `json:"owner,omitempty"`
	// Visibility is public, private or internal.
	Visibility string `json:"visibility,omitempty"`
	// DefaultBranch is the branch changes are based on.
	DefaultBranch string `json:"default_branch,omitempty"`
	// Path is oidc, token-bridge, undecided or none.
	Path string `json:"path"`
	// Credential is the least migrated credential detection found
	// (token, token+provenance, oidc or none).
	Credential string `json:"credential,omitempty"`
	// Packages are the repository's packages, by name.
	Packages []PackageScope `json:"packages"`
	// Token describes the npm token that remains; absent when none does.
	Token *TokenDetails `json:"token,omitempty"`
	// PR is the campaign pull request; absent before apply pushed.
	PR *PR `json:"pr,omitempty"`
	// Flag is the state of the OIDC flag variable.
	Flag Flag `json:"flag"`
	// TrustedPublishers are the trusted-publisher settings each publishable package needs.
	TrustedPublishers []TrustedPublisher `json:"trusted_publishers"`
	// Canaries are the latest canary verification of each package, by package.
	Canaries []Canary `json:"canaries"`
	// LockedDown are the repository's packages whose publishing access
	// cutover lockdown set to "require two-factor authentication and
	// disallow tokens" (no token can publish them), by name.
	LockedDown []string `json:"locked_down"`
	// Revocations are the repository's npm tokens cutover revoked, oldest first.
	Revocations []Revocation `json:"revocations"`
	// SecretsDeleted are the token secrets cutover deleted.
	SecretsDeleted []Secret `json:"secrets_deleted"`
	// PostChecks is the migration checklist, in campaign order.
	PostChecks []PostCheck `json:"post_checks"`
	// Findings are what detection found, as it ordered them.
	Findings []Finding `json:"findings"`
	// ManualSteps are what a person has to do for the repository.
	ManualSteps []ManualStep `json:"manual_steps"`
	// LastStep is the last engine step run on the repository.
	LastStep *Step `json:"last_step,omitempty"`
	// LastEvent is the latest entry of the event log about the repository
	// (a pull request opened or merged, a flag set, a canary verified, a
	// token revoked…); absent when the log has none.
	LastEvent *Event `json:"last_event,omitempty"`
}

// Event is one entry of the campaign's event log.
type Event struct {
	// Kind classifies the event, such as "change.state" or "flag.set".
	Kind string `json:"kind"`
	// Message is a sentence for people.
	Message string `json:"message,omitempty"`
	// At is when the event was appended.
	At time.Time `json:"at"`
}

// Blocker says why a repository is blocked.
type Blocker struct {
	// Reason is a short, stable cause, shared by repositories blocked alike.
	Reason string `json:"reason"`
	// Hint says what a person can do.
	Hint string `json:"hint,omitempty"`
	// Detail is the full error, shortened.
	Detail string `json:"detail,omitempty"`
	// Step is the engine step that failed, if one did.
	Step string `json:"step,omitempty"`
	// Since is when the repository became blocked.
	Since time.Time `json:"since,omitzero"`
}

// PackageScope is one package of a repository.
type PackageScope struct {
	// Name is the package name.
	Name string `json:"name"`
	// Dir is its directory ("." for the repository root).
	Dir string `json:"dir"`
	// Private is true for a package never published.
	Private bool `json:"private"`
	// Publishable is true when trusted publishing applies to it.
	Publishable bool `json:"publishable"`
	// Access is publishConfig.access, if set.
	Access string `json:"access,omitempty"`
	// URL links the package's page, when Meta.PackageURL is set.
	URL string `json:"url,omitempty"`
}

// TokenDetails describes the npm token a repository still publishes with
// or still holds. It never holds a token value.
type TokenDetails struct {
	// Secrets are the token secrets that still exist.
	Secrets []Secret `json:"secrets"`
	// Feeds are where the workflows hand a token to a publish.
	Feeds []Feed `json:"feeds"`
	// Tokens are the npm tokens recorded for the repository and not revoked.
	Tokens []TokenInfo `json:"tokens"`
}

// Secret is a CI secret that carries or carried an npm token; its value is never known.
type Secret struct {
	// Name is the secret's name, such as NPM_TOKEN.
	Name string `json:"name"`
	// Scope is repo, env or org.
	Scope string `json:"scope"`
	// Environment names the environment of an env secret.
	Environment string `json:"environment,omitempty"`
	// UpdatedAt is when the secret's value was last rotated, if known.
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	// DeletedAt is when cutover deleted the secret.
	DeletedAt time.Time `json:"deleted_at,omitzero"`
	// DeletedBy says who or what deleted it.
	DeletedBy string `json:"deleted_by,omitempty"`
}

// Feed is one place where a workflow hands a stored token to a publish.
type Feed struct {
	// File is the workflow file.
	File string `json:"file"`
	// Line is the line in File.
	Line int `json:"line,omitempty"`
	// Kind is env, npmrc-write, action-input, secret-pass, npmrc-file or yarnrc-file.
	Kind string `json:"kind"`
	// Name is the variable, input or key that carries the token.
	Name string `json:"name"`
	// Secret is the secret read, if any.
	Secret string `json:"secret,omitempty"`
}

// TokenInfo is an npm token known by its key and display prefix, never by value.
type TokenInfo struct {
	// Key is the key npm revokes the token by, whole: it identifies the
	// token and is not a secret.
	Key string `json:"key,omitempty"`
	// KeyPrefix is the start of the key npm revokes the token by.
	KeyPrefix string `json:"key_prefix"`
	// Prefix is the start of the token as npm displays it.
	Prefix string `json:"prefix,omitempty"`
	// Name is the token's name or description.
	Name string `json:"name,omitempty"`
	// Created is when npm created the token, if known.
	Created time.Time `json:"created,omitzero"`
	// Expires is when the token expires; absent when it does not or is unknown.
	Expires time.Time `json:"expires,omitzero"`
	// Bypass2FA says whether the token bypasses 2FA; absent when unknown.
	Bypass2FA *bool `json:"bypass_2fa,omitempty"`
	// Readonly is true for a read-only token.
	Readonly bool `json:"readonly"`
	// CIDR lists the address ranges the token is limited to.
	CIDR []string `json:"cidr"`
}

// PR is a repository's campaign pull request.
type PR struct {
	// Number is the pull request's number; 0 when only the branch is pushed.
	Number int `json:"number"`
	// URL is the pull request's web address.
	URL string `json:"url,omitempty"`
	// Title is the pull request's title.
	Title string `json:"title,omitempty"`
	// State is open, merged or closed.
	State string `json:"state"`
	// Draft is true for a draft.
	Draft bool `json:"draft"`
	// Checks is success, failure, pending or none.
	Checks string `json:"checks"`
	// Mergeable is "", "yes" or "no".
	Mergeable string `json:"mergeable,omitempty"`
	// Branch is the campaign branch.
	Branch string `json:"branch"`
	// Base is the branch the pull request targets.
	Base string `json:"base,omitempty"`
	// Playbook is the rewrite applied: oidc, token-bridge or cleanup.
	Playbook string `json:"playbook,omitempty"`
	// Updated is when the pull request was last recorded.
	Updated time.Time `json:"updated,omitzero"`
}

// Flag is the state of a repository's OIDC flag variable.
type Flag struct {
	// Variable is the variable's name.
	Variable string `json:"variable"`
	// State is on, off or unset.
	State string `json:"state"`
	// Value is the variable's value as cutover set it.
	Value string `json:"value,omitempty"`
	// Updated is when cutover set it.
	Updated time.Time `json:"updated,omitzero"`
}

// TrustedPublisher is the npm trusted-publisher setting one package needs
// and what the registry was last found to hold.
type TrustedPublisher struct {
	// Package is the package name.
	Package string `json:"package"`
	// Repository is the repository the trusted publisher must name.
	Repository string `json:"repository,omitempty"`
	// Workflow is the workflow file name it must name.
	Workflow string `json:"workflow,omitempty"`
	// Environment is the GitHub environment it must name; empty for none.
	Environment string `json:"environment,omitempty"`
	// State is unknown, missing, configured, mismatch or unpublished.
	State string `json:"state"`
	// Detail explains the state.
	Detail string `json:"detail,omitempty"`
	// Checked is when the registry was last asked.
	Checked time.Time `json:"checked,omitzero"`
	// SettingsURL links the package's trusted-publisher settings, when Meta.PackageURL is set.
	SettingsURL string `json:"settings_url,omitempty"`
}

// Canary is a canary verification of one package version.
type Canary struct {
	// Repo is the repository's full name.
	Repo string `json:"repo"`
	// Package is the package name.
	Package string `json:"package"`
	// Version is the canary version.
	Version string `json:"version"`
	// Tag is the dist-tag it was published under, if any.
	Tag string `json:"tag,omitempty"`
	// Passed is true when every check passed.
	Passed bool `json:"passed"`
	// ChecksPassed counts the checks that passed or did not apply.
	ChecksPassed int `json:"checks_passed"`
	// ChecksTotal counts the checks run.
	ChecksTotal int `json:"checks_total"`
	// Checks are every check's outcome, in the order they ran.
	Checks []CanaryCheck `json:"checks"`
	// VerifiedAt is when the verification ran.
	VerifiedAt time.Time `json:"verified_at"`
	// URL links the package's page, when Meta.PackageURL is set.
	URL string `json:"url,omitempty"`
}

// CanaryCheck is one check of a canary verification.
type CanaryCheck struct {
	// Name identifies the check, such as provenance.
	Name string `json:"name"`
	// OK is true when the check passed or did not apply.
	OK bool `json:"ok"`
	// Skipped is true when the check did not apply.
	Skipped bool `json:"skipped"`
	// Message says what was found.
	Message string `json:"message,omitempty"`
}

// Revocation is one npm token cutover revoked, known by its key and the
// prefix npm displays, never by value.
type Revocation struct {
	// Key is the revoked token's key, whole: it identifies the token and
	// is not a secret.
	Key string `json:"key,omitempty"`
	// KeyPrefix is the start of the revoked token's key.
	KeyPrefix string `json:"key_prefix"`
	// Prefix is the start of the token as npm displays it.
	Prefix string `json:"prefix,omitempty"`
	// Name is the token's name.
	Name string `json:"name,omitempty"`
	// Repo is the repository the token was recorded for, if any.
	Repo string `json:"repo,omitempty"`
	// RevokedAt is when npm accepted the revocation.
	RevokedAt time.Time `json:"revoked_at"`
	// By says who or what revoked it.
	By string `json:"by,omitempty"`
}

// PostCheck is one item of a repository's migration checklist.
type PostCheck struct {
	// Name says what is checked, such as "canary verified".
	Name string `json:"name"`
	// Status is pass, fail, pending or skipped.
	Status string `json:"status"`
	// Detail says what was found.
	Detail string `json:"detail,omitempty"`
}

// Finding is a risk, blocker or note detection found in a repository.
type Finding struct {
	// Severity is error, warning or note.
	Severity string `json:"severity"`
	// Code identifies the kind of finding.
	Code string `json:"code"`
	// File is the file the finding is about.
	File string `json:"file,omitempty"`
	// Line is the line in File.
	Line int `json:"line,omitempty"`
	// Message says what was found.
	Message string `json:"message"`
}

// ManualStep is something a person has to do for a repository.
type ManualStep struct {
	// Text says what to do.
	Text string `json:"text"`
	// URL links where to do it, if anywhere.
	URL string `json:"url,omitempty"`
}

// Step is the outcome of the last engine step run on a repository.
type Step struct {
	// Name is the step, such as apply or verify.
	Name string `json:"name"`
	// Outcome is ok, skipped or failed.
	Outcome string `json:"outcome"`
	// Reason is a short cause of a skip or failure.
	Reason string `json:"reason,omitempty"`
	// Hint says what a person can do about a failure.
	Hint string `json:"hint,omitempty"`
	// Attempts counts consecutive runs of the step.
	Attempts int `json:"attempts"`
	// At is when the outcome was recorded.
	At time.Time `json:"at"`
}

// FailureGroup is the blocked repositories that share a reason.
type FailureGroup struct {
	// Reason is the shared cause.
	Reason string `json:"reason"`
	// Hint says what a person can do; the first hint recorded in the group.
	Hint string `json:"hint,omitempty"`
	// Count is len(Repos).
	Count int `json:"count"`
	// Repos are the blocked repositories, by full name.
	Repos []FailedRepo `json:"repos"`
}

// FailedRepo is one blocked repository of a failure group.
type FailedRepo struct {
	// Repo is the repository's full name.
	Repo string `json:"repo"`
	// Step is the engine step that failed, if one did.
	Step string `json:"step,omitempty"`
	// Detail is the full error, shortened.
	Detail string `json:"detail,omitempty"`
	// Since is when it became blocked.
	Since time.Time `json:"since,omitzero"`
}

// BurndownPoint is the campaign's progress at one moment.
type BurndownPoint struct {
	// At is the moment.
	At time.Time `json:"at"`
	// Remaining counts the in-scope repositories not finished at At.
	Remaining int `json:"remaining"`
	// InProgress counts the unfinished repositories with a campaign change at At.
	InProgress int `json:"in_progress"`
	// Finished counts the repositories done or bridged at At.
	Finished int `json:"finished"`
}
