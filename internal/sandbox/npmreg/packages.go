package npmreg

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"
)

// PackageSpec describes a package to seed.
type PackageSpec struct {
	// Name is the package name, scoped ("@scope/name") or not.
	Name string
	// Maintainers are user names allowed to write; the first is the owner.
	Maintainers []string
	// Private packages are visible to maintainers only.
	Private bool
	// MFA is the publishing-access setting: MFANone, MFAAutomation (default) or MFAPublish.
	MFA string
	// Created defaults to the clock's now.
	Created time.Time
}

// Workflow names a GitHub Actions workflow run as a publisher or a provenance source.
type Workflow struct {
	// Repository is "owner/repo".
	Repository string
	// Path is the workflow file, ".github/workflows/release.yml".
	Path string
	// Ref is the git ref of the run, "refs/heads/main" by default.
	Ref string
	// Environment is the deployment environment of the job, if any.
	Environment string
}

func (w Workflow) ref() string {
	if w.Ref == "" {
		return "refs/heads/main"
	}
	return w.Ref
}

// VersionSpec describes a version to seed into a package's history.
type VersionSpec struct {
	// Version is the semver version.
	Version string
	// Tag is the dist-tag pointed at it; "" means "latest", "-" means none.
	Tag string
	// Published defaults to the clock's now.
	Published time.Time
	// By is the npm user of a token or human publish.
	By string
	// OIDC, when set, makes the version published through trusted publishing by this workflow.
	OIDC *Workflow
	// Provenance, when set, attaches a SLSA v1 provenance statement naming this workflow.
	Provenance *Workflow
	// NpmVersion is the _npmVersion; "" means "11.6.2".
	NpmVersion string
}

// Trusted-publisher providers (TrustSpec.Type, and the id of
// _npmUser.trustedPublisher).
const (
	ProviderGitHub   = "github"
	ProviderGitLab   = "gitlab"
	ProviderCircleCI = "circleci"
)

// TrustSpec describes a trusted-publisher configuration: GitHub Actions
// (Type "" or ProviderGitHub: Repository, File, Environment), GitLab CI/CD
// (ProjectPath, File as the top-level CI file path, Environment) or
// CircleCI (OrgID, ProjectID, PipelineDefinitionID, VCSOrigin, ContextIDs).
// Every field is matched exactly and case-sensitively.
type TrustSpec struct {
	// Type is the provider; "" means ProviderGitHub.
	Type string
	// Repository is "owner/repo".
	Repository string
	// File is the calling workflow's file name, such as "release.yml"; for
	// GitLab the top-level CI file path, such as ".gitlab-ci.yml".
	File string
	// Environment, when set, must equal the job's environment.
	Environment string
	// ProjectPath is GitLab's "group/[sub/]project".
	ProjectPath string
	// CircleCI's organization, project and pipeline definition IDs (UUIDs),
	// the VCS origin ("github.com/org/repo") and, when set, the context
	// IDs the pipeline must run with.
	OrgID                string
	ProjectID            string
	PipelineDefinitionID string
	VCSOrigin            string
	ContextIDs           []string
	// Permissions default to [PermissionPublish].
	Permissions []string
}

// provider is the spec's provider, ProviderGitHub when Type is empty.
func (s TrustSpec) provider() string {
	if s.Type == "" {
		return ProviderGitHub
	}
	return s.Type
}

// TrustConfig is a stored trusted-publisher configuration.
type TrustConfig struct {
	ID string
	TrustSpec
}

type pkgState struct {
	name        string
	maintainers []string
	private     bool
	mfa         string
	created     time.Time
	modified    time.Time
	distTags    map[string]string
	versions    map[string]*versionState
	trust       *TrustConfig
}

type npmUser struct {
	Name             string            `json:"name"`
	Email            string            `json:"email"`
	TrustedPublisher *trustedPublisher `json:"trustedPublisher,omitempty"`
}

type trustedPublisher struct {
	ID           string `json:"id"`
	OIDCConfigID string `json:"oidcConfigId"`
}

type versionState struct {
	manifest   map[string]any
	published  time.Time
	npmUser    npmUser
	npmVersion string
	tarball    []byte
	integrity  string
	shasum     string
	sha512hex  string
	signature  string
	provenance *bundle
	publishAtt *bundle
}

func (p *pkgState) isMaintainer(name string) bool { return slices.Contains(p.maintainers, name) }

// AddPackage creates an empty package. Its maintainers must exist.
func (r *Registry) AddPackage(s PackageSpec) error {
	if err := validName(s.Name); err != nil {
		return err
	}
	switch s.MFA {
	case "":
		s.MFA = MFAAutomation
	case MFANone, MFAAutomation, MFAPublish:
	default:
		return fmt.Errorf("package %q: unknown publishing access %q (want %q, %q or %q)", s.Name, s.MFA, MFANone, MFAAutomation, MFAPublish)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.packages[s.Name]; ok {
		return fmt.Errorf("package %q already exists", s.Name)
	}
	for _, m := range s.Maintainers {
		if _, ok := r.users[m]; !ok {
			return fmt.Errorf("package %q: maintainer %q does not exist", s.Name, m)
		}
	}
	if s.Created.IsZero() {
		s.Created = r.now()
	}
	r.packages[s.Name] = &pkgState{
		name:        s.Name,
		maintainers: slices.Clone(s.Maintainers),
		private:     s.Private,
		mfa:         s.MFA,
		created:     s.Created.UTC(),
		modified:    s.Created.UTC(),
		distTags:    map[string]string{},
		versions:    map[string]*versionState{},
	}
	return nil
}

// AddVersion appends a version to a package's history without any auth check.
// An OIDC version records the package's trust config id when one exists.
func (r *Registry) AddVersion(pkgName string, s VersionSpec) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.packages[pkgName]
	if !ok {
		return fmt.Errorf("package %q does not exist", pkgName)
	}
	if s.Version == "" {
		return fmt.Errorf("package %q: version is empty", pkgName)
	}
	if _, ok := p.versions[s.Version]; ok {
		return fmt.Errorf("package %q: version %q already exists", pkgName, s.Version)
	}
	if s.Published.IsZero() {
		s.Published = r.now()
	}
	var pub npmUser
	switch {
	case s.OIDC != nil:
		cfgID, provider := r.newUUIDLocked(), ProviderGitHub
		if p.trust != nil {
			cfgID, provider = p.trust.ID, p.trust.provider()
		}
		pub = oidcUser(provider, cfgID)
	case s.By != "":
		u, ok := r.users[s.By]
		if !ok {
			return fmt.Errorf("package %q: publisher %q does not exist", pkgName, s.By)
		}
		pub = npmUser{Name: u.Name, Email: u.Email}
	default:
		return fmt.Errorf("package %q version %q: set By or OIDC", pkgName, s.Version)
	}
	manifest := map[string]any{"name": pkgName, "version": s.Version}
	src := s.Provenance
	if src == nil {
		src = s.OIDC
	}
	if src != nil {
		manifest["repository"] = map[string]any{"type": "git", "url": "git+https://github.com/" + src.Repository + ".git"}
	}
	tgz := makeTarball(pkgName, s.Version)
	var prov *bundle
	if s.Provenance != nil {
		b := r.provenanceBundle(pkgName, s.Version, tgz, *s.Provenance, "")
		prov = &b
	}
	tags := map[string]string{}
	switch s.Tag {
	case "":
		tags["latest"] = s.Version
	case "-":
	default:
		tags[s.Tag] = s.Version
	}
	npmVersion := s.NpmVersion
	if npmVersion == "" {
		npmVersion = "11.6.2"
	}
	r.storeVersionLocked(p, manifest, tgz, pub, npmVersion, prov, tags, s.Published.UTC())
	return nil
}

// oidcUser is the _npmUser of a trusted publish: the trustedPublisher id
// names the provider (github, gitlab or circleci).
func oidcUser(provider, cfgID string) npmUser {
	return npmUser{
		Name:             OIDCUserName,
		Email:            OIDCUserEmail,
		TrustedPublisher: &trustedPublisher{ID: provider, OIDCConfigID: "oidc:" + cfgID},
	}
}

func (r *Registry) storeVersionLocked(p *pkgState, manifest map[string]any, tgz []byte, pub npmUser, npmVersion string, prov *bundle, tags map[string]string, at time.Time) {
	v, _ := manifest["version"].(string)
	s512 := sha512.Sum512(tgz)
	s1 := sha1.Sum(tgz)
	integrity := "sha512-" + base64.StdEncoding.EncodeToString(s512[:])
	vs := &versionState{
		manifest:   manifest,
		published:  at,
		npmUser:    pub,
		npmVersion: npmVersion,
		tarball:    tgz,
		integrity:  integrity,
		shasum:     hex.EncodeToString(s1[:]),
		sha512hex:  hex.EncodeToString(s512[:]),
		signature:  r.key.sign(signatureMessage(p.name, v, integrity)),
		provenance: prov,
	}
	pa := r.publishAttestation(p.name, v, vs.sha512hex)
	vs.publishAtt = &pa
	p.versions[v] = vs
	maps.Copy(p.distTags, tags)
	if at.After(p.modified) {
		p.modified = at
	}
}

// SetTrust stores the package's trusted-publisher configuration, replacing any
// existing one (which changes the oidcConfigId), and returns its id.
func (r *Registry) SetTrust(pkgName string, s TrustSpec) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.packages[pkgName]
	if !ok {
		return "", fmt.Errorf("package %q does not exist", pkgName)
	}
	if len(s.Permissions) == 0 {
		s.Permissions = []string{PermissionPublish}
	}
	if err := s.validate(); err != nil {
		return "", fmt.Errorf("package %q: %w", pkgName, err)
	}
	p.trust = &TrustConfig{ID: r.newUUIDLocked(), TrustSpec: s}
	return p.trust.ID, nil
}

// Trust returns the package's trusted-publisher configuration, if any.
func (r *Registry) Trust(pkgName string) (TrustConfig, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.packages[pkgName]
	if !ok || p.trust == nil {
		return TrustConfig{}, false
	}
	return *p.trust, true
}

// DistTags returns a copy of the package's dist-tags.
func (r *Registry) DistTags(pkgName string) map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.packages[pkgName]
	if !ok {
		return nil
	}
	return maps.Clone(p.distTags)
}

// Packument returns the package document as the registry serves it, with
// absolute URLs below baseURL.
func (r *Registry) Packument(pkgName, baseURL string) (json.RawMessage, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.packages[pkgName]
	if !ok {
		return nil, fmt.Errorf("package %q does not exist", pkgName)
	}
	return json.Marshal(r.packumentLocked(p, baseURL))
}

const isoMillis = "2006-01-02T15:04:05.000Z"

func (r *Registry) maintainersLocked(p *pkgState) []map[string]string {
	out := []map[string]string{}
	for _, m := range p.maintainers {
		email := ""
		if u, ok := r.users[m]; ok {
			email = u.Email
		}
		out = append(out, map[string]string{"name": m, "email": email})
	}
	return out
}

func (r *Registry) packumentLocked(p *pkgState, base string) map[string]any {
	times := map[string]string{
		"created":  p.created.Format(isoMillis),
		"modified": p.modified.Format(isoMillis),
	}
	versions := map[string]any{}
	for v, vs := range p.versions {
		times[v] = vs.published.Format(isoMillis)
		versions[v] = r.versionDocLocked(p, vs, base)
	}
	doc := map[string]any{
		"_id":         p.name,
		"name":        p.name,
		"dist-tags":   maps.Clone(p.distTags),
		"versions":    versions,
		"time":        times,
		"maintainers": r.maintainersLocked(p),
	}
	if latest, ok := p.versions[p.distTags["latest"]]; ok {
		for _, k := range []string{"description", "repository", "license", "homepage"} {
			if val, ok := latest.manifest[k]; ok {
				doc[k] = val
			}
		}
	}
	return doc
}

func (r *Registry) versionDocLocked(p *pkgState, vs *versionState, base string) map[string]any {
	doc := maps.Clone(vs.manifest)
	v, _ := doc["version"].(string)
	doc["name"] = p.name
	doc["_id"] = p.name + "@" + v
	doc["_npmUser"] = vs.npmUser
	doc["_npmVersion"] = vs.npmVersion
	doc["maintainers"] = r.maintainersLocked(p)
	dist := map[string]any{
		"integrity":  vs.integrity,
		"shasum":     vs.shasum,
		"tarball":    base + "/" + p.name + "/-/" + tarballName(p.name, v),
		"signatures": []map[string]string{{"keyid": r.key.keyID, "sig": vs.signature}},
	}
	if vs.provenance != nil {
		dist["attestations"] = map[string]any{
			"url":        base + "/-/npm/v1/attestations/" + p.name + "@" + v,
			"provenance": map[string]string{"predicateType": SLSAProvenanceV1},
		}
	}
	doc["dist"] = dist
	return doc
}

func tarballName(pkgName, version string) string {
	return path.Base(pkgName) + "-" + version + ".tgz"
}

// makeTarball builds a small deterministic npm tarball holding package/package.json.
func makeTarball(pkgName, version string) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	body, _ := json.Marshal(map[string]string{"name": pkgName, "version": version})
	_ = tw.WriteHeader(&tar.Header{Name: "package/package.json", Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(499162500, 0)})
	_, _ = tw.Write(body)
	_ = tw.Close()
	_ = gz.Close()
	return buf.Bytes()
}

// validName applies the parts of npm's package-name rules that keep paths safe.
func validName(name string) error {
	bad := func() error { return fmt.Errorf("invalid package name %q", name) }
	if name == "" || len(name) > 214 {
		return bad()
	}
	local := name
	if strings.HasPrefix(name, "@") {
		scope, rest, ok := strings.Cut(name[1:], "/")
		if !ok || !validNamePart(scope) {
			return bad()
		}
		local = rest
	}
	if !validNamePart(local) {
		return bad()
	}
	return nil
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
	return url.PathEscape(s) == s
}

// purl returns the package URL an npm provenance subject uses.
func purl(pkgName, version string) string {
	return "pkg:npm/" + strings.Replace(pkgName, "@", "%40", 1) + "@" + version
}

func sha512Hex(b []byte) string {
	s := sha512.Sum512(b)
	return hex.EncodeToString(s[:])
}

// Packages lists the package names, sorted.
func (r *Registry) Packages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := slices.Collect(maps.Keys(r.packages))
	slices.Sort(names)
	return names
}

// Versions lists a package's versions in publish order.
func (r *Registry) Versions(pkgName string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.packages[pkgName]
	if !ok {
		return nil
	}
	vs := slices.Collect(maps.Keys(p.versions))
	slices.SortFunc(vs, func(a, b string) int {
		if c := p.versions[a].published.Compare(p.versions[b].published); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return vs
}
