package npmreg

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// IDTokenClaims are the OIDC claims npm reads from a CI ID token: GitHub
// Actions' (Repository, WorkflowRef, …), GitLab CI/CD's (ProjectPath,
// CIConfigRefURI, …; see GitLabClaims) or CircleCI's (the
// oidc.circleci.com/ claims; see CircleCIClaims). MintIDToken tells them
// apart by which are set; the issuer names the provider.
type IDTokenClaims struct {
	// Repository is "owner/repo".
	Repository string `json:"repository"`
	// RepositoryOwner is "owner"; "" derives it from Repository.
	RepositoryOwner string `json:"repository_owner"`
	// WorkflowRef is "owner/repo/.github/workflows/release.yml@refs/heads/main".
	WorkflowRef string `json:"workflow_ref"`
	// JobWorkflowRef is the reusable workflow that ran the job; "" means WorkflowRef.
	JobWorkflowRef string `json:"job_workflow_ref"`
	// Ref is the git ref of the run.
	Ref string `json:"ref"`
	// SHA is the commit of the run.
	SHA string `json:"sha"`
	// Environment is the job's deployment environment, if any.
	Environment string `json:"environment,omitempty"`
	// RepositoryVisibility is "public", "private" or "internal"; "" means "public".
	RepositoryVisibility string `json:"repository_visibility"`
	// RunnerEnvironment is "github-hosted" (the default) or "self-hosted".
	RunnerEnvironment string `json:"runner_environment"`
	// EventName is the triggering event, "push" by default.
	EventName string `json:"event_name"`
	// Audience is the aud claim; "" means "npm:" + Options.Host. npm asks for
	// "npm:" + the registry's host name, and the registry refuses any other.
	Audience string `json:"aud"`

	// GitLab CI/CD: NamespacePath is "group[/sub]", ProjectPath
	// "group[/sub]/project", CIConfigRefURI
	// "gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main" and
	// ProjectVisibility "public" (the default), "internal" or "private".
	// RunnerEnvironment is "gitlab-hosted" (the default) or "self-hosted".
	NamespacePath     string `json:"namespace_path,omitempty"`
	ProjectPath       string `json:"project_path,omitempty"`
	CIConfigRefURI    string `json:"ci_config_ref_uri,omitempty"`
	ProjectVisibility string `json:"project_visibility,omitempty"`

	// CircleCI cloud: the organization, project and pipeline definition
	// IDs, the VCS origin ("github.com/org/repo") and the IDs of the
	// contexts the job runs with.
	CircleOrgID                string   `json:"oidc.circleci.com/org-id,omitempty"`
	CircleProjectID            string   `json:"oidc.circleci.com/project-id,omitempty"`
	CirclePipelineDefinitionID string   `json:"oidc.circleci.com/pipeline-definition-id,omitempty"`
	CircleVCSOrigin            string   `json:"oidc.circleci.com/vcs-origin,omitempty"`
	CircleContextIDs           []string `json:"oidc.circleci.com/context-ids,omitempty"`

	// Filled by MintIDToken.
	Issuer    string `json:"iss"`
	Subject   string `json:"sub"`
	IssuedAt  int64  `json:"iat"`
	NotBefore int64  `json:"nbf"`
	Expiry    int64  `json:"exp"`
	JTI       string `json:"jti"`
}

// GitHubClaims returns the claims of a GitHub-hosted run of the workflow at
// workflowPath (".github/workflows/release.yml") in repository on ref, in the
// given environment ("" for none).
func GitHubClaims(repository, workflowPath, ref, environment string) IDTokenClaims {
	if ref == "" {
		ref = "refs/heads/main"
	}
	return IDTokenClaims{
		Repository:  repository,
		WorkflowRef: repository + "/" + workflowPath + "@" + ref,
		Ref:         ref,
		Environment: environment,
	}
}

// GitLabClaims returns the claims of a job on GitLab.com's hosted runners
// of project ("group/[sub/]project") whose top-level CI file is ciFile
// (".gitlab-ci.yml"), on ref, in the given environment ("" for none).
func GitLabClaims(project, ciFile, ref, environment string) IDTokenClaims {
	if ref == "" {
		ref = "refs/heads/main"
	}
	ns := project
	if i := strings.LastIndex(project, "/"); i >= 0 {
		ns = project[:i]
	}
	return IDTokenClaims{
		NamespacePath:  ns,
		ProjectPath:    project,
		CIConfigRefURI: "gitlab.com/" + project + "//" + ciFile + "@" + ref,
		Ref:            ref,
		Environment:    environment,
	}
}

// CircleCIClaims returns the claims of a CircleCI cloud job of the project
// and pipeline definition, checked out from vcsOrigin
// ("github.com/org/repo"), running with the contexts of contextIDs.
func CircleCIClaims(orgID, projectID, pipelineDefinitionID, vcsOrigin string, contextIDs []string) IDTokenClaims {
	return IDTokenClaims{
		CircleOrgID: orgID, CircleProjectID: projectID, CirclePipelineDefinitionID: pipelineDefinitionID,
		CircleVCSOrigin: vcsOrigin, CircleContextIDs: slices.Clone(contextIDs),
	}
}

const (
	githubIssuer   = "https://token.actions.githubusercontent.com"
	gitlabIssuer   = "https://gitlab.com"
	circleCIIssuer = "https://oidc.circleci.com/org/"
)

// provider names the CI provider the claims come from, by issuer.
func (c *IDTokenClaims) provider() string {
	switch {
	case c.Issuer == gitlabIssuer:
		return ProviderGitLab
	case strings.HasPrefix(c.Issuer, circleCIIssuer):
		return ProviderCircleCI
	}
	return ProviderGitHub
}

// MintIDToken returns an ID token with the claims, signed by the registry, that
// the OIDC exchange and ProvenanceAttachment accept until IDTokenTTL passes.
// Claims with a ProjectPath are GitLab's, claims with a CircleCI project ID
// CircleCI's, any others GitHub Actions'.
func (r *Registry) MintIDToken(c IDTokenClaims) (string, error) {
	switch {
	case c.ProjectPath != "":
		return r.mintGitLab(c)
	case c.CircleProjectID != "":
		return r.mintCircleCI(c)
	}
	owner, _, ok := strings.Cut(c.Repository, "/")
	if !ok || owner == "" {
		return "", fmt.Errorf("repository %q is not owner/repo", c.Repository)
	}
	if !strings.Contains(c.WorkflowRef, "@") {
		return "", fmt.Errorf("workflow_ref %q is not path@ref", c.WorkflowRef)
	}
	if c.RepositoryOwner == "" {
		c.RepositoryOwner = owner
	}
	if c.JobWorkflowRef == "" {
		c.JobWorkflowRef = c.WorkflowRef
	}
	if c.Ref == "" {
		_, c.Ref, _ = strings.Cut(c.WorkflowRef, "@")
	}
	if c.RepositoryVisibility == "" {
		c.RepositoryVisibility = "public"
	}
	if c.RunnerEnvironment == "" {
		c.RunnerEnvironment = "github-hosted"
	}
	if c.EventName == "" {
		c.EventName = "push"
	}
	c.Issuer = githubIssuer
	c.Subject = "repo:" + c.Repository + ":ref:" + c.Ref
	if c.Environment != "" {
		c.Subject = "repo:" + c.Repository + ":environment:" + c.Environment
	}
	return r.signIDToken(c), nil
}

// mintGitLab completes and signs GitLab CI/CD claims.
func (r *Registry) mintGitLab(c IDTokenClaims) (string, error) {
	if !strings.Contains(c.ProjectPath, "/") {
		return "", fmt.Errorf("project_path %q is not group/project", c.ProjectPath)
	}
	if !strings.Contains(c.CIConfigRefURI, "//") || !strings.Contains(c.CIConfigRefURI, "@") {
		return "", fmt.Errorf("ci_config_ref_uri %q is not host/project//file@ref", c.CIConfigRefURI)
	}
	if c.NamespacePath == "" {
		c.NamespacePath = c.ProjectPath[:strings.LastIndex(c.ProjectPath, "/")]
	}
	if c.Ref == "" {
		_, c.Ref, _ = strings.Cut(c.CIConfigRefURI, "@")
	}
	if c.ProjectVisibility == "" {
		c.ProjectVisibility = "public"
	}
	if c.RunnerEnvironment == "" {
		c.RunnerEnvironment = "gitlab-hosted"
	}
	c.Issuer = gitlabIssuer
	c.Subject = "project_path:" + c.ProjectPath + ":ref_type:branch:ref:" + strings.TrimPrefix(c.Ref, "refs/heads/")
	return r.signIDToken(c), nil
}

// mintCircleCI completes and signs CircleCI claims.
func (r *Registry) mintCircleCI(c IDTokenClaims) (string, error) {
	if c.CircleOrgID == "" || c.CirclePipelineDefinitionID == "" {
		return "", errors.New("a CircleCI ID token names its organization, project and pipeline definition IDs")
	}
	c.Issuer = circleCIIssuer + c.CircleOrgID
	c.Subject = "org/" + c.CircleOrgID + "/project/" + c.CircleProjectID + "/user/" + c.CircleOrgID
	return r.signIDToken(c), nil
}

// signIDToken completes what every provider's claims share (the default
// audience "npm:<host>", a fresh JTI, the times) and signs c.
func (r *Registry) signIDToken(c IDTokenClaims) string {
	if c.Audience == "" {
		c.Audience = "npm:" + r.opts.Host
	}
	now := r.now()
	r.mu.Lock()
	c.JTI = r.newUUIDLocked()
	r.mu.Unlock()
	c.IssuedAt, c.NotBefore = now.Unix(), now.Unix()
	c.Expiry = now.Add(r.opts.IDTokenTTL).Unix()
	header, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT", "kid": "sandbox"})
	payload, _ := json.Marshal(c)
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	return signed + "." + enc.EncodeToString(r.jwtMAC(signed))
}

func (r *Registry) jwtMAC(signed string) []byte {
	mac := hmac.New(sha256.New, r.signKey)
	mac.Write([]byte("id-token:"))
	mac.Write([]byte(signed))
	return mac.Sum(nil)
}

var errBadIDToken = errors.New("invalid ID token")

func (r *Registry) parseIDToken(tok string) (*IDTokenClaims, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errBadIDToken
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, r.jwtMAC(parts[0]+"."+parts[1])) {
		return nil, errBadIDToken
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errBadIDToken
	}
	var c IDTokenClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, errBadIDToken
	}
	if now := r.now().Unix(); now >= c.Expiry || now < c.NotBefore {
		return nil, errors.New("ID token expired")
	}
	return &c, nil
}

// workflowFile is the file name npm matches: the basename of workflow_ref's path.
func (c *IDTokenClaims) workflowFile() string {
	p, _, _ := strings.Cut(c.WorkflowRef, "@")
	return path.Base(p)
}

func (c *IDTokenClaims) workflow() (Workflow, error) {
	p, ref, ok := strings.Cut(c.WorkflowRef, "@")
	rest, ok2 := strings.CutPrefix(p, c.Repository+"/")
	if !ok || !ok2 {
		return Workflow{}, fmt.Errorf("workflow_ref %q does not name repository %q", c.WorkflowRef, c.Repository)
	}
	return Workflow{Repository: c.Repository, Path: rest, Ref: ref, Environment: c.Environment}, nil
}

// grant is a short-lived publish token issued by the OIDC exchange.
type grant struct {
	pkg     string
	cfgID   string
	claims  IDTokenClaims
	expires time.Time
}

// ciConfigFile is the file of GitLab's ci_config_ref_uri
// ("gitlab.com/g/p//.gitlab-ci.yml@refs/heads/main" → ".gitlab-ci.yml").
func (c *IDTokenClaims) ciConfigFile() string {
	_, rest, ok := strings.Cut(c.CIConfigRefURI, "//")
	if !ok {
		return ""
	}
	f, _, _ := strings.Cut(rest, "@")
	return f
}

// repositoryURL is the package.json repository.url of a package built by
// the job the claims describe.
func (c *IDTokenClaims) repositoryURL() string {
	switch c.provider() {
	case ProviderGitLab:
		return "git+https://gitlab.com/" + c.ProjectPath + ".git"
	case ProviderCircleCI:
		return "git+https://" + c.CircleVCSOrigin + ".git"
	}
	return "git+https://github.com/" + c.Repository + ".git"
}

// matches reports whether the claims satisfy trust config t, as npm
// matches them: the provider, then its fields, exact and case-sensitive.
// GitHub and GitLab jobs must run on the provider's hosted runners.
func (c *IDTokenClaims) matches(t *TrustConfig) bool {
	if c.provider() != t.provider() {
		return false
	}
	switch t.provider() {
	case ProviderGitLab:
		return c.ProjectPath == t.ProjectPath && c.ciConfigFile() == t.File &&
			(t.Environment == "" || c.Environment == t.Environment) && c.RunnerEnvironment == "gitlab-hosted"
	case ProviderCircleCI:
		if c.CircleOrgID != t.OrgID || c.CircleProjectID != t.ProjectID ||
			c.CirclePipelineDefinitionID != t.PipelineDefinitionID || c.CircleVCSOrigin != t.VCSOrigin {
			return false
		}
		for _, id := range t.ContextIDs {
			if !slices.Contains(c.CircleContextIDs, id) {
				return false
			}
		}
		return true
	}
	return c.Repository == t.Repository && c.workflowFile() == t.File &&
		(t.Environment == "" || c.Environment == t.Environment) && c.RunnerEnvironment == "github-hosted"
}

// exchangeLocked performs the OIDC token exchange for pkgName with npm's
// matching rules: the audience names this registry ("npm:" + host, the host
// name clients reach it by), then the provider's claims (GitHub:
// repository, workflow file name and, when configured, environment;
// GitLab: project path, CI file and environment; CircleCI: organization,
// project and pipeline definition IDs, VCS origin and configured contexts),
// all exact and case-sensitive.
func (r *Registry) exchangeLocked(pkgName, idToken, host string) (string, *Error) {
	c, err := r.parseIDToken(idToken)
	if err != nil {
		return "", &Error{Status: 401, Code: "E401", Message: "OIDC token exchange error - " + err.Error(), messageKey: true}
	}
	if want := "npm:" + host; c.Audience != want {
		return "", &Error{Status: 401, Code: "E401", Message: fmt.Sprintf("OIDC token exchange error - invalid audience %q, expected %q", c.Audience, want), messageKey: true}
	}
	notFound := &Error{Status: 404, Code: "E404", Message: MessageExchangeNotFound, messageKey: true}
	p, ok := r.packages[pkgName]
	if !ok || p.trust == nil {
		return "", notFound
	}
	t := p.trust
	if !c.matches(t) {
		return "", notFound
	}
	if !slices.Contains(t.Permissions, PermissionPublish) {
		return "", &Error{Status: 403, Code: "E403", Message: "OIDC permission denied for this action", messageKey: true}
	}
	val := r.newTokenValueLocked("npm_oidc_")
	r.grants[val] = &grant{pkg: pkgName, cfgID: t.ID, claims: *c, expires: r.now().Add(r.opts.ExchangeTokenTTL)}
	return val, nil
}

// ExchangeOIDC performs the OIDC token exchange as the HTTP endpoint does,
// for a client that reaches the registry by Options.Host, and returns the
// short-lived publish token.
func (r *Registry) ExchangeOIDC(pkgName, idToken string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	tok, e := r.exchangeLocked(pkgName, idToken, r.opts.Host)
	if e != nil {
		return "", e
	}
	return tok, nil
}
