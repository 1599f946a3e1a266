package ghapi

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

// BranchProtection is a branch's protection rule, as far as the merge API
// enforces it: a pull request into the branch merges only when its head's
// required checks passed, it has the approving reviews asked for and, when
// Strict, it is up to date with the branch.
type BranchProtection struct {
	// RequiredChecks are check run names or commit status contexts that
	// must have passed on the pull request's head.
	RequiredChecks []string `json:"required_checks,omitempty"`
	// Strict requires the head to contain the branch's tip.
	Strict bool `json:"strict,omitempty"`
	// RequiredApprovals is how many approving reviews a pull request needs.
	RequiredApprovals int `json:"required_approvals,omitempty"`
	// EnforceAdmins is reported as GitHub does; the emulator enforces the
	// rule for administrators either way (it models no bypass).
	EnforceAdmins bool `json:"enforce_admins,omitempty"`
}

// SetBranchProtection protects branch of owner/name with p; nil removes
// the protection.
func (s *Server) SetBranchProtection(owner, name, branch string, p *BranchProtection) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.st.Repos[owner+"/"+name]
	if rp == nil {
		return errNoRepo(owner, name)
	}
	setProtectionLocked(rp, branch, p)
	return nil
}

func setProtectionLocked(rp *repo, branch string, p *BranchProtection) {
	if p == nil {
		delete(rp.Protection, branch)
		return
	}
	if rp.Protection == nil {
		rp.Protection = map[string]*BranchProtection{}
	}
	cp := *p
	cp.RequiredChecks = slices.Clone(p.RequiredChecks)
	rp.Protection[branch] = &cp
}

// ApprovePull records an approving review of pull request number by login,
// as a reviewer with write access would give it.
func (s *Server) ApprovePull(owner, name string, number int, login string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.st.Repos[owner+"/"+name]
	if rp == nil {
		return errNoRepo(owner, name)
	}
	is := rp.Issues[number]
	if is == nil || is.Pull == nil {
		return fmt.Errorf("%s/%s has no pull request #%d", owner, name, number)
	}
	if login == is.User {
		return fmt.Errorf("%s cannot approve their own pull request %s/%s#%d", login, owner, name, number)
	}
	if !slices.Contains(is.Pull.Approvals, login) {
		is.Pull.Approvals = append(is.Pull.Approvals, login)
	}
	return nil
}

// protectionRefusalLocked says why the branch's protection refuses to merge
// pull request is with head sha, in GitHub's words; "" when it does not.
func protectionRefusalLocked(rp *repo, is *issue, sha string, upToDate bool) string {
	p := rp.Protection[is.Pull.BaseRef]
	if p == nil {
		return ""
	}
	if n := len(is.Pull.Approvals); n < p.RequiredApprovals {
		if p.RequiredApprovals == 1 {
			return "At least 1 approving review is required by reviewers with write access."
		}
		return fmt.Sprintf("At least %d approving reviews are required by reviewers with write access.", p.RequiredApprovals)
	}
	var expected, failing []string
	for _, ctx := range p.RequiredChecks {
		switch requiredCheckState(rp, sha, ctx) {
		case "success":
		case "failure":
			failing = append(failing, ctx)
		default:
			expected = append(expected, ctx)
		}
	}
	switch {
	case len(failing) == 1 && len(expected) == 0:
		return fmt.Sprintf("Required status check %q is failing.", failing[0])
	case len(failing) > 0:
		return fmt.Sprintf("%d of %d required status checks have not succeeded: %s.", len(failing)+len(expected), len(p.RequiredChecks), strings.Join(append(failing, expected...), ", "))
	case len(expected) == 1:
		return fmt.Sprintf("Required status check %q is expected.", expected[0])
	case len(expected) > 1:
		return fmt.Sprintf("%d of %d required status checks are expected.", len(expected), len(p.RequiredChecks))
	}
	if p.Strict && !upToDate {
		return "Head branch is not up to date with the base branch."
	}
	return ""
}

// requiredCheckState is the state of a required check on sha: "success"
// when a completed check run of that name succeeded (or was neutral or
// skipped) or the latest commit status of that context is success;
// "failure" when it failed; "pending" when it is missing or running.
func requiredCheckState(rp *repo, sha, name string) string {
	state := "pending"
	for _, cr := range rp.CheckRuns[sha] {
		if cr.Name != name || cr.Status != "completed" {
			continue
		}
		switch cr.Conclusion {
		case "success", "neutral", "skipped":
			return "success"
		default:
			state = "failure"
		}
	}
	var latest *status
	for _, st := range rp.Statuses[sha] {
		if st.Context == name {
			latest = st
		}
	}
	if latest != nil {
		switch latest.State {
		case "success":
			return "success"
		case "failure", "error":
			state = "failure"
		}
	}
	return state
}

// protectionJSON renders a branch's protection (GET and PUT
// .../branches/{branch}/protection).
func (c *call) protectionJSON(branch string, p *BranchProtection) map[string]any {
	base := c.repoAPI() + "branches/" + branch + "/protection"
	checks := []any{}
	for _, ctx := range p.RequiredChecks {
		checks = append(checks, map[string]any{"context": ctx, "app_id": nil})
	}
	out := map[string]any{
		"url": base,
		"required_status_checks": map[string]any{
			"url": base + "/required_status_checks", "strict": p.Strict,
			"contexts": append([]string{}, p.RequiredChecks...), "checks": checks,
			"contexts_url": base + "/required_status_checks/contexts",
		},
		"enforce_admins":                   map[string]any{"url": base + "/enforce_admins", "enabled": p.EnforceAdmins},
		"required_signatures":              map[string]any{"url": base + "/required_signatures", "enabled": false},
		"required_linear_history":          map[string]any{"enabled": false},
		"allow_force_pushes":               map[string]any{"enabled": false},
		"allow_deletions":                  map[string]any{"enabled": false},
		"block_creations":                  map[string]any{"enabled": false},
		"required_conversation_resolution": map[string]any{"enabled": false},
		"lock_branch":                      map[string]any{"enabled": false},
		"allow_fork_syncing":               map[string]any{"enabled": false},
	}
	if p.RequiredApprovals > 0 {
		out["required_pull_request_reviews"] = map[string]any{
			"url": base + "/required_pull_request_reviews", "dismiss_stale_reviews": false,
			"require_code_owner_reviews": false, "required_approving_review_count": p.RequiredApprovals,
			"require_last_push_approval": false,
		}
	}
	return out
}

// branchExists reports whether owner/name has the branch.
func (c *call) branchExists(branch string) bool {
	found := false
	c.gitRepo(func(r *git.Repository) {
		_, err := r.Reference(plumbing.NewBranchReferenceName(branch), true)
		found = err == nil
		if !found {
			c.error(http.StatusNotFound, "Branch not found")
		}
	})
	return found
}

// getProtection serves GET /repos/{owner}/{repo}/branches/{branch}/protection.
func (c *call) getProtection() {
	branch := c.r.PathValue("branch")
	if !c.branchExists(branch) {
		return
	}
	c.s.mu.Lock()
	rp := c.repoLocked()
	if rp == nil {
		c.s.mu.Unlock()
		return
	}
	var p *BranchProtection
	if q := rp.Protection[branch]; q != nil {
		cp := *q
		p = &cp
	}
	c.s.mu.Unlock()
	if p == nil {
		c.error(http.StatusNotFound, "Branch not protected")
		return
	}
	c.json(http.StatusOK, c.protectionJSON(branch, p))
}

// putProtection serves PUT /repos/{owner}/{repo}/branches/{branch}/protection:
// required status checks (contexts or checks, strict), enforce_admins and
// the required approving review count; restrictions must be null.
func (c *call) putProtection() {
	var body map[string]any
	if !c.decode(&body) {
		return
	}
	for _, k := range []string{"required_status_checks", "enforce_admins", "required_pull_request_reviews", "restrictions"} {
		if _, ok := body[k]; !ok {
			c.invalid(map[string]any{"resource": "Protection", "field": k, "code": "missing_field"})
			return
		}
	}
	p := &BranchProtection{}
	if rsc, ok := body["required_status_checks"].(map[string]any); ok {
		strict, ok1 := rsc["strict"].(bool)
		contexts, ok2 := rsc["contexts"].([]any)
		if !ok1 || !ok2 {
			c.invalid(map[string]any{"resource": "Protection", "field": "required_status_checks", "code": "invalid"})
			return
		}
		p.Strict = strict
		for _, x := range contexts {
			if s, ok := x.(string); ok && s != "" && !slices.Contains(p.RequiredChecks, s) {
				p.RequiredChecks = append(p.RequiredChecks, s)
			}
		}
		if checks, ok := rsc["checks"].([]any); ok {
			for _, x := range checks {
				m, _ := x.(map[string]any)
				if s, ok := m["context"].(string); ok && s != "" && !slices.Contains(p.RequiredChecks, s) {
					p.RequiredChecks = append(p.RequiredChecks, s)
				}
			}
		}
	}
	if ea, ok := body["enforce_admins"].(bool); ok {
		p.EnforceAdmins = ea
	}
	if rv, ok := body["required_pull_request_reviews"].(map[string]any); ok {
		p.RequiredApprovals = 1
		if n, ok := rv["required_approving_review_count"].(float64); ok {
			if n < 0 || n > 6 || n != float64(int(n)) {
				c.invalid(map[string]any{"resource": "Protection", "field": "required_approving_review_count", "code": "invalid"})
				return
			}
			p.RequiredApprovals = int(n)
		}
	}
	if body["restrictions"] != nil {
		c.invalid(map[string]any{"resource": "Protection", "field": "restrictions", "code": "invalid",
			"message": "push restrictions are not emulated: pass null"})
		return
	}
	branch := c.r.PathValue("branch")
	if !c.branchExists(branch) {
		return
	}
	c.s.mu.Lock()
	rp := c.repoLocked()
	if rp == nil {
		c.s.mu.Unlock()
		return
	}
	setProtectionLocked(rp, branch, p)
	c.s.mu.Unlock()
	c.json(http.StatusOK, c.protectionJSON(branch, p))
}

// branchProtection returns a copy of the request repository's protection
// of branch, nil when the branch is not protected.
func (c *call) branchProtection(branch string) *BranchProtection {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	rp := c.s.st.Repos[c.r.PathValue("owner")+"/"+c.r.PathValue("repo")]
	if rp == nil || rp.Protection[branch] == nil {
		return nil
	}
	cp := *rp.Protection[branch]
	return &cp
}

// protectedBranches returns the request repository's protected branches.
func (c *call) protectedBranches() map[string]bool {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	out := map[string]bool{}
	if rp := c.s.st.Repos[c.r.PathValue("owner")+"/"+c.r.PathValue("repo")]; rp != nil {
		for b := range rp.Protection {
			out[b] = true
		}
	}
	return out
}
