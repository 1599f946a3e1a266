package rewrite

import (
	"fmt"
	"strings"
)

// Credential is how a publishing pipeline authenticates to the npm registry.
type Credential string

// Credentials, from least to most migrated.
const (
	// CredToken is a stored token without provenance.
	CredToken Credential = "token"
	// CredTokenProvenance is a stored token with provenance (--provenance,
	// NPM_CONFIG_PROVENANCE or id-token: write).
	CredTokenProvenance Credential = "token+provenance"
	// CredOIDC is trusted publishing: no stored token on the publish path and
	// id-token: write on the job.
	CredOIDC Credential = "oidc"
	// CredNone means no pipeline publishes, or one publishes with no
	// credential cutover can see.
	CredNone Credential = "none"
)

func (c Credential) rank() int {
	switch c {
	case CredToken:
		return 0
	case CredTokenProvenance:
		return 1
	case CredOIDC:
		return 2
	}
	return 3
}

// Severity grades a finding. scan, lint, SARIF and every --fail-on use the
// same three names: error, warning and note.
type Severity string

// Severities.
const (
	SevError   Severity = "error"
	SevWarning Severity = "warning"
	SevNote    Severity = "note"
	// SevInfo is the former name of SevNote.
	SevInfo = SevNote
)

// SeverityRank orders severities: note 0, warning 1, error 2; -1 for a
// name that is none of them. "info" is read as note.
func SeverityRank(s string) int {
	switch s {
	case "note", "info":
		return 0
	case "warning":
		return 1
	case "error":
		return 2
	}
	return -1
}

// Finding is a risk, blocker or note, with the file and line it is about.
type Finding struct {
	Severity Severity `json:"severity"`
	Code     string   `json:"code"`
	File     string   `json:"file,omitempty"`
	Line     int      `json:"line,omitempty"`
	Message  string   `json:"message"`
}

// TokenFeed is one place where a stored token reaches a publish.
type TokenFeed struct {
	// Kind is env, npmrc-write, action-input, secret-pass, npmrc-file or yarnrc-file.
	Kind string `json:"kind"`
	// Name is the env var, input or secret key that carries the token.
	Name string `json:"name"`
	// Secret is the name of the repository or organisation secret read, if any.
	Secret string `json:"secret,omitempty"`
	// Level is workflow, job or step.
	Level string `json:"level"`
	File  string `json:"file"`
	Line  int    `json:"line"`
	// Step is the step index for step-level feeds, -1 otherwise.
	Step int `json:"step"`
	// Guarded is true when every token read of the feed has the oidc
	// playbook's exact guard, ${{ vars.FLAG != 'true' && <token> || '' }}:
	// the token flows only while the feature flag is not 'true'.
	Guarded bool `json:"guarded,omitempty"`
	// GuardIssue says why a feed that reads the flag is not guarded
	// (inverted or partial guard); the token path is then live.
	GuardIssue string `json:"guard_issue,omitempty"`
}

// PublishStep is one step that publishes.
type PublishStep struct {
	Line int    `json:"line"`
	Step int    `json:"step"`
	Name string `json:"name,omitempty"`
	Tool string `json:"tool"`
	Uses string `json:"uses,omitempty"`
	// Command is the publish command as written (first line of it).
	Command    string `json:"command,omitempty"`
	Stage      bool   `json:"stage,omitempty"`
	Provenance bool   `json:"provenance,omitempty"`
	// Script is the package.json script the publish was found through.
	Script string `json:"script,omitempty"`
	// Inferred is true when the publish is hidden in a script or action
	// cutover cannot read and was inferred from names and credentials.
	Inferred bool `json:"inferred,omitempty"`
	// Version is a version pinned on the tool (npx semantic-release@25).
	Version string `json:"version,omitempty"`
}

// Pipeline is a job that publishes to the configured npm registry.
type Pipeline struct {
	Workflow string `json:"workflow"`
	Job      string `json:"job"`
	JobLine  int    `json:"job_line"`
	// TrustedWorkflow is the workflow file name npm's trusted publisher must
	// name: the calling workflow's for reusable workflows.
	TrustedWorkflow []string      `json:"trusted_workflow"`
	Callers         []string      `json:"callers,omitempty"`
	Environment     string        `json:"environment,omitempty"`
	Tools           []string      `json:"tools"`
	Steps           []PublishStep `json:"steps"`
	Feeds           []TokenFeed   `json:"feeds,omitempty"`
	IDToken         bool          `json:"id_token_write"`
	// IDTokenFrom is job, workflow or caller.
	IDTokenFrom string     `json:"id_token_from,omitempty"`
	Provenance  bool       `json:"provenance"`
	Credential  Credential `json:"credential"`
	NodeVersion string     `json:"node_version,omitempty"`
	NPMUpgrade  string     `json:"npm_upgrade,omitempty"`
	// NPMReady is yes, no or unknown: whether the npm on the runner is at
	// least 11.5.1.
	NPMReady   string   `json:"npm_ready"`
	SelfHosted bool     `json:"self_hosted,omitempty"`
	Triggers   []string `json:"triggers,omitempty"`
	// Provider is gitlab or circleci for those pipelines; empty for GitHub
	// Actions. Workflow is then the CI file and Job the job's name.
	Provider string `json:"provider,omitempty"`
	// Contexts are the CircleCI contexts the job's workflow entries name,
	// where its token variables may live.
	Contexts []string `json:"contexts,omitempty"`
	// Confidence is "inferred" when every publish of the job is hidden in a
	// script or action cutover cannot read (a package script run after an
	// .npmrc token write, a script named release): the job is treated as a
	// publisher, and its token feeds are guarded like any other.
	Confidence string `json:"confidence,omitempty"`
	// Proxy is the registry the job publishes through when that is not the
	// configured npm registry but an npm token is fed to it (a registry
	// proxy): the job is a publisher, but trusted publishing needs the
	// proxy removed or a token bridge, and rewrite never moves it to OIDC.
	Proxy string `json:"proxy,omitempty"`
	// ProxyScopes are the package scopes (@acme) the job routes to Proxy
	// through scoped registries (@acme:registry=…); empty means every
	// package it publishes goes through the proxy.
	ProxyScopes []string `json:"proxy_scopes,omitempty"`
}

// ProxyFor reports whether the pipeline publishes package pkg through its
// registry proxy: it has one, and the proxy is its default registry or pkg
// is in one of ProxyScopes. An unknown name ("") counts as proxied.
func (p Pipeline) ProxyFor(pkg string) bool {
	if p.Proxy == "" {
		return false
	}
	if len(p.ProxyScopes) == 0 || pkg == "" {
		return true
	}
	return contains(p.ProxyScopes, packageScope(pkg))
}

// ProxyFor returns the registry proxy package pkg is published through, or
// "" when no pipeline of the result publishes it through one.
func (r *Result) ProxyFor(pkg string) string {
	for _, p := range r.Pipelines {
		if p.ProxyFor(pkg) {
			return p.Proxy
		}
	}
	return ""
}

// ProxyReason is what cutover says about a package or repository that
// publishes through the registry proxy registry: trusted publishing does
// not apply until the proxy is removed.
func ProxyReason(registry string) string {
	return fmt.Sprintf("publishes via registry proxy %s: trusted publishing needs the proxy removed", RegistryHost(registry))
}

// packageScope returns the lower-case scope of a package name ("@acme" for
// "@Acme/x"), or "" for an unscoped name.
func packageScope(name string) string {
	if !strings.HasPrefix(name, "@") {
		return ""
	}
	scope, _, ok := strings.Cut(name, "/")
	if !ok {
		return ""
	}
	return strings.ToLower(scope)
}

// ConfidenceInferred is Pipeline.Confidence for a publisher cutover
// inferred instead of seeing its publish command.
const ConfidenceInferred = "inferred"

// TrustNeed is what a package's npm trusted publisher must name.
type TrustNeed struct {
	Package     string `json:"package"`
	Repository  string `json:"repository"`
	Workflow    string `json:"workflow"`
	Environment string `json:"environment,omitempty"`
	// Provider is gitlab or circleci; empty for GitHub Actions. For GitLab,
	// Repository is the namespace/project and Workflow the top-level CI
	// file path.
	Provider string `json:"provider,omitempty"`
	// CircleCI holds the IDs a CircleCI trusted publisher names; missing
	// ones are listed in Needed.
	CircleCI *CircleCIProject `json:"circleci,omitempty"`
	Needed   []string         `json:"needed,omitempty"`
}

// Result is what Detect found in one repository.
type Result struct {
	Repo string `json:"repo"`
	// Publishes is true when some pipeline publishes to the configured registry.
	Publishes bool `json:"publishes"`
	// Credential is the least migrated credential among the pipelines.
	Credential Credential `json:"credential"`
	Pipelines  []Pipeline `json:"pipelines"`
	// OtherRegistries lists jobs that publish only to other registries.
	OtherRegistries []string    `json:"other_registries,omitempty"`
	Packages        []Package   `json:"packages"`
	WorkspaceKind   string      `json:"workspace_kind,omitempty"`
	Trust           []TrustNeed `json:"trust,omitempty"`
	Findings        []Finding   `json:"findings"`
	Workflows       int         `json:"workflows"`
}

// HasErrors reports whether any finding is an error.
func (r *Result) HasErrors() bool {
	for _, f := range r.Findings {
		if f.Severity == SevError {
			return true
		}
	}
	return false
}

// unreadableCodes are the finding codes of files detection could not read.
var unreadableCodes = map[string]bool{
	"unreadable-file": true, "file-too-large": true, "not-utf8": true,
	"workflow-invalid": true, "action-invalid": true,
}

// Unreadable returns the findings about files detection could not read
// (does not parse, too large, not UTF-8, alias bomb, a symlink leaving the
// repository, not a regular file): nothing can be said about them, so lint
// and rewrite --check fail on them.
func (r *Result) Unreadable() []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if unreadableCodes[f.Code] {
			out = append(out, f)
		}
	}
	return out
}
