package ghapi

import "net/http"

// Permission specs of the routes, as in GitHub's "permissions required for
// fine-grained personal access tokens" page.
const (
	contentsR     = "contents:read"
	contentsW     = "contents:write"
	pullsR        = "pull_requests:read"
	pullsW        = "pull_requests:write"
	issuesR       = "issues:read|pull_requests:read"
	issuesW       = "issues:write"
	issueOrPullW  = "issues:write|pull_requests:write"
	checksR       = "checks:read"
	checksW       = "checks:write"
	statusesR     = "statuses:read"
	statusesW     = "statuses:write"
	variablesR    = "variables:read"
	variablesW    = "variables:write"
	secretsR      = "secrets:read"
	secretsW      = "secrets:write"
	envSecretsR   = "secrets:read|environments:read"
	envSecretsW   = "secrets:write|environments:write"
	envVarsR      = "variables:read|environments:read"
	envVarsW      = "variables:write|environments:write"
	actionsR      = "actions:read"
	envR          = "actions:read|administration:read|environments:read"
	adminR        = "administration:read"
	adminW        = "administration:write"
	orgSecretsR   = "organization_secrets:read"
	orgSecretsW   = "organization_secrets:write"
	orgVariablesR = "organization_variables:read"
	orgVariablesW = "organization_variables:write"
)

// routes registers every endpoint.
func (s *Server) routes() {
	h := func(f func(*call)) func(*call) { return f }
	const repo = "/repos/{owner}/{repo}"

	s.handle("GET /user", "", h((*call).getUser))
	s.handle("GET /rate_limit", "", h((*call).getRateLimit), "free")
	s.handle("GET /orgs/{org}", "", h((*call).getOrg))
	s.handle("GET /orgs/{org}/repos", "", h((*call).listOwnerRepos))
	s.handle("GET /users/{owner}/repos", "", h((*call).listOwnerRepos))
	s.handle("GET "+repo, "", h((*call).getRepo))

	// Git data, read from the bare repositories.
	s.handle("GET "+repo+"/git/ref/{ref...}", contentsR, h((*call).getRef))
	s.handle("GET "+repo+"/git/matching-refs/{ref...}", contentsR, h((*call).matchingRefs))
	s.handle("POST "+repo+"/git/refs", contentsW, h((*call).createRef))
	s.handle("PATCH "+repo+"/git/refs/{ref...}", contentsW, h((*call).updateRef))
	s.handle("DELETE "+repo+"/git/refs/{ref...}", contentsW, h((*call).deleteRef))
	s.handle("GET "+repo+"/git/commits/{sha}", contentsR, h((*call).getGitCommit))
	s.handle("GET "+repo+"/git/trees/{sha}", contentsR, h((*call).getTree))
	s.handle("GET "+repo+"/git/blobs/{sha}", contentsR, h((*call).getBlob))
	s.handle("GET "+repo+"/contents", contentsR, h((*call).getContents))
	s.handle("GET "+repo+"/contents/{path...}", contentsR, h((*call).getContents))
	s.handle("GET "+repo+"/branches", contentsR, h((*call).listBranches))
	s.handle("GET "+repo+"/branches/{branch...}", contentsR, h((*call).getBranch))
	s.handle("GET "+repo+"/branches/{branch}/protection", adminR, h((*call).getProtection))
	s.handle("PUT "+repo+"/branches/{branch}/protection", adminW, h((*call).putProtection))
	s.handle("GET "+repo+"/commits", contentsR, h((*call).listCommits))
	s.handle("GET "+repo+"/commits/{rest...}", "", h((*call).commitsSubtree))

	// Pull requests, issues, labels, assignees.
	s.handle("POST "+repo+"/pulls", pullsW, h((*call).createPull), "content")
	s.handle("GET "+repo+"/pulls", pullsR, h((*call).listPulls))
	s.handle("GET "+repo+"/pulls/{number}", pullsR, h((*call).getPull))
	s.handle("PATCH "+repo+"/pulls/{number}", pullsW, h((*call).updatePull))
	s.handle("PUT "+repo+"/pulls/{number}/merge", contentsW, h((*call).mergePull))
	s.handle("POST "+repo+"/pulls/{number}/requested_reviewers", pullsW, h((*call).requestReviewers))
	s.handle("POST "+repo+"/issues", issuesW, h((*call).createIssue), "content")
	s.handle("GET "+repo+"/issues", issuesR, h((*call).listIssues))
	s.handle("GET "+repo+"/issues/{number}", issuesR, h((*call).getIssue))
	s.handle("PATCH "+repo+"/issues/{number}", issueOrPullW, h((*call).editIssue))
	s.handle("POST "+repo+"/issues/{number}/comments", issueOrPullW, h((*call).createComment), "content")
	s.handle("GET "+repo+"/issues/{number}/comments", issuesR, h((*call).listComments))
	s.handle("POST "+repo+"/issues/{number}/labels", issueOrPullW, h((*call).addLabels))
	s.handle("POST "+repo+"/issues/{number}/assignees", issueOrPullW, h((*call).addAssignees))

	// Checks and statuses (reads go through commits/{rest...}).
	s.handle("POST "+repo+"/check-runs", checksW, h((*call).createCheckRun))
	s.handle("POST "+repo+"/statuses/{sha}", statusesW, h((*call).createStatus))

	// Actions workflow runs.
	s.handle("GET "+repo+"/actions/runs", actionsR, h((*call).listRuns))

	// Actions variables.
	s.handle("GET "+repo+"/actions/variables", variablesR, func(c *call) { c.listVariables(repoVars) })
	s.handle("POST "+repo+"/actions/variables", variablesW, func(c *call) { c.createVariable(repoVars, false) })
	s.handle("GET "+repo+"/actions/variables/{name}", variablesR, func(c *call) { c.getVariable(repoVars) })
	s.handle("PATCH "+repo+"/actions/variables/{name}", variablesW, func(c *call) { c.updateVariable(repoVars) })
	s.handle("DELETE "+repo+"/actions/variables/{name}", variablesW, func(c *call) { c.deleteVariable(repoVars) })
	s.handle("GET "+repo+"/actions/organization-variables", variablesR, h((*call).listRepoOrgVariables))
	s.handle("GET /orgs/{org}/actions/variables", orgVariablesR, func(c *call) { c.listVariables(orgVars) })
	s.handle("POST /orgs/{org}/actions/variables", orgVariablesW, func(c *call) { c.createVariable(orgVars, true) })
	s.handle("GET /orgs/{org}/actions/variables/{name}", orgVariablesR, func(c *call) { c.getVariable(orgVars) })
	s.handle("PATCH /orgs/{org}/actions/variables/{name}", orgVariablesW, func(c *call) { c.updateVariable(orgVars) })
	s.handle("DELETE /orgs/{org}/actions/variables/{name}", orgVariablesW, func(c *call) { c.deleteVariable(orgVars) })
	s.handle("GET "+repo+"/environments/{env}/variables", envVarsR, func(c *call) { c.listVariables(envVars) })
	s.handle("POST "+repo+"/environments/{env}/variables", envVarsW, func(c *call) { c.createVariable(envVars, false) })
	s.handle("GET "+repo+"/environments/{env}/variables/{name}", envVarsR, func(c *call) { c.getVariable(envVars) })
	s.handle("PATCH "+repo+"/environments/{env}/variables/{name}", envVarsW, func(c *call) { c.updateVariable(envVars) })
	s.handle("DELETE "+repo+"/environments/{env}/variables/{name}", envVarsW, func(c *call) { c.deleteVariable(envVars) })

	// Actions secrets: repository, environment (current and legacy paths), organization.
	s.handle("GET "+repo+"/actions/secrets", secretsR, func(c *call) { c.listSecrets(repoSecrets) })
	s.handle("GET "+repo+"/actions/secrets/public-key", secretsR, func(c *call) { c.getPublicKey(repoSecrets) })
	s.handle("GET "+repo+"/actions/secrets/{name}", secretsR, func(c *call) { c.getSecret(repoSecrets) })
	s.handle("PUT "+repo+"/actions/secrets/{name}", secretsW, func(c *call) { c.putSecret(repoSecrets, false) })
	s.handle("DELETE "+repo+"/actions/secrets/{name}", secretsW, func(c *call) { c.deleteSecret(repoSecrets) })
	s.handle("GET "+repo+"/actions/organization-secrets", secretsR, h((*call).listRepoOrgSecrets))
	for _, base := range []string{repo + "/environments/{env}/secrets", "/repositories/{id}/environments/{env}/secrets"} {
		s.handle("GET "+base, envSecretsR, func(c *call) { c.listSecrets(envSecrets) })
		s.handle("GET "+base+"/public-key", envSecretsR, func(c *call) { c.getPublicKey(envSecrets) })
		s.handle("GET "+base+"/{name}", envSecretsR, func(c *call) { c.getSecret(envSecrets) })
		s.handle("PUT "+base+"/{name}", envSecretsW, func(c *call) { c.putSecret(envSecrets, false) })
		s.handle("DELETE "+base+"/{name}", envSecretsW, func(c *call) { c.deleteSecret(envSecrets) })
	}
	s.handle("GET /orgs/{org}/actions/secrets", orgSecretsR, func(c *call) { c.listSecrets(orgSecrets) })
	s.handle("GET /orgs/{org}/actions/secrets/public-key", orgSecretsR, func(c *call) { c.getPublicKey(orgSecrets) })
	s.handle("GET /orgs/{org}/actions/secrets/{name}", orgSecretsR, func(c *call) { c.getSecret(orgSecrets) })
	s.handle("PUT /orgs/{org}/actions/secrets/{name}", orgSecretsW, func(c *call) { c.putSecret(orgSecrets, true) })
	s.handle("DELETE /orgs/{org}/actions/secrets/{name}", orgSecretsW, func(c *call) { c.deleteSecret(orgSecrets) })

	// Environments.
	s.handle("GET "+repo+"/environments", envR, h((*call).listEnvironments))
	s.handle("GET "+repo+"/environments/{env}", envR, h((*call).getEnvironment))
	s.handle("PUT "+repo+"/environments/{env}", adminW, h((*call).putEnvironment))
	s.handle("DELETE "+repo+"/environments/{env}", adminW, h((*call).deleteEnvironment))

	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		(&call{s: s, w: w, r: r}).notFound()
	})
}
