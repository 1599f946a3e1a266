package npm

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Predicate types and builder ids compared exactly by the checks.
const (
	// SLSAProvenanceV1 is the predicate type of SLSA v1 provenance.
	SLSAProvenanceV1 = "https://slsa.dev/provenance/v1"
	// PublishAttestationV01 is the registry's own publish attestation.
	PublishAttestationV01 = "https://github.com/npm/attestation/tree/main/specs/publish/v0.1"
	// GitHubHostedBuilder is the builder id of a GitHub-hosted runner.
	GitHubHostedBuilder = "https://github.com/actions/runner/github-hosted"
)

// Packument is a package document from GET /<pkg>.
type Packument struct {
	Name        string                 `json:"name"`
	DistTags    map[string]string      `json:"dist-tags"`
	Versions    map[string]*VersionDoc `json:"versions"`
	Time        map[string]string      `json:"time"`
	Maintainers []Person               `json:"maintainers"`
}

// PublishedAt returns when version v was published, from the time map.
func (p *Packument) PublishedAt(v string) (time.Time, bool) {
	s, ok := p.Time[v]
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// ParsePackument decodes a packument, tolerating the older shapes of
// _npmUser and maintainers (a "name <email>" string).
func ParsePackument(b []byte) (*Packument, error) {
	var p Packument
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("could not parse packument: %w", err)
	}
	if p.Name == "" {
		return nil, errors.New("could not parse packument: it has no name")
	}
	for v, d := range p.Versions {
		if d == nil {
			delete(p.Versions, v)
		}
	}
	return &p, nil
}

// VersionDoc is one version's document, in a packument or from GET /<pkg>/<version>.
type VersionDoc struct {
	Name       string          `json:"name"`
	Version    string          `json:"version"`
	NpmUser    *Person         `json:"_npmUser,omitempty"`
	NpmVersion string          `json:"_npmVersion,omitempty"`
	Dist       Dist            `json:"dist"`
	Repository json.RawMessage `json:"repository,omitempty"`
}

// RepositoryURL returns repository.url (or the string form of repository).
func (v *VersionDoc) RepositoryURL() string {
	var s string
	if json.Unmarshal(v.Repository, &s) == nil {
		return s
	}
	var o struct {
		URL string `json:"url"`
	}
	_ = json.Unmarshal(v.Repository, &o)
	return o.URL
}

// Person is an npm user as packuments show it; TrustedPublisher is set on
// _npmUser when the version was published through OIDC.
type Person struct {
	Name             string            `json:"name"`
	Email            string            `json:"email,omitempty"`
	TrustedPublisher *TrustedPublisher `json:"trustedPublisher,omitempty"`
}

// UnmarshalJSON accepts an object or the legacy "name <email>" string.
func (p *Person) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		name, email, _ := strings.Cut(s, "<")
		*p = Person{Name: strings.TrimSpace(name), Email: strings.TrimSuffix(strings.TrimSpace(email), ">")}
		return nil
	}
	type plain Person
	var q plain
	if err := json.Unmarshal(b, &q); err != nil {
		return err
	}
	*p = Person(q)
	return nil
}

// TrustedPublisher identifies the trusted-publisher config an OIDC publish used.
type TrustedPublisher struct {
	ID           string `json:"id"`
	OIDCConfigID string `json:"oidcConfigId"`
}

// Dist is a version's distribution data.
type Dist struct {
	Integrity    string            `json:"integrity,omitempty"`
	Shasum       string            `json:"shasum,omitempty"`
	Tarball      string            `json:"tarball,omitempty"`
	Signatures   []DistSignature   `json:"signatures,omitempty"`
	Attestations *DistAttestations `json:"attestations,omitempty"`
}

// DistSignature is a registry signature over name@version:integrity.
type DistSignature struct {
	KeyID string `json:"keyid"`
	Sig   string `json:"sig"`
}

// DistAttestations points at a version's attestations; Provenance is set
// when a provenance statement exists.
type DistAttestations struct {
	URL        string `json:"url"`
	Provenance *struct {
		PredicateType string `json:"predicateType"`
	} `json:"provenance,omitempty"`
}

// Attestation is one entry of GET /-/npm/v1/attestations/<pkg>@<version>.
type Attestation struct {
	PredicateType string `json:"predicateType"`
	Bundle        struct {
		DSSEEnvelope DSSEEnvelope `json:"dsseEnvelope"`
	} `json:"bundle"`
}

// DSSEEnvelope carries a base64 in-toto statement.
type DSSEEnvelope struct {
	Payload     string `json:"payload"`
	PayloadType string `json:"payloadType"`
	Signatures  []struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	} `json:"signatures"`
}

// Statement decodes the attestation's in-toto statement. Signatures are not
// checked here: that needs Sigstore's trust root, out of this package's reach.
func (a Attestation) Statement() (*Statement, error) {
	p := a.Bundle.DSSEEnvelope.Payload
	raw, err := base64.StdEncoding.DecodeString(p)
	if err != nil {
		raw, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(p, "="))
	}
	if err != nil {
		return nil, errors.New("could not decode attestation payload: not base64")
	}
	return ParseStatement(raw)
}

// Statements decodes the statements of all attestations.
func Statements(atts []Attestation) ([]Statement, error) {
	out := make([]Statement, 0, len(atts))
	for _, a := range atts {
		s, err := a.Statement()
		if err != nil {
			return nil, fmt.Errorf("attestation %q: %w", a.PredicateType, err)
		}
		out = append(out, *s)
	}
	return out, nil
}

// Statement is an in-toto statement; SLSA holds the predicate when the
// predicate type is SLSA provenance v1.
type Statement struct {
	Type          string          `json:"_type"`
	Subject       []Subject       `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
	SLSA          *SLSAPredicate  `json:"-"`
}

// Subject names an artifact and its digests.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// SLSAPredicate holds the SLSA v1 provenance fields the checks read.
type SLSAPredicate struct {
	BuildDefinition struct {
		BuildType          string `json:"buildType"`
		ExternalParameters struct {
			Workflow struct {
				Ref        string `json:"ref"`
				Repository string `json:"repository"`
				Path       string `json:"path"`
			} `json:"workflow"`
		} `json:"externalParameters"`
	} `json:"buildDefinition"`
	RunDetails struct {
		Builder struct {
			ID string `json:"id"`
		} `json:"builder"`
	} `json:"runDetails"`
}

// ParseStatement decodes an in-toto statement and, for SLSA v1, its predicate.
func ParseStatement(b []byte) (*Statement, error) {
	var s Statement
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("could not parse in-toto statement: %w", err)
	}
	if s.PredicateType == SLSAProvenanceV1 {
		var p SLSAPredicate
		if err := json.Unmarshal(s.Predicate, &p); err != nil {
			return nil, fmt.Errorf("could not parse SLSA v1 predicate: %w", err)
		}
		s.SLSA = &p
	}
	return &s, nil
}

// PackageURL returns the purl an npm provenance subject names, such as
// "pkg:npm/%40scope/name@1.0.0".
func PackageURL(name, version string) string {
	return "pkg:npm/" + strings.Replace(name, "@", "%40", 1) + "@" + version
}

// TrustConfig is a trusted-publisher configuration (GET/POST /-/package/<pkg>/trust).
type TrustConfig struct {
	ID          string      `json:"id,omitempty"`
	Type        string      `json:"type"`
	Claims      TrustClaims `json:"claims"`
	Permissions []string    `json:"permissions,omitempty"`
}

// TrustClaims are the OIDC claims a trust config matches, exactly and
// case-sensitively. A GitHub config names Repository, WorkflowRef and
// Environment; GitLab ProjectPath, CIConfigRefURI and Environment; CircleCI
// the CircleCI IDs and VCS origin.
type TrustClaims struct {
	Repository  string      `json:"repository,omitempty"`
	WorkflowRef WorkflowRef `json:"workflow_ref"`
	Environment string      `json:"environment,omitempty"`

	ProjectPath    string      `json:"project_path,omitempty"`
	CIConfigRefURI WorkflowRef `json:"ci_config_ref_uri"`

	CircleOrgID                string   `json:"oidc.circleci.com/org-id,omitempty"`
	CircleProjectID            string   `json:"oidc.circleci.com/project-id,omitempty"`
	CirclePipelineDefinitionID string   `json:"oidc.circleci.com/pipeline-definition-id,omitempty"`
	CircleVCSOrigin            string   `json:"oidc.circleci.com/vcs-origin,omitempty"`
	CircleContextIDs           []string `json:"oidc.circleci.com/context-ids,omitempty"`
}

// MarshalJSON writes only the claims of the config's provider: npm's body
// for a GitLab config has no workflow_ref, a GitHub one no
// ci_config_ref_uri.
func (c TrustClaims) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set("repository", c.Repository)
	if c.WorkflowRef.File != "" {
		m["workflow_ref"] = c.WorkflowRef
	}
	set("environment", c.Environment)
	set("project_path", c.ProjectPath)
	if c.CIConfigRefURI.File != "" {
		m["ci_config_ref_uri"] = c.CIConfigRefURI
	}
	set("oidc.circleci.com/org-id", c.CircleOrgID)
	set("oidc.circleci.com/project-id", c.CircleProjectID)
	set("oidc.circleci.com/pipeline-definition-id", c.CirclePipelineDefinitionID)
	set("oidc.circleci.com/vcs-origin", c.CircleVCSOrigin)
	if len(c.CircleContextIDs) > 0 {
		m["oidc.circleci.com/context-ids"] = c.CircleContextIDs
	}
	return json.Marshal(m)
}

// WorkflowRef names the calling workflow's file, such as "release.yml" (for
// GitLab, the top-level CI file path).
type WorkflowRef struct {
	File string `json:"file"`
}

// Trust-config permissions.
const (
	PermissionPublish      = "createPackage"
	PermissionStagePublish = "createStagedPackage"
)

// GitHubTrust returns a trust config for a GitHub Actions workflow file in
// repository ("owner/repo"), with an optional environment, allowed to publish.
func GitHubTrust(repository, file, environment string) TrustConfig {
	return TrustConfig{
		Type:        "github",
		Claims:      TrustClaims{Repository: repository, WorkflowRef: WorkflowRef{File: file}, Environment: environment},
		Permissions: []string{PermissionPublish},
	}
}

// GitLabTrust returns a trust config for a GitLab CI/CD project
// ("group/[sub/]project"), its top-level CI file path and an optional
// environment, allowed to publish.
func GitLabTrust(projectPath, ciFile, environment string) TrustConfig {
	return TrustConfig{
		Type:        "gitlab",
		Claims:      TrustClaims{ProjectPath: projectPath, CIConfigRefURI: WorkflowRef{File: ciFile}, Environment: environment},
		Permissions: []string{PermissionPublish},
	}
}

// CircleCITrust returns a trust config for a CircleCI project, allowed to
// publish; contextIDs may be empty.
func CircleCITrust(orgID, projectID, pipelineDefinitionID, vcsOrigin string, contextIDs []string) TrustConfig {
	return TrustConfig{
		Type: "circleci",
		Claims: TrustClaims{CircleOrgID: orgID, CircleProjectID: projectID, CirclePipelineDefinitionID: pipelineDefinitionID,
			CircleVCSOrigin: vcsOrigin, CircleContextIDs: contextIDs},
		Permissions: []string{PermissionPublish},
	}
}

// TrustDiff lists how have differs from want in the claims npm matches, saying
// when values differ only in case (npm compares case-sensitively). Empty means
// they match.
func TrustDiff(have, want TrustConfig) []string {
	var out []string
	field := func(name, h, w string) {
		switch {
		case h == w:
		case strings.EqualFold(h, w):
			out = append(out, fmt.Sprintf("%s is %q, want %q (differs only in case; npm compares case-sensitively)", name, h, w))
		default:
			out = append(out, fmt.Sprintf("%s is %q, want %q", name, h, w))
		}
	}
	field("type", have.Type, want.Type)
	if have.Type != want.Type {
		return out
	}
	switch want.Type {
	case "gitlab":
		field("project", have.Claims.ProjectPath, want.Claims.ProjectPath)
		field("CI file", have.Claims.CIConfigRefURI.File, want.Claims.CIConfigRefURI.File)
		field("environment", have.Claims.Environment, want.Claims.Environment)
	case "circleci":
		field("organization ID", have.Claims.CircleOrgID, want.Claims.CircleOrgID)
		field("project ID", have.Claims.CircleProjectID, want.Claims.CircleProjectID)
		field("pipeline definition ID", have.Claims.CirclePipelineDefinitionID, want.Claims.CirclePipelineDefinitionID)
		field("VCS origin", have.Claims.CircleVCSOrigin, want.Claims.CircleVCSOrigin)
		field("context IDs", strings.Join(have.Claims.CircleContextIDs, ","), strings.Join(want.Claims.CircleContextIDs, ","))
	default:
		field("repository", have.Claims.Repository, want.Claims.Repository)
		field("workflow file", have.Claims.WorkflowRef.File, want.Claims.WorkflowRef.File)
		field("environment", have.Claims.Environment, want.Claims.Environment)
	}
	return out
}

// Token is an entry of the token list. Prefix holds the first characters of
// the token as the registry shows them; the full value is never listed.
type Token struct {
	Key           string     `json:"key"`
	Prefix        string     `json:"token"`
	Name          string     `json:"name"`
	Created       time.Time  `json:"created"`
	Updated       time.Time  `json:"updated"`
	Readonly      bool       `json:"readonly"`
	CIDRWhitelist []string   `json:"cidr_whitelist"`
	Expires       *time.Time `json:"expires"`
}

// escapeName validates a package name and escapes it for a path, scoped names
// as "@scope%2fname" like the npm CLI.
func escapeName(name string) (string, error) {
	bad := fmt.Errorf("invalid package name %q", name)
	if name == "" || len(name) > 214 {
		return "", bad
	}
	scope, local := "", name
	if strings.HasPrefix(name, "@") {
		var ok bool
		scope, local, ok = strings.Cut(name[1:], "/")
		if !ok || !validNamePart(scope) {
			return "", bad
		}
	}
	if !validNamePart(local) {
		return "", bad
	}
	if scope != "" {
		return "@" + scope + "%2f" + local, nil
	}
	return local, nil
}

func validNamePart(s string) bool {
	if s == "" || s[0] == '.' || s[0] == '_' {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}

// escapeSegment validates a version, tag, key or id and escapes it for a path.
func escapeSegment(kind, s string) (string, error) {
	if s == "" || s == "." || s == ".." || strings.ContainsAny(s, "/\\") || len(s) > 256 {
		return "", fmt.Errorf("invalid %s %q", kind, s)
	}
	return url.PathEscape(s), nil
}

// escapeNameSegment escapes a package name and a version, tag or id of the
// given kind for a path, joined by sep: "<name><sep><segment>".
func escapeNameSegment(name, sep, kind, s string) (string, error) {
	esc, err := escapeName(name)
	if err != nil {
		return "", err
	}
	seg, err := escapeSegment(kind, s)
	if err != nil {
		return "", err
	}
	return esc + sep + seg, nil
}
