package ghapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
)

// envForLocked returns environment name of rp, creating it when needed.
func (s *Server) envForLocked(rp *repo, name string) *environment {
	if env, ok := rp.Environments[name]; ok {
		return env
	}
	now := s.now()
	env := &environment{ID: s.st.id(), Name: name, CanAdminsBypass: true, Secrets: map[string]*secret{},
		Variables: map[string]*variable{}, CreatedAt: now, UpdatedAt: now}
	rp.Environments[name] = env
	return env
}

// SetEnvironment creates environment name of owner/name when it does not exist.
func (s *Server) SetEnvironment(owner, name, env string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.st.Repos[owner+"/"+name]
	if rp == nil {
		return errNoRepo(owner, name)
	}
	s.envForLocked(rp, env)
	return nil
}

// envRepoLocked finds the repository of an environment route: by owner and
// repo, or by id on the legacy /repositories/{id}/… paths.
func (c *call) envRepoLocked() *repo {
	if idText := c.r.PathValue("id"); idText != "" {
		id, _ := strconv.ParseInt(idText, 10, 64)
		for _, rp := range c.s.st.Repos {
			if rp.ID == id {
				return rp
			}
		}
		c.notFound()
		return nil
	}
	return c.repoLocked()
}

// envLocked finds the environment {env} of the request's repository.
func (c *call) envLocked() *environment {
	rp := c.envRepoLocked()
	if rp == nil {
		return nil
	}
	env := rp.Environments[c.r.PathValue("env")]
	if env == nil {
		c.notFound()
	}
	return env
}

// environmentJSON renders an environment with its protection rules.
func (c *call) environmentJSON(rp *repo, env *environment) map[string]any {
	full := rp.Owner + "/" + rp.Name
	rules := []any{}
	if env.WaitTimer > 0 {
		rules = append(rules, map[string]any{"id": env.WaitTimerRuleID, "node_id": nodeID("GA", env.WaitTimerRuleID),
			"type": "wait_timer", "wait_timer": env.WaitTimer})
	}
	if len(env.Reviewers) > 0 {
		reviewers := []any{}
		for _, r := range env.Reviewers {
			var who map[string]any
			if r.Type == "Team" {
				slug := "team-" + strconv.FormatInt(r.ID, 10)
				who = map[string]any{"id": r.ID, "node_id": nodeID("T", r.ID), "slug": slug, "name": slug}
			} else {
				who = c.user(c.s.loginByIDLocked(r.ID))
			}
			reviewers = append(reviewers, map[string]any{"type": r.Type, "reviewer": who})
		}
		rules = append(rules, map[string]any{"id": env.ReviewersRuleID, "node_id": nodeID("GA", env.ReviewersRuleID),
			"type": "required_reviewers", "prevent_self_review": env.PreventSelfReview, "reviewers": reviewers})
	}
	var policy any
	if env.BranchPolicy != nil {
		rules = append(rules, map[string]any{"id": env.BranchPolicyRuleID, "node_id": nodeID("GA", env.BranchPolicyRuleID),
			"type": "branch_policy"})
		policy = map[string]any{"protected_branches": env.BranchPolicy.ProtectedBranches,
			"custom_branch_policies": env.BranchPolicy.CustomBranchPolicies}
	}
	return map[string]any{
		"id": env.ID, "node_id": nodeID("EN", env.ID), "name": env.Name,
		"url":        c.api + "repos/" + full + "/environments/" + url.PathEscape(env.Name),
		"html_url":   c.web + full + "/deployments/activity_log?environments_filter=" + url.QueryEscape(env.Name),
		"created_at": ts(env.CreatedAt), "updated_at": ts(env.UpdatedAt),
		"can_admins_bypass": env.CanAdminsBypass, "protection_rules": rules, "deployment_branch_policy": policy,
	}
}

// listEnvironments serves GET /repos/{owner}/{repo}/environments.
func (c *call) listEnvironments() {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	rp := c.repoLocked()
	if rp == nil {
		return
	}
	names := sortedNames(rp.Environments)
	out := []any{}
	for _, n := range paginate(c, names) {
		out = append(out, c.environmentJSON(rp, rp.Environments[n]))
	}
	c.json(http.StatusOK, map[string]any{"total_count": len(names), "environments": out})
}

// getEnvironment serves GET /repos/{owner}/{repo}/environments/{env}.
func (c *call) getEnvironment() {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	rp := c.repoLocked()
	if rp == nil {
		return
	}
	env := rp.Environments[c.r.PathValue("env")]
	if env == nil {
		c.notFound()
		return
	}
	c.json(http.StatusOK, c.environmentJSON(rp, env))
}

// putEnvironment serves PUT /repos/{owner}/{repo}/environments/{env}. As on
// GitHub, the body is the whole desired state: a missing field clears it.
func (c *call) putEnvironment() {
	var body struct {
		WaitTimer              *int          `json:"wait_timer"`
		PreventSelfReview      *bool         `json:"prevent_self_review"`
		CanAdminsBypass        *bool         `json:"can_admins_bypass"`
		Reviewers              []envReviewer `json:"reviewers"`
		DeploymentBranchPolicy *branchPolicy `json:"deployment_branch_policy"`
	}
	if c.r.ContentLength != 0 {
		var raw json.RawMessage
		if !c.decode(&raw) {
			return
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			c.error(http.StatusBadRequest, "Problems parsing JSON")
			return
		}
	}
	if body.WaitTimer != nil && (*body.WaitTimer < 0 || *body.WaitTimer > 43200) {
		c.invalid(map[string]any{"resource": "Environment", "field": "wait_timer", "code": "invalid"})
		return
	}
	if len(body.Reviewers) > 6 {
		c.invalid(map[string]any{"resource": "Environment", "field": "reviewers", "code": "invalid"})
		return
	}
	if p := body.DeploymentBranchPolicy; p != nil && p.ProtectedBranches == p.CustomBranchPolicies {
		c.invalid(map[string]any{"resource": "Environment", "field": "deployment_branch_policy", "code": "custom",
			"message": "Only one of protected_branches or custom_branch_policies can be set to true"})
		return
	}
	for _, r := range body.Reviewers {
		if r.Type != "User" && r.Type != "Team" {
			c.invalid(map[string]any{"resource": "Environment", "field": "reviewers", "code": "invalid"})
			return
		}
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	rp := c.repoLocked()
	if rp == nil {
		return
	}
	env := c.s.envForLocked(rp, c.r.PathValue("env"))
	env.WaitTimer = 0
	if body.WaitTimer != nil {
		env.WaitTimer = *body.WaitTimer
	}
	env.PreventSelfReview = body.PreventSelfReview != nil && *body.PreventSelfReview
	env.CanAdminsBypass = body.CanAdminsBypass == nil || *body.CanAdminsBypass
	env.Reviewers = append([]envReviewer(nil), body.Reviewers...)
	env.BranchPolicy = body.DeploymentBranchPolicy
	for _, id := range []*int64{&env.WaitTimerRuleID, &env.ReviewersRuleID, &env.BranchPolicyRuleID} {
		if *id == 0 {
			*id = c.s.st.id()
		}
	}
	env.UpdatedAt = c.s.now()
	c.json(http.StatusOK, c.environmentJSON(rp, env))
}

// deleteEnvironment serves DELETE /repos/{owner}/{repo}/environments/{env}.
func (c *call) deleteEnvironment() {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	rp := c.repoLocked()
	if rp == nil {
		return
	}
	if rp.Environments[c.r.PathValue("env")] == nil {
		c.notFound()
		return
	}
	delete(rp.Environments, c.r.PathValue("env"))
	c.noContent()
}
