// Package classdoc is the classification document the ledger stores for
// each repository: what detection found, reduced to what the campaign reads
// back (plan, trust, apply, flag, revoke, sweep, report, show), with its
// own JSON field names and a version.
//
// The document is decoupled from rewrite.Result on purpose: detection's
// types change as detection grows, and a ledger written by one cutover must
// read the same in the next. [FromResult] is the one place a detection
// result becomes a document; every reader of the ledger uses the document.
// A change to the stored shape is a new Version and a ledger migration,
// never an edit of a JSON tag here (a golden test holds the field names).
package classdoc

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cutover/cutover/rewrite"
)

// Version is the version of the document this cutover writes and the
// newest it reads.
const Version = 1

// ErrNewer is returned (wrapped) by [Decode] for a document of a version
// newer than [Version]: the ledger was written by a newer cutover.
var ErrNewer = errors.New("ledger written by a newer cutover")

// ErrNotDocument is returned (wrapped) by [Decode] for JSON that is not a
// classification document (no version): a ledger row that was never
// migrated.
var ErrNotDocument = errors.New("not a classification document")

// Doc is a repository's classification as the ledger stores it.
type Doc struct {
	// Version is the document's version, [Version] when written.
	Version int `json:"version"`
	// Publishes is true when some pipeline publishes to the configured registry.
	Publishes bool `json:"publishes"`
	// Credential is the least migrated credential among the pipelines:
	// token, token+provenance, oidc or none.
	Credential rewrite.Credential `json:"credential"`
	// WorkspaceKind is how the repository declares a monorepo's packages
	// (workspaces, pnpm-workspace, lerna…); empty for a single package.
	WorkspaceKind string `json:"workspace_kind,omitempty"`
	// Pipelines are the jobs that publish to npm.
	Pipelines []Pipeline `json:"pipelines"`
	// Packages are the repository's package.json packages.
	Packages []Package `json:"packages"`
	// Trust is what each package's npm trusted publisher must name.
	Trust []TrustNeed `json:"trust"`
	// Findings are detection's risks, blockers and notes.
	Findings []Finding `json:"findings"`
}

// Pipeline is one job that publishes to npm.
type Pipeline struct {
	// File is the workflow file (GitHub Actions) or CI file (GitLab, CircleCI).
	File string `json:"file"`
	Job  string `json:"job"`
	// Line is the job's line in File.
	Line int `json:"line,omitempty"`
	// Provider is gitlab or circleci; empty for GitHub Actions.
	Provider string `json:"provider,omitempty"`
	// Tools are the publishing tools (npm, pnpm, changesets…).
	Tools []string `json:"tools"`
	// Credential is how the job authenticates: token, token+provenance,
	// oidc or none.
	Credential  rewrite.Credential `json:"credential"`
	Environment string             `json:"environment,omitempty"`
	SelfHosted  bool               `json:"self_hosted,omitempty"`
	// Confidence is "inferred" when the publish was inferred, not seen.
	Confidence string `json:"confidence,omitempty"`
	// Proxy is the registry proxy the job publishes through, if any.
	Proxy string `json:"proxy,omitempty"`
	// ProxyScopes are the package scopes (@acme) routed to Proxy through
	// scoped registries; empty means every package goes through it.
	ProxyScopes []string `json:"proxy_scopes,omitempty"`
	// TokenFeeds are the places a stored token reaches the publish.
	TokenFeeds []TokenFeed `json:"token_feeds"`
}

// TokenFeed is one place where a stored token reaches a publish.
type TokenFeed struct {
	// Kind is env, npmrc-write, action-input, secret-pass, npmrc-file or yarnrc-file.
	Kind string `json:"kind"`
	// Name is the env var, input or secret key that carries the token.
	Name string `json:"name"`
	// Secret is the repository or organisation secret read, if any.
	Secret string `json:"secret,omitempty"`
	File   string `json:"file"`
	Line   int    `json:"line,omitempty"`
	// Guarded is true when the token flows only while the feature flag is
	// not 'true' (the oidc playbook's exact guard).
	Guarded bool `json:"guarded"`
}

// Package is one package.json package of the repository.
type Package struct {
	Name string `json:"name"`
	// Dir is relative to the repository root ("." for the root).
	Dir     string `json:"dir"`
	Private bool   `json:"private,omitempty"`
	// Access is publishConfig.access.
	Access string `json:"access,omitempty"`
	// Publishable is true when npm trusted publishing applies to it.
	Publishable bool `json:"publishable"`
}

// TrustNeed is what a package's npm trusted publisher must name. Its JSON
// names are also those of plan's output.
type TrustNeed struct {
	Package     string `json:"package"`
	Repository  string `json:"repository"`
	Workflow    string `json:"workflow"`
	Environment string `json:"environment,omitempty"`
	// Provider is gitlab or circleci; empty for GitHub Actions.
	Provider string `json:"provider,omitempty"`
	// CircleCI holds the IDs a CircleCI trusted publisher names.
	CircleCI *CircleCI `json:"circleci,omitempty"`
	// Needed names the CircleCI IDs not known yet.
	Needed []string `json:"needed,omitempty"`
}

// CircleCI is the IDs a CircleCI trusted publisher names.
type CircleCI struct {
	OrgID                string   `json:"org_id,omitempty"`
	ProjectID            string   `json:"project_id,omitempty"`
	PipelineDefinitionID string   `json:"pipeline_definition_id,omitempty"`
	VCSOrigin            string   `json:"vcs_origin,omitempty"`
	ContextIDs           []string `json:"context_ids,omitempty"`
}

// Finding is a risk, blocker or note of detection.
type Finding struct {
	// Severity is error, warning or note.
	Severity rewrite.Severity `json:"severity"`
	Code     string           `json:"code"`
	File     string           `json:"file,omitempty"`
	Line     int              `json:"line,omitempty"`
	Message  string           `json:"message"`
}

// FromResult makes the document of a detection result; nil for nil.
func FromResult(res *rewrite.Result) *Doc {
	if res == nil {
		return nil
	}
	d := &Doc{
		Version:       Version,
		Publishes:     res.Publishes,
		Credential:    res.Credential,
		WorkspaceKind: res.WorkspaceKind,
		Pipelines:     make([]Pipeline, 0, len(res.Pipelines)),
		Packages:      make([]Package, 0, len(res.Packages)),
		Trust:         make([]TrustNeed, 0, len(res.Trust)),
		Findings:      make([]Finding, 0, len(res.Findings)),
	}
	for _, p := range res.Pipelines {
		pl := Pipeline{
			File: p.Workflow, Job: p.Job, Line: p.JobLine, Provider: p.Provider,
			Tools: nonNil(p.Tools), Credential: p.Credential, Environment: p.Environment,
			SelfHosted: p.SelfHosted, Confidence: p.Confidence, Proxy: p.Proxy, ProxyScopes: p.ProxyScopes,
			TokenFeeds: make([]TokenFeed, 0, len(p.Feeds)),
		}
		for _, f := range p.Feeds {
			pl.TokenFeeds = append(pl.TokenFeeds, TokenFeed{Kind: f.Kind, Name: f.Name, Secret: f.Secret,
				File: f.File, Line: f.Line, Guarded: f.Guarded})
		}
		d.Pipelines = append(d.Pipelines, pl)
	}
	for _, p := range res.Packages {
		d.Packages = append(d.Packages, Package{Name: p.Name, Dir: p.Dir, Private: p.Private,
			Access: p.Access, Publishable: p.Publishable})
	}
	for _, t := range res.Trust {
		n := TrustNeed{Package: t.Package, Repository: t.Repository, Workflow: t.Workflow,
			Environment: t.Environment, Provider: t.Provider, Needed: t.Needed}
		if c := t.CircleCI; c != nil {
			n.CircleCI = &CircleCI{OrgID: c.OrgID, ProjectID: c.ProjectID,
				PipelineDefinitionID: c.PipelineDefinitionID, VCSOrigin: c.VCSOrigin, ContextIDs: c.ContextIDs}
		}
		d.Trust = append(d.Trust, n)
	}
	for _, f := range res.Findings {
		d.Findings = append(d.Findings, Finding{Severity: f.Severity, Code: f.Code, File: f.File,
			Line: f.Line, Message: f.Message})
	}
	return d
}

// Decode reads a stored document. It accepts every version up to
// [Version] and refuses a newer one with [ErrNewer], and JSON without a
// version with [ErrNotDocument].
func Decode(data []byte) (*Doc, error) {
	var head struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("classification document: %w", err)
	}
	switch {
	case head.Version == nil || *head.Version < 1:
		return nil, fmt.Errorf("%w (no version)", ErrNotDocument)
	case *head.Version > Version:
		return nil, fmt.Errorf("classification document version %d, this cutover reads up to %d: %w; upgrade cutover",
			*head.Version, Version, ErrNewer)
	}
	var d Doc
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("classification document version %d: %w", *head.Version, err)
	}
	return &d, nil
}

// Encode writes the document as the ledger stores it, with Version set.
func Encode(d *Doc) ([]byte, error) {
	if d == nil {
		return nil, errors.New("no classification document")
	}
	c := *d
	c.Version = Version
	return json.Marshal(&c)
}

// HasSelfHosted reports whether a pipeline runs on a self-hosted runner.
func (d *Doc) HasSelfHosted() bool {
	for _, p := range d.Pipelines {
		if p.SelfHosted {
			return true
		}
	}
	return false
}

// FeedSecrets returns the names of the secrets (as written) that a token
// feed of a publishing pipeline reads.
func (d *Doc) FeedSecrets() map[string]bool {
	out := map[string]bool{}
	if d == nil {
		return out
	}
	for _, p := range d.Pipelines {
		for _, f := range p.TokenFeeds {
			if f.Secret != "" {
				out[f.Secret] = true
			}
		}
	}
	return out
}

// ProxyFor reports whether the pipeline publishes package pkg through its
// registry proxy: it has one, and the proxy is its default registry or pkg
// is in one of ProxyScopes. An unknown name ("") counts as proxied. It
// answers as rewrite.Pipeline.ProxyFor.
func (p Pipeline) ProxyFor(pkg string) bool {
	if p.Proxy == "" {
		return false
	}
	if len(p.ProxyScopes) == 0 || pkg == "" {
		return true
	}
	scope, _, ok := strings.Cut(pkg, "/")
	if !ok || !strings.HasPrefix(scope, "@") {
		return false
	}
	return slices.Contains(p.ProxyScopes, strings.ToLower(scope))
}

// ProxyFor returns the registry proxy package pkg is published through, or
// "" when no pipeline publishes it through one.
func (d *Doc) ProxyFor(pkg string) string {
	if d == nil {
		return ""
	}
	for _, p := range d.Pipelines {
		if p.ProxyFor(pkg) {
			return p.Proxy
		}
	}
	return ""
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
