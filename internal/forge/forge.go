// Package forge defines what the campaign engine needs from a code host:
// list repositories, read the files detection needs, push a campaign branch,
// open pull requests, flip the feature-flag variable, manage secrets and
// reminder issues. The GitHub implementation lives in forge/github.
package forge

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Repo is one repository of the portfolio.
type Repo struct {
	// FullName is "owner/name".
	FullName      string `json:"full_name"`
	ID            int64  `json:"id"`
	DefaultBranch string `json:"default_branch"`
	// Visibility is public, private or internal.
	Visibility string   `json:"visibility"`
	CloneURL   string   `json:"clone_url"`
	Archived   bool     `json:"archived,omitempty"`
	Fork       bool     `json:"fork,omitempty"`
	Topics     []string `json:"topics,omitempty"`
}

// ListOptions filter the portfolio. The zero value lists every
// repository that is neither archived nor a fork.
type ListOptions struct {
	// Include keeps only repositories whose name or full name matches one
	// of these globs (path.Match syntax); empty keeps all.
	Include []string
	// Exclude drops repositories matching one of these globs.
	Exclude []string
	// Topics keeps only repositories with at least one of these topics.
	Topics []string
	// Archived includes archived repositories.
	Archived bool
	// Forks includes forks.
	Forks bool
	// Visibility keeps only public, private or internal repositories; empty keeps all.
	Visibility string
}

// Snapshot is the set of files detection reads, at one commit.
type Snapshot struct {
	// Commit is the SHA of the default branch head the files were read at.
	Commit string
	// Files maps paths to bytes; Problems lists files not read, with why.
	Files    map[string][]byte
	Problems map[string]string
}

// Author signs campaign commits.
type Author struct {
	Name  string
	Email string
}

// Change is a set of edited files to push to a campaign branch.
type Change struct {
	// Branch is the campaign branch, for example "cutover/npm-oidc".
	Branch string
	// Base is the branch the change starts from (the default branch).
	Base string
	// Files are the full new contents of the edited files.
	Files   map[string][]byte
	Message string
	Author  Author
	// LastPushed is the SHA cutover last pushed to Branch, from the ledger;
	// empty when it never pushed. A remote branch at any other SHA was
	// changed by someone else and is left alone.
	LastPushed string
}

// PushResult says what a push did.
type PushResult struct {
	// SHA is the head of the campaign branch after the push.
	SHA string
	// Unchanged is true when the branch already held exactly these files.
	Unchanged bool
}

// ErrForeignBranch is returned (wrapped) when the campaign branch exists
// and was not last pushed by cutover.
var ErrForeignBranch = errors.New("campaign branch was changed by someone else")

// ErrPermission is returned (wrapped) when the identity lacks a permission;
// the message names it.
var ErrPermission = errors.New("missing permission")

// PRSpec describes the pull request a change should have.
type PRSpec struct {
	Head, Base, Title, Body string
	Draft                   bool
	Labels                  []string
	Reviewers               []string
	TeamReviewers           []string
	Assignees               []string
}

// PR is a pull request's state as the forge reports it.
type PR struct {
	Number  int    `json:"number"`
	URL     string `json:"url"`
	State   string `json:"state"` // open, closed or merged
	Draft   bool   `json:"draft,omitempty"`
	HeadSHA string `json:"head_sha"`
	// Mergeable is "", "yes" or "no" (GitHub computes it lazily).
	Mergeable string `json:"mergeable,omitempty"`
	// Checks is success, failure, pending or none.
	Checks string `json:"checks"`
}

// Secret is an Actions secret (its name and dates only: values are never
// readable).
type Secret struct {
	Name string `json:"name"`
	// Scope is repo, env or org.
	Scope string `json:"scope"`
	// Environment names the environment for env-scoped secrets.
	Environment string    `json:"environment,omitempty"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// IssueSpec describes a reminder issue, found again by Marker (a hidden
// HTML comment kept in its body).
type IssueSpec struct {
	Marker string
	Title  string
	Body   string
	Labels []string
}

// Issue is an issue's state.
type Issue struct {
	Number int    `json:"number"`
	URL    string `json:"url"`
	State  string `json:"state"`
}

// Forge is a code host as the campaign engine uses it. Implementations are
// safe for concurrent use and handle rate limits and retries themselves.
type Forge interface {
	// Repos lists the organisation's repositories after filtering.
	Repos(ctx context.Context, org string, opts ListOptions) ([]Repo, error)
	// Snapshot reads, from the default branch head, the files for which
	// relevant returns true, without cloning. Unchanged reports whether the
	// head is still knownCommit (then Files is nil).
	Snapshot(ctx context.Context, repo Repo, knownCommit string, relevant func(path string) bool) (snap Snapshot, unchanged bool, err error)
	// Push commits the change on top of the base branch and pushes the
	// campaign branch. It refuses (ErrForeignBranch) to replace a branch
	// cutover did not push last.
	Push(ctx context.Context, repo Repo, ch Change) (PushResult, error)
	// EnsurePR finds the open pull request for spec.Head or creates it, and
	// brings its title, body, draft state, labels, reviewers and assignees
	// to spec. It never opens a second pull request for the same head.
	// An error after the pull request exists comes with its number and
	// URL, so that the caller can record it.
	EnsurePR(ctx context.Context, repo Repo, spec PRSpec) (PR, error)
	// PR reads a pull request's state, mergeability and checks.
	PR(ctx context.Context, repo Repo, number int) (PR, error)
	// Variable reads a repository Actions variable; ok is false when unset.
	Variable(ctx context.Context, repo Repo, name string) (value string, ok bool, err error)
	// SetVariable creates or updates a repository Actions variable.
	SetVariable(ctx context.Context, repo Repo, name, value string) error
	// Secrets lists the repository's, its environments' and the
	// organisation's Actions secrets visible to it.
	Secrets(ctx context.Context, repo Repo) ([]Secret, error)
	// DeleteSecret deletes one secret.
	DeleteSecret(ctx context.Context, repo Repo, s Secret) error
	// EnsureIssue opens the issue carrying spec.Marker or updates it; a
	// closed one is reopened.
	EnsureIssue(ctx context.Context, repo Repo, spec IssueSpec) (Issue, error)
	// CloseIssue closes the issue carrying marker with a comment, if open.
	CloseIssue(ctx context.Context, repo Repo, marker, comment string) error
	// MergePR merges an open pull request with method (merge, squash or
	// rebase; empty means merge), only while its head is still sha when sha
	// is given. Merging one already merged is not an error. A merge the
	// forge refuses (branch protection, conflicts, a moved head) wraps
	// ErrMergeRefused and says why; it is never forced.
	MergePR(ctx context.Context, repo Repo, number int, method, sha string) error
	// Runs lists the repository's workflow runs created at or after since,
	// newest first.
	Runs(ctx context.Context, repo Repo, since time.Time) ([]Run, error)
	// CommitChecks reads what CI reported on a commit (ref is a branch,
	// tag or SHA): the latest commit status of each context and the latest
	// check run of each name. Other CI providers report there: CircleCI
	// posts a status "ci/circleci: JOB" per job (or, through its GitHub
	// App, a check run named JOB).
	CommitChecks(ctx context.Context, repo Repo, ref string) ([]CommitCheck, error)
	// Commits lists the SHAs of at most limit commits of ref (a branch, tag
	// or SHA) committed at or after since, newest first.
	Commits(ctx context.Context, repo Repo, ref string, since time.Time, limit int) ([]string, error)
}

// ErrMergeRefused is returned (wrapped) when the forge refuses to merge a
// pull request: branch protection, a conflict, or a head that moved.
var ErrMergeRefused = errors.New("merge refused")

// Run is one workflow run.
type Run struct {
	ID int64 `json:"id"`
	// Workflow is the workflow file's path, ".github/workflows/release.yml".
	Workflow string `json:"workflow"`
	// Event is what triggered it (push, release, workflow_dispatch, …).
	Event   string `json:"event,omitempty"`
	Branch  string `json:"branch,omitempty"`
	HeadSHA string `json:"head_sha,omitempty"`
	// Status is queued, in_progress or completed.
	Status string `json:"status"`
	// Conclusion is success, failure, cancelled, … once completed.
	Conclusion string    `json:"conclusion,omitempty"`
	Created    time.Time `json:"created"`
	URL        string    `json:"url,omitempty"`
}

// Kinds of a CommitCheck.
const (
	CheckStatus = "status"
	CheckRun    = "check_run"
)

// CommitCheck is one commit status, or one check run, on a commit.
type CommitCheck struct {
	// Kind is CheckStatus or CheckRun.
	Kind string `json:"kind"`
	// Name is the status's context ("ci/circleci: publish") or the check
	// run's name.
	Name string `json:"name"`
	// App is the slug of the GitHub App that made a check run
	// ("circleci-checks"); empty for a status.
	App string `json:"app,omitempty"`
	// State is success, failure or pending: a status's error and a check
	// run's failure, timed_out, cancelled, action_required and
	// startup_failure are failure; neutral and skipped are success; a check
	// run not completed is pending.
	State string `json:"state"`
	// Raw is the state or conclusion as the forge gave it.
	Raw string `json:"raw,omitempty"`
	// SHA is the commit; Updated is when the status was posted or the check
	// run completed (started, while it runs).
	SHA         string    `json:"sha"`
	Updated     time.Time `json:"updated"`
	Description string    `json:"description,omitempty"`
	URL         string    `json:"url,omitempty"`
}

// MarkerComment renders a hidden marker for an issue or PR body.
func MarkerComment(marker string) string {
	return fmt.Sprintf("<!-- cutover:%s -->", marker)
}

// Preflighter is implemented by forges that can check, before any write,
// that the identity holds every permission a campaign needs on a
// repository. The error wraps ErrPermission and names what is missing.
type Preflighter interface {
	Preflight(ctx context.Context, repo Repo) error
}
