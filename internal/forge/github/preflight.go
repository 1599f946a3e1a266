package github

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	gh "github.com/google/go-github/v66/github"

	"github.com/cutover/cutover/internal/forge"
	"github.com/cutover/cutover/internal/interrupt"
)

// Permission is a fine-grained permission at a level, named as GitHub
// names them for fine-grained tokens and Apps.
type Permission struct {
	// Name is the permission, such as "contents" or "workflows".
	Name string
	// Level is "read" or "write".
	Level string
}

// String renders the permission as "name (level)".
func (p Permission) String() string { return p.Name + " (" + p.Level + ")" }

// Verdicts of a permission check.
const (
	// Granted means the identity holds the permission.
	Granted = "granted"
	// Missing means it does not.
	Missing = "missing"
	// Unverified means no harmless request could tell.
	Unverified = "unverified"
)

// PermissionCheck is the verdict on one permission.
type PermissionCheck struct {
	Permission
	// Status is Granted, Missing or Unverified.
	Status string
	// Detail says how the verdict was reached.
	Detail string
}

// Needs returns the permissions a campaign needs on a repository: contents,
// pull requests, workflows, issues, variables and secrets to write, checks,
// statuses and environments to read, and administration when it manages
// environments.
func (f *Forge) Needs() []Permission {
	out := []Permission{
		{"contents", "write"}, {"pull_requests", "write"}, {"workflows", "write"}, {"issues", "write"},
		{"variables", "write"}, {"secrets", "write"}, {"checks", "read"}, {"statuses", "read"}, {"actions", "read"},
	}
	if f.envs {
		out = append(out, Permission{"administration", "write"})
	}
	return out
}

// Preflight checks, before any write, that the identity holds every
// permission of [Forge.Needs] on repo. It returns an error wrapping
// [forge.ErrPermission] that names each missing one. Permissions it cannot
// verify (a fine-grained token's workflows permission, unless
// Options.ProbeWorkflows) are logged and do not fail.
func (f *Forge) Preflight(ctx context.Context, repo forge.Repo) error {
	checks, err := f.Permissions(ctx, repo)
	if err != nil {
		return err
	}
	var missing []string
	for _, c := range checks {
		switch c.Status {
		case Missing:
			missing = append(missing, c.Permission.String())
		case Unverified:
			f.log.Warn("github: could not verify a permission before writing", "repo", repo.FullName,
				"permission", c.Permission.String(), "detail", c.Detail)
		}
	}
	if len(missing) > 0 {
		who := "the token"
		if f.app != nil {
			who = "the GitHub App installation"
		}
		return &permissionError{fmt.Sprintf("%s lacks permissions the campaign needs on %q: %s",
			who, repo.FullName, strings.Join(missing, ", "))}
	}
	return nil
}

// Permissions checks each permission of [Forge.Needs] on repo: from the
// installation token's permissions for an App, from X-OAuth-Scopes for a
// classic token, and otherwise by harmless probes (a write to something
// that does not exist answers 403 without the permission and 404 or 422
// with it).
func (f *Forge) Permissions(ctx context.Context, repo forge.Repo) ([]PermissionCheck, error) {
	owner, name, err := split(repo)
	if err != nil {
		return nil, err
	}
	var r *gh.Repository
	resp, err := f.do(ctx, func() (*gh.Response, error) {
		var resp *gh.Response
		var err error
		r, resp, err = f.client.Repositories.Get(ctx, owner, name)
		return resp, err
	})
	if err != nil {
		return nil, apiError(err, "read the repository "+strconv.Quote(repo.FullName))
	}
	if repo.DefaultBranch == "" {
		repo.DefaultBranch = r.GetDefaultBranch()
	}
	if repo.CloneURL == "" {
		repo.CloneURL = r.GetCloneURL()
	}
	needs := f.Needs()
	if f.app != nil {
		return f.appPermissions(ctx, needs)
	}
	if scopes, ok := resp.Header["X-Oauth-Scopes"]; ok {
		return classicPermissions(needs, strings.Join(scopes, ","), r), nil
	}
	f.probedMu.Lock()
	cached, ok := f.probed[owner]
	f.probedMu.Unlock()
	if ok {
		return slices.Clone(cached), nil
	}
	out, err := f.probePermissions(ctx, repo, owner, name, needs)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(out, func(c PermissionCheck) bool { return c.Status == Missing }) {
		f.probedMu.Lock()
		if f.probed == nil {
			f.probed = map[string][]PermissionCheck{}
		}
		f.probed[owner] = slices.Clone(out)
		f.probedMu.Unlock()
	}
	return out, nil
}

// probePermissions checks needs on repo by harmless probes.
func (f *Forge) probePermissions(ctx context.Context, repo forge.Repo, owner, name string, needs []Permission) ([]PermissionCheck, error) {
	var err error
	nonce := strconv.FormatInt(f.now().UnixNano(), 36)
	base := fmt.Sprintf("repos/%s/%s/", owner, name)
	probes := map[string]struct {
		method, path string
		body         any
	}{
		"contents":       {"DELETE", base + "git/refs/heads/cutover-preflight-" + nonce, nil},
		"pull_requests":  {"PATCH", base + "pulls/0", map[string]any{}},
		"issues":         {"POST", base + "issues", map[string]any{}},
		"variables":      {"PATCH", base + "actions/variables/CUTOVER_PREFLIGHT_" + strings.ToUpper(nonce), map[string]any{"name": "CUTOVER_PREFLIGHT_" + strings.ToUpper(nonce), "value": "x"}},
		"secrets":        {"DELETE", base + "actions/secrets/CUTOVER_PREFLIGHT_" + strings.ToUpper(nonce), nil},
		"administration": {"DELETE", base + "environments/cutover-preflight-" + nonce, nil},
		"checks":         {"GET", base + "commits/" + escapeBranch(repo.DefaultBranch) + "/check-runs?per_page=1", nil},
		"statuses":       {"GET", base + "commits/" + escapeBranch(repo.DefaultBranch) + "/status?per_page=1", nil},
		"actions":        {"GET", base + "environments?per_page=1", nil},
	}
	var out []PermissionCheck
	contents := false
	for _, p := range needs {
		c := PermissionCheck{Permission: p}
		pr, ok := probes[p.Name]
		if !ok {
			c.Status, c.Detail = Unverified, "no probe for this permission"
			out = append(out, c)
			continue
		}
		status, accepted, err := f.probe(ctx, pr.method, pr.path, pr.body)
		if err != nil {
			return nil, fmt.Errorf("could not check the %s permission on %q: %w", p, repo.FullName, err)
		}
		switch {
		case status == http.StatusForbidden:
			c.Status, c.Detail = Missing, fmt.Sprintf("%s %s answered 403", pr.method, pr.path)
			if accepted != "" {
				c.Detail += "; it accepts " + accepted
			}
		case status == http.StatusUnauthorized:
			return nil, fmt.Errorf("could not check permissions on %q: the token was refused", repo.FullName)
		case status < 500:
			c.Status, c.Detail = Granted, fmt.Sprintf("%s %s answered %d", pr.method, pr.path, status)
		default:
			c.Status, c.Detail = Unverified, fmt.Sprintf("%s %s answered %d", pr.method, pr.path, status)
		}
		if p.Name == "contents" && c.Status == Granted {
			contents = true
		}
		out = append(out, c)
	}
	for i, c := range out {
		if c.Name != "workflows" {
			continue
		}
		switch {
		case !f.probeWF:
			c.Detail = "a fine-grained token's workflows permission shows only when a push touches .github/workflows"
		case !contents:
			c.Detail = "without contents write no push can tell"
		default:
			c.Status, c.Detail, err = f.probeWorkflows(ctx, repo, owner, name, nonce)
			if err != nil {
				return nil, err
			}
		}
		out[i] = c
	}
	return out, nil
}

// escapeBranch escapes a branch for a path, keeping its slashes.
func escapeBranch(branch string) string {
	parts := strings.Split(branch, "/")
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(p, "%", "%25")
	}
	return strings.Join(parts, "/")
}

// probe sends one request and returns its status and the endpoint's
// X-Accepted-GitHub-Permissions. Probes change nothing, so a server error
// or a broken connection is simply retried.
func (f *Forge) probe(ctx context.Context, method, path string, body any) (int, string, error) {
	var lastErr error
	for attempt := 0; attempt <= f.lim.lim.Retries; attempt++ {
		if attempt > 0 {
			if err := f.lim.wait(ctx, f.lim.backoff(attempt-1), "a retry of a permission probe"); err != nil {
				return 0, "", err
			}
		}
		req, err := f.client.NewRequest(method, path, body)
		if err != nil {
			return 0, "", err
		}
		resp, err := f.do(ctx, func() (*gh.Response, error) { return f.client.Do(ctx, req, nil) })
		if resp != nil && resp.Response != nil && resp.StatusCode < 500 {
			return resp.StatusCode, resp.Header.Get("X-Accepted-Github-Permissions"), nil
		}
		if err == nil || !ambiguous(ctx, err) {
			if resp != nil && resp.Response != nil {
				return resp.StatusCode, "", nil
			}
			return 0, "", err
		}
		lastErr = err
	}
	return 0, "", lastErr
}

// probeWorkflows pushes a scratch branch adding a manual-only workflow and
// deletes it again.
func (f *Forge) probeWorkflows(ctx context.Context, repo forge.Repo, owner, name, nonce string) (string, string, error) {
	select {
	case f.gitSem <- struct{}{}:
	case <-ctx.Done():
		return "", "", ctx.Err()
	case <-interrupt.Done(ctx):
		return "", "", interrupt.Waiting("a free git connection")
	}
	defer func() { <-f.gitSem }()
	r, head, err := f.clone(ctx, repo, repo.DefaultBranch)
	if err != nil {
		return "", "", err
	}
	c, err := r.CommitObject(head)
	if err != nil {
		return "", "", err
	}
	file := ".github/workflows/cutover-preflight-" + nonce + ".yml"
	tree, err := editTree(r.Storer, c.TreeHash, map[string][]byte{file: []byte(
		"# Pushed by cutover to check the workflows permission, and deleted at once.\n" +
			"name: cutover preflight\non: workflow_dispatch\njobs:\n  noop:\n    runs-on: ubuntu-latest\n    steps:\n      - run: \"true\"\n")})
	if err != nil {
		return "", "", err
	}
	sig := object.Signature{Name: "cutover", Email: "cutover@users.noreply.github.com", When: f.now()}
	if f.author.Name != "" {
		sig.Name, sig.Email = f.author.Name, f.author.Email
	}
	commit, err := writeObject(r.Storer, &object.Commit{Author: sig, Committer: sig, Message: "cutover preflight\n",
		TreeHash: tree, ParentHashes: []plumbing.Hash{head}})
	if err != nil {
		return "", "", err
	}
	branch := "cutover-preflight/" + nonce
	ref := plumbing.NewBranchReferenceName(branch)
	if err := r.Storer.SetReference(plumbing.NewHashReference(ref, commit)); err != nil {
		return "", "", err
	}
	err = f.pushRef(ctx, r, repo, config.RefSpec(ref.String()+":"+ref.String()), nil)
	if err != nil {
		perr := f.pushError(ctx, err, owner, name, repo.FullName, branch, commit.String())
		if pe, ok := perr.(*permissionError); ok && pe.msg == workflowMessage {
			return Missing, "a push touching .github/workflows was refused", nil
		}
		return "", "", perr
	}
	err = f.write(ctx, func() error {
		_, err := f.do(ctx, func() (*gh.Response, error) {
			resp, err := f.client.Git.DeleteRef(ctx, owner, name, "heads/"+branch)
			if statusOf(err) == http.StatusUnprocessableEntity || isNotFound(err) {
				return resp, nil
			}
			return resp, err
		})
		return err
	}, func() (bool, error) {
		_, ok, err := f.branchHead(ctx, owner, name, branch)
		return !ok, err
	})
	if err != nil {
		return "", "", apiError(err, fmt.Sprintf("delete the scratch branch %q of %q", branch, repo.FullName))
	}
	return Granted, "a push touching .github/workflows went through (scratch branch deleted)", nil
}

// appPermissions reads the installation token's permissions.
func (f *Forge) appPermissions(ctx context.Context, needs []Permission) ([]PermissionCheck, error) {
	if _, err := f.app.Token(ctx); err != nil {
		return nil, fmt.Errorf("could not get an installation token: %w", err)
	}
	perms, err := f.app.Permissions()
	if err != nil {
		return nil, fmt.Errorf("could not read the installation's permissions: %w", err)
	}
	have := map[string]*string{
		"contents": perms.Contents, "pull_requests": perms.PullRequests, "workflows": perms.Workflows,
		"issues": perms.Issues, "variables": perms.ActionsVariables, "secrets": perms.Secrets,
		"checks": perms.Checks, "statuses": perms.Statuses, "actions": perms.Actions,
		"administration": perms.Administration, "environments": perms.Environments,
	}
	var out []PermissionCheck
	for _, p := range needs {
		c := PermissionCheck{Permission: p, Status: Missing, Detail: "the installation token does not grant it"}
		if v := have[p.Name]; v != nil && levelOK(*v, p.Level) {
			c.Status, c.Detail = Granted, "the installation token grants "+*v
		}
		out = append(out, c)
	}
	return out, nil
}

// classicPermissions maps a classic token's scopes: repo covers every
// repository permission the repository role allows; workflow is its own.
func classicPermissions(needs []Permission, scopeList string, r *gh.Repository) []PermissionCheck {
	scopes := map[string]bool{}
	for _, s := range strings.Split(scopeList, ",") {
		scopes[strings.TrimSpace(s)] = true
	}
	repoScope := scopes["repo"] || (scopes["public_repo"] && !r.GetPrivate())
	role := r.GetPermissions()
	var out []PermissionCheck
	for _, p := range needs {
		c := PermissionCheck{Permission: p, Status: Missing}
		ok := repoScope
		switch p.Name {
		case "workflows":
			ok = scopes["workflow"]
			c.Detail = "classic tokens need the workflow scope"
		case "administration", "secrets", "variables":
			ok = ok && role["admin"]
			c.Detail = "classic tokens need the repo scope and an admin role"
		default:
			if p.Level == "write" {
				ok = ok && role["push"]
			}
			c.Detail = "classic tokens need the repo scope"
		}
		if ok {
			c.Status = Granted
		}
		out = append(out, c)
	}
	return out
}

func levelOK(have, want string) bool {
	rank := map[string]int{"read": 1, "write": 2, "admin": 3}
	return rank[have] >= rank[want]
}
