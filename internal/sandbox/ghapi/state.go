package ghapi

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// state is everything the emulator holds besides git data; it is what a
// snapshot saves.
type state struct {
	NextID int64                `json:"next_id"`
	Tokens map[string]*Identity `json:"tokens"`
	Owners map[string]*owner    `json:"owners"`
	Repos  map[string]*repo     `json:"repos"` // by "owner/name"
}

// owner is an organization or a user that owns repositories.
type owner struct {
	Login     string               `json:"login"`
	ID        int64                `json:"id"`
	Type      string               `json:"type"` // "Organization" or "User"
	Variables map[string]*variable `json:"variables"`
	Secrets   map[string]*secret   `json:"secrets"`
}

// repo is a repository's metadata and the state that lives beside its git data.
type repo struct {
	ID            int64     `json:"id"`
	Owner         string    `json:"owner"`
	Name          string    `json:"name"`
	Description   string    `json:"description"`
	Private       bool      `json:"private"`
	Visibility    string    `json:"visibility"`
	Fork          bool      `json:"fork"`
	Archived      bool      `json:"archived"`
	Disabled      bool      `json:"disabled"`
	IsTemplate    bool      `json:"is_template"`
	HasIssues     bool      `json:"has_issues"`
	Topics        []string  `json:"topics"`
	Language      string    `json:"language"`
	DefaultBranch string    `json:"default_branch"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	PushedAt      time.Time `json:"pushed_at"`

	NextNumber   int                     `json:"next_number"`
	Issues       map[int]*issue          `json:"issues"` // pull requests too, as on GitHub
	Comments     map[int][]*comment      `json:"comments"`
	Labels       map[string]*label       `json:"labels"`
	CheckRuns    map[string][]*checkRun  `json:"check_runs"` // by head SHA
	Statuses     map[string][]*status    `json:"statuses"`   // by SHA
	Variables    map[string]*variable    `json:"variables"`
	Secrets      map[string]*secret      `json:"secrets"`
	Environments map[string]*environment `json:"environments"`
	Runs         []*workflowRun          `json:"runs,omitempty"`
	// Protection holds the protected branches' rules, by branch.
	Protection map[string]*BranchProtection `json:"protection,omitempty"`
}

// issue is an issue or, with Pull set, a pull request.
type issue struct {
	ID          int64      `json:"id"`
	Number      int        `json:"number"`
	Title       string     `json:"title"`
	Body        string     `json:"body"`
	State       string     `json:"state"`
	StateReason string     `json:"state_reason,omitempty"`
	User        string     `json:"user"`
	Labels      []string   `json:"labels"`
	Assignees   []string   `json:"assignees"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	ClosedAt    *time.Time `json:"closed_at,omitempty"`
	Pull        *pull      `json:"pull,omitempty"`
}

// pull is what a pull request adds to an issue.
type pull struct {
	ID                  int64      `json:"id"`
	HeadOwner           string     `json:"head_owner"`
	HeadRef             string     `json:"head_ref"`
	HeadSHA             string     `json:"head_sha"`
	BaseRef             string     `json:"base_ref"`
	BaseSHA             string     `json:"base_sha"`
	Draft               bool       `json:"draft"`
	MaintainerCanModify bool       `json:"maintainer_can_modify"`
	Merged              bool       `json:"merged"`
	MergedAt            *time.Time `json:"merged_at,omitempty"`
	MergedBy            string     `json:"merged_by,omitempty"`
	MergeCommitSHA      string     `json:"merge_commit_sha,omitempty"`
	Reviewers           []string   `json:"reviewers"`
	TeamReviewers       []string   `json:"team_reviewers"`
	// Approvals are the logins that approved the pull request.
	Approvals []string `json:"approvals,omitempty"`
}

type comment struct {
	ID        int64     `json:"id"`
	Body      string    `json:"body"`
	User      string    `json:"user"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

type label struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Color       string `json:"color"`
	Description string `json:"description"`
}

type checkRun struct {
	ID          int64      `json:"id"`
	Name        string     `json:"name"`
	HeadSHA     string     `json:"head_sha"`
	Status      string     `json:"status"`
	Conclusion  string     `json:"conclusion,omitempty"`
	Title       string     `json:"title,omitempty"`
	Summary     string     `json:"summary,omitempty"`
	DetailsURL  string     `json:"details_url,omitempty"`
	StartedAt   time.Time  `json:"started_at"`
	CompletedAt *time.Time `json:"completed_at,omitempty"`
	// App created the run; nil is the simulated CI.
	App *AppIdentity `json:"app,omitempty"`
}

type status struct {
	ID          int64     `json:"id"`
	State       string    `json:"state"`
	Context     string    `json:"context"`
	Description string    `json:"description"`
	TargetURL   string    `json:"target_url"`
	Creator     string    `json:"creator"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

type variable struct {
	Name       string    `json:"name"`
	Value      string    `json:"value"`
	Visibility string    `json:"visibility,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

type secret struct {
	Name       string    `json:"name"`
	Value      string    `json:"value"` // the encrypted value as sent
	Visibility string    `json:"visibility,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

type environment struct {
	ID                 int64                `json:"id"`
	Name               string               `json:"name"`
	WaitTimer          int                  `json:"wait_timer"`
	PreventSelfReview  bool                 `json:"prevent_self_review"`
	CanAdminsBypass    bool                 `json:"can_admins_bypass"`
	Reviewers          []envReviewer        `json:"reviewers"`
	BranchPolicy       *branchPolicy        `json:"branch_policy,omitempty"`
	Secrets            map[string]*secret   `json:"secrets"`
	Variables          map[string]*variable `json:"variables"`
	CreatedAt          time.Time            `json:"created_at"`
	UpdatedAt          time.Time            `json:"updated_at"`
	WaitTimerRuleID    int64                `json:"wait_timer_rule_id"`
	ReviewersRuleID    int64                `json:"reviewers_rule_id"`
	BranchPolicyRuleID int64                `json:"branch_policy_rule_id"`
}

type envReviewer struct {
	Type string `json:"type"`
	ID   int64  `json:"id"`
}

type branchPolicy struct {
	ProtectedBranches    bool `json:"protected_branches"`
	CustomBranchPolicies bool `json:"custom_branch_policies"`
}

func newState() *state {
	return &state{NextID: 1000, Tokens: map[string]*Identity{}, Owners: map[string]*owner{}, Repos: map[string]*repo{}}
}

// id returns a fresh numeric id.
func (st *state) id() int64 {
	st.NextID++
	return st.NextID
}

// snapshotFile is the file a snapshot is saved to inside its folder.
const snapshotFile = "ghapi-state.json"

// Save writes the emulator's state (everything but git data, which lives in
// the git root) as JSON into dir.
func (s *Server) Save(dir string) error {
	s.mu.Lock()
	data, err := json.MarshalIndent(s.st, "", "  ")
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("could not encode the emulator state: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("could not create snapshot folder %q: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, snapshotFile+".*")
	if err != nil {
		return fmt.Errorf("could not save snapshot in %q: %w", dir, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("could not save snapshot in %q: %w", dir, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("could not save snapshot in %q: %w", dir, err)
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, snapshotFile))
}

// Load replaces the emulator's state with the snapshot saved in dir.
func (s *Server) Load(dir string) error {
	p := filepath.Join(dir, snapshotFile)
	data, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("could not read snapshot: %w", err)
	}
	st := newState()
	if err := json.Unmarshal(data, st); err != nil {
		return fmt.Errorf("could not parse snapshot %q: %w", p, err)
	}
	s.mu.Lock()
	s.st = st
	s.mu.Unlock()
	return nil
}
