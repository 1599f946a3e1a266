package npm

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// Expectation describes the canary release Verify checks.
type Expectation struct {
	// Provider is the trusted publisher the canary must name: github
	// (empty), gitlab or circleci. CircleCI publishes carry no provenance.
	Provider string
	// Package is the package name.
	Package string
	// Version is the canary version.
	Version string
	// DistTag must point at Version; "" skips that check.
	DistTag string
	// Repository is the GitHub repository, "owner/repo", compared exactly.
	Repository string
	// Workflow is the publishing workflow: a file name ("release.yml") or a
	// path (".github/workflows/release.yml").
	Workflow string
	// PublicRepo makes SLSA v1 provenance mandatory; npm makes none for
	// private repositories.
	PublicRepo bool
}

// CheckName identifies one verification check.
type CheckName string

// The checks Verify runs, in this order.
const (
	CheckExists           CheckName = "exists"
	CheckTrustedPublisher CheckName = "trusted-publisher"
	CheckProvenance       CheckName = "provenance"
	CheckStatement        CheckName = "provenance-statement"
	CheckDistTag          CheckName = "dist-tag"
	CheckLatestStable     CheckName = "latest-not-prerelease"
	CheckNoDowngrade      CheckName = "no-trust-downgrade"
)

// Check is the outcome of one check. A skipped check (not applicable) is OK.
type Check struct {
	Name    CheckName `json:"name"`
	OK      bool      `json:"ok"`
	Skipped bool      `json:"skipped,omitempty"`
	Message string    `json:"message"`
}

// Result is every check's outcome for one canary.
type Result struct {
	Package string  `json:"package"`
	Version string  `json:"version"`
	Checks  []Check `json:"checks"`
}

// OK reports whether every check passed.
func (r Result) OK() bool {
	return !slices.ContainsFunc(r.Checks, func(c Check) bool { return !c.OK })
}

// Failed returns the checks that did not pass.
func (r Result) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

// Evidence ranks how a version's origin can be proven, as pnpm's
// trustPolicy "no-downgrade" does.
type Evidence int

// Evidence levels, weakest first.
const (
	EvidenceNone             Evidence = iota // a token or human publish without provenance
	EvidenceProvenance                       // a provenance statement, but not through trusted publishing
	EvidenceTrustedPublisher                 // published through OIDC trusted publishing
)

// String names the evidence level.
func (e Evidence) String() string {
	switch e {
	case EvidenceTrustedPublisher:
		return "trusted publisher"
	case EvidenceProvenance:
		return "provenance"
	}
	return "no evidence"
}

// EvidenceOf returns the strongest evidence a version document carries.
func EvidenceOf(v *VersionDoc) Evidence {
	switch {
	case v == nil:
		return EvidenceNone
	case v.NpmUser != nil && v.NpmUser.TrustedPublisher != nil:
		return EvidenceTrustedPublisher
	case v.Dist.Attestations != nil && v.Dist.Attestations.Provenance != nil:
		return EvidenceProvenance
	}
	return EvidenceNone
}

// IsPrerelease reports whether a semver version has a prerelease part ("1.2.0-rc.1").
func IsPrerelease(v string) bool {
	core, _, _ := strings.Cut(v, "+")
	return strings.Contains(core, "-")
}

// CanaryVersion returns the version the dist-tag points at, provided it was
// published after the given time (when the repository's flag went on).
func CanaryVersion(p *Packument, tag string, after time.Time) (string, error) {
	v, ok := p.DistTags[tag]
	if !ok {
		return "", fmt.Errorf("package %q has no dist-tag %q", p.Name, tag)
	}
	at, ok := p.PublishedAt(v)
	if !ok {
		return "", fmt.Errorf("package %q: version %q has no publish time", p.Name, v)
	}
	if !at.After(after) {
		return "", fmt.Errorf("package %q: dist-tag %q points at %q, published %s, not after %s", p.Name, tag, v, at.Format(time.RFC3339), after.Format(time.RFC3339))
	}
	return v, nil
}

// Verify checks a canary version against the packument and the decoded
// attestation statements, and returns every check's outcome. It does no I/O.
func Verify(p *Packument, statements []Statement, exp Expectation) Result {
	res := Result{Package: exp.Package, Version: exp.Version}
	cs := &checks{}
	add, skip := cs.add, cs.skip
	if p == nil {
		p = &Packument{}
	}
	if res.Package == "" {
		res.Package = p.Name
	}
	v := p.Versions[exp.Version]
	provider := exp.Provider
	if provider == "" {
		provider = "github"
	}

	// exists
	if v != nil {
		add(CheckExists, true, "%s@%s exists", res.Package, exp.Version)
	} else {
		add(CheckExists, false, "%s@%s is not in the registry", res.Package, exp.Version)
	}

	// trusted-publisher
	switch {
	case v == nil:
		add(CheckTrustedPublisher, false, "cannot check: the version does not exist")
	case v.NpmUser != nil && v.NpmUser.TrustedPublisher != nil && v.NpmUser.TrustedPublisher.ID == provider:
		add(CheckTrustedPublisher, true, "published through trusted publishing (%s, %s)", v.NpmUser.TrustedPublisher.ID, v.NpmUser.TrustedPublisher.OIDCConfigID)
	case v.NpmUser != nil && v.NpmUser.TrustedPublisher != nil:
		add(CheckTrustedPublisher, false, "published through trusted publisher %q, want %q", v.NpmUser.TrustedPublisher.ID, provider)
	case v.NpmUser != nil:
		add(CheckTrustedPublisher, false, "published by %q with a token, not through trusted publishing (_npmUser has no trustedPublisher)", v.NpmUser.Name)
	default:
		add(CheckTrustedPublisher, false, "the version has no _npmUser; the registry (or a proxy) did not say who published it")
	}

	// provenance
	hasProv := v != nil && v.Dist.Attestations != nil && v.Dist.Attestations.Provenance != nil
	switch {
	case v == nil:
		add(CheckProvenance, false, "cannot check: the version does not exist")
	case provider == "circleci":
		skip(CheckProvenance, "no provenance required: npm makes none for CircleCI publishes")
	case hasProv && v.Dist.Attestations.Provenance.PredicateType == SLSAProvenanceV1:
		add(CheckProvenance, true, "dist.attestations.provenance is SLSA provenance v1")
	case hasProv && exp.PublicRepo:
		add(CheckProvenance, false, "dist.attestations.provenance.predicateType is %q, want %q", v.Dist.Attestations.Provenance.PredicateType, SLSAProvenanceV1)
	case exp.PublicRepo:
		add(CheckProvenance, false, "no provenance, though npm makes it for OIDC publishes from public repositories")
	default:
		skip(CheckProvenance, "no provenance required: the repository is private")
	}

	// provenance-statement
	switch provider {
	case "github":
		verifyStatement(cs, res.Package, v, statements, exp)
	case "circleci":
		skip(CheckStatement, "no provenance statement: npm makes none for CircleCI publishes")
	default:
		skip(CheckStatement, "the provenance statement is checked for GitHub Actions publishes only")
	}

	// dist-tag
	switch {
	case exp.DistTag == "":
		skip(CheckDistTag, "no dist-tag expected")
	case p.DistTags[exp.DistTag] == exp.Version:
		add(CheckDistTag, true, "dist-tag %q points at %s", exp.DistTag, exp.Version)
	case p.DistTags[exp.DistTag] == "":
		add(CheckDistTag, false, "dist-tag %q does not exist", exp.DistTag)
	default:
		add(CheckDistTag, false, "dist-tag %q points at %s, not %s", exp.DistTag, p.DistTags[exp.DistTag], exp.Version)
	}

	// latest-not-prerelease
	latest := p.DistTags["latest"]
	hasStable := false
	for ver := range p.Versions {
		if !IsPrerelease(ver) {
			hasStable = true
			break
		}
	}
	switch {
	case latest == "":
		skip(CheckLatestStable, "the package has no latest dist-tag")
	case IsPrerelease(latest) && hasStable:
		add(CheckLatestStable, false, "latest points at prerelease %s; a canary must be published with its own dist-tag", latest)
	default:
		add(CheckLatestStable, true, "latest points at %s", latest)
	}

	// no-trust-downgrade
	verifyDowngrade(cs, p, v, exp)
	res.Checks = cs.list
	return res
}

// checks collects outcomes in order.
type checks struct{ list []Check }

func (c *checks) add(name CheckName, ok bool, format string, a ...any) {
	c.list = append(c.list, Check{Name: name, OK: ok, Message: fmt.Sprintf(format, a...)})
}

func (c *checks) skip(name CheckName, format string, a ...any) {
	c.list = append(c.list, Check{Name: name, OK: true, Skipped: true, Message: fmt.Sprintf(format, a...)})
}

func verifyStatement(cs *checks, pkg string, v *VersionDoc, statements []Statement, exp Expectation) {
	add, skip := cs.add, cs.skip
	if v == nil {
		add(CheckStatement, false, "cannot check: the version does not exist")
		return
	}
	want := PackageURL(pkg, exp.Version)
	var st *Statement
	for i := range statements {
		s := &statements[i]
		if s.SLSA == nil {
			continue
		}
		if slices.ContainsFunc(s.Subject, func(sub Subject) bool { return sub.Name == want }) {
			st = s
			break
		}
	}
	if st == nil {
		if exp.PublicRepo {
			add(CheckStatement, false, "no SLSA v1 provenance statement names %s", want)
		} else {
			skip(CheckStatement, "no provenance statement required: the repository is private")
		}
		return
	}
	var problems []string
	wf := st.SLSA.BuildDefinition.ExternalParameters.Workflow
	if wantRepo := "https://github.com/" + exp.Repository; wf.Repository != wantRepo {
		problems = append(problems, fmt.Sprintf("repository is %q, want %q", wf.Repository, wantRepo))
	}
	gotWF := wf.Path
	if !strings.Contains(exp.Workflow, "/") {
		gotWF = path.Base(wf.Path)
	}
	if gotWF != exp.Workflow {
		problems = append(problems, fmt.Sprintf("workflow is %q, want %q", wf.Path, exp.Workflow))
	}
	if id := st.SLSA.RunDetails.Builder.ID; id != GitHubHostedBuilder {
		problems = append(problems, fmt.Sprintf("builder is %q, want %q", id, GitHubHostedBuilder))
	}
	if sum, ok := integritySHA512(v.Dist.Integrity); ok {
		i := slices.IndexFunc(st.Subject, func(sub Subject) bool { return sub.Name == want })
		if got := st.Subject[i].Digest["sha512"]; !strings.EqualFold(got, sum) {
			problems = append(problems, "subject digest does not match dist.integrity")
		}
	}
	if len(problems) > 0 {
		add(CheckStatement, false, "provenance statement: %s", strings.Join(problems, "; "))
		return
	}
	add(CheckStatement, true, "provenance names %s, workflow %s at %s, built on a GitHub-hosted runner", wf.Repository, wf.Path, wf.Ref)
}

// integritySHA512 returns the hex sha512 from an SRI string, if it has one.
func integritySHA512(sri string) (string, bool) {
	for f := range strings.FieldsSeq(sri) {
		if b64, ok := strings.CutPrefix(f, "sha512-"); ok {
			raw, err := base64.StdEncoding.DecodeString(b64)
			if err != nil || len(raw) != 64 {
				return "", false
			}
			return hex.EncodeToString(raw), true
		}
	}
	return "", false
}

// verifyDowngrade applies pnpm's no-downgrade rule around the canary: it must
// be no weaker than any version published before it, and no version published
// after it may be weaker than it.
func verifyDowngrade(cs *checks, p *Packument, v *VersionDoc, exp Expectation) {
	add := cs.add
	if v == nil {
		add(CheckNoDowngrade, false, "cannot check: the version does not exist")
		return
	}
	at, ok := p.PublishedAt(exp.Version)
	if !ok {
		add(CheckNoDowngrade, false, "cannot check: the registry gives no publish time for %s", exp.Version)
		return
	}
	mine := EvidenceOf(v)
	type other struct {
		version string
		at      time.Time
		ev      Evidence
	}
	var before, after []other
	for ver, doc := range p.Versions {
		t, ok := p.PublishedAt(ver)
		if ver == exp.Version || !ok {
			continue
		}
		o := other{ver, t, EvidenceOf(doc)}
		if t.Before(at) {
			before = append(before, o)
		} else {
			after = append(after, o)
		}
	}
	byTime := func(a, b other) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return strings.Compare(a.version, b.version)
	}
	slices.SortFunc(before, byTime)
	slices.SortFunc(after, byTime)
	var strongest *other
	for i := range before {
		if strongest == nil || before[i].ev > strongest.ev {
			strongest = &before[i]
		}
	}
	if strongest != nil && mine < strongest.ev {
		add(CheckNoDowngrade, false, "%s has %s, weaker than %s on earlier version %s", exp.Version, mine, strongest.ev, strongest.version)
		return
	}
	for _, o := range after {
		if o.ev < mine {
			add(CheckNoDowngrade, false, "later version %s has %s, weaker than %s on %s", o.version, o.ev, mine, exp.Version)
			return
		}
	}
	add(CheckNoDowngrade, true, "%s has %s; no earlier version has stronger evidence and no later one weaker", exp.Version, mine)
}
